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
from .construction import PAD_MODES, operand
from .indexing import along, concatenate, index_explicit, sort, take, take_along_axis, where
from .overrides import numpy_function, traced_tree
from .shape import broadcast_to, reshape, transpose
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


def _gather(s: Any, index: np.ndarray) -> Any:
    """``s[..., index]`` for an index of shape ``kept + q.shape`` (one per slice)."""
    kept = tuple(shape_of(s))[:-1]
    flat = take_along_axis(s, index.reshape(kept + (-1,)), axis=-1)
    return reshape(flat, tuple(index.shape))


def _quantile(a: Any, q: Any, axis: Any, method: str, keepdims: bool, nan: bool = False) -> Any:
    """Quantiles of the sorted slices; with ``nan`` of their non-NaN entries
    (sorted last), whose number differs from slice to slice."""
    if method not in _METHODS:
        raise NotImplementedError(
            f"dualrev: quantile(method={method!r}) of a traced value is not supported; {_METHODS} are"
        )
    q = operand(q)
    qc = np.asarray(concrete(q), dtype=np.float64)
    if np.any((qc < 0) | (qc > 1)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    s, keep_shape = _last_axis(operand(a), axis)
    kept, n = tuple(shape_of(s))[:-1], shape_of(s)[-1]
    counts = np.sum(~np.isnan(concrete(s)), axis=-1) if nan else np.full(kept, n)
    last = np.maximum(counts - 1, 0).reshape(kept + (1,) * qc.ndim)
    virtual = (counts.reshape(last.shape) - 1) * q
    vc = np.asarray(concrete(virtual))
    if method == "nearest":
        return _finish(_gather(s, np.clip(np.around(vc), 0, last).astype(np.intp)), qc.ndim, keep_shape, keepdims)
    lo = np.clip(np.floor(vc), 0, last).astype(np.intp)
    hi = np.minimum(lo + 1, last)
    if method in ("lower", "higher"):
        index = lo if method == "lower" else np.clip(np.ceil(vc), 0, last).astype(np.intp)
        return _finish(_gather(s, index), qc.ndim, keep_shape, keepdims)
    below, above = _gather(s, lo), _gather(s, hi)
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


@numpy_function(np.nanquantile, nested=True)
def nanquantile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    **kwargs: Any,
) -> Any:
    """Quantiles of the non-NaN entries (NaN for a slice of NaNs only)."""
    reductions.no_out(out, kwargs, "nanquantile")
    return _quantile(a, q, axis, method, keepdims, nan=True)


@numpy_function(np.nanpercentile, nested=True)
def nanpercentile(
    a: Any,
    q: Any,
    axis: Any = None,
    out: Any = None,
    overwrite_input: bool = False,
    method: str = "linear",
    keepdims: bool = False,
    **kwargs: Any,
) -> Any:
    reductions.no_out(out, kwargs, "nanpercentile")
    return _quantile(a, operand(q) / 100, axis, method, keepdims, nan=True)


@numpy_function(np.nanmedian, nested=True)
def nanmedian(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False, keepdims: bool = False) -> Any:
    """The median of the non-NaN entries: the mean of the one or two middle ones."""
    reductions.no_out(out, {}, "nanmedian")
    s, keep_shape = _last_axis(operand(a), axis)
    counts = np.sum(~np.isnan(concrete(s)), axis=-1)
    middle = np.stack([np.maximum(counts - 1, 0) // 2, counts // 2], axis=-1)
    result = reductions.mean(_gather(s, middle), axis=-1)
    return reshape(result, keep_shape) if keepdims else result


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


# ------------------------------------------------------------------ pad modes of traced values

_STATISTICS: dict[str, Any] = {
    "maximum": reductions.max, "minimum": reductions.min, "mean": reductions.mean, "median": median,
}  # fmt: skip


def _pairs(value: Any, n: int) -> list:
    """NumPy's ``_as_pairs(value, n, as_index=True)``: ``(before, after)`` per axis (None: the whole axis)."""
    if value is None:
        return [(None, None)] * n
    pairs = np.round(np.broadcast_to(np.asarray(value), (n, 2))).astype(np.intp)
    if np.any(pairs < 0):
        raise ValueError("index can't contain negative values")
    return [(int(a), int(b)) for a, b in pairs]


def _extend(out: Any, ax: int, width: tuple) -> int:
    size = shape_of(out)[ax]
    if size == 0 and any(width):
        raise ValueError(f"can't extend empty axis {ax} using modes other than 'constant' or 'empty'")
    return size


def _join(pieces: list, out: Any, ax: int) -> Any:
    """``out`` with ``pieces[0]`` before it and ``pieces[1]`` after it along ``ax`` (None: nothing)."""
    return concatenate([p for p in (pieces[0], out, pieces[1]) if p is not None], axis=ax)


def _pad_statistic(mode: str) -> Any:
    def pad_statistic(array: Any, widths: list, stat_length: Any = None) -> Any:
        """The statistic of the first / last ``stat_length`` entries along each axis, axis after axis (as NumPy)."""
        n, out = ndim_of(array), array
        for ax, (width, lengths) in enumerate(zip(widths, _pairs(stat_length, n))):
            size, pieces = _extend(out, ax, width), list[Any]()
            for side in (0, 1):
                length = size if lengths[side] is None or lengths[side] > size else lengths[side]
                if width[side] and length == 0 and mode in ("maximum", "minimum"):
                    raise ValueError("stat_length of 0 yields no value for padding")
                index = np.arange(length) if side == 0 else np.arange(size - length, size)
                value = _STATISTICS[mode](index_explicit(out, along(ax, n, index)), axis=ax, keepdims=True)
                target = list(shape_of(out))
                target[ax] = width[side]
                pieces.append(broadcast_to(value, tuple(target)) if width[side] else None)
            out = _join(pieces, out, ax)
        return out

    return pad_statistic


def _pad_linear_ramp(array: Any, widths: list, end_values: Any = 0.0) -> Any:
    """A ramp from ``end_values`` (traced or not) to the edge value, ``endpoint=False``, axis after axis."""
    n, out = ndim_of(array), array
    ends = broadcast_to(end_values, (n, 2)) if traced_tree(end_values) else np.broadcast_to(end_values, (n, 2))
    for ax, width in enumerate(widths):
        size, pieces = _extend(out, ax, width), list[Any]()
        for side in (0, 1):
            if not width[side]:
                pieces.append(None)
                continue
            edge = index_explicit(out, along(ax, n, np.array([0 if side == 0 else size - 1])))
            steps = np.arange(width[side], dtype=np.float64) / width[side]
            shape = [1] * n
            shape[ax] = width[side]
            end = ends[ax, side]
            pieces.append(end + (edge - end) * np.reshape(steps[::-1] if side else steps, shape))
        out = _join(pieces, out, ax)
    return out


PAD_MODES.update({mode: _pad_statistic(mode) for mode in _STATISTICS}, linear_ramp=_pad_linear_ramp)

__all__ = [
    "quantile", "percentile", "median", "nanquantile", "nanpercentile", "nanmedian", "nanprod", "nanvar", "nanstd",
]  # fmt: skip
