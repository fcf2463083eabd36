"""The explicit-mode interpreter: record the program, form every local Jacobian
from its JVP rule, build the linearised graph, eliminate it in the planned order.

Repeated calls of one program skip everything that depends only on its shape.
A *skeleton* is cached per tape shape (primitives, parent slots, result shapes
and dtypes, inputs, outputs): which entries and parents lie on an input →
output path, their sizes and the bytes the memory guard checks. Within it a
*layout* is cached per structure of the local Jacobians formed (their kinds
and sparsity patterns — the values are never part of a key): the outputs'
copy vertices, the vertices pruned, the intermediate vertices and, per
``order``, the plan and its report. A call that hits both records the
program, forms its local Jacobians, replays the layout and eliminates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .. import numpy as dnp
from ..core import NO_KWARGS, Primitive, Tracer, dtype_of, float_dtype, shape_of, size_of
from ..tape import Node, RecordingTrace, TapeEntry, new_object, new_record, record
from . import search
from .budget import check_budget, cost_like
from .build import (  # noqa: F401  (re-exported: dr.draw builds its model with them)
    _add_dependents,
    _build_graph,
    _edges_to_linearise,
    _outputs_of,
    _prune,
    build_edges,
    build_graph,
    entries_of,
    graph_of,
    select_edges,
)
from .flat import add_copies, flat_steps, run_steps
from .graph import Graph
from .local import structured_jacobian  # noqa: F401  (re-exported for the tests)
from .plans import CACHE_MAX, Plan, plans_for
from .report import choose, cost_record
from .structures import IDENTITY, to_dense

#: What ``structure=`` accepts.
STRUCTURE_MODES = ("structured", "dense")


class LinearizeTrace(RecordingTrace):
    """A tape whose parents are the arguments with a *JVP* rule (the explicit
    mode never calls a VJP rule); entries keep every value."""

    __slots__ = ()

    def process(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        primals = list(args)
        parents = []
        for i, arg in enumerate(args):
            if isinstance(arg, Tracer) and arg._trace is self:
                primals[i] = arg.primal
                try:
                    rule = prim.jvp_rule(i)
                except NotImplementedError as exc:
                    message = f"{exc} The explicit mode builds local Jacobians from JVP rules."
                    raise NotImplementedError(message) from None
                if rule is not None:
                    parents.append((i, rule, arg.slot))  # type: ignore[attr-defined]  # a Node of this trace
        ans = prim(*primals, **kwargs)
        nodes, out = self.output_nodes(prim, ans)
        if parents:
            self.tape.append(new_record(TapeEntry, (prim, tuple(parents), tuple(primals), kwargs, ans, out)))
        return nodes

    # The common calls (one or two positional arguments, a registered rule,
    # plain values, one result) without the generic loop; anything else is
    # ``process``.
    def process1(self, prim: Primitive, x: Any) -> Any:
        value = x.primal
        rule = prim.jvp_rules.get(0)
        if rule is None or x._trace is not self or isinstance(value, Tracer) or prim.multiple_results:
            return self.process(prim, (x,), NO_KWARGS)
        ans = prim.impl(value)
        out = self.n_slots
        self.n_slots = out + 1
        self.tape.append(new_record(TapeEntry, (prim, ((0, rule, x.slot),), (value,), NO_KWARGS, ans, out)))
        node = new_object(Node)  # a Node without __init__: one frame fewer per op
        node.primal = ans
        node.slot = out
        node._trace = self
        return node

    def process2(self, prim: Primitive, x: Any, y: Any) -> Any:
        rules = prim.jvp_rules
        if isinstance(x, Tracer):
            xv, rule = x.primal, rules.get(0)
            if x._trace is not self or rule is None or isinstance(xv, Tracer):
                return self.process(prim, (x, y), NO_KWARGS)
            parents: tuple = ((0, rule, x.slot),)  # type: ignore[attr-defined]  # a Node of this trace
            if isinstance(y, Tracer):
                yv, rule = y.primal, rules.get(1)
                if y._trace is not self or rule is None or isinstance(yv, Tracer):
                    return self.process(prim, (x, y), NO_KWARGS)
                parents = (parents[0], (1, rule, y.slot))  # type: ignore[attr-defined]
            else:
                yv = y
        else:
            xv, yv, rule = x, y.primal, rules.get(1)
            if y._trace is not self or rule is None or isinstance(yv, Tracer):
                return self.process(prim, (x, y), NO_KWARGS)
            parents = ((1, rule, y.slot),)
        if prim.multiple_results:
            return self.process(prim, (x, y), NO_KWARGS)
        ans = prim.impl(xv, yv)
        out = self.n_slots
        self.n_slots = out + 1
        self.tape.append(new_record(TapeEntry, (prim, parents, (xv, yv), NO_KWARGS, ans, out)))
        node = new_object(Node)
        node.primal = ans
        node.slot = out
        node._trace = self
        return node


# --------------------------------------------------------------------------
# What repeated calls of one program share
# --------------------------------------------------------------------------


class Layout(NamedTuple):
    copies: list  # (output slot, its copy vertex)
    removed: list  # vertices pruned
    intermediates: list[int]
    dependent_of: dict[int, int]
    runs: dict  # order key -> (plans, chosen name, report text)


class Skeleton(NamedTuple):
    selected: list  # select_edges(): (entry index, parent positions)
    sizes: dict[int, int]  # every slot's size
    budget: tuple[int, int, tuple]  # check_budget's figures
    to_outputs: set[int]
    layouts: dict  # structures of the local Jacobians -> Layout


_SKELETONS: dict[tuple, Skeleton] = {}


def _shape_key(value: Any) -> tuple:
    if type(value) is np.ndarray:
        return value.shape, value.dtype.char
    return tuple(shape_of(value)), str(dtype_of(value))


def _tape_key(tape: list[TapeEntry], rec: Any, leaves: list, structure: str) -> tuple:
    """The shape of a recorded program: what its skeleton depends on."""
    parts: list[tuple] = []
    for prim, parents, _, _, ans, out in tape:
        if prim.multiple_results:
            shape: Any = tuple(_shape_key(a) for a in ans)
        elif type(ans) is np.ndarray:
            shape = ans.shape, ans.dtype.char
        else:
            shape = _shape_key(ans)
        # One or two parents without a comprehension (the tuples' lengths tell the cases apart).
        if len(parents) == 1:
            (a, _, s), = parents
            parts.append((prim, a, s, out, shape))
        elif len(parents) == 2:
            (a, _, s), (b, _, t) = parents
            parts.append((prim, a, s, b, t, out, shape))
        else:
            parts.append((prim, tuple([(a, s) for a, _, s in parents]), out, shape))
    shapes = []
    for leaf in leaves:
        shapes.append((leaf.shape, leaf.dtype.char) if type(leaf) is np.ndarray else _shape_key(leaf))
    inputs = tuple(shapes)
    return tuple(parts), tuple(rec.in_slots), tuple(rec.out_slots), inputs, structure


def _skeleton(tape: list[TapeEntry], rec: Any, leaves: list, structure: str) -> Skeleton:
    key = _tape_key(tape, rec, leaves, structure)
    found = _SKELETONS.get(key)
    if found is None:
        sizes: dict[int, int] = {s: size_of(v) for s, v in zip(rec.in_slots, leaves)}
        selected, budget, to_outputs = select_edges(tape, rec.in_slots, rec.out_slots, sizes, structure)
        if len(_SKELETONS) >= CACHE_MAX:
            _SKELETONS.clear()
        found = _SKELETONS[key] = Skeleton(selected, sizes, budget, to_outputs, {})
    return found


def _layout(graph: Graph, skeleton: Skeleton, kinds: tuple, rec: Any, n_slots: int) -> Layout:
    """Add the outputs' copy vertices and prune, replaying the cached layout of
    these structures or finding (and caching) it."""
    found = skeleton.layouts.get(kinds)
    if found is not None:
        for s, copy in found.copies:
            graph.sizes[copy] = graph.sizes[s]
            graph.add_edge(s, copy, IDENTITY)
        for v in found.removed:
            graph.remove_vertex(v)
        return found
    before = set(graph.preds)
    dependent_of = _add_dependents(graph, rec.in_slots, rec.out_slots, n_slots)
    copies = [(s, c) for s, c in dependent_of.items() if c != s]
    with_copies = list(graph.preds)
    intermediates = _prune(graph, rec.in_slots, set(dependent_of.values()))
    removed = [v for v in with_copies if v not in graph.preds]
    assert before | {c for _, c in copies} == set(with_copies)
    if len(skeleton.layouts) >= 16:
        skeleton.layouts.clear()
    found = skeleton.layouts[kinds] = Layout(copies, removed, intermediates, dependent_of, {})
    return found


# --------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------


def _check_user_order(order: Any, intermediates: list[int], who: str) -> list[int]:
    """A user's elimination order: a permutation of the intermediate vertices."""
    try:
        given = [int(v) for v in order]
    except (TypeError, ValueError):
        given = None
    if given is None or sorted(given) != intermediates or any(not isinstance(v, (int, np.integer)) for v in order):
        shown = list(order) if isinstance(order, (list, tuple)) else order
        raise ValueError(
            f"{who}: order={shown!r} is not an elimination order of this graph: it must list each of its "
            f"{len(intermediates)} intermediate vertices {intermediates} exactly once (read them off "
            f"cost.intermediates of a call with return_cost=True), or be 'forward', 'reverse' or 'optimal'"
        )
    return given


