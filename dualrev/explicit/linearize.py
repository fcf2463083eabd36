"""The explicit-mode interpreter: record the program, form every local Jacobian
from its JVP rule, build the linearised graph, eliminate it in the planned order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import math

import numpy as np

from .. import numpy as dnp
from ..core import Primitive, Tracer, concrete, float_dtype, shape_of, size_of
from ..tape import RecordingTrace, TapeEntry, new_record, record
from .budget import ExplicitCost, check_budget
from .graph import Graph, eliminate
from .plans import Plan, candidate_plans, fold_plan
from .structures import IDENTITY, Diagonal, Operator, Sparse, to_dense

#: What ``structure=`` accepts.
STRUCTURE_MODES = ("structured", "dense")  # the same as dualrev._arguments.STRUCTURE_MODES


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


# --------------------------------------------------------------------------
# Local Jacobians from JVP rules
# --------------------------------------------------------------------------


def _identity_basis(x: Any) -> np.ndarray:
    """The tangent ``(x.size,) + x.shape`` whose k-th row is the k-th unit vector."""
    n = size_of(x)
    return np.eye(n, dtype=float_dtype(x)).reshape((n,) + tuple(shape_of(x)))


def _apply_rule(entry: TapeEntry, argnum: int, rule: Callable, basis: Any) -> Any:
    """The JVP rule of ``argnum`` on the whole basis (one call), or row by row
    for rules registered with ``batched=False``."""
    prim, ans, primals, kwargs = entry.prim, entry.ans, entry.primals, entry.kwargs
    if prim.jvp_batched:
        return rule(basis, ans, *primals, **kwargs)
    rows = [rule(basis[k], ans, *primals, **kwargs) for k in range(basis.shape[0])]
    if not prim.multiple_results:
        return dnp.stack(rows)
    stacked: list = []
    for j, parts in enumerate(zip(*rows)):
        if all(p is None for p in parts):
            stacked.append(None)
        else:
            zero = np.zeros(shape_of(ans[j]), dtype=float_dtype(ans[j]))
            stacked.append(dnp.stack([p if p is not None else zero for p in parts]))
    return tuple(stacked)


def _as_matrix(tangent: Any, n_in: int, out: Any) -> Any:
    """A batched output tangent ``(n_in,) + out.shape`` as ∂out/∂in: ``(out.size, n_in)``."""
    full = (n_in,) + tuple(shape_of(out))
    if tuple(shape_of(tangent)) != full:  # a rule may return a broadcastable tangent
        tangent = dnp.broadcast_to(tangent, full)
    return dnp.transpose(dnp.reshape(tangent, (n_in, size_of(out))))


def _ones_probe(x: Any) -> np.ndarray:
    return np.ones(shape_of(x), dtype=float_dtype(x))


def _index_probe(shape: tuple) -> np.ndarray:
    """1, 2, …, n in ``shape``: a linear 0-1 op moves these to where their entries go."""
    return (np.arange(math.prod(shape), dtype=np.float64) + 1).reshape(shape)


def _moved_indices(moved: Any, shape: tuple) -> np.ndarray:
    """The probe after a linear 0-1 op, as source indices (−1 where nothing arrived)."""
    moved = np.asarray(concrete(moved), dtype=np.float64)
    if moved.shape != tuple(shape):
        moved = np.broadcast_to(moved, shape)
    return moved.ravel().astype(np.int64) - 1


def structured_jacobian(entry: TapeEntry, argnum: int, rule: Callable) -> Any:
    """∂ans/∂args[argnum] in the form its primitive declares (see ``Primitive.structure``),
    computed by the primitive's own rules; ``None`` when the rule says "no dependence"."""
    prim, ans, x = entry.prim, entry.ans, entry.primals[argnum]
    m, n = size_of(ans), size_of(x)
    kind = prim.structure
    if kind == "diagonal":  # one JVP of a ones tangent: the (broadcast) diagonal
        t = rule(_ones_probe(x), ans, *entry.primals, **entry.kwargs)
        if t is None:
            return None
        if tuple(shape_of(t)) != tuple(shape_of(ans)):
            t = dnp.broadcast_to(t, shape_of(ans))
        vals = dnp.reshape(t, (m,))
        if tuple(shape_of(x)) == tuple(shape_of(ans)):
            return Diagonal(vals, m)
        cols = np.broadcast_to(np.arange(n).reshape(shape_of(x)), shape_of(ans)).ravel()
        return Sparse(np.arange(m), cols, vals, (m, n))
    if kind == "gather":  # the JVP (the op itself) carries each input index to its outputs
        moved = rule(_index_probe(tuple(shape_of(x))), ans, *entry.primals, **entry.kwargs)
        if moved is None:
            return None
        src = _moved_indices(moved, tuple(shape_of(ans)))
        rows = np.flatnonzero(src >= 0)
        return Sparse(rows, src[rows], None, (m, n))
    # segment: the transpose (the VJP rule, a gather) says which output each input joins
    moved = prim.vjp_rule(argnum)(_index_probe(tuple(shape_of(ans))), ans, *entry.primals, **entry.kwargs)
    dst = _moved_indices(moved, tuple(shape_of(x)))
    cols = np.flatnonzero(dst >= 0)
    return Sparse(dst[cols], cols, None, (m, n))


