"""Elimination orders (plans) and their costs.

Every accumulation order is a vertex elimination order. ``forward`` and
``reverse`` are the execution order and its reverse (no planning at all);
``order="optimal"`` prices candidates on a symbolic copy of the graph (the
same elimination code, without values, so the predicted cost is exactly the
cost then performed) and runs the cheapest:

* ``forward`` and ``reverse``;
* ``markowitz``: greedily eliminate the vertex that is cheapest to eliminate
  now (a heap keyed by the current elimination cost: O(E log E) updates);
* ``chain DP``: when every intermediate vertex has one predecessor and one
  successor, the matrix-chain dynamic programme on each chain (on the sizes;
  chains of at most :data:`CHAIN_DP_MAX` links, where its O(L³) pays);
* ``exact``: for at most :data:`EXACT_MAX` intermediate vertices, the
  cheapest of *all* elimination orders, by branch and bound from the best of
  the above (``search.py``: exact on the structured cost model, its work
  bounded by :data:`~.search.WORK_LIMIT` eliminations; should it stop there,
  the candidate is ``best found``, never dearer than the heuristics but not
  proven optimal, and no gaps are reported; its plan's ``lower_bound`` is
  then the proven lower bound on the optimum the search reached, so each
  candidate's gap to the optimum lies between ``cost / best_found - 1`` and
  ``cost / lower_bound - 1``).

Plans are cached per graph signature (edges, sizes, label structures), so a
repeated call with the same program does not plan again.
"""

from __future__ import annotations

import heapq
from typing import NamedTuple

import numpy as np

from . import search
from .graph import Graph, eliminate, elimination_cost
from .search import exact_search
from .structures import IDENTITY

#: Longest chain the matrix-chain DP is run on.
CHAIN_DP_MAX = 120
#: Most intermediate vertices the exact search over elimination orders is tried
#: on (its work is bounded anyway: :data:`~.search.WORK_LIMIT`).
EXACT_MAX = 20
#: How many graph signatures the plan cache remembers.
CACHE_MAX = 128


class Plan(NamedTuple):
    order: list[int]  # the elimination order
    cost: int  # its multiply-adds on the structured cost model
    text: str  # how it reads
    dense_cost: int  # its multiply-adds had every local Jacobian been dense
    lower_bound: int | None = None  # exact / best found: a proven lower bound on the optimum (= cost when exact)


def simulate(graph: Graph, order: list[int], dense: bool = False) -> int:
    """The multiply-adds of eliminating ``order`` (on a symbolic copy; with
    ``dense=True`` as if every local Jacobian were a dense matrix)."""
    sim = graph.symbolic(dense=dense)
    return sum(eliminate(sim, v) for v in order)


def _plan(graph: Graph, order: list[int], text: str) -> Plan:
    return Plan(order, simulate(graph, order), text, simulate(graph, order, dense=True))


def markowitz_order(graph: Graph, intermediates: list[int]) -> list[int]:
    """Greedy: always eliminate the vertex that is cheapest to eliminate now
    (ties: earliest in execution order)."""
    sim = graph.symbolic()
    remaining = set(intermediates)
    costs = {v: elimination_cost(sim, v) for v in remaining}
    heap = [(c, v) for v, c in costs.items()]
    heapq.heapify(heap)
    order = []
    while heap:
        c, v = heapq.heappop(heap)
        if v not in remaining or costs[v] != c:
            continue  # a stale entry
        neighbours = (set(sim.preds[v]) | sim.succs[v]) & remaining
        eliminate(sim, v)
        remaining.discard(v)
        order.append(v)
        for n in neighbours - {v}:
            costs[n] = elimination_cost(sim, n)
            heapq.heappush(heap, (costs[n], n))
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


def chain_dp(graph: Graph, path: list[int]) -> tuple[list[int], str]:
    """Optimal bracketing of the chain ``path`` (vertices p_0 … p_L; matrix k
    maps p_{k-1} to p_k) by the classic matrix-chain dynamic programme.

    ``best[i, j]`` is the cheapest way to form ∂p_j/∂p_i; splitting at k means
    forming ∂p_k/∂p_i and ∂p_j/∂p_k first and then eliminating p_k, which
    costs size_j · size_k · size_i. Returns the elimination order (a post-order
    of the split tree) and the bracketing as text."""
    sizes = np.array([graph.sizes[p] for p in path], dtype=np.int64)
    L = len(path) - 1
    best = np.zeros((L + 1, L + 1), dtype=np.int64)
    split = np.zeros((L + 1, L + 1), dtype=np.int64)
    for length in range(2, L + 1):
        for i in range(0, L - length + 1):
            j = i + length
            ks = np.arange(i + 1, j)
            choices = best[i, ks] + best[ks, j] + sizes[j] * sizes[ks] * sizes[i]
            pick = int(np.argmin(choices))  # the first minimum: the smallest split point
            best[i, j], split[i, j] = choices[pick], ks[pick]
    names = []
    for k in range(1, L + 1):
        label = graph.preds[path[k]][path[k - 1]]
        names.append(f"J{k}[{sizes[k]}x{sizes[k - 1]}]" if label is not IDENTITY else f"I{k}")
    order: list[int] = []
    texts: dict[tuple[int, int], str] = {}
    stack = [(0, L, False)]
    while stack:  # post-order walk of the split tree, without recursion
        i, j, expanded = stack.pop()
        if j - i == 1:
            texts[i, j] = names[i]
        elif expanded:
            k = int(split[i, j])
            order.append(path[k])
            texts[i, j] = f"({texts[k, j]}·{texts[i, k]})"
        else:
            k = int(split[i, j])
            stack += [(i, j, True), (i, k, False), (k, j, False)]
    return order, texts[0, L]


