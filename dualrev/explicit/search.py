"""The exact optimum over vertex elimination orders, by branch and bound.

Why not a DP over eliminated *sets*: the edges left after eliminating a set
do not depend on the order, but their structured labels, and so the costs of
what follows, do (a product of sparse factors may densify part-way in one
bracketing and not in another; the cross_country experiment found such a
DAG). The search is therefore exact on the cost model actually used: its
states are the whole symbolic graph (edges *and* label structures), and every
elimination is priced by the same :func:`~.algebra.product` and
:func:`~.algebra.add` that run it.

How it stays cheap:

* labels are *interned*: two labels with the same structure (kind, shape,
  pattern, 0-1 or weighted) are one object with one id, so a product or sum of
  two labels is computed once per search and then looked up;
* states are edited in place and undone (no graph copies); a state's key is
  the set of its (edge, label id) pairs;
* the lower bound of the remaining vertices is kept up to date as
  eliminations change their neighbourhoods (only the neighbours are
  re-priced);
* the incumbent starts as the best heuristic order (forward, reverse,
  Markowitz, chain DP), so only strictly cheaper orders are searched for;
* a branch is cut when its cost so far plus a lower bound on the rest reaches
  the incumbent. The bound: a vertex with a dense (or matrix-free) edge in and
  one out keeps them until it is eliminated (products with a dense factor are
  dense), so eliminating it costs at least ``size_v · a · b``, where a (b) is
  the least total size of a vertex set separating the inputs from that
  in-edge's source (the out-edge's target from the outputs): a max flow per
  vertex, once per search. Where no identity or sparse label lies on any path
  through ``v``, every product there costs at least size_v as well;
* a transposition table keeps, per state, a proven lower bound on the cost of
  finishing from it (the incumbent's cost minus the cost of reaching it, once
  it has been searched), so a state reached again by another order is cut;
* children are tried cheapest first (cost now plus bound), so good orders are
  found early;
* the work is bounded: at most ``work_limit`` eliminations are simulated. When
  the search stops there, the incumbent is the best order found, not a proven
  optimum, and :class:`SearchResult` says so.

What it reaches (the bound is weak where 0-1 patterns and diagonals make
many products nearly free): with the default bound of 5 000 eliminations
(about 0.05–0.3 s on this project's 2-core VM, once per graph signature) the
proof completes on random structured DAGs of up to about 9 intermediate
vertices, on dense ones of up to about 12 and on dense chains of 15; larger
graphs get the best order found, which is never
worse than the heuristics it started from and usually better.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .algebra import add, product
from .graph import Graph
from .structures import DENSE, IDENTITY, Diagonal, Operator, Sparse

#: Eliminations the search may simulate before it stops (its work bound).
WORK_LIMIT = 5_000


class SearchResult(NamedTuple):
    order: list[int]  # the best elimination order found
    cost: int  # its multiply-adds (structured cost model)
    proven: bool  # True: the search finished, ``order`` is optimal
    work: int  # eliminations simulated
    states: int  # distinct states searched


class _Interned:
    """Symbolic labels, one object per structure, with cached products and sums."""

    def __init__(self) -> None:
        self.labels: list[Any] = []
        self.ids: dict[Any, int] = {}
        self.heavy: list[bool] = []
        self.products: dict[tuple[int, int], tuple[int, int]] = {}
        self.sums: dict[tuple[int, int], tuple[int, int]] = {}
        self.shapes: list[tuple[int, int]] = []

    def intern(self, label: Any, shape: tuple[int, int]) -> int:
        if isinstance(label, np.ndarray):
            label = DENSE  # a formed matrix: costs exactly what a dense one does
        key = _structure_key(label, shape)
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.labels)
            self.labels.append(label)
            self.heavy.append(label is DENSE or isinstance(label, Operator))
            self.shapes.append(shape)
        return found

    def product(self, outer: int, inner: int) -> tuple[int, int]:
        found = self.products.get((outer, inner))
        if found is None:
            (m, k), n = self.shapes[outer], self.shapes[inner][1]
            label, cost = product(self.labels[outer], self.labels[inner], m, k, n)
            found = self.products[outer, inner] = (self.intern(label, (m, n)), cost)
        return found

    def add(self, existing: int, label: int) -> tuple[int, int]:
        found = self.sums.get((existing, label))
        if found is None:
            shape = self.shapes[label]
            total, formed = add(self.labels[existing], self.labels[label], shape)
            found = self.sums[existing, label] = (self.intern(total, shape), formed)
        return found


def _structure_key(label: Any, shape: tuple[int, int]) -> tuple:
    """Everything about a symbolic label its future costs depend on."""
    if label is IDENTITY:
        return ("I", shape)
    if isinstance(label, Diagonal):
        return ("diagonal", shape)
    if isinstance(label, Sparse):
        return ("sparse", shape, label.vals is None, label.rows.tobytes(), label.cols.tobytes())
    if isinstance(label, Operator):
        return ("operator", shape, label.has_vjp)
    return ("dense", shape)


class _State:
    """The symbolic graph as interned label ids, edited in place and undone."""

    def __init__(self, graph: Graph, table: _Interned) -> None:
        sim = graph.symbolic()
        sizes = graph.sizes
        self.sizes = sizes
        self.preds = {
            v: {u: table.intern(m, (sizes[v], sizes[u])) for u, m in ps.items()} for v, ps in sim.preds.items()
        }
        self.succs = {u: set(ws) for u, ws in sim.succs.items()}
        self.table = table

    def key(self) -> frozenset:
        return frozenset((v, u, m) for v, ps in self.preds.items() for u, m in ps.items())

    def eliminate(self, v: int) -> tuple[int, list]:
        """Eliminate ``v`` (as :func:`~.graph.eliminate` does); returns its cost
        and what undoes it."""
        table, preds, succs = self.table, self.preds, self.succs
        in_edges = preds.pop(v)
        successors = succs.pop(v)
        cost = 0
        changed = []  # (w, u, previous label id or None, u gained successor w)
        for w in sorted(successors):
            pw = preds[w]
            outer = pw.pop(v)
            for u in sorted(in_edges):
                label, c = table.product(outer, in_edges[u])
                previous = pw.get(u)
                if previous is not None:
                    label, formed = table.add(previous, label)
                    c += formed
                pw[u] = label
                cost += c
                su = succs[u]
                gained = w not in su
                su.add(w)
                changed.append((w, u, previous, gained))
            changed.append((w, v, outer, False))
        for u in in_edges:
            succs[u].discard(v)
        return cost, [v, in_edges, successors, changed]

    def undo(self, record: list) -> None:
        v, in_edges, successors, changed = record
        preds, succs = self.preds, self.succs
        for w, u, previous, gained in reversed(changed):
            if u == v:
                preds[w][v] = previous
                continue
            if previous is None:
                del preds[w][u]
            else:
                preds[w][u] = previous
            if gained:
                succs[u].discard(w)
        for u in in_edges:
            succs[u].add(v)
        preds[v] = in_edges
        succs[v] = successors


def _weights(graph: Graph, intermediates: list[int]) -> dict[int, tuple[bool, int, int]]:
    """Per vertex ``v`` (intermediate, input or output): whether every product
    at an intermediate ``v`` costs at least size_v (``clean``: no 0-1, sparse or
    identity label on any path through it), and the least total size of a set
    of vertices separating the inputs from ``v`` (``v`` itself included) and
    ``v`` from the outputs: any future predecessor set of a vertex reached
    through ``v`` is such a separator, because elimination keeps every path."""
    inner = set(intermediates)
    clean_in: dict[int, bool] = {}
    for v in sorted(graph.preds):  # execution order: predecessors first
        clean_in[v] = all(_valued(m) and (u not in inner or clean_in[u]) for u, m in graph.preds[v].items())
    clean_out: dict[int, bool] = {}
    for v in sorted(graph.preds, reverse=True):
        ws = graph.succs.get(v, ())
        clean_out[v] = all(_valued(graph.preds[w][v]) and (w not in inner or clean_out[w]) for w in ws)
    forward = {v: list(ps) for v, ps in graph.preds.items()}
    backward = {u: list(ws) for u, ws in graph.succs.items()}
    sources = [v for v in graph.preds if not graph.preds[v] and v not in inner]
    sinks = [v for v in graph.preds if not graph.succs.get(v) and v not in inner]
    into = _cuts(forward, graph.sizes, sources)
    out_of = _cuts(backward, graph.sizes, sinks)
    return {v: (clean_in[v] and clean_out[v], into[v], out_of[v]) for v in graph.preds}


def _cuts(preds: dict[int, list[int]], sizes: dict[int, int], sources: list[int]) -> dict[int, int]:
    """For every vertex, the min total size of a vertex set (itself allowed)
    separating it from ``sources`` along ``preds`` (a max flow per vertex)."""
    cuts = {}
    for target in preds:
        # Split each vertex v into v_in = (v, 0) -> v_out = (v, 1) of capacity size_v.
        capacity: dict[tuple, dict[tuple, float]] = {}

        ancestors, todo = {target}, [target]
        while todo:
            v = todo.pop()
            for u in preds[v]:
                if u not in ancestors:
                    ancestors.add(u)
                    todo.append(u)
        for v in ancestors:
            _arc(capacity, (v, 0), (v, 1), sizes[v])
            for u in preds[v]:
                _arc(capacity, (u, 1), (v, 0), float("inf"))
            if v in sources:
                _arc(capacity, ("s", 0), (v, 0), float("inf"))
        cuts[target] = int(_max_flow(capacity, ("s", 0), (target, 1))) if ("s", 0) in capacity else sizes[target]
    return cuts


def _arc(capacity: dict, a: tuple, b: tuple, c: float) -> None:
    capacity.setdefault(a, {})[b] = capacity.get(a, {}).get(b, 0) + c
    capacity.setdefault(b, {}).setdefault(a, 0)


def _max_flow(capacity: dict, source: tuple, sink: tuple) -> float:
    """Edmonds-Karp on a residual ``capacity`` map (modified in place)."""
    total = 0.0
    while True:
        parent = {source: source}
        queue = [source]
        for a in queue:
            for b, c in capacity[a].items():
                if c > 0 and b not in parent:
                    parent[b] = a
                    queue.append(b)
            if sink in parent:
                break
        if sink not in parent:
            return total
        push, b = float("inf"), sink
        while b != source:
            push, b = min(push, capacity[parent[b]][b]), parent[b]
        b = sink
        while b != source:
            a = parent[b]
            capacity[a][b] -= push
            capacity[b][a] += push
            b = a
        total += push


def _valued(label: Any) -> bool:
    """A label whose products always cost at least one multiplication per
    entry of the eliminated vertex: never the identity, never a 0-1 or sparse pattern."""
    return label is not IDENTITY and not isinstance(label, Sparse)


def exact_search(
    graph: Graph, intermediates: list[int], incumbent: list[int], incumbent_cost: int, work_limit: int = WORK_LIMIT
) -> SearchResult:
    """The cheapest elimination order of ``intermediates``, starting from a
    known order and its cost (the bound to beat); see the module docstring."""
    table = _Interned()
    state = _State(graph, table)
    weights = _weights(graph, intermediates)
    heavy, sizes, preds, succs = table.heavy, graph.sizes, state.preds, state.succs
    best: dict[str, Any] = {"cost": incumbent_cost, "order": list(incumbent)}
    memo: dict[frozenset, int] = {}
    counts = {"work": 0, "states": 0}
    path: list[int] = []

    def floor(v: int) -> int:
        """A lower bound on eliminating ``v``, whenever that happens: a heavy
        (dense or matrix-free) edge stays heavy, and so do its successors."""
        clean = weights[v][0]
        a = max((weights[u][1] for u, m in preds[v].items() if heavy[m]), default=0)
        b = max((weights[w][2] for w in succs[v] if heavy[preds[w][v]]), default=0)
        if clean:  # every product at v costs >= size_v per heavy side's width
            return sizes[v] * (a or 1) * (b or 1)
        return sizes[v] * a * b

    floors = {v: floor(v) for v in intermediates}
    total = [sum(floors.values())]

    def step(v: int) -> tuple[int, list, list]:
        cost, record = state.eliminate(v)
        changed = [(v, floors.pop(v))]
        for n in set(record[1]) | record[2]:
            if n in floors:
                changed.append((n, floors[n]))
                floors[n] = floor(n)
        total[0] += sum(floors.get(n, 0) - old for n, old in changed)
        return cost, record, changed

    def back(record: list, changed: list) -> None:
        state.undo(record)
        for n, old in changed:
            total[0] += old - floors.get(n, 0)
            floors[n] = old

    def visit(spent: int, remaining: set[int]) -> None:
        if not remaining:
            if spent < best["cost"]:
                best["cost"], best["order"] = spent, list(path)
            return
        key = state.key()
        known = memo.get(key, 0)
        if spent + max(known, total[0]) >= best["cost"]:
            return
        counts["states"] += 1
        children = []
        for v in sorted(remaining):
            if counts["work"] >= work_limit:
                return
            counts["work"] += 1
            cost, record, changed = step(v)
            children.append((cost + total[0], cost, v))
            back(record, changed)
        for estimate, cost, v in sorted(children):
            if spent + estimate >= best["cost"]:
                break
            if counts["work"] >= work_limit:
                return
            counts["work"] += 1
            _, record, changed = step(v)
            remaining.discard(v)
            path.append(v)
            visit(spent + cost, remaining)
            path.pop()
            remaining.add(v)
            back(record, changed)
        if counts["work"] < work_limit:  # searched: no finish from here beats the incumbent
            memo[key] = max(known, best["cost"] - spent)

    visit(0, set(intermediates))
    proven = counts["work"] < work_limit
    return SearchResult(best["order"], int(best["cost"]), proven, counts["work"], counts["states"])
