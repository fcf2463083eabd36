"""Linear algebra primitives: inv, solve, det, slogdet, cholesky, eigh, svd,
pinv, qr — and norm, matrix_power, trace, multi_dot built from them.

Notation in the derivations: ``Ẋ`` is a tangent (forward), ``X̄`` a cotangent
(reverse), ``⟨X, Y⟩ = Σ X_ij Y_ij``, ``Xᵀ`` swaps the last two axes. Every
VJP below is obtained from its JVP by moving the linear map across the inner
product, ``⟨Ȳ, J(Ẋ)⟩ = ⟨Jᵀ(Ȳ), Ẋ⟩`` — the registry tests check exactly this
adjoint identity for each rule. All matrices may come in stacks (leading
axes), and tangents/cotangents carry further leading batch axes; the rules
only use ``matmul`` (which broadcasts leading axes) and the last two axes.
Every rule is written with dualrev.numpy ops, so second derivatives work.

Symmetric inputs. ``cholesky`` and ``eigh`` read only one triangle of their
input (NumPy/LAPACK: the lower one for cholesky and ``eigh(UPLO='L')``). We
differentiate exactly that function: a tangent ``Ȧ`` acts through its
symmetrisation from the read triangle, ``sym_L(Ȧ) = tril(Ȧ) + tril(Ȧ, −1)ᵀ``,
and the cotangent is mapped back by the adjoint, ``sym_Lᵀ(S) = tril(S) +
tril(Sᵀ, −1)``. For a symmetric perturbation this is the usual formula.
"""

from __future__ import annotations

import numpy as np

from ..core import Tracer, concrete, defjvp, defvjp, dtype_of, shape_of
from . import shape_ops as _shape
from .elementwise import absolute, where
from ._helpers import Sample, expand_rank, ndim_of, register, sample_arrays, samples, unbroadcast
from .products import _mT
from .products import matmul_p as _mm
from .reductions import _safe_sqrt
from .reductions import max as _max
from .reductions import min as _min
from .reductions import sum as _sum

# ---------------------------------------------------------------- helpers


def _eye_like(x, n=None):
    n = shape_of(x)[-1] if n is None else n
    return np.eye(n, dtype=np.result_type(dtype_of(x), np.float16))


def _diag_part(x):
    """The diagonals of a stack of matrices (last two axes)."""
    return _shape.diagonal(x, 0, -2, -1)


def _diag_embed(v):
    """Diagonal matrices from a stack of vectors (last axis)."""
    return _shape.expand_dims(v, -1) * _eye_like(v)


def _as_matrix_scalars(v):
    """``v[..., None, None]``: a stack of scalars that broadcasts against matrices."""
    return _shape.expand_dims(v, (-2, -1))


def _sym(t, lower=True):
    """The symmetric matrix a triangle-reading routine sees: sym_L / sym_U."""
    if lower:
        return _shape.tril(t) + _shape.swapaxes(_shape.tril(t, -1), -1, -2)
    return _shape.triu(t) + _shape.swapaxes(_shape.triu(t, 1), -1, -2)


def _sym_transpose(s, lower=True):
    """Adjoint of :func:`_sym`: ``tril(S) + tril(Sᵀ, −1)`` (or the upper version)."""
    st = _shape.swapaxes(s, -1, -2)
    if lower:
        return _shape.tril(s) + _shape.tril(st, -1)
    return _shape.triu(s) + _shape.triu(st, 1)


def _spd(rng, shape):
    """Symmetric positive-definite sample matrices with well-separated eigenvalues."""
    n = shape[-1]
    q, _ = np.linalg.qr(rng.standard_normal(shape))
    eig = np.linspace(1.0, 3.0, n) + rng.uniform(0, 0.2, shape[:-1])
    return (q * eig[..., None, :]) @ np.swapaxes(q, -1, -2)


def _well_conditioned(rng, shape):
    return rng.standard_normal(shape) + 3.0 * np.eye(shape[-1])


