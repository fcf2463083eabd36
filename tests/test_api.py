"""The public API: structures, argnums, dtypes, nesting, jvp/vjp/hvp contracts."""

import gc
import sys

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp

MODES = ("forward", "reverse")
PAIRS = [(a, b) for a in MODES for b in MODES]


def loss(W, x):
    return dnp.sum(dnp.tanh(x @ W) ** 2)


@pytest.fixture
def Wx(rng):
    return rng.standard_normal((3, 2)), rng.standard_normal((4, 3))


def test_modes_constant():
    assert dr.MODES == ("forward", "reverse", "explicit")


@pytest.mark.parametrize("mode", MODES + ("auto",))
def test_grad_shape_and_value(mode, Wx):
    W, x = Wx
    g = dr.grad(loss, argnums=0, mode=mode)(W, x)
    assert g.shape == W.shape
    t = np.tanh(x @ W)
    np.testing.assert_allclose(g, x.T @ (2 * t * (1 - t**2)), rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_value_and_grad_tuple_argnums(mode, Wx):
    W, x = Wx
    value, (gW, gx) = dr.value_and_grad(loss, argnums=(0, 1), mode=mode)(W, x)
    assert isinstance(value, (float, np.floating)) and not dr.is_traced(value)
    assert np.isclose(value, np.sum(np.tanh(x @ W) ** 2))
    assert gW.shape == W.shape and gx.shape == x.shape
    assert isinstance(dr.grad(loss, argnums=[1], mode=mode)(W, x), tuple)


def test_argnums_negative_and_kwargs_pass_through(Wx):
    W, x = Wx

    def f(x, W, *, scale):
        return scale * loss(W, x)

    g = dr.grad(f, argnums=-1)(x, W, scale=2.0)
    np.testing.assert_allclose(g, 2 * dr.grad(loss)(W, x))


@pytest.mark.parametrize("mode", MODES)
def test_nested_containers_in_and_out(mode, rng):
    params = {"layer": [rng.standard_normal((2, 2)), rng.standard_normal(2)], "scale": 1.5}

    def f(p, x):
        W, b = p["layer"]
        h = dnp.tanh(x @ W + b) * p["scale"]
        return {"sum": dnp.sum(h), "parts": (h[0], h[1] * 2)}

    x = rng.standard_normal(2)
    g = dr.grad(lambda p, x: f(p, x)["sum"], mode=mode)(params, x)
    assert set(g) == {"layer", "scale"} and isinstance(g["layer"], list)
    assert g["layer"][0].shape == (2, 2) and np.shape(g["scale"]) == ()
    J = dr.jacobian(f, mode=mode)(params, x)
    assert J["parts"][0]["layer"][0].shape == (2, 2)
    assert J["sum"]["layer"][1].shape == (2,)
    np.testing.assert_allclose(J["sum"]["layer"][1], g["layer"][1])


@pytest.mark.parametrize("mode", MODES)
def test_python_scalars_and_ints(mode):
    g = dr.grad(lambda x: x**3, mode=mode)(2)
    assert g == 12.0 and np.asarray(g).dtype == np.float64
    g2 = dr.grad(lambda x, y: x * y, argnums=(0, 1), mode=mode)(3.0, 4)
    assert g2 == (4.0, 3.0)
    gi = dr.grad(lambda x: dnp.sum(x * x), mode=mode)(np.arange(3))
    np.testing.assert_array_equal(gi, [0.0, 2.0, 4.0])


@pytest.mark.parametrize("mode", MODES)
def test_float32_stays_float32(mode):
    x = np.array([0.5, -1.0], dtype=np.float32)
    g = dr.grad(lambda x: dnp.sum(dnp.tanh(x) * 2.0), mode=mode)(x)
    assert g.dtype == np.float32
    J = dr.jacobian(lambda x: dnp.sin(x) * x, mode=mode)(x)
    assert J.dtype == np.float32
    y, t = dr.jvp(lambda x: dnp.exp(x), (x,), (np.ones(2, np.float32),))
    assert y.dtype == np.float32 and t.dtype == np.float32


@pytest.mark.parametrize("mode", MODES + ("auto",))
def test_jacobian_shapes(mode, rng):
    x = rng.standard_normal((2, 3))
    J = dr.jacobian(lambda x: dnp.sin(x)[:, ::-1] * 2, mode=mode)(x)
    assert J.shape == (2, 3, 2, 3)
    J0 = dr.jacobian(lambda x: dnp.sum(x) * x[0, 0], mode=mode)(x)
    assert J0.shape == (2, 3)
    Jz = dr.jacobian(lambda x: x[:0] * 2, mode=mode)(x)
    assert Jz.shape == (0, 3, 2, 3)
    Jin = dr.jacobian(lambda x: dnp.sum(x) + 1.0, mode=mode)(np.zeros((0,)))
    assert Jin.shape == (0,)


@pytest.mark.parametrize("mode", MODES)
def test_chunked_jacobian_equals_unchunked(mode, rng):
    x = rng.standard_normal(7)
    f = lambda x: dnp.tanh(np.arange(21.0).reshape(3, 7) @ x) * x[:3]  # noqa: E731
    full = dr.jacobian(f, mode=mode)(x)
    np.testing.assert_allclose(dr.jacobian(f, mode=mode, chunk_size=2)(x), full, rtol=1e-14)
    np.testing.assert_allclose(dr.jacobian(f, mode=mode, chunk_size=1)(x), full, rtol=1e-14)


def test_auto_rule():
    assert dr.api.choose_mode(10, 1) == "reverse"
    assert dr.api.choose_mode(3, 3) == "reverse"
    assert dr.api.choose_mode(2, 50) == "forward"


def test_output_independent_of_input_gives_zeros():
    for mode in MODES:
        g = dr.grad(lambda x, y: dnp.sum(y**2), argnums=0, mode=mode)(np.ones(3), np.ones(2))
        np.testing.assert_array_equal(g, np.zeros(3))
        J = dr.jacobian(lambda x: np.ones(2), mode=mode)(np.ones(3))
        np.testing.assert_array_equal(J, np.zeros((2, 3)))


def test_jvp_contract(rng):
    x = rng.standard_normal(3)
    v = rng.standard_normal(3)
    y, ydot = dr.jvp(lambda x: dnp.sin(x) * x, (x,), (v,))
    assert not dr.is_traced(y)
    np.testing.assert_allclose(ydot, (np.cos(x) * x + np.sin(x)) * v)
    V = rng.standard_normal((5, 3))
    _, Ydot = dr.jvp(lambda x: dnp.sin(x) * x, (x,), (V,), batched=True)
    assert Ydot.shape == (5, 3)
    np.testing.assert_allclose(Ydot[2], (np.cos(x) * x + np.sin(x)) * V[2])
    with pytest.raises(ValueError, match="shape"):
        dr.jvp(lambda x: x, (x,), (np.ones(4),))


def test_vjp_contract(rng):
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    out, f_vjp = dr.vjp(lambda x, y: x * y, x, y)
    u = rng.standard_normal(3)
    gx, gy = f_vjp(u)
    np.testing.assert_allclose(gx, u * y)
    np.testing.assert_allclose(gy, u * x)
    gx2, _ = f_vjp(u)  # callable more than once
    np.testing.assert_allclose(gx2, gx)
    U = rng.standard_normal((4, 3))
    Gx, Gy = f_vjp(U, batched=True)
    assert Gx.shape == (4, 3)
    np.testing.assert_allclose(Gx[1], U[1] * y)
    with pytest.raises(ValueError, match="structure"):
        f_vjp((u, u))


def test_has_aux(rng):
    x = rng.standard_normal(3)

    def f(x):
        h = dnp.tanh(x)
        return dnp.sum(h), {"h": h}

    for mode in MODES:
        g, aux = dr.grad(f, has_aux=True, mode=mode)(x)
        assert not dr.is_traced(aux["h"])
        np.testing.assert_allclose(aux["h"], np.tanh(x))
        (value, aux2), g2 = dr.value_and_grad(f, has_aux=True, mode=mode)(x)
        np.testing.assert_allclose(g, g2)


@pytest.mark.parametrize("outer,inner", PAIRS)
def test_no_perturbation_confusion(outer, inner):
    """d/dx [x · d/dy (x + y)] = 1 (the inner derivative must not see x's perturbation)."""

    def f(x):
        return x * dr.grad(lambda y: x + y, mode=inner)(1.0)

    assert dr.grad(f, mode=outer)(2.0) == 1.0

    def g(x):  # the classic: d/dx [x · d/dy (x y)] at y=... = 2x
        return x * dr.grad(lambda y: x * y, mode=inner)(3.0)

    assert dr.grad(g, mode=outer)(2.0) == 4.0


def test_three_levels_of_nesting():
    f = lambda x: x**4  # noqa: E731
    for modes in [("forward", "reverse", "forward"), ("reverse", "reverse", "reverse"), ("forward",) * 3]:
        d3 = dr.grad(dr.grad(dr.grad(f, mode=modes[2]), mode=modes[1]), mode=modes[0])(1.5)
        assert np.isclose(d3, 24 * 1.5)


@pytest.mark.parametrize("mode", [("forward", "reverse"), ("reverse", "forward"), "forward", "reverse", "auto"])
def test_hessian_and_hvp(mode, rng):
    A = rng.standard_normal((3, 3))

    def f(x):
        return dnp.sum(dnp.sin(x) * (A @ x)) + dnp.sum(x**3)

    x = rng.standard_normal(3)
    H = dr.hessian(f, mode=mode)(x)
    # closed form: f = Σ sin(x_i)(Ax)_i + Σ x_i³
    expected = np.diag(-np.sin(x) * (A @ x) + 6 * x) + np.diag(np.cos(x)) @ A + (np.diag(np.cos(x)) @ A).T
    np.testing.assert_allclose(H, expected, rtol=1e-10, atol=1e-12)
    v = rng.standard_normal(3)
    (Hv,) = dr.hvp(f, (x,), (v,), mode=mode)
    np.testing.assert_allclose(Hv, expected @ v, rtol=1e-10, atol=1e-12)


def test_hessian_default_is_forward_over_reverse():
    import inspect

    assert inspect.signature(dr.hessian).parameters["mode"].default == ("forward", "reverse")
    assert inspect.signature(dr.hvp).parameters["mode"].default == ("forward", "reverse")


def test_long_chain_has_no_recursion_limit():
    """100 000 ops: the tape is a list and the sweep a loop, so no RecursionError."""
    n = 100_000
    assert n > sys.getrecursionlimit() * 10

    def f(x):
        for _ in range(n // 2):
            x = dnp.sin(x) * 0.999
        return dnp.sum(x)

    g = dr.grad(f, mode="reverse")(np.array([0.1]))
    assert np.isfinite(g).all()
    g_fwd = dr.grad(f, mode="forward")(np.array([0.1]))
    np.testing.assert_allclose(g, g_fwd, rtol=1e-12)


def test_tape_and_intermediates_are_freed_after_the_sweep():
    from dualrev.reverse import ReverseTrace

    captured = []
    original = ReverseTrace.__init__

    def spy(self):
        original(self)
        captured.append(self)

    ReverseTrace.__init__ = spy
    try:
        big = np.ones(10_000)
        dr.grad(lambda x: dnp.sum(dnp.exp(x) * dnp.sin(x)))(big)
    finally:
        ReverseTrace.__init__ = original
    (trace,) = captured
    assert trace.tape == []
    gc.collect()


@pytest.mark.parametrize("mode", MODES)
def test_repeated_indices_accumulate(mode):
    x = np.array([1.0, 2.0, 3.0])
    g = dr.grad(lambda x: dnp.sum(x[np.array([0, 0, 2, 0])] ** 2), mode=mode)(x)
    np.testing.assert_allclose(g, [6.0, 0.0, 6.0])


def test_namedtuple_results_keep_their_type(rng):
    A = rng.standard_normal((3, 3))
    A = A @ A.T + 3 * np.eye(3)
    for mode in MODES:
        J = dr.jacobian(lambda a: dnp.linalg.eigh(a), mode=mode)(A)
        assert type(J).__name__ == "EighResult" and J.eigenvalues.shape == (3, 3, 3)
    leaves, treedef = dr.tree_flatten(np.linalg.eigh(A))
    assert len(leaves) == 2 and type(dr.tree_unflatten(treedef, leaves)).__name__ == "EighResult"


@pytest.mark.parametrize("pair", [(a, b) for a in dr.MODES for b in dr.MODES])
def test_hessian_through_vector_matrix_products_in_every_pair(pair, rng):
    """A vector meets a batched tangent of a matrix (three axes) inside nested
    derivatives; every pair of modes must agree (regression: matmul's vector rules)."""
    from dualrev.numpy._rules.products import matmul_p

    v, M, S = rng.standard_normal(3), rng.standard_normal((3, 2)), rng.standard_normal((2, 3, 2))

    def f(v, M):
        return (
            dnp.sum(dnp.tanh(v @ M))
            + dnp.sum(dnp.sin(M.T @ dnp.cos(M[:, 0] ** 2)))
            + dnp.sum(dnp.tanh(matmul_p(S.transpose(0, 2, 1) * M[0, 0], v)))
            + dnp.sum(matmul_p(v * M[1, 1], S) ** 2)
        )

    H = dr.hessian(f, argnums=(0, 1), mode=pair)(v, M)
    ref = dr.hessian(f, argnums=(0, 1))(v, M)
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(H[i][j], ref[i][j], rtol=1e-10, atol=1e-12)
