"""Reductions over axes: sum, mean, prod, max/min, logsumexp.

Axes are stored as *negative* numbers (counted from the end), so the same
reduction applied to a tangent with leading batch axes reduces the same data
axes. The VJP of a reduction broadcasts the output cotangent back over the
reduced axes (each input fed the reduced output once) and multiplies by the
local derivative.

Ties in ``max``/``min`` share the derivative equally among the tied entries
(the weights sum to 1), matching ``maximum``/``minimum``.
"""

from __future__ import annotations

import builtins
import math

import numpy as np
import scipy.special

from ..core import Tracer, concrete, deflinear, defjvp, defvjp, dtype_of, shape_of
from . import shape_ops as _shape
from .elementwise import exp, where
from ._helpers import Sample, ndim_of, normalize_axes, register, sample_arrays, samples

_reshape_p = _shape.reshape_p
_broadcast_to_p = _shape.broadcast_to_p


def _kept_shape(x, axes) -> tuple:
    """Shape of the reduction of ``x`` over ``axes`` with keepdims=True."""
    kept = list(shape_of(x))
    for a in axes:
        kept[a] = 1
    return tuple(kept)


def keep_dims(value, x, axes, keepdims):
    """A reduced value (or its cotangent, with batch axes) reshaped to the
    keepdims form so that it broadcasts against ``x``."""
    if keepdims:
        return value
    kept = _kept_shape(x, axes)
    ans_ndim = len(kept) - len(axes)
    return _reshape_p(value, shape=kept, in_ndim=ans_ndim) if isinstance(value, Tracer) else np.reshape(
        value, tuple(shape_of(value))[: ndim_of(value) - ans_ndim] + kept
    )


def expand_cotangent(g, x, axes, keepdims):
    """Broadcast a cotangent of the reduction back to ``batch + x.shape``."""
    kept = keep_dims(g, x, axes, keepdims)
    return _broadcast_to_p(kept, shape=tuple(shape_of(x)), in_ndim=len(shape_of(x)))


def _reduction_samples(domain="real"):
    def make(rng):
        return [
            Sample(sample_arrays(rng, domain, (2, 3)), {"axis": (-2, -1), "keepdims": False}),
            Sample(sample_arrays(rng, domain, (2, 3)), {"axis": (-1,), "keepdims": False}),
            Sample(sample_arrays(rng, domain, (2, 3, 2)), {"axis": (-3, -1), "keepdims": True}),
        ]

    return make


# ---------------------------------------------------------------------- sum


def _sum_impl(x, *, axis, keepdims):
    return np.sum(x, axis=axis, keepdims=keepdims)


sum_p = register(_sum_impl, "sum")
deflinear(sum_p, lambda g, ans, x, *, axis, keepdims: expand_cotangent(g, x, axis, keepdims))
samples(sum_p, _reduction_samples())


def sum(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):  # noqa: A001
    if not isinstance(a, Tracer):
        return np.sum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    _no_out(out, kwargs, "sum")
    if dtype is not None:
        a = a.astype(dtype)
    return sum_p(a, axis=normalize_axes(axis, ndim_of(a)), keepdims=bool(keepdims))


def _no_out(out, kwargs, name):
    if out is not None:
        raise TypeError(f"dualrev: {name} of a traced value takes no out= argument (no in-place writes)")
    extra = {k: v for k, v in kwargs.items() if v is not np._NoValue}
    if extra:
        raise TypeError(f"dualrev: {name} of a traced value does not support {sorted(extra)}")


