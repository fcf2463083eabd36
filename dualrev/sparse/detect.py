"""Sparsity detection: the pattern of ∂f/∂x by propagating Boolean Jacobian
patterns through the recorded program.

The program is recorded once on the explicit mode's tape (``LinearizeTrace``:
every entry keeps its values and JVP rules). Every value ``v`` then gets the
Boolean matrix ``P_v`` of shape ``(v.size, n)`` (n = the number of input
scalars): row ``i`` holds the inputs entry ``v[i]`` may depend on. Inputs start
from identity blocks; an op ``y = op(a, b, …)`` gives ``P_y = Σ_a L_a · P_a``
(Boolean products and sums: scipy.sparse matrices of dtype bool), where
``L_a`` is the *pattern* of the local Jacobian ∂y/∂a read off the structure its
primitive declares:

* ``diagonal`` — the identity (same shape) or the broadcast's 0-1 map: the
  pattern is taken from the shapes alone, so a derivative that happens to be
  0 at this point (relu at a negative entry) still counts: the pattern is
  *structural*, valid near the point, not only at it;
* ``gather`` / ``segment`` — the 0-1 map the explicit mode reads off the op's
  own rules with an index probe (exact: indexing, reshape, transpose,
  concatenate, sums, scatters);
* ``dense`` (and multiple-result primitives) — conservative: every output
  depends on every input any argument entry depends on. A matmul with a
  constant matrix therefore gets a dense block (correct, possibly more than
  the true pattern of a sparse constant).

Cost: one recorded run plus sparse Boolean products whose size is the number
of (output entry, input) dependencies — for a banded program O(n · bandwidth),
far below one dense pass per input. The pattern is that of the program
recorded at this point (control flow on values is taken as it went here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..core import shape_of, size_of
from ..explicit.linearize import LinearizeTrace
from ..explicit.local import fast_size, never_differentiated, structured_jacobian
from ..explicit.structures import BlockDiagonal, Sparse
from ..tape import TapeEntry, record

#: A dense block of more entries than this is refused (the pattern is dense: use a dense Jacobian).
MAX_PATTERN_ENTRIES = 200_000_000


def _outputs_of(entry: TapeEntry) -> tuple[tuple, tuple]:
    if entry.prim.multiple_results:
        return entry.out, entry.ans
    return (entry.out,), (entry.ans,)


def _coo(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    data = np.ones(len(rows), dtype=bool)
    return sp.csr_matrix((data, (rows, cols)), shape=shape, dtype=bool)


def _dense_block(m: int, parents: list[sp.csr_matrix], n: int, who: str) -> sp.csr_matrix:
    """Every one of ``m`` outputs depends on every input any parent row depends on."""
    cols = np.unique(np.concatenate([p.indices for p in parents])) if parents else np.zeros(0, np.int64)
    if m * len(cols) > MAX_PATTERN_ENTRIES:
        raise MemoryError(
            f"{who}: the pattern holds a dense block of {m} x {len(cols)} entries (an op of dense structure "
            f"with many inputs behind it); the Jacobian is not sparse here: use the dense dr.jacobian"
        )
    rows = np.repeat(np.arange(m), len(cols))
    return _coo(rows, np.tile(cols, m), (m, n))


def _relevant(tape: list[TapeEntry], out_slots: set[int]) -> set[int]:
    """The slots some output depends on."""
    reach = set(out_slots)
    for entry in reversed(tape):
        if any(s in reach for s in _outputs_of(entry)[0]):
            reach.update(slot for _, _, slot in entry.parents)
    return reach


def _local_pattern(entry: TapeEntry, argnum: int, rule: Callable, m: int) -> Any:
    """The pattern of ∂ans/∂args[argnum] as a bool CSR ``(m, size)``, "same" for
    the identity, "dense" for a dense block, None for no dependence."""
    x = entry.primals[argnum]
    if never_differentiated(entry, argnum, rule):
        return None
    kind = entry.prim.structure
    if entry.prim.multiple_results or kind == "dense":
        return "dense"
    n = fast_size(x)
    if kind == "diagonal":
        shape_x, shape_y = tuple(shape_of(x)), tuple(shape_of(entry.ans))
        if tuple(shape_x) == tuple(shape_y):
            return "same"
        cols = np.broadcast_to(np.arange(n).reshape(shape_x), shape_y).ravel()
        return _coo(np.arange(m), cols, (m, n))
    label = structured_jacobian(entry, argnum, rule)
    if label is None:
        return None
    if isinstance(label, Sparse):
        return _coo(np.asarray(label.rows), np.asarray(label.cols), label.shape)
    if isinstance(label, BlockDiagonal):  # a batch of rows through a matrix product: row by row
        rows, cols = label.positions()
        return _coo(rows, cols, (m, n))
    return "dense"  # a matrix product's other operand, or matrix-free: dense


def propagate(tape: list[TapeEntry], in_slots: list[int], leaves: list, out_slots: list, who: str) -> dict:
    """``P_v`` for every value some output depends on (see the module docstring)."""
    n = sum(size_of(leaf) for leaf in leaves)
    patterns: dict[int, sp.csr_matrix] = {}
    offset = 0
    for s, leaf in zip(in_slots, leaves):
        k = size_of(leaf)
        block = _coo(np.arange(k), offset + np.arange(k), (k, n))
        patterns[s] = block if s not in patterns else (patterns[s] + block).tocsr()
        offset += k
    reach = _relevant(tape, {s for s in out_slots if s is not None})
    for entry in tape:
        outs, answers = _outputs_of(entry)
        if not any(s in reach for s in outs):
            continue
        sizes = [fast_size(a) for a in answers]
        total: sp.csr_matrix | None = None
        dense_parents = []
        for argnum, rule, s in entry.parents:
            parent = patterns.get(s)
            if parent is None:
                continue
            local = _local_pattern(entry, argnum, rule, sum(sizes))
            if local is None:
                continue
            if isinstance(local, str) and local == "dense":
                dense_parents.append(parent)
                continue
            part = parent if isinstance(local, str) else (local @ parent).tocsr()
            total = part if total is None else (total + part).tocsr()
        if dense_parents:
            for out_slot, size in zip(outs, sizes):
                block = _dense_block(size, dense_parents, n, who)
                if len(outs) > 1 or total is None:
                    patterns[out_slot] = block
                else:
                    patterns[out_slot] = (total + block).tocsr()
            continue
        if total is not None:
            patterns[outs[0]] = total
    return patterns


def pattern_of(fun: Callable[[list], Any], leaves: list, has_aux: bool, who: str) -> tuple[sp.csr_matrix, Any]:
    """The Boolean pattern ``(Σ out sizes, Σ in sizes)`` of the Jacobian of
    ``fun`` (a function of the list ``leaves``), rows output leaf by output
    leaf, columns input leaf by input leaf; and the recording (outputs, aux)."""
    trace = LinearizeTrace()
    rec = record(fun, leaves, has_aux, who, trace)
    patterns = propagate(trace.tape, rec.in_slots, leaves, rec.out_slots, who)
    trace.tape = []
    n = sum(size_of(leaf) for leaf in leaves)
    blocks = []
    for s, o in zip(rec.out_slots, rec.out_primals):
        m = size_of(o)
        block = patterns.get(s) if s is not None else None
        blocks.append(block if block is not None else sp.csr_matrix((m, n), dtype=bool))
    if not blocks:
        return sp.csr_matrix((0, n), dtype=bool), rec
    out = sp.vstack(blocks, format="csr", dtype=bool) if len(blocks) > 1 else blocks[0]
    out.sum_duplicates()
    out.eliminate_zeros()
    out.sort_indices()
    return out, rec
