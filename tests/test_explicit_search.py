"""The exact optimum over vertex elimination orders (``dualrev/explicit/search.py``):
equal to brute force on small graphs, never above a heuristic or a user's
order on graphs of 12-20 intermediate vertices, and its work bounded (counts,
never times)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.explicit import plans, search
from dualrev.explicit.graph import Graph
from dualrev.explicit.linearize import linearised_graph


def random_program(seed: int, steps: int):
    """A random NumPy program on a vector: elementwise ops, products and sums
    with fan-in, small matmuls, slices, concatenations and sums; every value
    nothing else read joins the output."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 7))
    plan = []
    sizes = [n]
    for _ in range(steps):
        a = int(rng.integers(max(0, len(sizes) - 4), len(sizes)))
        kind = str(rng.choice(["tanh", "sin", "mul", "add", "matmul", "slice", "concat", "sum"]))
        partners = [b for b in range(len(sizes)) if b != a and sizes[b] == sizes[a]]
        if kind in ("mul", "add") and partners:
            b = int(rng.choice(partners))
            plan.append((kind, a, b, None))
        elif kind == "matmul":
            W = rng.standard_normal((int(rng.integers(1, 9)), sizes[a]))
            plan.append((kind, a, None, W))
            sizes.append(W.shape[0])
            continue
        elif kind == "slice" and sizes[a] > 1:
            plan.append((kind, a, None, None))
            sizes.append(sizes[a] - 1)
            continue
        elif kind == "concat":
            b = int(rng.integers(0, len(sizes)))
            plan.append((kind, a, b, None))
            sizes.append(sizes[a] + sizes[b])
            continue
        elif kind == "sum":
            plan.append((kind, a, None, None))
            sizes.append(1)
            continue
        else:
            plan.append(("tanh" if kind != "sin" else "sin", a, None, None))
        sizes.append(sizes[a])

    def f(x):
        values, read = [x], set()
        for kind, a, b, W in plan:
            read.update(i for i in (a, b) if i is not None)
            va = values[a]
            if kind == "tanh":
                values.append(dnp.tanh(va))
            elif kind == "sin":
                values.append(dnp.sin(va))
            elif kind == "mul":
                values.append(va * values[b])
            elif kind == "add":
                values.append(va + values[b])
            elif kind == "matmul":
                values.append(W @ va)
            elif kind == "slice":
                values.append(va[1:])
            elif kind == "concat":
                values.append(dnp.concatenate([va, values[b]]))
            else:
                values.append(dnp.sum(va, keepdims=True))
        unread = [v for i, v in enumerate(values) if i not in read and i > 0]
        return dnp.concatenate(unread) if len(unread) > 1 else unread[0]

    return f, rng.standard_normal(n)


def graph_of(seed: int, steps: int, structure: str = "structured"):
    f, x = random_program(seed, steps)
    return linearised_graph(lambda leaves: f(leaves[0]), [x], structure)


def heuristics(graph: Graph, inner: list[int]) -> dict[str, int]:
    orders = {name: plans.fold_plan(name, inner) for name in ("forward", "reverse")}
    orders["markowitz"] = plans.markowitz_order(graph, inner)
    return {name: plans.simulate(graph, order) for name, order in orders.items()}


def search_from_best(graph: Graph, inner: list[int], work_limit: int = search.WORK_LIMIT) -> search.SearchResult:
    start = plans.fold_plan("forward", inner)
    return search.exact_search(graph, inner, start, plans.simulate(graph, start), work_limit)


@pytest.mark.parametrize("structure", ["structured", "dense"])
@pytest.mark.parametrize("seed", range(12))
def test_exact_equals_brute_force_on_small_dags(seed, structure):
    graph, _, inner = graph_of(seed, 5, structure)
    if not 2 <= len(inner) <= 7:
        pytest.skip(f"{len(inner)} intermediate vertices")
    brute = min(plans.simulate(graph, list(order)) for order in itertools.permutations(inner))
    found = search_from_best(graph, inner)
    assert found.proven
    assert found.cost == brute == plans.simulate(graph, found.order)
    assert sorted(found.order) == inner