# ------------------------------------------------------------------- inv
# A A⁻¹ = I  ⇒  d(A⁻¹) = −A⁻¹ Ȧ A⁻¹ (JVP);  Ā = −A⁻ᵀ Ȳ A⁻ᵀ (VJP).

inv_p = register(np.linalg.inv, "inv")
defjvp(inv_p, lambda t, ans, a: -_mm(ans, _mm(t, ans)))
defvjp(inv_p, lambda g, ans, a: -_mm(_mT(ans), _mm(g, _mT(ans))))
samples(inv_p, lambda rng: [Sample((_well_conditioned(rng, (3, 3)),)), Sample((_well_conditioned(rng, (2, 2, 2)),))])


def inv(a):
    if not isinstance(a, Tracer):
        return np.linalg.inv(a)
    return inv_p(a)


# ----------------------------------------------------------------- solve
# X = A⁻¹ B  ⇒  Ẋ = A⁻¹ (Ḃ − Ȧ X)  (JVP);
# B̄ = A⁻ᵀ X̄,  Ā = −B̄ Xᵀ          (VJP).
# The primitive takes B as a (stack of) matrices; solve() lifts a vector b.


def _solve_impl(a, b):
    return np.linalg.solve(a, b)


solve_p = register(_solve_impl, "solve")
defjvp(
    solve_p,
    lambda t, ans, a, b: -solve_p(a, _mm(expand_rank(t, a, ans), ans)),
    lambda t, ans, a, b: solve_p(a, expand_rank(t, b, ans)),
)
defvjp(
    solve_p,
    lambda g, ans, a, b: unbroadcast(-_mm(solve_p(_mT(a), g), _mT(ans)), a, ans),
    lambda g, ans, a, b: unbroadcast(solve_p(_mT(a), g), b, ans),
)
samples(
    solve_p,
    lambda rng: [
        Sample((_well_conditioned(rng, (3, 3)), rng.standard_normal((3, 2)))),
        Sample((_well_conditioned(rng, (3, 3)), rng.standard_normal((2, 3, 1)))),
    ],
)


def solve(a, b):
    """``np.linalg.solve``: ``b`` is a vector when it is 1-D, else a (stack of) matrices."""
    if not (isinstance(a, Tracer) or isinstance(b, Tracer)):
        return np.linalg.solve(a, b)
    if ndim_of(b) == 1:
        b2 = _shape.reshape(b, (shape_of(b)[0], 1)) if isinstance(b, Tracer) else np.reshape(b, (-1, 1))
        x = solve_p(a, b2)
        return _shape.reshape(x, tuple(shape_of(x))[:-1])
    return solve_p(a, b)


# ------------------------------------------------------------ det, slogdet
# Jacobi's formula: d det A = det A · tr(A⁻¹ Ȧ) = det A · ⟨A⁻ᵀ, Ȧ⟩, so
# Ā = Ȳ det A · A⁻ᵀ. For log|det A| the factor det A drops out. Both need A
# invertible (at a singular A the formula's A⁻¹ does not exist).


def _inv_transpose(a):
    return _mT(inv_p(a))


det_p = register(np.linalg.det, "det")
defjvp(det_p, lambda t, ans, a: ans * _sum(t * _inv_transpose(a), axis=(-2, -1)))
defvjp(det_p, lambda g, ans, a: _as_matrix_scalars(g * ans) * _inv_transpose(a))
samples(det_p, lambda rng: [Sample((_well_conditioned(rng, (3, 3)),)), Sample((_well_conditioned(rng, (2, 2, 2)),))])


def _slogdet_impl(a):
    sign, logabsdet = np.linalg.slogdet(a)
    return sign, logabsdet


def _slogdet_jvp(t, ans, a):
    sign_tangent = np.zeros(tuple(shape_of(t))[:-2], dtype=dtype_of(ans[0]))  # sign is piecewise constant
    return sign_tangent, _sum(t * _inv_transpose(a), axis=(-2, -1))


