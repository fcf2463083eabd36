"""Shape manipulation: reshape, broadcast_to/sum_to and transpose, the linear
primitives every other family builds on, and the broadcasting helpers of rules.

Every op here is *linear* in its traced argument, so its JVP is the op itself
applied to the tangent and only the transpose (the VJP) is written
(``register(..., linear=...)``). The implementations act on the trailing
``in_ndim`` axes and leave any leading (batch) axes alone, which is what lets
the same primitive serve as its own JVP on a batch of tangents.

Pairs of mutual transposes: reshape/reshape, broadcast_to/sum_to,
transpose/inverse transpose.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...core import Primitive, concrete, shape_of
from .base import ndim_of, register, shape_samples
from .overrides import numpy_function


def _core_shape(x: Any, in_ndim: int) -> tuple:
    """The trailing ``in_ndim`` axes of ``x``: the shape a linear op acts on."""
    xs = tuple(shape_of(x))
    return xs[len(xs) - in_ndim :]


# ---------------------------------------------------------------- reshape


def _reshape_impl(x, *, shape, in_ndim):
    xs = np.shape(x)
    return np.reshape(x, xs[: len(xs) - in_ndim] + shape)


reshape_p: Primitive = register(
    _reshape_impl,
    "reshape",
    structure="gather",
    linear=(lambda g, ans, x, *, shape, in_ndim: reshape_p(g, shape=_core_shape(x, in_ndim), in_ndim=len(shape)),),
    samples=shape_samples(((2, 3), {"shape": (3, 2), "in_ndim": 2}), ((6,), {"shape": (1, 2, 3), "in_ndim": 1})),
)


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


def _memory_order(a: Any, order: str, name: str) -> str:
    """``"C"`` or ``"F"``: NumPy's reading of ``order`` (``"A"``: F for a
    Fortran-contiguous value, else C; ``"K"``: the value's memory order)."""
    if order in ("C", "F", None):
        return order or "C"
    if order in ("A", "K"):
        flags = np.asarray(concrete(a)).flags
        if flags.f_contiguous and not flags.c_contiguous:
            return "F"
        if order == "A" or flags.c_contiguous:
            return "C"
    raise NotImplementedError(f"dualrev: {name}(order={order!r}) of a non-contiguous traced value is not supported")


@numpy_function(np.reshape)
def reshape(a: Any, newshape: Any = None, order: str = "C", *, shape: Any = None) -> Any:
    """``np.reshape``, differentiable; ``order="F"`` reverses the axes around a C-order reshape."""
    if shape is not None:
        newshape = shape
    s = shape_of(a)
    target = _resolve_shape(newshape, math.prod(s))
    if _memory_order(a, order, "reshape") == "F":
        flipped = transpose_p(a, axes=tuple(range(len(s)))[::-1])
        out = reshape_p(flipped, shape=target[::-1], in_ndim=len(s))
        return transpose_p(out, axes=tuple(range(len(target)))[::-1])
    return reshape_p(a, shape=target, in_ndim=len(s))


@numpy_function(np.ravel)
def ravel(a: Any, order: str = "C") -> Any:
    if order == "K":
        order = _memory_order(a, order, "ravel")
    return reshape(a, (-1,), order=order)


@numpy_function(np.expand_dims)
def expand_dims(a: Any, axis: Any) -> Any:
    s = list(shape_of(a))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out_ndim = len(s) + len(axes)
    for ax in sorted(a_ % out_ndim for a_ in axes):
        s.insert(ax, 1)
    return reshape(a, tuple(s))


@numpy_function(np.squeeze)
def squeeze(a: Any, axis: Any = None) -> Any:
    s = shape_of(a)
    drop: set[int]
    if axis is None:
        drop = {i for i, d in enumerate(s) if d == 1}
    else:
        drop = {int(ax) % len(s) for ax in ((axis,) if isinstance(axis, (int, np.integer)) else axis)}
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


broadcast_to_p: Primitive = register(
    _broadcast_to_impl,
    "broadcast_to",
    structure="gather",
    linear=(lambda g, ans, x, *, shape, in_ndim: sum_to_p(g, shape=_core_shape(x, in_ndim), in_ndim=len(shape)),),
    samples=shape_samples(((3,), {"shape": (2, 3), "in_ndim": 1}), ((2, 1), {"shape": (4, 2, 3), "in_ndim": 2})),
)
sum_to_p: Primitive = register(
    _sum_to_impl,
    "sum_to",
    structure="segment",
    linear=(
        lambda g, ans, x, *, shape, in_ndim: broadcast_to_p(g, shape=_core_shape(x, in_ndim), in_ndim=len(shape)),
    ),
    samples=shape_samples(((2, 3), {"shape": (3,), "in_ndim": 2}), ((4, 2, 3), {"shape": (2, 1), "in_ndim": 3})),
)


