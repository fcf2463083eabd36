"""Drop-in interop: plain NumPy calls, operators and methods on traced values
land on the registry; names without derivatives pass through; what cannot be
differentiated fails loudly with a hint."""

import numpy as np
import pytest
import scipy.special

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.numpy.array_interface import FUNCTIONS, UFUNCS
from dualrev.scipy.special import ORDER_FIRST

MODES = ("forward", "reverse")
rng = np.random.default_rng(0)
X = rng.uniform(0.2, 0.8, (3, 4))  # inside every unary ufunc's domain (arccosh: shifted)
Y = rng.uniform(0.5, 1.5, (3, 4))


def _same_grads(np_fn, dnp_fn, x):
    """The np.* spelling and the dualrev.numpy spelling agree in value and in
    every mode, and both match finite differences."""
    np.testing.assert_allclose(dr.jvp(np_fn, (x,), (np.zeros_like(x),))[0], dnp_fn(x), rtol=1e-12)
    for mode in MODES:
        np.testing.assert_allclose(
            dr.jacobian(np_fn, mode=mode)(x), dr.jacobian(dnp_fn, mode=mode)(x), rtol=1e-12, atol=1e-14
        )
    dr.testing.check_grads(np_fn, x, modes=MODES)


# ------------------------------------------------------------ __array_ufunc__

UNARY = [u for u in UFUNCS if u.nin == 1]
BINARY = [u for u in UFUNCS if u.nin == 2 and u is not np.matmul and u not in ORDER_FIRST]  # matmul: see NP_CALLS
ORDERED = [u for u in ORDER_FIRST if u.nin == 2]  # the order / shape first: traced in the second argument only


@pytest.mark.parametrize("ufunc", UNARY, ids=lambda u: u.__name__)
def test_unary_ufunc_dispatch(ufunc):
    x = X + 1.5 if ufunc is np.arccosh else -X if ufunc is scipy.special.ndtri_exp else X
    _same_grads(lambda v: ufunc(v), UFUNCS[ufunc], x)


@pytest.mark.parametrize("ufunc", BINARY, ids=lambda u: u.__name__)
def test_binary_ufunc_dispatch_both_sides(ufunc):
    _same_grads(lambda v: ufunc(v, Y), lambda v: UFUNCS[ufunc](v, Y), X)
    _same_grads(lambda v: ufunc(Y, v), lambda v: UFUNCS[ufunc](Y, v), X)


@pytest.mark.parametrize("ufunc", ORDERED, ids=lambda u: u.__name__)
def test_ufuncs_of_an_order_dispatch_in_the_last_argument(ufunc):
    _same_grads(lambda v: ufunc(Y, v), lambda v: UFUNCS[ufunc](Y, v), X)


def test_every_math_ufunc_of_the_issue_dispatches():
    names = """sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh exp exp2
    expm1 log log2 log10 log1p sqrt cbrt square reciprocal power float_power absolute fabs
    sign floor ceil rint trunc maximum minimum fmax fmin hypot arctan2 logaddexp logaddexp2
    deg2rad rad2deg mod fmod remainder true_divide""".split()
    for name in names:
        assert getattr(np, name) in UFUNCS, name


def test_scipy_special_ufuncs_dispatch():
    def f(v):
        return (
            scipy.special.expit(v) + scipy.special.erf(v) + scipy.special.gammaln(v)
            + scipy.special.psi(v) + scipy.special.logit(v) + scipy.special.erfc(v)
        )

    dr.testing.check_grads(f, X, modes=MODES)
    dr.testing.check_grads(f, X[0], modes=MODES, order=2)


def test_ufunc_reduce_and_accumulate():
    dr.testing.check_grads(lambda v: np.add.reduce(v, axis=0) + np.maximum.reduce(v, axis=0), X, modes=MODES)
    dr.testing.check_grads(lambda v: np.add.accumulate(v) * np.multiply.accumulate(v, axis=1), X, modes=MODES)


# ---------------------------------------------------------- __array_function__

