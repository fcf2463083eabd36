"""What a drawing shows, computed from the library's own recording.

The program is recorded once with the explicit mode's :class:`LinearizeTrace`
(which keeps every value) and linearised by the explicit mode's own code
(``explicit/linearize.py``): the vertices of that graph are the drawn value
nodes, its labels (diagonal, 0-1 sparse, dense, matrix-free) the drawn edges.
On that graph

* the forward tangent of every vertex is ``ṫ_v = Σ_u J_vu ṫ_u`` (one column
  pushed through the labels in execution order: forward accumulation);
* the adjoint of every vertex is ``ā_u = Σ_v ā_v J_vu`` (one row pulled back
  in reverse execution order: reverse accumulation);

both with the explicit mode's products (``explicit/algebra.py``), whose costs
are the per-edge multiply-adds of forward and reverse accumulation. The
results at the outputs and inputs are checked against ``dr.jvp`` and
``dr.vjp`` (:attr:`Model.jvp_out`, :attr:`Model.vjp_in`).

The explicit column of an edge is what the edge costs when the explicit mode
eliminates every intermediate vertex in the cheaper fold (forward or reverse
order): in the forward order a vertex's products ``J_wv · J_vu`` are charged
to its outgoing edge ``v → w`` (still the local Jacobian when ``v`` goes), in
the reverse order to its incoming edge ``u → v``. Summed over the edges this
is exactly the ``multiply_adds`` of ``order="forward"`` / ``"reverse"``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..api import jvp, vjp
from ..core import size_of
from ..explicit.algebra import product
from ..explicit.graph import Graph, eliminate
from ..explicit.linearize import LinearizeTrace, _add_dependents, _build_graph, _edges_to_linearise, _prune
from ..explicit.structures import DENSE, IDENTITY, BlockDiagonal, Diagonal, Operator, Sparse, stored_entries, to_dense
from ..tape import record
from ..tree import tree_flatten, tree_unflatten


@dataclass
class Vertex:
    """A value node: the op that made it (or ``input``/``output``), its name and values."""

    id: int
    op: str
    name: str
    primal: np.ndarray
    tangent: np.ndarray
    adjoint: np.ndarray
    kind: str = "intermediate"  # "input", "intermediate" or "output"


@dataclass
class Edge:
    """A local Jacobian ``∂target/∂source`` and what it costs in each mode."""

    source: int
    target: int
    kind: str  # identity, diagonal, 0-1 sparse, sparse, dense, matrix-free
    shape: tuple[int, int]
    stored: int  # values the explicit mode stores for it
    partial: float | None  # the local partial, for a 1x1 Jacobian
    forward: int  # multiply-adds of pushing one tangent through it
    reverse: int  # multiply-adds of pulling one adjoint back through it
    explicit: int  # multiply-adds charged to it by the explicit fold
    entries: np.ndarray | None = None  # its dense form, when it has at most 64 entries
    values: np.ndarray | None = None  # the values it stores (None: a 0-1 structure, the identity, matrix-free)


@dataclass
class Model:
    vertices: dict[int, Vertex]
    edges: list[Edge]
    graph: Graph  # the explicit mode's linearised graph (labels with values)
    inputs: list[int]
    outputs: list[int]
    intermediates: list[int]
    explicit_fold: str
    jvp_out: list = field(default_factory=list)  # dr.jvp's output tangents
    vjp_in: list = field(default_factory=list)  # dr.vjp's input cotangents


def label_kind(label: Any) -> str:
    if label is IDENTITY:
        return "identity"
    if isinstance(label, Diagonal):
        return "diagonal"
    if isinstance(label, Sparse):
        return "0-1 sparse" if label.vals is None else "sparse"
    if isinstance(label, Operator):
        return "matrix-free"
    if isinstance(label, BlockDiagonal):
        return "block-diagonal"
    return "dense"


def stored_values(label: Any) -> np.ndarray | None:
    """The values a label stores: a diagonal's, a weighted sparse matrix's, a dense matrix's."""
    if isinstance(label, (Diagonal, Sparse, BlockDiagonal)):
        return None if label.vals is None else np.asarray(label.vals, dtype=np.float64).ravel()
    if isinstance(label, np.ndarray):
        return label.astype(np.float64).ravel()
    return None


def _as_float(value: Any) -> np.ndarray:
    arr = np.asarray(value)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


def _as_column(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1, 1)


def _push(label: Any, column: np.ndarray, m: int, n: int) -> tuple[np.ndarray, int]:
    """J · column and its multiply-adds."""
    result, cost = product(label, column, m, n, 1)
    return np.asarray(to_dense(result, (m, 1), np.float64), dtype=np.float64).reshape(m), cost


