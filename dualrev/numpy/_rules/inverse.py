"""Linear algebra, inverses: inv, solve, det, slogdet, pinv.

Notation in the derivations: ``Ẋ`` is a tangent (forward), ``X̄`` a cotangent
(reverse), ``⟨X, Y⟩ = Σ X_ij Y_ij``, ``Xᵀ`` swaps the last two axes. Every
VJP below is obtained from its JVP by moving the linear map across the inner
product, ``⟨Ȳ, J(Ẋ)⟩ = ⟨Jᵀ(Ȳ), Ẋ⟩`` — the registry tests check exactly this
adjoint identity for each rule. All matrices may come in stacks (leading
axes), and tangents/cotangents carry further leading batch axes; the rules
only use ``matmul`` (which broadcasts leading axes) and the last two axes.
Every rule is written with dualrev.numpy ops, so second derivatives work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...core import Primitive, dtype_of, shape_of
from . import reductions
from .base import Sample, ndim_of, register
from .overrides import numpy_function
from .products import matmul_p
from .shape import expand_dims, expand_rank, mT, reshape, unbroadcast


def eye_like(x: Any, n: int | None = None) -> np.ndarray:
    """The identity matrix of ``x``'s last axis (or of size ``n``), in its float dtype."""
    n = shape_of(x)[-1] if n is None else n
    return np.eye(n, dtype=np.result_type(dtype_of(x), np.float16))


def as_matrix_scalars(v: Any) -> Any:
    """``v[..., None, None]``: a stack of scalars that broadcasts against matrices."""
    return expand_dims(v, (-2, -1))


def _well_conditioned(rng, shape):
    return rng.standard_normal(shape) + 3.0 * np.eye(shape[-1])


def _square_samples(*shapes: tuple, sign: float = 1.0) -> Callable:
    return lambda rng: [Sample((sign * _well_conditioned(rng, s),)) for s in shapes]


# ------------------------------------------------------------------- inv
# A A⁻¹ = I  ⇒  d(A⁻¹) = −A⁻¹ Ȧ A⁻¹ (JVP);  Ā = −A⁻ᵀ Ȳ A⁻ᵀ (VJP).

inv_p = register(
    np.linalg.inv,
    "inv",
    jvp=(lambda t, ans, a: -matmul_p.bind2(ans, matmul_p.bind2(t, ans)),),
    vjp=(lambda g, ans, a: -matmul_p.bind2(mT(ans), matmul_p.bind2(g, mT(ans))),),
    samples=_square_samples((3, 3), (2, 2, 2)),
    structure="batched",  # each matrix of a stack alone: block diagonal over the stack
)


@numpy_function(np.linalg.inv)
def inv(a: Any) -> Any:
    return inv_p(a)


# ----------------------------------------------------------------- solve
# X = A⁻¹ B  ⇒  Ẋ = A⁻¹ (Ḃ − Ȧ X)  (JVP);
# B̄ = A⁻ᵀ X̄,  Ā = −B̄ Xᵀ          (VJP).
# The primitive takes B as a (stack of) matrices; solve() lifts a vector b.


def _solve_impl(a, b):
    return np.linalg.solve(a, b)


solve_p: Primitive = register(
    _solve_impl,
    "solve",
    jvp=(
        lambda t, ans, a, b: -solve_p(a, matmul_p.bind2(expand_rank(t, a, ans), ans)),
        lambda t, ans, a, b: solve_p(a, expand_rank(t, b, ans)),
    ),
    vjp=(
        lambda g, ans, a, b: unbroadcast(-matmul_p.bind2(solve_p(mT(a), g), mT(ans)), a, ans),
        lambda g, ans, a, b: unbroadcast(solve_p(mT(a), g), b, ans),
    ),
    samples=lambda rng: [
        Sample((_well_conditioned(rng, (3, 3)), rng.standard_normal((3, 2)))),
        Sample((_well_conditioned(rng, (3, 3)), rng.standard_normal((2, 3, 1)))),
    ],
)


@numpy_function(np.linalg.solve)
def solve(a: Any, b: Any) -> Any:
    """``np.linalg.solve``: ``b`` is a vector when it is 1-D, else a (stack of) matrices."""
    if ndim_of(b) == 1:
        x = solve_p(a, reshape(b, (shape_of(b)[0], 1)))
        return reshape(x, tuple(shape_of(x))[:-1])
    return solve_p(a, b)


