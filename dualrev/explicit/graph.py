"""The linearised graph and vertex elimination (the cost model is in the package docstring).

Vertices are integers with sizes; an edge ``u → v`` carries ``∂v/∂u`` as a
``(size_v, size_u)`` matrix, :data:`IDENTITY` (free to multiply), or
:data:`DENSE` when only the cost is simulated. Nothing here knows about
primitives or tracers: the graph can be built and eliminated by hand.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import numpy as dnp
from ..core import dtype_of


class _Identity:
    """The label of an identity edge (never materialised, multiplies for free)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "I"


class _Dense:
    """The label of a dense edge when only the cost is being simulated."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "J"


IDENTITY = _Identity()
DENSE = _Dense()


class Graph:
    """Vertices with sizes; ``preds[v][u]`` is the label of edge u → v (a
    ``(size_v, size_u)`` matrix, :data:`IDENTITY`, or ``DENSE`` when
    simulating); ``succs[u]`` the set of its successors."""

    def __init__(self, sizes: dict[int, int]) -> None:
        self.sizes = sizes
        self.preds: dict[int, dict[int, Any]] = {}
        self.succs: dict[int, set[int]] = {}

    def add_vertex(self, v: int) -> None:
        self.preds.setdefault(v, {})
        self.succs.setdefault(v, set())

    def add_edge(self, u: int, v: int, label: Any) -> None:
        self.add_vertex(u)
        self.add_vertex(v)
        self.preds[v][u] = accumulate(self.preds[v].get(u), label, (self.sizes[v], self.sizes[u]))
        self.succs[u].add(v)

    def remove_vertex(self, v: int) -> None:
        for u in self.preds.pop(v, {}):
            self.succs[u].discard(v)
        for w in self.succs.pop(v, set()):
            self.preds[w].pop(v, None)

    def symbolic(self) -> Graph:
        """A copy with every dense label replaced by ``DENSE`` (for planning)."""
        copy = Graph(self.sizes)
        copy.preds = {
            v: {u: (IDENTITY if m is IDENTITY else DENSE) for u, m in ps.items()} for v, ps in self.preds.items()
        }
        copy.succs = {u: set(ws) for u, ws in self.succs.items()}
        return copy


def accumulate(existing: Any, new: Any, shape: tuple) -> Any:
    """``existing + new`` for edge labels; a free sum under the cost model."""
    if existing is None:
        return new
    if existing is DENSE or new is DENSE:
        return DENSE
    dense = [m for m in (existing, new) if m is not IDENTITY]
    dtype = dtype_of(dense[0]) if dense else np.float64
    existing, new = (np.eye(*shape, dtype=dtype) if m is IDENTITY else m for m in (existing, new))
    return dnp.add(existing, new)


def product_cost(graph: Graph, w: int, v: int, u: int, outer: Any, inner: Any) -> int:
    if outer is IDENTITY or inner is IDENTITY:
        return 0
    sizes = graph.sizes
    return sizes[w] * sizes[v] * sizes[u]


def elimination_cost(graph: Graph, v: int) -> int:
    """Multiply-adds of eliminating ``v`` now: Σ_u Σ_w size_w · size_v · size_u
    over its current predecessors u and successors w (identity edges free)."""
    total = 0
    for w in graph.succs[v]:
        outer = graph.preds[w][v]
        for u, inner in graph.preds[v].items():
            total += product_cost(graph, w, v, u, outer, inner)
    return total


def eliminate(graph: Graph, v: int) -> int:
    """Eliminate vertex ``v``: every path u → v → w becomes the edge u → w with
    label ``J_wu + J_wv · J_vu``. Returns the multiply-adds performed."""
    in_edges = graph.preds.pop(v)
    successors = graph.succs.pop(v)
    cost = 0
    for w in sorted(successors):
        outer = graph.preds[w].pop(v)
        for u in sorted(in_edges):
            inner = in_edges[u]
            cost += product_cost(graph, w, v, u, outer, inner)
            if outer is IDENTITY:
                product = inner
            elif inner is IDENTITY:
                product = outer
            elif outer is DENSE or inner is DENSE:
                product = DENSE
            else:
                product = dnp.matmul(outer, inner)
            graph.preds[w][u] = accumulate(graph.preds[w].get(u), product, (graph.sizes[w], graph.sizes[u]))
            graph.succs[u].add(w)
    for u in in_edges:
        graph.succs[u].discard(v)
    return cost
