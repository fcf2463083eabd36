"""Indexing and selection: getitem/scatter_add, concatenate, where, and the
gathers built on them (take, sort, diagonal, tril/triu ...).

getitem and scatter_add are mutual transposes; concatenate's transpose cuts
the cotangent into slices. ``where`` is linear in its two value arguments (the
condition is a constant). Everything else here is a composition of these and
of the shape primitives: no new rules, so the derivatives are right by
construction and every mode (and every order) supports them.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ...core import Primitive, Tracer, concrete, nondiff, shape_of
from .base import Sample, ndim_of, normalize_axes, register, sample_arrays
from .overrides import fallback, numpy_function
from .shape import _core_shape, expand_dims, expand_tangent, moveaxis, ravel, unbroadcast

# ----------------------------------------------------------------- indexing


def normalize_index(index: Any, ndim: int) -> tuple:
    """A NumPy index as an explicit tuple with no Ellipsis and no tracers.

    Lists become integer/boolean arrays; a traced index (e.g. from ``argmax`` on
    a traced value) is used by value: indices are not differentiable.
    """
    if not isinstance(index, tuple):
        index = (index,)
    items = []
    for item in index:
        item = concrete(item)
        if isinstance(item, list):
            item = np.asarray(item)
            if item.dtype.kind not in "bi":
                item = item.astype(np.intp) if item.size == 0 else item
        if isinstance(item, np.ndarray) and item.dtype.kind not in "biu":
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
                "integer or boolean arrays are valid indices"
            )
        items.append(item)
    consumed = sum(
        (i.ndim if isinstance(i, np.ndarray) and i.dtype == bool else 1)
        for i in items
        if i is not None and i is not Ellipsis
    )
    n_ellipsis = sum(1 for i in items if i is Ellipsis)
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(f"too many indices for array: array is {ndim}-dimensional, but {consumed} were indexed")
    if n_ellipsis:
        k = items.index(Ellipsis)
        items[k : k + 1] = [slice(None)] * (ndim - consumed)
    return tuple(items)


def _is_basic(index: tuple) -> bool:
    return all(i is None or isinstance(i, (slice, int, np.integer)) for i in index)


def _batch_to_back(x, bd):
    return np.moveaxis(x, tuple(range(bd)), tuple(range(-bd, 0))) if bd else x


def _batch_to_front(x, bd):
    return np.moveaxis(x, tuple(range(-bd, 0)), tuple(range(bd))) if bd else x


def _getitem_impl(x, *, index, in_ndim):
    # Leading batch axes are moved to the back, where an explicit (Ellipsis-free)
    # index never touches them, then moved to the front again. This keeps the
    # batch axes first even when NumPy moves advanced-index axes to the front.
    bd = np.ndim(x) - in_ndim
    if bd == 0:
        return x[index]
    return _batch_to_front(_batch_to_back(x, bd)[index], bd)


def _scatter_add_impl(g, *, index, shape, in_ndim):
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate)."""
    bd = np.ndim(g) - in_ndim
    gs = np.shape(g)
    out = np.zeros(gs[:bd] + shape, dtype=np.result_type(g))
    target = _batch_to_back(out, bd)
    if _is_basic(index):
        target[index] = _batch_to_back(g, bd)
    else:
        np.add.at(target, index, _batch_to_back(g, bd))
    return out


def _getitem_samples(rng):
    mask = np.array([[True, False, True, True], [False] * 4, [True, True, False, True]])
    cases = [
        ((4, 3), (slice(1, 3), 0)),
        ((5,), (np.array([0, 2, 2, 4]),)),
        ((3, 4, 2), (np.array([0, 2]), slice(None), np.array([1, 0]))),
        ((3, 2), (None, slice(None, None, -1))),
        ((3, 4), (mask,)),
        ((2, 3, 4), (slice(None), np.array([True, False, True]), 1)),
    ]
    return [Sample(sample_arrays(rng, "real", s), {"index": index, "in_ndim": len(s)}) for s, index in cases]


getitem_p: Primitive = register(
    _getitem_impl,
    "getitem",
    structure="gather",
    linear=(
        lambda g, ans, x, *, index, in_ndim: scatter_add_p(
            g, index=index, shape=_core_shape(x, in_ndim), in_ndim=ndim_of(ans) - (ndim_of(x) - in_ndim)
        ),
    ),
    samples=_getitem_samples,
)
scatter_add_p: Primitive = register(
    _scatter_add_impl,
    "scatter_add",
    structure="segment",
    linear=(lambda g, ans, x, *, index, shape, in_ndim: getitem_p(g, index=index, in_ndim=len(shape)),),
    samples=lambda rng: [
        Sample(sample_arrays(rng, "real", (4,)), {"index": (np.array([0, 2, 2, 1]),), "shape": (3,), "in_ndim": 1}),
        Sample(sample_arrays(rng, "real", (2,)), {"index": (slice(1, 3), 0), "shape": (4, 3), "in_ndim": 1}),
    ],
)


