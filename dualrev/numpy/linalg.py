"""``dualrev.numpy.linalg``: NumPy's ``linalg`` namespace with differentiable
versions of inv, solve, det, slogdet, cholesky, eigh, eigvalsh, svd, svdvals,
pinv, qr, matrix_power, multi_dot, trace, norm, vector_norm and matrix_norm,
and the array-API products matmul, tensordot, matrix_transpose, diagonal,
vecdot, outer and cross.

The primitives and their derivations live in ``_rules/inverse.py``,
``_rules/decompositions.py`` and ``_rules/norms.py``. Every other
``numpy.linalg`` name (``LinAlgError``, ``eig``, ``lstsq``, ``matrix_rank`` …)
passes through unchanged; on traced values those without a derivative rule
raise ``NotImplementedError``.
"""

from numpy.linalg import *  # noqa: F403 - pass-through of the non-differentiable names
from numpy.linalg import LinAlgError as LinAlgError

from ._rules import arrayapi, decompositions, inverse, norms
from ._rules.arrayapi import *  # type: ignore[assignment, no-redef]  # noqa: F403
from ._rules.decompositions import *  # type: ignore[no-redef]  # noqa: F403
from ._rules.inverse import *  # type: ignore[no-redef]  # noqa: F403
from ._rules.norms import *  # type: ignore[assignment, no-redef]  # noqa: F403

DIFFERENTIABLE = tuple(inverse.__all__ + decompositions.__all__ + norms.__all__ + arrayapi.__all__)

del arrayapi, decompositions, inverse, norms
