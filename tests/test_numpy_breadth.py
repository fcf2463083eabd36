"""Issue 13: NumPy code as people write it.

Arrays built from traced values (``dnp.array`` of nested lists, ``r_``/``c_``,
``append`` of lists, reductions of lists) and the names and options that
used to be missing. Each case: the traced value equals NumPy's on the plain
arrays, the plain-array call *is* NumPy's result exactly, and every mode
agrees with finite differences (``check_grads``; ``order=2`` too).
"""

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp

rng = np.random.default_rng(13)
A = rng.standard_normal((3, 4))
V = rng.standard_normal(5)
W = rng.standard_normal(3)
C3 = rng.standard_normal((2, 3, 4))
POS = rng.uniform(0.5, 2.0, 5)
MASK = A > -0.3
NAN = A.copy()
NAN[0, 1] = NAN[2, 3] = np.nan
KNOTS = np.array([-1.0, 0.0, 0.5, 2.0])
SIGNED = np.array([1.0, -2.0, 0.5, 1.0, 3.0])

# (id, function of a NumPy-like namespace ``xp``, arguments)
CASES = [
    # 2: the missing names and options, in the order
    ("linspace", lambda xp, x: xp.linspace(x[0], x[1], 7), (V,)),
    ("linspace_arrays", lambda xp, x: xp.linspace(x[:2], x[2:4], 4, endpoint=False, axis=1), (V,)),
    ("linspace_retstep", lambda xp, x: xp.linspace(0.0, x[1], 5, retstep=True)[1], (V,)),
    ("logspace", lambda xp, x: xp.logspace(x[0], x[1], 5, base=2.0), (V,)),
    ("select", lambda xp, x: xp.select([V > 0.5, V < -0.5], [x, x**2], default=x * 3), (V,)),
    ("select_scalar_default", lambda xp, x: xp.select([A > 0], [x]), (A,)),
    ("copy", lambda xp, x: xp.copy(x) * 2, (V,)),
    ("real_imag_conj", lambda xp, x: xp.real(x) + xp.imag(x) + xp.conj(x) + xp.conjugate(x), (V,)),
    ("real_if_close_angle", lambda xp, x: xp.real_if_close(x) * xp.angle(x, deg=True), (V,)),
    ("reshape_F", lambda xp, x: xp.reshape(x, (4, 3), order="F"), (A,)),
    ("reshape_F_3d", lambda xp, x: xp.reshape(x, (4, -1), order="F"), (C3,)),
    ("ravel_F", lambda xp, x: xp.ravel(x, order="F"), (C3,)),
    ("method_reshape_F", lambda xp, x: x.reshape((2, 6), order="F"), (A,)),
    ("method_flatten_F", lambda xp, x: x.flatten("F"), (A,)),
    ("ravel_A_of_transpose", lambda xp, x: xp.ravel(xp.transpose(x), order="A"), (A,)),
    ("sum_where", lambda xp, x: xp.sum(x, axis=1, where=MASK), (A,)),
    ("sum_where_initial", lambda xp, x: xp.sum(x, where=MASK, initial=2.5), (A,)),
    ("sum_initial", lambda xp, x: xp.sum(x, axis=0, initial=3.0), (A,)),
    ("mean_where", lambda xp, x: xp.mean(x, axis=0, where=MASK), (A,)),
    ("mean_where_all", lambda xp, x: xp.mean(x, where=MASK), (A,)),
    ("prod_where", lambda xp, x: xp.prod(x, axis=1, where=MASK), (A,)),
    ("prod_initial", lambda xp, x: xp.prod(x, initial=2.0), (V,)),
    ("max_initial", lambda xp, x: xp.max(x, axis=1, initial=0.5), (A,)),
    ("min_initial", lambda xp, x: xp.min(x, initial=-0.2), (V,)),
    ("max_where", lambda xp, x: xp.max(x, axis=0, where=MASK, initial=-5.0), (A,)),
    ("amin_where", lambda xp, x: xp.amin(x, axis=1, where=MASK, initial=5.0), (A,)),
    ("pad_reflect", lambda xp, x: xp.pad(x, ((1, 2), (3, 1)), mode="reflect"), (A,)),
    ("pad_reflect_wide", lambda xp, x: xp.pad(x, (7, 6), mode="reflect"), (W,)),
    ("pad_symmetric", lambda xp, x: xp.pad(x, 2, mode="symmetric"), (A,)),
    ("pad_edge", lambda xp, x: xp.pad(x, (1, 2), mode="edge"), (C3,)),
    ("pad_wrap", lambda xp, x: xp.pad(x, ((0, 5), (2, 2)), mode="wrap"), (A,)),
    ("take_wrap", lambda xp, x: xp.take(x, [0, 7, -9], mode="wrap"), (V,)),
    ("take_clip", lambda xp, x: xp.take(x, np.array([[0, 7], [-9, 2]]), axis=1, mode="clip"), (A,)),
    ("method_take_clip", lambda xp, x: x.take([-1, 9], mode="clip"), (V,)),
    ("interp", lambda xp, x, f: xp.interp(x, KNOTS, f), (np.array([-1.5, -0.3, 0.2, 1.1, 2.5]), W[[0, 1, 2, 0]])),
    ("interp_left_right", lambda xp, x: xp.interp(x, KNOTS, KNOTS**2, left=-1.0, right=9.0), (V * 2,)),
    ("interp_scalar", lambda xp, x: xp.interp(x[0], KNOTS, KNOTS**2), (POS,)),
    ("interp_xp", lambda xp, k: xp.interp(V, k, W[[0, 1, 2, 0]]), (KNOTS,)),
    ("convolve", lambda xp, a, v: xp.convolve(a, v), (V, W)),
    ("convolve_same", lambda xp, a, v: xp.convolve(v, a, "same"), (V, W)),
    ("convolve_valid", lambda xp, a, v: xp.convolve(a, v, mode="valid"), (V, W)),
    ("convolve_plain_kernel", lambda xp, a: xp.convolve(a, np.array([0.25, 0.5, 0.25]), "same"), (V,)),
    ("correlate", lambda xp, a, v: xp.correlate(a, v), (V, W)),
    ("correlate_full", lambda xp, a, v: xp.correlate(v, a, "full"), (V, W)),
    ("correlate_same_short_first", lambda xp, a, v: xp.correlate(v, a[:4], "same"), (V, W)),
    ("correlate_same", lambda xp, a, v: xp.correlate(a, v, "same"), (V, W)),
    ("trapezoid", lambda xp, y: xp.trapezoid(y, axis=0), (A,)),
    ("trapezoid_dx", lambda xp, y: xp.trapezoid(y, dx=0.3), (A,)),
    ("trapezoid_x", lambda xp, y, x: xp.trapezoid(y, x), (A, np.sort(V[:4]))),
    ("trapezoid_x_nd", lambda xp, y, x: xp.trapezoid(y, x, axis=0), (A, A * 2)),
    ("polyval", lambda xp, p, x: xp.polyval(p, x), (W, V)),
    ("polyval_scalar", lambda xp, p: xp.polyval(p, 1.5), (W,)),
    ("cov", lambda xp, x: xp.cov(x), (A,)),
    ("cov_y_rowvar", lambda xp, x, y: xp.cov(x, y, rowvar=False), (A, A[:, :2] * 2)),
    ("cov_bias_1d", lambda xp, x: xp.cov(x, bias=True), (V,)),
    ("cov_weights", lambda xp, x: xp.cov(x, fweights=np.array([1, 2, 1, 3]), aweights=np.arange(1.0, 5)), (A,)),
    ("corrcoef", lambda xp, x: xp.corrcoef(x), (A,)),
    ("corrcoef_xy", lambda xp, x, y: xp.corrcoef(x, y), (V, POS)),
    ("median", lambda xp, x: xp.median(x, axis=1), (A,)),
    ("median_odd", lambda xp, x: xp.median(x), (V,)),
    ("median_keepdims", lambda xp, x: xp.median(x, axis=(0, 2), keepdims=True), (C3,)),
    ("quantile", lambda xp, x: xp.quantile(x, [0.1, 0.5, 0.93], axis=0), (A,)),
    ("quantile_traced_q", lambda xp, x, q: xp.quantile(x, q), (V, np.array([0.2, 0.7]))),
    ("percentile", lambda xp, x: xp.percentile(x, 30, axis=(0, 2), keepdims=True), (C3,)),
    ("percentile_list", lambda xp, x: xp.percentile(x, [10, 90], axis=1), (A,)),
    ("quantile_lower", lambda xp, x: xp.quantile(x, 0.3, method="lower"), (V,)),
    ("quantile_higher", lambda xp, x: xp.quantile(x, 0.3, method="higher"), (V,)),
    ("quantile_midpoint", lambda xp, x: xp.quantile(x, 0.3, method="midpoint"), (V,)),
    ("quantile_nearest", lambda xp, x: xp.quantile(x, [0.3, 0.6], method="nearest"), (V,)),
    ("nanquantile", lambda xp, x: xp.nanquantile(x, [0.3, 0.5], axis=1), (NAN,)),
    ("nanquantile_all", lambda xp, x: xp.nanquantile(x, 0.7), (NAN,)),
    ("nanquantile_lower", lambda xp, x: xp.nanquantile(x, 0.7, axis=0, method="lower"), (NAN,)),
    ("nanquantile_nearest", lambda xp, x: xp.nanquantile(x, [0.2, 0.6], axis=1, method="nearest"), (NAN,)),
    ("nanpercentile", lambda xp, x: xp.nanpercentile(x, 40, axis=0, keepdims=True), (NAN,)),
    ("nanmedian", lambda xp, x: xp.nanmedian(x, axis=1), (NAN,)),
    ("nanmedian_all", lambda xp, x: xp.nanmedian(x), (NAN,)),
    ("nanmedian_keepdims", lambda xp, x: xp.nanmedian(x, axis=0, keepdims=True), (NAN,)),
    ("nanvar", lambda xp, x: xp.nanvar(x, axis=1, ddof=1), (NAN,)),
    ("nanstd", lambda xp, x: xp.nanstd(x), (NAN,)),
    ("nanstd_keepdims", lambda xp, x: xp.nanstd(x, axis=0, keepdims=True), (NAN,)),
    ("nanprod", lambda xp, x: xp.nanprod(x, axis=0), (NAN,)),
    ("cumulative_sum", lambda xp, x: xp.cumulative_sum(x, include_initial=True), (V,)),
    ("cumulative_sum_axis", lambda xp, x: xp.cumulative_sum(x, axis=1), (A,)),
    ("cumulative_prod", lambda xp, x: xp.cumulative_prod(x, axis=0, include_initial=True), (A,)),
    ("logsumexp_b", lambda xp, x: dnp.logsumexp(x, b=POS), (V,)),
    ("logsumexp_b_traced", lambda xp, x, b: dnp.logsumexp(x, axis=1, b=b, keepdims=True), (A, A**2 + 0.1)),
    ("logsumexp_sign", lambda xp, x: dnp.logsumexp(x, b=SIGNED, return_sign=True)[0], (V,)),
    ("linalg_matmul", lambda xp, x: xp.linalg.matmul(x, x.T), (A,)),
    ("linalg_tensordot", lambda xp, x, y: xp.linalg.tensordot(x, y, axes=1), (A, A.T)),
    ("linalg_matrix_transpose", lambda xp, x: xp.linalg.matrix_transpose(x), (C3,)),
    ("linalg_diagonal", lambda xp, x: xp.linalg.diagonal(x, offset=1), (C3,)),
    ("linalg_vecdot", lambda xp, x: xp.linalg.vecdot(x, x * 2, axis=0), (A,)),
    ("linalg_outer", lambda xp, x: xp.linalg.outer(x, x[:3]), (V,)),
    ("linalg_cross", lambda xp, x: xp.linalg.cross(x[:, :3], x[:, 1:]), (A,)),
    ("vecdot", lambda xp, x, y: xp.vecdot(x, y), (C3, A)),
    ("matrix_transpose", lambda xp, x: xp.matrix_transpose(x), (C3,)),
    ("einsum_sublist", lambda xp, x, y: xp.einsum(x, [0, 1], y, [1, 2], [0, 2]), (A, A.T)),
    ("einsum_sublist_implicit", lambda xp, x: xp.einsum(x, [1, 0]), (A,)),
    ("einsum_sublist_ellipsis", lambda xp, x: xp.einsum(x, [Ellipsis, 1], [1, Ellipsis]), (C3,)),
    ("einsum_sublist_trace", lambda xp, x: xp.einsum(x[:, :3], [0, 0]), (A,)),
    ("einsum_size1_broadcast", lambda xp, x: xp.einsum("ij,ij->i", x[:, :1], x), (A,)),
    ("einsum_size1_broadcast_out", lambda xp, x: xp.einsum("ij,ij->ij", x[:1], x), (A,)),
    ("einsum_size1_ellipsis", lambda xp, x: xp.einsum("...i,...i->...", x[:1], x), (A,)),
    ("einsum_transpose_of_transpose", lambda xp, x: xp.einsum("ji->ij", xp.einsum("ij->ji", x)), (A,)),
    ("gradient", lambda xp, x: xp.gradient(x), (V,)),
    ("gradient_2d", lambda xp, x: xp.gradient(x, 0.5, edge_order=2)[1], (A,)),
    ("gradient_axis", lambda xp, x: xp.gradient(x, axis=1), (C3,)),
    ("gradient_coords", lambda xp, x: xp.gradient(x, np.array([0.0, 0.5, 1.5, 1.7, 3.0]), edge_order=2), (V,)),
    ("gradient_coords_1", lambda xp, x: xp.gradient(x, np.array([0.0, 0.5, 1.5]), axis=0), (A,)),
    ("gradient_uniform_coords", lambda xp, x: xp.gradient(x, np.arange(5.0) * 0.5), (V,)),
    ("rollaxis", lambda xp, x: xp.rollaxis(x, 2, 0), (C3,)),
    ("rollaxis_start", lambda xp, x: xp.rollaxis(x, 0, 3), (C3,)),
    ("dsplit", lambda xp, x: xp.dsplit(x, 2)[1], (C3,)),
    ("hsplit_vsplit", lambda xp, x: xp.hsplit(x, [1])[1].T @ xp.vsplit(x, [2])[0][:, 1:].T, (A,)),
]