def test_exact_equals_brute_force_on_a_hand_made_structured_graph():
    rng = np.random.default_rng(3)
    sizes = {0: 3, 1: 5, 2: 2, 3: 6, 4: 4, 5: 1}
    g = Graph(sizes)
    for u, v in [(0, 1), (0, 2), (1, 3), (2, 3), (1, 4), (3, 5), (4, 5), (2, 4)]:
        g.add_edge(u, v, rng.standard_normal((sizes[v], sizes[u])))
    inner = [1, 2, 3, 4]
    brute = min(plans.simulate(g, list(o)) for o in itertools.permutations(inner))
    assert plans.simulate(g, plans.exact_order(g, inner)) == brute


@pytest.mark.parametrize("structure", ["structured", "dense"])
@pytest.mark.parametrize("seed", range(8))
def test_on_12_to_20_intermediates_never_above_a_heuristic_or_a_user_order(seed, structure):
    graph, _, inner = graph_of(100 + seed, 16, structure)
    assert 12 <= len(inner) <= 20, len(inner)
    found = search_from_best(graph, inner)
    assert found.cost == plans.simulate(graph, found.order)
    assert found.work <= search.WORK_LIMIT  # the work bound, whether or not the optimum was proven
    assert all(found.cost <= c for c in heuristics(graph, inner).values())
    if found.proven:  # else the best found within the bound: a random order may still beat it
        rng = np.random.default_rng(seed)
        for _ in range(10):
            assert found.cost <= plans.simulate(graph, [int(v) for v in rng.permutation(inner)])


@pytest.mark.parametrize("length", [12, 13, 15])
def test_dense_chains_of_12_to_15_are_solved_exactly_within_the_bound(length):
    rng = np.random.default_rng(0)
    sizes = {i: int(rng.integers(2, 30)) for i in range(length + 2)}
    g = Graph(sizes)
    for i in range(length + 1):
        g.add_edge(i, i + 1, rng.standard_normal((sizes[i + 1], sizes[i])))
    inner = list(range(1, length + 1))
    found = search_from_best(g, inner)
    assert found.proven and found.work <= search.WORK_LIMIT
    # the matrix-chain DP is exact on dense chains
    assert found.cost == plans.simulate(g, plans.chain_dp(g, list(range(length + 2)))[0])
    assert all(found.cost <= c for c in heuristics(g, inner).values())
    for _ in range(20):
        assert found.cost <= plans.simulate(g, [int(v) for v in rng.permutation(inner)])


def test_the_work_bound_stops_the_search_and_is_reported():
    graph, _, inner = graph_of(107, 16, "dense")
    found = search_from_best(graph, inner, work_limit=50)
    assert not found.proven and found.work <= 50
    assert found.cost <= plans.simulate(graph, plans.fold_plan("forward", inner))
    assert search_from_best(graph, inner, work_limit=50) == found  # deterministic


def test_the_cost_report_lists_gaps_to_the_exact_optimum():
    W1, W2 = np.ones((4, 12)) / 12, np.ones((12, 4)) / 4
    f = lambda x: dnp.tanh(W2 @ dnp.tanh(W1 @ x))
    _, cost = dr.jacobian(f, mode="explicit", return_cost=True)(np.linspace(0, 1, 12))
    explicit = cost.explicit
    assert "exact" in explicit.candidates and explicit.multiply_adds == explicit.candidates["exact"]
    assert set(explicit.gaps) == set(explicit.candidates) - {"exact"}
    assert all(g >= 0 for g in explicit.gaps.values())


def test_unproven_search_is_named_best_found_and_reports_no_gaps(monkeypatch):
    monkeypatch.setattr(search, "WORK_LIMIT", 3)
    monkeypatch.setattr(search.exact_search, "__defaults__", (3,))
    plans._CACHE.clear()
    f, x = random_program(107, 16)
    try:
        _, cost = dr.jacobian(f, mode="explicit", return_cost=True)(x)
    finally:
        plans._CACHE.clear()
    explicit = cost.explicit
    assert "exact" not in explicit.candidates and "best found" in explicit.candidates
    assert explicit.gaps == {}
    assert explicit.multiply_adds == min(explicit.candidates.values())