def operator_jacobian(entry: TapeEntry, argnum: int, rule: Callable) -> Operator:
    """A dense-kind local Jacobian kept matrix-free: its JVP rule applies it to
    a block of columns, its VJP rule (if the primitive has one) to rows."""
    prim, ans, x = entry.prim, entry.ans, entry.primals[argnum]
    in_shape, out_shape = tuple(shape_of(x)), tuple(shape_of(ans))

    def jvp(block: Any) -> Any:
        out = _apply_rule(entry, argnum, rule, block)
        full = (shape_of(block)[0],) + out_shape
        return out if tuple(shape_of(out)) == full else dnp.broadcast_to(out, full)

    try:
        vjp_rule = prim.vjp_rule(argnum)
    except NotImplementedError:
        vjp_rule = None

    def vjp(block: Any) -> Any:
        if prim.vjp_batched:
            return vjp_rule(block, ans, *entry.primals, **entry.kwargs)
        return dnp.stack([vjp_rule(block[k], ans, *entry.primals, **entry.kwargs) for k in range(shape_of(block)[0])])

    has_vjp = vjp_rule is not None
    return Operator(jvp, vjp if has_vjp else None, size_of(ans), size_of(x), in_shape, out_shape, has_vjp)


def _structured_bytes(prim: Primitive, x: Any, answers: tuple, itemsize: int) -> int:
    """What the local Jacobian of one argument will take, stored as declared."""
    m, n = sum(size_of(a) for a in answers), size_of(x)
    if prim.structure == "diagonal" and not prim.multiple_results:
        return m * itemsize + (0 if m == n else 16 * m)
    if prim.structure in ("gather", "segment") and not prim.multiple_results:
        return 16 * max(m, n)
    if not prim.multiple_results:  # matrix-free; formed only where it pays, along its narrow side
        return m * n * itemsize if min(m, n) > 1 else (m + n) * itemsize
    return m * n * itemsize


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
    for entry in tape:
        outs, answers = _outputs_of(entry)
        if not any(s in to_outputs for s in outs):
            continue
        edges = [(argnum, rule, s) for argnum, rule, s in entry.parents if s in from_inputs]
        if not edges:
            continue
        for s, a in zip(outs, answers):
            sizes[s] = size_of(a)
        out_size = sum(size_of(a) for a in answers)
        itemsize = float_dtype(answers[0]).itemsize
        for argnum, _, _ in edges:
            x = entry.primals[argnum]
            n_in = size_of(x)
            if structure == "dense":
                nbytes += out_size * n_in * itemsize
            else:
                nbytes += _structured_bytes(entry.prim, x, answers, itemsize)
            n_matrices += 1
            largest = max(largest, (out_size, n_in), key=lambda ab: ab[0] * ab[1])
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
            tangents = _apply_rule(entry, argnum, rule, _identity_basis(entry.primals[argnum]))
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
                graph.add_edge(s, out_s, _as_matrix(tangent, n_in, a))
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
    if order == "optimal":
        return candidate_plans(graph, in_slots, intermediates)
    if isinstance(order, str):
        text = f"{order} ({'foldl' if order == 'forward' else 'foldr'}): eliminate the {len(intermediates)} " + (
            "intermediate vertices in execution order, J_v = Σ J_local·J_parent"
            if order == "forward"
            else "intermediate vertices in reverse execution order, A_v = Σ A_child·J_local"
        )
        return {order: Plan(fold_plan(order, intermediates), -1, text)}
    user = _check_user_order(order, intermediates, who)
    return {"user": Plan(user, -1, f"the user's elimination order of {len(user)} intermediate vertices")}


def _run_plan(graph: Graph, plans: dict[str, Plan], intermediates: list[int], order: Any) -> tuple[int, str, str]:
    """Eliminate in the cheapest plan. Returns the multiply-adds performed, the
    plan's name and its description."""
    name = min(plans, key=lambda k: plans[k].cost) if order == "optimal" else next(iter(plans))
    elimination, predicted, text = plans[name]
    multiply_adds = sum(eliminate(graph, v) for v in elimination)
    assert predicted < 0 or multiply_adds == predicted, (multiply_adds, predicted)
    if not intermediates:
        text = "no intermediate vertices: the Jacobian is the local Jacobians themselves"
    if order == "optimal":
        others = ", ".join(f"{k} {p.cost:,}" for k, p in plans.items())
        return multiply_adds, name, f"optimal → {name}: {text} [{multiply_adds:,} multiply-adds; candidates: {others}]"
    return multiply_adds, name, f"{text} [{multiply_adds:,} multiply-adds]"


def _dense_cost(graph: Graph, order: list[int]) -> int:
    """The multiply-adds of ``order`` had every local Jacobian been dense."""
    sim = graph.symbolic(dense=True)
    return sum(eliminate(sim, v) for v in order)


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
        raise ValueError(f"{who}: unknown order {order!r}; choose 'forward', 'reverse', 'optimal' or a list of vertices")
    if structure not in STRUCTURE_MODES:
        raise ValueError(f"{who}: unknown structure {structure!r}; choose one of {', '.join(map(repr, STRUCTURE_MODES))}")
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
    chosen_order = plans[min(plans, key=lambda k: plans[k].cost) if order == "optimal" else next(iter(plans))].order
    dense_multiply_adds = _dense_cost(graph, chosen_order)
    multiply_adds, chosen, plan = _run_plan(graph, plans, intermediates, order)
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