@fallback(operator.getitem)
def getitem(x: Any, index: Any) -> Any:
    """``x[index]`` for a traced ``x`` (basic and advanced indexing)."""
    n = ndim_of(x)
    return getitem_p(x, index=normalize_index(index, n), in_ndim=n)


def along(axis: int, ndim: int, item: Any) -> tuple:
    """An index that applies ``item`` to axis ``axis`` and leaves the others whole."""
    return (slice(None),) * (axis % ndim) + (item,)


def index_explicit(a: Any, index: tuple) -> Any:
    """``a[index]`` for an explicit, Ellipsis-free index (no re-normalisation)."""
    return getitem_p(a, index=index, in_ndim=ndim_of(a))


def as_operand(a: Any) -> Any:
    """A traced value as it is, anything else as an ndarray."""
    return a if isinstance(a, Tracer) else np.asarray(a)


# ----------------------------------------------------- concatenate / stack


def _concatenate_impl(*xs, axis):
    return np.concatenate(xs, axis=axis)


def _region(argnum: int, xs: tuple, axis: int) -> tuple:
    """The index of argument ``argnum``'s block inside the concatenation."""
    start = sum(shape_of(x)[axis] for x in xs[:argnum])
    stop = start + shape_of(xs[argnum])[axis]
    region: list = [slice(None)] * ndim_of(xs[argnum])
    region[axis] = slice(start, stop)
    return tuple(region)


concatenate_p: Primitive = register(
    _concatenate_impl,
    "concatenate",
    structure="gather",
    jvp_any=lambda i, t, ans, *xs, axis: scatter_add_p(
        t, index=_region(i, xs, axis), shape=shape_of(ans), in_ndim=ndim_of(xs[i])
    ),
    vjp_any=lambda i, g, ans, *xs, axis: getitem_p(g, index=_region(i, xs, axis), in_ndim=ndim_of(ans)),
    samples=lambda rng: [
        Sample(sample_arrays(rng, "real", (2, 3), (1, 3), (4, 3)), {"axis": -2}),
        Sample(sample_arrays(rng, "real", (2, 1), (2, 2)), {"axis": -1}),
    ],
)


@numpy_function(np.concatenate, sequences=True)
def concatenate(arrays: Any, axis: Any = 0, out: Any = None, **kwargs: Any) -> Any:
    if out is not None or kwargs:
        raise TypeError("dualrev: concatenate of traced values takes no out=/dtype=/casting= arguments")
    arrays = list(arrays)
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    arrays = [as_operand(a) for a in arrays]
    n = ndim_of(arrays[0])
    if n == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    (ax,) = normalize_axes(axis, n)
    return concatenate_p(*arrays, axis=ax)


@numpy_function(np.stack, sequences=True)
def stack(arrays: Any, axis: int = 0, out: Any = None) -> Any:
    arrays = list(arrays)
    if len({tuple(shape_of(a)) for a in arrays}) != 1:
        raise ValueError("all input arrays must have the same shape")
    n = ndim_of(arrays[0]) + 1
    (ax,) = normalize_axes(axis, n)
    return concatenate([expand_dims(a, ax % n) for a in arrays], axis=ax % n)


# -------------------------------------------------------------------- where


def _where_impl(condition, x, y):
    return np.where(condition, x, y)


where_p: Primitive = register(
    _where_impl,
    "where",
    structure="diagonal",
    jvp=(
        None,
        lambda t, ans, c, x, y: where_p(c, expand_tangent(t, x, ans), 0),
        lambda t, ans, c, x, y: where_p(c, 0, expand_tangent(t, y, ans)),
    ),
    vjp=(
        None,
        lambda g, ans, c, x, y: unbroadcast(where_p(c, g, 0), x, ans),
        lambda g, ans, c, x, y: unbroadcast(where_p(c, 0, g), y, ans),
    ),
    samples=lambda rng: [
        Sample((rng.standard_normal((2, 3)) > 0, *sample_arrays(rng, "real", (2, 3), (3,)))),
        Sample((rng.standard_normal((3,)) > 0, *sample_arrays(rng, "real", (2, 1), ()))),
    ],
)


@numpy_function(np.where)
def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """``np.where``; differentiable in ``x`` and ``y`` (the condition is a constant)."""
    if x is None and y is None:
        return np.where(concrete(condition))
    # The condition carries no derivative, but a replay must recompute it (nondiff).
    return where_p(nondiff(np.asarray, condition), x, y)


def _triangle(m, k, lower):
    s = shape_of(m)
    rows = s[-2] if len(s) > 1 else s[-1]  # a 1-D m gives NumPy's n × n
    mask = np.tri(rows, s[-1], k=int(k) - (0 if lower else 1), dtype=bool)
    return where_p(mask if lower else ~mask, m, 0.0)


