"""Shape manipulation and indexing: linear primitives and their transposes.

Every op here is *linear* in its traced argument, so its JVP is the op itself
applied to the tangent and only the transpose (the VJP) is written
(:func:`dualrev.core.deflinear`). The implementations act on the trailing
``in_ndim`` axes and leave any leading (batch) axes alone, which is what lets
the same primitive serve as its own JVP on a batch of tangents.

Pairs of mutual transposes: reshape/reshape, broadcast_to/sum_to,
transpose/inverse transpose, getitem/scatter_add, concatenate/slices.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ..core import Tracer, concrete, deflinear, defjvp_argnum, defvjp_argnum, shape_of
from ._helpers import Sample, _ops, ndim_of, normalize_axes, register, sample_arrays, samples

# ---------------------------------------------------------------- reshape


def _reshape_impl(x, *, shape, in_ndim):
    xs = np.shape(x)
    return np.reshape(x, xs[: len(xs) - in_ndim] + shape)


reshape_p = register(_reshape_impl, "reshape")
def _core_shape(x, in_ndim):
    """The trailing ``in_ndim`` axes of ``x``: the shape a linear op acts on."""
    xs = tuple(shape_of(x))
    return xs[len(xs) - in_ndim :]


deflinear(reshape_p, lambda g, ans, x, *, shape, in_ndim: reshape_p(g, shape=_core_shape(x, in_ndim), in_ndim=len(shape)))
samples(
    reshape_p,
    lambda rng: [
        Sample(sample_arrays(rng, "real", (2, 3)), {"shape": (3, 2), "in_ndim": 2}),
        Sample(sample_arrays(rng, "real", (6,)), {"shape": (1, 2, 3), "in_ndim": 1}),
    ],
)
_ops["reshape"] = reshape_p


def _resolve_shape(newshape: Any, size: int) -> tuple:
    if isinstance(newshape, (int, np.integer)):
        newshape = (int(newshape),)
    newshape = tuple(int(s) for s in newshape)
    if newshape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension (-1) in reshape")
    if -1 in newshape:
        known = int(np.prod([s for s in newshape if s != -1], dtype=np.int64))
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape array of size {size} into shape {newshape}")
        newshape = tuple(size // known if s == -1 else s for s in newshape)
    if int(np.prod(newshape, dtype=np.int64)) != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {newshape}")
    return newshape


def reshape(a, newshape=None, order="C", *, shape=None):
    """``np.reshape``, differentiable (C order only for traced values)."""
    if shape is not None:
        newshape = shape
    if not isinstance(a, Tracer):
        return np.reshape(a, newshape, order=order)
    if order != "C":
        raise NotImplementedError("dualrev: reshape of a traced value supports order='C' only")
    s = shape_of(a)
    return reshape_p(a, shape=_resolve_shape(newshape, int(np.prod(s, dtype=np.int64))), in_ndim=len(s))


def ravel(a, order="C"):
    if not isinstance(a, Tracer):
        return np.ravel(a, order=order)
    return reshape(a, (-1,), order=order)


def expand_dims(a, axis):
    if not isinstance(a, Tracer):
        return np.expand_dims(a, axis)
    s = list(shape_of(a))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out_ndim = len(s) + len(axes)
    axes = sorted(a_ % out_ndim for a_ in axes)
    for ax in axes:
        s.insert(ax, 1)
    return reshape(a, tuple(s))


def squeeze(a, axis=None):
    if not isinstance(a, Tracer):
        return np.squeeze(a, axis=axis)
    s = shape_of(a)
    if axis is None:
        drop = {i for i, d in enumerate(s) if d == 1}
    else:
        drop = {ax % len(s) for ax in ((axis,) if isinstance(axis, (int, np.integer)) else axis)}
        for ax in drop:
            if s[ax] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return reshape(a, tuple(d for i, d in enumerate(s) if i not in drop))


# ------------------------------------------------------- broadcast_to / sum_to


def _broadcast_to_impl(x, *, shape, in_ndim):
    xs = np.shape(x)
    bd = len(xs) - in_ndim
    padded = xs[:bd] + (1,) * (len(shape) - in_ndim) + xs[bd:]
    return np.broadcast_to(np.reshape(x, padded), xs[:bd] + shape)


def _sum_to_impl(x, *, shape, in_ndim):
    """Sum the trailing ``in_ndim`` axes of ``x`` down to ``shape`` (the
    transpose of broadcasting ``shape`` up to those axes)."""
    xs = np.shape(x)
    bd = len(xs) - in_ndim
    lead = in_ndim - len(shape)
    axes = tuple(range(bd, bd + lead)) + tuple(
        bd + lead + i for i, d in enumerate(shape) if d == 1 and xs[bd + lead + i] != 1
    )
    out = np.sum(x, axis=axes, keepdims=True) if axes else x
    return np.reshape(out, xs[:bd] + shape)


broadcast_to_p = register(_broadcast_to_impl, "broadcast_to")
sum_to_p = register(_sum_to_impl, "sum_to")
deflinear(
    broadcast_to_p,
    lambda g, ans, x, *, shape, in_ndim: sum_to_p(g, shape=_core_shape(x, in_ndim), in_ndim=len(shape)),
)
deflinear(
    sum_to_p,
    lambda g, ans, x, *, shape, in_ndim: broadcast_to_p(g, shape=_core_shape(x, in_ndim), in_ndim=len(shape)),
)
samples(
    broadcast_to_p,
    lambda rng: [
        Sample(sample_arrays(rng, "real", (3,)), {"shape": (2, 3), "in_ndim": 1}),
        Sample(sample_arrays(rng, "real", (2, 1)), {"shape": (4, 2, 3), "in_ndim": 2}),
    ],
)
samples(
    sum_to_p,
    lambda rng: [
        Sample(sample_arrays(rng, "real", (2, 3)), {"shape": (3,), "in_ndim": 2}),
        Sample(sample_arrays(rng, "real", (4, 2, 3)), {"shape": (2, 1), "in_ndim": 3}),
    ],
)
_ops["broadcast_to"] = broadcast_to_p
_ops["sum_to"] = sum_to_p


def broadcast_to(array, shape):
    if not isinstance(array, Tracer):
        return np.broadcast_to(array, shape)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    np.broadcast_shapes(shape_of(array), shape)  # raises NumPy's error for bad shapes
    return broadcast_to_p(array, shape=shape, in_ndim=ndim_of(array))


# ---------------------------------------------------------------- transpose


def _transpose_impl(x, *, axes):
    bd = np.ndim(x) - len(axes)
    return np.transpose(x, tuple(range(bd)) + tuple(bd + a for a in axes))


transpose_p = register(_transpose_impl, "transpose")
deflinear(transpose_p, lambda g, ans, x, *, axes: transpose_p(g, axes=tuple(int(i) for i in np.argsort(axes))))
samples(
    transpose_p,
    lambda rng: [
        Sample(sample_arrays(rng, "real", (2, 3)), {"axes": (1, 0)}),
        Sample(sample_arrays(rng, "real", (2, 3, 4)), {"axes": (2, 0, 1)}),
    ],
)


def transpose(a, axes=None):
    if not isinstance(a, Tracer):
        return np.transpose(a, axes)
    n = ndim_of(a)
    axes = tuple(range(n))[::-1] if axes is None else tuple(int(ax) % n for ax in axes)
    if sorted(axes) != list(range(n)):
        raise ValueError(f"axes {axes} don't match array of {n} dimensions")
    return transpose_p(a, axes=axes)


def swapaxes(a, axis1, axis2):
    if not isinstance(a, Tracer):
        return np.swapaxes(a, axis1, axis2)
    n = ndim_of(a)
    perm = list(range(n))
    i, j = axis1 % n, axis2 % n
    perm[i], perm[j] = perm[j], perm[i]
    return transpose_p(a, axes=tuple(perm))


def moveaxis(a, source, destination):
    if not isinstance(a, Tracer):
        return np.moveaxis(a, source, destination)
    n = ndim_of(a)
    src = [s % n for s in ((source,) if np.ndim(source) == 0 else source)]
    dst = [d % n for d in ((destination,) if np.ndim(destination) == 0 else destination)]
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose_p(a, axes=tuple(order))


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
    consumed = builtins.sum(
        (i.ndim if isinstance(i, np.ndarray) and i.dtype == bool else 1)
        for i in items
        if i is not None and i is not Ellipsis
    )
    n_ellipsis = builtins.sum(1 for i in items if i is Ellipsis)
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


getitem_p = register(_getitem_impl, "getitem")
scatter_add_p = register(_scatter_add_impl, "scatter_add")
deflinear(
    getitem_p,
    lambda g, ans, x, *, index, in_ndim: scatter_add_p(
        g, index=index, shape=_core_shape(x, in_ndim), in_ndim=ndim_of(ans) - (ndim_of(x) - in_ndim)
    ),
)
deflinear(
    scatter_add_p,
    lambda g, ans, x, *, index, shape, in_ndim: getitem_p(g, index=index, in_ndim=len(shape)),
)
samples(
    getitem_p,
    lambda rng: [
        Sample(sample_arrays(rng, "real", (4, 3)), {"index": (slice(1, 3), 0), "in_ndim": 2}),
        Sample(sample_arrays(rng, "real", (5,)), {"index": (np.array([0, 2, 2, 4]),), "in_ndim": 1}),
        Sample(
            sample_arrays(rng, "real", (3, 4, 2)),
            {"index": (np.array([0, 2]), slice(None), np.array([1, 0])), "in_ndim": 3},
        ),
        Sample(sample_arrays(rng, "real", (3, 2)), {"index": (None, slice(None, None, -1)), "in_ndim": 2}),
    ],
)
samples(
    scatter_add_p,
    lambda rng: [
        Sample(sample_arrays(rng, "real", (4,)), {"index": (np.array([0, 2, 2, 1]),), "shape": (3,), "in_ndim": 1}),
        Sample(sample_arrays(rng, "real", (2,)), {"index": (slice(1, 3), 0), "shape": (4, 3), "in_ndim": 1}),
    ],
)


def getitem(x, index):
    """``x[index]`` for a traced ``x`` (basic and advanced indexing)."""
    if not isinstance(x, Tracer):
        return x[index]
    n = ndim_of(x)
    return getitem_p(x, index=normalize_index(index, n), in_ndim=n)


# ----------------------------------------------------- concatenate / stack


def _concatenate_impl(*xs, axis):
    return np.concatenate(xs, axis=axis)


def _region(argnum: int, xs: tuple, axis: int) -> tuple:
    """The index of argument ``argnum``'s block inside the concatenation."""
    start = builtins.sum(shape_of(x)[axis] for x in xs[:argnum])
    stop = start + shape_of(xs[argnum])[axis]
    n = ndim_of(xs[argnum])
    region = [slice(None)] * n
    region[axis] = slice(start, stop)
    return tuple(region)


