"""The explicit mode on structured local Jacobians: every declared structure is
exact, structured == dense == forward == reverse, the counts follow the
structures, planning is cached and bounded, bad orders are refused, and an
inf/NaN stays on its own paths."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.explicit import plans
from dualrev.explicit.algebra import product
from dualrev.explicit.linearize import structured_jacobian
from dualrev.explicit.structures import DENSE, IDENTITY, Diagonal, Sparse, to_dense
from dualrev.tape import TapeEntry

TIGHT = dict(rtol=1e-12, atol=1e-12)


def explicit(f, x, order="optimal", structure="structured"):
    return dr.jacobian(f, mode="explicit", order=order, structure=structure, return_cost=True)(x)


# --------------------------------------------------------------------------
# Every declared structure is the primitive's Jacobian, exactly
# --------------------------------------------------------------------------


def _declared_cases():
    for prim in dnp.PRIMITIVES:
        if prim.structure == "dense" or prim.multiple_results or prim.test_inputs is None:
            continue
        for k, sample in enumerate(prim.test_inputs(np.random.default_rng(5))):
            for argnum in sample.diff:
                yield pytest.param(prim, sample, argnum, id=f"{prim.name}-{prim.structure}-{k}-arg{argnum}")


def _dense_local_jacobian(prim, args, kwargs, argnum, ans):
    x = args[argnum]
    basis = np.eye(x.size).reshape((x.size,) + x.shape)
    t = prim.jvp_rule(argnum)(basis, ans, *args, **kwargs)
    t = np.broadcast_to(t, (x.size,) + np.shape(ans))
    return t.reshape(x.size, -1).T


@pytest.mark.parametrize("prim, sample, argnum", list(_declared_cases()))
def test_declared_structure_is_the_jacobian(prim, sample, argnum):
    args, kwargs = sample.args, sample.kwargs
    ans = prim.impl(*args, **kwargs)
    rule = prim.jvp_rule(argnum)
    entry = TapeEntry(prim, ((argnum, rule, 0),), tuple(args), kwargs, ans, 1)
    label = structured_jacobian(entry, argnum, rule)
    want = _dense_local_jacobian(prim, args, kwargs, argnum, ans)
    got = to_dense(label, want.shape, np.float64)
    np.testing.assert_allclose(got, want, **TIGHT)


def test_the_common_ops_declare_structures():
    kinds = {p.name: p.structure for p in dnp.PRIMITIVES}
    assert kinds["tanh"] == kinds["multiply"] == kinds["where"] == "diagonal"
    assert kinds["reshape"] == kinds["transpose"] == kinds["getitem"] == kinds["concatenate"] == "gather"
    assert kinds["sum"] == kinds["sum_to"] == "segment"
    assert kinds["matmul"] == "kron"


def test_a_matrix_vector_product_keeps_the_matrix_itself():
    """∂(W x)/∂x = W ⊗ I₁ = W and ∂(x W)/∂x = Wᵀ: the local Jacobian is the
    program's own matrix (a read-only view: nothing formed, nothing stored);
    with a matrix on both sides the Kronecker product stays matrix-free."""
    from dualrev.explicit.local import kron_jacobian
    from dualrev.explicit.structures import Operator

    rng = np.random.default_rng(0)
    W, x, X = rng.standard_normal((5, 3)), rng.standard_normal(3), rng.standard_normal((3, 2))
    matmul = next(p for p in dnp.PRIMITIVES if p.name == "matmul")
    for args, argnum, want in [((W, x), 1, W), ((x, W.T), 0, W), ((x, x), 0, x[None]), ((W, X[:, :1]), 1, W)]:
        ans = matmul.impl(*args)
        entry = TapeEntry(matmul, ((argnum, matmul.jvp_rule(argnum), 0),), args, {}, ans, 1)
        label = kron_jacobian(entry, argnum, matmul.jvp_rule(argnum))
        assert type(label) is np.ndarray and not label.flags.writeable and np.shares_memory(label, args[1 - argnum])
        np.testing.assert_array_equal(label, want)
    entry = TapeEntry(matmul, ((1, matmul.jvp_rule(1), 0),), (W, X), {}, W @ X, 1)
    assert isinstance(kron_jacobian(entry, 1, matmul.jvp_rule(1)), Operator)  # W ⊗ I₂: applied, not formed
    # The whole Jacobian of W @ x is W's values in a new array: writing into it leaves W alone.
    J, cost = explicit(lambda x: W @ x, x)
    np.testing.assert_array_equal(J, W)
    assert not np.shares_memory(J, W) and cost.local_jacobian_entries == 0 and cost.multiply_adds == 0
    J[0, 0] = 99.0
    assert W[0, 0] != 99.0


def test_a_layer_chain_multiplies_the_weights_without_forming_them():
    """tanh(W2 tanh(W1 x)) with x ∈ R⁴ in forward order: D1·W1 (256·4), W2·(D1 W1)
    (512·256·4), D2·(…) (512·4) — exactly forward mode's work, nothing formed."""
    rng = np.random.default_rng(2)
    W1, W2 = rng.standard_normal((256, 4)), rng.standard_normal((512, 256))
    f = lambda x: dnp.tanh(W2 @ dnp.tanh(W1 @ x))
    x = rng.standard_normal(4)
    J, cost = explicit(f, x, order="forward")
    np.testing.assert_allclose(J, dr.jacobian(f, mode="forward")(x), rtol=1e-12, atol=1e-12)
    assert cost.multiply_adds == 256 * 4 + 512 * 256 * 4 + 512 * 4
    assert cost.local_jacobian_entries == 256 + 512  # the two diagonals; the weights are the program's