@numpy_function(np.tril)
def tril(m: Any, k: int = 0) -> Any:
    return _triangle(m, k, lower=True)


@numpy_function(np.triu)
def triu(m: Any, k: int = 0) -> Any:
    return _triangle(m, k, lower=False)


# ------------------------------------------------------------------ gathers


@numpy_function(np.take)
def take(a: Any, indices: Any, axis: Any = None, out: Any = None, mode: str = "raise") -> Any:
    """A gather; ``mode="wrap"`` wraps the indices around, ``"clip"`` clips them to the axis."""
    if out is not None:
        raise TypeError("dualrev: take of a traced value takes no out= argument")
    indices = np.asarray(concrete(indices))
    if axis is None:
        a, axis = ravel(a), 0
    length = shape_of(a)[axis]
    if mode == "wrap" and length:
        indices = indices % length
    elif mode == "clip" and length:
        indices = np.clip(indices, 0, length - 1)
    elif mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    elif np.any((indices < -length) | (indices >= length)):
        raise IndexError(f"index out of bounds for axis {axis} with size {length}")
    return index_explicit(a, along(axis, ndim_of(a), indices % length if length else indices))


@numpy_function(np.take_along_axis)
def take_along_axis(arr: Any, indices: Any, axis: Any = -1) -> Any:
    """A gather with one broadcast index array per axis."""
    indices = np.asarray(concrete(indices))
    if axis is None:
        arr, axis = ravel(arr), 0
    n = ndim_of(arr)
    axis %= n
    s = shape_of(arr)
    index = []
    for i in range(n):
        if i == axis:
            index.append(indices % s[i] if s[i] else indices)
        else:
            shape = [1] * n
            shape[i] = s[i]
            index.append(np.arange(s[i]).reshape(shape))
    return index_explicit(arr, tuple(index))


@numpy_function(np.sort)
def sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, **kwargs: Any) -> Any:
    """Sorted values as a gather with the (stable) argsort of the values.

    The derivative of the k-th smallest value is the derivative of the entry
    that the stable argsort puts at position k; tied entries therefore keep
    their input order and each tie's derivative goes to one entry (sort is a
    permutation, so there is no sharing to do).
    """
    if axis is None:
        a, axis = ravel(a), -1
    order_idx = np.argsort(concrete(a), axis=axis, kind="stable")
    return take_along_axis(a, order_idx, axis=axis)


@numpy_function(np.partition)
def partition(a: Any, kth: Any, axis: Any = -1, kind: str = "introselect", order: Any = None) -> Any:
    """Partitioned values as a gather with ``argpartition`` of the values."""
    if axis is None:
        a, axis = ravel(a), -1
    return take_along_axis(a, np.argpartition(concrete(a), kth, axis=axis), axis=axis)


@numpy_function(np.repeat)
def repeat(a: Any, repeats: Any, axis: Any = None) -> Any:
    """Repeat each element: a gather with the index ``np.repeat(arange(n), repeats)``."""
    if axis is None:
        a, axis = ravel(a), 0
    idx = np.repeat(np.arange(shape_of(a)[axis]), concrete(repeats))
    return index_explicit(a, along(axis, ndim_of(a), idx))


def _diagonal_index(d1: int, d2: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(max(0, min(d1 + min(offset, 0), d2 - max(offset, 0))))
    return rows + max(-offset, 0), rows + max(offset, 0)


@numpy_function(np.diagonal)
def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The two axes are moved last, then gathered with paired index arrays; the
    diagonal is the last axis of the result, as in NumPy."""
    n = ndim_of(a)
    moved = moveaxis(a, (axis1, axis2), (-2, -1))
    s = shape_of(moved)
    rows, cols = _diagonal_index(s[-2], s[-1], int(offset))
    return index_explicit(moved, (slice(None),) * (n - 2) + (rows, cols))


@numpy_function(np.diag)
def diag(v: Any, k: int = 0) -> Any:
    """1-D input: scatter it onto the k-th diagonal of a square zero matrix; 2-D: its diagonal."""
    if ndim_of(v) == 2:
        return diagonal(v, k)
    if ndim_of(v) != 1:
        raise ValueError("Input must be 1- or 2-d.")
    size = shape_of(v)[0] + abs(int(k))
    rows, cols = _diagonal_index(size, size, int(k))
    return scatter_add_p(v, index=(rows, cols), shape=(size, size), in_ndim=1)


__all__ = [
    "getitem",
    "concatenate",
    "stack",
    "where",
    "tril",
    "triu",
    "take",
    "take_along_axis",
    "sort",
    "partition",
    "repeat",
    "diagonal",
    "diag",
]