slogdet_p = register(_slogdet_impl, "slogdet", multiple_results=True)
defjvp(slogdet_p, _slogdet_jvp)
defvjp(slogdet_p, lambda cts, ans, a: _as_matrix_scalars(cts[1]) * _inv_transpose(a))
samples(
    slogdet_p,
    lambda rng: [Sample((_well_conditioned(rng, (3, 3)),)), Sample((-_well_conditioned(rng, (2, 3, 3)),))],
)
_SlogdetResult = type(np.linalg.slogdet(np.eye(1)))


def det(a):
    if not isinstance(a, Tracer):
        return np.linalg.det(a)
    return det_p(a)


def slogdet(a):
    """``(sign, logabsdet)``; the sign is piecewise constant (derivative 0)."""
    if not isinstance(a, Tracer):
        return np.linalg.slogdet(a)
    return _SlogdetResult(*slogdet_p(a))


# --------------------------------------------------------------- cholesky
# A = L Lᵀ ⇒ Ȧ = L̇ Lᵀ + L L̇ᵀ ⇒ L⁻¹ Ȧ L⁻ᵀ = L⁻¹L̇ + (L⁻¹L̇)ᵀ, and L⁻¹L̇ is lower
# triangular, hence L̇ = L Φ(L⁻¹ Ȧ L⁻ᵀ) with Φ = "lower triangle, diagonal
# halved" (JVP). Φ is an elementwise mask, so it is self-adjoint:
# ⟨L̄, L Φ(L⁻¹ Ȧ L⁻ᵀ)⟩ = ⟨L⁻ᵀ Φ(Lᵀ L̄) L⁻¹, Ȧ⟩ (VJP). Ȧ = sym_L(tangent).


def _phi(x):
    n = shape_of(x)[-1]
    return x * (np.tril(np.ones((n, n))) - 0.5 * np.eye(n)).astype(np.result_type(dtype_of(x), np.float16))


def _cholesky_jvp(t, ans, a):
    l_inv = inv_p(ans)
    return _mm(ans, _phi(_mm(l_inv, _mm(_sym(t), _mT(l_inv)))))


def _cholesky_vjp(g, ans, a):
    l_inv = inv_p(ans)
    return _sym_transpose(_mm(_mT(l_inv), _mm(_phi(_mm(_mT(ans), g)), l_inv)))


cholesky_p = register(np.linalg.cholesky, "cholesky")
defjvp(cholesky_p, _cholesky_jvp)
defvjp(cholesky_p, _cholesky_vjp)
samples(cholesky_p, lambda rng: [Sample((_spd(rng, (3, 3)),)), Sample((_spd(rng, (2, 2, 2)),))])


def cholesky(a, /, *, upper=False):
    """Cholesky factor; like NumPy it reads the lower triangle of ``a`` (the
    upper one for ``upper=True``, as the lower triangle of ``aᵀ``)."""
    if not isinstance(a, Tracer):
        return np.linalg.cholesky(a, upper=upper)
    if upper:
        return _shape.swapaxes(cholesky_p(_shape.swapaxes(a, -1, -2)), -1, -2)
    return cholesky_p(a)


# ------------------------------------------------------------------- eigh
# A = V diag(w) Vᵀ with VᵀV = I. With S = Vᵀ Ȧ V:  ẇ = diag(S) and
# V̇ = V (F ⊙ S), F_ij = 1/(w_j − w_i) for i ≠ j, F_ii = 0 (JVP; needs distinct
# eigenvalues). Transposing, Ā = V (diag(w̄) + F ⊙ (Vᵀ V̄)) Vᵀ (VJP), then
# mapped through sym_Lᵀ. An eigenvector's sign is arbitrary: a loss that
# depends on it is not a function of A; w and sign-invariant functions of V
# (e.g. V diag(f(w)) Vᵀ) are.


def _eigh_gaps(w):
    """F_ij = 1 / (w_j − w_i) off the diagonal, 0 on it."""
    diff = _shape.expand_dims(w, -2) - _shape.expand_dims(w, -1)
    eye = np.eye(shape_of(w)[-1], dtype=bool)
    return where(eye, 0.0, 1.0 / where(eye, 1.0, diff))


