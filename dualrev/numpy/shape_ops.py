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
import math
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
        known = math.prod(s for s in newshape if s != -1)
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape array of size {size} into shape {newshape}")
        newshape = tuple(size // known if s == -1 else s for s in newshape)
    if math.prod(newshape) != size:
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
    return reshape_p(a, shape=_resolve_shape(newshape, math.prod(s)), in_ndim=len(s))


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
    x = np.asarray(x)
    xs = x.shape
    bd = len(xs) - in_ndim
    lead = in_ndim - len(shape)
    axes = tuple(range(bd, bd + lead)) + tuple(
        bd + lead + i for i, d in enumerate(shape) if d == 1 and xs[bd + lead + i] != 1
    )
    # The ufunc's own reduce: np.sum adds two Python frames (bias gradients
    # of every layer come through here).
    out = np.add.reduce(x, axis=axes, keepdims=True) if axes else x
    return out.reshape(xs[:bd] + shape)


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
        Sample(
            sample_arrays(rng, "real", (3, 4)),
            {"index": (np.array([[True, False, True, True], [False] * 4, [True, True, False, True]]),), "in_ndim": 2},
        ),
        Sample(sample_arrays(rng, "real", (2, 3, 4)), {"index": (slice(None), np.array([True, False, True]), 1), "in_ndim": 3}),
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


# ---------------------------------------------------------------------------
# Compositions (issue 5). Everything below is built from the linear
# primitives above (reshape, broadcast_to, transpose, getitem, scatter_add,
# concatenate) plus ``where``: no new rules, so the derivatives are right by
# construction and every mode (and every order) supports them. On plain
# arrays each function is NumPy's own.
# ---------------------------------------------------------------------------


def _traced(*values) -> bool:
    return builtins.any(isinstance(v, Tracer) for v in values)


def _as_operand(a):
    return a if isinstance(a, Tracer) else np.asarray(a)


def _along(axis: int, ndim: int, item) -> tuple:
    """An index that applies ``item`` to axis ``axis`` and leaves the others whole."""
    return (slice(None),) * (axis % ndim) + (item,)


def _index(a, index):
    """``a[index]`` for an explicit, Ellipsis-free index (no re-normalisation)."""
    return getitem_p(a, index=index, in_ndim=ndim_of(a))


def atleast_1d(*arys):
    if not _traced(*arys):
        return np.atleast_1d(*arys)
    out = tuple(reshape(a, (1,)) if ndim_of(a) == 0 else _as_operand(a) for a in arys)
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    if not _traced(*arys):
        return np.atleast_2d(*arys)
    out = []
    for a in arys:
        s = tuple(shape_of(a))
        out.append(reshape(a, (1,) * (2 - len(s)) + s) if len(s) < 2 else _as_operand(a))
    return out[0] if len(out) == 1 else tuple(out)


def atleast_3d(*arys):
    if not _traced(*arys):
        return np.atleast_3d(*arys)
    out = []
    for a in arys:
        s = tuple(shape_of(a))
        new = {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s)
        out.append(reshape(a, new) if new != s else _as_operand(a))
    return out[0] if len(out) == 1 else tuple(out)


def _as_list(arys):
    return [atleast_1d(a) if isinstance(a, Tracer) else np.atleast_1d(a) for a in arys]


def hstack(tup, **kwargs):
    tup = list(tup)
    if not _traced(*tup):
        return np.hstack(tup, **kwargs)
    arrays = _as_list(tup)
    return concatenate(arrays, axis=0 if ndim_of(arrays[0]) == 1 else 1)


def vstack(tup, **kwargs):
    tup = list(tup)
    if not _traced(*tup):
        return np.vstack(tup, **kwargs)
    return concatenate([atleast_2d(a) if isinstance(a, Tracer) else np.atleast_2d(a) for a in tup], axis=0)


row_stack = vstack


def dstack(tup):
    tup = list(tup)
    if not _traced(*tup):
        return np.dstack(tup)
    return concatenate([atleast_3d(a) if isinstance(a, Tracer) else np.atleast_3d(a) for a in tup], axis=2)


def column_stack(tup):
    tup = list(tup)
    if not _traced(*tup):
        return np.column_stack(tup)
    cols = []
    for a in tup:
        if ndim_of(a) < 2:
            a = reshape(_as_operand(a), (-1, 1)) if isinstance(a, Tracer) else np.reshape(np.asarray(a), (-1, 1))
        cols.append(a)
    return concatenate(cols, axis=1)


def append(arr, values, axis=None):
    if not _traced(arr, values):
        return np.append(arr, values, axis=axis)
    if axis is None:
        return concatenate([ravel(_as_operand(arr)), ravel(_as_operand(values))], axis=0)
    return concatenate([arr, values], axis=axis)


def broadcast_arrays(*args, subok=False):
    if not _traced(*args):
        return np.broadcast_arrays(*args, subok=subok)
    shape = np.broadcast_shapes(*[tuple(shape_of(a)) for a in args])
    return tuple(broadcast_to(_as_operand(a), shape) for a in args)


def array_split(ary, indices_or_sections, axis=0):
    """Pieces of ``ary`` along ``axis``: each one a slice (a getitem)."""
    if not isinstance(ary, Tracer):
        return np.array_split(ary, indices_or_sections, axis=axis)
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
    return [_index(ary, _along(axis, n, slice(start, stop))) for start, stop in zip(bounds[:-1], bounds[1:])]


def split(ary, indices_or_sections, axis=0):
    if not isinstance(ary, Tracer):
        return np.split(ary, indices_or_sections, axis=axis)
    if np.ndim(indices_or_sections) == 0 and shape_of(ary)[axis] % int(indices_or_sections):
        raise ValueError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis=axis)


