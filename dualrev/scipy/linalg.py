"""``dualrev.scipy.linalg``: SciPy's linear algebra, differentiable.

``solve_triangular``, ``cho_factor``/``cho_solve``, ``cholesky``,
``lu_factor``/``lu_solve``, ``solve_banded``, ``solve``, ``inv``, ``det``,
``eigh`` and ``expm`` are compositions of ``dualrev.numpy.linalg`` (whose
primitives carry the rules); ``solve_sylvester``, ``sqrtm`` and the LU factor
are primitives (``_linalg_rules.py``). Plain calls are SciPy's, unchanged; on
traced values the results agree with SciPy's to rounding (``cho_factor``'s
unused triangle holds the input's entries, as in SciPy). Pivots are static
(read from the plain value). Every other ``scipy.linalg`` name passes through.
"""

from typing import Any as _Any

import numpy as _np
import scipy.linalg as _linalg
from scipy.linalg import *  # noqa: F403 - pass-through of the rest

from .. import numpy as _dnp
from ..core import concrete as _concrete
from ..core import shape_of as _shape_of
from ..numpy._rules.decompositions import eigh as _eigh
from ..numpy._rules.decompositions import eigvalsh as _eigvalsh
from ..numpy._rules.overrides import fallback as _fallback
from ..numpy._rules.shape import mT as _mT
from . import _linalg_rules as _rules


def _triangle(a: _Any, lower: bool, unit_diagonal: bool = False) -> _Any:
    n = _shape_of(a)[-1]
    if unit_diagonal:
        return (_dnp.tril(a, -1) if lower else _dnp.triu(a, 1)) + _np.eye(n)
    return _dnp.tril(a) if lower else _dnp.triu(a)


@_fallback(_linalg.solve_triangular)
def solve_triangular(a: _Any, b: _Any, trans: _Any = 0, lower: bool = False, unit_diagonal: bool = False,
                     overwrite_b: bool = False, check_finite: bool = True) -> _Any:  # fmt: skip
    """x with op(T) x = b, T the ``lower`` (or upper) triangle of ``a``; differentiable in ``a`` and ``b``."""
    t = _triangle(a, lower, unit_diagonal)
    if trans in (1, 2, "T", "C"):
        t = _mT(t)
    return _dnp.linalg.solve(t, b)


@_fallback(_linalg.cholesky)
def cholesky(a: _Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True) -> _Any:
    """The Cholesky factor (upper by default, as in SciPy), read from that triangle of ``a``."""
    if lower:
        return _dnp.linalg.cholesky(a)
    return _mT(_dnp.linalg.cholesky(_mT(a)))


@_fallback(_linalg.cho_factor)
def cho_factor(a: _Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True) -> _Any:
    """``(c, lower)``: the factor in one triangle of ``c``, ``a``'s entries in the other (as SciPy)."""
    factor = cholesky(a, lower=lower)
    rest = _dnp.triu(a, 1) if lower else _dnp.tril(a, -1)
    return factor + rest, lower


@_fallback(_linalg.cho_solve, sequences=True)
def cho_solve(c_and_lower: _Any, b: _Any, overwrite_b: bool = False, check_finite: bool = True) -> _Any:
    """x with A x = b from ``cho_factor``'s ``(c, lower)``; differentiable in ``c`` and ``b``."""
    c, lower = c_and_lower
    factor = _triangle(c, lower)
    first = _dnp.linalg.solve(factor if lower else _mT(factor), b)
    return _dnp.linalg.solve(_mT(factor) if lower else factor, first)


@_fallback(_linalg.lu_factor)
def lu_factor(a: _Any, overwrite_a: bool = False, check_finite: bool = True) -> _Any:
    """``(lu, piv)``: the packed factors (differentiable in ``a``) and the static pivots."""
    return _rules.lu_p(a), _linalg.lu_factor(_concrete(a))[1]


@_fallback(_linalg.lu_solve, sequences=True)
def lu_solve(lu_and_piv: _Any, b: _Any, trans: int = 0, overwrite_b: bool = False, check_finite: bool = True) -> _Any:
    """x with A x = b (``trans=1``: Aᵀ x = b) from ``lu_factor``'s ``(lu, piv)``."""
    lu, piv = lu_and_piv
    lower, upper = _triangle(lu, True, unit_diagonal=True), _triangle(lu, False)
    p = _rules.permutation(_np.asarray(piv))
    if trans == 0:
        y = _dnp.linalg.solve(lower, _dnp.take(b, p, axis=0))
        return _dnp.linalg.solve(upper, y)
    y = _dnp.linalg.solve(_mT(lower), _dnp.linalg.solve(_mT(upper), b))
    return _dnp.take(y, _np.argsort(p), axis=0)