def _count(a, axis) -> int:
    s = shape_of(a)
    axes = normalize_axes(axis, len(s))
    return math.prod(s[ax] for ax in axes)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    if not isinstance(a, Tracer):
        return np.mean(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    _no_out(out, kwargs, "mean")
    return sum(a, axis=axis, dtype=dtype, keepdims=keepdims) / _count(a, axis)


# ------------------------------------------------------------------ max, min


def _tie_weights(x, ans, axes, keepdims):
    """1/(number of tied maxima) at each maximal entry of ``x``, 0 elsewhere."""
    x = concrete(x)
    hit = x == keep_dims(concrete(ans), x, axes, keepdims)
    return hit / np.sum(hit, axis=axes, keepdims=True)


def _extremum(impl, name):
    prim = register(impl, name)
    defjvp(
        prim,
        lambda t, ans, x, *, axis, keepdims: sum_p(t * _tie_weights(x, ans, axis, keepdims), axis=axis, keepdims=keepdims),
    )
    defvjp(
        prim,
        lambda g, ans, x, *, axis, keepdims: expand_cotangent(g, x, axis, keepdims) * _tie_weights(x, ans, axis, keepdims),
    )
    samples(prim, _reduction_samples("distinct"))
    return prim


amax_p = _extremum(lambda x, *, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims), "max")
amin_p = _extremum(lambda x, *, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims), "min")