def exact_order(graph: Graph, intermediates: list[int]) -> list[int]:
    """The cheapest of all elimination orders (branch and bound from the better
    of the folds and Markowitz; the best found if the work bound is reached)."""
    starts = [fold_plan("forward", intermediates), fold_plan("reverse", intermediates)]
    starts.append(markowitz_order(graph, intermediates))
    incumbent = min(starts, key=lambda o: simulate(graph, o))
    return exact_search(graph, intermediates, incumbent, simulate(graph, incumbent)).order


_PLAN_TEXT = {
    "forward": "forward (foldl): eliminate the {n} intermediate vertices in execution order, "
    "J_v = Σ J_local·J_parent",
    "reverse": "reverse (foldr): eliminate the {n} intermediate vertices in reverse execution order, "
    "A_v = Σ A_child·J_local",
    "markowitz": "Markowitz vertex elimination of {n} intermediate vertices, the currently cheapest first",
    "exact": "the cheapest of all elimination orders of the {n} intermediate vertices "
    "(branch and bound, {work:,} eliminations simulated)",
    "best found": "the cheapest elimination order of the {n} intermediate vertices found by branch and bound "
    "in {work:,} eliminations (the work bound; not proven optimal: the optimum is at least {lower:,})",
}


def fold_plan(order_name: str, intermediates: list[int]) -> list[int]:
    """The forward (execution) or reverse elimination order: no planning."""
    return sorted(intermediates, reverse=order_name == "reverse")


def plans_for(graph: Graph, inputs: list[int], intermediates: list[int], order: str | list[int]) -> dict[str, Plan]:
    """The plans to run for ``order`` ("optimal": every candidate; a fold or a
    user's order: that one), priced, and cached per graph signature."""
    key = (graph.signature(), tuple(inputs), order if isinstance(order, str) else tuple(order), search.WORK_LIMIT)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    n = len(intermediates)
    if order == "optimal":
        plans = _candidates(graph, inputs, intermediates)
    elif isinstance(order, str):
        plans = {order: _plan(graph, fold_plan(order, intermediates), _PLAN_TEXT[order].format(n=n))}
    else:
        plans = {"user": _plan(graph, list(order), f"the user's elimination order of {n} intermediate vertices")}
    if len(_CACHE) >= CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = plans
    return plans


def _candidates(graph: Graph, inputs: list[int], intermediates: list[int]) -> dict[str, Plan]:
    """Every candidate elimination order with its simulated multiply-adds."""
    plans: dict[str, Plan] = {}
    n = len(intermediates)
    chains = _chains(graph, inputs, set(intermediates))
    if chains is not None and all(len(path) - 1 <= CHAIN_DP_MAX for path in chains):
        order, texts = [], []
        for path in chains:
            o, text = chain_dp(graph, path)
            order += o
            texts.append(text)
        shown = " + ".join(texts)
        if len(shown) > 400:
            shown = f"{len(chains)} chain(s), {n} intermediate vertices"
        plans["chain DP"] = _plan(graph, order, f"matrix-chain dynamic programming: {shown}")
    orders = {"forward": fold_plan("forward", intermediates), "reverse": fold_plan("reverse", intermediates)}
    orders["markowitz"] = markowitz_order(graph, intermediates)
    for name, order in orders.items():
        plans[name] = _plan(graph, order, _PLAN_TEXT[name].format(n=n))
    if 0 < n <= EXACT_MAX:
        start = min(plans.values(), key=lambda p: p.cost)
        found = exact_search(graph, intermediates, start.order, start.cost, search.WORK_LIMIT)
        name = "exact" if found.proven else "best found"
        text = _PLAN_TEXT[name].format(n=n, work=found.work, lower=found.lower_bound)
        plans[name] = _plan(graph, found.order, text)._replace(lower_bound=found.lower_bound)
    return plans


_CACHE: dict[tuple, dict[str, Plan]] = {}