def _plans_for(graph: Graph, in_slots: list[int], intermediates: list[int], order: Any, who: str) -> dict[str, Plan]:
    """The plan(s) to consider: all candidates for "optimal", else the one asked for."""
    if not isinstance(order, str):
        order = _check_user_order(order, intermediates, who)
    return plans_for(graph, in_slots, intermediates, order)


def _read_jacobian(edges: dict, sizes: dict[int, int], rec: Any, leaves: list, dependent_of: dict[int, int]) -> list:
    """∂output/∂inputs off the edges input → output (``edges[output, input]``
    after elimination): one ``(m, n)`` block row per output leaf."""
    jac = []
    for s, o in zip(rec.out_slots, rec.out_primals):
        m = o.size if type(o) is np.ndarray else size_of(o)
        blocks = []
        for x, leaf in zip(rec.in_slots, leaves):
            n = sizes[x]
            label = edges.get((dependent_of[s], x)) if s is not None else None
            if type(label) is np.ndarray:  # a dense block: as it is, unless it is the program's (read-only view)
                blocks.append(label if label.flags.writeable else label.copy())
                continue
            dtype = np.result_type(float_dtype(o), float_dtype(leaf))
            if label is None:
                blocks.append(np.zeros((m, n), dtype=dtype))
            else:
                blocks.append(to_dense(label, (m, n), dtype))
        if not blocks:
            jac.append(np.zeros((m, 0), dtype=float_dtype(o)))
        elif len(blocks) == 1:
            jac.append(blocks[0])
        else:
            jac.append(dnp.concatenate(blocks, axis=1))
    return jac


