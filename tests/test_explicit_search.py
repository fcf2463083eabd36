"""The exact optimum over vertex elimination orders (``dualrev/explicit/search.py``,
``search_bounds.py``): equal to brute force on small graphs (structured and
dense, both random generators), every lower bound at most the cheapest
finish from random states, commuting eliminations commuting, the optimum
proven on fixed-seed chains, layer stacks and dense DAGs of 15-20
intermediate vertices (work counts asserted, never times), the reported
lower bound below every order's cost, and its work bounded."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.explicit import plans, search, search_bounds
from dualrev.explicit.graph import Graph, eliminate
from dualrev.explicit.linearize import linearised_graph
from experiments import dags


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
    """The search as ``order="optimal"`` runs it: from the cheapest heuristic."""
    costs = heuristics(graph, inner)
    name = min(costs, key=costs.get)
    start = plans.markowitz_order(graph, inner) if name == "markowitz" else plans.fold_plan(name, inner)
    return search.exact_search(graph, inner, start, costs[name], work_limit)


def search_from_forward(graph: Graph, inner: list[int], work_limit: int = search.WORK_LIMIT) -> search.SearchResult:
    """The search from the forward fold (a poor incumbent: more of the tree is searched)."""
    start = plans.fold_plan("forward", inner)
    return search.exact_search(graph, inner, start, plans.simulate(graph, start), work_limit)


def dag_of(seed: int, steps: int, structure: str = "structured"):
    program = dags.random_program(seed, steps=(steps, steps))
    return linearised_graph(lambda leaves: program.function(leaves[0]), [program.x], structure)


def batched_of(seed: int, steps: int, structure: str = "structured"):
    """A random program on a batch of rows X (B, d): matmuls by constant
    matrices (block-diagonal local Jacobians, I ⊗ Wᵀ), tanh, products and sums
    of equal shapes, row sums; every value nothing else read joins the output."""
    rng = np.random.default_rng(seed)
    B, d = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    plan, widths = [], [d]
    for _ in range(steps):
        a = int(rng.integers(max(0, len(widths) - 3), len(widths)))
        kind = str(rng.choice(["matmul", "tanh", "mul", "rowsum"]))
        partners = [b for b in range(len(widths)) if b != a and widths[b] == widths[a]]
        if kind == "matmul":
            W = rng.standard_normal((widths[a], int(rng.integers(1, 4))))
            plan.append(("matmul", a, W))
            widths.append(W.shape[1])
        elif kind == "mul" and partners:
            plan.append(("mul", a, int(rng.choice(partners))))
            widths.append(widths[a])
        elif kind == "rowsum" and widths[a] > 1:
            plan.append(("rowsum", a, None))
            widths.append(1)
        else:
            plan.append(("tanh", a, None))
            widths.append(widths[a])

    def f(X):
        values, read = [X], set()
        for kind, a, extra in plan:
            h = values[a]
            read.add(a)
            if kind == "matmul":
                values.append(h @ extra)
            elif kind == "mul":
                read.add(extra)
                values.append(h * values[extra])
            elif kind == "rowsum":
                values.append(dnp.sum(h, axis=1, keepdims=True))
            else:
                values.append(dnp.tanh(h))
        unread = [v for i, v in enumerate(values) if i not in read and i > 0]
        return unread[0] if len(unread) == 1 else dnp.concatenate(unread, axis=1)  # every value has B rows

    X = rng.standard_normal((B, d))
    return linearised_graph(lambda leaves: f(leaves[0]), [X], structure)


def small_graphs():
    """Fixed-seed graphs of 2-7 intermediate vertices from the three generators."""
    cases = []
    for structure in ("structured", "dense"):
        for seed in range(14):
            cases.append(("program", seed, 6, structure))
            cases.append(("dags", seed, 6, structure))
            cases.append(("batched", seed, 5, structure))
    return cases


def build(kind: str, seed: int, steps: int, structure: str):
    make = {"program": graph_of, "dags": dag_of, "batched": batched_of}[kind]
    graph, _, inner = make(seed, steps, structure)
    return graph, inner


def test_the_batched_generator_gives_block_diagonal_labels():
    from dualrev.explicit.structures import BlockDiagonal

    kinds = set()
    for seed in range(14):
        graph, _ = build("batched", seed, 5, "structured")
        kinds.update(type(m).__name__ for ps in graph.preds.values() for m in ps.values())
    assert BlockDiagonal.__name__ in kinds


def brute_force(graph: Graph, inner: list[int], prefix: tuple = ()) -> int:
    """The cheapest cost of finishing after ``prefix``, over every order of the rest."""
    rest = [v for v in inner if v not in prefix]
    done = plans.simulate(graph, list(prefix))
    return min(plans.simulate(graph, list(prefix) + list(order)) for order in itertools.permutations(rest)) - done


@pytest.mark.parametrize("structure", ["structured", "dense"])
@pytest.mark.parametrize("seed", range(12))
def test_exact_equals_brute_force_on_small_dags(seed, structure):
    graph, _, inner = graph_of(seed, 5, structure)
    if not 2 <= len(inner) <= 7:
        pytest.skip(f"{len(inner)} intermediate vertices")
    brute = min(plans.simulate(graph, list(order)) for order in itertools.permutations(inner))
    found = search_from_forward(graph, inner)
    assert found.proven and found.lower_bound == found.cost
    assert found.cost == brute == plans.simulate(graph, found.order)
    assert sorted(found.order) == inner


@pytest.mark.parametrize("case", small_graphs(), ids=lambda c: "-".join(map(str, c)))
def test_every_pruning_rule_keeps_the_brute_force_optimum(case):
    """Forced moves, commuting moves skipped, the vertex and path floors and the
    memo together: the optimum equals trying every order, from a poor incumbent
    (the forward fold) and from an impossible one (cost 0 + everything: no cut
    by the incumbent until an order is found)."""
    graph, inner = build(*case)
    if not 2 <= len(inner) <= 7:
        pytest.skip(f"{len(inner)} intermediate vertices")
    brute = brute_force(graph, inner)
    for start, cost in ((plans.fold_plan("forward", inner), None), (plans.fold_plan("reverse", inner), 10**12)):
        found = search.exact_search(graph, inner, start, plans.simulate(graph, start) if cost is None else cost)
        assert found.proven and found.cost == brute == plans.simulate(graph, found.order)


@pytest.mark.parametrize("case", small_graphs(), ids=lambda c: "-".join(map(str, c)))
def test_lower_bounds_never_exceed_the_cheapest_finish(case):
    """Admissibility: from random partial orders, the vertex floors' sum and the
    path bound are at most the cheapest finish (brute force), and each vertex
    floor at most what eliminating that vertex costs in the cheapest finish
    found (every vertex floor holds whenever the vertex is eliminated)."""
    graph, inner = build(*case)
    if not 2 <= len(inner) <= 7:
        pytest.skip(f"{len(inner)} intermediate vertices")
    rng = np.random.default_rng(case[1])
    for _ in range(3):
        prefix = tuple(int(v) for v in rng.permutation(inner)[: int(rng.integers(0, len(inner)))])
        table = search._Interned()
        state = search._State(graph, table, inner)
        floors = search_bounds.Floors(graph, inner, state)
        for v in prefix:
            _, record = state.eliminate(v)
            floors.eliminated(v, record)
            state.remaining.discard(v)
        rest = [v for v in inner if v not in prefix]
        cheapest = brute_force(graph, inner, prefix)
        assert floors.total <= cheapest and search_bounds.path_floor(floors) <= cheapest
        for order in itertools.islice(itertools.permutations(rest), 30):  # vertex by vertex, on any finish
            sim = graph.symbolic()
            for v in prefix:
                eliminate(sim, v)
            for v in order:
                assert floors.floors[v] <= eliminate(sim, v), (prefix, order, v)


@pytest.mark.parametrize("case", small_graphs()[::2], ids=lambda c: "-".join(map(str, c)))
def test_commuting_eliminations_give_the_same_cost_and_state(case):
    """Every pair the partial-order reduction treats as commuting gives the same
    summed cost and the same state key in either order."""
    graph, inner = build(*case)
    if len(inner) < 2:
        pytest.skip("fewer than 2 intermediate vertices")
    for v in inner:
        state = search._State(graph, search._Interned(), inner)
        _, record = state.eliminate(v)
        state.remaining.discard(v)
        for x in search.commuting(state, v, record):
            assert x < v
            costs, keys = [], []
            for first, second in ((v, x), (x, v)):
                s = search._State(graph, state.table, inner)
                total = 0
                for u in (first, second):
                    total += s.eliminate(u)[0]
                    s.remaining.discard(u)
                costs.append(total)
                keys.append(s.key())
            assert costs[0] == costs[1] and keys[0] == keys[1]


def test_commuting_pairs_are_found_and_shared_non_terminal_targets_are_not_commuting():
    """The reduction is not vacuous on these graphs, and a pair that adds into a
    common edge whose target is still to be eliminated is never skipped."""
    pairs = 0
    for case in small_graphs()[::2]:
        graph, inner = build(*case)
        for v in inner:
            state = search._State(graph, search._Interned(), inner)
            pv, sv = set(graph.preds[v]), set(graph.succs[v])
            _, record = state.eliminate(v)
            state.remaining.discard(v)
            found = search.commuting(state, v, record)
            pairs += len(found)
            for x in found:
                shared = [(p, w) for p in pv & set(graph.preds[x]) for w in sv & graph.succs[x]]
                assert all(p not in state.remaining and w not in state.remaining for p, w in shared)
    assert pairs > 20


# The reach: fixed-seed graphs of 15-20 intermediate vertices whose optimum the
# search proves within a work bound of 30 000 (``search_budget(30_000)``; the
# default is 10 000) — work counts measured at the commit that added them,
# asserted with headroom: a regression in the bounds or the pruning shows up as
# a failed proof or a larger count.
REACH_BUDGET = 30_000
def chain(length: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    sizes = {i: int(rng.integers(2, 30)) for i in range(length + 2)}
    g = Graph(sizes)
    for i in range(length + 1):
        g.add_edge(i, i + 1, rng.standard_normal((sizes[i + 1], sizes[i])))
    return g, list(range(1, length + 1))


def layer_stack(depth: int, width: int = 8, seed: int = 1):
    """tanh(W_d … tanh(W_1 x)): 2·depth - 1 intermediate vertices."""
    rng = np.random.default_rng(seed)
    Ws = [rng.standard_normal((width, width)) for _ in range(depth)]

    def f(leaves):
        x = leaves[0]
        for W in Ws:
            x = dnp.tanh(W @ x)
        return x

    graph, _, inner = linearised_graph(f, [rng.standard_normal(width)], "structured")
    return graph, inner


REACH = {
    "chain 16": (lambda: chain(16), 16, 14_000),
    "chain 20": (lambda: chain(20), 20, 2_500),
    "layer stack 8": (lambda: layer_stack(8), 15, 100),
    "layer stack 10": (lambda: layer_stack(10), 19, 100),
    "dense DAG 303": (lambda: graph_of(303, 18, "dense")[::2], 18, 4_000),
    "dense DAG 305": (lambda: graph_of(305, 18, "dense")[::2], 18, 16_000),
    "dense DAG 311": (lambda: graph_of(311, 18, "dense")[::2], 18, 3_000),
}


@pytest.mark.parametrize("name", list(REACH))
def test_the_optimum_is_proven_on_graphs_of_15_to_20_intermediates(name):
    make, n, work = REACH[name]
    graph, inner = make()
    assert len(inner) == n
    found = search_from_best(graph, inner, work_limit=REACH_BUDGET)
    assert found.proven and found.lower_bound == found.cost, found
    assert found.work <= work, found.work
    assert found.cost == plans.simulate(graph, found.order)
    assert all(found.cost <= c for c in heuristics(graph, inner).values())
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert found.cost <= plans.simulate(graph, [int(v) for v in rng.permutation(inner)])
    if name.startswith("chain"):  # the matrix-chain DP is exact on dense chains
        assert found.cost == plans.simulate(graph, plans.chain_dp(graph, list(range(n + 2)))[0])


@pytest.mark.parametrize("structure", ["structured", "dense"])
@pytest.mark.parametrize("seed", range(4))
def test_the_lower_bound_of_an_unfinished_search_is_below_every_order(seed, structure):
    """Stopped by its work bound, the search's lower bound is at most the best
    order found, every heuristic, random orders and (small graphs) the optimum."""
    graph, _, inner = graph_of(100 + seed, 16, structure)
    found = search_from_best(graph, inner, work_limit=2_000)
    assert not found.proven and found.work <= 2_000
    assert 0 <= found.lower_bound <= found.cost
    assert all(found.lower_bound <= c for c in heuristics(graph, inner).values())
    rng = np.random.default_rng(seed)
    for _ in range(20):
        assert found.lower_bound <= plans.simulate(graph, [int(v) for v in rng.permutation(inner)])
    small, _, few = graph_of(seed, 6, structure)
    if 3 <= len(few) <= 7:
        stopped = search_from_forward(small, few, work_limit=5)
        assert stopped.lower_bound <= brute_force(small, few) <= stopped.cost


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
    assert explicit.lower_bound == explicit.candidates["exact"] and explicit.gap_ranges == {}


def test_unproven_search_is_named_best_found_and_reports_gap_ranges(monkeypatch):
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
    # the gaps as ranges: above the best order found, and above the proven lower bound
    best, lower = explicit.candidates["best found"], explicit.lower_bound
    assert 0 < lower <= best and set(explicit.gap_ranges) == set(explicit.candidates)
    for name, (low, high) in explicit.gap_ranges.items():
        c = explicit.candidates[name]
        assert low == c / best - 1 and high == c / lower - 1 and 0 <= low <= high


def test_a_larger_search_budget_proves_what_the_default_does_not():
    """dualrev.explicit.search_budget raises the exact search's work bound in a
    with block; plans are cached per budget, so the default's unproven plan is
    not reused, and the default is back afterwards."""
    graph, inputs, inner = graph_of(305, 18, "dense")  # 18 intermediates
    default = plans.plans_for(graph, inputs, inner, "optimal")
    assert "best found" in default and "exact" not in default  # the default bound stops short of the proof
    with dr.explicit.search_budget(REACH_BUDGET):
        larger = plans.plans_for(graph, inputs, inner, "optimal")
    assert "exact" in larger and larger["exact"].cost <= default["best found"].cost
    assert default["best found"].lower_bound <= larger["exact"].cost == larger["exact"].lower_bound
    assert search.WORK_LIMIT == 10_000 and plans.plans_for(graph, inputs, inner, "optimal") is default
    with pytest.raises(ValueError, match="search_budget: expected a positive number"):
        with dr.explicit.search_budget(0):
            pass
