"""Linear algebra, decompositions: cholesky, eigh/eigvalsh, svd/svdvals, qr.

Notation and conventions as in ``inverse``. Symmetric inputs: ``cholesky``
and ``eigh`` read only one triangle of their input (NumPy/LAPACK: the lower
one for cholesky and ``eigh(UPLO='L')``). We differentiate exactly that
function: a tangent ``Ȧ`` acts through its symmetrisation from the read
triangle, ``sym_L(Ȧ) = tril(Ȧ) + tril(Ȧ, −1)ᵀ``, and the cotangent is mapped
back by the adjoint, ``sym_Lᵀ(S) = tril(S) + tril(Sᵀ, −1)``. For a symmetric
perturbation this is the usual formula.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...core import dtype_of, shape_of
from .base import Sample, register
from .indexing import diagonal, tril, triu, where
from .inverse import eye_like, inv_p
from .overrides import numpy_function
from .products import matmul_p
from .shape import expand_dims, mT, swapaxes


def _diag_part(x):
    """The diagonals of a stack of matrices (last two axes)."""
    return diagonal(x, 0, -2, -1)


def _diag_embed(v):
    """Diagonal matrices from a stack of vectors (last axis)."""
    return expand_dims(v, -1) * eye_like(v)


def _spd(rng, shape):
    """Symmetric positive-definite sample matrices with well-separated eigenvalues."""
    n = shape[-1]
    q, _ = np.linalg.qr(rng.standard_normal(shape))
    eig = np.linspace(1.0, 3.0, n) + rng.uniform(0, 0.2, shape[:-1])
    return (q * eig[..., None, :]) @ np.swapaxes(q, -1, -2)


def _inverse_gaps(values):
    """F_ij = 1 / (v_j − v_i) off the diagonal, 0 on it."""
    diff = expand_dims(values, -2) - expand_dims(values, -1)
    eye = np.eye(shape_of(values)[-1], dtype=bool)
    return where(eye, 0.0, 1.0 / where(eye, 1.0, diff))

def _sym(t, lower=True):
    """The symmetric matrix a triangle-reading routine sees: sym_L / sym_U."""
    if lower:
        return tril(t) + swapaxes(tril(t, -1), -1, -2)
    return triu(t) + swapaxes(triu(t, 1), -1, -2)


def _sym_transpose(s, lower=True):
    """Adjoint of :func:`_sym`: ``tril(S) + tril(Sᵀ, −1)`` (or the upper version)."""
    st = swapaxes(s, -1, -2)
    if lower:
        return tril(s) + tril(st, -1)
    return triu(s) + triu(st, 1)


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
    return matmul_p.bind2(ans, _phi(matmul_p.bind2(l_inv, matmul_p.bind2(_sym(t), mT(l_inv)))))


def _cholesky_vjp(g, ans, a):
    l_inv = inv_p(ans)
    return _sym_transpose(matmul_p.bind2(mT(l_inv), matmul_p.bind2(_phi(matmul_p.bind2(mT(ans), g)), l_inv)))


cholesky_p = register(
    np.linalg.cholesky,
    "cholesky",
    jvp=(_cholesky_jvp,),
    vjp=(_cholesky_vjp,),
    structure="batched",  # each matrix of a stack alone: block diagonal over the stack
    samples=lambda rng: [Sample((_spd(rng, (3, 3)),)), Sample((_spd(rng, (2, 2, 2)),))],
)


@numpy_function(np.linalg.cholesky)
def cholesky(a: Any, /, *, upper: bool = False) -> Any:
    """Cholesky factor; like NumPy it reads the lower triangle of ``a`` (the
    upper one for ``upper=True``, as the lower triangle of ``aᵀ``)."""
    if upper:
        return swapaxes(cholesky_p(swapaxes(a, -1, -2)), -1, -2)
    return cholesky_p(a)


# ------------------------------------------------------------------- eigh
# A = V diag(w) Vᵀ with VᵀV = I. With S = Vᵀ Ȧ V:  ẇ = diag(S) and
# V̇ = V (F ⊙ S), F_ij = 1/(w_j − w_i) for i ≠ j, F_ii = 0 (JVP; needs distinct
# eigenvalues). Transposing, Ā = V (diag(w̄) + F ⊙ (Vᵀ V̄)) Vᵀ (VJP), then
# mapped through sym_Lᵀ. An eigenvector's sign is arbitrary: a loss that
# depends on it is not a function of A; w and sign-invariant functions of V
# (e.g. V diag(f(w)) Vᵀ) are.


def _eigh_impl(a, *, UPLO):
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    return w, v


def _eigh_jvp(t, ans, a, *, UPLO):
    w, v = ans
    s = matmul_p.bind2(mT(v), matmul_p.bind2(_sym(t, UPLO == "L"), v))
    return _diag_part(s), matmul_p.bind2(v, _inverse_gaps(w) * s)


def _eigh_vjp(cts, ans, a, *, UPLO):
    w_bar, v_bar = cts
    w, v = ans
    inner = _diag_embed(w_bar) + _inverse_gaps(w) * matmul_p.bind2(mT(v), v_bar)
    return _sym_transpose(matmul_p.bind2(v, matmul_p.bind2(inner, mT(v))), UPLO == "L")


eigh_p = register(
    _eigh_impl,
    "eigh",
    multiple_results=True,
    jvp=(_eigh_jvp,),
    vjp=(_eigh_vjp,),
    samples=lambda rng: [
        Sample((_spd(rng, (3, 3)),), {"UPLO": "L"}),
        Sample((_spd(rng, (2, 3, 3)),), {"UPLO": "U"}),
    ],
)
_EighResult = type(np.linalg.eigh(np.eye(1)))


@numpy_function(np.linalg.eigh)
def eigh(a: Any, UPLO: str = "L") -> Any:
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix.
    Differentiable where the eigenvalues are distinct."""
    return _EighResult(*eigh_p(a, UPLO=UPLO.upper()))