def _eigh_impl(a, *, UPLO):
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    return w, v


def _eigh_jvp(t, ans, a, *, UPLO):
    w, v = ans
    s = _mm(_mT(v), _mm(_sym(t, UPLO == "L"), v))
    return _diag_part(s), _mm(v, _eigh_gaps(w) * s)


def _eigh_vjp(cts, ans, a, *, UPLO):
    w_bar, v_bar = cts
    w, v = ans
    inner = _diag_embed(w_bar) + _eigh_gaps(w) * _mm(_mT(v), v_bar)
    return _sym_transpose(_mm(v, _mm(inner, _mT(v))), UPLO == "L")


eigh_p = register(_eigh_impl, "eigh", multiple_results=True)
defjvp(eigh_p, _eigh_jvp)
defvjp(eigh_p, _eigh_vjp)
samples(
    eigh_p,
    lambda rng: [Sample((_spd(rng, (3, 3)),), {"UPLO": "L"}), Sample((_spd(rng, (2, 3, 3)),), {"UPLO": "U"})],
)
_EighResult = type(np.linalg.eigh(np.eye(1)))


def eigh(a, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix.
    Differentiable where the eigenvalues are distinct."""
    if not isinstance(a, Tracer):
        return np.linalg.eigh(a, UPLO=UPLO)
    return _EighResult(*eigh_p(a, UPLO=UPLO.upper()))


def eigvalsh(a, UPLO="L"):
    if not isinstance(a, Tracer):
        return np.linalg.eigvalsh(a, UPLO=UPLO)
    return eigh_p(a, UPLO=UPLO.upper())[0]


# -------------------------------------------------------------------- svd
# A = U diag(s) Vᵀ (reduced; A is m×n, k = min(m, n)). With P = Uᵀ Ȧ V and
# F_ij = 1/(s_j² − s_i²) (i ≠ j), F_ii = 0 (Townsend 2016):
#   ṡ = diag(P)
#   U̇ = U (F ⊙ (P S + S Pᵀ)) + (I − U Uᵀ) Ȧ V S⁻¹
#   V̇ = V (F ⊙ (S P + Pᵀ S)) + (I − V Vᵀ) Ȧᵀ U S⁻¹
# Transposing term by term (F is antisymmetric):
#   Ā = U [diag(s̄) + (F ⊙ (UᵀŪ − ŪᵀU)) S + S (F ⊙ (VᵀV̄ − V̄ᵀV))] Vᵀ
#       + (I − U Uᵀ) Ū S⁻¹ Vᵀ + U S⁻¹ V̄ᵀ (I − V Vᵀ)
# Conditions: distinct, nonzero singular values (for U and V; s alone only
# needs them distinct where they cross). Signs of singular vector pairs are
# arbitrary, as for eigh.


def _svd_impl(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return u, s, vh


def _svd_gaps(s):
    s2 = s * s
    diff = _shape.expand_dims(s2, -2) - _shape.expand_dims(s2, -1)
    eye = np.eye(shape_of(s)[-1], dtype=bool)
    return where(eye, 0.0, 1.0 / where(eye, 1.0, diff))


def _right_scale(x, s):  # x @ diag(s)
    return x * _shape.expand_dims(s, -2)


def _left_scale(s, x):  # diag(s) @ x
    return _shape.expand_dims(s, -1) * x


def _svd_jvp(t, ans, a):
    u, s, vh = ans
    v = _mT(vh)
    p = _mm(_mT(u), _mm(t, v))
    pt = _shape.swapaxes(p, -1, -2)
    f = _svd_gaps(s)
    ta_v = _mm(t, v)
    du = _mm(u, f * (_right_scale(p, s) + _left_scale(s, pt)))
    du = du + _right_scale(ta_v - _mm(u, _mm(_mT(u), ta_v)), 1 / s)
    tat_u = _mm(_mT(t), u)
    dv = _mm(v, f * (_left_scale(s, p) + _right_scale(pt, s)))
    dv = dv + _right_scale(tat_u - _mm(v, _mm(vh, tat_u)), 1 / s)
    return du, _diag_part(p), _shape.swapaxes(dv, -1, -2)


def _svd_vjp(cts, ans, a):
    u_bar, s_bar, vh_bar = cts
    u, s, vh = ans
    v = _mT(vh)
    v_bar = _mT(vh_bar)
    f = _svd_gaps(s)
    ut_ub = _mm(_mT(u), u_bar)
    vt_vb = _mm(vh, v_bar)
    core = (
        _diag_embed(s_bar)
        + _right_scale(f * (ut_ub - _shape.swapaxes(ut_ub, -1, -2)), s)
        + _left_scale(s, f * (vt_vb - _shape.swapaxes(vt_vb, -1, -2)))
    )
    out = _mm(u, _mm(core, vh))
    out = out + _mm(_right_scale(u_bar - _mm(u, ut_ub), 1 / s), vh)
    out = out + _mm(_right_scale(u, 1 / s), _mT(v_bar - _mm(v, vt_vb)))
    return out


svd_p = register(_svd_impl, "svd", multiple_results=True)
defjvp(svd_p, _svd_jvp)
defvjp(svd_p, _svd_vjp)
samples(
    svd_p,
    lambda rng: [
        Sample((rng.standard_normal((3, 3)),)),
        Sample((rng.standard_normal((4, 2)),)),
        Sample((rng.standard_normal((2, 2, 3)),)),
    ],
)
_SVDResult = type(np.linalg.svd(np.eye(1)))


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Reduced SVD of traced values (``full_matrices=False`` is required when
    ``compute_uv``: the extra columns of a full U are not unique)."""
    if not isinstance(a, Tracer):
        return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv, hermitian=hermitian)
    u, s, vh = svd_p(a)
    if not compute_uv:
        return s
    m, n = shape_of(a)[-2:]
    if full_matrices and m != n:
        raise NotImplementedError(
            "dualrev: svd(full_matrices=True) of a non-square traced matrix is not differentiable "
            "(the extra singular vectors are not unique); pass full_matrices=False"
        )
    return _SVDResult(u, s, vh)