NP_CALLS = {
    "sum_axis": lambda v: np.sum(v, axis=0),
    "mean_keepdims": lambda v: np.mean(v, axis=1, keepdims=True),
    "std_var": lambda v: np.std(v, axis=0, ddof=1) + np.var(v),
    "max_min": lambda v: np.max(v, axis=1) - np.amin(v),
    "prod": lambda v: np.prod(v, axis=1),
    "cumsum": lambda v: np.cumsum(v, axis=1),
    "concatenate": lambda v: np.concatenate([Y, v], axis=1),
    "stack": lambda v: np.stack([v, Y, v]),
    "hstack_vstack": lambda v: np.vstack([np.hstack([v, Y]), np.hstack([Y, v])]),
    "reshape_transpose": lambda v: np.transpose(np.reshape(v, (4, 3))),
    "moveaxis_expand": lambda v: np.moveaxis(np.expand_dims(v, 0), 0, -1),
    "where": lambda v: np.where(v > 0.5, v, Y),
    "clip": lambda v: np.clip(v, 0.3, 0.6),
    "sort": lambda v: np.sort(v, axis=0),
    "dot": lambda v: np.dot(v, Y.T),
    "matmul_op_left": lambda v: Y.T @ v,
    "matmul_op_right": lambda v: v @ Y.T,
    "einsum": lambda v: np.einsum("ij,kj->ik", v, Y),
    "tensordot": lambda v: np.tensordot(v, Y, axes=2),
    "outer_kron": lambda v: np.outer(v[0], Y[0]) + np.kron(v[:1, :2], Y[:2, :1]).sum(),
    "trace_diag": lambda v: np.trace(v) + np.diag(v).sum() + np.diagonal(v, 1),
    "tri": lambda v: np.triu(v) - np.tril(v, -1),
    "flip_roll": lambda v: np.flip(np.roll(v, 1, axis=1), axis=0),
    "pad_tile": lambda v: np.tile(np.pad(v, 1), (1, 2)),
    "split": lambda v: np.split(v, 2, axis=1)[1],
    "take": lambda v: np.take(v, [0, 2], axis=1) + np.take_along_axis(v, np.argsort(Y, 1), 1)[:, :2],
    "linalg": lambda v: np.linalg.inv(v[:, :3] + 3 * np.eye(3)) + np.linalg.det(v[:, :3] + np.eye(3)),
    "linalg_solve_norm": lambda v: np.linalg.solve(v[:, 1:] + 2 * np.eye(3), v[:, 0]) * np.linalg.norm(v),
    "linalg_slogdet": lambda v: np.linalg.slogdet(v[:, :3] + 2 * np.eye(3))[1],
    "nan_functions": lambda v: np.nansum(v, axis=0) + np.nanmean(v) + np.average(v, axis=1, weights=Y[0]).sum(),
    "logaddexp_hypot": lambda v: np.logaddexp(v, Y) + np.hypot(v, Y),
    "atleast": lambda v: np.atleast_3d(v[0]),
    "diff": lambda v: np.diff(v, axis=1),
}


@pytest.mark.parametrize("name", list(NP_CALLS))
def test_numpy_function_dispatch(name):
    fn = NP_CALLS[name]
    np.testing.assert_allclose(dr.jvp(fn, (X,), (np.zeros_like(X),))[0], fn(X), rtol=1e-12, atol=1e-14)
    dr.testing.check_grads(fn, X, modes=MODES)


def test_functions_map_covers_the_differentiable_names():
    for name in dnp.DIFFERENTIABLE:
        np_fn = getattr(np, name, None)
        if callable(np_fn) and not isinstance(np_fn, np.ufunc):
            assert FUNCTIONS[np_fn] is getattr(dnp, name), name
    for name in dnp.linalg.DIFFERENTIABLE:
        assert FUNCTIONS[getattr(np.linalg, name)] is getattr(dnp.linalg, name), name


def test_inspection_functions_see_the_value():
    def f(v):
        assert np.shape(v) == (3, 4) and np.ndim(v) == 2 and np.size(v) == 12
        assert np.argmax(v) == np.argmax(X) and np.allclose(v, X)
        assert np.linalg.matrix_rank(v) == 3
        return np.sum(v)

    dr.grad(f)(X)


# ------------------------------------------------------------------- methods

METHODS = {
    "sum": lambda v: v.sum(),
    "sum_axis": lambda v: v.sum(axis=0, keepdims=True),
    "mean": lambda v: v.mean(axis=1),
    "max": lambda v: v.max(),
    "min": lambda v: v.min(axis=0),
    "prod": lambda v: v.prod(axis=1),
    "reshape_args": lambda v: v.reshape(4, 3),
    "reshape_tuple": lambda v: v.reshape((2, -1)),
    "ravel": lambda v: v.ravel(),
    "flatten": lambda v: v.flatten(),
    "squeeze": lambda v: v[:1].squeeze(),
    "transpose": lambda v: v.transpose() + v.T.T.T,
    "swapaxes": lambda v: v.swapaxes(0, 1),
    "mT": lambda v: v.mT,
    "astype": lambda v: v.astype(np.float64),
    "dot": lambda v: v.dot(Y.T),
    "clip": lambda v: v.clip(0.3, 0.6),
    "std": lambda v: v.std(axis=0),
    "var": lambda v: v.var(ddof=1),
    "cumsum": lambda v: v.cumsum(axis=1),
    "cumprod": lambda v: v.cumprod(),
    "trace": lambda v: v.trace(),
    "diagonal": lambda v: v.diagonal(1),
    "repeat": lambda v: v.repeat(2, axis=0),
    "take": lambda v: v.take([1, 3], axis=1),
    "round": lambda v: v.round(1) + v,
    "copy": lambda v: v.copy(),
    "conj_real": lambda v: v.conj() + v.real + v.imag,
    "operators": lambda v: (2 - v) * (v / 3) ** 2 + (-v) % 0.3 + abs(v - 0.5) + (Y @ v.T).sum(),
}