# ------------------------------------------------------------ det, slogdet
# Jacobi's formula: d det A = ⟨cof A, Ȧ⟩ with the cofactor matrix cof A =
# adj(A)ᵀ (= det A · A⁻ᵀ when A is invertible), so Ā = Ȳ · cof A. The
# cofactor matrix exists at every A, singular ones included, so det's rules
# never invert A. From the SVD A = U diag(s) Vᵀ, with σ = det U · det V = ±1:
#   cof A = σ U diag(c) Vᵀ,  c_i = ∏_{j≠i} s_j
# (cof of a product is the product of cofs, cof U = det U · U for orthogonal U),
# products without division: rank n−1 gives a rank-1 cof A, rank ≤ n−2 gives 0.
# Its derivative (det's second derivative) in the same frame, B = Uᵀ Ȧ V:
#   d cof A = σ U L(B) Vᵀ,  L(B) = diag(M · diag B) − M ⊙ Bᵀ,
#   M_ik = ∏_{m∉{i,k}} s_m (i ≠ k), M_ii = 0,
# the second partials of det at diag(s): ∂²det/∂A_ii∂A_kk = M_ik and
# ∂²det/∂A_ik∂A_ki = −M_ik, all others 0. L is self-adjoint (M is symmetric),
# so the VJP of cof is the same map. Third derivatives of det are not
# implemented: differentiating that map in A raises.


def _products_without(s):
    """``c_i = ∏_{j≠i} s_j`` and ``M_ik = ∏_{m∉{i,k}} s_m`` (``M_ii = 0``) of a
    stack of vectors, without division, in O(n²): products before ``i``,
    after ``k`` and strictly between them."""
    n = s.shape[-1]
    one = np.ones_like(s[..., :1])
    before = np.cumprod(np.concatenate([one, s[..., :-1]], axis=-1), axis=-1)
    after = np.flip(np.cumprod(np.concatenate([one, np.flip(s, -1)[..., :-1]], axis=-1), axis=-1), -1)
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    running = np.cumprod(np.where(upper, s[..., None, :], one[..., None]), axis=-1)  # [i, k] = ∏_{i<m≤k}
    between = np.concatenate([np.ones_like(running[..., :1]), running[..., :-1]], axis=-1)  # ∏_{i<m<k}
    m = np.where(upper, before[..., :, None] * between * after[..., None, :], 0).astype(s.dtype)
    return before * after, m + np.swapaxes(m, -1, -2)


def _svd_frame(a):
    """(U, Vᵀ, σ, s) of a stack of square matrices (see above)."""
    u, s, vh = np.linalg.svd(a)
    sigma = np.linalg.det(u) * np.linalg.det(vh)
    return u, vh, sigma[..., None, None], s


def _cofactor_impl(a):
    u, vh, sigma, s = _svd_frame(a)
    c, _ = _products_without(s)
    return sigma * np.matmul(u * c[..., None, :], vh)


def _cofactor_step_impl(a, t):
    """d cof(A)[T] = σ U L(Uᵀ T V) Vᵀ; ``t`` may carry leading batch axes."""
    u, vh, sigma, s = _svd_frame(a)
    _, m = _products_without(s)
    b = np.matmul(np.matmul(np.swapaxes(u, -1, -2), t), np.swapaxes(vh, -1, -2))
    diag_b = np.diagonal(b, axis1=-2, axis2=-1)
    lb = np.matmul(m, diag_b[..., None]) * np.eye(m.shape[-1], dtype=m.dtype) - m * np.swapaxes(b, -1, -2)
    return sigma * np.matmul(np.matmul(u, lb), vh)


def _third_derivative(*args, **kwargs):
    raise NotImplementedError(
        "dualrev: third and higher derivatives of np.linalg.det are not implemented "
        "(its first and second derivatives are, at singular matrices too). For an invertible "
        "matrix, write det(A) * inv(A).T yourself to differentiate further."
    )


def _singular_samples(rng):
    """A rank n−1 and a rank n−2 matrix (det 0), and a stack with one of each."""
    rank2 = rng.standard_normal((3, 2)) @ rng.standard_normal((2, 3))
    rank1 = np.outer(rng.standard_normal(4), rng.standard_normal(4))
    rank3 = rng.standard_normal((4, 3)) @ rng.standard_normal((3, 4))
    return [Sample((rank2,)), Sample((np.stack([rank1, rank3]),))]


cofactor_step_p: Primitive = register(
    _cofactor_step_impl,
    "cofactor_step",
    jvp=(_third_derivative, lambda t, ans, a, tt: cofactor_step_p(a, t)),
    vjp=(_third_derivative, lambda g, ans, a, tt: cofactor_step_p(a, g)),
    vjp_reads=("args",),
    samples=lambda rng: [
        Sample((_well_conditioned(rng, (3, 3)), rng.standard_normal((3, 3))), diff=(1,)),
        Sample((_singular_samples(rng)[1].args[0], rng.standard_normal((2, 4, 4))), diff=(1,)),
    ],
    order=1,
)
cofactor_p: Primitive = register(
    _cofactor_impl,
    "cofactor",
    jvp=(lambda t, ans, a: cofactor_step_p(a, t),),
    vjp=(lambda g, ans, a: cofactor_step_p(a, g),),
    vjp_reads=("args",),
    structure="batched",  # each matrix of a stack alone: block diagonal over the stack
    samples=lambda rng: _singular_samples(rng) + _square_samples((3, 3))(rng),
    order=1,
)
det_p = register(
    np.linalg.det,
    "det",
    jvp=(lambda t, ans, a: reductions.sum(t * cofactor_p(a), axis=(-2, -1)),),
    vjp=(lambda g, ans, a: as_matrix_scalars(g) * cofactor_p(a),),
    vjp_reads=("args",),
    structure="batched",  # each matrix of a stack alone: block diagonal over the stack
    samples=lambda rng: _singular_samples(rng) + _square_samples((3, 3), (2, 2, 2))(rng),
)