def hsplit(ary, indices_or_sections):
    if not isinstance(ary, Tracer):
        return np.hsplit(ary, indices_or_sections)
    return split(ary, indices_or_sections, axis=1 if ndim_of(ary) > 1 else 0)


def vsplit(ary, indices_or_sections):
    if not isinstance(ary, Tracer):
        return np.vsplit(ary, indices_or_sections)
    return split(ary, indices_or_sections, axis=0)


def tile(A, reps):
    """Repeat the whole array: reshape to interleave unit axes, broadcast, merge."""
    if not isinstance(A, Tracer):
        return np.tile(A, reps)
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    s = tuple(shape_of(A))
    d = builtins.max(len(s), len(reps))
    s = (1,) * (d - len(s)) + s
    reps = (1,) * (d - len(reps)) + reps
    interleaved = reshape(A, tuple(x for dim in s for x in (1, dim)))
    spread = broadcast_to(interleaved, tuple(x for r, dim in zip(reps, s) for x in (r, dim)))
    return reshape(spread, tuple(r * dim for r, dim in zip(reps, s)))


def repeat(a, repeats, axis=None):
    """Repeat each element: a gather with the index ``np.repeat(arange(n), repeats)``."""
    if not isinstance(a, Tracer):
        return np.repeat(a, repeats, axis=axis)
    if axis is None:
        a, axis = ravel(a), 0
    n = ndim_of(a)
    idx = np.repeat(np.arange(shape_of(a)[axis]), concrete(repeats))
    return _index(a, _along(axis, n, idx))


def flip(m, axis=None):
    if not isinstance(m, Tracer):
        return np.flip(m, axis=axis)
    n = ndim_of(m)
    axes = normalize_axes(axis, n)
    index = [slice(None)] * n
    for ax in axes:
        index[ax] = slice(None, None, -1)
    return _index(m, tuple(index))


def fliplr(m):
    if not isinstance(m, Tracer):
        return np.fliplr(m)
    return flip(m, axis=1)


def flipud(m):
    if not isinstance(m, Tracer):
        return np.flipud(m)
    return flip(m, axis=0)


def rot90(m, k=1, axes=(0, 1)):
    """NumPy's construction: flips and one transpose."""
    if not isinstance(m, Tracer):
        return np.rot90(m, k=k, axes=axes)
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


def roll(a, shift, axis=None):
    """A gather with the rotated index ``(arange(n) − shift) mod n`` per axis."""
    if not isinstance(a, Tracer):
        return np.roll(a, shift, axis=axis)
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
            out = _index(out, _along(ax, n, (np.arange(length) - sh) % length))
    return out


def pad(array, pad_width, mode="constant", **kwargs):
    """``np.pad`` in ``constant`` mode: ``array`` scattered into zeros (linear in
    ``array``) plus the constant border (a constant)."""
    if not isinstance(array, Tracer):
        return np.pad(array, pad_width, mode=mode, **kwargs)
    if mode != "constant":
        raise NotImplementedError(
            f"dualrev: pad(mode={mode!r}) of a traced value is not supported; mode='constant' is"
        )
    n = ndim_of(array)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (n, 2))
    s = tuple(shape_of(array))
    new_shape = tuple(int(d + lo + hi) for d, (lo, hi) in zip(s, widths))
    index = tuple(slice(int(lo), int(lo) + d) for d, (lo, _) in zip(s, widths))
    inner = scatter_add_p(array, index=index, shape=new_shape, in_ndim=n)
    constant_values = concrete(kwargs.get("constant_values", 0))
    if np.all(np.asarray(constant_values) == 0):
        return inner
    border = np.pad(np.zeros(s, dtype=array.dtype), widths, mode="constant", constant_values=constant_values)
    return inner + border