concatenate_p = register(_concatenate_impl, "concatenate")
concatenate_p.linear = True
defjvp_argnum(
    concatenate_p,
    lambda i, t, ans, *xs, axis: scatter_add_p(
        t, index=_region(i, xs, axis), shape=shape_of(ans), in_ndim=ndim_of(xs[i])
    ),
)
defvjp_argnum(
    concatenate_p,
    lambda i, g, ans, *xs, axis: getitem_p(g, index=_region(i, xs, axis), in_ndim=ndim_of(ans)),
)
samples(
    concatenate_p,
    lambda rng: [
        Sample(sample_arrays(rng, "real", (2, 3), (1, 3), (4, 3)), {"axis": -2}),
        Sample(sample_arrays(rng, "real", (2, 1), (2, 2)), {"axis": -1}),
    ],
)


def concatenate(arrays, axis=0, out=None, **kwargs):
    arrays = list(arrays)
    if not any(isinstance(a, Tracer) for a in arrays):
        return np.concatenate(arrays, axis=axis, out=out, **kwargs)
    if out is not None or kwargs:
        raise TypeError("dualrev: concatenate of traced values takes no out=/dtype=/casting= arguments")
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    arrays = [a if isinstance(a, Tracer) else np.asarray(a) for a in arrays]
    n = ndim_of(arrays[0])
    if n == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    (ax,) = normalize_axes(axis, n)
    return concatenate_p(*arrays, axis=ax)


def stack(arrays, axis=0, out=None):
    arrays = list(arrays)
    if not any(isinstance(a, Tracer) for a in arrays):
        return np.stack(arrays, axis=axis, out=out)
    shapes = {tuple(shape_of(a)) for a in arrays}
    if len(shapes) != 1:
        raise ValueError("all input arrays must have the same shape")
    n = ndim_of(arrays[0]) + 1
    (ax,) = normalize_axes(axis, n)
    return concatenate([expand_dims(a, ax % n) for a in arrays], axis=ax % n)


__all__ = [
    "reshape",
    "ravel",
    "expand_dims",
    "squeeze",
    "broadcast_to",
    "transpose",
    "swapaxes",
    "moveaxis",
    "getitem",
    "concatenate",
    "stack",
    "normalize_index",
]
