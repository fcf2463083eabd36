"""The primitives of ``dualrev.numpy`` and the functions built on them, by family.

Each module imports only the ones listed before it (bottom to top):

* ``base``: the registry (:func:`~.base.register`, ``PRIMITIVES``), the test
  metadata (``Sample``, ``sample_arrays``) and axis normalisation;
* ``overrides``: the plain-array fast path and the NumPy override tables
  (``@numpy_function``, ``@numpy_ufunc``, ``FUNCTIONS``, ``UFUNCS``);
* ``shape``: reshape, broadcast_to/sum_to, transpose, and the broadcasting
  helpers of rules built on them (``expand_rank``, ``expand_tangent``,
  ``unbroadcast``);
* ``indexing``: getitem/scatter_add, concatenate/stack, ``where``, and the
  gathers built on them (take, sort, diagonal, tril, ...);
* ``construction``: ``array``/``asarray`` of nested lists of traced values,
  ``r_``/``c_``, linspace, select, pad, and copy/real/imag/conj on real input;
* ``joining``: stacking, splitting, tiling, flipping and rolling;
* ``unary`` and ``binary``: elementwise functions;
* ``einsum`` and ``products``: multilinear products;
* ``reductions``, ``cumulative`` and ``statistics``: sums, extrema, running
  sums and products, moments;
* ``quantiles`` and ``signal``: median/quantile/percentile and the NaN
  moments; interp, convolve/correlate, gradient, trapezoid, polyval, cov;
* ``binning``: bincount, histogram, unique, full_like;
* ``inverse``, ``decompositions`` and ``norms``: ``dualrev.numpy.linalg``;
* ``arrayapi``: the array-API products of ``numpy.linalg`` (matmul, vecdot, ...);
* ``protocols``: the ``__array_ufunc__``/``__array_function__`` dispatch.

The public namespaces (``dualrev.numpy``, ``dualrev.numpy.linalg``,
``dualrev.scipy.special``) re-export these functions; the tracer's ndarray
interface (``dualrev.numpy.array_interface``) sits on top of them all.
"""
