"""Broadcasting binary elementwise functions: arithmetic, powers, extrema,
angles and remainders.

A tangent of an argument that NumPy broadcast is expanded to the answer's
rank (``expand_rank``/``expand_tangent``); a cotangent is summed back over the
broadcast axes (``unbroadcast``).

Conventions at kinks (documented in DESIGN.md and tested):

* ``maximum``/``minimum`` at a tie give each argument half: the weights sum
  to 1, so the derivative of ``maximum(x, x)`` is exactly 1.
* ``x ** 0`` has derivative 0 in ``x`` (also at ``x = 0``) and ``0 ** y`` has
  derivative 0 in ``y``, never NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...core import Tracer, concrete, dtype_of
from .base import Sample, register, sample_arrays
from .indexing import where
from .overrides import EntryPoint, numpy_function, numpy_ufunc, ufunc_entry
from .shape import expand_rank, expand_tangent, unbroadcast
from .unary import astype_p, exp, exp2, floor, log, trunc


def _binary_samples(domain_x: str = "real", domain_y: str = "real") -> Callable:
    def make(rng):
        return [
            Sample(sample_arrays(rng, domain_x, (2, 3)) + sample_arrays(rng, domain_y, (2, 3))),
            Sample(sample_arrays(rng, domain_x, (3,)) + sample_arrays(rng, domain_y, (2, 3))),
            Sample(sample_arrays(rng, domain_x, (2, 1)) + sample_arrays(rng, domain_y, ())),
        ]

    return make


def _binary(
    ufunc: np.ufunc, name: str, dx: Callable, dy: Callable, samples: Callable, *aliases: np.ufunc
) -> EntryPoint:
    """The entry point of a broadcasting binary primitive from its two partial
    derivatives ``dx(ans, x, y)`` and ``dy(ans, x, y)`` (full-shape or
    broadcastable); it overrides ``ufunc`` (and ``aliases``)."""
    prim = register(
        ufunc,
        name,
        structure="diagonal",
        jvp=(
            lambda t, ans, x, y: expand_rank(t, x, ans) * dx(ans, x, y),
            lambda t, ans, x, y: expand_rank(t, y, ans) * dy(ans, x, y),
        ),
        vjp=(
            lambda g, ans, x, y: unbroadcast(g * dx(ans, x, y), x, ans),
            lambda g, ans, x, y: unbroadcast(g * dy(ans, x, y), y, ans),
        ),
        samples=samples,
    )
    return ufunc_entry(prim, 2, ufunc, *aliases)


# The four arithmetic operators are the most frequent ops in any program, so
# their rules inline the common case — the argument was not broadcast, so the
# (co)tangent needs no reshaping — and call the broadcasting helpers only
# otherwise. The argument a rule is for is always traced, so it has ``.shape``;
# the other argument may be a Python number.


def _add_jvp_x(t, ans, x, y):
    return t if x.shape == ans.shape else expand_tangent(t, x, ans)


def _add_jvp_y(t, ans, x, y):
    return t if y.shape == ans.shape else expand_tangent(t, y, ans)


def _add_vjp_x(g, ans, x, y):
    return g if g.shape == x.shape else unbroadcast(g, x, ans)


def _add_vjp_y(g, ans, x, y):
    return g if g.shape == y.shape else unbroadcast(g, y, ans)


def _same_rank(t, x, ans):
    """``expand_rank`` with its no-op case inlined."""
    return t if x.ndim == ans.ndim else expand_rank(t, x, ans)


def _multiply_vjp_x(g, ans, x, y):
    ct = g * y
    return ct if ct.shape == x.shape else unbroadcast(ct, x, ans)


def _multiply_vjp_y(g, ans, x, y):
    ct = x * g
    return ct if ct.shape == y.shape else unbroadcast(ct, y, ans)


def _divide_vjp_x(g, ans, x, y):
    ct = g / y
    return ct if ct.shape == x.shape else unbroadcast(ct, x, ans)


def _divide_vjp_y(g, ans, x, y):
    ct = -g * ans / y
    return ct if ct.shape == y.shape else unbroadcast(ct, y, ans)


add_p = register(
    np.add,
    "add",
    structure="diagonal",
    jvp=(_add_jvp_x, _add_jvp_y),
    vjp=(_add_vjp_x, _add_vjp_y),
    vjp_reads=(),
    samples=_binary_samples(),
)
subtract_p = register(
    np.subtract,
    "subtract",
    structure="diagonal",
    jvp=(_add_jvp_x, lambda t, ans, x, y: -_add_jvp_y(t, ans, x, y)),
    vjp=(_add_vjp_x, lambda g, ans, x, y: -_add_vjp_y(g, ans, x, y)),
    vjp_reads=(),
    samples=_binary_samples(),
)
# Product rule: d(xy) = ẋ y + x ẏ.
multiply_p = register(
    np.multiply,
    "multiply",
    structure="diagonal",
    jvp=(lambda t, ans, x, y: _same_rank(t, x, ans) * y, lambda t, ans, x, y: x * _same_rank(t, y, ans)),
    vjp=(_multiply_vjp_x, _multiply_vjp_y),
    vjp_reads=("args",),
    samples=_binary_samples(),
)
# Quotient rule: d(x/y) = ẋ / y − (x/y) ẏ / y.
divide_p = register(
    np.true_divide,
    "divide",
    structure="diagonal",
    jvp=(lambda t, ans, x, y: _same_rank(t, x, ans) / y, lambda t, ans, x, y: -_same_rank(t, y, ans) * ans / y),
    vjp=(_divide_vjp_x, _divide_vjp_y),
    samples=_binary_samples("real", "nonzero"),
)
add = ufunc_entry(add_p, 2, np.add)
subtract = ufunc_entry(subtract_p, 2, np.subtract)
multiply = ufunc_entry(multiply_p, 2, np.multiply)
divide = ufunc_entry(divide_p, 2, np.true_divide)
true_divide = divide


def _power_dx(ans: Any, x: Any, y: Any) -> Any:
    """∂(x**y)/∂x = y x**(y−1), with the x**0 convention: 0 (never 0·inf)."""
    scalar = not isinstance(y, (np.ndarray, Tracer))  # (a flag: y stays Any for the checker)
    if scalar:
        if y == 2:  # x ** 2, the common case: 2 x exactly, one op fewer (also under nesting)
            return 2 * x
        return 0.0 * x if y == 0 else y * x ** (y - 1)
    zero = concrete(y) == 0
    if not np.any(zero):
        return y * x ** (y - 1)
    safe_y = where(zero, 1.0, y)  # keeps the unused branch finite
    return where(zero, 0.0, safe_y * x ** (safe_y - 1))


def _power_dy(ans, x, y):
    """∂(x**y)/∂y = log(x) x**y, with the 0**y convention: 0 at x = 0."""
    zero = concrete(x) == 0
    if not np.any(zero):
        return log(x) * ans
    safe_x = where(zero, 1.0, x)
    return where(zero, 0.0, log(safe_x) * ans)


power = _binary(np.power, "power", _power_dx, _power_dy, _binary_samples("positive", "real"))


@numpy_ufunc(np.float_power)
def float_power(x: Any, y: Any) -> Any:
    """``np.float_power``: ``power`` computed in float64 (at least)."""

    def cast(v: Any) -> Any:
        return astype_p(v, dtype=np.dtype(np.float64)) if isinstance(v, Tracer) and dtype_of(v) != np.float64 else v

    return power(cast(x), cast(y) if isinstance(y, Tracer) else np.asarray(y, dtype=np.float64))


def _tie_weight(x, y, first_wins):
    """How much of the derivative of maximum/minimum goes to ``x``: 1 where
    ``x`` wins, 0 where it loses, 1/2 at a tie (the weights of x and y sum to 1)."""
    x, y = concrete(x), concrete(y)
    weight = first_wins(x, y) + 0.5 * (x == y)
    return weight.astype(np.result_type(x, y, np.float16))


def _nan_tie_weight(x, y, first_wins):
    """fmax/fmin: like maximum/minimum, but a NaN loses to a number (weight 0
    for the NaN, 1 for the number); both NaN gives NaN (weight 1/2 each, as a tie)."""
    x, y = concrete(x), concrete(y)
    x_nan, y_nan = np.isnan(x), np.isnan(y)
    weight = first_wins(x, y) + 0.5 * (x == y)
    weight = np.where(y_nan & ~x_nan, 1.0, np.where(x_nan & ~y_nan, 0.0, weight))
    weight = np.where(x_nan & y_nan, 0.5, weight)
    return weight.astype(np.result_type(x, y, np.float16))


def _extremum(ufunc: np.ufunc, name: str, first_wins: np.ufunc, weight: Callable) -> EntryPoint:
    return _binary(
        ufunc,
        name,
        lambda ans, x, y: weight(x, y, first_wins),
        lambda ans, x, y: weight(y, x, first_wins),
        _binary_samples(),
    )


maximum = _extremum(np.maximum, "maximum", np.greater, _tie_weight)
minimum = _extremum(np.minimum, "minimum", np.less, _tie_weight)
fmax = _extremum(np.fmax, "fmax", np.greater, _nan_tie_weight)
fmin = _extremum(np.fmin, "fmin", np.less, _nan_tie_weight)


@numpy_function(np.clip)
def clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, **kwargs: Any) -> Any:
    """``np.clip`` as ``minimum(maximum(a, a_min), a_max)``: derivative 1 strictly
    inside the interval, 0 outside, 1/2 exactly on a bound (the tie convention),
    and the bounds themselves are differentiable."""
    if "min" in kwargs:
        a_min = kwargs.pop("min")
    if "max" in kwargs:
        a_max = kwargs.pop("max")
    if out is not None:
        raise TypeError("dualrev: clip of a traced value takes no out= argument")
    result = a
    if a_min is not None:
        result = maximum(result, a_min)
    if a_max is not None:
        result = minimum(result, a_max)
    return result


def _safe_ratio(numerator, denominator):
    """numerator / denominator with 0 where the denominator is exactly 0
    (the convention of hypot and arctan2 at the origin)."""
    zero = concrete(denominator) == 0
    if not np.any(zero):
        return numerator / denominator
    return where(zero, 0.0, numerator / where(zero, 1.0, denominator))


def _ones_like_value(ans):
    """A constant array of ones shaped like ``ans`` (a local derivative of 1)."""
    value = concrete(ans)
    return np.ones(np.shape(value), dtype=np.result_type(value, np.float16))


# arctan2(y, x) = angle of (x, y): ∂/∂y = x / (x² + y²), ∂/∂x = −y / (x² + y²);
# 0 at the origin (where the angle jumps).
arctan2 = _binary(
    np.arctan2,
    "arctan2",
    lambda ans, y, x: _safe_ratio(x, x * x + y * y),
    lambda ans, y, x: _safe_ratio(-y, x * x + y * y),
    _binary_samples("nonzero", "nonzero"),
)
# hypot(x, y) = √(x² + y²): ∂/∂x = x / hypot; 0 at the origin (the norm-at-0 convention).
hypot = _binary(
    np.hypot,
    "hypot",
    lambda ans, x, y: _safe_ratio(x, ans),
    lambda ans, x, y: _safe_ratio(y, ans),
    _binary_samples("nonzero", "nonzero"),
)
# logaddexp(x, y) = log(eˣ + eʸ): the partials are the softmax weights e^(x − ans), e^(y − ans).
logaddexp = _binary(
    np.logaddexp, "logaddexp", lambda ans, x, y: exp(x - ans), lambda ans, x, y: exp(y - ans), _binary_samples()
)
logaddexp2 = _binary(
    np.logaddexp2, "logaddexp2", lambda ans, x, y: exp2(x - ans), lambda ans, x, y: exp2(y - ans), _binary_samples()
)
# mod(x, y) = x − floor(x / y)·y and fmod(x, y) = x − trunc(x / y)·y. Between
# the jumps ∂/∂x = 1 and ∂/∂y = −floor(x / y) (−trunc for fmod); at a jump we
# take the one-sided derivative of the branch NumPy returns (the jump itself,
# like floor's, contributes 0).
remainder = _binary(
    np.remainder,
    "remainder",
    lambda ans, x, y: _ones_like_value(ans),
    lambda ans, x, y: -floor(x / y),
    _binary_samples("real", "nonzero"),
)
mod = remainder
fmod = _binary(
    np.fmod,
    "fmod",
    lambda ans, x, y: _ones_like_value(ans),
    lambda ans, x, y: -trunc(x / y),
    _binary_samples("real", "nonzero"),
)


# floor_divide(x, y) = floor(x / y) is piecewise constant (derivative 0);
# divmod is (floor_divide, remainder), so the remainder keeps its derivative.
def floor_divide(x: Any, y: Any) -> Any:
    """``x // y`` on traced values: the plain result (derivative 0 between jumps)."""
    return np.floor_divide(concrete(x), concrete(y))


@numpy_ufunc(np.divmod)
def divmod_(x: Any, y: Any) -> tuple[Any, Any]:
    """``np.divmod`` / ``divmod``: ``(x // y, x % y)``, the remainder differentiable."""
    return floor_divide(x, y), remainder(x, y)


# heaviside(x, h) is 0 for x < 0, h at x == 0 and 1 for x > 0 (NaN at NaN):
# derivative 0 in x (a step), (x == 0) in h.
@numpy_ufunc(np.heaviside)
def heaviside(x: Any, h: Any) -> Any:
    """``np.heaviside``: differentiable in ``h`` where ``x == 0``."""
    plain = concrete(x)
    return where(plain == 0, h, np.heaviside(plain, 0.0))  # NaN stays NaN


__all__ = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "power",
    "float_power",
    "maximum",
    "minimum",
    "fmax",
    "fmin",
    "clip",
    "arctan2",
    "hypot",
    "logaddexp",
    "logaddexp2",
    "remainder",
    "mod",
    "fmod",
]