def max(a, axis=None, out=None, keepdims=False, **kwargs):  # noqa: A001
    if not isinstance(a, Tracer):
        return np.max(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    _no_out(out, kwargs, "max")
    return amax_p(a, axis=normalize_axes(axis, ndim_of(a)), keepdims=bool(keepdims))


def min(a, axis=None, out=None, keepdims=False, **kwargs):  # noqa: A001
    if not isinstance(a, Tracer):
        return np.min(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    _no_out(out, kwargs, "min")
    return amin_p(a, axis=normalize_axes(axis, ndim_of(a)), keepdims=bool(keepdims))


amax = max
amin = min

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
    moved = _shape.transpose(x, tuple(kept + reduced))
    n = int(np.prod([s[i] for i in reduced], dtype=np.int64))
    flat = _shape.reshape(moved, tuple(s[i] for i in kept) + (n,))
    rows = where(np.eye(n, dtype=bool), 1.0, _shape.expand_dims(flat, -2))
    others = prod(rows, axis=-1)
    others = _shape.reshape(others, tuple(s[i] for i in kept) + tuple(s[i] for i in reduced))
    return _shape.transpose(others, tuple(int(i) for i in np.argsort(kept + reduced)))


prod_p = register(lambda x, *, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims), "prod")
defjvp(
    prod_p,
    lambda t, ans, x, *, axis, keepdims: sum_p(t * _prod_others(x, ans, axis, keepdims), axis=axis, keepdims=keepdims),
)
defvjp(
    prod_p,
    lambda g, ans, x, *, axis, keepdims: expand_cotangent(g, x, axis, keepdims) * _prod_others(x, ans, axis, keepdims),
)


def _prod_samples(rng):
    with_zero = sample_arrays(rng, "real", (2, 3))[0]
    with_zero[0, 1] = 0.0
    return _reduction_samples("nonzero")(rng) + [Sample((with_zero,), {"axis": (-1,), "keepdims": False})]


samples(prod_p, _prod_samples)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    if not isinstance(a, Tracer):
        return np.prod(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    _no_out(out, kwargs, "prod")
    if dtype is not None:
        a = a.astype(dtype)
    return prod_p(a, axis=normalize_axes(axis, ndim_of(a)), keepdims=bool(keepdims))


# ---------------------------------------------------------------- logsumexp


def _softmax_weights(x, ans, axes, keepdims):
    return exp(x - keep_dims(ans, x, axes, keepdims))


logsumexp_p = register(
    lambda x, *, axis, keepdims: scipy.special.logsumexp(x, axis=axis, keepdims=keepdims), "logsumexp"
)
defjvp(
    logsumexp_p,
    lambda t, ans, x, *, axis, keepdims: sum_p(t * _softmax_weights(x, ans, axis, keepdims), axis=axis, keepdims=keepdims),
)
defvjp(
    logsumexp_p,
    lambda g, ans, x, *, axis, keepdims: expand_cotangent(g, x, axis, keepdims) * _softmax_weights(x, ans, axis, keepdims),
)
samples(logsumexp_p, _reduction_samples())


def logsumexp(a, axis=None, keepdims=False):
    """log Σ exp(a) over ``axis``, computed stably; its gradient is softmax(a)."""
    if not isinstance(a, Tracer):
        return scipy.special.logsumexp(a, axis=axis, keepdims=keepdims)
    return logsumexp_p(a, axis=normalize_axes(axis, ndim_of(a)), keepdims=bool(keepdims))


# ------------------------------------------------------ cumsum, cumprod


def _cumsum_impl(x, *, axis, reverse):
    if reverse:  # Σ_{j ≥ i}: the transpose of the running sum
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis)
    return np.cumsum(x, axis=axis)


# The running sum y_i = Σ_{j ≤ i} x_j is linear; its transpose sums the
# cotangent from the other end: x̄_j = Σ_{i ≥ j} ȳ_i (a reversed running sum).
cumsum_p = register(_cumsum_impl, "cumsum")
deflinear(cumsum_p, lambda g, ans, x, *, axis, reverse: cumsum_p(g, axis=axis, reverse=not reverse))
samples(
    cumsum_p,
    lambda rng: [
        Sample(sample_arrays(rng, "real", (4,)), {"axis": -1, "reverse": False}),
        Sample(sample_arrays(rng, "real", (3, 2)), {"axis": -2, "reverse": True}),
    ],
)


def _cumulative_args(a, axis, dtype, out, name):
    """The traced operand and its (negative) axis for cumsum/cumprod, as NumPy
    reads them: ``axis=None`` runs over the flattened array."""
    _no_out(out, {}, name)
    if dtype is not None:
        a = a.astype(dtype)
    if axis is None:
        return _shape.ravel(a), -1
    (ax,) = normalize_axes(axis, ndim_of(a))
    return a, ax


def cumsum(a, axis=None, dtype=None, out=None):
    if not isinstance(a, Tracer):
        return np.cumsum(a, axis=axis, dtype=dtype, out=out)
    a, ax = _cumulative_args(a, axis, dtype, out, "cumsum")
    return cumsum_p(a, axis=ax, reverse=False)


def _cumprod_weights(x, axis):
    """M[..., j, k] = ∂y_k/∂x_j = Π_{i ≤ k, i ≠ j} x_i for j ≤ k (0 above), with
    the data axis moved last: the product of the entries *other* than x_j,
    computed without dividing by x_j (so zeros are fine)."""
    moved = _shape.moveaxis(x, axis, -1)
    n = shape_of(moved)[-1]
    rows = where(np.eye(n, dtype=bool), 1.0, _shape.expand_dims(moved, -2))
    return where(np.triu(np.ones((n, n), dtype=bool)), cumprod(rows, axis=-1), 0.0)


def _cumprod_jvp(t, ans, x, *, axis):
    if np.all(concrete(x) != 0):  # ẏ = y ⊙ cumsum(ẋ / x)
        return ans * cumsum_p(t / x, axis=axis, reverse=False)
    from .products import matmul

    moved = _shape.expand_dims(_shape.moveaxis(t, axis, -1), -2)
    return _shape.moveaxis(_shape.squeeze(matmul(moved, _cumprod_weights(x, axis)), -2), -1, axis)


def _cumprod_vjp(g, ans, x, *, axis):
    if np.all(concrete(x) != 0):  # x̄ = reversed-cumsum(ȳ ⊙ y) / x
        return cumsum_p(g * ans, axis=axis, reverse=True) / x
    from .products import matmul

    moved = _shape.expand_dims(_shape.moveaxis(g, axis, -1), -1)
    return _shape.moveaxis(_shape.squeeze(matmul(_cumprod_weights(x, axis), moved), -1), -1, axis)


cumprod_p = register(lambda x, *, axis: np.cumprod(x, axis=axis), "cumprod")
defjvp(cumprod_p, _cumprod_jvp)
defvjp(cumprod_p, _cumprod_vjp)


def _cumprod_samples(rng):
    with_zero = sample_arrays(rng, "real", (2, 4))[0]
    with_zero[1, 1] = 0.0
    return [
        Sample(sample_arrays(rng, "nonzero", (4,)), {"axis": -1}),
        Sample(sample_arrays(rng, "nonzero", (3, 2)), {"axis": -2}),
        Sample((with_zero,), {"axis": -1}),
    ]


samples(cumprod_p, _cumprod_samples)


def cumprod(a, axis=None, dtype=None, out=None):
    if not isinstance(a, Tracer):
        return np.cumprod(a, axis=axis, dtype=dtype, out=out)
    a, ax = _cumulative_args(a, axis, dtype, out, "cumprod")
    return cumprod_p(a, axis=ax)


# ------------------------------------------ statistics built from the above


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    """Σ (a − mean)² / (N − ddof): a composition, so its derivative
    2 (a − mean) / (N − ddof) comes from the rules of sum and multiply."""
    if not isinstance(a, Tracer):
        return np.var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs)
    _no_out(out, kwargs, "var")
    if dtype is not None:
        a = a.astype(dtype)
    deviation = a - mean(a, axis=axis, keepdims=True)
    return sum(deviation * deviation, axis=axis, keepdims=keepdims) / (_count(a, axis) - ddof)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    """√var. Where the variance is exactly 0 (constant data) the derivative of
    the square root is infinite; we return the subgradient 0 there, as for
    ``norm`` at the zero vector."""
    if not isinstance(a, Tracer):
        return np.std(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs)
    return _safe_sqrt(var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs))


