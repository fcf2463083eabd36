"""Elimination orders (plans) and their symbolic costs.

Every accumulation order is a vertex elimination order. A plan is simulated
on a symbolic copy of the graph (sizes only) before any product is formed, so
``order="optimal"`` can compare candidates exactly under the cost model.
"""

from __future__ import annotations

from .graph import IDENTITY, Graph, eliminate, elimination_cost


def simulate(graph: Graph, order: list[int]) -> int:
    sim = graph.symbolic()
    return sum(eliminate(sim, v) for v in order)


def _markowitz_order(graph: Graph, intermediates: list[int]) -> list[int]:
    """Greedy: always eliminate the vertex that is cheapest to eliminate now
    (ties: earliest in execution order)."""
    sim = graph.symbolic()
    remaining = set(intermediates)
    costs = {v: elimination_cost(sim, v) for v in remaining}
    order = []
    while remaining:
        v = min(remaining, key=lambda x: (costs[x], x))
        neighbours = set(sim.preds[v]) | sim.succs[v]
        eliminate(sim, v)
        remaining.discard(v)
        order.append(v)
        for n in neighbours & remaining:
            costs[n] = elimination_cost(sim, n)
    return order


def _chains(graph: Graph, inputs: list[int], intermediates: set[int]) -> list[list[int]] | None:
    """The paths input → ... → output when every intermediate has exactly one
    predecessor and one successor; None when the graph is not made of chains."""
    for v in intermediates:
        if len(graph.preds[v]) != 1 or len(graph.succs[v]) != 1:
            return None
    paths = []
    for x in inputs:
        for w in sorted(graph.succs.get(x, ())):
            path = [x, w]
            while path[-1] in intermediates:
                (nxt,) = graph.succs[path[-1]]
                path.append(nxt)
            paths.append(path)
    return paths


def _chain_dp(graph: Graph, path: list[int]) -> tuple[list[int], str]:
    """Optimal bracketing of the chain ``path`` (vertices p_0 … p_L; matrix k
    maps p_{k-1} to p_k) by the classic matrix-chain dynamic programme.

    ``best[i][j]`` is the cheapest way to form ∂p_j/∂p_i; splitting at k means
    forming ∂p_k/∂p_i and ∂p_j/∂p_k first and then eliminating p_k, which
    costs size_j · size_k · size_i. Returns the elimination order (a post-order
    of the split tree) and the bracketing as text."""
    sizes = [graph.sizes[p] for p in path]
    L = len(path) - 1
    best = [[0] * (L + 1) for _ in range(L + 1)]
    split = [[0] * (L + 1) for _ in range(L + 1)]
    for length in range(2, L + 1):
        for i in range(0, L - length + 1):
            j = i + length
            choices = ((best[i][k] + best[k][j] + sizes[j] * sizes[k] * sizes[i], k) for k in range(i + 1, j))
            best[i][j], split[i][j] = min(choices)

    order: list[int] = []
    names = []
    for k in range(1, L + 1):
        label = graph.preds[path[k]][path[k - 1]]
        names.append(f"J{k}[{sizes[k]}x{sizes[k - 1]}]" if label is not IDENTITY else f"I{k}")

    def walk(i: int, j: int) -> str:
        if j - i == 1:
            return names[i]
        k = split[i][j]
        left, right = walk(k, j), walk(i, k)
        order.append(path[k])
        return f"({left}·{right})"

    text = walk(0, L)
    return order, text


_PLAN_TEXT = {
    "forward": "forward (foldl): eliminate the {n} intermediate vertices in execution order, "
    "J_v = Σ J_local·J_parent",
    "reverse": "reverse (foldr): eliminate the {n} intermediate vertices in reverse execution order, "
    "A_v = Σ A_child·J_local",
    "markowitz": "Markowitz vertex elimination of {n} intermediate vertices, the currently cheapest first",
}


def candidate_plans(graph: Graph, inputs: list[int], intermediates: list[int]) -> dict[str, tuple[list[int], int, str]]:
    """Candidate elimination orders with their simulated multiply-adds."""
    plans: dict[str, tuple[list[int], int, str]] = {}
    chains = _chains(graph, inputs, set(intermediates))
    if chains is not None:
        order, texts = [], []
        for path in chains:
            o, text = _chain_dp(graph, path)
            order += o
            texts.append(text)
        shown = " + ".join(texts)
        if len(shown) > 400:
            shown = f"{len(chains)} chain(s), {len(intermediates)} intermediate vertices"
        plans["chain DP"] = (order, simulate(graph, order), f"matrix-chain dynamic programming: {shown}")
    for name, order in (
        ("forward", sorted(intermediates)),
        ("reverse", sorted(intermediates, reverse=True)),
        ("markowitz", _markowitz_order(graph, intermediates)),
    ):
        plans[name] = (order, simulate(graph, order), _PLAN_TEXT[name].format(n=len(intermediates)))
    return plans
