"""Counting and binning with traced values: bincount, histogram, unique, full_like.

These NumPy functions used to run on the plain value of a traced argument,
which silently dropped real derivatives. They are compositions of existing
primitives:

* ``bincount(idx, weights=w)``: a segment sum of ``w`` (``scatter_add``);
  the indices are integers, so only the weights can be traced.
* ``histogram(a, bins, range, density, weights)``: the bin index of each
  value is piecewise constant in ``a``; the weighted counts are a segment sum
  of the weights by bin index; the bin *edges* are linear in their end points
  (``min(a)``, ``max(a)`` or ``range``), ``first + k · (last − first) / n``,
  computed as NumPy's ``linspace`` does. ``density=True`` divides by the
  edges' widths, so it is differentiated through them.
* ``unique(x)``: the unique values are a gather of ``x`` (first occurrences);
  indices, inverse and counts are integers.
* ``full_like(a, fill_value)``: differentiable in a traced ``fill_value``.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ...core import Tracer, concrete, dtype_of, shape_of
from . import reductions
from .indexing import concatenate, getitem, scatter_add_p
from .overrides import numpy_function
from .shape import broadcast_to, ravel, reshape


def _segment_sum(weights: Any, index: np.ndarray, n: int) -> Any:
    """``out[j] = Σ_{i: index[i] = j} weights[i]``, length ``n``."""
    return scatter_add_p(weights, index=(np.asarray(index, dtype=np.intp),), shape=(n,), in_ndim=1)


@numpy_function(np.bincount)
def bincount(x: Any, /, weights: Any = None, minlength: int = 0) -> Any:
    """``np.bincount``; with traced ``weights`` the segment sum of the weights."""
    if isinstance(x, Tracer):
        raise TypeError(
            "dualrev: np.bincount counts integer indices; a traced (float) value cannot be one. "
            "Pass the indices as a plain integer array (e.g. dr.concrete(x).astype(int))."
        )
    counts = np.bincount(x, weights=concrete(weights), minlength=minlength)  # NumPy's checks
    if weights is None or not isinstance(weights, Tracer):
        return counts
    return _segment_sum(weights, np.asarray(x), len(counts))


def _end_points(a: Any, range_: Any) -> tuple[Any, Any]:
    """The first and last edge of uniform bins: ``range`` or (min, max) of ``a``."""
    if range_ is not None:
        first, last = range_
    elif shape_of(a) == (0,):
        first, last = 0.0, 1.0
    else:
        first, last = reductions.min(a), reductions.max(a)
    if concrete(first) > concrete(last):
        raise ValueError("max must be larger than min in range parameter.")
    if not (np.isfinite(concrete(first)) and np.isfinite(concrete(last))):
        raise ValueError(f"supplied range of [{concrete(first)}, {concrete(last)}] is not finite")
    if concrete(first) == concrete(last):
        first, last = first - 0.5, last + 0.5
    return first, last


def _bin_edges(a: Any, bins: Any, range_: Any, weights: Any) -> Any:
    """The edges ``np.histogram`` uses, differentiable in ``a`` and ``range``."""
    if isinstance(bins, Tracer) or np.ndim(bins) == 1:
        return bins if isinstance(bins, Tracer) else np.asarray(bins)
    if isinstance(bins, str):
        plain_range = None if range_ is None else tuple(concrete(r) for r in range_)
        n = len(np.histogram_bin_edges(concrete(a), bins, plain_range, concrete(weights))) - 1
    else:
        n = operator.index(bins)
        if n < 1:
            raise ValueError("`bins` must be positive, when an integer")
    first, last = _end_points(a, range_)
    dtype = np.result_type(dtype_of(first), dtype_of(last), dtype_of(a), np.float16)
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
    step = (last - first) / float(n)
    inner = np.arange(n, dtype=dtype) * reshape(step, (1,)) + reshape(first, (1,))
    return concatenate([inner, reshape(last, (1,)) + np.zeros(1, dtype)])


def _bin_index(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bin of each value, which values fall in a bin): bins are half-open
    ``[e_k, e_{k+1})`` except the last, which includes its right edge."""
    index = np.searchsorted(edges, values, side="right") - 1
    index[values == edges[-1]] = len(edges) - 2
    inside = (values >= edges[0]) & (values <= edges[-1])
    return index, inside


