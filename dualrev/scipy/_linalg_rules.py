"""The primitives of ``dualrev.scipy.linalg``: Sylvester solves, square roots,
LU factors.

Notation as in ``dualrev/numpy/_rules/inverse.py`` (``Ẋ`` a tangent, ``X̄`` a
cotangent, ``Xᵀ`` swaps the last two axes). Tangents and cotangents carry
leading batch axes; the implementations loop SciPy's 2-D routines over them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg as sl

from .. import numpy as dnp
from ..core import Primitive, concrete, shape_of
from ..numpy._rules.base import Sample, register
from ..numpy._rules.products import matmul_p
from ..numpy._rules.shape import expand_rank, mT, unbroadcast


def stacked(fn: Callable, *arrays: np.ndarray) -> np.ndarray:
    """``fn`` of 2-D arrays, looped over the broadcast leading axes of ``arrays``."""
    lead = np.broadcast_shapes(*(np.shape(a)[:-2] for a in arrays))
    if not lead:
        return np.asarray(fn(*arrays))
    arrays = tuple(np.broadcast_to(a, lead + np.shape(a)[-2:]) for a in arrays)
    first = np.asarray(fn(*(a[(0,) * len(lead)] for a in arrays)))
    out = np.empty(lead + first.shape, dtype=first.dtype)
    for index in np.ndindex(lead):
        out[index] = fn(*(a[index] for a in arrays))
    return out


def _spd(rng: np.random.Generator, n: int) -> np.ndarray:
    m = rng.standard_normal((n, n))
    return m @ m.T + n * np.eye(n)


# ------------------------------------------------------------ solve_sylvester
# A X + X B = Q. With S the solution map (linear in Q): Ẋ = S(Q̇ − Ȧ X − X Ḃ)
# (JVP). Its adjoint solves with Aᵀ, Bᵀ: Q̄ = S'(X̄), Ā = −Q̄ Xᵀ, B̄ = −Xᵀ Q̄ (VJP).


def _sylvester_impl(a, b, q):
    return stacked(sl.solve_sylvester, a, b, q).astype(np.result_type(a, b, q), copy=False)


sylvester_p: Primitive = register(
    _sylvester_impl,
    "solve_sylvester",
    jvp=(
        lambda t, ans, a, b, q: -sylvester_p(a, b, matmul_p(expand_rank(t, a, ans), ans)),
        lambda t, ans, a, b, q: -sylvester_p(a, b, matmul_p(ans, expand_rank(t, b, ans))),
        lambda t, ans, a, b, q: sylvester_p(a, b, t),
    ),
    vjp=(
        lambda g, ans, a, b, q: unbroadcast(-matmul_p(sylvester_p(mT(a), mT(b), g), mT(ans)), a, ans),
        lambda g, ans, a, b, q: unbroadcast(-matmul_p(mT(ans), sylvester_p(mT(a), mT(b), g)), b, ans),
        lambda g, ans, a, b, q: unbroadcast(sylvester_p(mT(a), mT(b), g), q, ans),
    ),
    samples=lambda rng: [
        Sample((_spd(rng, 3), _spd(rng, 2), rng.standard_normal((3, 2)))),
        Sample((_spd(rng, 2), _spd(rng, 2), rng.standard_normal((2, 2)))),
    ],
)

# ------------------------------------------------------------------- sqrtm
# X X = A ⇒ X Ẋ + Ẋ X = Ȧ: Ẋ = sylvester(X, X, Ȧ) (JVP), Ā = sylvester(Xᵀ, Xᵀ, X̄) (VJP).


def _sqrtm_impl(a):
    out = np.asarray(sl.sqrtm(a))
    if np.iscomplexobj(out) and not np.iscomplexobj(a) and np.allclose(out.imag, 0):
        out = out.real
    return out.astype(np.result_type(a, np.float16), copy=False)


sqrtm_p: Primitive = register(
    _sqrtm_impl,
    "sqrtm",
    jvp=(lambda t, ans, a: sylvester_p(ans, ans, t),),
    vjp=(lambda g, ans, a: sylvester_p(mT(ans), mT(ans), g),),
    samples=lambda rng: [Sample((_spd(rng, 3),)), Sample((_spd(rng, 2),))],
)

# --------------------------------------------------------------------- LU
# P A = L U with the pivots P static (from the plain value). With
# F = L⁻¹ (P Ȧ) U⁻¹: L̇ = L strict_lower(F), U̇ = upper(F) U, and the packed
# factor's tangent is their sum (JVP). Transposing the masks and products:
# P Ā = L⁻ᵀ (strict_lower(Lᵀ Ḡ) + upper(Ḡ Uᵀ)) U⁻ᵀ (VJP).


def permutation(piv: np.ndarray) -> np.ndarray:
    """LAPACK's row interchanges as the permutation p with (P A) = A[p]."""
    p = np.arange(len(piv))
    for i, j in enumerate(piv):
        p[i], p[j] = p[j], p[i]
    return p


def _lu_impl(a):
    return sl.lu_factor(a)[0]


def _factors(ans: Any) -> tuple:
    n = shape_of(ans)[-1]
    return dnp.tril(ans, -1) + np.eye(n), dnp.triu(ans)


def _lu_jvp(t, ans, a):
    p = permutation(sl.lu_factor(concrete(a))[1])
    lower, upper = _factors(ans)
    f = dnp.linalg.solve(lower, dnp.take(t, p, axis=-2))
    f = mT(dnp.linalg.solve(mT(upper), mT(f)))
    return matmul_p(lower, dnp.tril(f, -1)) + matmul_p(dnp.triu(f), upper)


def _lu_vjp(g, ans, a):
    p = permutation(sl.lu_factor(concrete(a))[1])
    lower, upper = _factors(ans)
    h = dnp.tril(matmul_p(mT(lower), g), -1) + dnp.triu(matmul_p(g, mT(upper)))
    h = dnp.linalg.solve(mT(lower), h)
    h = mT(dnp.linalg.solve(upper, mT(h)))
    return dnp.take(h, np.argsort(p), axis=-2)


lu_p: Primitive = register(
    _lu_impl,
    "lu_factor",
    jvp=(_lu_jvp,),
    vjp=(_lu_vjp,),
    samples=lambda rng: [
        Sample((rng.standard_normal((3, 3)) + 2 * np.eye(3)[::-1],)),
        Sample((rng.standard_normal((4, 4)),)),
    ],
)

__all__ = ["stacked", "sylvester_p", "sqrtm_p", "lu_p", "permutation"]
