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
  the set of its (edge, label id) pairs, where a *terminal* edge (neither end
  a remaining intermediate) only records whether it is still a matrix-free
  operator: it is never a factor again, and the forming costs of later sums
  into it do not depend on the order of those sums;
* **forced moves**: a vertex with no remaining intermediate neighbour is
  eliminated at once (no branching): its edges never change again and every
  edge it adds into is terminal, so its elimination commutes with every
  other and moving it to the front of any order changes no cost;
* **partial-order reduction**: eliminations of two vertices that are not
  adjacent and add into no common non-terminal edge commute (same summed
  cost, equivalent state: neither reads an edge the other writes). Of the
  two interleavings only one is searched: after v, a first move x < v that
  commutes with v (:func:`commuting`) is skipped. Any order can be turned
  into one the search generates by swapping such adjacent pairs (each swap
  removes an inversion of the branching moves, forced moves ride along), so
  an optimal order is among them. The memo records per state which first
  moves were skipped and reuses a bound only where at least those are;
* the incumbent starts as the best heuristic order (forward, reverse,
  Markowitz, chain DP), so only strictly cheaper orders are searched for;
* a branch is cut when its cost so far plus an admissible lower bound on the
  rest reaches the incumbent (``search_bounds.py``, proofs there): per
  remaining vertex a floor (heavy labels stay heavy with min-cut widths;
  weighted labels stay weighted and keep their structural patterns, so a
  product of two costs at least one multiplication per shared entry), kept
  up to date as eliminations re-price the neighbours; and per expanded state
  the matrix-chain DP over every bracketing of a few paths with disjoint
  interiors, on the structured cost model (exact on chains and layer
  stacks);
* a transposition table keeps, per state, a proven lower bound on the cost of
  finishing from it (the incumbent's cost minus the cost of reaching it, once
  it has been searched), so a state reached again by another order is cut;
* children are priced without edits first (cut there when cost plus the
  other floors already reaches the incumbent), then tried cheapest first;
* the work is bounded: at most ``work_limit`` eliminations are simulated
  (pricings included). When the search stops there, the incumbent is the
  best order found, not a proven optimum, and :class:`SearchResult` says so
  and gives a proven *lower bound* on the optimum: the least, over the parts
  left unsearched, of their cost so far plus their bound.

