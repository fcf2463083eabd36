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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import numpy as dnp
from .core import dtype_of, float_dtype, shape_of, size_of
from .explicit import explicit_jacobian
from .forward import forward_pass
from .reverse import reverse_pass

#: Largest number of scalars in one block of directions (see module docstring).
CHUNK_ELEMENTS = 1 << 22

#: How many input signatures one ``jacobian(f, mode="auto")`` remembers.
OUT_SIZES_MAX = 64

Flat = Callable[[list], Any]


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


def jacobian_forward(fun: Flat, leaves: list, has_aux: bool, who: str, chunk_size: int | None = None) -> tuple:
    """Push the identity basis of the inputs through forward passes (n directions)."""
    n = sum(size_of(v) for v in leaves)
    rows: list = []
    out_leaves = out_tree = aux = None
    for start, stop in chunks(n, n, chunk_size):
        basis = basis_block(leaves, start, stop)
        out_leaves, tangents, out_tree, aux = forward_pass(fun, leaves, basis, (stop - start,), has_aux, who)
        if not rows:
            rows = [[] for _ in out_leaves]
        for acc, t, o in zip(rows, tangents, out_leaves):
            acc.append(dnp.reshape(t, (stop - start, size_of(o))))
    # columns: all input directions; J_leaf has shape (out_size, n)
    jac = [dnp.transpose(_concat(parts, 0)) for parts in rows]
    return out_leaves, out_tree, jac, aux


def jacobian_reverse(
    fun: Flat, leaves: list, has_aux: bool, who: str, chunk_size: int | None = None, traced: tuple | None = None
) -> tuple:
    """Pull the identity basis of the outputs through backward sweeps (m directions).
    ``traced``: the result of a :func:`reverse_pass` already run on ``fun``."""
    out_leaves, out_tree, pullback, aux = traced or reverse_pass(fun, leaves, has_aux, who)
    n = sum(size_of(v) for v in leaves)
    m = sum(size_of(o) for o in out_leaves)
    blocks = []
    pieces = chunks(m, max(n, m), chunk_size)
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
    fun: Flat, leaves: list, has_aux: bool, who: str, chunk_size: int | None, out_sizes: dict | None
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
    if m is not None:
        run = jacobian_reverse if choose_mode(n, m) == "reverse" else jacobian_forward
        result = run(fun, leaves, has_aux, who, chunk_size)
        out_sizes[key] = sum(size_of(o) for o in result[0])  # type: ignore[index]
        return result
    traced = reverse_pass(fun, leaves, has_aux, who)
    m = sum(size_of(o) for o in traced[0])
    if out_sizes is not None:
        if len(out_sizes) >= OUT_SIZES_MAX:
            out_sizes.clear()
        out_sizes[key] = m
    if choose_mode(n, m) == "reverse":
        return jacobian_reverse(fun, leaves, has_aux, who, chunk_size, traced=traced)
    del traced
    return jacobian_forward(fun, leaves, has_aux, who, chunk_size)


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
) -> tuple:
    """Full Jacobian of ``fun`` in ``mode``: ``(out leaves, out treedef, jac, aux, cost)``;
    ``cost`` is the explicit mode's :class:`~dualrev.explicit.ExplicitCost`, else None."""
    if mode == "explicit":
        return explicit_jacobian(fun, leaves, order, has_aux, who, structure)
    if mode == "forward":
        return jacobian_forward(fun, leaves, has_aux, who, chunk_size) + (None,)
    if mode == "reverse":
        return jacobian_reverse(fun, leaves, has_aux, who, chunk_size) + (None,)
    return jacobian_auto(fun, leaves, has_aux, who, chunk_size, out_sizes) + (None,)
