"""A plan replayed as a flat list of products and sums.

Which products an elimination order performs, and between which labels,
depends only on the graph's edges (the tape's shape and the structures of its
local Jacobians), never on values: :func:`flat_steps` simulates
:func:`~.graph.eliminate` on the edges alone, once per cached layout and
order, and :func:`run_steps` then performs exactly the products and sums
``eliminate`` would — in the same order, on the same labels — on a plain
dictionary of edges, without the graph's bookkeeping.
"""

from __future__ import annotations

from typing import Any

from .algebra import add, product
from .graph import Graph


def flat_steps(graph: Graph, order: list[int]) -> list[tuple]:
    """The products of eliminating ``order`` from ``graph`` (which is left
    unchanged): ``(w, v, u, size_w, size_v, size_u)`` for every ``J_wu += J_wv · J_vu``,
    in the order :func:`~.graph.eliminate` performs them."""
    sizes = graph.sizes
    preds = {v: set(ps) for v, ps in graph.preds.items()}
    succs = {u: set(ws) for u, ws in graph.succs.items()}
    steps = []
    for v in order:
        in_edges = preds.pop(v)
        successors = succs.pop(v)
        for w in sorted(successors):
            preds[w].discard(v)
            for u in sorted(in_edges):
                steps.append((w, v, u, sizes[w], sizes[v], sizes[u]))
                preds[w].add(u)
                succs[u].add(w)
        for u in in_edges:
            succs[u].discard(v)
    return steps


def run_steps(edges: dict, steps: list[tuple]) -> int:
    """Perform ``steps`` on ``edges`` (``{(v, u): label}``, updated in place).
    Returns the multiplications performed. Edges of eliminated vertices are
    left behind; no later step reads them (every step joins live vertices)."""
    cost = 0
    for w, v, u, m, k, n in steps:
        label, c = product(edges[w, v], edges[v, u], m, k, n)
        existing = edges.get((w, u))
        if existing is None:  # add(None, label) without its frame
            edges[w, u] = label
            cost += c
        else:
            edges[w, u], formed = add(existing, label, (m, n))
            cost += c + formed
    return cost


def add_copies(edges: dict, sizes: dict[int, int], copies: list, identity: Any) -> None:
    """The outputs' copy vertices: an identity edge from each output to its copy."""
    for s, copy in copies:
        sizes[copy] = sizes[s]
        edges[copy, s] = identity
