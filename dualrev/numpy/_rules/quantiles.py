"""Order statistics (median, quantile, percentile) and the NaN-ignoring
moments and product (nanvar, nanstd, nanprod).

Compositions of sort (a gather with the stable argsort), take and the
arithmetic operators. The derivative of a quantile is that of the sorted
entries it interpolates; at ties the stable argsort decides which of the tied
entries gets it (a subgradient: each tie's derivative goes to one entry, as
for ``sort``), and between two order statistics the weights are NumPy's
interpolation weights (``1 − γ`` and ``γ``), so a traced ``q`` is
differentiated too (by the gap between them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...core import concrete, shape_of
from . import reductions
from .base import ndim_of, normalize_axes
from .construction import operand
from .indexing import sort, take, where
from .overrides import numpy_function
from .shape import reshape, transpose
from .unary import safe_sqrt

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _last_axis(a: Any, axis: Any) -> tuple[Any, tuple]:
    """``a`` sorted along one last axis holding the entries of the reduced
    axes, and the keepdims shape of the reduction."""
    nd = ndim_of(a)
    reduced = [ax % nd for ax in normalize_axes(axis, nd)] if nd else []
    kept = [i for i in range(nd) if i not in reduced]
    s = tuple(shape_of(a))
    moved = transpose(a, tuple(kept + reduced)) if nd else a
    n = int(np.prod([s[i] for i in reduced], dtype=np.int64))
    flat = reshape(moved, tuple(s[i] for i in kept) + (n,))
    keep_shape = tuple(1 if i in reduced else s[i] for i in range(nd))
    return sort(flat, axis=-1), keep_shape


def _finish(result: Any, q_ndim: int, keep_shape: tuple, keepdims: bool) -> Any:
    """``kept + q.shape`` → ``q.shape + kept`` (NumPy's order), keepdims restored."""
    nd = ndim_of(result)
    kept_nd = nd - q_ndim
    if q_ndim:
        result = transpose(result, tuple(range(kept_nd, nd)) + tuple(range(kept_nd)))
    if keepdims:
        result = reshape(result, tuple(shape_of(result))[:q_ndim] + keep_shape)
    return result


def _quantile(a: Any, q: Any, axis: Any, method: str, keepdims: bool) -> Any:
    if method not in _METHODS:
        raise NotImplementedError(
            f"dualrev: quantile(method={method!r}) of a traced value is not supported; {_METHODS} are"
        )
    q = operand(q)
    qc = np.asarray(concrete(q), dtype=np.float64)
    if np.any((qc < 0) | (qc > 1)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    s, keep_shape = _last_axis(operand(a), axis)
    n = shape_of(s)[-1]
    virtual = (n - 1) * q
    vc = (n - 1) * qc
    if method == "nearest":
        index = np.around(vc).astype(np.intp)
        return _finish(take(s, index, axis=-1), qc.ndim, keep_shape, keepdims)
    lo = np.clip(np.floor(vc), 0, n - 1).astype(np.intp)
    hi = np.clip(lo + 1, 0, n - 1)
    if method in ("lower", "higher"):
        return _finish(
            take(s, lo if method == "lower" else np.ceil(vc).astype(np.intp), axis=-1), qc.ndim, keep_shape, keepdims
        )
    below, above = take(s, lo, axis=-1), take(s, hi, axis=-1)
    gamma: Any = virtual - lo if method == "linear" else np.where(vc == lo, 0.0, 0.5)
    gc = np.asarray(concrete(gamma))
    gap = above - below  # NumPy's lerp, from the nearer end
    result = where(gc >= 0.5, above - gap * (1 - gamma), below + gap * gamma)
    return _finish(result, qc.ndim, keep_shape, keepdims)


@numpy_function(np.quantile, nested=True)
def quantile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    **kwargs: Any,
) -> Any:
    """``np.quantile`` with the methods linear, lower, higher, midpoint and nearest."""
    reductions.no_out(out, kwargs, "quantile")
    return _quantile(a, q, axis, method, keepdims)


@numpy_function(np.percentile, nested=True)
def percentile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    **kwargs: Any,
) -> Any:
    reductions.no_out(out, kwargs, "percentile")
    return _quantile(a, operand(q) / 100, axis, method, keepdims)


@numpy_function(np.median, nested=True)
def median(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False, keepdims: bool = False) -> Any:
    """The middle order statistic, or the mean of the two middle ones."""
    reductions.no_out(out, {}, "median")
    s, keep_shape = _last_axis(operand(a), axis)
    n = shape_of(s)[-1]
    middle = np.array([n // 2]) if n % 2 else np.array([n // 2 - 1, n // 2])
    result = reductions.mean(take(s, middle, axis=-1), axis=-1)
    return reshape(result, keep_shape) if keepdims else result


# ---------------------------------------------------------- NaN-ignoring


@numpy_function(np.nanprod, nested=True)
def nanprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """Π over the non-NaN entries (NaN entries count as 1, derivative 0)."""
    a = operand(a)
    return reductions.prod(
        where(np.isnan(concrete(a)), 1.0, a), axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs
    )


@numpy_function(np.nanvar, nested=True)
def nanvar(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: bool = False, **kwargs: Any
) -> Any:
    """The variance of the non-NaN entries (NumPy's construction)."""
    reductions.no_out(out, kwargs, "nanvar")
    a = operand(a)
    if dtype is not None:
        a = a.astype(dtype)
    nan = np.isnan(concrete(a))
    kept = where(nan, 0.0, a)
    counts = np.sum(~nan, axis=axis, keepdims=True)
    deviation = where(nan, 0.0, kept - reductions.sum(kept, axis=axis, keepdims=True) / counts)
    total = reductions.sum(deviation * deviation, axis=axis, keepdims=keepdims)
    return total / (np.sum(~nan, axis=axis, keepdims=keepdims) - ddof)


@numpy_function(np.nanstd, nested=True)
def nanstd(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: bool = False, **kwargs: Any
) -> Any:
    """√nanvar, with the subgradient 0 where the variance is 0 (as ``std``)."""
    return safe_sqrt(nanvar(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs))


__all__ = ["quantile", "percentile", "median", "nanprod", "nanvar", "nanstd"]