# 1: arrays built from traced values (no NumPy twin on traced input: compared
# against NumPy on the plain values of the same expression).
BUILD = [
    ("array_nested", lambda xp, x: xp.array([[x[0], 1.0], [x[1], x[2]]]), (V,)),
    ("array_tuple_mixed", lambda xp, x: xp.asarray([x[:2], np.ones(2), (x[3], 2)]), (V,)),
    ("array_scalars_arrays", lambda xp, x: xp.array([x[0] * x[1], 3, np.float64(0.5)]), (V,)),
    ("array_deep", lambda xp, x: xp.array([[[x[0], x[1]], [1.0, x[2]]], [[x[3], 0.0], x[:2]]]), (V,)),
    ("array_rows_of_matrix", lambda xp, x: xp.array([x[0], x[2], x[1] * 2]), (A,)),
    ("array_ndmin_dtype", lambda xp, x: xp.array([x[0], x[1]], dtype=np.float64, ndmin=3), (V,)),
    ("asanyarray", lambda xp, x: xp.asanyarray((x[0], x[4])), (V,)),
    ("array_of_tracer", lambda xp, x: xp.array(x) + xp.asarray(x), (V,)),
    ("r_", lambda xp, x: xp.r_[x, 0.5, x[:2]], (V,)),
    ("r_slice", lambda xp, x: xp.r_[x[:2], 0:3, x[4]], (V,)),
    ("r_directive", lambda xp, x: xp.r_["0,2", x, x * 2], (V,)),
    ("r_directive_axis", lambda xp, x: xp.r_["-1", x, x], (A,)),
    ("c_", lambda xp, x: xp.c_[x, x[::-1], np.ones(5)], (V,)),
    ("c_matrix", lambda xp, x: xp.c_[x, x[:, :1]], (A,)),
    ("append_list", lambda xp, x: xp.append(x[:2], [x[3], 1.0]), (V,)),
    ("append_both_lists", lambda xp, x: xp.append([x[0]], [x[1], x[2]]), (V,)),
    ("append_axis", lambda xp, x: xp.append(x, [x[0]], axis=0), (A,)),
    ("max_list", lambda xp, x: xp.max([x[0], x[1]]) + xp.min((x[2], x[3], 0.0)), (V,)),
    ("amax_list_axis", lambda xp, x: xp.amax([x[0], x[1] * 2], axis=0), (A,)),
    ("sum_prod_list", lambda xp, x: xp.sum([x[0], x[1]]) * xp.prod([x[2], 2.0]), (V,)),
    ("mean_list", lambda xp, x: xp.mean([x[0], x[1] * 2]), (V,)),
    ("var_std_list", lambda xp, x: xp.var([x[0], x[3]]) + xp.std([[x[0], 1.0], [x[2], x[3]]]), (V,)),
    ("median_list", lambda xp, x: xp.median([x[0], x[1], x[2] + 1]), (V,)),
    ("ptp_average_list", lambda xp, x: xp.ptp([x[0], x[3]]) + xp.average([x[1], x[2]], weights=[1.0, 3.0]), (V,)),
    (
        "pad_traced_constant",
        lambda xp, x: xp.pad(x[:2, :2], ((1, 2), (2, 1)), constant_values=((x[0, 3], x[1, 3]), (x[2, 3], 2.0))),
        (A,),
    ),
    ("pad_traced_scalar_constant", lambda xp, x: xp.pad(x[:2], 1, constant_values=x[2, 0]), (A,)),
]