@numpy_function(np.broadcast_to)
def broadcast_to(array: Any, shape: Any) -> Any:
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    np.broadcast_shapes(shape_of(array), shape)  # raises NumPy's error for bad shapes
    return broadcast_to_p(array, shape=shape, in_ndim=ndim_of(array))


# ---------------------------------------------------------------- transpose


def _transpose_impl(x, *, axes):
    bd = np.ndim(x) - len(axes)
    return np.transpose(x, tuple(range(bd)) + tuple(bd + a for a in axes))


transpose_p: Primitive = register(
    _transpose_impl,
    "transpose",
    structure="gather",
    linear=(lambda g, ans, x, *, axes: transpose_p(g, axes=tuple(int(i) for i in np.argsort(axes))),),
    samples=shape_samples(((2, 3), {"axes": (1, 0)}), ((2, 3, 4), {"axes": (2, 0, 1)})),
)


@numpy_function(np.transpose)
def transpose(a: Any, axes: Any = None) -> Any:
    n = ndim_of(a)
    axes = tuple(range(n))[::-1] if axes is None else tuple(int(ax) % n for ax in axes)
    if sorted(axes) != list(range(n)):
        raise ValueError(f"axes {axes} don't match array of {n} dimensions")
    return transpose_p(a, axes=axes)


@numpy_function(np.swapaxes)
def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    n = ndim_of(a)
    perm = list(range(n))
    i, j = axis1 % n, axis2 % n
    perm[i], perm[j] = perm[j], perm[i]
    return transpose_p(a, axes=tuple(perm))


@numpy_function(np.moveaxis)
def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    n = ndim_of(a)
    src = [s % n for s in ((source,) if np.ndim(source) == 0 else source)]
    dst = [d % n for d in ((destination,) if np.ndim(destination) == 0 else destination)]
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose_p(a, axes=tuple(order))


def mT(a: Any) -> Any:
    """Swap the last two axes (the matrix transpose of every matrix in a stack)."""
    n = ndim_of(a)
    if n == 2:  # the common case: ``.T`` is one call (ndarray attribute or one primitive)
        return a.T
    return transpose_p(a, axes=tuple(range(n - 2)) + (n - 1, n - 2))


# ------------------------------------------------- broadcasting inside rules


def expand_rank(tangent: Any, x: Any, ans: Any) -> Any:
    """Insert unit axes after the batch axes so that ``tangent`` (a tangent of
    ``x``) has the rank of a tangent of ``ans``; NumPy broadcasting then lines
    it up with ``ans``-shaped operands."""
    x_ndim, ans_ndim = ndim_of(x), ndim_of(ans)
    if x_ndim == ans_ndim:
        return tangent
    tshape = shape_of(tangent)
    bd = len(tshape) - x_ndim
    new_core = (1,) * (ans_ndim - x_ndim) + tuple(tshape[bd:])
    return reshape_p(tangent, shape=new_core, in_ndim=x_ndim)


def expand_tangent(tangent: Any, x: Any, ans: Any) -> Any:
    """Broadcast a tangent of ``x`` to a full tangent of ``ans``
    (``batch + x.shape`` -> ``batch + ans.shape``)."""
    ans_shape, x_shape = tuple(shape_of(ans)), tuple(shape_of(x))
    if x_shape == ans_shape:
        return tangent
    return broadcast_to_p(tangent, shape=ans_shape, in_ndim=len(x_shape))


def unbroadcast(cotangent: Any, x: Any, ans: Any) -> Any:
    """Sum a cotangent of ``ans`` back to the shape of ``x``.

    When NumPy broadcast ``x`` to make ``ans``, each element of ``x`` fed every
    output along the broadcast axes, so by the multivariate chain rule its
    cotangent is the *sum* over those axes (``dL/db = Σ_rows dL/dY`` for a
    bias added to a batch).
    """
    ct_shape = shape_of(cotangent)
    if ct_shape == shape_of(x):  # nothing was broadcast (and no batch axes): the hot path
        return cotangent
    x_shape = tuple(shape_of(x))
    bd = len(ct_shape) - ndim_of(ans)
    if tuple(ct_shape[bd:]) == x_shape:
        return cotangent
    return sum_to_p(cotangent, shape=x_shape, in_ndim=ndim_of(ans))


__all__ = ["reshape", "ravel", "expand_dims", "squeeze", "broadcast_to", "transpose", "swapaxes", "moveaxis"]
