"""Trust at the edges: what user code hands to dualrev is checked where it enters.

* user rules' results (shape ``batch + value.shape``, a float dtype), every mode;
* ``None`` rules: booleans and integers pass, a traced float is an error;
* the directions of every transformation (``jvp``, ``vjp``, ``hvp`` in every
  mode pair), and tuples where tuples are expected;
* a traced value of a finished transformation: escaped, or closed over.
"""

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp

X = np.array([0.5, -1.0, 2.0])
MODES = ("forward", "reverse", "explicit")
PAIRS = [(o, i) for o in MODES for i in MODES]


def _cube(jvp=None, vjp=None, batched=True):
    """A user primitive x**3 with the given (possibly wrong) rules; correct ones by default."""

    @dr.primitive
    def cube(x):
        return x**3

    dr.defjvp(cube, jvp or (lambda t, ans, x: 3 * x**2 * t), batched=batched)
    dr.defvjp(cube, vjp or (lambda g, ans, x: 3 * x**2 * g), batched=batched)
    return cube


def _loss(prim):
    return lambda x: dnp.sum(prim(x))


# --------------------------------------------------------------------------
# Trusted and untrusted primitives
# --------------------------------------------------------------------------


def test_builtins_are_trusted_user_primitives_are_not():
    assert all(p.trusted for p in dnp.PRIMITIVES)
    assert not _cube().trusted


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("batched", [True, False])
def test_correct_user_rules_pass_everywhere(mode, batched):
    cube = _cube(batched=batched)
    np.testing.assert_allclose(dr.grad(_loss(cube), mode=mode)(X), 3 * X**2)
    np.testing.assert_allclose(dr.jacobian(cube, mode=mode)(X), np.diag(3 * X**2))
    np.testing.assert_allclose(dr.hessian(_loss(cube), mode=(mode, mode))(X), np.diag(6 * X), atol=1e-12)


# --------------------------------------------------------------------------
# Rule results: shape
# --------------------------------------------------------------------------

SCALAR_JVP = lambda t, ans, x: dnp.sum(3 * x**2 * t)  # noqa: E731  # drops the shape
SCALAR_VJP = lambda g, ans, x: dnp.sum(3 * x**2 * g)  # noqa: E731


def test_wrong_jvp_shape_forward():
    with pytest.raises(
        ValueError,
        match=r"JVP rule of primitive 'cube' for argument 0 \(forward mode\).*shape "
        r"\(\), but \(3,\) was expected",
    ):
        dr.jvp(_cube(jvp=SCALAR_JVP), (X,), (np.ones(3),))


def test_wrong_jvp_shape_forward_batched():
    # the rule ignores the batch axis: (3,) where (3, 3) = batch (3,) + (3,) was expected
    cube = _cube(jvp=lambda t, ans, x: 3 * x**2 * t[0])
    with pytest.raises(
        ValueError,
        match=r"forward mode\).*shape \(3,\), but \(3, 3\) was expected.*batch of "
        r"directions \(3,\)",
    ):
        dr.jacobian(cube, mode="forward")(X)
    with pytest.raises(ValueError, match=r"shape \(3,\), but \(2, 3\) was expected"):
        dr.jvp(cube, (X,), (np.ones((2, 3)),), batched=True)


def test_wrong_jvp_shape_forward_unbatched_rule():
    cube = _cube(jvp=SCALAR_JVP, batched=False)
    with pytest.raises(
        ValueError,
        match=r"'cube' for argument 0 \(forward mode\).*shape \(\), but \(3,\) was "
        r"expected",
    ):
        dr.jacobian(cube, mode="forward")(X)


def test_wrong_vjp_shape_reverse():
    # today's silent bug: a scalar gradient for a (3,) input
    with pytest.raises(
        ValueError,
        match=r"VJP rule of primitive 'cube' for argument 0 \(reverse "
        r"mode\).*cotangent of shape \(\), but \(3,\) was expected",
    ):
        dr.grad(_loss(_cube(vjp=SCALAR_VJP)), mode="reverse")(X)


def test_wrong_vjp_shape_reverse_batched():
    cube = _cube(vjp=lambda g, ans, x: dnp.sum(3 * x**2 * g, axis=0))  # sums the batch away
    with pytest.raises(ValueError, match=r"reverse mode\).*shape \(3,\), but \(3, 3\) was expected"):
        dr.jacobian(cube, mode="reverse")(X)
    _, f_vjp = dr.vjp(cube, X)
    with pytest.raises(ValueError, match=r"reverse mode\).*shape \(3,\), but \(2, 3\) was expected"):
        f_vjp(np.ones((2, 3)), batched=True)