def _plain(fn, args):
    """NumPy's value of a case: the same expression on plain arrays through ``np``."""
    return fn(np, *args)


def _tree_close(got, want):
    if isinstance(want, tuple):
        for g, w in zip(got, want):
            _tree_close(g, w)
        return
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,fn,args", CASES, ids=[c[0] for c in CASES])
def test_values_and_derivatives(name, fn, args):
    want = _plain(fn, args)
    plain = fn(dnp, *args)  # plain arrays: NumPy's own result, exactly
    if isinstance(want, tuple):
        for p, w in zip(plain, want):
            np.testing.assert_array_equal(p, w)
    else:
        np.testing.assert_array_equal(plain, want)
    got = dr.jvp(lambda *a: fn(dnp, *a), args, tuple(np.zeros_like(a) for a in args))[0]
    _tree_close(got, want)
    dr.testing.check_grads(lambda *a: fn(dnp, *a), *args)


@pytest.mark.parametrize("name,fn,args", BUILD, ids=[c[0] for c in BUILD])
def test_arrays_built_from_traced_values(name, fn, args):
    want = fn(dnp, *args)  # nothing traced: every dnp name here is the NumPy call
    got = dr.jvp(lambda *a: fn(dnp, *a), args, tuple(np.zeros_like(a) for a in args))[0]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    dr.testing.check_grads(lambda *a: fn(dnp, *a), *args)