def svdvals(x):
    if not isinstance(x, Tracer):
        return np.linalg.svdvals(x)
    return svd_p(x)[1]


# ------------------------------------------------------------------- pinv
# Golub & Pereyra (1973), for A of constant rank:
#   d(A⁺) = −A⁺ Ȧ A⁺ + A⁺A⁺ᵀ Ȧᵀ (I − A A⁺) + (I − A⁺A) Ȧᵀ A⁺ᵀ A⁺
#   Ā = −A⁺ᵀ Ȳ A⁺ᵀ + (I − A A⁺) Ȳᵀ A⁺ A⁺ᵀ + A⁺ᵀ A⁺ Ȳᵀ (I − A⁺ A)


def _pinv_jvp(t, ans, a, **kw):
    ta = _mT(t)
    left = _eye_like(a, shape_of(a)[-2]) - _mm(a, ans)
    right = _eye_like(a, shape_of(a)[-1]) - _mm(ans, a)
    return (
        -_mm(ans, _mm(t, ans))
        + _mm(_mm(ans, _mT(ans)), _mm(ta, left))
        + _mm(right, _mm(ta, _mm(_mT(ans), ans)))
    )


def _pinv_vjp(g, ans, a, **kw):
    gt = _mT(g)
    left = _eye_like(a, shape_of(a)[-2]) - _mm(a, ans)
    right = _eye_like(a, shape_of(a)[-1]) - _mm(ans, a)
    return (
        -_mm(_mT(ans), _mm(g, _mT(ans)))
        + _mm(left, _mm(gt, _mm(ans, _mT(ans))))
        + _mm(_mm(_mT(ans), ans), _mm(gt, right))
    )


pinv_p = register(lambda a, *, rcond: np.linalg.pinv(a, rcond=rcond), "pinv")
defjvp(pinv_p, _pinv_jvp)
defvjp(pinv_p, _pinv_vjp)
samples(
    pinv_p,
    lambda rng: [
        Sample((rng.standard_normal((3, 2)),), {"rcond": 1e-15}),
        Sample((rng.standard_normal((2, 2, 3)),), {"rcond": 1e-15}),
    ],
)


