"""The linearised graph and vertex elimination (the cost model is in the package docstring).

Vertices are integers with sizes; an edge ``u → v`` carries ``∂v/∂u`` as a
``(size_v, size_u)`` label of ``structures.py`` (the identity, a diagonal, a
sparse pattern or a dense matrix; symbolic labels when only the cost is
simulated). Nothing here knows about primitives or tracers: a graph can be
built and eliminated by hand.
"""

from __future__ import annotations

from typing import Any

from .algebra import add, product
from .structures import DENSE, IDENTITY, BlockDiagonal, Diagonal, Operator, Sparse, symbolic


class Graph:
    """Vertices with sizes; ``preds[v][u]`` is the label of edge u → v and
    ``succs[u]`` the set of u's successors."""

    def __init__(self, sizes: dict[int, int]) -> None:
        self.sizes = sizes
        self.preds: dict[int, dict[int, Any]] = {}
        self.succs: dict[int, set[int]] = {}

    def add_vertex(self, v: int) -> None:
        self.preds.setdefault(v, {})
        self.succs.setdefault(v, set())

    def add_edge(self, u: int, v: int, label: Any) -> None:
        preds, succs = self.preds, self.succs
        if u not in preds:
            preds[u], succs[u] = {}, set()
        into = preds.get(v)
        if into is None:
            into = preds[v] = {}
            succs[v] = set()
        existing = into.get(u)
        into[u] = label if existing is None else add(existing, label, (self.sizes[v], self.sizes[u]))[0]
        succs[u].add(v)

    def remove_vertex(self, v: int) -> None:
        for u in self.preds.pop(v, {}):
            self.succs[u].discard(v)
        for w in self.succs.pop(v, set()):
            self.preds[w].pop(v, None)

    def symbolic(self, dense: bool = False) -> Graph:
        """A copy whose labels have no values (for planning); with ``dense=True``
        every label but the identity counts as a dense matrix."""
        copy = Graph(self.sizes)
        relabel = (lambda m: m if m is IDENTITY else DENSE) if dense else symbolic  # noqa: E731
        copy.preds = {v: {u: relabel(m) for u, m in ps.items()} for v, ps in self.preds.items()}
        copy.succs = {u: set(ws) for u, ws in self.succs.items()}
        return copy

    def copy(self) -> Graph:
        """A copy sharing the labels (they are never modified in place)."""
        copy = Graph(self.sizes)
        copy.preds = {v: dict(ps) for v, ps in self.preds.items()}
        copy.succs = {u: set(ws) for u, ws in self.succs.items()}
        return copy

    def signature(self) -> tuple:
        """What a plan depends on: the edges, their label kinds and sizes."""
        return tuple(
            (v, self.sizes[v], tuple((u, label_kind(m)) for u, m in sorted(ps.items())))
            for v, ps in sorted(self.preds.items())
        )


def label_kind(label: Any) -> Any:
    """A label's structure: what its costs and products depend on, not its values."""
    if label is IDENTITY:
        return "I"
    if isinstance(label, Diagonal):
        return "diagonal"
    if isinstance(label, Sparse):
        return ("sparse", label.vals is None, hash(label.rows.tobytes()), hash(label.cols.tobytes()))
    if isinstance(label, Operator):
        return ("operator", label.has_vjp)
    if isinstance(label, BlockDiagonal):
        return ("blocks", label.r, label.p, label.q, label.shared)
    return "dense"


def elimination_cost(graph: Graph, v: int) -> int:
    """Multiplications of eliminating ``v`` now: the products J_wv · J_vu over
    its current predecessors u and successors w (on symbolic labels)."""
    sizes = graph.sizes
    total = 0
    for w in graph.succs[v]:
        outer = graph.preds[w][v]
        for u, inner in graph.preds[v].items():
            label, cost = product(symbolic(outer), symbolic(inner), sizes[w], sizes[v], sizes[u])
            existing = graph.preds[w].get(u)
            if existing is not None:
                cost += sum(x.form_cost() for x in (existing, label) if isinstance(x, Operator))
            total += cost
    return total


def eliminate(graph: Graph, v: int) -> int:
    """Eliminate vertex ``v``: every path u → v → w becomes the edge u → w with
    label ``J_wu + J_wv · J_vu``. Returns the multiplications performed."""
    sizes = graph.sizes
    in_edges = graph.preds.pop(v)
    successors = graph.succs.pop(v)
    cost = 0
    for w in sorted(successors):
        outer = graph.preds[w].pop(v)
        for u in sorted(in_edges):
            label, c = product(outer, in_edges[u], sizes[w], sizes[v], sizes[u])
            graph.preds[w][u], formed = add(graph.preds[w].get(u), label, (sizes[w], sizes[u]))
            cost += c + formed
            graph.succs[u].add(w)
    for u in in_edges:
        graph.succs[u].discard(v)
    return cost