def _pull(label: Any, row: np.ndarray, m: int, n: int) -> tuple[np.ndarray, int]:
    """row · J and its multiply-adds."""
    result, cost = product(row.reshape(1, m), label, 1, m, n)
    return np.asarray(to_dense(result, (1, n), np.float64), dtype=np.float64).reshape(n), cost


def fold_charges(graph: Graph, intermediates: list[int], fold: str) -> tuple[dict[tuple[int, int], int], int]:
    """Multiply-adds of the explicit fold charged per original edge, and their total.

    Each vertex is eliminated by the explicit mode's own ``eliminate`` on a
    symbolic copy restricted to one outgoing (forward) or incoming (reverse)
    edge at a time, so the charges sum to the fold's cost."""
    sim = graph.symbolic()
    charges: dict[tuple[int, int], int] = {}
    for v in sorted(intermediates, reverse=fold == "reverse"):
        keep = sorted(sim.succs[v]) if fold == "forward" else sorted(sim.preds[v])
        for k in keep:
            part = sim.copy()
            if fold == "forward":
                for w in list(part.succs[v]):
                    if w != k:
                        part.preds[w].pop(v)
                        part.succs[v].discard(w)
                charges[(v, k)] = eliminate(part, v)
            else:
                for u in list(part.preds[v]):
                    if u != k:
                        part.preds[v].pop(u)
                        part.succs[u].discard(v)
                charges[(k, v)] = eliminate(part, v)
        eliminate(sim, v)
    return charges, sum(charges.values())


def _direction(given: Any, leaves: list, what: str, default: Callable[[list], list]) -> list[np.ndarray]:
    """A direction per leaf: the user's (a tree like the arguments) or the default."""
    if given is None:
        return default(leaves)
    parts, _ = tree_flatten(given)
    if len(parts) != len(leaves):
        raise ValueError(f"dr.draw: {what} must have one entry per {'input' if what == 'tangent' else 'output'} "
                         f"leaf ({len(leaves)}), got {len(parts)}")
    out = []
    for p, leaf in zip(parts, leaves):
        arr = np.asarray(p, dtype=np.float64)
        if arr.shape != np.shape(leaf):
            raise ValueError(f"dr.draw: {what} entry of shape {arr.shape} for a value of shape {np.shape(leaf)}")
        out.append(arr)
    return out


def _default_tangent(leaves: list) -> list[np.ndarray]:
    # One scalar input: its basis direction 1. Otherwise the ones direction in every input.
    return [np.ones(np.shape(leaf)) for leaf in leaves]


def _input_names(fun: Callable, args: tuple, argnums: tuple[int, ...], names: Any) -> list[str]:
    if names is not None:
        return [str(n) for n in names]
    try:
        params = list(inspect.signature(fun).parameters)
    except (TypeError, ValueError):
        params = []
    out = []
    for i in argnums:
        base = params[i] if i < len(params) and not params[i].startswith("*") else f"arg{i}"
        leaves, _ = tree_flatten(args[i])
        out += [base] if len(leaves) == 1 else [f"{base}[{k}]" for k in range(len(leaves))]
    return out