def pinv(a, rcond=None, hermitian=False, *, rtol=None):
    if not isinstance(a, Tracer):
        kwargs = {} if rtol is None else {"rtol": rtol}
        return np.linalg.pinv(a, rcond=rcond, hermitian=hermitian, **kwargs) if rcond is not None else np.linalg.pinv(
            a, hermitian=hermitian, **kwargs
        )
    if rtol is not None:
        rcond = rtol
    return pinv_p(a, rcond=1e-15 if rcond is None else float(rcond))


# --------------------------------------------------------------------- qr
# A = Q R (reduced, m ≥ n). With X = Ȧ R⁻¹, M = Qᵀ X and Ω = tril(M, −1) −
# tril(M, −1)ᵀ (antisymmetric): Q̇ = Q (Ω − M) + X, Ṙ = (M − Ω) R (JVP).
# Transposing, with B = QᵀQ̄ − R̄Rᵀ and N = tril(B − Bᵀ, −1) − B:
#   Ā = (Q̄ + Q N) R⁻ᵀ (VJP). Needs R invertible (A of full column rank).


def _qr_impl(a):
    q, r = np.linalg.qr(a, mode="reduced")
    return q, r


def _qr_jvp(t, ans, a):
    q, r = ans
    x = _mm(t, inv_p(r))
    m = _mm(_mT(q), x)
    low = _shape.tril(m, -1)
    omega = low - _shape.swapaxes(low, -1, -2)
    return _mm(q, omega - m) + x, _mm(m - omega, r)


def _qr_vjp(cts, ans, a):
    q_bar, r_bar = cts
    q, r = ans
    b = _mm(_mT(q), q_bar) - _mm(r_bar, _mT(r))
    n = _shape.tril(b - _shape.swapaxes(b, -1, -2), -1) - b
    return _mm(q_bar + _mm(q, n), _mT(inv_p(r)))


qr_p = register(_qr_impl, "qr", multiple_results=True)
defjvp(qr_p, _qr_jvp)
defvjp(qr_p, _qr_vjp)
samples(qr_p, lambda rng: [Sample((rng.standard_normal((3, 3)),)), Sample((rng.standard_normal((2, 4, 2)),))])
_QRResult = type(np.linalg.qr(np.eye(1)))


def qr(a, mode="reduced"):
    if not isinstance(a, Tracer):
        return np.linalg.qr(a, mode=mode)
    m, n = shape_of(a)[-2:]
    if mode not in ("reduced", "r") or m < n:
        raise NotImplementedError(
            "dualrev: qr of a traced matrix supports mode='reduced' (or 'r') with at least as many "
            "rows as columns"
        )
    q, r = qr_p(a)
    return r if mode == "r" else _QRResult(q, r)


# ------------------------------------------------------------ compositions


def matrix_power(a, n):
    """Repeated squaring with matmul (inv first for negative n)."""
    if not isinstance(a, Tracer):
        return np.linalg.matrix_power(a, n)
    n = int(n)
    if n == 0:
        return _shape.broadcast_to(_eye_like(a), tuple(shape_of(a))) + 0.0 * a
    if n < 0:
        a, n = inv_p(a), -n
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else _mm(result, base)
        n >>= 1
        if n:
            base = _mm(base, base)
    return result


def multi_dot(arrays, *, out=None):
    arrays = list(arrays)
    if not any(isinstance(x, Tracer) for x in arrays):
        return np.linalg.multi_dot(arrays, out=out)
    from .products import dot

    result = arrays[0]
    for x in arrays[1:]:
        result = dot(result, x)
    return result


def trace(x, /, *, offset=0, dtype=None):
    """``np.linalg.trace``: the trace over the last two axes."""
    if not isinstance(x, Tracer):
        return np.linalg.trace(x, offset=offset, dtype=dtype)
    return _shape.trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