@numpy_function(np.linalg.eigvalsh)
def eigvalsh(a: Any, UPLO: str = "L") -> Any:
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


def _right_scale(x, s):  # x @ diag(s)
    return x * expand_dims(s, -2)


def _left_scale(s, x):  # diag(s) @ x
    return expand_dims(s, -1) * x


def _svd_jvp(t, ans, a):
    u, s, vh = ans
    v = mT(vh)
    p = matmul_p.bind2(mT(u), matmul_p.bind2(t, v))
    pt = swapaxes(p, -1, -2)
    f = _inverse_gaps(s * s)
    ta_v = matmul_p.bind2(t, v)
    du = matmul_p.bind2(u, f * (_right_scale(p, s) + _left_scale(s, pt)))
    du = du + _right_scale(ta_v - matmul_p.bind2(u, matmul_p.bind2(mT(u), ta_v)), 1 / s)
    tat_u = matmul_p.bind2(mT(t), u)
    dv = matmul_p.bind2(v, f * (_left_scale(s, p) + _right_scale(pt, s)))
    dv = dv + _right_scale(tat_u - matmul_p.bind2(v, matmul_p.bind2(vh, tat_u)), 1 / s)
    return du, _diag_part(p), swapaxes(dv, -1, -2)


def _svd_vjp(cts, ans, a):
    u_bar, s_bar, vh_bar = cts
    u, s, vh = ans
    v = mT(vh)
    v_bar = mT(vh_bar)
    f = _inverse_gaps(s * s)
    ut_ub = matmul_p.bind2(mT(u), u_bar)
    vt_vb = matmul_p.bind2(vh, v_bar)
    core = (
        _diag_embed(s_bar)
        + _right_scale(f * (ut_ub - swapaxes(ut_ub, -1, -2)), s)
        + _left_scale(s, f * (vt_vb - swapaxes(vt_vb, -1, -2)))
    )
    out = matmul_p.bind2(u, matmul_p.bind2(core, vh))
    out = out + matmul_p.bind2(_right_scale(u_bar - matmul_p.bind2(u, ut_ub), 1 / s), vh)
    out = out + matmul_p.bind2(_right_scale(u, 1 / s), mT(v_bar - matmul_p.bind2(v, vt_vb)))
    return out


svd_p = register(
    _svd_impl,
    "svd",
    multiple_results=True,
    jvp=(_svd_jvp,),
    vjp=(_svd_vjp,),
    samples=lambda rng: [
        Sample((rng.standard_normal((3, 3)),)),
        Sample((rng.standard_normal((4, 2)),)),
        Sample((rng.standard_normal((2, 2, 3)),)),
    ],
)
_SVDResult = type(np.linalg.svd(np.eye(1)))


@numpy_function(np.linalg.svd)
def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    """Reduced SVD of traced values (``full_matrices=False`` is required when
    ``compute_uv``: the extra columns of a full U are not unique)."""
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


@numpy_function(np.linalg.svdvals)
def svdvals(x: Any) -> Any:
    return svd_p(x)[1]


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
    x = matmul_p.bind2(t, inv_p(r))
    m = matmul_p.bind2(mT(q), x)
    low = tril(m, -1)
    omega = low - swapaxes(low, -1, -2)
    return matmul_p.bind2(q, omega - m) + x, matmul_p.bind2(m - omega, r)


def _qr_vjp(cts, ans, a):
    q_bar, r_bar = cts
    q, r = ans
    b = matmul_p.bind2(mT(q), q_bar) - matmul_p.bind2(r_bar, mT(r))
    n = tril(b - swapaxes(b, -1, -2), -1) - b
    return matmul_p.bind2(q_bar + matmul_p.bind2(q, n), mT(inv_p(r)))


qr_p = register(
    _qr_impl,
    "qr",
    multiple_results=True,
    jvp=(_qr_jvp,),
    vjp=(_qr_vjp,),
    samples=lambda rng: [Sample((rng.standard_normal((3, 3)),)), Sample((rng.standard_normal((2, 4, 2)),))],
)
_QRResult = type(np.linalg.qr(np.eye(1)))


@numpy_function(np.linalg.qr)
def qr(a: Any, mode: str = "reduced") -> Any:
    m, n = shape_of(a)[-2:]
    if mode not in ("reduced", "r") or m < n:
        raise NotImplementedError(
            "dualrev: qr of a traced matrix supports mode='reduced' (or 'r') with at least as many "
            "rows as columns"
        )
    q, r = qr_p(a)
    return r if mode == "r" else _QRResult(q, r)


__all__ = ["cholesky", "eigh", "eigvalsh", "svd", "svdvals", "qr"]
