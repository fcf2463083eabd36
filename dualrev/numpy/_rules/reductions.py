"""Reductions over axes: sum, mean, prod, max/min, logsumexp, ptp, trace.

Axes are stored as *negative* numbers (counted from the end), so the same
reduction applied to a tangent with leading batch axes reduces the same data
axes. The VJP of a reduction broadcasts the output cotangent back over the
reduced axes (each input fed the reduced output once) and multiplies by the
local derivative.

Ties in ``max``/``min`` share the derivative equally among the tied entries
(the weights sum to 1), matching ``maximum``/``minimum``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special

from ...core import Tracer, concrete, shape_of
from .base import Sample, ndim_of, normalize_axes, register, sample_arrays
from .indexing import diagonal, where
from .overrides import fallback, numpy_function
from .shape import broadcast_to_p, expand_dims, reshape, reshape_p, transpose
from .unary import exp


def _kept_shape(x: Any, axes: tuple) -> tuple:
    """Shape of the reduction of ``x`` over ``axes`` with keepdims=True."""
    kept = list(shape_of(x))
    for a in axes:
        kept[a] = 1
    return tuple(kept)


def keep_dims(value: Any, x: Any, axes: tuple, keepdims: bool) -> Any:
    """A reduced value (or its cotangent, with batch axes) reshaped to the
    keepdims form so that it broadcasts against ``x``."""
    if keepdims:
        return value
    kept = _kept_shape(x, axes)
    ans_ndim = len(kept) - len(axes)
    if isinstance(value, Tracer):
        return reshape_p(value, shape=kept, in_ndim=ans_ndim)
    return np.reshape(value, tuple(shape_of(value))[: ndim_of(value) - ans_ndim] + kept)


def expand_cotangent(g: Any, x: Any, axes: tuple, keepdims: bool) -> Any:
    """Broadcast a cotangent of the reduction back to ``batch + x.shape``."""
    kept = keep_dims(g, x, axes, keepdims)
    return broadcast_to_p(kept, shape=tuple(shape_of(x)), in_ndim=len(shape_of(x)))


def _reduction_samples(domain: str = "real") -> Callable:
    def make(rng):
        return [
            Sample(sample_arrays(rng, domain, (2, 3)), {"axis": (-2, -1), "keepdims": False}),
            Sample(sample_arrays(rng, domain, (2, 3)), {"axis": (-1,), "keepdims": False}),
            Sample(sample_arrays(rng, domain, (2, 3, 2)), {"axis": (-3, -1), "keepdims": True}),
        ]

    return make


def no_out(out: Any, kwargs: dict, name: str) -> None:
    """The TypeError for NumPy arguments a traced reduction cannot honour."""
    if out is not None:
        raise TypeError(f"dualrev: {name} of a traced value takes no out= argument (no in-place writes)")
    extra = {k: v for k, v in kwargs.items() if v is not np._NoValue}
    if extra:
        raise TypeError(f"dualrev: {name} of a traced value does not support {sorted(extra)}")


def count(a: Any, axis: Any) -> int:
    """How many entries of ``a`` a reduction over ``axis`` combines."""
    s = shape_of(a)
    return math.prod(s[ax] for ax in normalize_axes(axis, len(s)))


# ---------------------------------------------------------------------- sum


def _sum_impl(x, *, axis, keepdims):
    return np.sum(x, axis=axis, keepdims=keepdims)


sum_p = register(
    _sum_impl,
    "sum",
    structure="segment",
    linear=(lambda g, ans, x, *, axis, keepdims: expand_cotangent(g, x, axis, keepdims),),
    samples=_reduction_samples(),
)


@numpy_function(np.sum)
def sum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:  # noqa: A001
    no_out(out, kwargs, "sum")
    if dtype is not None:
        a = a.astype(dtype)
    return sum_p(a, axis=normalize_axes(axis, ndim_of(a)), keepdims=bool(keepdims))


@numpy_function(np.mean)
def mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    no_out(out, kwargs, "mean")
    return sum(a, axis=axis, dtype=dtype, keepdims=keepdims) / count(a, axis)


# ------------------------------------------------------------------ max, min


def _tie_weights(x, ans, axes, keepdims):
    """1/(number of tied maxima) at each maximal entry of ``x``, 0 elsewhere."""
    x = concrete(x)
    hit = x == keep_dims(concrete(ans), x, axes, keepdims)
    return hit / np.sum(hit, axis=axes, keepdims=True)


def _times_weights(weights: Callable) -> dict:
    """The rules of a reduction whose local derivative is ``weights(x, ans,
    axes, keepdims)`` (broadcast against ``x``): ``Σ ẋ · w`` and ``ȳ · w``."""
    return {
        "jvp": (
            lambda t, ans, x, *, axis, keepdims: sum_p(
                t * weights(x, ans, axis, keepdims), axis=axis, keepdims=keepdims
            ),
        ),
        "vjp": (
            lambda g, ans, x, *, axis, keepdims: expand_cotangent(g, x, axis, keepdims)
            * weights(x, ans, axis, keepdims),
        ),
    }


max_p = register(
    lambda x, *, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
    "max",
    **_times_weights(_tie_weights),
    samples=_reduction_samples("distinct"),
)
min_p = register(
    lambda x, *, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims),
    "min",
    **_times_weights(_tie_weights),
    samples=_reduction_samples("distinct"),
)


@numpy_function(np.max, np.amax)
def max(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:  # noqa: A001
    no_out(out, kwargs, "max")
    return max_p(a, axis=normalize_axes(axis, ndim_of(a)), keepdims=bool(keepdims))


@numpy_function(np.min, np.amin)
def min(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:  # noqa: A001
    no_out(out, kwargs, "min")
    return min_p(a, axis=normalize_axes(axis, ndim_of(a)), keepdims=bool(keepdims))


amax = max
amin = min


@numpy_function(np.ptp)
def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    return max(a, axis=axis, out=out, keepdims=keepdims) - min(a, axis=axis, keepdims=keepdims)


# --------------------------------------------------------------------- prod


def _prod_others(x, ans, axes, keepdims):
    """∂ prod(x) / ∂x_i = the product of all the *other* entries.

    Without zeros that is ``prod / x_i``. With zeros (where the division
    fails) it is computed directly: move the reduced axes last, flatten them
    to n entries, and take the product of an n×n array whose row i is x with
    entry i replaced by 1. Both branches are written with dualrev.numpy, so
    second derivatives work too.
    """
    if np.all(concrete(x) != 0):
        return keep_dims(ans, x, axes, keepdims) / x
    s = tuple(shape_of(x))
    nd = len(s)
    reduced = [a % nd for a in axes]
    kept = [i for i in range(nd) if i not in reduced]
    moved = transpose(x, tuple(kept + reduced))
    n = int(np.prod([s[i] for i in reduced], dtype=np.int64))
    flat = reshape(moved, tuple(s[i] for i in kept) + (n,))
    rows = where(np.eye(n, dtype=bool), 1.0, expand_dims(flat, -2))
    others = prod(rows, axis=-1)
    others = reshape(others, tuple(s[i] for i in kept) + tuple(s[i] for i in reduced))
    return transpose(others, tuple(int(i) for i in np.argsort(kept + reduced)))


def _prod_samples(rng):
    with_zero = sample_arrays(rng, "real", (2, 3))[0]
    with_zero[0, 1] = 0.0
    return _reduction_samples("nonzero")(rng) + [Sample((with_zero,), {"axis": (-1,), "keepdims": False})]


prod_p = register(
    lambda x, *, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
    "prod",
    **_times_weights(_prod_others),
    samples=_prod_samples,
)


@numpy_function(np.prod)
def prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    no_out(out, kwargs, "prod")
    if dtype is not None:
        a = a.astype(dtype)
    return prod_p(a, axis=normalize_axes(axis, ndim_of(a)), keepdims=bool(keepdims))


# ---------------------------------------------------------------- logsumexp


def _softmax_weights(x, ans, axes, keepdims):
    return exp(x - keep_dims(ans, x, axes, keepdims))


logsumexp_p = register(
    lambda x, *, axis, keepdims: scipy.special.logsumexp(x, axis=axis, keepdims=keepdims),
    "logsumexp",
    **_times_weights(_softmax_weights),
    samples=_reduction_samples(),
)


@fallback(scipy.special.logsumexp)
def logsumexp(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """log Σ exp(a) over ``axis``, computed stably; its gradient is softmax(a)."""
    return logsumexp_p(a, axis=normalize_axes(axis, ndim_of(a)), keepdims=bool(keepdims))


# -------------------------------------------------------------------- trace


@numpy_function(np.trace)
def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None) -> Any:
    if out is not None:
        raise TypeError("dualrev: trace of a traced value takes no out= argument")
    return sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


__all__ = ["sum", "mean", "max", "min", "amax", "amin", "ptp", "prod", "logsumexp", "trace"]
