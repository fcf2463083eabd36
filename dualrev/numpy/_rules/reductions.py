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
from .binary import maximum, minimum
from .construction import operand
from .indexing import diagonal, where
from .overrides import fallback, numpy_function
from .shape import broadcast_to_p, expand_dims, reshape, reshape_p, transpose
from .unary import absolute, exp, log


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


def _masked(a: Any, kwargs: dict, fill: float) -> Any:
    """``a`` with ``fill`` where NumPy's ``where=`` mask (popped from ``kwargs``) is False."""
    mask = kwargs.pop("where", np._NoValue)
    if mask is np._NoValue or mask is True:
        return a
    return where(np.broadcast_to(concrete(mask), shape_of(a)), a, fill)


@numpy_function(np.sum, nested=True)
def sum(  # noqa: A001
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, initial: Any = 0, **kw: Any
) -> Any:
    """``where=`` sums the selected entries only; ``initial`` is added."""
    a = _masked(operand(a), kw, 0.0)
    no_out(out, kw, "sum")
    if dtype is not None:
        a = a.astype(dtype)
    total = sum_p(a, axis=normalize_axes(axis, ndim_of(a)), keepdims=bool(keepdims))
    return total if initial is np._NoValue or (not isinstance(initial, Tracer) and initial == 0) else total + initial


@numpy_function(np.mean, nested=True)
def mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """``where=``: the mean of the selected entries."""
    a = operand(a)
    mask = kwargs.pop("where", np._NoValue)
    if mask is np._NoValue or mask is True:
        return sum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs) / count(a, axis)
    mask = np.broadcast_to(concrete(mask), shape_of(a))
    total = sum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, where=mask, **kwargs)
    return total / np.sum(mask, axis=axis, keepdims=keepdims)


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


def _extremum(prim: Any, a: Any, axis: Any, out: Any, keepdims: bool, initial: Any, kwargs: dict, name: str) -> Any:
    """max/min with NumPy's ``initial`` (one more candidate) and ``where=``
    (which needs ``initial``: the masked-out entries become it)."""
    a = operand(a)
    mask = kwargs.get("where", np._NoValue)
    if mask is not np._NoValue and mask is not True:
        if initial is np._NoValue:
            raise ValueError(
                f"reduction operation '{'maximum' if name == 'max' else 'minimum'}' does not have an identity, "
                "so to use a where mask one has to specify 'initial'"
            )
        a = _masked(a, kwargs, concrete(initial))
    no_out(out, kwargs, name)
    result = prim(a, axis=normalize_axes(axis, ndim_of(a)), keepdims=bool(keepdims))
    if initial is np._NoValue:
        return result
    return (maximum if name == "max" else minimum)(result, initial)


@numpy_function(np.max, np.amax, nested=True)
def max(  # noqa: A001
    a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, initial: Any = np._NoValue, **kwargs: Any
) -> Any:
    return _extremum(max_p, a, axis, out, keepdims, initial, kwargs, "max")


@numpy_function(np.min, np.amin, nested=True)
def min(  # noqa: A001
    a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, initial: Any = np._NoValue, **kwargs: Any
) -> Any:
    return _extremum(min_p, a, axis, out, keepdims, initial, kwargs, "min")


amax = max
amin = min


@numpy_function(np.ptp, nested=True)
def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    a = operand(a)
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


@numpy_function(np.prod, nested=True)
def prod(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, initial: Any = 1, **kw: Any
) -> Any:
    """``where=``: the product of the selected entries; ``initial`` multiplies it."""
    a = _masked(operand(a), kw, 1.0)
    no_out(out, kw, "prod")
    if dtype is not None:
        a = a.astype(dtype)
    result = prod_p(a, axis=normalize_axes(axis, ndim_of(a)), keepdims=bool(keepdims))
    return result if initial is np._NoValue or (not isinstance(initial, Tracer) and initial == 1) else result * initial


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
def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False, return_sign: bool = False) -> Any:
    """log Σ exp(a) over ``axis``, computed stably; its gradient is softmax(a).

    With weights ``b``: log |Σ b exp(a)| = m + log |Σ b exp(a − m)| for the
    (constant) maximum m, differentiable in ``a`` and ``b``; ``return_sign``
    also returns the sign of the sum."""
    if b is None and not return_sign:
        return logsumexp_p(a, axis=normalize_axes(axis, ndim_of(a)), keepdims=bool(keepdims))
    a = operand(a)
    b = np.ones((), dtype=a.dtype) if b is None else operand(b)
    shape = np.broadcast_shapes(shape_of(a), shape_of(b))
    plain = np.where(np.broadcast_to(concrete(b), shape) != 0, concrete(a), -np.inf)
    m = np.max(plain, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    total = sum(b * exp(a - m), axis=axis, keepdims=keepdims)
    sign = np.sign(concrete(total))
    m_out = m if keepdims else np.squeeze(m, axis=axis)
    result = (log(absolute(total)) if return_sign else log(total)) + m_out  # SciPy: nan for a negative sum
    return (result, sign) if return_sign else result


# -------------------------------------------------------------------- trace


@numpy_function(np.trace)
def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None) -> Any:
    if out is not None:
        raise TypeError("dualrev: trace of a traced value takes no out= argument")
    return sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


__all__ = ["sum", "mean", "max", "min", "amax", "amin", "ptp", "prod", "logsumexp", "trace"]