@_fallback(_linalg.solve_banded)
def solve_banded(l_and_u: _Any, ab: _Any, b: _Any, overwrite_ab: bool = False, overwrite_b: bool = False,
                 check_finite: bool = True) -> _Any:  # fmt: skip
    """x with A x = b, A given by its diagonals ``ab`` (``A[i, j] = ab[u + i − j, j]``)."""
    n_lower, n_upper = l_and_u
    n = _shape_of(ab)[-1]
    i, j = _np.indices((n, n))
    band = n_upper + i - j
    inside = (band >= 0) & (band < n_lower + n_upper + 1)
    dense = ab[_np.clip(band, 0, n_lower + n_upper), j] * inside
    return _dnp.linalg.solve(dense, b)


@_fallback(_linalg.solve)
def solve(a: _Any, b: _Any, lower: bool = False, overwrite_a: bool = False, overwrite_b: bool = False,
          check_finite: bool = True, assume_a: _Any = None, transposed: bool = False) -> _Any:  # fmt: skip
    """x with A x = b (``transposed``: Aᵀ x = b); differentiable in ``a`` and ``b``."""
    return _dnp.linalg.solve(_mT(a) if transposed else a, b)


@_fallback(_linalg.inv)
def inv(a: _Any, overwrite_a: bool = False, check_finite: bool = True) -> _Any:
    """A⁻¹ (``dualrev.numpy.linalg.inv``)."""
    return _dnp.linalg.inv(a)


@_fallback(_linalg.det)
def det(a: _Any, overwrite_a: bool = False, check_finite: bool = True) -> _Any:
    """det A (``dualrev.numpy.linalg.det``: its rules hold at singular matrices too)."""
    return _dnp.linalg.det(a)


@_fallback(_linalg.eigh)
def eigh(a: _Any, b: _Any = None, *, lower: bool = True, eigvals_only: bool = False, **kwargs: _Any) -> _Any:
    """Eigenvalues (and eigenvectors) of a symmetric matrix, read from its ``lower`` (or upper) triangle."""
    if b is not None or kwargs:
        raise NotImplementedError(f"dualrev: scipy.linalg.eigh of a traced value takes neither b nor {sorted(kwargs)}")
    uplo = "L" if lower else "U"
    if eigvals_only:
        return _eigvalsh(a, UPLO=uplo)
    w, v = _eigh(a, UPLO=uplo)
    if len(_shape_of(a)) != 2:
        return w, v
    # NumPy's and SciPy's drivers may choose opposite signs: take SciPy's (a constant factor per vector).
    theirs = _linalg.eigh(_concrete(a), lower=lower)[1]
    signs = _np.where(_np.sum(theirs * _concrete(v), axis=-2, keepdims=True) < 0, -1.0, 1.0)
    return w, v * signs


@_fallback(_linalg.solve_sylvester)
def solve_sylvester(a: _Any, b: _Any, q: _Any) -> _Any:
    """X with A X + X B = Q; differentiable in ``a``, ``b`` and ``q``."""
    return _rules.sylvester_p(a, b, q)


@_fallback(_linalg.sqrtm)
def sqrtm(A: _Any, disp: bool = True, blocksize: int = 64) -> _Any:  # noqa: N803 - SciPy's name
    """The principal square root X (X X = A); its derivative solves X Ẋ + Ẋ X = Ȧ."""
    return _rules.sqrtm_p(A)


_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)  # fmt: skip
_THETA13 = 5.371920351148152


@_fallback(_linalg.expm)
def expm(A: _Any) -> _Any:  # noqa: N803 - SciPy's name
    """exp(A) by scaling and squaring with the [13/13] Padé approximant (Higham
    2005), written with ``dualrev.numpy``: differentiable in every mode, at any
    order. The number of squarings is read from the plain value."""
    norm = float(_np.max(_np.sum(_np.abs(_concrete(A)), axis=-2)))
    squarings = max(0, int(_np.ceil(_np.log2(norm / _THETA13)))) if norm > 0 else 0
    a = A / float(2.0**squarings)
    b = _PADE13
    eye = _np.eye(_shape_of(A)[-1])
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a2 @ a4
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
    r = _dnp.linalg.solve(v - u, v + u)
    for _ in range(squarings):
        r = r @ r
    return r


DIFFERENTIABLE = ("solve_triangular", "cholesky", "cho_factor", "cho_solve", "lu_factor", "lu_solve", "solve_banded",
                  "solve", "inv", "det", "eigh", "solve_sylvester", "sqrtm", "expm")  # fmt: skip
