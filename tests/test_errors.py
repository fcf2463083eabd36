"""Bad input gets a clear error that says what was wrong and what to do."""

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp


def test_grad_of_non_scalar_output_points_to_jacobian():
    with pytest.raises(ValueError, match=r"shape \(3,\).*jacobian"):
        dr.grad(lambda x: x * 2)(np.ones(3))
    with pytest.raises(ValueError, match="jacobian"):
        dr.grad(lambda x: (dnp.sum(x), dnp.sum(x)))(np.ones(3))


def test_grad_of_non_float_output_is_a_type_error():
    with pytest.raises(TypeError, match="bool"):
        dr.grad(lambda x: dnp.sum(x) > 0)(np.ones(3))


def test_unknown_mode_and_order():
    with pytest.raises(ValueError, match="unknown mode 'backward'"):
        dr.grad(lambda x: x, mode="backward")
    with pytest.raises(ValueError, match="unknown mode"):
        dr.jacobian(lambda x: x, mode=None)
    with pytest.raises(ValueError, match="unknown order"):
        dr.jacobian(lambda x: x, mode="explicit", order="sideways")
    with pytest.raises(TypeError, match="return_cost must be True or False"):
        dr.jacobian(lambda x: x, mode="reverse", return_cost="yes")


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_primitive_without_rule_names_op_and_mode(mode):
    cube = dr.primitive(lambda x: x**3, name="cube_without_rules")
    with pytest.raises(NotImplementedError, match=rf"cube_without_rules.*{mode} mode"):
        dr.grad(lambda x: cube(x), mode=mode)(2.0)


def test_primitive_with_only_a_jvp_fails_in_reverse_only():
    half = dr.primitive(lambda x: x**3, name="cube_jvp_only")
    dr.defjvp(half, lambda t, ans, x: 3 * x**2 * t)
    assert dr.grad(lambda x: half(x), mode="forward")(2.0) == 12.0
    with pytest.raises(NotImplementedError, match="no VJP rule.*reverse mode"):
        dr.grad(lambda x: half(x), mode="reverse")(2.0)


@pytest.mark.parametrize("bad", ["abc", ["a", "b"], np.array(["x"]), object(), 1 + 2j, True])
def test_non_numeric_inputs_are_type_errors(bad):
    with pytest.raises(TypeError, match="argument 0"):
        dr.grad(lambda x: x)(bad)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_item_assignment_into_traced_array_raises(mode):
    def f(x):
        x[0] = 1.0
        return dnp.sum(x)

    with pytest.raises(TypeError, match="item assignment.*where"):
        dr.grad(f, mode=mode)(np.ones(3))

    def g(x):
        out = np.zeros(3)
        out[0] = x[0]  # NumPy would silently drop the derivative
        return dnp.sum(out)

    # NumPy wraps our TypeError in its own ValueError; ours is the direct cause.
    with pytest.raises((TypeError, ValueError)) as info:
        dr.grad(g, mode=mode)(np.ones(3))
    messages = str(info.value) + str(info.value.__cause__)
    assert "drop its derivative" in messages and "item assignment" in messages


def test_conversions_that_drop_derivatives_raise():
    with pytest.raises(TypeError, match="float"):
        dr.grad(lambda x: float(x))(1.0)
    with pytest.raises(TypeError, match="NumPy array"):
        dr.grad(lambda x: dnp.sum(np.asarray(x)))(np.ones(2))


def test_argnums_errors():
    with pytest.raises(ValueError, match="argnums=2"):
        dr.grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)
    with pytest.raises(TypeError, match="argnums"):
        dr.grad(lambda x: x, argnums="0")(1.0)


def test_escaped_tracer_is_reported():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2

    dr.grad(f)(1.0)
    with pytest.raises(RuntimeError, match="escaped"):
        dnp.sin(leaked[0])


def test_numpy_function_without_rule():
    with pytest.raises(NotImplementedError, match=r"np\.fft.*dr\.primitive|fft.*dr\.primitive"):
        dr.grad(lambda x: dnp.sum(np.fft.fft(x).real))(np.ones(4))


def test_has_aux_needs_a_pair():
    with pytest.raises(TypeError, match="pair"):
        dr.grad(lambda x: x, has_aux=True)(1.0)
