"""Documented conventions at non-differentiable points, and tracers behaving like arrays."""

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp

MODES = ("forward", "reverse")


@pytest.mark.parametrize("mode", MODES)
def test_kinks(mode):
    d = lambda f, x: dr.grad(f, mode=mode)(x)  # noqa: E731
    assert d(dnp.relu, 0.0) == 0.0  # relu'(0) = 0
    assert d(dnp.abs, 0.0) == 0.0  # abs'(0) = 0
    for f in (dnp.sign, dnp.floor, dnp.ceil, dnp.round, dnp.rint, dnp.trunc):
        assert d(f, 0.7) == 0.0
    # ties share the derivative with weights summing to 1
    assert d(lambda x: dnp.maximum(x, 1.0), 1.0) == 0.5
    assert d(lambda x: dnp.minimum(x, x), 3.0) == 1.0
    g = dr.grad(lambda x: dnp.max(x), mode=mode)(np.array([1.0, 3.0, 3.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5, 0.0])
    g = dr.grad(lambda x: dnp.sum(dnp.min(x, axis=1)), mode=mode)(np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 3.0]]))
    np.testing.assert_allclose(g, [[1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0]])
    # clip = minimum(maximum(x, lo), hi): 1 inside, 0 outside, 1/2 on a bound
    np.testing.assert_array_equal(
        dr.grad(lambda x: dnp.sum(dnp.clip(x, 0.0, 1.0)), mode=mode)(np.array([-1.0, 0.0, 0.5, 1.0, 2.0])),
        [0.0, 0.5, 1.0, 0.5, 0.0],
    )


@pytest.mark.parametrize("mode", MODES)
def test_power_conventions(mode):
    # x**0 has derivative 0 in x, also at x = 0 (never 0 * inf = NaN)
    assert dr.grad(lambda x: x**0.0, mode=mode)(0.0) == 0.0
    assert dr.grad(lambda x, y: x**y, argnums=0, mode=mode)(0.0, 0.0) == 0.0
    # 0**y has derivative 0 in y (never log(0) * 0 = NaN)
    assert dr.grad(lambda x, y: x**y, argnums=1, mode=mode)(0.0, 2.0) == 0.0
    np.testing.assert_array_equal(
        dr.grad(lambda y: dnp.sum(np.array([0.0, 2.0]) ** y), mode=mode)(np.array([0.0, 1.0])),
        [0.0, np.log(2.0) * 2.0],
    )
    assert dr.grad(lambda x: x**2, mode=mode)(0.0) == 0.0
    assert dr.grad(lambda x: x**3, mode=mode)(-2.0) == 12.0


@pytest.mark.parametrize("mode", MODES)
def test_prod_with_zeros(mode):
    x = np.array([2.0, 0.0, 3.0])
    np.testing.assert_array_equal(dr.grad(dnp.prod, mode=mode)(x), [0.0, 6.0, 0.0])
    x2 = np.array([0.0, 0.0, 3.0])
    np.testing.assert_array_equal(dr.grad(dnp.prod, mode=mode)(x2), [0.0, 0.0, 0.0])


def test_traced_values_behave_like_arrays():
    seen = {}

    def f(x):
        seen["shape"], seen["ndim"], seen["size"], seen["dtype"], seen["len"] = x.shape, x.ndim, x.size, x.dtype, len(x)
        seen["T"] = x.T.shape
        seen["cmp"] = x > 0
        seen["np_sin"] = dr.is_traced(np.sin(x))
        seen["np_sum"] = dr.is_traced(np.sum(x, axis=0))
        seen["rmatmul"] = dr.is_traced(np.ones((2, 2)) @ x)
        seen["iter"] = [dr.is_traced(row) for row in x]
        return dnp.sum(x.reshape(-1) * 2) + x.sum() + x.mean(axis=0).sum() + x.max() + x.T.dot(x).sum()

    x = np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -0.1]])
    for mode in MODES:
        dr.grad(f, mode=mode)(x)
        assert seen["shape"] == (2, 3) and seen["ndim"] == 2 and seen["size"] == 6 and seen["len"] == 2
        assert seen["dtype"] == np.float64 and seen["T"] == (3, 2)
        assert type(seen["cmp"]) is np.ndarray and seen["cmp"].dtype == bool
        assert seen["np_sin"] and seen["np_sum"] and seen["rmatmul"] and seen["iter"] == [True, True]
    dr.testing.check_grads(f, x, modes=MODES)


@pytest.mark.parametrize("mode", MODES)
def test_reflected_operators_and_broadcasting(mode, rng):
    x = rng.standard_normal((2, 3))
    c = rng.standard_normal(3)

    def f(x):
        return dnp.sum(2.0 - x) + dnp.sum(c / (2 + x**2)) + dnp.sum(3.0 * x + c) + dnp.sum(c**2 * x) + dnp.sum(-x @ c)

    dr.testing.check_grads(f, x, modes=MODES)


def test_is_traced_and_concrete():
    assert not dr.is_traced(np.ones(2))
    checked = []

    def f(x):
        checked.append(dr.is_traced(x))
        assert isinstance(dr.concrete(x), np.ndarray)
        return dnp.sum(x)

    dr.grad(f)(np.ones(2))
    assert checked == [True]


def test_dnp_on_plain_arrays_is_numpy():
    x = np.linspace(-1, 1, 5)
    assert type(dnp.sin(x)) is np.ndarray
    np.testing.assert_array_equal(dnp.tanh(x), np.tanh(x))
    np.testing.assert_array_equal(dnp.sum(x, axis=0, keepdims=True), np.sum(x, axis=0, keepdims=True))
    assert dnp.zeros is np.zeros and dnp.float64 is np.float64 and dnp.allclose is np.allclose
    # elementwise entry points call NumPy directly; the primitive sits behind them
    assert isinstance(dnp.sin.primitive, dr.Primitive) and dnp.sin.primitive in dnp.PRIMITIVES
    assert dnp.abs is dnp.absolute
    np.testing.assert_array_equal(dnp.add(x, 1.0), x + 1.0)
    with pytest.raises(TypeError, match="positional"):
        dnp.sin(x=x)


def test_rule_helpers_accept_entry_points():
    """dr.defjvp(dnp.sin, ...) registers on the primitive behind the entry point."""
    import dualrev.define as core

    prim = dnp.tanh.primitive
    assert core._check_prim(dnp.tanh, "test") is prim
    with pytest.raises(TypeError, match="Primitive"):
        core._check_prim(np.tanh, "test")
