"""From the tape to the linearised graph: which entries lie on an input →
output path, the memory they will take, their local Jacobians as edges, the
outputs' copy vertices, and the vertices left off every path."""

from __future__ import annotations

import numpy as np

from ..core import size_of
from ..tape import TapeEntry
from .algebra import add
from .budget import check_budget
from .graph import Graph, label_kind
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
from .structures import IDENTITY, BlockDiagonal, Diagonal, Operator, Sparse


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
    selected, (nbytes, n_matrices, largest), to_outputs = select_edges(tape, in_slots, out_slots, sizes, structure)
    check_budget(nbytes, n_matrices, largest, who)
    return entries_of(tape, selected), to_outputs


def entries_of(tape: list[TapeEntry], selected: list) -> list:
    """The ``(entry, parents)`` pairs that :func:`select_edges` picked by position."""
    work = []
    for i, keep in selected:
        entry = tape[i]
        parents = entry[1]
        work.append((entry, parents if len(keep) == len(parents) else [parents[j] for j in keep]))
    return work


def select_edges(
    tape: list[TapeEntry], in_slots: list[int], out_slots: list, sizes: dict[int, int], structure: str
) -> tuple[list, tuple[int, int, tuple], set[int]]:
    """Which entries and parents lie on some input → output path, by position
    (``(entry index, parent positions)``: a function of the tape's shape only),
    what their local Jacobians will take (:func:`~.budget.check_budget`'s
    arguments), and the vertices that reach an output. Fills in ``sizes``."""
    from_inputs, to_outputs = _relevant(tape, in_slots, {s for s in out_slots if s is not None})
    selected = []
    nbytes, n_matrices, largest = 0, 0, (0, 0)
    dense = structure == "dense"
    for i, entry in enumerate(tape):
        outs, answers = _outputs_of(entry)
        if not any(s in to_outputs for s in outs):
            continue
        keep = tuple(j for j, (_, _, s) in enumerate(entry.parents) if s in from_inputs)
        if not keep:
            continue
        out_size = 0
        for s, a in zip(outs, answers):
            out_size += (size := fast_size(a))
            sizes[s] = size
        itemsize = fast_itemsize(answers[0])
        for j in keep:
            x = entry.primals[entry.parents[j][0]]
            n_in = fast_size(x)
            nbytes += out_size * n_in * itemsize if dense else structured_bytes(entry.prim, x, answers, itemsize)
            n_matrices += 1
            if out_size * n_in > largest[0] * largest[1]:
                largest = (out_size, n_in)
        selected.append((i, keep))
    return selected, (nbytes, n_matrices, largest), to_outputs


def _build_graph(
    work: list, in_slots: list[int], sizes: dict[int, int], to_outputs: set[int], structure: str
) -> tuple[Graph, int, int, int]:
    """The graph whose edges are the local Jacobians. Returns it with the number
    of local Jacobians, of values stored and of entries a dense form would hold."""
    return build_graph(work, in_slots, sizes, to_outputs, structure, [])


def build_graph(
    work: list, in_slots: list[int], sizes: dict[int, int], to_outputs: set[int], structure: str, kinds: list
) -> tuple[Graph, int, int, int]:
    """:func:`_build_graph`, appending to ``kinds`` the structure of every local
    Jacobian formed (None where a rule said "no dependence"): with the tape's
    shape, what the graph — and so its plan — depends on."""
    edges, local_jacobians, entries, dense_entries = build_edges(work, sizes, to_outputs, structure, kinds)
    return graph_of(edges, in_slots, sizes), local_jacobians, entries, dense_entries


def graph_of(edges: dict, in_slots: list[int], sizes: dict[int, int]) -> Graph:
    """The graph of the edges :func:`build_edges` found (in the order they were first met)."""
    graph = Graph(sizes)
    for s in in_slots:
        graph.add_vertex(s)
    for (v, u), label in edges.items():
        graph.add_edge(u, v, label)
    return graph


def build_edges(
    work: list, sizes: dict[int, int], to_outputs: set[int], structure: str, kinds: list
) -> tuple[dict, int, int, int]:
    """The local Jacobians as edges ``{(v, u): ∂v/∂u}`` (two edges between the
    same pair summed), with the number of local Jacobians, of values stored and
    of entries a dense form would hold; appends to ``kinds`` as :func:`build_graph`."""
    edges: dict = {}
    entries = dense_entries = local_jacobians = 0
    structured = structure == "structured"
    for entry, parents in work:
        prim = entry.prim
        if structured and not prim.multiple_results:
            out, ans = entry.out, entry.ans
            m = ans.size if type(ans) is np.ndarray else size_of(ans)
            keep = out in to_outputs and m > 0
            jacobian = operator_jacobian if prim.structure == "dense" else structured_jacobian
            for argnum, rule, s in parents:
                n_in = sizes[s]
                if n_in == 0:
                    continue
                label = jacobian(entry, argnum, rule)
                if label is None:
                    kinds.append(None)
                    continue
                # label_kind() and the values stored (an operator stores none), the common kinds inline
                if type(label) is Operator:
                    kinds.append(("operator", label.has_vjp))
                elif type(label) is Diagonal:
                    kinds.append("diagonal")
                    entries += label.n if keep else 0
                elif type(label) is Sparse:
                    kinds.append(label_kind(label))
                    entries += (label.nnz if label.vals is not None else 0) if keep else 0
                elif type(label) is BlockDiagonal:
                    kinds.append(label_kind(label))
                    entries += (0 if label.shared else label.nnz) if keep else 0
                else:  # a matrix product's other operand, itself (kron_jacobian): nothing stored
                    kinds.append("dense")
                if not keep:
                    continue
                local_jacobians += 1
                dense_entries += n_in * m
                existing = edges.get((out, s))
                edges[out, s] = label if existing is None else add(existing, label, (m, n_in))[0]
            continue
        outs, answers = _outputs_of(entry)
        for argnum, rule, s in parents:
            n_in = sizes[s]
            if n_in == 0:
                continue
            tangents = apply_rule(entry, argnum, rule, identity_basis(entry.primals[argnum]))
            kinds.append(tangents is None)
            if tangents is None:  # the rule says: no dependence
                continue
            if not entry.prim.multiple_results:
                tangents = (tangents,)
            local_jacobians += 1
            for out_s, a, tangent in zip(outs, answers, tangents):
                entries += n_in * size_of(a)
                dense_entries += n_in * size_of(a)
                kinds.append(tangent is None)
                if tangent is None or out_s not in to_outputs or size_of(a) == 0:
                    continue
                label = as_matrix(tangent, n_in, a)
                existing = edges.get((out_s, s))
                edges[out_s, s] = label if existing is None else add(existing, label, (sizes[out_s], n_in))[0]
    return edges, local_jacobians, entries, dense_entries


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
