"""``dualrev.numpy.linalg``: NumPy's ``linalg`` namespace with differentiable
versions of inv, solve, det, slogdet, cholesky, eigh, eigvalsh, svd, svdvals,
pinv, qr, matrix_power, multi_dot, trace, norm, vector_norm and matrix_norm.

The primitives and their derivations live in ``linalg_ops.py``. Every other
``numpy.linalg`` name (``LinAlgError``, ``eig``, ``lstsq``, ``matrix_rank`` …)
passes through unchanged; on traced values those without a derivative rule
raise ``NotImplementedError``.
"""

from numpy.linalg import *  # noqa: F401,F403 - pass-through of the non-differentiable names
from numpy.linalg import LinAlgError  # noqa: F401

from .linalg_ops import *  # noqa: F401,F403
from .linalg_ops import __all__ as DIFFERENTIABLE  # noqa: F401