@pytest.mark.parametrize("structure", ["structured", "dense"])
def test_wrong_jvp_shape_explicit(structure):
    cube = _cube(jvp=SCALAR_JVP, vjp=SCALAR_VJP)
    with pytest.raises(ValueError, match=r"rule of primitive 'cube' for argument 0 \(explicit mode\).*was expected"):
        dr.jacobian(cube, mode="explicit", structure=structure)(X)


def test_wrong_vjp_shape_explicit_operator():
    # a dense-kind user primitive in structured mode is an operator: its VJP
    # rule applies it to rows (reverse accumulation towards a scalar output)
    cube = _cube(vjp=SCALAR_VJP)
    with pytest.raises(
        ValueError,
        match=r"VJP rule of primitive 'cube' for argument 0 \(explicit mode\).*\(1, "
        r"3\) was expected",
    ):
        dr.grad(lambda x: dnp.sum(dnp.sin(cube(x))), mode="explicit", order="reverse")(X)


def test_declared_structure_rule_checked_explicit():
    @dr.primitive(structure="diagonal")
    def double(x):
        return 2 * x

    dr.defjvp(double, lambda t, ans, x: 2 * t[..., :1])
    with pytest.raises(ValueError, match=r"'double' for argument 0 \(explicit mode\).*shape \(1,\), but \(3,\)"):
        dr.jacobian(double, mode="explicit")(X)


def test_broadcast_jvp_result_is_rejected_with_a_hint():
    @dr.primitive
    def shift(x, y):
        return x + y

    dr.defjvp(shift, lambda t, ans, x, y: t, lambda t, ans, x, y: t)
    y = np.zeros((2, 3))
    with pytest.raises(
        ValueError,
        match=r"argument 0 \(forward mode\).*\(3,\), but \(2, 3\) was "
        r"expected.*broadcast_to",
    ):
        dr.jvp(lambda x: shift(x, y), (X,), (np.ones(3),))


def test_multiple_results_jvp_checked():
    @dr.primitive(multiple_results=True)
    def split(x):
        return x * 2, x * 3

    dr.defjvp(split, lambda t, ans, x: (2 * t,))
    with pytest.raises(ValueError, match=r"'split' for argument 0 \(forward mode\) returned tuple but a tuple of 2"):
        dr.jvp(lambda x: split(x)[0], (X,), (np.ones(3),))
    dr.defjvp(split, lambda t, ans, x: (2 * t, 3 * t[..., :2]))
    with pytest.raises(ValueError, match=r"shape \(2,\), but \(3,\) was expected.*its result 1"):
        dr.jvp(lambda x: split(x)[1], (X,), (np.ones(3),))


# --------------------------------------------------------------------------
# Rule results: dtype
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_integer_rule_result_is_rejected(mode):
    as_int = lambda t, ans, x: np.ones(np.shape(t), dtype=np.int64)  # noqa: E731
    cube = _cube(jvp=as_int, vjp=as_int)
    with pytest.raises(ValueError, match=rf"'cube' for argument 0 \({mode} mode\).*dtype int64, but a float dtype"):
        dr.jacobian(cube, mode=mode)(X)


def test_narrower_float_rule_result_is_rejected():
    cube = _cube(vjp=lambda g, ans, x: (3 * x**2 * g).astype(np.float32))
    with pytest.raises(ValueError, match=r"dtype float32, but a float dtype at least as wide as float64"):
        dr.grad(_loss(cube), mode="reverse")(X)