SECOND_ORDER = [
    ("array_nested", lambda x: dnp.array([[x[0], x[1] ** 2], [x[2], 1.0]]) @ x[:2]),
    ("linspace", lambda x: dnp.linspace(x[0], x[1] ** 2, 4) * x[2]),
    ("interp", lambda x: dnp.interp(x * x, KNOTS, W[[0, 1, 2, 0]])),
    ("convolve", lambda x: dnp.convolve(x, x[:3] ** 2, "same")),
    ("quantile", lambda x: dnp.quantile(x**2, [0.25, 0.5])),
    ("cov", lambda x: dnp.cov(dnp.reshape(x[:4], (2, 2)))),
    ("corrcoef", lambda x: dnp.corrcoef(x, x**3)),
    ("nanvar", lambda x: dnp.nanvar(dnp.where(np.isnan(NAN[0, :]), np.nan, x[:4]))),
    ("pad_reflect", lambda x: dnp.pad(x, 2, mode="reflect") ** 2),
    ("polyval", lambda x: dnp.polyval(x[:3], x[3:])),
    ("gradient", lambda x: dnp.gradient(x**2)),
    ("logsumexp_b", lambda x: dnp.logsumexp(x, b=x**2 + 0.5)),
    ("trapezoid_x", lambda x: dnp.trapezoid(x**2, np.cumsum(POS))),
    ("max_initial", lambda x: dnp.max(x**2, initial=0.1)),
    ("mean_where", lambda x: dnp.mean(x**3, where=V > 0)),
    ("einsum_sublist", lambda x: dnp.einsum(x, [0], x, [1], [1, 0])),
    ("einsum_size1", lambda x: dnp.einsum("ij,ij->i", dnp.reshape(x[:2], (2, 1)), dnp.reshape(x[1:], (2, 2)))),
]