@pytest.mark.parametrize("name", list(METHODS))
def test_array_methods(name):
    fn = METHODS[name]
    np.testing.assert_allclose(dr.jvp(fn, (X,), (np.zeros_like(X),))[0], fn(X), rtol=1e-12, atol=1e-14)
    dr.testing.check_grads(fn, X, modes=MODES)


def test_astype_float32_keeps_the_derivative():
    g = dr.grad(lambda v: v.astype(np.float32).sum())(X)
    np.testing.assert_allclose(g, np.ones_like(X))


def test_value_methods_run_on_the_value():
    def f(v):
        assert v.argmax() == X.argmax() and v.argmin(axis=0).tolist() == X.argmin(axis=0).tolist()
        assert v.any() and v.all() and len(v.nonzero()[0]) == 12
        assert (v > 0.5).tolist() == (X > 0.5).tolist()  # comparisons give plain booleans
        return v.sum()

    for mode in MODES:
        dr.grad(f, mode=mode)(X)


# --------------------------------------------------------------- pass-through

PASS_THROUGH = """zeros ones empty full arange eye identity zeros_like ones_like float64
float32 int64 bool_ ndarray dtype pi e inf nan newaxis random allclose isclose array_equal
isnan isfinite argmax argsort argmin nonzero count_nonzero searchsorted unique
meshgrid finfo iinfo errstate set_printoptions testing fft polynomial""".split()


@pytest.mark.parametrize("name", PASS_THROUGH)
def test_non_differentiable_names_pass_through(name):
    assert getattr(dnp, name) is getattr(np, name)


def test_every_numpy_name_exists_in_dualrev_numpy():
    missing = [name for name in np.__all__ if not hasattr(dnp, name)]
    assert not missing, missing


def test_linalg_pass_through_and_overrides():
    assert dnp.linalg.LinAlgError is np.linalg.LinAlgError
    for name in ("eig", "eigvals", "lstsq", "matrix_rank", "cond", "tensorsolve"):
        assert getattr(dnp.linalg, name) is getattr(np.linalg, name)
    for name in ("inv", "solve", "det", "slogdet", "cholesky", "norm", "eigh", "svd", "pinv", "qr"):
        assert getattr(dnp.linalg, name) is not getattr(np.linalg, name)


def test_plain_arrays_go_straight_to_numpy():
    assert isinstance(dnp.linalg.inv(np.eye(2)), np.ndarray)
    np.testing.assert_array_equal(dnp.sort(X, axis=0), np.sort(X, axis=0))
    assert dnp.einsum("ii", np.eye(3)) == 3.0
    import dualrev.scipy.special as dsp

    np.testing.assert_allclose(dsp.expit(X), scipy.special.expit(X))
    np.testing.assert_allclose(dsp.logsumexp(X, axis=0), scipy.special.logsumexp(X, axis=0))
    assert dsp.zeta is scipy.special.zeta  # the rest of scipy.special passes through


def test_dualrev_scipy_special_functions():
    import dualrev.scipy.special as dsp

    def f(v):
        return (
            dsp.expit(v).sum() + dsp.logit(v).sum() + dsp.erf(v).sum() + dsp.gammaln(v).sum()
            + dsp.digamma(v).sum() + dsp.polygamma(1, v).sum() + dsp.logsumexp(v, axis=1).sum()
            + dsp.softmax(v, axis=0)[0].sum() + dsp.log_softmax(v).sum()
        )

    dr.testing.check_grads(f, X, modes=MODES)
    dr.testing.check_grads(f, X[:2, :2], modes=MODES, order=2)


# -------------------------------------------------------------------- errors