def linearised_graph(fun: Callable[[list], Any], leaves: list, structure: str = "structured") -> tuple:
    """The linearised graph of ``fun`` at ``leaves`` (for research and tests):
    ``(graph, input vertices, intermediate vertices)``, before any elimination."""
    trace = LinearizeTrace()
    rec = record(fun, leaves, False, "linearised_graph", trace)
    sizes: dict[int, int] = {s: size_of(v) for s, v in zip(rec.in_slots, leaves)}
    who = "linearised_graph"
    work, to_outputs = _edges_to_linearise(trace.tape, rec.in_slots, rec.out_slots, sizes, structure, who)
    graph = _build_graph(work, rec.in_slots, sizes, to_outputs, structure)[0]
    dependent_of = _add_dependents(graph, rec.in_slots, rec.out_slots, trace.n_slots)
    return graph, list(rec.in_slots), _prune(graph, rec.in_slots, set(dependent_of.values()))


def explicit_jacobian(
    fun: Callable[[list], Any],
    leaves: list,
    order: Any,
    has_aux: bool,
    who: str,
    structure: str = "structured",
    linearized: Callable | None = None,
    with_cost: bool = True,
) -> tuple:
    """Full Jacobian of ``fun`` (a function of the list ``leaves``) by explicit
    local Jacobians multiplied in ``order``; ``linearized(leaves, has_aux, who)``
    (replay) gives the tape, recording and slot count instead of recording ``fun``;
    ``with_cost=False``: no cost record is built (``cost`` is None).

    Returns ``(out_leaves, out_tree, jac, aux, cost)``: ``jac`` holds one 2-D
    array ``(out_leaf.size, n_inputs)`` per output leaf, columns ordered leaf by
    leaf (C order); ``cost`` is an :class:`ExplicitCost`.
    """
    if isinstance(order, str) and order not in ("forward", "reverse", "optimal"):
        choices = "'forward', 'reverse', 'optimal' or a list of vertices"
        raise ValueError(f"{who}: unknown order {order!r}; choose {choices}")
    if structure not in STRUCTURE_MODES:
        choices = ", ".join(map(repr, STRUCTURE_MODES))
        raise ValueError(f"{who}: unknown structure {structure!r}; choose one of {choices}")
    if linearized is None:
        trace = LinearizeTrace()
        rec = record(fun, leaves, has_aux, who, trace)
        tape, n_slots = trace.tape, trace.n_slots
        trace.tape = []
    else:
        tape, rec, n_slots = linearized(leaves, has_aux, who)
    skeleton = _skeleton(tape, rec, leaves, structure)
    nbytes, n_matrices, largest = skeleton.budget
    check_budget(nbytes, n_matrices, largest, who)
    sizes = dict(skeleton.sizes)
    kinds: list = []
    edges, local_jacobians, entries, dense_entries = build_edges(
        entries_of(tape, skeleton.selected), sizes, skeleton.to_outputs, structure, kinds
    )
    del tape
    key = tuple(kinds)
    layout = skeleton.layouts.get(key)
    graph = None
    if layout is None:  # the first call with these structures: the graph, to find the layout
        graph = graph_of(edges, rec.in_slots, sizes)
        layout = _layout(graph, skeleton, key, rec, n_slots)
    intermediates = layout.intermediates
    run_key = order if isinstance(order, str) else tuple(order)
    budget_key = (run_key, search.WORK_LIMIT)  # a plan per order and exact-search budget
    run: Any = layout.runs.get(budget_key)  # (plans, chosen, report, steps, [cost record])
    if run is None:  # plan on the graph, and flatten the plan into its products
        if graph is None:
            graph = graph_of(edges, rec.in_slots, sizes)
            _layout(graph, skeleton, key, rec, n_slots)
        plans = _plans_for(graph, rec.in_slots, intermediates, order, who)
        chosen, text = choose(plans, intermediates, order)
        run = layout.runs[budget_key] = (plans, chosen, text, flat_steps(graph, plans[chosen].order), [])
    del graph
    plans, chosen, plan, steps, template = run
    if layout.copies:
        add_copies(edges, sizes, layout.copies, IDENTITY)
    multiply_adds = run_steps(edges, steps)
    assert multiply_adds == plans[chosen].cost, (multiply_adds, plans[chosen].cost)
    if not with_cost:
        cost = None
    elif template:  # the plan's figures as before; the counts of this call's local Jacobians
        cost = cost_like(
            template[0],
            local_jacobian_entries=int(entries),
            local_jacobians=int(local_jacobians),
            dense_local_jacobian_entries=int(dense_entries),
        )
    else:
        counts = (entries, local_jacobians, dense_entries)
        cost = cost_record(plans, chosen, plan, run_key, structure, intermediates, counts)
        template.append(cost)
    return rec.out_primals, rec.out_tree, _read_jacobian(edges, sizes, rec, leaves, layout.dependent_of), rec.aux, cost