What it reaches with a bound of 30 000 eliminations (about 1 s on this
project's 2-core VM when the bound is reached; ``dualrev.explicit.search_budget``
— the default, :data:`WORK_LIMIT`, is 10 000, about 0.35 s, once per graph
signature; measured at the commit that added these rules): dense chains of 16 and 20
intermediate vertices (about 12 000 and 1 700 eliminations, under 1 s) and
tanh(W·) layer stacks of 15 and 19 (no elimination at all: the path bound
meets the heuristics' cost at the root); random dense DAGs of up to about 15
(experiments/cross_country (c): 13 of 14 DAGs of 10–15, median 2 000–
5 000 eliminations, mostly under 0.2 s) and of 17–18 on a third to a half of
the seeds; random structured DAGs of 10–12 (3 of 3) and of 13–15 on about a
third (3 of 11), of 16–20 on none of the 40 seeds tried (400–439 of the
tests' generator): where 0-1 patterns and diagonals make most products
nearly free the bounds are weakest, and the reported lower bound is there a
median third of the best order found (dense: 80–90 %). Graphs it does not
finish get the best order found, never worse than the heuristics it started
from, and that lower bound.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .algebra import add, product
from .graph import Graph
from .search_bounds import Floors, path_floor
from .structures import DENSE, IDENTITY, BlockDiagonal, Diagonal, Operator, Sparse

#: Eliminations the search may simulate before it stops (its work bound).
WORK_LIMIT = 10_000


class SearchResult(NamedTuple):
    order: list[int]  # the best elimination order found
    cost: int  # its multiply-adds (structured cost model)
    proven: bool  # True: the search finished, ``order`` is optimal
    work: int  # eliminations simulated
    states: int  # distinct states searched
    lower_bound: int  # a proven lower bound on the optimum (``cost`` when ``proven``)


class _Interned:
    """Symbolic labels, one object per structure, with cached products and sums."""

    def __init__(self) -> None:
        self.labels: list[Any] = []
        self.ids: dict[Any, int] = {}
        self.heavy: list[bool] = []
        self.operator: list[bool] = []
        self.weighted: list[bool] = []  # not the identity, not a 0-1 pattern: its products may cost
        self.dense_ops: dict[int, int] = {}
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
            self.operator.append(isinstance(label, Operator))
            self.weighted.append(label is not IDENTITY and not (isinstance(label, Sparse) and label.vals is None))
            self.shapes.append(shape)
        return found

    def dense_op(self, label: int) -> int:
        """A matrix-free operator read as the dense matrix (its products never
        cost less); any other label itself."""
        if not self.operator[label]:
            return label
        found = self.dense_ops.get(label)
        if found is None:
            found = self.dense_ops[label] = self.intern(DENSE, self.shapes[label])
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
    if isinstance(label, BlockDiagonal):
        return ("blocks", shape, label.r, label.p, label.q)
    return ("dense", shape)


class _State:
    """The symbolic graph as interned label ids, edited in place and undone."""

    def __init__(self, graph: Graph, table: _Interned, intermediates: list[int]) -> None:
        sim = graph.symbolic()
        sizes = graph.sizes
        self.sizes = sizes
        self.preds = {
            v: {u: table.intern(m, (sizes[v], sizes[u])) for u, m in ps.items()} for v, ps in sim.preds.items()
        }
        self.succs = {u: set(ws) for u, ws in sim.succs.items()}
        self.table = table
        self.remaining = set(intermediates)  # the intermediate vertices not yet eliminated

    def key(self) -> frozenset:
        """The state as far as any future cost depends on it: every edge with
        its label id, except that a *terminal* edge (neither end a remaining
        intermediate) only says whether it is still a matrix-free operator:
        it is never a factor again, and a later sum into it costs only the
        forming of operators (module docstring)."""
        remaining, operator = self.remaining, self.table.operator
        return frozenset(
            (v, u, m if v in remaining or u in remaining or operator[m] else -1)
            for v, ps in self.preds.items()
            for u, m in ps.items()
        )

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

    def price(self, v: int) -> int:
        """What :meth:`eliminate` of ``v`` would cost, without editing anything."""
        table, preds = self.table, self.preds
        in_edges = preds[v]
        cost = 0
        for w in self.succs[v]:
            pw = preds[w]
            outer = pw[v]
            for u, inner in in_edges.items():
                label, c = table.product(outer, inner)
                previous = pw.get(u)
                if previous is not None:
                    c += table.add(previous, label)[1]
                cost += c
        return cost

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


def commuting(state: _State, v: int, record: list) -> frozenset:
    """The remaining vertices x < v whose elimination commutes with that of
    ``v`` (just eliminated; ``record`` from :meth:`_State.eliminate` holds its
    neighbours then): not adjacent, and every edge both add into is terminal.
    Eliminating x then v gives the same cost and an equivalent state as v then
    x (module docstring)."""
    pv, sv = record[1], record[2]
    preds, succs, remaining = state.preds, state.succs, state.remaining
    found = []
    for x in remaining:
        if x >= v or x in pv or x in sv:
            continue
        px, sx = preds[x], succs[x]
        shared_p = [p for p in pv if p in px]
        if shared_p:
            shared_s = [w for w in sv if w in sx]
            if shared_s and (any(p in remaining for p in shared_p) or any(w in remaining for w in shared_s)):
                continue
        found.append(x)
    return frozenset(found)


def exact_search(
    graph: Graph, intermediates: list[int], incumbent: list[int], incumbent_cost: int, work_limit: int = WORK_LIMIT
) -> SearchResult:
    """The cheapest elimination order of ``intermediates``, starting from a
    known order and its cost (the bound to beat); see the module docstring."""
    table = _Interned()
    state = _State(graph, table, intermediates)
    floors = Floors(graph, intermediates, state)
    preds, succs, remaining = state.preds, state.succs, state.remaining
    best: dict[str, Any] = {"cost": incumbent_cost, "order": list(incumbent)}
    memo: dict[frozenset, list[tuple[frozenset, int]]] = {}  # state -> (pruned first moves, bound)
    counts = {"work": 0, "states": 0}
    path: list[int] = []
    lows: list[int] = []  # lower bounds of the parts left unsearched at the work bound

    def step(v: int) -> tuple[int, list, list]:
        cost, record = state.eliminate(v)
        return cost, record, floors.eliminated(v, record)

    def back(record: list, changed: list) -> None:
        state.undo(record)
        floors.restore(changed)

    def isolated(v: int) -> bool:
        return not any(u in remaining for u in preds[v]) and not any(w in remaining for w in succs[v])

    def visit(spent: int, newly: set[int] | list[int], above: int, skip: frozenset) -> None:
        """Search on from the current state (``spent`` so far); ``above``: a
        proven lower bound on the cost of any order through it; ``skip``: the
        first moves that commute with the last one and precede it (searched
        from the sibling that eliminates them first)."""
        # Forced moves: a vertex with no remaining intermediate neighbour
        # commutes with every elimination (module docstring): eliminate it now.
        forced = [v for v in sorted(newly) if v in remaining and isolated(v)]
        done = []
        for v in forced:
            if counts["work"] >= work_limit:
                lows.append(max(above, spent + floors.total))
                break
            counts["work"] += 1
            cost, record, changed = step(v)
            spent += cost
            remaining.discard(v)
            path.append(v)
            done.append((v, record, changed))
        else:
            branch(spent, above, skip if not done else frozenset())
        for v, record, changed in reversed(done):
            path.pop()
            remaining.add(v)
            back(record, changed)

    def branch(spent: int, above: int, skip: frozenset) -> None:
        if not remaining:
            if spent < best["cost"]:
                best["cost"], best["order"] = spent, list(path)
            return
        key = state.key()
        entries = memo.setdefault(key, [])
        known = max([floors.total] + [bound for pruned, bound in entries if pruned <= skip])
        if spent + known >= best["cost"]:
            return
        known = max(known, path_floor(floors))
        if spent + known >= best["cost"]:
            return
        counts["states"] += 1
        above = max(above, spent + known)
        children = []
        for v in sorted(remaining - skip):
            if counts["work"] >= work_limit:
                lows.append(above)
                return
            counts["work"] += 1
            cost = state.price(v)
            if spent + cost + floors.total - floors.floors[v] >= best["cost"]:
                continue  # cut: the other floors hold whatever is eliminated first
            _, record, changed = step(v)
            children.append((cost + floors.total, cost, v))
            back(record, changed)
        children.sort()
        for i, (estimate, cost, v) in enumerate(children):
            if spent + estimate >= best["cost"]:
                break
            if counts["work"] >= work_limit:
                lows.append(max(above, spent + estimate))
                return
            counts["work"] += 1
            _, record, changed = step(v)
            remaining.discard(v)
            path.append(v)
            visit(spent + cost, set(record[1]) | record[2], max(above, spent + estimate), commuting(state, v, record))
            path.pop()
            remaining.add(v)
            back(record, changed)
            if counts["work"] >= work_limit:  # stopped below: the rest of the children are unsearched
                if i + 1 < len(children):
                    lows.append(max(above, spent + children[i + 1][0]))
                return
        entries.append((skip, max(known, best["cost"] - spent)))  # searched: no finish from here beats the incumbent

    visit(0, intermediates, 0, frozenset())
    proven = not lows
    lower = best["cost"] if proven else min(best["cost"], *lows)
    return SearchResult(best["order"], int(best["cost"]), proven, counts["work"], counts["states"], int(lower))
