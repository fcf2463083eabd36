"""Joining, splitting and rearranging arrays: atleast_*d, h/v/dstack,
column_stack, append, broadcast_arrays, (array_)split, tile, flip, rot90, roll.

All compositions of the shape and indexing primitives (reshape,
broadcast_to, transpose, getitem, concatenate): no new rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...core import shape_of
from .base import ndim_of, normalize_axes
from .construction import operand
from .indexing import along, as_operand, concatenate, index_explicit
from .overrides import numpy_function
from .shape import broadcast_to, ravel, reshape, transpose


def _one_or_tuple(out: list) -> Any:
    return out[0] if len(out) == 1 else tuple(out)


@numpy_function(np.atleast_1d)
def atleast_1d(*arys: Any) -> Any:
    return _one_or_tuple([reshape(a, (1,)) if ndim_of(a) == 0 else as_operand(a) for a in arys])


@numpy_function(np.atleast_2d)
def atleast_2d(*arys: Any) -> Any:
    out = []
    for a in arys:
        s = tuple(shape_of(a))
        out.append(reshape(a, (1,) * (2 - len(s)) + s) if len(s) < 2 else as_operand(a))
    return _one_or_tuple(out)


@numpy_function(np.atleast_3d)
def atleast_3d(*arys: Any) -> Any:
    out = []
    for a in arys:
        s = tuple(shape_of(a))
        new = {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s)
        out.append(reshape(a, new) if new != s else as_operand(a))
    return _one_or_tuple(out)


@numpy_function(np.hstack, sequences=True)
def hstack(tup: Any, **kwargs: Any) -> Any:
    arrays = [atleast_1d(a) for a in tup]
    return concatenate(arrays, axis=0 if ndim_of(arrays[0]) == 1 else 1)


@numpy_function(np.vstack, np.row_stack, sequences=True)
def vstack(tup: Any, **kwargs: Any) -> Any:
    return concatenate([atleast_2d(a) for a in tup], axis=0)


row_stack = vstack


@numpy_function(np.dstack, sequences=True)
def dstack(tup: Any) -> Any:
    return concatenate([atleast_3d(a) for a in tup], axis=2)


@numpy_function(np.column_stack, sequences=True)
def column_stack(tup: Any) -> Any:
    return concatenate([reshape(a, (-1, 1)) if ndim_of(a) < 2 else a for a in tup], axis=1)


@numpy_function(np.append, sequences=True)
def append(arr: Any, values: Any, axis: Any = None) -> Any:
    """Lists of traced values are stacked first (``dnp.append(x, [a, b])``)."""
    arr, values = operand(arr), operand(values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


@numpy_function(np.broadcast_arrays)
def broadcast_arrays(*args: Any, subok: bool = False) -> Any:
    shape = np.broadcast_shapes(*[tuple(shape_of(a)) for a in args])
    return tuple(broadcast_to(as_operand(a), shape) for a in args)


@numpy_function(np.array_split)
def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> Any:
    """Pieces of ``ary`` along ``axis``: each one a slice (a getitem)."""
    n = ndim_of(ary)
    length = shape_of(ary)[axis]
    if np.ndim(indices_or_sections) == 0:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        each, extra = divmod(length, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [length]
    return [index_explicit(ary, along(axis, n, slice(start, stop))) for start, stop in zip(bounds[:-1], bounds[1:])]


@numpy_function(np.split)
def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> Any:
    if np.ndim(indices_or_sections) == 0 and shape_of(ary)[axis] % int(indices_or_sections):
        raise ValueError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis=axis)


@numpy_function(np.hsplit)
def hsplit(ary: Any, indices_or_sections: Any) -> Any:
    return split(ary, indices_or_sections, axis=1 if ndim_of(ary) > 1 else 0)


@numpy_function(np.vsplit)
def vsplit(ary: Any, indices_or_sections: Any) -> Any:
    return split(ary, indices_or_sections, axis=0)


@numpy_function(np.dsplit)
def dsplit(ary: Any, indices_or_sections: Any) -> Any:
    if ndim_of(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, axis=2)


@numpy_function(np.rollaxis)
def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    """NumPy's construction: one transpose."""
    n = ndim_of(a)
    (axis,) = (ax % n for ax in normalize_axes(axis, n))
    start = start + n if start < 0 else start
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"start arg requires {-n} <= start < {n + 1}, but {start} was passed in")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    axes = list(range(n))
    axes.remove(axis)
    axes.insert(start, axis)
    return transpose(a, axes)


@numpy_function(np.tile)
def tile(A: Any, reps: Any) -> Any:
    """Repeat the whole array: reshape to interleave unit axes, broadcast, merge."""
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    s = tuple(shape_of(A))
    d = max(len(s), len(reps))
    s = (1,) * (d - len(s)) + s
    reps = (1,) * (d - len(reps)) + reps
    interleaved = reshape(A, tuple(x for dim in s for x in (1, dim)))
    spread = broadcast_to(interleaved, tuple(x for r, dim in zip(reps, s) for x in (r, dim)))
    return reshape(spread, tuple(r * dim for r, dim in zip(reps, s)))


@numpy_function(np.flip)
def flip(m: Any, axis: Any = None) -> Any:
    n = ndim_of(m)
    index: list = [slice(None)] * n
    for ax in normalize_axes(axis, n):
        index[ax] = slice(None, None, -1)
    return index_explicit(m, tuple(index))


@numpy_function(np.fliplr)
def fliplr(m: Any) -> Any:
    return flip(m, axis=1)


@numpy_function(np.flipud)
def flipud(m: Any) -> Any:
    return flip(m, axis=0)


@numpy_function(np.rot90)
def rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    """NumPy's construction: flips and one transpose."""
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, axes[0]), axes[1])
    perm = list(range(ndim_of(m)))
    i, j = axes[0] % len(perm), axes[1] % len(perm)
    perm[i], perm[j] = perm[j], perm[i]
    if k == 1:
        return transpose(flip(m, axes[1]), perm)
    return flip(transpose(m, perm), axes[1])


@numpy_function(np.roll)
def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """A gather with the rotated index ``(arange(n) − shift) mod n`` per axis."""
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), tuple(shape_of(a)))
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    n = ndim_of(a)
    total: dict = {}
    for sh, ax in zip(shifts.ravel().tolist(), axes.ravel().tolist()):
        total[ax % n] = total.get(ax % n, 0) + sh
    out = a
    for ax, sh in total.items():
        length = shape_of(a)[ax]
        if length and sh % length:
            out = index_explicit(out, along(ax, n, (np.arange(length) - sh) % length))
    return out


__all__ = [
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "hstack",
    "vstack",
    "row_stack",
    "dstack",
    "column_stack",
    "append",
    "broadcast_arrays",
    "array_split",
    "split",
    "hsplit",
    "vsplit",
    "dsplit",
    "rollaxis",
    "tile",
    "flip",
    "fliplr",
    "flipud",
    "rot90",
    "roll",
]
