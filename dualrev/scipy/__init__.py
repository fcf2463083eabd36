"""``dualrev.scipy``: differentiable versions of SciPy functions.

* ``special``: the special functions (gamma family, error functions, Bessel
  functions, incomplete beta/gamma in their last argument, logsumexp, …);

The SciPy ufuncs covered also dispatch from plain ``scipy.special`` calls on
traced values through ``__array_ufunc__``.
"""

from . import linalg, signal, special, stats  # noqa: F401
