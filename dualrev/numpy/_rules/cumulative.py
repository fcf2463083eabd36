"""Running sums and products along an axis (cumsum, cumprod) and differences (diff)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...core import Primitive, concrete, shape_of
from .base import Sample, ndim_of, normalize_axes, register, sample_arrays, shape_samples
from .binary import subtract
from .indexing import along, as_operand, concatenate, index_explicit, where
from .overrides import numpy_function
from .products import matmul
from .reductions import no_out
from .shape import broadcast_to, expand_dims, moveaxis, ravel, squeeze


def _cumsum_impl(x, *, axis, reverse):
    if reverse:  # Σ_{j ≥ i}: the transpose of the running sum
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis)
    return np.cumsum(x, axis=axis)


# The running sum y_i = Σ_{j ≤ i} x_j is linear; its transpose sums the
# cotangent from the other end: x̄_j = Σ_{i ≥ j} ȳ_i (a reversed running sum).
cumsum_p: Primitive = register(
    _cumsum_impl,
    "cumsum",
    linear=(lambda g, ans, x, *, axis, reverse: cumsum_p(g, axis=axis, reverse=not reverse),),
    samples=shape_samples(((4,), {"axis": -1, "reverse": False}), ((3, 2), {"axis": -2, "reverse": True})),
)


def _cumulative_args(a, axis, dtype, out, name):
    """The traced operand and its (negative) axis for cumsum/cumprod, as NumPy
    reads them: ``axis=None`` runs over the flattened array."""
    no_out(out, {}, name)
    if dtype is not None:
        a = a.astype(dtype)
    if axis is None:
        return ravel(a), -1
    (ax,) = normalize_axes(axis, ndim_of(a))
    return a, ax


@numpy_function(np.cumsum)
def cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    a, ax = _cumulative_args(a, axis, dtype, out, "cumsum")
    return cumsum_p(a, axis=ax, reverse=False)


def _cumprod_weights(x, axis):
    """M[..., j, k] = ∂y_k/∂x_j = Π_{i ≤ k, i ≠ j} x_i for j ≤ k (0 above), with
    the data axis moved last: the product of the entries *other* than x_j,
    computed without dividing by x_j (so zeros are fine)."""
    moved = moveaxis(x, axis, -1)
    n = shape_of(moved)[-1]
    rows = where(np.eye(n, dtype=bool), 1.0, expand_dims(moved, -2))
    return where(np.triu(np.ones((n, n), dtype=bool)), cumprod(rows, axis=-1), 0.0)


def _cumprod_jvp(t, ans, x, *, axis):
    if np.all(concrete(x) != 0):  # ẏ = y ⊙ cumsum(ẋ / x)
        return ans * cumsum_p(t / x, axis=axis, reverse=False)
    moved = expand_dims(moveaxis(t, axis, -1), -2)
    return moveaxis(squeeze(matmul(moved, _cumprod_weights(x, axis)), -2), -1, axis)


def _cumprod_vjp(g, ans, x, *, axis):
    if np.all(concrete(x) != 0):  # x̄ = reversed-cumsum(ȳ ⊙ y) / x
        return cumsum_p(g * ans, axis=axis, reverse=True) / x
    moved = expand_dims(moveaxis(g, axis, -1), -1)
    return moveaxis(squeeze(matmul(_cumprod_weights(x, axis), moved), -1), -1, axis)


def _cumprod_samples(rng):
    with_zero = sample_arrays(rng, "real", (2, 4))[0]
    with_zero[1, 1] = 0.0
    return [
        Sample(sample_arrays(rng, "nonzero", (4,)), {"axis": -1}),
        Sample(sample_arrays(rng, "nonzero", (3, 2)), {"axis": -2}),
        Sample((with_zero,), {"axis": -1}),
    ]


cumprod_p = register(
    lambda x, *, axis: np.cumprod(x, axis=axis),
    "cumprod",
    jvp=(_cumprod_jvp,),
    vjp=(_cumprod_vjp,),
    samples=_cumprod_samples,
)


@numpy_function(np.cumprod)
def cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    a, ax = _cumulative_args(a, axis, dtype, out, "cumprod")
    return cumprod_p(a, axis=ax)


@numpy_function(np.diff)
def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = np._NoValue, append: Any = np._NoValue) -> Any:
    """n-th forward difference along ``axis``: slices subtracted, n times."""
    a = as_operand(a)
    nd = ndim_of(a)
    pieces = []
    for extra in (prepend, None, append):
        if extra is None:
            pieces.append(a)
        elif extra is not np._NoValue:
            if ndim_of(extra) == 0:
                shape = list(shape_of(a))
                shape[axis] = 1
                extra = broadcast_to(as_operand(extra), tuple(shape))
            pieces.append(extra)
    if len(pieces) > 1:
        a = concatenate(pieces, axis=axis)
    for _ in range(n):
        a = subtract(index_explicit(a, along(axis, nd, slice(1, None))), index_explicit(a, along(axis, nd, slice(-1))))
    return a


def _cumulative(x: Any, axis: Any, include_initial: bool, running: Any, identity: float, name: str) -> Any:
    """The array-API spelling: ``axis`` may be omitted for 1-D input only, and
    ``include_initial`` prepends the identity."""
    nd = ndim_of(x)
    if nd == 0:
        raise ValueError(f"{name} does not support 0-D arrays")
    if axis is None:
        if nd > 1:
            raise ValueError("For arrays which have more than one dimension ``axis`` argument is required.")
        axis = 0
    out = running(x, axis=axis)
    if not include_initial:
        return out
    shape = list(shape_of(x))
    shape[axis] = 1
    return concatenate([np.full(shape, identity, dtype=x.dtype), out], axis=axis)


@numpy_function(np.cumulative_sum)
def cumulative_sum(
    x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None, include_initial: bool = False
) -> Any:
    no_out(out, {}, "cumulative_sum")
    x = x if dtype is None else x.astype(dtype)
    return _cumulative(x, axis, include_initial, cumsum, 0.0, "cumulative_sum")


@numpy_function(np.cumulative_prod)
def cumulative_prod(
    x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None, include_initial: bool = False
) -> Any:
    no_out(out, {}, "cumulative_prod")
    x = x if dtype is None else x.astype(dtype)
    return _cumulative(x, axis, include_initial, cumprod, 1.0, "cumulative_prod")


__all__ = ["cumsum", "cumprod", "diff", "cumulative_sum", "cumulative_prod"]
