"""The explicit-Jacobian mode: local Jacobians from JVP rules, accumulated in
forward, reverse and optimal order, with exact multiply-add counts.

The counts follow the dense cost model of ``dualrev/explicit/`` (``structure="dense"``): an (a×b)·(b×c)
product costs a·b·c, sums are free (accumulate-into), products with an
identity seed are free (the first matrix on a path from an input, or into an
output, is the local Jacobian itself).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualrev as dr
import dualrev.numpy as dnp
from dualrev import explicit

ORDERS = ("forward", "reverse", "optimal")
TIGHT = dict(rtol=1e-10, atol=1e-12)


def explicit_jac(f, *args, order="optimal", argnums=0, structure="dense"):
    """The counts of this file are those of dense local Jacobians (the seed's
    model); tests/test_explicit_structured.py has the structured ones."""
    return dr.jacobian(f, argnums=argnums, mode="explicit", order=order, structure=structure, return_cost=True)(*args)


def assert_tree_close(got, want, **tol):
    got_leaves, got_tree = dr.tree_flatten(got)
    want_leaves, want_tree = dr.tree_flatten(want)
    assert got_tree == want_tree
    for g, w in zip(got_leaves, want_leaves):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, **(tol or TIGHT))


def assert_all_modes_agree(f, *args, argnums=0):
    """Explicit (every order) == forward == reverse; returns the costs by order."""
    want = dr.jacobian(f, argnums=argnums, mode="reverse")(*args)
    assert_tree_close(dr.jacobian(f, argnums=argnums, mode="forward")(*args), want)
    costs = {}
    for order in ORDERS:
        got, cost = explicit_jac(f, *args, order=order, argnums=argnums)
        assert_tree_close(got, want)
        costs[order] = cost
    assert costs["optimal"].multiply_adds <= min(costs["forward"].multiply_adds, costs["reverse"].multiply_adds)
    return costs


# --------------------------------------------------------------------------
# Exact counts on known graphs
# --------------------------------------------------------------------------


def dense_chain(n_layers, width, rng):
    """x (1×D row) -> [matmul by D×D, tanh] × N -> sum: a chain of 2N D×D local
    Jacobians and one 1×D (row vectors avoid the reshapes matmul adds for 1-D)."""
    weights = [rng.standard_normal((width, width)) / np.sqrt(width) for _ in range(n_layers)]

    def f(x):
        h = x
        for w in weights:
            h = dnp.tanh(h @ w)
        return dnp.sum(h)

    return f, rng.standard_normal((1, width))


@pytest.mark.parametrize("n_layers", [1, 2, 4])
@pytest.mark.parametrize("width", [2, 3, 8])
def test_dense_chain_counts(n_layers, width, rng):
    f, x = dense_chain(n_layers, width, rng)
    costs = assert_all_modes_agree(f, x)
    N, D = n_layers, width
    # forward (foldl): the first D×D matrix is free (times the identity seed),
    # each of the other 2N−1 costs D·D·D, the final 1×D row costs 1·D·D.
    assert costs["forward"].multiply_adds == (2 * N - 1) * D**3 + D**2
    # reverse (foldr): the 1×D row is free (identity seed at the output), each
    # of the 2N D×D matrices costs 1·D·D.
    assert costs["reverse"].multiply_adds == 2 * N * D**2
    # optimal: the matrix-chain DP finds the reverse bracketing.
    assert costs["optimal"].multiply_adds == 2 * N * D**2
    assert costs["optimal"].candidates["chain DP"] == 2 * N * D**2
    # materialised: 2N dense D×D (matmul and the diagonal of tanh) + the 1×D sum.
    for cost in costs.values():
        assert cost.local_jacobian_entries == 2 * N * D**2 + D
        assert cost.local_jacobians == 2 * N + 1


def test_scalar_input_vector_output_flips(rng):
    """Seed 003 §14: with a scalar input and a vector output, forward is cheap."""
    D, N = 6, 3
    weights = [rng.standard_normal((D, D)) / np.sqrt(D) for _ in range(N)]
    v = rng.standard_normal((1, D))

    def f(t):
        h = t * v  # (1,1) * (1,D): a D×1 local Jacobian
        for w in weights:
            h = dnp.tanh(h @ w)
        return h

    costs = assert_all_modes_agree(f, np.array([[0.7]]))
    assert costs["forward"].multiply_adds == 2 * N * D**2  # D·D·1 per D×D matrix
    assert costs["reverse"].multiply_adds == (2 * N - 1) * D**3 + D**2
    assert costs["optimal"].multiply_adds == 2 * N * D**2


def hourglass(wide, narrow, rng):
    """x (1×W) -> W×W -> tanh -> W×n -> tanh -> n×W -> tanh -> W×W: a chain whose
    matrices are W×W, W×W, n×W, n×n, W×n, W×W, W×W (Jacobian W×W)."""
    a1, a2, a3, a4 = (rng.standard_normal(s) for s in ((wide, wide), (wide, narrow), (narrow, wide), (wide, wide)))

    def f(x):
        h = dnp.tanh(x @ a1)
        h = dnp.tanh(h @ a2)
        h = dnp.tanh(h @ a3)
        return h @ a4

    return f, rng.standard_normal((1, wide))


@pytest.mark.parametrize("wide, narrow", [(32, 2), (12, 3)])
def test_hourglass_optimal_strictly_cheaper(wide, narrow, rng):
    f, x = hourglass(wide, narrow, rng)
    costs = assert_all_modes_agree(f, x)
    W, n = wide, narrow
    # forward: W³ (tanh·J1) + nW² + n²W + nW² + W³ + W³ ; reverse is the mirror image.
    assert costs["forward"].multiply_adds == 3 * W**3 + 2 * n * W**2 + n**2 * W
    assert costs["reverse"].multiply_adds == 3 * W**3 + 2 * n * W**2 + n**2 * W
    # optimal: each half is multiplied towards the waist (n²W + 2nW² on the
    # left, 2nW² on the right), then one W×n by n×W product (nW²).
    assert costs["optimal"].multiply_adds == 5 * n * W**2 + n**2 * W
    assert costs["optimal"].multiply_adds < min(costs["forward"].multiply_adds, costs["reverse"].multiply_adds)
    assert "chain DP" in costs["optimal"].plan


def test_diamond_fan_out_fan_in_counts(rng):
    """x -> a = sin x, b = cos x -> c = a * b -> sum: fan-out and fan-in."""
    D = 5

    def f(x):
        return dnp.sum(dnp.sin(x) * dnp.cos(x))

    costs = assert_all_modes_agree(f, rng.standard_normal(D))
    # forward: eliminating a and b each costs D·D·D (into c, summed for free),
    # then c costs 1·D·D.
    assert costs["forward"].multiply_adds == 2 * D**3 + D**2
    # reverse: c costs 1·D·D twice (towards a and b), then a and b 1·D·D each.
    assert costs["reverse"].multiply_adds == 4 * D**2
    assert costs["optimal"].multiply_adds == 4 * D**2
    assert "chain DP" not in costs["optimal"].candidates  # not a chain


def test_path_sum_graph_seed_003(rng):
    """Seed 003 §7: a -> b1, b2 -> c -> d1, d2 -> e (4 paths, summed by elimination)."""

    def f(a):
        c = dnp.sin(a) * dnp.exp(0.5 * a)  # b1, b2 -> c
        return dnp.tanh(c) + dnp.cos(c)  # d1, d2 -> e

    a = np.array(0.3)
    costs = assert_all_modes_agree(f, a)
    # all scalars: the four paths cost 4 × 3 products, the shared sub-products far fewer.
    assert costs["optimal"].multiply_adds <= costs["reverse"].multiply_adds
    b1, b2 = np.sin(a), np.exp(0.5 * a)
    dc = np.cos(a) * b2 + b1 * 0.5 * b2
    c = b1 * b2
    expected = (1 - np.tanh(c) ** 2 - np.sin(c)) * dc
    np.testing.assert_allclose(explicit_jac(f, a)[0], expected, **TIGHT)


def test_parallel_edges_are_summed(rng):
    """x * x has two local Jacobians into the same edge; both are materialised."""
    x = rng.standard_normal(4)
    J, cost = explicit_jac(lambda x: x * x, x)
    np.testing.assert_allclose(J, np.diag(2 * x), **TIGHT)
    assert cost.local_jacobians == 2 and cost.local_jacobian_entries == 2 * 16
    assert cost.multiply_adds == 0


def _registry_cases():
    from dualrev.numpy import PRIMITIVES

    for prim in PRIMITIVES:
        for sample in prim.test_inputs(np.random.default_rng(99)) if prim.test_inputs else []:
            for argnum in sample.diff:
                yield prim, sample, argnum


def test_every_registry_primitive_in_explicit_mode():
    """No op has Jacobian-specific code: each primitive's JVP rule on the identity
    basis gives the same Jacobian as forward mode, on every sample input."""
    failures, n = [], 0
    for prim, sample, argnum in _registry_cases():

        def f(x):
            args = list(sample.args)
            args[argnum] = x
            return prim(*args, **sample.kwargs)

        x = sample.args[argnum]
        want = dr.jacobian(f, mode="forward")(x)
        for order in ORDERS:
            got, cost = explicit_jac(f, x, order=order)
            n += 1
            # multiple-result primitives (eigh, svd, ...) give one Jacobian per output
            got_leaves, want_leaves = dr.tree_flatten(got)[0], dr.tree_flatten(want)[0]
            n_out = sum(np.size(o) for o in dr.tree_flatten(f(x))[0])
            if len(got_leaves) != len(want_leaves) or any(
                np.shape(g) != np.shape(w) or not np.allclose(g, w, **TIGHT) for g, w in zip(got_leaves, want_leaves)
            ):
                failures.append(f"{prim.name} arg {argnum} order {order}")
            elif cost.local_jacobian_entries != np.size(x) * n_out or cost.multiply_adds != 0:
                failures.append(f"{prim.name} arg {argnum}: cost {cost}")
    assert n >= 150 and not failures, failures


# --------------------------------------------------------------------------
# Random programs (hypothesis)
# --------------------------------------------------------------------------

UNARY = [dnp.sin, dnp.tanh, dnp.sigmoid, lambda x: x * x, lambda x: dnp.exp(0.3 * dnp.tanh(x))]


def _apply(op, a, b):
    """Op ``op`` on pool values a, b — falls back to a unary op when shapes clash."""
    sa, sb = np.shape(a), np.shape(b)
    if op == 0 and _broadcastable(sa, sb):
        return a + b
    if op == 1 and _broadcastable(sa, sb):
        return a * b
    if op == 2 and len(sa) >= 1:
        return dnp.sum(a, axis=-1)
    if op == 3 and len(sa) == 2 and len(sb) >= 1 and sa[-1] == sb[0]:
        return dnp.matmul(a, b)
    if op == 4 and len(sa) == 2:
        return dnp.transpose(a)
    if op == 5 and len(sa) >= 1 and sa[-1] >= 2:
        return a[..., 1:]
    if op == 6 and _broadcastable(sa, sb):
        return a - dnp.cos(b)
    return UNARY[op % len(UNARY)](a)


def _broadcastable(s1, s2):
    try:
        np.broadcast_shapes(s1, s2)
        return True
    except ValueError:
        return False


@st.composite
def random_programs(draw):
    shapes = draw(st.lists(st.sampled_from([(), (3,), (2, 3), (3, 2)]), min_size=1, max_size=3))
    steps = draw(
        st.lists(
            st.tuples(st.integers(0, 11), st.integers(0, 30), st.integers(0, 30)), min_size=2, max_size=10
        )
    )
    n_out = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**16))
    return shapes, steps, n_out, seed


@settings(derandomize=True, deadline=None, max_examples=60)
@given(random_programs())
def test_random_programs_all_orders_agree(program):
    shapes, steps, n_out, seed = program
    rng = np.random.default_rng(seed)
    args = tuple(rng.standard_normal(s) for s in shapes)

    def f(*xs):
        pool = list(xs)
        for op, i, j in steps:
            # a: one of the latest values (keeps programs deep), b: any value (fan-out)
            pool.append(_apply(op, pool[-1 - i % min(3, len(pool))], pool[j % len(pool)]))
        outs = pool[-n_out:]
        return outs[0] if n_out == 1 else tuple(outs)

    argnums = tuple(range(len(args)))
    costs = assert_all_modes_agree(f, *args, argnums=argnums)
    best = min(costs["forward"].multiply_adds, costs["reverse"].multiply_adds)
    assert costs["optimal"].multiply_adds <= best
    assert costs["optimal"].multiply_adds == min(costs["optimal"].candidates.values())
    assert costs["forward"].multiply_adds == costs["optimal"].candidates["forward"]
    assert costs["reverse"].multiply_adds == costs["optimal"].candidates["reverse"]


# --------------------------------------------------------------------------
# The memory guard
# --------------------------------------------------------------------------


def test_memory_guard_with_small_budget(rng):
    f, x = dense_chain(2, 8, rng)
    with explicit.memory_budget(1000):
        with pytest.raises(explicit.ExplicitMemoryError, match=r"mode='forward' or mode='reverse'") as info:
            dr.jacobian(f, mode="explicit", structure="dense")(x)
    assert isinstance(info.value, MemoryError)
    assert "bytes" in str(info.value) and "8×8" in str(info.value)
    assert explicit.MEMORY_BUDGET_BYTES == 1 << 30  # restored
    # 5 matrices of ≤ 8×8 float64: 4·512 + 64 = 2112 bytes fit in a 4 KiB budget.
    with explicit.memory_budget(4096):
        dr.jacobian(f, mode="explicit", structure="dense")(x)


def test_memory_guard_default_budget_refuses_before_allocating():
    # sin on 20 000 numbers: a 20 000² float64 diagonal matrix = 3.2 GB > 1 GiB.
    x = np.linspace(0.0, 1.0, 20_000)
    with pytest.raises(dr.ExplicitMemoryError, match="20000×20000"):
        dr.grad(lambda x: dnp.sum(dnp.sin(x)), mode="explicit", structure="dense")(x)
    with explicit.memory_budget(None):
        assert explicit.MEMORY_BUDGET_BYTES is None
    with pytest.raises(ValueError):
        with explicit.memory_budget(-1):
            pass


# --------------------------------------------------------------------------
# The public API with mode="explicit"
# --------------------------------------------------------------------------


def mlp_loss(params, x):
    h = dnp.tanh(x @ params["W"] + params["b"])
    return dnp.sum((h @ params["V"][0]) ** 2)


def mlp_params(rng):
    return {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4), "V": [rng.standard_normal((4, 2))]}


@pytest.mark.parametrize("order", ORDERS)
def test_grad_nested_containers_and_argnums(order, rng):
    params, x = mlp_params(rng), rng.standard_normal((5, 3))
    for argnums in (0, 1, (0, 1), (1, 0)):
        want = dr.grad(mlp_loss, argnums=argnums, mode="reverse")(params, x)
        got = dr.grad(mlp_loss, argnums=argnums, mode="explicit", order=order)(params, x)
        assert_tree_close(got, want)
    value, g = dr.value_and_grad(mlp_loss, argnums=(0, 1), mode="explicit", order=order)(params, x)
    np.testing.assert_allclose(value, mlp_loss(params, x), **TIGHT)
    assert_tree_close(g, dr.grad(mlp_loss, argnums=(0, 1))(params, x))


def test_jacobian_nested_outputs_and_aux(rng):
    def f(p, y):
        return {"a": dnp.sin(p[0]) * y, "b": (dnp.sum(p[1] ** 2), p[0])}, "aux"

    p, y = (rng.standard_normal(3), rng.standard_normal((2, 2))), rng.standard_normal(3)
    want, aux = dr.jacobian(f, argnums=(0, 1), mode="forward", has_aux=True)(p, y)
    for order in ORDERS:
        got, aux2 = dr.jacobian(f, argnums=(0, 1), mode="explicit", order=order, has_aux=True)(p, y)
        assert_tree_close(got, want)
        assert aux2 == aux == "aux"
    # an output that *is* an input gets the identity block; shapes out + in
    assert got["b"][1][0][0].shape == (3, 3)
    np.testing.assert_array_equal(got["b"][1][0][0], np.eye(3))


def test_edge_cases(rng):
    # output independent of the input, zero-size input, float32, ints promote
    J, cost = explicit_jac(lambda x: np.ones(2), rng.standard_normal(3))
    np.testing.assert_array_equal(J, np.zeros((2, 3)))
    assert cost.multiply_adds == 0 and cost.local_jacobians == 0
    J = dr.jacobian(lambda x: dnp.sin(x) * 2, mode="explicit")(np.zeros((0, 2)))
    assert J.shape == (0, 2, 0, 2)
    x32 = rng.standard_normal(3).astype(np.float32)
    J32 = dr.jacobian(lambda x: dnp.tanh(x), mode="explicit")(x32)
    assert J32.dtype == np.float32
    np.testing.assert_allclose(J32, np.diag(1 - np.tanh(x32) ** 2), rtol=1e-6)
    np.testing.assert_allclose(dr.grad(lambda x: x * x, mode="explicit")(3), 6.0)
    # an intermediate that is also an output (copy vertex)
    f = lambda x: (dnp.sin(x), dnp.sum(dnp.sin(x) ** 2))  # noqa: E731
    assert_all_modes_agree(f, rng.standard_normal(4))
    with pytest.raises(ValueError, match="order"):
        dr.jacobian(f, mode="explicit", order="sideways")


def test_user_primitives_unbatched_and_multiple_results(rng):
    cube = dr.primitive(lambda x: x**3, name="cube_unbatched")
    calls = []

    def cube_jvp(t, ans, x):
        calls.append(np.shape(t))
        assert np.shape(t) == np.shape(x)  # one direction at a time
        return 3 * x**2 * t

    dr.defjvp(cube, cube_jvp, batched=False)
    dr.defvjp(cube, lambda g, ans, x: 3 * x**2 * g, batched=False)

    sincos = dr.primitive(lambda x: (np.sin(x), np.cos(x)), name="sincos", multiple_results=True)
    dr.defjvp(sincos, lambda t, ans, x: (t * dnp.cos(x), -t * dnp.sin(x)))
    dr.defvjp(sincos, lambda g, ans, x: g[0] * dnp.cos(x) - g[1] * dnp.sin(x))

    def f(x):
        s, c = sincos(cube(x))
        return s * c + s

    x = rng.standard_normal(3)
    assert_all_modes_agree(f, x)
    assert (3,) in calls

    def only_sin(x):  # the second result is unused
        return sincos(x)[0]

    np.testing.assert_allclose(explicit_jac(only_sin, x)[0], np.diag(np.cos(x)), **TIGHT)

    # multiple results, one direction at a time, and a None (zero) tangent
    split = dr.primitive(lambda x: (2 * x, np.sin(x)), name="split_unbatched", multiple_results=True)
    dr.defjvp(split, lambda t, ans, x: (2 * t, None), batched=False)
    dr.defvjp(split, lambda g, ans, x: 2 * g[0], batched=False)
    J, cost = explicit_jac(lambda x: split(x), x)
    np.testing.assert_allclose(J[0], 2 * np.eye(3), **TIGHT)
    np.testing.assert_array_equal(J[1], np.zeros((3, 3)))


def test_jvp_only_primitive_works_in_explicit_mode(rng):
    """The explicit mode needs JVP rules only (it never calls a VJP rule)."""
    square = dr.primitive(lambda x: x * x, name="square_jvp_only")
    dr.defjvp(square, lambda t, ans, x: 2 * x * t)
    x = rng.standard_normal(3)
    np.testing.assert_allclose(dr.jacobian(square, mode="explicit")(x), np.diag(2 * x), **TIGHT)


@pytest.mark.parametrize(
    "modes",
    [
        ("explicit", "reverse"),
        ("explicit", "forward"),
        ("forward", "explicit"),
        ("reverse", "explicit"),
        ("explicit", "explicit"),
        "explicit",
    ],
)
def test_hessian_explicit_inner_and_outer(modes, rng):
    def f(w, x):
        return dnp.sum(dnp.tanh(x @ w) ** 2) + dnp.sum(w**3)

    w, x = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    want = dr.hessian(f)(w, x)
    got = dr.hessian(f, mode=modes)(w, x)
    assert got.shape == (3, 2, 3, 2)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)
    v = rng.standard_normal((3, 2))
    (hv,) = dr.hvp(lambda w: f(w, x), (w,), (v,), mode=modes)
    np.testing.assert_allclose(hv, np.tensordot(want, v, axes=2), rtol=1e-9, atol=1e-11)


def test_explicit_inside_other_transformations(rng):
    """Nesting: d/dx [x · d/dy (x + y)] = 1, and explicit under grad."""
    inner = lambda x: dr.grad(lambda y: dnp.sum(x * y), mode="explicit")(np.ones(2))  # noqa: E731
    np.testing.assert_allclose(dr.jacobian(inner, mode="forward")(np.array([1.0, 2.0])), np.eye(2), **TIGHT)
    np.testing.assert_allclose(dr.grad(lambda x: x * dr.grad(lambda y: x + y, mode="explicit")(1.0))(2.0), 1.0)


def test_cost_object_is_readable(rng):
    f, x = dense_chain(2, 4, rng)
    _, cost = explicit_jac(f, x, order="optimal")
    assert isinstance(cost.explicit, dr.ExplicitCost)
    text = repr(cost.explicit)
    assert text.startswith("ExplicitCost(") and "multiply_adds=64" in text and "optimal" in cost.plan
    _, cost = explicit_jac(f, x, order="forward")
    assert cost.plan.startswith("forward (foldl)")
    with pytest.raises(TypeError, match="return_cost"):  # every mode has a ledger now; bad values are refused
        dr.jacobian(f, mode="reverse", return_cost="yes")
