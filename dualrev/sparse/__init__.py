"""Sparse Jacobians and Hessians: detect the pattern, colour it, compress the passes.

* :func:`jacobian_sparsity` / :func:`hessian_sparsity` (``detect.py``): the
  Boolean pattern, propagated through the recorded program with the
  structured local Jacobians' patterns (scipy.sparse bool products);
* :func:`colouring` (``colouring.py``): column (forward), row (reverse) or
  star (symmetric Hessian) colourings — networkx greedy colouring of the
  column-intersection graph, and Gebremedhin–Manne–Pothen's star colouring;
  a :class:`Colouring` is a reusable object, checked against the pattern on
  every use;
* ``compute.py``: the compressed passes (χ directions in one batched forward
  pass, χ' cotangents in one reverse sweep, or forward-over-reverse for a
  Hessian) and the recovery of each nonzero, with a random-direction check
  of a given pattern;
* ``public.py``: what ``dr.jacobian(f, sparse=True)`` and
  ``dr.hessian(f, sparse=True)`` delegate to, and :class:`SparseCost`.
"""

from .colouring import Colouring, colouring
from .public import SparseCost, hessian_sparsity, jacobian_sparsity, pick_colouring, sparse_hessian, sparse_jacobian

__all__ = [
    "Colouring",
    "SparseCost",
    "colouring",
    "hessian_sparsity",
    "jacobian_sparsity",
    "pick_colouring",
    "sparse_hessian",
    "sparse_jacobian",
]
