"""The explicit-mode interpreter: record the program, form every local Jacobian
from its JVP rule, build the linearised graph, eliminate it in the planned order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import numpy as dnp
from ..core import Primitive, Tracer, float_dtype, size_of
from ..tape import RecordingTrace, TapeEntry, new_record, record
from .budget import ExplicitCost, check_budget
from .graph import Graph, eliminate
from .local import (
    apply_rule,
    as_matrix,
    fast_itemsize,
    fast_size,
    identity_basis,
    operator_jacobian,
    structured_bytes,
    structured_jacobian,
)
from .plans import Plan, plans_for
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


def _outputs_of(entry: TapeEntry) -> tuple[tuple, tuple]:
    """The output slots and values of an entry, as tuples (one or several results)."""
    if entry.prim.multiple_results:
        return entry.out, entry.ans
    return (entry.out,), (entry.ans,)


# --------------------------------------------------------------------------
# From the tape to the graph
# --------------------------------------------------------------------------


def _relevant(tape: list[TapeEntry], in_slots: list[int], out_slots: set[int]) -> tuple[set[int], set[int]]:
    """Vertices reachable from an input and vertices that reach an output."""
    from_inputs = set(in_slots)
    for entry in tape:
        if any(slot in from_inputs for _, _, slot in entry.parents):
            from_inputs.update(_outputs_of(entry)[0])
    to_outputs = set(out_slots)
    for entry in reversed(tape):
        if any(s in to_outputs for s in _outputs_of(entry)[0]):
            to_outputs.update(slot for _, _, slot in entry.parents)
    return from_inputs, to_outputs


def _edges_to_linearise(
    tape: list[TapeEntry], in_slots: list[int], out_slots: list, sizes: dict[int, int], structure: str, who: str
) -> tuple[list, set[int]]:
    """The entries and parents on some input → output path, after checking the
    memory their local Jacobians will take against the budget."""
    from_inputs, to_outputs = _relevant(tape, in_slots, {s for s in out_slots if s is not None})
    work = []
    nbytes, n_matrices, largest = 0, 0, (0, 0)
    dense = structure == "dense"
    for entry in tape:
        outs, answers = _outputs_of(entry)
        if not any(s in to_outputs for s in outs):
            continue
        edges = [(argnum, rule, s) for argnum, rule, s in entry.parents if s in from_inputs]
        if not edges:
            continue
        out_size = 0
        for s, a in zip(outs, answers):
            out_size += (size := fast_size(a))
            sizes[s] = size
        itemsize = fast_itemsize(answers[0])
        for argnum, _, _ in edges:
            x = entry.primals[argnum]
            n_in = fast_size(x)
            nbytes += out_size * n_in * itemsize if dense else structured_bytes(entry.prim, x, answers, itemsize)
            n_matrices += 1
            if out_size * n_in > largest[0] * largest[1]:
                largest = (out_size, n_in)
        work.append((entry, edges))
    check_budget(nbytes, n_matrices, largest, who)
    return work, to_outputs


def _build_graph(
    work: list, in_slots: list[int], sizes: dict[int, int], to_outputs: set[int], structure: str
) -> tuple[Graph, int, int, int]:
    """The graph whose edges are the local Jacobians. Returns it with the number
    of local Jacobians, of values stored and of entries a dense form would hold."""
    graph = Graph(sizes)
    for s in in_slots:
        graph.add_vertex(s)
    entries = dense_entries = local_jacobians = 0
    for entry, edges in work:
        outs, answers = _outputs_of(entry)
        structured = structure == "structured" and not entry.prim.multiple_results
        for argnum, rule, s in edges:
            n_in = sizes[s]
            if n_in == 0:
                continue
            if structured:
                if entry.prim.structure == "dense":
                    label = operator_jacobian(entry, argnum, rule)
                else:
                    label = structured_jacobian(entry, argnum, rule)
                if label is None or outs[0] not in to_outputs or size_of(answers[0]) == 0:
                    continue
                local_jacobians += 1
                entries += label.nnz if label.vals is not None else 0  # an operator stores none
                dense_entries += n_in * size_of(answers[0])
                graph.add_edge(s, outs[0], label)
                continue
            tangents = apply_rule(entry, argnum, rule, identity_basis(entry.primals[argnum]))
            if tangents is None:  # the rule says: no dependence
                continue
            if not entry.prim.multiple_results:
                tangents = (tangents,)
            local_jacobians += 1
            for out_s, a, tangent in zip(outs, answers, tangents):
                entries += n_in * size_of(a)
                dense_entries += n_in * size_of(a)
                if tangent is None or out_s not in to_outputs or size_of(a) == 0:
                    continue
                graph.add_edge(s, out_s, as_matrix(tangent, n_in, a))
    return graph, local_jacobians, entries, dense_entries


def _add_dependents(graph: Graph, in_slots: list[int], out_slots: list, next_id: int) -> dict[int, int]:
    """Outputs become dependents: an output that is an input or feeds later ops
    gets a copy vertex joined by an identity edge (outputs are never eliminated)."""
    dependent_of: dict[int, int] = {}
    for s in out_slots:
        if s is None or s in dependent_of:
            continue
        if s in graph.preds and (s in in_slots or graph.succs[s]):
            dependent_of[s] = next_id
            graph.sizes[next_id] = graph.sizes[s]
            graph.add_edge(s, next_id, IDENTITY)
            next_id += 1
        else:
            dependent_of[s] = s
    return dependent_of


def _prune(graph: Graph, in_slots: list[int], dependents: set[int]) -> list[int]:
    """Drop vertices left off every input → output path (rules that returned
    None); return the intermediate vertices, in execution order."""
    reach = set(in_slots)
    for v in sorted(graph.preds):
        if any(u in reach for u in graph.preds[v]):
            reach.add(v)
    useful = set(dependents)
    for v in sorted(graph.preds, reverse=True):
        if graph.succs[v] & useful:
            useful.add(v)
    for v in list(graph.preds):
        if v not in in_slots and v not in dependents and not (v in reach and v in useful):
            graph.remove_vertex(v)
    return sorted(v for v in graph.preds if v not in dependents and v not in in_slots)


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


def _run_plan(graph: Graph, plans: dict[str, Plan], intermediates: list[int], order: Any) -> tuple[int, str, str]:
    """Eliminate in the cheapest plan. Returns the multiply-adds performed, the
    plan's name and its description."""
    name = min(plans, key=lambda k: plans[k].cost) if order == "optimal" else next(iter(plans))
    elimination, predicted, text, _ = plans[name]
    multiply_adds = sum(eliminate(graph, v) for v in elimination)
    assert multiply_adds == predicted, (multiply_adds, predicted)
    if not intermediates:
        text = "no intermediate vertices: the Jacobian is the local Jacobians themselves"
    if order == "optimal":
        others = ", ".join(f"{k} {p.cost:,}" for k, p in plans.items())
        return multiply_adds, name, f"optimal → {name}: {text} [{multiply_adds:,} multiply-adds; candidates: {others}]"
    return multiply_adds, name, f"{text} [{multiply_adds:,} multiply-adds]"