def _diagonal_index(d1: int, d2: int, offset: int):
    rows = np.arange(builtins.max(0, builtins.min(d1 + builtins.min(offset, 0), d2 - builtins.max(offset, 0))))
    return rows + builtins.max(-offset, 0), rows + builtins.max(offset, 0)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The two axes are moved last, then gathered with paired index arrays; the
    diagonal is the last axis of the result, as in NumPy."""
    if not isinstance(a, Tracer):
        return np.diagonal(a, offset=offset, axis1=axis1, axis2=axis2)
    n = ndim_of(a)
    moved = moveaxis(a, (axis1, axis2), (-2, -1))
    s = shape_of(moved)
    rows, cols = _diagonal_index(s[-2], s[-1], int(offset))
    return _index(moved, (slice(None),) * (n - 2) + (rows, cols))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    if not isinstance(a, Tracer):
        return np.trace(a, offset=offset, axis1=axis1, axis2=axis2, dtype=dtype, out=out)
    if out is not None:
        raise TypeError("dualrev: trace of a traced value takes no out= argument")
    from .reductions import sum as _sum

    return _sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def diag(v, k=0):
    """1-D input: scatter it onto the k-th diagonal of a square zero matrix; 2-D: its diagonal."""
    if not isinstance(v, Tracer):
        return np.diag(v, k=k)
    if ndim_of(v) == 2:
        return diagonal(v, k)
    if ndim_of(v) != 1:
        raise ValueError("Input must be 1- or 2-d.")
    size = shape_of(v)[0] + builtins.abs(int(k))
    rows, cols = _diagonal_index(size, size, int(k))
    return scatter_add_p(v, index=(rows, cols), shape=(size, size), in_ndim=1)


def _triangle(m, k, lower):
    from .elementwise import where_p

    s = shape_of(m)
    mask = np.tri(s[-2], s[-1], k=int(k) - (0 if lower else 1), dtype=bool)
    return where_p(mask if lower else ~mask, m, 0.0)


def tril(m, k=0):
    if not isinstance(m, Tracer):
        return np.tril(m, k=k)
    return _triangle(m, k, lower=True)


def triu(m, k=0):
    if not isinstance(m, Tracer):
        return np.triu(m, k=k)
    return _triangle(m, k, lower=False)


def take(a, indices, axis=None, out=None, mode="raise"):
    if not isinstance(a, Tracer):
        return np.take(a, indices, axis=axis, out=out, mode=mode)
    if out is not None or mode != "raise":
        raise TypeError("dualrev: take of a traced value supports neither out= nor mode=")
    indices = np.asarray(concrete(indices))
    if axis is None:
        a, axis = ravel(a), 0
    n = ndim_of(a)
    length = shape_of(a)[axis]
    if np.any((indices < -length) | (indices >= length)):
        raise IndexError(f"index out of bounds for axis {axis} with size {length}")
    return _index(a, _along(axis, n, indices % length if length else indices))


def take_along_axis(arr, indices, axis=-1):
    """A gather with one broadcast index array per axis."""
    if not isinstance(arr, Tracer):
        return np.take_along_axis(arr, indices, axis=axis)
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
    return _index(arr, tuple(index))


def sort(a, axis=-1, kind=None, order=None, **kwargs):
    """Sorted values as a gather with the (stable) argsort of the values.

    The derivative of the k-th smallest value is the derivative of the entry
    that the stable argsort puts at position k; tied entries therefore keep
    their input order and each tie's derivative goes to one entry (sort is a
    permutation, so there is no sharing to do).
    """
    if not isinstance(a, Tracer):
        return np.sort(a, axis=axis, kind=kind, order=order, **kwargs)
    if axis is None:
        a, axis = ravel(a), -1
    order_idx = np.argsort(concrete(a), axis=axis, kind="stable")
    return take_along_axis(a, order_idx, axis=axis)


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """Partitioned values as a gather with ``argpartition`` of the values."""
    if not isinstance(a, Tracer):
        return np.partition(a, kth, axis=axis, kind=kind, order=order)
    if axis is None:
        a, axis = ravel(a), -1
    return take_along_axis(a, np.argpartition(concrete(a), kth, axis=axis), axis=axis)


def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    """n-th forward difference along ``axis``: slices subtracted, n times."""
    if not _traced(a, prepend, append):
        kwargs = {k: v for k, v in (("prepend", prepend), ("append", append)) if v is not np._NoValue}
        return np.diff(a, n=n, axis=axis, **kwargs)
    a = _as_operand(a)
    nd = ndim_of(a)
    pieces = []
    for extra in (prepend, None, append):
        if extra is None:
            pieces.append(a)
        elif extra is not np._NoValue:
            if ndim_of(extra) == 0:
                shape = list(shape_of(a))
                shape[axis] = 1
                extra = broadcast_to(_as_operand(extra), tuple(shape)) if isinstance(extra, Tracer) else np.broadcast_to(extra, shape)
            pieces.append(extra)
    if len(pieces) > 1:
        a = concatenate(pieces, axis=axis)
    from .elementwise import subtract

    for _ in range(n):
        a = subtract(_index(a, _along(axis, nd, slice(1, None))), _index(a, _along(axis, nd, slice(None, -1))))
    return a


__all__ = [
    "diff",
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
    "tile",
    "repeat",
    "flip",
    "fliplr",
    "flipud",
    "rot90",
    "roll",
    "pad",
    "diagonal",
    "trace",
    "diag",
    "tril",
    "triu",
    "take",
    "take_along_axis",
    "sort",
    "partition",
]
