"""The dualrev.numpy functions built as compositions of primitives.

They have no rules of their own, so the registry-wide tests do not see them.
Each one is checked here on traced input: the value equals NumPy's, and every
mode agrees with finite differences (``check_grads``).
"""

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.testing import available_modes

rng = np.random.default_rng(42)
A = rng.standard_normal((3, 4))
B = rng.standard_normal((3, 4))
V = rng.standard_normal(5)
C3 = rng.standard_normal((2, 3, 4))
DISTINCT = rng.permutation(12).reshape(3, 4) * 0.3 + 0.01 * rng.standard_normal((3, 4))
POS = rng.uniform(0.5, 2.0, (3, 4))
SQ = rng.standard_normal((4, 4))
WELL = SQ + 4 * np.eye(4)
_Q = np.linalg.qr(rng.standard_normal((4, 4)))[0]
SPD = (_Q * np.array([1.0, 1.7, 2.4, 3.1])) @ _Q.T

# (id, function written against a NumPy-like namespace ``xp``, arguments)
CASES = [
    ("atleast_1d", lambda xp, x: xp.atleast_1d(x[0, 0]), (A,)),
    ("atleast_2d", lambda xp, x: xp.atleast_2d(x), (V,)),
    ("atleast_3d", lambda xp, x: xp.atleast_3d(x), (A,)),
    ("hstack", lambda xp, x, y: xp.hstack([x, y]), (A, B)),
    ("hstack_1d", lambda xp, x: xp.hstack([x, x[:2]]), (V,)),
    ("vstack", lambda xp, x, y: xp.vstack([x, y[0]]), (A, B)),
    ("dstack", lambda xp, x, y: xp.dstack([x, y]), (A, B)),
    ("column_stack", lambda xp, x: xp.column_stack([x[0], x[1]]), (A,)),
    ("append", lambda xp, x, y: xp.append(x, y), (A, V)),
    ("broadcast_arrays", lambda xp, x, y: xp.broadcast_arrays(x, y)[1], (A, V[:4])),
    ("split", lambda xp, x: xp.split(x, 2, axis=1)[1], (A,)),
    ("array_split", lambda xp, x: xp.array_split(x, 3)[2], (V,)),
    ("array_split_idx", lambda xp, x: xp.array_split(x, [1, 3], axis=1)[1], (A,)),
    ("hsplit", lambda xp, x: xp.hsplit(x, 2)[0], (A,)),
    ("vsplit", lambda xp, x: xp.vsplit(x, [1])[1], (A,)),
    ("tile", lambda xp, x: xp.tile(x, (2, 1, 2)), (A,)),
    ("tile_1d", lambda xp, x: xp.tile(x, 3), (V,)),
    ("repeat", lambda xp, x: xp.repeat(x, 2, axis=1), (A,)),
    ("repeat_counts", lambda xp, x: xp.repeat(x, [1, 0, 2, 1, 3]), (V,)),
    ("repeat_flat", lambda xp, x: xp.repeat(x, 2), (A,)),
    ("flip", lambda xp, x: xp.flip(x), (C3,)),
    ("flip_axis", lambda xp, x: xp.flip(x, axis=1), (C3,)),
    ("fliplr", lambda xp, x: xp.fliplr(x), (A,)),
    ("flipud", lambda xp, x: xp.flipud(x), (A,)),
    ("rot90", lambda xp, x: xp.rot90(x), (A,)),
    ("rot90_k2", lambda xp, x: xp.rot90(x, 2), (A,)),
    ("rot90_k3_axes", lambda xp, x: xp.rot90(x, 3, axes=(1, 2)), (C3,)),
    ("roll", lambda xp, x: xp.roll(x, 2), (A,)),
    ("roll_axes", lambda xp, x: xp.roll(x, (1, -1), axis=(0, 2)), (C3,)),
    ("pad", lambda xp, x: xp.pad(x, ((1, 0), (2, 1))), (A,)),
    ("pad_value", lambda xp, x: xp.pad(x, 1, constant_values=3.0), (A,)),
    ("diagonal", lambda xp, x: xp.diagonal(x), (A,)),
    ("diagonal_offset", lambda xp, x: xp.diagonal(x, 1), (A,)),
    ("diagonal_axes", lambda xp, x: xp.diagonal(x, -1, 2, 0), (C3,)),
    ("trace", lambda xp, x: xp.trace(x), (A,)),
    ("trace_offset", lambda xp, x: xp.trace(x, offset=1, axis1=1, axis2=2), (C3,)),
    ("diag_1d", lambda xp, x: xp.diag(x, 1), (V,)),
    ("diag_2d", lambda xp, x: xp.diag(x, -1), (A,)),
    ("tril", lambda xp, x: xp.tril(x), (A,)),
    ("triu", lambda xp, x: xp.triu(x, 1), (C3,)),
    ("take", lambda xp, x: xp.take(x, [0, 2, 2, -1]), (A,)),
    ("take_axis", lambda xp, x: xp.take(x, np.array([[0, 1], [3, 3]]), axis=1), (A,)),
    ("take_along_axis", lambda xp, x: xp.take_along_axis(x, np.argsort(A, axis=0), axis=0), (A,)),
    ("sort", lambda xp, x: xp.sort(x), (DISTINCT,)),
    ("sort_axis0", lambda xp, x: xp.sort(x, axis=0), (DISTINCT,)),
    ("sort_flat", lambda xp, x: xp.sort(x, axis=None), (DISTINCT,)),
    ("partition", lambda xp, x: xp.partition(x, 1)[..., 1], (DISTINCT,)),
    ("getitem_mask", lambda xp, x: x[x > 0], (A,)),
    ("getitem_mixed", lambda xp, x: x[None, ..., [0, 2], 1:], (C3,)),
    ("getitem_int_arrays", lambda xp, x: x[[0, 1], :, [3, 0]], (C3,)),
    ("cumsum", lambda xp, x: xp.cumsum(x), (A,)),
    ("cumsum_axis", lambda xp, x: xp.cumsum(x, axis=0), (A,)),
    ("cumprod", lambda xp, x: xp.cumprod(x, axis=1), (A,)),
    ("var", lambda xp, x: xp.var(x, axis=0), (A,)),
    ("var_ddof", lambda xp, x: xp.var(x, ddof=1, axis=(0, 2), keepdims=True), (C3,)),
    ("std", lambda xp, x: xp.std(x, axis=1, ddof=1), (A,)),
    ("std_all", lambda xp, x: xp.std(x), (A,)),
    ("nansum", lambda xp, x: xp.nansum(x, axis=1), (A,)),
    ("nanmean", lambda xp, x: xp.nanmean(x, axis=0, keepdims=True), (A,)),
    ("nanmax", lambda xp, x: xp.nanmax(x, axis=1), (DISTINCT,)),
    ("nanmin", lambda xp, x: xp.nanmin(x), (DISTINCT,)),
    ("average", lambda xp, x: xp.average(x, axis=1), (A,)),
    ("average_weights", lambda xp, x, w: xp.average(x, axis=1, weights=w), (A, POS[0])),
    ("average_weights_full", lambda xp, x, w: xp.average(x, weights=w), (A, POS)),
    ("ptp", lambda xp, x: xp.ptp(x, axis=0), (DISTINCT,)),
    ("amax_keepdims", lambda xp, x: xp.amax(x, axis=1, keepdims=True), (DISTINCT,)),
    ("mean_axes", lambda xp, x: xp.mean(x, axis=(0, 2)), (C3,)),
    ("prod_axis", lambda xp, x: xp.prod(x, axis=0, keepdims=True), (A,)),
    ("fabs", lambda xp, x: xp.fabs(x), (A,)),
    ("deg2rad", lambda xp, x: xp.deg2rad(x) + xp.radians(x), (A,)),
    ("rad2deg", lambda xp, x: xp.rad2deg(x) + xp.degrees(x), (A,)),
    ("float_power", lambda xp, x, y: xp.float_power(x, y), (POS, A)),
    ("square", lambda xp, x: xp.square(x), (A,)),
    ("reciprocal", lambda xp, x: xp.reciprocal(x), (POS,)),
    ("nan_to_num", lambda xp, x: xp.nan_to_num(x), (A,)),
    ("clip", lambda xp, x: xp.clip(x, -0.5, 0.5), (A,)),
    ("mod", lambda xp, x: xp.mod(x, 0.7), (A,)),
    ("outer", lambda xp, x, y: xp.outer(x, y), (V, A[0])),
    ("inner_nd", lambda xp, x, y: xp.inner(x, y), (C3, A)),
    ("vdot", lambda xp, x, y: xp.vdot(x, y), (A, B)),
    ("dot_nd", lambda xp, x, y: xp.dot(x, y), (C3, SQ)),
    ("dot_nd_vec", lambda xp, x, y: xp.dot(x, y), (C3, SQ[0])),
    ("tensordot", lambda xp, x, y: xp.tensordot(x, y, axes=([1, 2], [0, 1])), (C3, A)),
    ("tensordot_int", lambda xp, x, y: xp.tensordot(x, y, axes=1), (C3, SQ)),
    ("kron", lambda xp, x, y: xp.kron(x, y), (A[:2, :2], B[:3, :2])),
    ("cross", lambda xp, x, y: xp.cross(x, y), (A[:, :3], B[:, :3])),
    ("cross_axis", lambda xp, x, y: xp.cross(x, y, axis=0), (A[:, :2], B[:, :2])),
    ("einsum_matmul", lambda xp, x, y: xp.einsum("ij,kj->ik", x, y), (A, B)),
    ("einsum_trace", lambda xp, x: xp.einsum("ii", x), (SQ,)),
    ("einsum_diag", lambda xp, x: xp.einsum("ii->i", x), (SQ,)),
    ("einsum_ellipsis", lambda xp, x, y: xp.einsum("...ij,j->...i", x, y), (C3, SQ[0])),
    ("einsum_implicit", lambda xp, x, y: xp.einsum("ij,jk", x, y), (A, SQ)),
    ("einsum_sum_only", lambda xp, x: xp.einsum("ijk->j", x), (C3,)),
    ("einsum_three", lambda xp, x, y, z: xp.einsum("i,ij,j->", x, y, z), (A[:, 0], A, B[0])),
    ("matmul_vec", lambda xp, x, y: xp.matmul(x, y), (V[:4], A.T)),
    # linalg compositions
    ("solve_vector", lambda xp, a, b: xp.linalg.solve(a, b), (WELL, V[:4])),
    ("inv_matmul", lambda xp, a: xp.linalg.inv(a) @ a[0], (WELL,)),
    ("det_stack", lambda xp, a: xp.linalg.det(xp.stack([a, a.T + 1.0])), (WELL,)),
    ("slogdet_named", lambda xp, a: xp.linalg.slogdet(a).logabsdet, (-WELL,)),
    ("cholesky_upper", lambda xp, a: xp.linalg.cholesky(a, upper=True), (SPD,)),
    ("eigvalsh", lambda xp, a: xp.linalg.eigvalsh(a), (SPD,)),
    ("eigh_projector", lambda xp, a: (lambda w, v: (v * xp.exp(w)) @ v.T)(*xp.linalg.eigh(a)), (SPD,)),
    ("svd_values", lambda xp, a: xp.linalg.svd(a, compute_uv=False), (A,)),
    ("svd_reconstruct", lambda xp, a: (lambda u, s, vh: (u * s) @ vh)(*xp.linalg.svd(a, full_matrices=False)), (A,)),
    ("pinv", lambda xp, a: xp.linalg.pinv(a), (A,)),
    ("qr_r", lambda xp, a: xp.linalg.qr(a, mode="r"), (A.T,)),
    ("matrix_power_3", lambda xp, a: xp.linalg.matrix_power(a, 3), (SQ,)),
    ("matrix_power_neg", lambda xp, a: xp.linalg.matrix_power(a, -2), (WELL,)),
    ("matrix_power_0", lambda xp, a: xp.linalg.matrix_power(a, 0), (SQ,)),
    ("multi_dot", lambda xp, a, b: xp.linalg.multi_dot([a, b.T, a]), (A, B)),
    ("linalg_trace", lambda xp, a: xp.linalg.trace(a, offset=1), (C3,)),
    ("norm", lambda xp, x: xp.linalg.norm(x), (C3,)),
    ("norm_keepdims", lambda xp, x: xp.linalg.norm(x, keepdims=True), (A,)),
    ("norm_vec_axis", lambda xp, x: xp.linalg.norm(x, axis=1), (A,)),
    ("norm_vec_1", lambda xp, x: xp.linalg.norm(x, 1), (V,)),
    ("norm_vec_inf", lambda xp, x: xp.linalg.norm(x, np.inf, axis=0), (DISTINCT,)),
    ("norm_vec_minf", lambda xp, x: xp.linalg.norm(x, -np.inf), (V,)),
    ("norm_vec_3", lambda xp, x: xp.linalg.norm(x, 3, axis=-1, keepdims=True), (A,)),
    ("norm_vec_0", lambda xp, x: xp.linalg.norm(x, 0) * x, (V,)),
    ("norm_fro", lambda xp, x: xp.linalg.norm(x, "fro"), (A,)),
    ("norm_nuc", lambda xp, x: xp.linalg.norm(x, "nuc"), (A,)),
    ("norm_2", lambda xp, x: xp.linalg.norm(x, 2, axis=(2, 0)), (C3,)),
    ("norm_m2", lambda xp, x: xp.linalg.norm(x, -2), (A,)),
    ("norm_m1", lambda xp, x: xp.linalg.norm(x, 1, axis=(1, 2), keepdims=True), (C3,)),
    ("norm_minf", lambda xp, x: xp.linalg.norm(x, -np.inf), (A,)),
    ("vector_norm", lambda xp, x: xp.linalg.vector_norm(x, axis=(0, 1)), (C3,)),
    ("matrix_norm", lambda xp, x: xp.linalg.matrix_norm(x, ord="nuc"), (C3,)),
]


@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_composition_value_and_derivatives(name, fn, args):
    want = fn(np, *args)
    got = dr.jvp(lambda *a: fn(dnp, *a), args, tuple(np.zeros_like(a) for a in args))[0]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fn(dnp, *args), want, rtol=1e-12, atol=1e-12)  # plain arrays: NumPy
    dr.testing.check_grads(lambda *a: fn(dnp, *a), *args, modes=available_modes())