@numpy_function(np.histogram)
def histogram(a: Any, bins: Any = 10, range: Any = None, density: Any = None, weights: Any = None) -> Any:  # noqa: A002
    """``np.histogram``, differentiable in the weights and in the bin edges."""
    a = ravel(a) if isinstance(a, Tracer) else np.ravel(a)
    edges = _bin_edges(a, bins, range, weights)
    plain_edges = concrete(edges)
    if np.any(plain_edges[:-1] > plain_edges[1:]):
        raise ValueError("`bins` must increase monotonically, when an array")
    index, inside = _bin_index(concrete(a), plain_edges)
    n = len(plain_edges) - 1
    if weights is None:
        hist: Any = np.bincount(index[inside], minlength=n)
    else:
        w = ravel(weights) if isinstance(weights, Tracer) else np.ravel(weights)
        if shape_of(w) != shape_of(a):
            raise ValueError("weights should have the same shape as a.")
        kept = getitem(w, inside) if isinstance(w, Tracer) else w[inside]
        hist = _segment_sum(kept, index[inside], n) if isinstance(kept, Tracer) else np.bincount(
            index[inside], weights=kept, minlength=n
        )
    if density:
        widths = edges[1:] - edges[:-1]
        hist = hist / widths / reductions.sum(hist)
    return hist, edges


@numpy_function(np.histogram_bin_edges)
def histogram_bin_edges(a: Any, bins: Any = 10, range: Any = None, weights: Any = None) -> Any:  # noqa: A002
    """``np.histogram_bin_edges``: the edges of :func:`histogram`."""
    return _bin_edges(ravel(a) if isinstance(a, Tracer) else np.ravel(a), bins, range, weights)


@numpy_function(np.unique)
def unique(
    ar: Any,
    return_index: bool = False,
    return_inverse: bool = False,
    return_counts: bool = False,
    axis: Any = None,
    *,
    equal_nan: bool = True,
    **kwargs: Any,
) -> Any:
    """``np.unique`` (``axis=None``): the unique values gathered from ``ar``,
    so they carry its derivative; the other results are integers."""
    if axis is not None:
        raise NotImplementedError(
            "dualrev: np.unique(x, axis=...) of a traced value is not supported; use axis=None, or "
            "compute the index with np.unique(dr.concrete(x), axis=..., return_index=True) and "
            "take x[index]."
        )
    plain_unique: Any = np.unique  # its overloads want literal flags
    results = plain_unique(concrete(ar), True, return_inverse, return_counts, equal_nan=equal_nan, **kwargs)
    values = getitem(ravel(ar), results[1])
    extra = [r for r, wanted in zip(results[1:], (return_index, return_inverse, return_counts)) if wanted]
    return (values, *extra) if extra else values


@numpy_function(np.full_like)
def full_like(
    a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None, **kwargs: Any
) -> Any:
    """``np.full_like``: a traced ``fill_value`` keeps its derivative (a float result)."""
    out_shape = tuple(shape_of(a)) if shape is None else tuple(np.atleast_1d(shape).tolist())
    out_dtype = np.dtype(dtype) if dtype is not None else dtype_of(a)
    if not isinstance(fill_value, Tracer) or out_dtype.kind != "f":  # an integer result: derivative 0
        return np.full(out_shape, concrete(fill_value), dtype=out_dtype)
    out = broadcast_to(fill_value, out_shape)
    return out if dtype_of(out) == out_dtype else out.astype(out_dtype)


# Only full_like is exported (as dualrev.numpy.full_like): NumPy's dispatches on
# ``a`` alone, so np.full_like(plain, traced) never reaches the override. The
# others dispatch on every array argument, so dualrev.numpy keeps NumPy's names.
__all__ = ["full_like"]