def _vector_norm(x, ord, axis, keepdims):
    """Vector p-norms along ``axis``. At the zero vector every norm has a kink;
    we return the subgradient 0 (``_safe_sqrt`` / ``abs'(0) = 0``)."""
    if ord is None or ord == 2:
        return _safe_sqrt(_sum(x * x, axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return _max(absolute(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return _min(absolute(x), axis=axis, keepdims=keepdims)
    if ord == 0:  # the number of nonzeros: piecewise constant
        return np.sum(concrete(x) != 0, axis=axis, keepdims=keepdims).astype(dtype_of(x))
    if ord == 1:
        return _sum(absolute(x), axis=axis, keepdims=keepdims)
    ord = float(ord)
    total = _sum(absolute(x) ** ord, axis=axis, keepdims=keepdims)
    zero = concrete(total) == 0
    if not np.any(zero):
        return total ** (1.0 / ord)
    return where(zero, 0.0, where(zero, 1.0, total) ** (1.0 / ord))


def _matrix_norm(x, ord, axes, keepdims):
    row, col = axes
    if ord in ("fro", "f", None):
        return _safe_sqrt(_sum(x * x, axis=axes, keepdims=keepdims))
    if ord in (1, -1, np.inf, -np.inf):
        reduce_inner, reduce_outer = (row, col) if ord in (1, -1) else (col, row)
        sums = _sum(absolute(x), axis=reduce_inner, keepdims=True)
        pick = _max if ord in (1, np.inf) else _min
        out = pick(sums, axis=reduce_outer, keepdims=True)
    elif ord in (2, -2, "nuc"):
        s = svd_p(_shape.moveaxis(x, (row, col), (-2, -1)))[1]
        out = {2: _max, -2: _min, "nuc": _sum}[ord](s, axis=-1)
        out = _shape.expand_dims(out, tuple(sorted((row, col))))
    else:
        raise ValueError(f"Invalid norm order {ord!r} for matrices.")
    return out if keepdims else _shape.squeeze(out, axis=axes)


def norm(x, ord=None, axis=None, keepdims=False):
    """``np.linalg.norm``: vector norms (any p, ±inf, 0) and matrix norms
    ('fro', 'nuc', ±1, ±2, ±inf). The 2/−2/'nuc' matrix norms go through the
    SVD (distinct singular values needed where they are differentiated)."""
    if not isinstance(x, Tracer):
        return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    nd = ndim_of(x)
    if axis is None:
        if ord is None:
            out = _safe_sqrt(_sum(x * x))
            return _shape.reshape(out, (1,) * nd) if keepdims else out
        axis = tuple(range(nd)) if nd in (1, 2) else None
        if axis is None:
            raise ValueError("Improper number of dimensions to norm.")
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    axes = tuple(int(a) % nd for a in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError("Improper number of dimensions to norm.")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    if not isinstance(x, Tracer):
        return np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    if axis is None:
        out = _vector_norm(_shape.ravel(x), ord, 0, False)
        return _shape.reshape(out, (1,) * ndim_of(x)) if keepdims else out
    if np.ndim(axis) == 0:
        return _vector_norm(x, ord, axis, keepdims)
    axes = tuple(int(a) % ndim_of(x) for a in axis)
    if ord in (None, 2):
        return _safe_sqrt(_sum(x * x, axis=axes, keepdims=keepdims))
    raise NotImplementedError("dualrev: vector_norm over several axes supports ord=2 only")


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    if not isinstance(x, Tracer):
        return np.linalg.matrix_norm(x, keepdims=keepdims, ord=ord)
    nd = ndim_of(x)
    return _matrix_norm(x, ord, (nd - 2, nd - 1), keepdims)


__all__ = [
    "inv",
    "solve",
    "det",
    "slogdet",
    "cholesky",
    "eigh",
    "eigvalsh",
    "svd",
    "svdvals",
    "pinv",
    "qr",
    "matrix_power",
    "multi_dot",
    "trace",
    "norm",
    "vector_norm",
    "matrix_norm",
]
