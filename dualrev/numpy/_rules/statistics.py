"""Statistics built from the reductions: var, std, the NaN-ignoring
reductions and the weighted average. Compositions only: their derivatives
come from the rules of sum, max/min, multiply and where."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...core import concrete, dtype_of, shape_of
from . import reductions
from .base import ndim_of
from .construction import operand
from .indexing import where
from .overrides import numpy_function
from .reductions import count, mean, no_out
from .shape import reshape
from .unary import safe_sqrt


@numpy_function(np.var, nested=True)
def var(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: bool = False, **kwargs: Any
) -> Any:
    """Σ (a − mean)² / (N − ddof): a composition, so its derivative
    2 (a − mean) / (N − ddof) comes from the rules of sum and multiply."""
    no_out(out, kwargs, "var")
    a = operand(a)
    if dtype is not None:
        a = a.astype(dtype)
    deviation = a - mean(a, axis=axis, keepdims=True)
    return reductions.sum(deviation * deviation, axis=axis, keepdims=keepdims) / (count(a, axis) - ddof)


@numpy_function(np.std, nested=True)
def std(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: bool = False, **kwargs: Any
) -> Any:
    """√var. Where the variance is exactly 0 (constant data) the derivative of
    the square root is infinite; we return the subgradient 0 there, as for
    ``norm`` at the zero vector."""
    return safe_sqrt(var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs))


@numpy_function(np.nansum, nested=True)
def nansum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    """Σ over the non-NaN entries (NaN entries have derivative 0)."""
    a = operand(a)
    kept = where(np.isnan(concrete(a)), 0.0, a)
    return reductions.sum(kept, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)


@numpy_function(np.nanmean, nested=True)
def nanmean(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any
) -> Any:
    a = operand(a)
    counts = np.sum(~np.isnan(concrete(a)), axis=axis, keepdims=keepdims)
    return nansum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs) / counts.astype(a.dtype)


@numpy_function(np.nanmax, nested=True)
def nanmax(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    a = operand(a)
    return reductions.max(where(np.isnan(concrete(a)), -np.inf, a), axis=axis, out=out, keepdims=keepdims, **kwargs)


@numpy_function(np.nanmin, nested=True)
def nanmin(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    a = operand(a)
    return reductions.min(where(np.isnan(concrete(a)), np.inf, a), axis=axis, out=out, keepdims=keepdims, **kwargs)


@numpy_function(np.average, nested=True)
def average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *, keepdims: bool = False) -> Any:
    """Σ w a / Σ w (differentiable in ``a`` and in ``weights``)."""
    a = operand(a)
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        scale = np.full(shape_of(avg), count(a, axis), dtype=np.result_type(a.dtype, np.float16))
        return (avg, scale) if returned else avg
    if ndim_of(weights) != ndim_of(a):  # NumPy: 1-D weights along ``axis``
        if axis is None or ndim_of(weights) != 1:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        shape = [1] * ndim_of(a)
        shape[axis] = shape_of(weights)[0]
        weights = reshape(weights, tuple(shape))
    total = reductions.sum(a * weights, axis=axis, keepdims=keepdims)
    weight_sum = reductions.sum(weights * np.ones(shape_of(a), dtype=dtype_of(a)), axis=axis, keepdims=keepdims)
    avg = total / weight_sum
    return (avg, weight_sum) if returned else avg


__all__ = ["var", "std", "nansum", "nanmean", "nanmax", "nanmin", "average"]