@pytest.mark.parametrize("name,fn", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_second_order(name, fn):
    dr.testing.check_grads(fn, POS, order=2)


def test_np_array_of_traced_values_says_use_dnp_array():
    with pytest.raises(TypeError, match=r"dnp\.array\(\[x, \.\.\.\]\)"):
        dr.grad(lambda x: np.sum(np.array([x[0], x[1]])))(V)
    with pytest.raises(TypeError, match="dnp.stack/dnp.concatenate/dnp.where"):
        dr.grad(lambda x: np.sum(np.asarray(x)))(V)


def test_array_of_traced_values_refuses_integer_dtypes_and_ragged_lists():
    with pytest.raises(TypeError, match="drop their derivative"):
        dr.grad(lambda x: dnp.sum(dnp.array([x[0], x[1]], dtype=int)))(V)
    with pytest.raises(ValueError):
        dr.grad(lambda x: dnp.sum(dnp.array([x[:2], x[:3]])))(V)


def test_unsupported_options_raise_naming_themselves():
    with pytest.raises(NotImplementedError, match="'empty'"):
        dr.grad(lambda x: dnp.sum(dnp.pad(x, 1, mode="empty")))(V)
    with pytest.raises(TypeError, match="'period'"):
        dr.grad(lambda p: dnp.sum(dnp.interp(V, KNOTS, KNOTS, period=p)))(2.0)
    with pytest.raises(NotImplementedError, match="method"):
        dr.grad(lambda x: dnp.quantile(x, 0.5, method="weibull"))(V)
    with pytest.raises(ValueError, match="'initial'"):
        dr.grad(lambda x: dnp.max(x, where=V > 0))(V)
    with pytest.raises(ValueError, match="Quantiles must be in the range"):
        dr.grad(lambda x: dnp.quantile(x, 1.5))(V)


def test_quantile_ties_follow_the_stable_argsort():
    # Tied entries: the derivative of each order statistic goes to one entry.
    x = np.array([1.0, 3.0, 1.0, 2.0])
    g = dr.grad(lambda v: dnp.quantile(v, 0.0))(x)
    np.testing.assert_array_equal(g, [1.0, 0.0, 0.0, 0.0])
    g = dr.grad(lambda v: dnp.median(v))(x)
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.5, 0.5])


def test_nan_quantiles_of_a_slice_of_nans_are_nan():
    x = np.array([[np.nan, np.nan], [1.0, 2.0]])
    got = dr.jvp(lambda v: dnp.nanmedian(v, axis=1), (x,), (np.ones_like(x),))
    np.testing.assert_array_equal(got[0], [np.nan, 1.5])
    np.testing.assert_array_equal(got[1][1], 1.0)


def test_differentiable_name_counts():
    assert len(dnp.DIFFERENTIABLE) >= 175 and len(dnp.linalg.DIFFERENTIABLE) >= 24