# --------------------------------------------------------------------------
# The structure algebra, by hand (no AD)
# --------------------------------------------------------------------------


def test_products_of_structures_stay_structured_and_count_what_they_do():
    d1, d2 = Diagonal(np.arange(1.0, 5.0), 4), Diagonal(np.full(4, 2.0), 4)
    label, cost = product(d1, d2, 4, 4, 4)
    assert isinstance(label, Diagonal) and cost == 4
    np.testing.assert_array_equal(label.vals, [2, 4, 6, 8])
    gather = Sparse(np.arange(3), np.array([3, 0, 0]), None, (3, 4))  # rows pick x3, x0, x0
    label, cost = product(gather, d1, 3, 4, 4)
    assert isinstance(label, Sparse) and cost == 0  # a 0-1 factor copies values: no multiplication
    np.testing.assert_array_equal(to_dense(label, (3, 4), float), [[0, 0, 0, 4], [1, 0, 0, 0], [1, 0, 0, 0]])
    dense = np.arange(8.0).reshape(4, 2)
    label, cost = product(gather, dense, 3, 4, 2)
    assert cost == 0  # a 0-1 gather copies rows: no multiplication
    np.testing.assert_array_equal(label, dense[[3, 0, 0]])
    summing = Sparse(np.zeros(4, dtype=np.int64), np.arange(4), None, (1, 4))
    label, cost = product(summing, d1, 1, 4, 4)
    np.testing.assert_array_equal(to_dense(label, (1, 4), float), [[1, 2, 3, 4]])
    assert product(DENSE, DENSE, 2, 3, 4) == (DENSE, 24)
    assert product(IDENTITY, d1, 4, 4, 4) == (d1, 0)


def test_sparse_times_sparse_sums_repeated_positions():
    scatter = Sparse(np.array([0, 0, 1]), np.array([0, 1, 2]), np.array([1.0, 2.0, 3.0]), (2, 3))
    gather = Sparse(np.array([0, 1, 2]), np.array([1, 1, 0]), np.array([5.0, 7.0, 11.0]), (3, 2))
    label, cost = product(scatter, gather, 2, 3, 2)
    want = to_dense(scatter, (2, 3), float) @ to_dense(gather, (3, 2), float)
    np.testing.assert_array_equal(to_dense(label, (2, 2), float), want)
    assert cost == 3