def test_non_array_rule_result_is_rejected():
    cube = _cube(jvp=lambda t, ans, x: [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"'cube' for argument 0 \(forward mode\) returned a list"):
        dr.jvp(cube, (X,), (np.ones(3),))


# --------------------------------------------------------------------------
# None rules
# --------------------------------------------------------------------------


def _scaled():
    @dr.primitive
    def scaled(x, c):
        return x * c

    dr.defjvp(scaled, lambda t, ans, x, c: t * c, None)
    dr.defvjp(scaled, lambda g, ans, x, c: g * c, None)
    return scaled


@pytest.mark.parametrize("mode", MODES)
def test_none_rule_with_a_traced_float_raises(mode):
    scaled = _scaled()
    with pytest.raises(
        ValueError,
        match=rf"'scaled' got a traced float value .* argument 1, whose .* rule is "
        rf"None .*{mode} mode.*pass a constant",
    ):
        dr.grad(lambda c: dnp.sum(scaled(X, c)), mode=mode)(1.0)
    np.testing.assert_allclose(dr.grad(lambda x: dnp.sum(scaled(x, 2.0)), mode=mode)(X), 2 * np.ones(3))


@pytest.mark.parametrize("mode", MODES)
def test_none_rule_with_masks_and_indices_passes(mode):
    @dr.primitive
    def masked(x, mask):
        return np.where(mask, x, 0.0)

    dr.defjvp(masked, lambda t, ans, x, mask: dnp.where(mask, t, 0.0), None)
    dr.defvjp(masked, lambda g, ans, x, mask: dnp.where(mask, g, 0.0), None)

    @dr.primitive
    def take(x, index):
        return x[index]

    dr.defjvp(take, lambda t, ans, x, index: t[..., index], None)
    dr.defvjp(take, lambda g, ans, x, index: dnp.matmul(g, np.eye(x.shape[-1])[index]), None)
    index = np.array([0, 2])

    def f(x):
        mask = x > 0  # a boolean mask computed from the traced input
        return dnp.sum(take(masked(x, mask), index) ** 2) + dnp.sum(take(x, dnp.argmax(x)[None]))

    want = np.array([2 * X[0], 0.0, 2 * X[2] + 1.0])
    np.testing.assert_allclose(dr.grad(f, mode=mode)(X), want)


def test_where_condition_stays_a_mask():
    f = lambda x: dnp.sum(dnp.where(x > 0, x**2, -x))  # noqa: E731
    for mode in MODES:
        np.testing.assert_allclose(dr.grad(f, mode=mode)(X), np.where(X > 0, 2 * X, -1.0))


# --------------------------------------------------------------------------
# Directions: hvp in every mode pair, vjp, jvp
# --------------------------------------------------------------------------


def _two(x, y):
    return dnp.sum(x**2 * y) + dnp.sum(dnp.sin(y))


XY = (np.array([1.0, 2.0]), np.array([0.5, -0.5]))
V = (np.array([1.0, 0.0]), np.array([0.0, 1.0]))


@pytest.mark.parametrize("mode", PAIRS, ids=lambda m: "-".join(m))
def test_hvp_checks_its_directions_in_every_mode_pair(mode):
    want = dr.hvp(_two, XY, V)
    np.testing.assert_allclose(dr.hvp(_two, XY, V, mode=mode)[1], want[1])
    with pytest.raises(ValueError, match=r"hvp: got 2 primals but 1 tangents"):
        dr.hvp(_two, XY, V[:1], mode=mode)
    with pytest.raises(ValueError, match=r"hvp: a tangent has shape \(\) but \(2,\) was expected"):
        dr.hvp(_two, XY, (1.0, V[1]), mode=mode)
    with pytest.raises(ValueError, match=r"hvp: tangents have structure .* but primals have"):
        dr.hvp(_two, XY, ((V[0],), V[1]), mode=mode)
    with pytest.raises(TypeError, match=r"hvp: a tangent has dtype complex128"):
        dr.hvp(_two, XY, (V[0] + 1j, V[1]), mode=mode)
    with pytest.raises(TypeError, match=r"hvp: a tangent has dtype bool"):
        dr.hvp(_two, XY, (V[0] > 0, V[1]), mode=mode)


@pytest.mark.parametrize("mode", PAIRS, ids=lambda m: "-".join(m))
def test_hvp_wants_tuples(mode):
    x, v = XY[0], V[0]
    f = lambda x: dnp.sum(x**3)  # noqa: E731
    np.testing.assert_allclose(dr.hvp(f, (x,), (v,), mode=mode)[0], 6 * x * v)
    with pytest.raises(TypeError, match=r"hvp: primals and tangents must be tuples .*dr.hvp\(f, \(x,\), \(v,\)\)"):
        dr.hvp(f, x, v, mode=mode)


def test_jvp_wants_tuples_and_checks_batches():
    f = lambda x: x * 2  # noqa: E731
    with pytest.raises(TypeError, match=r"jvp: primals and tangents must be tuples"):
        dr.jvp(f, X, np.ones(3))
    with pytest.raises(
        ValueError,
        match=r"jvp: with batched=True every tangent needs the same leading axis "
        r".*\(2, 2\), \(3, 2\)",
    ):
        dr.jvp(_two, XY, (np.ones((2, 2)), np.ones((3, 2))), batched=True)
    with pytest.raises(TypeError, match=r"jvp: a tangent has dtype complex128"):
        dr.jvp(f, (X,), (X + 0j,))


def test_vjp_checks_its_cotangents():
    out, f_vjp = dr.vjp(lambda x: (x * 2, dnp.sum(x)), X)
    np.testing.assert_allclose(f_vjp((np.ones(3), 1.0))[0], 3 * np.ones(3))
    with pytest.raises(ValueError, match=r"vjp: the cotangent has structure .* but the output has"):
        f_vjp(np.ones(3))
    with pytest.raises(ValueError, match=r"vjp: a cotangent has shape \(2,\) but \(3,\) was expected"):
        f_vjp((np.ones(2), 1.0))
    with pytest.raises(TypeError, match=r"vjp: a cotangent has dtype complex128"):
        f_vjp((np.ones(3) + 1j, 1.0))
    np.testing.assert_allclose(f_vjp((np.ones((2, 3)), np.ones(2)), batched=True)[0], 3 * np.ones((2, 3)))
    with pytest.raises(
        ValueError,
        match=r"vjp: a cotangent has shape \(2, 4\) but \(2, 3\) was expected "
        r".*batched=True",
    ):
        f_vjp((np.ones((2, 4)), np.ones(2)), batched=True)
    with pytest.raises(ValueError, match=r"vjp: with batched=True every cotangent needs the same leading axis"):
        f_vjp((np.ones(3), 1.0), batched=True)


# --------------------------------------------------------------------------
# A traced value of a finished transformation: escaped, or closed over
# --------------------------------------------------------------------------


def test_escaped_value_is_told_to_return_it():
    leaked = []

    def f(x):
        leaked.append(x)
        return dnp.sum(x * 2)

    dr.grad(f)(X)
    with pytest.raises(RuntimeError, match=r"escaped the transformation .* passed to 'sin' after .*has_aux=True"):
        dnp.sin(leaked[0])
    # used inside another transformation: still an escape, not a closure
    with pytest.raises(RuntimeError, match=r"escaped the transformation"):
        dr.grad(lambda y: dnp.sum(y * leaked[0]))(X)


@pytest.mark.parametrize("mode", ["reverse", "explicit"])
def test_rule_closing_over_a_traced_value_is_told_to_pass_it(mode):
    def f(x):
        @dr.primitive
        def scale(y):
            return 2 * y

        dr.defjvp(scale, lambda t, ans, y: t * x)  # closes over x, a traced value
        dr.defvjp(scale, lambda g, ans, y: g * x)
        return dnp.sum(scale(x))

    with pytest.raises(
        RuntimeError,
        match=r"'multiply' was applied to .* the function '<lambda>' .* closes over "
        r"as 'x'.*pass 'x' to the primitive as an argument",
    ):
        dr.grad(f, mode=mode)(X)


def test_rule_reading_a_traced_value_from_an_object_is_told_to_pass_it():
    box = {}

    def f(x):
        box["x"] = x

        @dr.primitive
        def scale(y):
            return 2 * y

        dr.defvjp(scale, lambda g, ans, y: g * box["x"])  # not a closure over the value itself
        return dnp.sum(scale(x))

    with pytest.raises(
        RuntimeError,
        match=r"a derivative rule passed a traced value of a finished transformation "
        r"to 'multiply'.*argument",
    ):
        dr.grad(f, mode="reverse")(X)


def test_forward_rule_or_implementation_closing_over_a_traced_value():
    def f(x, closing_impl=False):
        @dr.primitive
        def scale(y):
            return y * x if closing_impl else 2 * y

        dr.defjvp(scale, lambda t, ans, y: t * (2 if closing_impl else x))
        return scale(x)

    with pytest.raises(ValueError, match=r"JVP rule of primitive 'scale' .*forward mode.* closes over a traced"):
        dr.jvp(f, (X,), (np.ones(3),))
    with pytest.raises(ValueError, match=r"implementation of primitive 'scale' .* closes over a traced value"):
        dr.jvp(lambda x: f(x, True), (X,), (np.ones(3),))
