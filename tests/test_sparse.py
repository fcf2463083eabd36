"""Sparse Jacobians and Hessians (dualrev/sparse): detected patterns, colourings,
compressed passes equal to the dense matrices, bad input, and the SciPy
integrations (solve_ivp with a BDF Jacobian, trust-constr with a sparse Hessian)."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp
from scipy.optimize import minimize

import dualrev as dr
import dualrev.numpy as dnp


def shift(x, k):
    """x shifted by k places, zeros coming in (a banded coupling)."""
    z = np.zeros(abs(k))
    return dnp.concatenate([x[k:], z]) if k > 0 else dnp.concatenate([z, x[:k]])


def banded(n, width=1):
    def f(x):
        out = dnp.sin(x) * x
        for k in range(1, width + 1):
            out = out + 0.5 * shift(x, k) ** 2 - dnp.tanh(shift(x, -k))
        return out

    return f


def block_diagonal(n, b):
    def f(x):
        blocks = dnp.reshape(x, (n // b, b))
        w = np.random.default_rng(b).standard_normal((b, b))
        mixed = dnp.sum(dnp.exp(0.3 * blocks)[:, :, None] * w, axis=1)  # exact block pattern (matmul: dense)
        return dnp.reshape(mixed, (n,)) * x

    return f


def stencil(side):
    def f(x):
        g = dnp.reshape(x, (side, side))
        pad = dnp.concatenate([np.zeros((1, side)), g, np.zeros((1, side))], axis=0)
        pad = dnp.concatenate([np.zeros((side + 2, 1)), pad, np.zeros((side + 2, 1))], axis=1)
        lap = pad[:-2, 1:-1] + pad[2:, 1:-1] + pad[1:-1, :-2] + pad[1:-1, 2:] - 4 * g
        return dnp.reshape(lap + g**3, (side * side,))

    return f


def index_map(n, m, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)

    def f(x):
        return dnp.sin(x[a]) * x[b] + x[b] ** 2

    return f


PROGRAMS = {
    "banded": lambda n, p, s: banded(n, 1 + p % 3),
    "block": lambda n, p, s: block_diagonal(n - n % (2 + p % 4), 2 + p % 4),
    "index_map": lambda n, p, s: index_map(n, n + p, s),
}


def dense(f, x):
    return np.asarray(dr.jacobian(f, mode="forward")(x)).reshape(-1, x.size)


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(sorted(PROGRAMS)), n=st.integers(4, 40), p=st.integers(0, 7), seed=st.integers(0, 99),
       mode=st.sampled_from(["auto", "forward", "reverse"]))
def test_sparse_jacobian_equals_dense_on_random_programs(kind, n, p, seed, mode):
    f = PROGRAMS[kind](n, p, seed)
    size = n - n % (2 + p % 4) if kind == "block" else n
    x = np.random.default_rng(seed).uniform(0.2, 1.5, size)
    ref = dense(f, x)
    pattern = dr.jacobian_sparsity(f)(x)
    assert pattern.dtype == bool and pattern.shape == ref.shape
    assert not np.any((ref != 0) & ~pattern.toarray()), "a nonzero outside the detected pattern"
    jac = dr.jacobian(f, mode=mode, sparse=True)(x)
    assert sp.isspmatrix_csr(jac)
    np.testing.assert_allclose(jac.toarray(), ref, rtol=1e-12, atol=1e-14)


def test_detected_patterns_are_exact_for_structured_ops():
    side = 6
    x = np.random.default_rng(0).uniform(0.5, 1.5, side * side)
    for f, xx in ((banded(30, 2), x[:30]), (stencil(side), x), (index_map(30, 50, 1), x[:30])):
        np.testing.assert_array_equal(dr.jacobian_sparsity(f)(xx).toarray(), dense(f, xx) != 0)


def test_dense_op_with_a_constant_matrix_is_a_conservative_dense_block():
    a = np.eye(5)
    pattern = dr.jacobian_sparsity(lambda x: a @ x)(np.ones(5))
    assert pattern.nnz == 25  # the identity, but matmul is a dense-structure op


def test_stencil_equals_dense_and_colour_counts():
    side = 12
    f = stencil(side)
    x = np.random.default_rng(3).uniform(0.5, 1.5, side * side)
    jac, cost = dr.jacobian(f, sparse=True, return_cost=True)(x)
    np.testing.assert_allclose(jac.toarray(), dense(f, x), rtol=1e-12)
    assert cost.passes == 1 and cost.colours == cost.directions <= 8


def test_colour_counts_tridiagonal_and_grid():
    n = 10_000
    tri = sp.diags([1, 1, 1], [-1, 0, 1], shape=(n, n), dtype=bool)
    assert dr.colouring(tri, "column").n_colours == 3
    assert dr.colouring(tri, "row").n_colours == 3
    assert dr.colouring(tri, "star").n_colours == 3
    side = 100
    path = sp.diags([1, 1, 1], [-1, 0, 1], shape=(side, side), dtype=bool).tocsr()
    grid = sp.kron(sp.eye(side, dtype=bool), path) + sp.kron(path, sp.eye(side, dtype=bool))
    assert dr.colouring(grid, "column").n_colours == 7  # greedy largest_first; the optimum is 5
    small = sp.kron(sp.eye(20, dtype=bool), path[:20, :20]) + sp.kron(path[:20, :20], sp.eye(20, dtype=bool))
    assert dr.colouring(small, "column", strategy="best").n_colours <= 7


def test_tridiagonal_jacobian_uses_three_directions():
    f = banded(10_000, 1)
    x = np.random.default_rng(0).uniform(0.5, 1.5, 10_000)
    jac, cost = dr.jacobian(f, sparse=True, return_cost=True)(x)
    assert cost.colours == 3 and cost.directions == 3 and jac.nnz == 3 * 10_000 - 2
    small = banded(50, 1)
    np.testing.assert_allclose(dr.jacobian(small, sparse=True)(x[:50]).toarray(), dense(small, x[:50]), rtol=1e-12)


def chain(x):
    return dnp.sum((x[1:] - x[:-1] ** 2) ** 2 + 0.1 * dnp.cos(x[1:] * x[:-1])) + dnp.sum(dnp.tanh(x))


def test_hessian_of_a_chain_sum_takes_three_passes():
    x = np.random.default_rng(1).uniform(-1, 1, 40)
    pattern = dr.hessian_sparsity(chain)(x)
    ref = np.asarray(dr.hessian(chain)(x))
    np.testing.assert_array_equal(pattern.toarray(), ref != 0)
    hess, cost = dr.hessian(chain, sparse=True, return_cost=True)(x)
    assert cost.colours <= 3 and cost.directions <= 3 and cost.mode == "forward-over-reverse"
    np.testing.assert_allclose(hess.toarray(), ref, rtol=1e-12, atol=1e-14)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(3, 30), seed=st.integers(0, 99), m=st.integers(1, 40))
def test_sparse_hessian_equals_dense_on_random_programs(n, seed, m):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)

    def f(x):
        return dnp.sum(dnp.sin(x[a]) * x[b]) + dnp.sum(x**3)

    x = rng.uniform(0.2, 1.5, n)
    ref = np.asarray(dr.hessian(f)(x))
    hess = dr.hessian(f, sparse=True)(x)
    np.testing.assert_allclose(hess.toarray(), ref, rtol=1e-11, atol=1e-13)


def test_pattern_and_colouring_are_reused():
    f = banded(200, 2)
    x = np.random.default_rng(2).uniform(0.5, 1.5, 200)
    pattern = dr.jacobian_sparsity(f)(x)
    col = dr.colouring(pattern, "row")
    jac, cost = dr.jacobian(f, sparsity=pattern, coloring=col, return_cost=True)(x)
    assert cost.mode == "reverse" and cost.verified and cost.colour_seconds == 0 and cost.detect_seconds < 0.1
    np.testing.assert_allclose(jac.toarray(), dense(f, x), rtol=1e-12)


def test_wrong_pattern_is_an_error():
    f = banded(20, 2)
    x = np.random.default_rng(2).uniform(0.5, 1.5, 20)
    tri = sp.diags([1, 1, 1], [-1, 0, 1], shape=(20, 20), dtype=bool)
    for mode in ("forward", "reverse"):
        with pytest.raises(ValueError, match="pattern is wrong for this function"):
            dr.jacobian(f, mode=mode, sparsity=tri)(x)
    with pytest.raises(ValueError, match="pattern is wrong for this function"):
        dr.hessian(chain, sparsity=sp.eye(20, dtype=bool))(x)
    with pytest.raises(ValueError, match="columns but the differentiated input has"):
        dr.jacobian(f, sparsity=sp.eye(21, dtype=bool))(x)


def test_invalid_colouring_is_an_error():
    f = banded(20, 1)
    x = np.ones(20)
    pattern = dr.jacobian_sparsity(f)(x)
    bad = dr.Colouring("column", np.arange(20) % 2, (20, 20), "by hand")
    with pytest.raises(ValueError, match="share colour .* but both have a nonzero in row"):
        dr.jacobian(f, colouring=bad)(x)
    with pytest.raises(ValueError, match="star colouring is not valid"):
        dr.hessian(chain, colouring=dr.Colouring("star", np.arange(20) % 2, (20, 20), "by hand"))(x)
    with pytest.raises(ValueError, match="star colouring is for dr.hessian"):
        dr.jacobian(f, colouring=dr.colouring(pattern, "star"))(x)
    with pytest.raises(ValueError, match="colouring= or its alias"):
        dr.jacobian(f, colouring=bad, coloring=bad)
    with pytest.raises(TypeError, match="must be a dr.Colouring"):
        dr.jacobian(f, colouring=[0, 1])(x)


def brusselator(n, alpha=0.02, a=1.0, b=3.0):
    """A 1-D Brusselator reaction–diffusion system on [0, 1], y = (u, v), 2n unknowns."""
    h2 = (1.0 / (n + 1)) ** 2

    def rhs(y):
        u, v = y[:n], y[n:]
        lap_u = (dnp.concatenate([np.ones(1), u[:-1]]) - 2 * u + dnp.concatenate([u[1:], np.ones(1)])) / h2
        lap_v = (dnp.concatenate([np.full(1, b), v[:-1]]) - 2 * v + dnp.concatenate([v[1:], np.full(1, b)])) / h2
        du = a + u * u * v - (b + 1) * u + alpha * lap_u
        dv = b * u - u * u * v + alpha * lap_v
        return dnp.concatenate([du, dv])

    xs = np.linspace(0, 1, n + 2)[1:-1]
    return rhs, np.concatenate([1 + np.sin(2 * np.pi * xs), np.full(n, b)])


def test_solve_ivp_bdf_with_the_sparse_jacobian():
    rhs, y0 = brusselator(200)
    pattern = dr.jacobian_sparsity(rhs)(y0)
    col = dr.colouring(pattern, "column")
    jac = dr.jacobian(rhs, sparsity=pattern, colouring=col)
    sol = solve_ivp(lambda t, y: np.asarray(rhs(y)), (0, 2), y0, method="BDF", jac=lambda t, y: jac(y),
                    rtol=1e-6, atol=1e-8)
    assert sol.success and sol.njev > 0 and col.n_colours <= 6
    ref = solve_ivp(lambda t, y: np.asarray(rhs(y)), (0, 2), y0, method="BDF", jac_sparsity=pattern,
                    rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(sol.y[:, -1], ref.y[:, -1], rtol=1e-4, atol=1e-5)


def test_trust_constr_with_the_sparse_hessian():
    n = 200
    target = np.linspace(0.5, 2.0, n)

    def energy(x):  # strictly convex, chain-coupled: a tridiagonal Hessian
        return dnp.sum(dnp.exp(x) - target * x) + dnp.sum((x[1:] - x[:-1]) ** 2)

    hess = dr.hessian(energy, sparse=True)
    res = minimize(lambda x: float(energy(x)), np.zeros(n), jac=dr.grad(energy), hess=hess, method="trust-constr",
                   options={"gtol": 1e-10})
    assert res.success and sp.issparse(hess(res.x))
    assert np.max(np.abs(dr.grad(energy)(res.x))) < 1e-6


def test_the_docs_sparse_section_runs():
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    section = text[text.index("## Sparse Jacobians and Hessians") :]
    blocks = re.findall(r"^```python\n(.*?)^```", section, re.S | re.M)
    assert len(blocks) >= 5
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/api.md[sparse]", "exec"), namespace)  # noqa: S102 - our own documentation
    assert namespace["sol"].success and namespace["res"].success