@pytest.mark.parametrize("mode", MODES)
def test_function_without_rule_names_it_and_suggests_a_primitive(mode):
    with pytest.raises(NotImplementedError, match=r"np\.ediff1d .*dr\.primitive"):
        dr.grad(lambda v: np.ediff1d(v).sum(), mode=mode)(X[0])
    with pytest.raises(NotImplementedError, match=r"np\.linalg\.eig .*dr\.primitive"):
        dr.grad(lambda v: np.linalg.eig(v[:, :3])[0].sum(), mode=mode)(X)
    with pytest.raises(NotImplementedError, match=r"np\.spacing .*dr\.primitive"):
        dr.grad(lambda v: np.spacing(v).sum(), mode=mode)(X)


@pytest.mark.parametrize("mode", MODES)
def test_in_place_writes_raise_type_errors_with_a_hint(mode):
    def assign(v):
        v[0, 0] = 1.0
        return v.sum()

    with pytest.raises(TypeError, match="item assignment.*where"):
        dr.grad(assign, mode=mode)(X)
    with pytest.raises(TypeError, match="in place.*np.sort"):
        dr.grad(lambda v: v.sort(), mode=mode)(X)
    with pytest.raises(TypeError, match="out="):
        dr.grad(lambda v: np.sin(v, out=np.empty_like(X)).sum(), mode=mode)(X)
    with pytest.raises(TypeError, match="drop its derivative"):
        dr.grad(lambda v: np.asarray(v).sum(), mode=mode)(X)


def test_kink_conventions():
    """The documented derivative at each kink and tie (DESIGN.md, module docstrings)."""
    g = lambda f, x, mode="reverse": dr.grad(f, mode=mode)(np.asarray(x, dtype=float))  # noqa: E731
    for mode in MODES:
        assert g(lambda v: np.abs(v).sum(), [0.0], mode)[0] == 0.0
        assert g(lambda v: np.fabs(v).sum(), [0.0], mode)[0] == 0.0
        for fn in (np.sign, np.floor, np.ceil, np.round, np.rint, np.trunc):
            assert g(lambda v: fn(v).sum(), [1.0, 0.5, 0.0], mode).tolist() == [0.0, 0.0, 0.0]
        assert g(lambda v: np.maximum(v, v[::-1]).sum(), [1.0, 1.0], mode).tolist() == [1.0, 1.0]
        assert g(lambda v: np.max(v), [2.0, 2.0, 1.0], mode).tolist() == [0.5, 0.5, 0.0]
        assert g(lambda v: np.min(v), [1.0, 3.0, 1.0], mode).tolist() == [0.5, 0.0, 0.5]
        assert g(lambda v: np.fmax(v[0], v[1]), [1.0, 1.0], mode).tolist() == [0.5, 0.5]
        assert g(lambda v: np.fmin(v[0], np.nan), [1.0], mode).tolist() == [1.0]
        assert g(lambda v: np.nan_to_num(v).sum(), [np.inf, 1.0, np.nan], mode).tolist() == [0.0, 1.0, 0.0]
        assert g(lambda v: v[0] ** 0.0, [0.0], mode).tolist() == [0.0]
        assert g(lambda v: 0.0 ** v[0], [2.0], mode).tolist() == [0.0]
        assert g(lambda v: np.linalg.norm(v), [0.0, 0.0], mode).tolist() == [0.0, 0.0]
        assert g(lambda v: np.hypot(v[0], v[1]), [0.0, 0.0], mode).tolist() == [0.0, 0.0]
        assert g(lambda v: np.arctan2(v[0], v[1]), [0.0, 0.0], mode).tolist() == [0.0, 0.0]
        assert g(lambda v: np.std(v), [1.0, 1.0], mode).tolist() == [0.0, 0.0]
        assert g(lambda v: np.sinc(v).sum(), [0.0], mode).tolist() == [0.0]
        assert g(lambda v: np.clip(v, 0.0, 1.0).sum(), [0.0, 0.5, 2.0], mode).tolist() == [0.5, 1.0, 0.0]
        # mod: d/dx = 1 and d/dy = −floor(x/y) on both sides of a jump, taken at the branch NumPy returns
        assert g(lambda v: np.mod(v[0], v[1]), [3.0, 2.0], mode).tolist() == [1.0, -1.0]
        assert g(lambda v: np.fmod(v[0], v[1]), [-3.0, 2.0], mode).tolist() == [1.0, 1.0]
        # sort ties: each output takes the derivative of the entry the stable argsort put there
        assert g(lambda v: np.sort(v)[0] * 2 + np.sort(v)[1], [1.0, 1.0], mode).tolist() == [2.0, 1.0]
        # prod and cumprod with a zero entry: the product of the other entries
        assert g(lambda v: np.prod(v), [0.0, 2.0, 3.0], mode).tolist() == [6.0, 0.0, 0.0]
        assert g(lambda v: np.cumprod(v)[-1], [2.0, 0.0, 3.0], mode).tolist() == [0.0, 6.0, 0.0]