def _inv_transpose(a):
    return mT(inv_p(a))


def _slogdet_impl(a):
    sign, logabsdet = np.linalg.slogdet(a)
    return sign, logabsdet


def _slogdet_jvp(t, ans, a):
    sign_tangent = np.zeros(tuple(shape_of(t))[:-2], dtype=dtype_of(ans[0]))  # sign is piecewise constant
    return sign_tangent, reductions.sum(t * _inv_transpose(a), axis=(-2, -1))


def _slogdet_samples(rng):
    return _square_samples((3, 3))(rng) + _square_samples((2, 3, 3), sign=-1.0)(rng)


slogdet_p = register(
    _slogdet_impl,
    "slogdet",
    multiple_results=True,
    jvp=(_slogdet_jvp,),
    vjp=(lambda cts, ans, a: as_matrix_scalars(cts[1]) * _inv_transpose(a),),
    samples=_slogdet_samples,
)
_SlogdetResult = type(np.linalg.slogdet(np.eye(1)))


@numpy_function(np.linalg.det)
def det(a: Any) -> Any:
    """The determinant; differentiable twice everywhere (singular matrices
    too: the gradient is the cofactor matrix, computed without inverting)."""
    return det_p(a)


@numpy_function(np.linalg.slogdet)
def slogdet(a: Any) -> Any:
    """``(sign, logabsdet)``; the sign is piecewise constant (derivative 0).
    The gradient of logabsdet is A⁻ᵀ: at a singular matrix logabsdet is −inf
    and its gradient does not exist (``LinAlgError``)."""
    return _SlogdetResult(*slogdet_p(a))


# ------------------------------------------------------------------- pinv
# Golub & Pereyra (1973), for A of constant rank:
#   d(A⁺) = −A⁺ Ȧ A⁺ + A⁺A⁺ᵀ Ȧᵀ (I − A A⁺) + (I − A⁺A) Ȧᵀ A⁺ᵀ A⁺
#   Ā = −A⁺ᵀ Ȳ A⁺ᵀ + (I − A A⁺) Ȳᵀ A⁺ A⁺ᵀ + A⁺ᵀ A⁺ Ȳᵀ (I − A⁺ A)


def _pinv_projectors(a, ans):
    """(I − A A⁺, I − A⁺ A): the projectors onto the complements of A's ranges."""
    left = eye_like(a, shape_of(a)[-2]) - matmul_p.bind2(a, ans)
    right = eye_like(a, shape_of(a)[-1]) - matmul_p.bind2(ans, a)
    return left, right


def _pinv_jvp(t, ans, a, **kw):
    ta = mT(t)
    left, right = _pinv_projectors(a, ans)
    return (
        -matmul_p.bind2(ans, matmul_p.bind2(t, ans))
        + matmul_p.bind2(matmul_p.bind2(ans, mT(ans)), matmul_p.bind2(ta, left))
        + matmul_p.bind2(right, matmul_p.bind2(ta, matmul_p.bind2(mT(ans), ans)))
    )


def _pinv_vjp(g, ans, a, **kw):
    gt = mT(g)
    left, right = _pinv_projectors(a, ans)
    return (
        -matmul_p.bind2(mT(ans), matmul_p.bind2(g, mT(ans)))
        + matmul_p.bind2(left, matmul_p.bind2(gt, matmul_p.bind2(ans, mT(ans))))
        + matmul_p.bind2(matmul_p.bind2(mT(ans), ans), matmul_p.bind2(gt, right))
    )


pinv_p = register(
    lambda a, *, rcond: np.linalg.pinv(a, rcond=rcond),
    "pinv",
    jvp=(_pinv_jvp,),
    vjp=(_pinv_vjp,),
    structure="batched",  # each matrix of a stack alone: block diagonal over the stack
    samples=lambda rng: [
        Sample((rng.standard_normal((3, 2)),), {"rcond": 1e-15}),
        Sample((rng.standard_normal((2, 2, 3)),), {"rcond": 1e-15}),
    ],
)


@numpy_function(np.linalg.pinv)
def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Any:
    if rtol is not None:
        rcond = rtol
    return pinv_p(a, rcond=1e-15 if rcond is None else float(rcond))


__all__ = ["inv", "solve", "det", "slogdet", "pinv"]