def _safe_sqrt(value):
    """√value with derivative 0 (not inf·0 = NaN) where value == 0."""
    from .elementwise import sqrt

    zero = concrete(value) == 0
    if not np.any(zero):
        return sqrt(value)
    return where(zero, 0.0, sqrt(where(zero, 1.0, value)))


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    """Σ over the non-NaN entries (NaN entries have derivative 0)."""
    if not isinstance(a, Tracer):
        return np.nansum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    return sum(where(np.isnan(concrete(a)), 0.0, a), axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    if not isinstance(a, Tracer):
        return np.nanmean(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    count = np.sum(~np.isnan(concrete(a)), axis=axis, keepdims=keepdims)
    return nansum(a, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs) / count.astype(a.dtype)


def nanmax(a, axis=None, out=None, keepdims=False, **kwargs):
    if not isinstance(a, Tracer):
        return np.nanmax(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    return max(where(np.isnan(concrete(a)), -np.inf, a), axis=axis, out=out, keepdims=keepdims, **kwargs)


def nanmin(a, axis=None, out=None, keepdims=False, **kwargs):
    if not isinstance(a, Tracer):
        return np.nanmin(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
    return min(where(np.isnan(concrete(a)), np.inf, a), axis=axis, out=out, keepdims=keepdims, **kwargs)


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """Σ w a / Σ w (differentiable in ``a`` and in ``weights``)."""
    if not isinstance(a, Tracer) and not isinstance(weights, Tracer):
        return np.average(a, axis=axis, weights=weights, returned=returned, keepdims=keepdims)
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        scale = np.full(shape_of(avg), _count(a, axis), dtype=np.result_type(a.dtype, np.float16))
        return (avg, scale) if returned else avg
    if ndim_of(weights) != ndim_of(a):  # NumPy: 1-D weights along ``axis``
        if axis is None or ndim_of(weights) != 1:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        shape = [1] * ndim_of(a)
        shape[axis] = shape_of(weights)[0]
        weights = _shape.reshape(weights, tuple(shape)) if isinstance(weights, Tracer) else np.reshape(weights, shape)
    total = sum(a * weights, axis=axis, keepdims=keepdims)
    weight_sum = sum(weights * np.ones(shape_of(a), dtype=dtype_of(a)), axis=axis, keepdims=keepdims)
    avg = total / weight_sum
    return (avg, weight_sum) if returned else avg


def ptp(a, axis=None, out=None, keepdims=False):
    if not isinstance(a, Tracer):
        return np.ptp(a, axis=axis, out=out, keepdims=keepdims)
    return max(a, axis=axis, out=out, keepdims=keepdims) - min(a, axis=axis, keepdims=keepdims)


__all__ = [
    "sum",
    "mean",
    "max",
    "min",
    "amax",
    "amin",
    "prod",
    "logsumexp",
    "cumsum",
    "cumprod",
    "var",
    "std",
    "nansum",
    "nanmean",
    "nanmax",
    "nanmin",
    "average",
    "ptp",
]

del builtins
