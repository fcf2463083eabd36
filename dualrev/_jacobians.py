"""Full Jacobians on flat leaves, in each mode, and the rule ``mode="auto"`` follows.

``jacobian`` pushes (forward) or pulls (reverse) many directions through one
pass by giving tangents/cotangents a leading batch axis. The basis is cut into
chunks so memory stays bounded: a chunk holds at most
``max(1, CHUNK_ELEMENTS // width)`` directions, where ``width`` is the number of
scalars one direction occupies at the differentiated end (the input size for
forward mode, max(input size, output size) for reverse mode), i.e. the
direction block is at most ``CHUNK_ELEMENTS`` scalars (32 MiB of float64).

Every function here returns ``(out leaves, out treedef, jac, aux)`` where
``jac`` holds one 2-D array ``(out_leaf.size, n)`` per output leaf, its
columns the input scalars leaf by leaf (C order).

With a :class:`RunLog` (``jacobian(..., return_cost=True)``) they also write
down what ran: the mode, the directions of every pass, the taped runs and the
bytes the tape holds; ``ledger.py`` turns that into a ``Cost``. Without one
(the default) nothing is measured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import numpy as dnp
from .core import Tracer, dtype_of, float_dtype, shape_of, size_of
from .explicit import explicit_jacobian
from .forward import forward_pass
from .reverse import Pullback, reverse_pass
from .tape import ShapeOnly, TapeEntry

#: Largest number of scalars in one block of directions (see module docstring).
CHUNK_ELEMENTS = 1 << 22

#: How many input signatures one ``jacobian(f, mode="auto")`` remembers.
OUT_SIZES_MAX = 64

Flat = Callable[[list], Any]
#: A forward pass of a fixed function: ``push(leaves, tangents, batch, has_aux, who)``
#: returns what ``forward.forward_pass`` returns (replay passes its compiled one).
Push = Callable[..., tuple]
#: A recording of a fixed function: ``pull(leaves)`` returns what
#: ``reverse.reverse_pass`` returns (replay passes its replayed tape).
Pull = Callable[[list], tuple]


def choose_mode(n_inputs: int, n_outputs: int) -> str:
    """What ``mode="auto"`` picks for a Jacobian of Rⁿ → Rᵐ: reverse when m ≤ n.

    A full Jacobian costs about n JVPs (forward) or m VJPs (reverse), so the
    smaller side wins; on a tie reverse is chosen (always for scalar outputs).
    """
    return "reverse" if n_outputs <= n_inputs else "forward"


def chunks(n: int, width: int, chunk_size: int | None) -> list[tuple[int, int]]:
    """``[start, stop)`` ranges of directions, each block at most ``CHUNK_ELEMENTS`` scalars."""
    if chunk_size is None:
        chunk_size = max(1, CHUNK_ELEMENTS // max(width, 1))
    chunk_size = max(1, int(chunk_size))
    return [(s, min(n, s + chunk_size)) for s in range(0, n, chunk_size)] or [(0, 0)]


def forward_chunks(n: int, chunk_size: int | None) -> list[tuple[int, int]]:
    """The passes of a forward-mode Jacobian with ``n`` input scalars."""
    return chunks(n, n, chunk_size)


def reverse_chunks(n: int, m: int, chunk_size: int | None) -> list[tuple[int, int]]:
    """The sweeps of a reverse-mode Jacobian of Rⁿ → Rᵐ (a direction block is
    as wide as the larger end: the cotangents of every value are batched)."""
    return chunks(m, max(n, m), chunk_size)


@dataclass
class RunLog:
    """What one full Jacobian ran, written as it runs (only when a cost is asked for)."""

    mode: str = ""
    n_inputs: int = 0
    n_outputs: int = 0
    directions: list[int] = field(default_factory=list)  # one entry per pass or sweep
    recordings: int = 0  # runs of f on a reverse tape
    tape_bytes: int | None = None  # bytes the tape held at the end of recording
    decided_on: int | None = None  # auto: the output size the choice was made on
    remembered: bool = False  # auto: that size was remembered from an earlier call


def _held(value: Any, seen: dict[int, int]) -> None:
    """Add the buffers ``value`` keeps alive to ``seen`` (buffer id → bytes)."""
    if isinstance(value, Tracer):  # a tracer of an enclosing transformation: its value
        _held(value.primal, seen)
    elif isinstance(value, np.ndarray):
        root = value
        while isinstance(root.base, np.ndarray):
            root = root.base
        seen[id(root)] = root.nbytes
    elif isinstance(value, np.generic):
        seen[id(value)] = value.nbytes
    elif isinstance(value, (tuple, list)):
        for v in value:
            _held(v, seen)
    # ShapeOnly stand-ins, Python numbers and static arguments hold no array data


def tape_nbytes(tape: list[TapeEntry]) -> int:
    """Bytes of the distinct buffers the entries of ``tape`` keep alive (the
    inputs included, a view counted as the buffer it views, once however many
    entries share it; values kept as :class:`ShapeOnly` count nothing)."""
    seen: dict[int, int] = {}
    for _prim, _parents, primals, kwargs, ans, _out in tape:
        if not isinstance(ans, ShapeOnly):
            _held(ans, seen)
        _held(primals, seen)
        _held(tuple(kwargs.values()), seen)
    return sum(seen.values())


def _tape_of(pullback: Pullback) -> list[TapeEntry] | None:
    """The tape a :func:`reverse_pass` pullback sweeps (its ``tape`` attribute)."""
    tape = getattr(pullback, "tape", None)
    return tape if isinstance(tape, list) else None


def basis_block(leaves: list, start: int, stop: int) -> list:
    """Rows ``start:stop`` of the identity over all leaves, split per leaf:
    leaf j gets an array of shape ``(stop - start,) + leaf.shape``."""
    k = stop - start
    blocks = []
    offset = 0
    for leaf in leaves:
        n = size_of(leaf)
        block = np.zeros((k, n), dtype=float_dtype(leaf))
        lo, hi = max(start, offset), min(stop, offset + n)
        if lo < hi:
            rows = np.arange(lo, hi)
            block[rows - start, rows - offset] = 1
        blocks.append(block.reshape((k,) + tuple(shape_of(leaf))))
        offset += n
    return blocks


def _concat(parts: list, axis: int) -> Any:
    return parts[0] if len(parts) == 1 else dnp.concatenate(parts, axis=axis)


def jacobian_forward(
    fun: Flat,
    leaves: list,
    has_aux: bool,
    who: str,
    chunk_size: int | None = None,
    log: RunLog | None = None,
    push: Push | None = None,
) -> tuple:
    """Push the identity basis of the inputs through forward passes (n directions)."""
    n = sum(size_of(v) for v in leaves)
    rows: list = []
    out_leaves = out_tree = aux = None
    pieces = forward_chunks(n, chunk_size)
    for start, stop in pieces:
        basis = basis_block(leaves, start, stop)
        if push is None:
            out_leaves, tangents, out_tree, aux = forward_pass(fun, leaves, basis, (stop - start,), has_aux, who)
        else:
            out_leaves, tangents, out_tree, aux = push(leaves, basis, (stop - start,), has_aux, who)
        if not rows:
            rows = [[] for _ in out_leaves]
        for acc, t, o in zip(rows, tangents, out_leaves):
            acc.append(dnp.reshape(t, (stop - start, size_of(o))))
    # columns: all input directions; J_leaf has shape (out_size, n)
    jac = [dnp.transpose(_concat(parts, 0)) for parts in rows]
    if log is not None:
        log.mode, log.n_inputs, log.directions = "forward", n, [stop - start for start, stop in pieces]
        log.n_outputs = sum(size_of(o) for o in out_leaves or ())
    return out_leaves, out_tree, jac, aux


def jacobian_reverse(
    fun: Flat,
    leaves: list,
    has_aux: bool,
    who: str,
    chunk_size: int | None = None,
    traced: tuple | None = None,
    log: RunLog | None = None,
    pull: Pull | None = None,
) -> tuple:
    """Pull the identity basis of the outputs through backward sweeps (m directions).
    ``traced``: the result of a :func:`reverse_pass` already run on ``fun``."""
    if traced is None:
        traced = reverse_pass(fun, leaves, has_aux, who) if pull is None else pull(leaves)
        if log is not None:
            log.recordings += 1
    out_leaves, out_tree, pullback, aux = traced
    n = sum(size_of(v) for v in leaves)
    m = sum(size_of(o) for o in out_leaves)
    pieces = reverse_chunks(n, m, chunk_size)
    if log is not None:  # before the sweeps, which empty the tape
        tape = _tape_of(pullback)
        log.tape_bytes = None if tape is None else tape_nbytes(tape)
        log.mode, log.n_inputs, log.n_outputs = "reverse", n, m
        log.directions = [stop - start for start, stop in pieces]
    blocks = []
    for i, (start, stop) in enumerate(pieces):
        seeds = basis_block(out_leaves, start, stop)
        cts = pullback(seeds, (stop - start,), i == len(pieces) - 1)
        blocks.append(_concat([dnp.reshape(c, (stop - start, size_of(p))) for c, p in zip(cts, leaves)], 1))
    full = _concat(blocks, 0)  # (m, n)
    jac = []
    offset = 0
    for o in out_leaves:
        jac.append(full[offset : offset + size_of(o)])
        offset += size_of(o)
    return out_leaves, out_tree, jac, aux


def jacobian_auto(
    fun: Flat,
    leaves: list,
    has_aux: bool,
    who: str,
    chunk_size: int | None,
    out_sizes: dict | None,
    log: RunLog | None = None,
    push: Push | None = None,
    pull: Pull | None = None,
    linearized: Callable | None = None,
) -> tuple:
    """The cheaper of forward and reverse by :func:`choose_mode`.

    The output size m is known only after running f, so the first call records
    a reverse tape and decides from it (reusing the tape when reverse wins).
    The mode changes the cost, never the result, so later calls with the same
    input shapes use the m seen before (``out_sizes``, kept by one
    ``jacobian(f)`` function) and run only the chosen mode; m is re-read from
    every result (for an f whose output size depends on more than the shapes).
    """
    n = sum(size_of(v) for v in leaves)
    key = tuple((tuple(shape_of(v)), np.dtype(dtype_of(v)).str) for v in leaves)
    m = None if out_sizes is None else out_sizes.get(key)
    if log is not None:
        log.decided_on, log.remembered = m, m is not None
    if m is not None:
        if choose_mode(n, m) == "reverse":
            result = jacobian_reverse(fun, leaves, has_aux, who, chunk_size, log=log, pull=pull)
        else:
            result = jacobian_forward(fun, leaves, has_aux, who, chunk_size, log=log, push=push)
        out_sizes[key] = sum(size_of(o) for o in result[0])  # type: ignore[index]
        return result
    traced = reverse_pass(fun, leaves, has_aux, who) if pull is None else pull(leaves)
    m = sum(size_of(o) for o in traced[0])
    if log is not None:
        log.decided_on, log.recordings = m, log.recordings + 1
    if out_sizes is not None:
        if len(out_sizes) >= OUT_SIZES_MAX:
            out_sizes.clear()
        out_sizes[key] = m
    if choose_mode(n, m) == "reverse":
        return jacobian_reverse(fun, leaves, has_aux, who, chunk_size, traced=traced, log=log)
    del traced
    return jacobian_forward(fun, leaves, has_aux, who, chunk_size, log=log, push=push)


def jacobian_flat(
    fun: Flat,
    leaves: list,
    mode: str,
    order: str,
    has_aux: bool,
    who: str,
    chunk_size: int | None = None,
    out_sizes: dict | None = None,
    structure: str = "structured",
    log: RunLog | None = None,
    push: Push | None = None,
    pull: Pull | None = None,
    linearized: Callable | None = None,
) -> tuple:
    """Full Jacobian of ``fun`` in ``mode``: ``(out leaves, out treedef, jac, aux, cost)``;
    ``cost`` is the explicit mode's :class:`~dualrev.explicit.ExplicitCost`, else None.
    ``log``: filled in with what ran (see :class:`RunLog`). ``push``/``pull``
    replace the forward pass / the recording of ``fun`` (replay), ``linearized``
    the explicit mode's recording."""
    if mode == "explicit":
        result = explicit_jacobian(fun, leaves, order, has_aux, who, structure, linearized, log is not None)
        if log is not None:  # one taped run; no direction is pushed through the program
            log.mode, log.recordings, log.directions = "explicit", 1, [0]
            log.n_inputs = sum(size_of(v) for v in leaves)
            log.n_outputs = sum(size_of(o) for o in result[0])
        return result
    if mode == "forward":
        return jacobian_forward(fun, leaves, has_aux, who, chunk_size, log, push=push) + (None,)
    if mode == "reverse":
        return jacobian_reverse(fun, leaves, has_aux, who, chunk_size, log=log, pull=pull) + (None,)
    return jacobian_auto(fun, leaves, has_aux, who, chunk_size, out_sizes, log, push=push, pull=pull) + (None,)