def build(fun: Callable, args: tuple, argnums: Any, tangent: Any, cotangent: Any, names: Any = None) -> Model:
    """Record ``fun(*args)``, linearise it, and compute every vertex's values and every edge's costs."""
    if not callable(fun):
        raise TypeError(f"dr.draw: expected a function, got {type(fun).__name__}")
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums or any(not isinstance(i, int) or not 0 <= i < len(args) for i in nums):
        raise ValueError(f"dr.draw: argnums={argnums!r} must name positional arguments among the {len(args)} given")
    flat, trees = [], []
    for i in nums:
        leaves, tree = tree_flatten(args[i])
        flat.append(len(leaves))
        trees.append(tree)
    in_leaves = [_as_float(leaf) for i in nums for leaf in tree_flatten(args[i])[0]]

    def of_leaves(leaves: list) -> Any:
        full, k = list(args), 0
        for i, n, tree in zip(nums, flat, trees):
            full[i] = tree_unflatten(tree, leaves[k : k + n])
            k += n
        return fun(*full)

    trace = LinearizeTrace()
    rec = record(of_leaves, in_leaves, False, "dr.draw", trace)
    if not trace.tape or all(s is None for s in rec.out_slots):
        raise ValueError(
            "dr.draw: the function recorded no differentiable operation on its inputs (nothing to draw): "
            "its outputs do not depend on the arguments named by argnums, or it computes with plain NumPy "
            "(np.*) instead of dualrev.numpy (dnp.*)"
        )
    primals = {s: np.asarray(v, dtype=np.float64) for s, v in zip(rec.in_slots, in_leaves)}
    op_of: dict[int, str] = {}
    for entry in trace.tape:
        outs = entry.out if entry.prim.multiple_results else (entry.out,)
        answers = entry.ans if entry.prim.multiple_results else (entry.ans,)
        for s, a in zip(outs, answers):
            primals[s] = np.asarray(a, dtype=np.float64)
            op_of[s] = str(entry.prim.name)
    sizes: dict[int, int] = {s: size_of(v) for s, v in zip(rec.in_slots, in_leaves)}
    work, to_outputs = _edges_to_linearise(trace.tape, rec.in_slots, rec.out_slots, sizes, "structured", "dr.draw")
    graph, _, _, _ = _build_graph(work, rec.in_slots, sizes, to_outputs, "structured")
    dependent_of = _add_dependents(graph, rec.in_slots, rec.out_slots, trace.n_slots)
    outputs = [dependent_of[s] for s in rec.out_slots if s is not None]
    intermediates = _prune(graph, rec.in_slots, set(outputs))
    for s, d in dependent_of.items():
        if d != s:
            primals[d], op_of[d] = primals[s], "output"
    tangents = dict(zip(rec.in_slots, (t.ravel() for t in _direction(tangent, in_leaves, "tangent", _default_tangent))))
    cot = _direction(cotangent, rec.out_primals, "cotangent", _default_tangent)
    order = sorted(graph.preds)
    fwd_cost: dict[tuple[int, int], int] = {}
    for v in order:
        if v in tangents:
            continue
        total = np.zeros(graph.sizes[v])
        for u, label in graph.preds[v].items():
            pushed, fwd_cost[(u, v)] = _push(label, _as_column(tangents[u]), graph.sizes[v], graph.sizes[u])
            total = total + pushed
        tangents[v] = total
    adjoints: dict[int, np.ndarray] = {v: np.zeros(graph.sizes[v]) for v in order}
    for s, c in zip(rec.out_slots, cot):
        if s is not None:
            adjoints[dependent_of[s]] = adjoints[dependent_of[s]] + c.ravel()
    rev_cost: dict[tuple[int, int], int] = {}
    for v in reversed(order):
        for u, label in graph.preds[v].items():
            pulled, rev_cost[(u, v)] = _pull(label, adjoints[v], graph.sizes[v], graph.sizes[u])
            adjoints[u] = adjoints[u] + pulled
    charges_f, total_f = fold_charges(graph, intermediates, "forward")
    charges_r, total_r = fold_charges(graph, intermediates, "reverse")
    fold, charges = ("forward", charges_f) if total_f < total_r else ("reverse", charges_r)
    names_in = _input_names(fun, args, nums, names)
    vertices: dict[int, Vertex] = {}
    for v in order:
        shape = primals[v].shape
        kind = "input" if v in rec.in_slots else "output" if v in outputs else "intermediate"
        if kind == "input":
            k = rec.in_slots.index(v)
            name = names_in[k] if k < len(names_in) else f"x{k}"
        else:
            name = op_of.get(v, "?")
        vertices[v] = Vertex(v, "input" if kind == "input" else op_of.get(v, "?"), name, primals[v],
                             tangents[v].reshape(shape), adjoints[v].reshape(shape), kind)
    edges = []
    for v in order:
        for u, label in sorted(graph.preds[v].items()):
            shape2 = (graph.sizes[v], graph.sizes[u])
            small = shape2[0] * shape2[1] <= 64 and label is not DENSE
            dense = np.asarray(to_dense(label, shape2, np.float64)) if small else None
            partial = float(dense[0, 0]) if dense is not None and shape2 == (1, 1) else None
            edges.append(Edge(u, v, label_kind(label), shape2, stored_entries(label, shape2), partial,
                              fwd_cost.get((u, v), 0), rev_cost.get((u, v), 0), charges.get((u, v), 0), dense,
                              stored_values(label)))
    model = Model(vertices, edges, graph, list(rec.in_slots), outputs, intermediates, fold)
    in_tangents = [model.vertices[s].tangent for s in model.inputs]
    _run_api(model, of_leaves, in_leaves, in_tangents, tree_unflatten(rec.out_tree, cot))
    return model


def _run_api(model: Model, fun: Callable, leaves: list, tangent: list, cotangent: Any) -> None:
    """dr.jvp's output tangents and dr.vjp's input cotangents, to set beside the drawn ones."""

    def of_list(*xs: Any) -> Any:
        return fun(list(xs))

    _, out_tangent = jvp(of_list, tuple(leaves), tuple(tangent))
    _, pullback = vjp(of_list, *leaves)
    model.jvp_out = [np.asarray(t, dtype=np.float64) for t in tree_flatten(out_tangent)[0]]
    model.vjp_in = [np.asarray(g, dtype=np.float64) for g in pullback(cotangent)]