def test_plans_are_cached_per_graph_signature():
    f = lambda x: dnp.sum(dnp.tanh(dnp.tanh(x) * x))
    x = np.linspace(0.1, 1.0, 5)
    plans._CACHE.clear()
    explicit(f, x)
    assert len(plans._CACHE) == 1
    explicit(f, x + 1.0)  # same program, new values: no new plan
    assert len(plans._CACHE) == 1
    explicit(f, np.linspace(0.1, 1.0, 6))  # new sizes: a new plan
    assert len(plans._CACHE) == 2


# --------------------------------------------------------------------------
# Counts on known programs
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n_ops", [1, 5, 20])
@pytest.mark.parametrize("width", [3, 16])
def test_elementwise_chain_stays_diagonal_in_every_order(n_ops, width):
    def f(x):
        for _ in range(n_ops):
            x = dnp.tanh(x)
        return dnp.sum(x)

    x = np.linspace(-1, 1, width)
    for order in ("forward", "reverse", "optimal"):
        jac, cost = explicit(f, x, order)
        np.testing.assert_allclose(jac, dr.grad(f)(x), **TIGHT)
        # n_ops − 1 diagonal·diagonal products of D multiplications, the sum is 0-1
        assert cost.multiply_adds == (n_ops - 1) * width
        assert cost.local_jacobian_entries == n_ops * width
        assert cost.dense_local_jacobian_entries == n_ops * width**2 + width


@pytest.mark.parametrize("n_layers", [1, 4])
@pytest.mark.parametrize("width", [4, 16])
def test_dense_layers_structured_reverse_follows_backprop(n_layers, width):
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((width, width)) / width for _ in range(n_layers)]

    def f(x):
        for w in weights:
            x = dnp.tanh(x @ w)
        return dnp.sum(x)

    x = rng.standard_normal((1, width))
    _, dense = explicit(f, x, "reverse", structure="dense")
    assert dense.multiply_adds == 2 * n_layers * width**2
    _, cost = explicit(f, x, "reverse")
    # per layer: the row times tanh's diagonal (D) and times the D×D matmul (D²),
    # except that the first product from the 0-1 sum is a copy
    assert cost.multiply_adds == n_layers * width**2 + (n_layers - 1) * width
    assert cost.dense_multiply_adds == dense.multiply_adds


def test_dense_structure_reproduces_the_seed_counts():
    """4 layers at D = 16 (row input): forward / reverse / optimal as dense matrices."""
    rng = np.random.default_rng(1)
    weights = [rng.standard_normal((16, 16)) / 16 for _ in range(4)]

    def f(x):
        for w in weights:
            x = dnp.tanh(x @ w)
        return dnp.sum(x)

    x = rng.standard_normal((1, 16))
    counts = [explicit(f, x, order, structure="dense")[1].multiply_adds for order in ("forward", "reverse", "optimal")]
    assert counts == [28_928, 2_048, 2_048]


# --------------------------------------------------------------------------
# User orders, bad input
# --------------------------------------------------------------------------


def test_a_user_order_runs_and_is_priced():
    f = lambda x: dnp.sum(dnp.sin(x) * dnp.cos(x) + x)
    x = np.linspace(0, 1, 4)
    _, cost = explicit(f, x)
    inner = list(cost.intermediates)
    assert inner and cost.gaps and all(g >= 0 for g in cost.gaps.values())
    for order in (inner, inner[::-1]):
        jac, c = explicit(f, x, order=order)
        np.testing.assert_allclose(jac, np.cos(2 * x) + 1, **TIGHT)
        assert c.multiply_adds >= cost.candidates["exact"]


@pytest.mark.parametrize("bad", [[0], [1, 1], "sideways", 3, [1.5]])
def test_bad_orders_are_refused_with_the_choices(bad):
    f = lambda x: dnp.sum(dnp.sin(x) * dnp.cos(x))
    with pytest.raises((ValueError, TypeError), match="order"):
        explicit(f, np.ones(3), order=bad)


def test_unknown_structure_is_refused():
    with pytest.raises(ValueError, match="unknown structure 'sparse'.*'structured', 'dense'"):
        dr.jacobian(dnp.sin, mode="explicit", structure="sparse")
    with pytest.raises(ValueError, match="unknown structure"):
        dr.primitive(np.sin, structure="banded")


