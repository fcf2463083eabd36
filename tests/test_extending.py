"""A user-defined primitive works in every mode and nested, as DESIGN.md promises."""

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp


@dr.primitive
def softplus(x, *, beta=1.0):
    return np.logaddexp(0.0, beta * x) / beta


dr.defjvp(softplus, lambda t, ans, x, *, beta=1.0: t * dnp.sigmoid(beta * x))
dr.defvjp(softplus, lambda g, ans, x, *, beta=1.0: g * dnp.sigmoid(beta * x))


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_user_primitive_first_order(mode, rng):
    x = rng.standard_normal(4)
    g = dr.grad(lambda x: dnp.sum(softplus(x, beta=2.0)), mode=mode)(x)
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-2 * x)), rtol=1e-12)


def test_user_primitive_every_mode_and_second_order(rng):
    x = rng.standard_normal(3)
    dr.testing.check_grads(lambda x: softplus(x, beta=0.5) * x, x)
    dr.testing.check_grads(lambda x: dnp.sum(softplus(x)), x, order=2, modes=("forward", "reverse"))
    H = dr.hessian(lambda x: dnp.sum(softplus(x)))(x)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(H, np.diag(s * (1 - s)), rtol=1e-10, atol=1e-14)


def test_rule_without_batch_support_is_looped():
    calls = []

    @dr.primitive
    def scaled(x, c):
        return x * c

    def jvp_single(t, ans, x, c):
        calls.append(np.shape(t))
        assert np.shape(t) == np.shape(x), "batched=False rules see one direction at a time"
        return t * c

    dr.defjvp(scaled, jvp_single, None, batched=False)
    dr.defvjp(scaled, lambda g, ans, x, c: g * c, None, batched=False)
    x = np.arange(3.0)
    J = dr.jacobian(lambda x: scaled(x, 2.0), mode="forward")(x)
    np.testing.assert_array_equal(J, 2 * np.eye(3))
    assert calls == [(3,)] * 3
    np.testing.assert_array_equal(dr.jacobian(lambda x: scaled(x, 2.0), mode="reverse")(x), 2 * np.eye(3))
    # None marks the second argument as never differentiated: a traced float there is an error, not a zero
    with pytest.raises(ValueError, match="never differentiated"):
        dr.grad(lambda c: dnp.sum(scaled(x, c)))(1.0)


def test_deflinear_needs_only_the_transpose(rng):
    @dr.primitive
    def reverse_rows(x):
        return x[..., ::-1]

    dr.deflinear(reverse_rows, lambda g, ans, x: reverse_rows(g))
    x = rng.standard_normal(4)
    dr.testing.check_grads(lambda x: reverse_rows(x) * x, x, modes=("forward", "reverse"))


def test_rules_receive_keyword_arguments():
    got = {}

    @dr.primitive
    def shift(x, *, by):
        return x + by

    def rule(t, ans, x, *, by):
        got["by"] = by
        return t

    dr.defjvp(shift, rule)
    dr.defvjp(shift, lambda g, ans, x, *, by: g)
    dr.grad(lambda x: shift(x, by=3.0), mode="forward")(1.0)
    assert got == {"by": 3.0}


def test_defjvp_rejects_non_primitives():
    with pytest.raises(TypeError, match="Primitive"):
        dr.defjvp(np.sin, lambda t, ans, x: t)