def _read_jacobian(graph: Graph, rec: Any, leaves: list, dependent_of: dict[int, int]) -> list:
    """∂output/∂inputs off the edges input → output: one ``(m, n)`` block row per output leaf."""
    jac = []
    for s, o in zip(rec.out_slots, rec.out_primals):
        m = size_of(o)
        blocks = []
        for x, leaf in zip(rec.in_slots, leaves):
            n = graph.sizes[x]
            label = graph.preds.get(dependent_of[s], {}).get(x) if s is not None else None
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
    fun: Callable[[list], Any], leaves: list, order: Any, has_aux: bool, who: str, structure: str = "structured"
) -> tuple:
    """Full Jacobian of ``fun`` (a function of the list ``leaves``) by explicit
    local Jacobians multiplied in ``order``.

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
    trace = LinearizeTrace()
    rec = record(fun, leaves, has_aux, who, trace)
    sizes: dict[int, int] = {s: size_of(v) for s, v in zip(rec.in_slots, leaves)}
    work, to_outputs = _edges_to_linearise(trace.tape, rec.in_slots, rec.out_slots, sizes, structure, who)
    trace.tape = []
    graph, local_jacobians, entries, dense_entries = _build_graph(work, rec.in_slots, sizes, to_outputs, structure)
    del work
    dependent_of = _add_dependents(graph, rec.in_slots, rec.out_slots, trace.n_slots)
    intermediates = _prune(graph, rec.in_slots, set(dependent_of.values()))
    plans = _plans_for(graph, rec.in_slots, intermediates, order, who)
    multiply_adds, chosen, plan = _run_plan(graph, plans, intermediates, order)
    dense_multiply_adds = plans[chosen].dense_cost
    candidates = {k: p.cost for k, p in plans.items()} if order == "optimal" else {chosen: multiply_adds}
    gaps = {}
    if "exact" in candidates and candidates["exact"] > 0:
        gaps = {k: c / candidates["exact"] - 1 for k, c in candidates.items() if k != "exact"}
    cost = ExplicitCost(
        order=order if isinstance(order, str) else tuple(order),
        plan=plan,
        multiply_adds=int(multiply_adds),
        local_jacobian_entries=int(entries),
        local_jacobians=int(local_jacobians),
        candidates=candidates,
        structure=structure,
        dense_multiply_adds=int(dense_multiply_adds),
        dense_local_jacobian_entries=int(dense_entries),
        intermediates=tuple(intermediates),
        gaps=gaps,
        chosen=chosen,
    )
    return rec.out_primals, rec.out_tree, _read_jacobian(graph, rec, leaves, dependent_of), rec.aux, cost