def test_budget_too_small_even_for_structures():
    f = lambda x: dnp.sum(dnp.tanh(x))
    with dr.explicit.memory_budget(10):
        with pytest.raises(dr.ExplicitMemoryError, match="bytes"):
            explicit(f, np.ones(100))
    with dr.explicit.memory_budget(100 * 100 * 8):  # too small for dense, enough for a diagonal
        explicit(f, np.ones(100))
        with pytest.raises(dr.ExplicitMemoryError):
            explicit(f, np.ones(100), structure="dense")


# --------------------------------------------------------------------------
# inf/NaN isolation, long chains, agreement on random programs
# --------------------------------------------------------------------------


def test_an_infinite_local_derivative_stays_on_its_paths():
    f = lambda x: dnp.where(x > 0, dnp.sqrt(x), 0.0)
    x = np.array([0.0, 1.0, 4.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        jac = dr.jacobian(f, mode="explicit")(x)
    assert np.isnan(jac[0, 0])
    np.testing.assert_array_equal(np.nan_to_num(jac, nan=-1), [[-1, 0, 0], [0, 0.5, 0], [0, 0, 0.25]])


def test_a_long_chain_plans_without_recursion_or_cubic_work():
    def f(x):
        for i in range(1000):
            x = dnp.sin(x) if i % 2 else x * 0.999
        return dnp.sum(x)

    x = np.linspace(0, 1, 4)
    jac, cost = explicit(f, x)
    np.testing.assert_allclose(jac, dr.grad(f)(x), rtol=1e-10)
    assert "chain DP" not in cost.candidates  # 1000 links: longer than the DP is run on
    assert cost.multiply_adds <= 1000 * 4


OPS = [
    lambda a: dnp.tanh(a),
    lambda a: a * a[::-1],
    lambda a: dnp.sum(dnp.reshape(a, (2, -1)), axis=0),
    lambda a: dnp.concatenate([a, dnp.exp(a[:2])]),
    lambda a: dnp.transpose(dnp.reshape(a, (2, -1))) @ np.ones(2),
    lambda a: dnp.where(a > 0, a, 0.5 * a),
    lambda a: a + dnp.sum(a),
]


@settings(max_examples=60)
@given(st.lists(st.integers(0, len(OPS) - 1), min_size=1, max_size=6), st.integers(0, 2**31 - 1))
def test_random_programs_structured_equals_dense_equals_reverse(ops, seed):
    def f(x):
        for k in ops:
            x = OPS[k](x)
            if x.size % 2:
                x = dnp.concatenate([x, x[:1]])
        return x

    x = np.random.default_rng(seed).standard_normal(4)
    want = dr.jacobian(f, mode="reverse")(x)
    for order in ("forward", "reverse", "optimal"):
        got, cost = explicit(f, x, order)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
        dense, dense_cost = explicit(f, x, order, structure="dense")
        np.testing.assert_allclose(dense, want, rtol=1e-9, atol=1e-12)
        if order == "optimal":
            assert cost.multiply_adds <= min(cost.candidates.values())
            rng = np.random.default_rng(seed)
            shuffled = list(rng.permutation(cost.intermediates))
            got, user = explicit(f, x, [int(v) for v in shuffled])
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
            if "exact" in cost.candidates:
                assert cost.candidates["exact"] <= user.multiply_adds


def test_nested_structured_explicit_hessians():
    f = lambda x: dnp.sum(dnp.tanh(x) ** 2 * x[::-1])
    x = np.linspace(-1, 1, 5)
    want = dr.hessian(f)(x)
    for mode in [("forward", "explicit"), ("explicit", "reverse"), ("explicit", "explicit")]:
        np.testing.assert_allclose(dr.hessian(f, mode=mode)(x), want, rtol=1e-10, atol=1e-12)


def test_nesting_at_scale_stays_far_below_the_memory_guard():
    """Order-2 and order-3 derivatives through tensordot of 120-element arrays and
    batched linalg, with explicit inside and outside, within a 64 MiB budget for
    the stored local Jacobians."""
    rng = np.random.default_rng(0)
    b = rng.standard_normal((5, 6, 3))
    f = lambda a: dnp.sum(dnp.tanh(dnp.tensordot(a, b, axes=2)) ** 2)
    a = rng.standard_normal((4, 5, 6))
    m = rng.standard_normal((3, 4, 4)) + 3 * np.eye(4)
    g = lambda m: dnp.sum(dnp.linalg.inv(m) ** 2) + dnp.sum(dnp.linalg.slogdet(m)[1])
    with dr.explicit.memory_budget(64 << 20):
        for fun, x in ((f, a), (g, m)):
            want = dr.hessian(fun)(x)
            for mode in [("explicit", "explicit"), ("forward", "explicit"), ("explicit", "reverse")]:
                np.testing.assert_allclose(dr.hessian(fun, mode=mode)(x), want, rtol=1e-8, atol=1e-10)
        h = lambda x: dnp.sum(dnp.sin(x) * x[::-1])
        x = np.linspace(0, 1, 30)
        third = dr.jacobian(dr.hessian(h, mode=("explicit", "explicit")), mode="explicit")(x)
        np.testing.assert_allclose(third, dr.jacobian(dr.hessian(h))(x), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------
# Block diagonals: a batch of rows through a matrix product
# --------------------------------------------------------------------------


def test_a_batch_of_rows_has_a_block_diagonal_jacobian():
    """∂(X W)/∂X = I_B ⊗ Wᵀ: B blocks, all the program's Wᵀ (a broadcast view,
    nothing stored); ∂(A b)/∂A = I ⊗ bᵀ; a stack B gives each row its own Bᵀ."""
    from dualrev.explicit.local import kron_jacobian
    from dualrev.explicit.structures import BlockDiagonal

    rng = np.random.default_rng(1)
    X, W, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    A, S = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 2))
    matmul = next(p for p in dnp.PRIMITIVES if p.name == "matmul")
    for args, shared in [((X, W), True), ((X, b), True), ((A, S), False)]:
        ans = matmul.impl(*args)
        entry = TapeEntry(matmul, ((0, matmul.jvp_rule(0), 0),), args, {}, ans, 1)
        label = kron_jacobian(entry, 0, matmul.jvp_rule(0))
        assert isinstance(label, BlockDiagonal) and label.shared == shared
        if shared:
            assert np.shares_memory(label.blocks, args[1])
        want = _dense_local_jacobian(matmul, args, {}, 0, ans)
        np.testing.assert_array_equal(to_dense(label, want.shape, np.float64), want)


def _block_cases(rng):
    from dualrev.explicit.structures import BlockDiagonal

    r, p, q = 3, 2, 4
    blocks = rng.standard_normal((r, p, q))
    F = rng.standard_normal((p, q))
    return BlockDiagonal(blocks, r, p, q), BlockDiagonal(np.broadcast_to(F, (r, p, q)), r, p, q, shared=True)


@pytest.mark.parametrize("which", [0, 1])
def test_block_diagonal_products_and_sums_equal_dense_and_count_per_block(which):
    from dualrev.explicit.algebra import add
    from dualrev.explicit.structures import BlockDiagonal, symbolic

    rng = np.random.default_rng(4)
    bd = _block_cases(rng)[which]
    m, k = bd.r * bd.p, bd.r * bd.q
    dense_bd = to_dense(bd, (m, k), np.float64)
    right = rng.standard_normal((k, 5))
    left = rng.standard_normal((6, m))
    other = BlockDiagonal(rng.standard_normal((bd.r, bd.q, 3)), bd.r, bd.q, 3)
    cases = [
        (bd, right, (m, k, 5), bd.nnz * 5),
        (left, bd, (6, m, k), 6 * bd.nnz),
        (Diagonal(rng.standard_normal(m), m), bd, (m, m, k), bd.nnz),
        (bd, Diagonal(rng.standard_normal(k), k), (m, k, k), bd.nnz),
        (bd, other, (m, k, bd.r * 3), bd.r * bd.p * bd.q * 3),
        (Sparse(np.array([0, 1]), np.array([1, m - 1]), None, (2, m)), bd, (2, m, k), 0),
    ]
    for outer, inner, (a, b, c), want_cost in cases:
        label, cost = product(outer, inner, a, b, c)
        want = to_dense(outer, (a, b), np.float64) @ to_dense(inner, (b, c), np.float64)
        np.testing.assert_allclose(to_dense(label, (a, c), np.float64), want, rtol=1e-13, atol=1e-13)
        assert cost == want_cost
        # the plan's symbolic product costs what the product does
        assert product(symbolic(outer), symbolic(inner), a, b, c)[1] == cost
    total, formed = add(bd, bd, (m, k))
    assert isinstance(total, BlockDiagonal) and formed == 0
    np.testing.assert_allclose(to_dense(total, (m, k), np.float64), 2 * dense_bd)
    # blocks beside another structure add as sparse matrices: exact, nothing formed
    square = BlockDiagonal(rng.standard_normal((3, 2, 2)), 3, 2, 2)
    diag = Diagonal(rng.standard_normal(6), 6)
    total, formed = add(square, diag, (6, 6))
    assert formed == 0
    np.testing.assert_allclose(to_dense(total, (6, 6), float), to_dense(square, (6, 6), float) + np.diag(diag.vals))


def test_per_sample_jacobians_of_a_batched_network_cost_per_block():
    """tanh(tanh(X W1) W2) on a batch X (B, D): the Jacobian is block diagonal
    (sample b's outputs depend on sample b alone); the explicit mode keeps it
    so — reverse order 2·B·K·H + B·K·H·D multiply-adds against 50·10⁶ with
    dense local Jacobians — and stores only the two tanh′ diagonals."""
    rng = np.random.default_rng(0)
    B, D, H, K = 16, 32, 24, 8
    W1, W2, X = rng.standard_normal((D, H)), rng.standard_normal((H, K)), rng.standard_normal((B, D))
    f = lambda X: dnp.tanh(dnp.tanh(X @ W1) @ W2)
    want = dr.jacobian(f, mode="reverse")(X)
    counts = {"reverse": 2 * B * K * H + B * K * H * D, "forward": B * H * D + B * K * H * D + B * K * D}
    for order, count in counts.items():
        J, cost = explicit(f, X, order=order)
        np.testing.assert_allclose(J, want, rtol=1e-13, atol=1e-13)
        assert cost.multiply_adds == count and cost.local_jacobian_entries == B * H + B * K
    J, cost = explicit(f, X)
    assert cost.multiply_adds == counts["reverse"] and cost.dense_multiply_adds > 400 * cost.multiply_adds
    np.testing.assert_allclose(explicit(f, X, structure="dense")[0], want, rtol=1e-13, atol=1e-13)


def test_a_matrix_function_on_a_stack_has_one_block_per_matrix():
    """inv, det, cholesky, pinv on a stack (structure="batched"): the Jacobian
    is block diagonal over the stack, formed from q directions (one identity
    basis of a single matrix, repeated), and a chain of them stays so."""
    from dualrev.explicit.local import batched_jacobian
    from dualrev.explicit.structures import BlockDiagonal

    rng = np.random.default_rng(3)
    A = rng.standard_normal((6, 3, 3)) + 3 * np.eye(3)
    inv = next(p for p in dnp.PRIMITIVES if p.name == "inv")
    ans = inv.impl(A)
    entry = TapeEntry(inv, ((0, inv.jvp_rule(0), 0),), (A,), {}, ans, 1)
    label = batched_jacobian(entry, 0, inv.jvp_rule(0))
    assert isinstance(label, BlockDiagonal) and (label.r, label.p, label.q) == (6, 9, 9)
    f = lambda A: dnp.linalg.det(dnp.linalg.inv(A) + A) * 2.0
    want = dr.jacobian(f, mode="reverse")(A)
    for order in ("forward", "reverse", "optimal"):
        J, cost = explicit(f, A, order=order)
        np.testing.assert_allclose(J, want, rtol=1e-12, atol=1e-12)
        # block by block, never the stack's 54×54 dense matrices
        assert cost.dense_multiply_adds > 50 * cost.multiply_adds
        if order != "forward":  # det's 1×9 rows through inv's 9×9 blocks, and three scalings of 6 rows
            assert cost.multiply_adds == 6 * (9 * 9 + 3 * 9)
