"""Issue 13's leftovers: what the generated surface page (docs/api-surface.md)
found, and the options that are either supported or refused by name."""

import numpy as np
import pytest
import scipy.linalg

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.scipy import linalg

RNG = np.random.default_rng(13)
X = RNG.standard_normal((2, 6))
AW = RNG.uniform(0.5, 2.0, 6)
FW = np.array([1, 2, 1, 3, 1, 2])


@pytest.mark.parametrize("kwargs", [{}, {"ddof": 0}, {"bias": True}, {"fweights": FW}])
def test_cov_is_differentiable_in_aweights(kwargs):
    # It used to read the plain value of aweights: a silent zero derivative.
    assert np.allclose(dnp.cov(X, aweights=AW, **kwargs), np.cov(X, aweights=AW, **kwargs))
    dr.testing.check_grads(lambda w: dnp.cov(X, aweights=w, **kwargs), AW)
    dr.testing.check_grads(lambda x: dnp.cov(x, aweights=AW, **kwargs), X)


def test_cov_refuses_traced_fweights():
    with pytest.raises(TypeError, match="fweights"):
        dr.grad(lambda w: dnp.sum(dnp.cov(X, fweights=w)))(FW.astype(float))


def test_scipy_eigh_of_a_traced_matrix_has_scipys_eigenvector_signs():
    a = RNG.standard_normal((4, 4))
    a = a + a.T
    for lower in (True, False):
        w, v = dr.jvp(lambda m: linalg.eigh(m, lower=lower), (a,), (np.eye(4),))[0]
        want_w, want_v = scipy.linalg.eigh(a, lower=lower)
        assert np.allclose(w, want_w) and np.allclose(v, want_v)
    dr.testing.check_grads(lambda m: linalg.eigh(m + m.T)[1] ** 2, a)  # signs are arbitrary: squares


A = RNG.standard_normal((3, 4))
PADS = [(2, {}), (((1, 2), (0, 3)), {}), (((1, 2), (2, 1)), {"stat_length": 2}),
        (((1, 0), (2, 1)), {"stat_length": ((1, 2), (3, 1))}), (1, {"stat_length": 10})]  # fmt: skip
RAMPS = [(2, {}), (((1, 2), (0, 3)), {"end_values": 1.5}), (((1, 2), (2, 1)), {"end_values": ((1, 2), (3, -1))})]


@pytest.mark.parametrize(
    "mode, width, kwargs",
    [(m, w, k) for m in ("maximum", "minimum", "mean", "median") for w, k in PADS]
    + [("linear_ramp", w, k) for w, k in RAMPS],
)
def test_pad_statistic_and_ramp_modes(mode, width, kwargs):
    def f(x):
        return dnp.pad(x, width, mode=mode, **kwargs)

    got = dr.jvp(f, (A,), (np.ones_like(A),))[0]
    assert np.allclose(got, np.pad(A, width, mode=mode, **kwargs))
    dr.testing.check_grads(f, A)


def test_pad_modes_second_order_and_traced_end_values():
    dr.testing.check_grads(lambda x: dnp.pad(x, 2, mode="mean") ** 2, A, order=2, modes=("forward", "reverse"))
    ends = np.array([[1.0, 2.0], [3.0, -1.0]])
    dr.testing.check_grads(lambda e: dnp.pad(A, ((1, 2), (2, 1)), mode="linear_ramp", end_values=e), ends)


def test_pad_refuses_what_it_cannot_do_by_name():
    with pytest.raises(NotImplementedError, match="'empty'.*'linear_ramp'"):
        dr.grad(lambda x: dnp.sum(dnp.pad(x, 1, mode="empty")))(A)
    with pytest.raises(ValueError, match="stat_length of 0"):
        dr.grad(lambda x: dnp.sum(dnp.pad(x, 1, mode="maximum", stat_length=0)))(A)
    with pytest.raises(ValueError, match="empty axis"):
        dr.grad(lambda x: dnp.sum(dnp.pad(x, 1, mode="mean")))(np.zeros((0, 2)))


@pytest.mark.parametrize("period", [360, -360.0])
def test_interp_with_a_period(period):
    x = RNG.uniform(-400, 400, 7)
    xp, fp = np.array([190.0, -190, 350, -350]), np.array([5.0, 10, 3, 4])
    got = dr.jvp(lambda a: dnp.interp(a, xp, fp, period=period), (x,), (np.ones(7),))[0]
    assert np.allclose(got, np.interp(x, xp, fp, period=period))
    dr.testing.check_grads(lambda a: dnp.interp(a, xp, fp, period=period), x)
    dr.testing.check_grads(lambda p, f: dnp.interp(x, p, f, period=period), xp, fp)
    with pytest.raises(TypeError, match="'period'"):
        dr.grad(lambda p: dnp.sum(dnp.interp(x, xp, fp, period=p)))(360.0)
    with pytest.raises(ValueError, match="non-zero"):
        dr.grad(lambda a: dnp.sum(dnp.interp(a, xp, fp, period=0)))(x)


def test_r_c_matrix_directives_and_weighted_quantiles_raise_naming_them():
    v = np.array([0.3, 0.5, 0.9])
    for concat, directive in ((dnp.r_, "r"), (dnp.c_, "c"), (dnp.r_, "c")):
        with pytest.raises(NotImplementedError, match=f"directive '{directive}'"):
            dr.grad(lambda x, concat=concat, directive=directive: dnp.sum(concat[directive, x, x]))(v)
    for directive in ("0,2,1", "0,2,0", "1,2,0", "-1,3,0"):  # the numeric directives are NumPy's
        out, tangent = dr.jvp(lambda x, d=directive: dnp.r_[d, x, 2 * x], (v,), (np.ones(3),))
        assert np.allclose(out, np.r_[directive, v, 2 * v])
        assert np.allclose(tangent, np.r_[directive, np.ones(3), np.full(3, 2.0)])
    for fn in (dnp.quantile, dnp.nanquantile):
        with pytest.raises(TypeError, match="weights"):
            dr.grad(lambda x, fn=fn: fn(x, 0.5, weights=np.ones(3), method="inverted_cdf"))(v)
    with pytest.raises(NotImplementedError, match="inverted_cdf"):
        dr.grad(lambda x: dnp.quantile(x, 0.5, method="inverted_cdf"))(v)
