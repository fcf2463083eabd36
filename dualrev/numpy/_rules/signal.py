"""Signals and samples: interp, convolve, correlate, gradient, trapezoid,
polyval, cov and corrcoef.

Compositions of gathers, products and the arithmetic operators, each
following NumPy's own construction so that values agree to rounding. Kinks:
``interp`` at a knot takes the slope of the segment to the right (the last
knot: the segment to its left); outside ``[xp[0], xp[-1]]`` it is constant in
``x``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...core import Tracer, concrete, shape_of
from . import reductions
from .base import ndim_of, normalize_axes
from .binary import clip, remainder
from .construction import operand
from .cumulative import diff
from .indexing import along, concatenate, diag, index_explicit, take, where
from .overrides import numpy_function
from .products import dot, matmul
from .shape import ravel, reshape, transpose
from .statistics import average
from .unary import sqrt


@numpy_function(np.interp)
def interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None, period: Any = None) -> Any:
    """Piecewise-linear interpolation, differentiable in ``x``, ``xp`` and ``fp``
    (``period``: a plain number; NumPy's construction, ``x`` and ``xp`` taken
    modulo the period and ``xp`` extended by one knot at each end)."""
    x, xp, fp = operand(x), operand(xp), operand(fp)
    if period is not None:
        x, xp, fp = _periodic(x, xp, fp, period)
        left = right = None
    knots, xc = np.asarray(concrete(xp)), np.asarray(concrete(x))
    if knots.ndim != 1 or ndim_of(fp) != 1:
        raise ValueError("object too deep for desired array")
    n = knots.shape[0]
    if n == 0 or shape_of(fp)[0] != n:
        raise ValueError("fp and xp are not of the same length." if n else "array of sample points is empty")
    if n == 1:
        y: Any = take(fp, np.zeros(xc.shape, dtype=np.intp)) + 0.0 * x
    else:
        j = np.searchsorted(knots, xc, side="right") - 1
        segment = np.clip(j, 0, n - 2)
        base = np.clip(j, 0, n - 1)  # the last knot itself: its value exactly, the left slope
        slope = (take(fp, segment + 1) - take(fp, segment)) / (take(xp, segment + 1) - take(xp, segment))
        y = slope * (x - take(xp, base)) + take(fp, base)
    y = where(xc > knots[-1], take(fp, -1) if right is None else right, y)
    return where(xc < knots[0], take(fp, 0) if left is None else left, y)


def _periodic(x: Any, xp: Any, fp: Any, period: Any) -> tuple:
    if isinstance(period, Tracer):
        raise TypeError("dualrev: interp is not differentiable in its argument 'period': pass a plain number")
    if period == 0:
        raise ValueError("period must be a non-zero value")
    period = abs(period)
    if ndim_of(xp) != 1 or ndim_of(fp) != 1:
        raise ValueError("Data points must be 1-D sequences")
    if shape_of(xp)[0] != shape_of(fp)[0]:
        raise ValueError("fp and xp are not of the same length")
    x, xp = remainder(x, period), remainder(xp, period)
    order = np.argsort(np.asarray(concrete(xp)))
    xp, fp = take(xp, order), take(fp, order)
    xp = concatenate([xp[-1:] - period, xp, xp[0:1] + period])
    return x, xp, concatenate([fp[-1:], fp, fp[0:1]])


def _convolution(a: Any, v: Any) -> Any:
    """The full 1-D convolution: the longer signal gathered into a Toeplitz
    matrix (zeros off the band), times the shorter."""
    a, v = ravel(operand(a)), ravel(operand(v))
    n, m = shape_of(a)[0], shape_of(v)[0]
    if n == 0:
        raise ValueError("a cannot be empty")
    if m == 0:
        raise ValueError("v cannot be empty")
    long, short, size = (a, v, n) if n >= m else (v, a, m)
    index = np.arange(n + m - 1)[:, None] - np.arange(min(n, m))[None, :]
    inside = (index >= 0) & (index < size)
    band = where(inside, take(long, np.clip(index, 0, size - 1)), 0.0)
    return matmul(band, short)


def _mode(full: Any, n: int, m: int, mode: str, same_start: int) -> Any:
    if mode == "full":
        return full
    long, short = max(n, m), min(n, m)
    if mode == "same":
        return index_explicit(full, (slice(same_start, same_start + long),))
    if mode == "valid":
        return index_explicit(full, (slice(short - 1, long),))
    raise ValueError(f"mode must be one of 'valid', 'same', or 'full' (got {mode!r})")


@numpy_function(np.convolve)
def convolve(a: Any, v: Any, mode: str = "full") -> Any:
    n, m = int(np.size(concrete(a))), int(np.size(concrete(v)))
    return _mode(_convolution(a, v), n, m, mode, (min(n, m) - 1) // 2)


@numpy_function(np.correlate)
def correlate(a: Any, v: Any, mode: str = "valid") -> Any:
    """Σ_n a[n + k] v[n]: the convolution with ``v`` reversed."""
    n, m = int(np.size(concrete(a))), int(np.size(concrete(v)))
    reversed_v = index_explicit(ravel(operand(v)), (slice(None, None, -1),))
    start = (min(n, m) - 1) // 2 if n >= m else min(n, m) // 2
    return _mode(_convolution(a, reversed_v), n, m, mode, start)


@numpy_function(np.trapezoid)
def trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    """Σ d (y[1:] + y[:-1]) / 2 along ``axis`` (NumPy's construction)."""
    y = operand(y)
    nd = ndim_of(y)
    if x is None:
        d = dx
    else:
        x = operand(x)
        if ndim_of(x) == 1:
            d = diff(x)
            shape = [1] * nd
            shape[axis] = shape_of(d)[0]
            d = reshape(d, tuple(shape))
        else:
            d = diff(x, axis=axis)
    upper = index_explicit(y, along(axis, nd, slice(1, None)))
    lower = index_explicit(y, along(axis, nd, slice(None, -1)))
    return reductions.sum(d * (upper + lower) / 2.0, axis=axis)


@numpy_function(np.polyval)
def polyval(p: Any, x: Any) -> Any:
    """Horner's scheme, as NumPy: y = y·x + p_k."""
    p, x = operand(p), operand(x)
    y: Any = np.zeros(shape_of(x), dtype=x.dtype)
    for k in range(shape_of(p)[0]):
        y = y * x + p[k]
    return y


def _edges(f: Any, ax: int, nd: int, weights: list) -> Any:
    """Σ_k w_k f[slice_k] along ``ax`` for (slice, weight) pairs."""
    terms = [index_explicit(f, along(ax, nd, piece)) for piece, _ in weights]
    total = terms[0] if weights[0][1] is None else weights[0][1] * terms[0]
    for term, (_, w) in zip(terms[1:], weights[1:]):
        total = total + w * term
    return total


@numpy_function(np.gradient)
def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """Second-order central differences inside, one-sided ones (first or
    second order) at the edges: NumPy's formulas, with constant spacings
    (scalars or coordinate arrays)."""
    f = operand(f)
    nd = ndim_of(f)
    axes = [ax % nd for ax in normalize_axes(axis, nd)] if axis is not None else list(range(nd))
    if axis is not None and np.ndim(axis) == 0:
        axes = [int(axis) % nd]
    if not varargs:
        spacings: list = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(concrete(varargs[0])) == 0:
        spacings = [varargs[0]] * len(axes)
    elif len(varargs) == len(axes):
        spacings = list(varargs)
    else:
        raise TypeError("invalid number of arguments")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    if any(isinstance(d, Tracer) for d in spacings):
        raise NotImplementedError("dualrev: gradient with traced spacings is not supported (the values may be traced)")
    out = []
    for ax, d in zip(axes, spacings):
        if shape_of(f)[ax] < edge_order + 1:
            raise ValueError(
                "Shape of array too small to calculate a numerical gradient, "
                "at least (edge_order + 1) elements are required."
            )
        d = np.asarray(d, dtype=np.float64)
        if d.ndim == 1:
            steps = np.diff(d)
            d = steps[0] if np.all(steps == steps[0]) else steps
        sl = slice
        if d.ndim == 0:
            inner = _edges(f, ax, nd, [(sl(2, None), 1.0), (sl(None, -2), -1.0)]) / (2.0 * d)
            if edge_order == 1:
                first = _edges(f, ax, nd, [(sl(1, 2), 1.0), (sl(0, 1), -1.0)]) / d
                last = _edges(f, ax, nd, [(sl(-1, None), 1.0), (sl(-2, -1), -1.0)]) / d
            else:
                first = _edges(f, ax, nd, [(sl(0, 1), -1.5 / d), (sl(1, 2), 2.0 / d), (sl(2, 3), -0.5 / d)])
                last = _edges(f, ax, nd, [(sl(-3, -2), 0.5 / d), (sl(-2, -1), -2.0 / d), (sl(-1, None), 1.5 / d)])
        else:
            dx1, dx2 = d[:-1], d[1:]
            shape = [1] * nd
            shape[ax] = -1
            a = (-dx2 / (dx1 * (dx1 + dx2))).reshape(shape)
            b = ((dx2 - dx1) / (dx1 * dx2)).reshape(shape)
            c = (dx1 / (dx2 * (dx1 + dx2))).reshape(shape)
            inner = _edges(f, ax, nd, [(sl(None, -2), a), (sl(1, -1), b), (sl(2, None), c)])
            if edge_order == 1:
                first = _edges(f, ax, nd, [(sl(1, 2), 1.0), (sl(0, 1), -1.0)]) / d[0]
                last = _edges(f, ax, nd, [(sl(-1, None), 1.0), (sl(-2, -1), -1.0)]) / d[-1]
            else:
                p, q = d[0], d[1]
                w0, w1, w2 = -(2.0 * p + q) / (p * (p + q)), (p + q) / (p * q), -p / (q * (p + q))
                first = _edges(f, ax, nd, [(sl(0, 1), w0), (sl(1, 2), w1), (sl(2, 3), w2)])
                p, q = d[-2], d[-1]
                w0, w1, w2 = q / (p * (p + q)), -(q + p) / (p * q), (2.0 * q + p) / (q * (p + q))
                last = _edges(f, ax, nd, [(sl(-3, -2), w0), (sl(-2, -1), w1), (sl(-1, None), w2)])
        out.append(concatenate([first, inner, last], axis=ax))
    return out[0] if len(out) == 1 else tuple(out)


@numpy_function(np.cov)
def cov(
    m: Any,
    y: Any = None,
    rowvar: bool = True,
    bias: bool = False,
    ddof: Any = None,
    fweights: Any = None,
    aweights: Any = None,
    *,
    dtype: Any = None,
) -> Any:
    """NumPy's construction: the (weighted) mean removed, then X Xᵀ / (N − ddof)."""
    X = operand(m)
    X = reshape(X, (1, -1)) if ndim_of(X) < 2 else X
    if not rowvar and shape_of(X)[0] != 1:
        X = transpose(X)
    if y is not None:
        Y = operand(y)
        Y = reshape(Y, (1, -1)) if ndim_of(Y) < 2 else Y
        if not rowvar and shape_of(Y)[0] != 1:
            Y = transpose(Y)
        X = concatenate([X, Y], axis=0)
    if dtype is not None:
        X = X.astype(dtype)
    if ddof is None:
        ddof = 0 if bias else 1
    w: Any = None
    if fweights is not None:
        if isinstance(fweights, Tracer):  # NumPy's fweights are integer counts
            raise TypeError("dualrev: cov(fweights=...) are integer frequency counts, not differentiable; "
                            "pass them as a plain array (aweights may be traced)")  # fmt: skip
        w = np.asarray(fweights, dtype=float)
    if aweights is not None:
        aw = operand(aweights)  # differentiable, as in NumPy's formula
        w = aw if w is None else w * aw
    avg, w_sum = average(X, axis=1, weights=w, returned=True)
    w_sum = w_sum[0]
    if w is None:
        fact: Any = shape_of(X)[1] - ddof
    elif ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = w_sum - ddof
    else:
        fact = w_sum - ddof * reductions.sum(w * aw) / w_sum
    X = X - reshape(avg, (-1, 1))
    c = dot(X, transpose(X if w is None else X * w))
    c = c * (1.0 / fact)
    s = tuple(shape_of(c))
    return reshape(c, tuple(d for d in s if d != 1))


@numpy_function(np.corrcoef)
def corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Any:
    """cov / (σ_i σ_j), clipped to [-1, 1] as in NumPy."""
    c = cov(x, y, rowvar, dtype=dtype)
    if ndim_of(c) == 0:
        return c / c
    stddev = sqrt(diag(c))
    c = c / reshape(stddev, (-1, 1))
    c = c / reshape(stddev, (1, -1))
    return clip(c, -1, 1)


__all__ = ["interp", "convolve", "correlate", "trapezoid", "polyval", "gradient", "cov", "corrcoef"]
