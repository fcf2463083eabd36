"""Elementwise math: unary functions and broadcasting binary operators.

An elementwise op has a *diagonal* local Jacobian: output ``i`` depends on
input ``i`` only. Both rules are therefore the same product with the local
derivative ``f'(x)``: JVP ``ẏ = f'(x) · ẋ`` and VJP ``x̄ = f'(x) · ȳ`` — O(D)
work, never the D×D matrix (seed 001 §4.1).

Conventions at kinks (documented in DESIGN.md and tested):

* ``abs'(0) = 0``, ``relu'(0) = 0``; ``sign``, ``floor``, ``ceil``, ``round``,
  ``rint``, ``trunc`` have derivative 0.
* ``maximum``/``minimum`` at a tie give each argument half: the weights sum
  to 1, so the derivative of ``maximum(x, x)`` is exactly 1.
* ``x ** 0`` has derivative 0 in ``x`` (also at ``x = 0``) and ``0 ** y`` has
  derivative 0 in ``y``, never NaN.
"""

from __future__ import annotations

import numpy as np
import scipy.special

from ..core import Tracer, concrete, defjvp, defvjp, dtype_of, shape_of
from ._helpers import Sample, expand_rank, expand_tangent, register, sample_arrays, samples, unbroadcast

# ------------------------------------------------------------ unary functions


def _unary(impl, name, derivative=None, domain="real", kink_free=True, *, times_derivative=None):
    """A unary elementwise primitive from its local derivative ``derivative(ans, x)``.

    The local Jacobian is diagonal, so the JVP and the VJP are the same
    product ``t · f'(x)``: one function serves as both rules. The hottest
    functions pass that product written out as ``times_derivative(t, ans, x)``
    — one Python frame per rule application instead of two (rule, then
    derivative), which is most of the cost of an op on a small array.
    """
    prim = register(impl, name)
    if times_derivative is None:
        times_derivative = lambda t, ans, x: t * derivative(ans, x)  # noqa: E731
    defjvp(prim, times_derivative)
    defvjp(prim, times_derivative)
    samples(prim, lambda rng: [Sample(sample_arrays(rng, domain, (3,))), Sample(sample_arrays(rng, domain, (2, 3)))])
    return prim


def _zero_derivative(impl, name, domain="real"):
    """An op that is piecewise constant: its derivative is 0 wherever it exists."""
    prim = register(impl, name)
    defjvp(prim, lambda t, ans, x, **kw: np.zeros(shape_of(t), dtype=dtype_of(t)))
    defvjp(prim, lambda g, ans, x, **kw: np.zeros(shape_of(g), dtype=dtype_of(g)))
    samples(prim, lambda rng: [Sample(sample_arrays(rng, domain, (4,)))])
    return prim


def _relu_impl(x):
    return np.maximum(x, 0)


sin = _unary(np.sin, "sin", times_derivative=lambda t, ans, x: t * cos(x))
cos = _unary(np.cos, "cos", times_derivative=lambda t, ans, x: t * -sin(x))
tan = _unary(np.tan, "tan", lambda ans, x: 1 + ans * ans, domain="small")
arctan = _unary(np.arctan, "arctan", lambda ans, x: 1 / (1 + x * x))
sinh = _unary(np.sinh, "sinh", lambda ans, x: cosh(x))
cosh = _unary(np.cosh, "cosh", lambda ans, x: sinh(x))
tanh = _unary(np.tanh, "tanh", times_derivative=lambda t, ans, x: t * (1 - ans * ans))
exp = _unary(np.exp, "exp", times_derivative=lambda t, ans, x: t * ans)
expm1 = _unary(np.expm1, "expm1", lambda ans, x: ans + 1)
log = _unary(np.log, "log", domain="positive", times_derivative=lambda t, ans, x: t * (1 / x))
log1p = _unary(np.log1p, "log1p", lambda ans, x: 1 / (1 + x), domain="above_minus_one")
sqrt = _unary(np.sqrt, "sqrt", domain="positive", times_derivative=lambda t, ans, x: t * (0.5 / ans))
sigmoid = _unary(scipy.special.expit, "sigmoid", times_derivative=lambda t, ans, x: t * (ans * (1 - ans)))
sigmoid.__doc__ = "Logistic sigmoid 1 / (1 + exp(-x)); derivative σ(x)(1 − σ(x)) (seed 000 §3)."
# ``x > 0`` is a plain boolean array for tracers too (comparisons drop the derivative).
relu = _unary(_relu_impl, "relu", domain="nonzero", times_derivative=lambda t, ans, x: t * (x > 0))
relu.__doc__ = "max(x, 0); derivative Θ(x), the Heaviside step, with relu'(0) = 0 (seed 001 eq. 42)."
sign = _zero_derivative(np.sign, "sign", domain="nonzero")
absolute = _unary(np.absolute, "absolute", lambda ans, x: sign(x), domain="nonzero")
abs = absolute
floor = _zero_derivative(np.floor, "floor")
ceil = _zero_derivative(np.ceil, "ceil")
rint = _zero_derivative(np.rint, "rint")
trunc = _zero_derivative(np.trunc, "trunc")


def _negative_impl(x):
    return np.negative(x)


negative = register(_negative_impl, "negative")
defjvp(negative, lambda t, ans, x: -t)
defvjp(negative, lambda g, ans, x: -g)
samples(negative, lambda rng: [Sample(sample_arrays(rng, "real", (3,)))])


def round(a, decimals=0, out=None):  # noqa: A001 - NumPy's name
    if not isinstance(a, Tracer):
        return np.round(a, decimals=decimals, out=out)
    return _round_p(a, decimals=decimals)


_round_p = _zero_derivative(lambda x, decimals=0: np.round(x, decimals=decimals), "round")
around = round


def positive(x):
    return x


# ------------------------------------------------------ binary (broadcasting)


def _binary_samples(domain_x="real", domain_y="real"):
    def make(rng):
        return [
            Sample(sample_arrays(rng, domain_x, (2, 3)) + sample_arrays(rng, domain_y, (2, 3))),
            Sample(sample_arrays(rng, domain_x, (3,)) + sample_arrays(rng, domain_y, (2, 3))),
            Sample(sample_arrays(rng, domain_x, (2, 1)) + sample_arrays(rng, domain_y, ())),
        ]

    return make


# The four arithmetic operators are the most frequent ops in any program, so
# their rules inline the common case — the argument was not broadcast, so the
# (co)tangent needs no reshaping — and call the broadcasting helpers only
# otherwise. The argument a rule is for is always traced, so it has ``.shape``;
# the other argument may be a Python number.

add = register(np.add, "add")


def _add_jvp_x(t, ans, x, y):
    return t if x.shape == ans.shape else expand_tangent(t, x, ans)


def _add_jvp_y(t, ans, x, y):
    return t if y.shape == ans.shape else expand_tangent(t, y, ans)


def _add_vjp_x(g, ans, x, y):
    return g if g.shape == x.shape else unbroadcast(g, x, ans)


def _add_vjp_y(g, ans, x, y):
    return g if g.shape == y.shape else unbroadcast(g, y, ans)


defjvp(add, _add_jvp_x, _add_jvp_y)
defvjp(add, _add_vjp_x, _add_vjp_y)
samples(add, _binary_samples())

subtract = register(np.subtract, "subtract")
defjvp(subtract, _add_jvp_x, lambda t, ans, x, y: -_add_jvp_y(t, ans, x, y))
defvjp(subtract, _add_vjp_x, lambda g, ans, x, y: -_add_vjp_y(g, ans, x, y))
samples(subtract, _binary_samples())


def _same_rank(t, x, ans):
    """``expand_rank`` with its no-op case inlined."""
    return t if x.ndim == ans.ndim else expand_rank(t, x, ans)


# Product rule: d(xy) = ẋ y + x ẏ.
multiply = register(np.multiply, "multiply")


def _multiply_vjp_x(g, ans, x, y):
    ct = g * y
    return ct if ct.shape == x.shape else unbroadcast(ct, x, ans)


def _multiply_vjp_y(g, ans, x, y):
    ct = x * g
    return ct if ct.shape == y.shape else unbroadcast(ct, y, ans)


defjvp(multiply, lambda t, ans, x, y: _same_rank(t, x, ans) * y, lambda t, ans, x, y: x * _same_rank(t, y, ans))
defvjp(multiply, _multiply_vjp_x, _multiply_vjp_y)
samples(multiply, _binary_samples())

# Quotient rule: d(x/y) = ẋ / y − (x/y) ẏ / y.
divide = register(np.true_divide, "divide")


def _divide_vjp_x(g, ans, x, y):
    ct = g / y
    return ct if ct.shape == x.shape else unbroadcast(ct, x, ans)


def _divide_vjp_y(g, ans, x, y):
    ct = -g * ans / y
    return ct if ct.shape == y.shape else unbroadcast(ct, y, ans)


defjvp(
    divide,
    lambda t, ans, x, y: _same_rank(t, x, ans) / y,
    lambda t, ans, x, y: -_same_rank(t, y, ans) * ans / y,
)
defvjp(divide, _divide_vjp_x, _divide_vjp_y)
samples(divide, _binary_samples("real", "nonzero"))
true_divide = divide


def _power_dx(ans, x, y):
    """∂(x**y)/∂x = y x**(y−1), with the x**0 convention: 0 (never 0·inf)."""
    if not isinstance(y, (np.ndarray, Tracer)):
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


power = register(np.power, "power")
defjvp(
    power,
    lambda t, ans, x, y: expand_rank(t, x, ans) * _power_dx(ans, x, y),
    lambda t, ans, x, y: expand_rank(t, y, ans) * _power_dy(ans, x, y),
)
defvjp(
    power,
    lambda g, ans, x, y: unbroadcast(g * _power_dx(ans, x, y), x, ans),
    lambda g, ans, x, y: unbroadcast(g * _power_dy(ans, x, y), y, ans),
)
samples(power, _binary_samples("positive", "real"))


def _tie_weight(x, y, first_wins):
    """How much of the derivative of maximum/minimum goes to ``x``: 1 where
    ``x`` wins, 0 where it loses, 1/2 at a tie (the weights of x and y sum to 1)."""
    x, y = concrete(x), concrete(y)
    wins = first_wins(x, y)
    weight = wins + 0.5 * (x == y)
    return weight.astype(np.result_type(x, y, np.float16))


def _binary_prim(impl, name, dx, dy, make_samples):
    """A broadcasting binary primitive from its two partial derivatives
    ``dx(ans, x, y)`` and ``dy(ans, x, y)`` (full-shape or broadcastable)."""
    prim = register(impl, name)
    defjvp(
        prim,
        lambda t, ans, x, y: expand_rank(t, x, ans) * dx(ans, x, y),
        lambda t, ans, x, y: expand_rank(t, y, ans) * dy(ans, x, y),
    )
    defvjp(
        prim,
        lambda g, ans, x, y: unbroadcast(g * dx(ans, x, y), x, ans),
        lambda g, ans, x, y: unbroadcast(g * dy(ans, x, y), y, ans),
    )
    samples(prim, make_samples)
    return prim


def _minmax(impl, name, first_wins):
    return _binary_prim(
        impl,
        name,
        lambda ans, x, y: _tie_weight(x, y, first_wins),
        lambda ans, x, y: _tie_weight(y, x, first_wins),
        _binary_samples(),
    )


maximum = _minmax(np.maximum, "maximum", np.greater)
minimum = _minmax(np.minimum, "minimum", np.less)


def _where_impl(condition, x, y):
    return np.where(condition, x, y)


where_p = register(_where_impl, "where")
defjvp(
    where_p,
    None,
    lambda t, ans, c, x, y: where_p(c, expand_tangent(t, x, ans), 0),
    lambda t, ans, c, x, y: where_p(c, 0, expand_tangent(t, y, ans)),
)
defvjp(
    where_p,
    None,
    lambda g, ans, c, x, y: unbroadcast(where_p(c, g, 0), x, ans),
    lambda g, ans, c, x, y: unbroadcast(where_p(c, 0, g), y, ans),
)
samples(
    where_p,
    lambda rng: [
        Sample((rng.standard_normal((2, 3)) > 0, *sample_arrays(rng, "real", (2, 3), (3,)))),
        Sample((rng.standard_normal((3,)) > 0, *sample_arrays(rng, "real", (2, 1), ()))),
    ],
)


def where(condition, x=None, y=None):
    """``np.where``; differentiable in ``x`` and ``y`` (the condition is a constant)."""
    if x is None and y is None:
        return np.where(concrete(condition))
    return where_p(concrete(condition), x, y)


def clip(a, a_min=None, a_max=None, out=None, **kwargs):
    """``np.clip`` as ``minimum(maximum(a, a_min), a_max)``: derivative 1 strictly
    inside the interval, 0 outside, 1/2 exactly on a bound (the tie convention),
    and the bounds themselves are differentiable."""
    if "min" in kwargs:
        a_min = kwargs.pop("min")
    if "max" in kwargs:
        a_max = kwargs.pop("max")
    if not any(isinstance(v, Tracer) for v in (a, a_min, a_max)):
        return np.clip(a, a_min, a_max, out=out, **kwargs)
    if out is not None:
        raise TypeError("dualrev: clip of a traced value takes no out= argument")
    result = a
    if a_min is not None:
        result = maximum(result, a_min)
    if a_max is not None:
        result = minimum(result, a_max)
    return result


def square(x):
    return x * x


def reciprocal(x):
    return 1 / x


# ------------------------------------------- more unary functions (issue 5)
# Each local derivative is written with dualrev.numpy, so second derivatives
# come for free. Constants are Python floats so that float32 stays float32.

_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))
_TWO_OVER_SQRT_PI = float(2.0 / np.sqrt(np.pi))

arcsin = _unary(np.arcsin, "arcsin", lambda ans, x: 1 / sqrt(1 - x * x), domain="unit")
arccos = _unary(np.arccos, "arccos", lambda ans, x: -1 / sqrt(1 - x * x), domain="unit")
arcsinh = _unary(np.arcsinh, "arcsinh", lambda ans, x: 1 / sqrt(x * x + 1))
arccosh = _unary(np.arccosh, "arccosh", lambda ans, x: 1 / sqrt(x * x - 1), domain="above_one")
arctanh = _unary(np.arctanh, "arctanh", lambda ans, x: 1 / (1 - x * x), domain="unit")
exp2 = _unary(np.exp2, "exp2", lambda ans, x: ans * _LN2)
log2 = _unary(np.log2, "log2", lambda ans, x: 1 / (x * _LN2), domain="positive")
log10 = _unary(np.log10, "log10", lambda ans, x: 1 / (x * _LN10), domain="positive")
# cbrt'(x) = 1 / (3 cbrt(x)²): infinite at 0 (a genuine vertical tangent).
cbrt = _unary(np.cbrt, "cbrt", lambda ans, x: 1 / (3 * ans * ans), domain="nonzero")
erf = _unary(scipy.special.erf, "erf", lambda ans, x: _TWO_OVER_SQRT_PI * exp(-x * x))
erfc = _unary(scipy.special.erfc, "erfc", lambda ans, x: -_TWO_OVER_SQRT_PI * exp(-x * x))
logit = _unary(scipy.special.logit, "logit", lambda ans, x: 1 / (x * (1 - x)), domain="probability")


def _polygamma_impl(x, *, n):
    return scipy.special.polygamma(n, x).astype(dtype_of(x), copy=False)


# ψ⁽ⁿ⁾ with the order n static: d/dx ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁺¹⁾(x), so every derivative
# of gammaln / digamma stays inside this one primitive.
polygamma_p = register(_polygamma_impl, "polygamma")
defjvp(polygamma_p, lambda t, ans, x, *, n: t * polygamma_p(x, n=n + 1))
defvjp(polygamma_p, lambda g, ans, x, *, n: g * polygamma_p(x, n=n + 1))
samples(polygamma_p, lambda rng: [Sample(sample_arrays(rng, "positive", (3,)), {"n": 1})])
gammaln = _unary(scipy.special.gammaln, "gammaln", lambda ans, x: digamma(x), domain="positive")
digamma = _unary(scipy.special.digamma, "digamma", lambda ans, x: polygamma_p(x, n=1), domain="positive")
psi = digamma


def polygamma(n, x):
    """``scipy.special.polygamma(n, x)``, differentiable in ``x`` (``n`` is a static int)."""
    if not isinstance(x, Tracer):
        return scipy.special.polygamma(n, x)
    return polygamma_p(x, n=int(n))


def _sinc_derivative(ans, x):
    """sinc(x) = sin(πx)/(πx): sinc'(x) = (cos(πx) − sinc(x)) / x, and 0 at x = 0
    (the limit; sinc is even)."""
    zero = concrete(x) == 0
    if not np.any(zero):
        return (cos(np.pi * x) - ans) / x
    safe_x = where(zero, 1.0, x)
    return where(zero, 0.0, (cos(np.pi * safe_x) - sinc(safe_x)) / safe_x)


sinc = _unary(np.sinc, "sinc", _sinc_derivative)


def fabs(x):
    """``np.fabs`` = ``absolute`` on real input (fabs'(0) = 0)."""
    return absolute(x)


def deg2rad(x):
    return x * float(np.pi / 180.0)


def rad2deg(x):
    return x * float(180.0 / np.pi)


radians = deg2rad
degrees = rad2deg


def expit(x):
    """The logistic sigmoid (``scipy.special.expit``)."""
    return sigmoid(x)


def float_power(x, y):
    """``np.float_power``: ``power`` computed in float64 (at least)."""
    if not (isinstance(x, Tracer) or isinstance(y, Tracer)):
        return np.float_power(x, y)
    cast = lambda v: v.astype(np.float64) if isinstance(v, Tracer) and dtype_of(v) != np.float64 else v  # noqa: E731
    return power(cast(x), cast(y) if isinstance(y, Tracer) else np.asarray(y, dtype=np.float64))


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """``np.nan_to_num``: derivative 1 at finite entries, 0 at replaced ones."""
    if not isinstance(x, Tracer):
        return np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    value = concrete(x)
    finite = np.isfinite(value)
    if np.all(finite):
        return x
    return where_p(finite, x, np.nan_to_num(value, nan=nan, posinf=posinf, neginf=neginf))


# ------------------------------------------ more binary functions


def _safe_ratio(numerator, denominator):
    """numerator / denominator with 0 where the denominator is exactly 0
    (the convention of hypot and arctan2 at the origin)."""
    zero = concrete(denominator) == 0
    if not np.any(zero):
        return numerator / denominator
    return where(zero, 0.0, numerator / where(zero, 1.0, denominator))


# arctan2(y, x) = angle of (x, y): ∂/∂y = x / (x² + y²), ∂/∂x = −y / (x² + y²);
# 0 at the origin (where the angle jumps).
arctan2 = _binary_prim(
    np.arctan2,
    "arctan2",
    lambda ans, y, x: _safe_ratio(x, x * x + y * y),
    lambda ans, y, x: _safe_ratio(-y, x * x + y * y),
    _binary_samples("nonzero", "nonzero"),
)
# hypot(x, y) = √(x² + y²): ∂/∂x = x / hypot; 0 at the origin (the norm-at-0 convention).
hypot = _binary_prim(
    np.hypot,
    "hypot",
    lambda ans, x, y: _safe_ratio(x, ans),
    lambda ans, x, y: _safe_ratio(y, ans),
    _binary_samples("nonzero", "nonzero"),
)
# logaddexp(x, y) = log(eˣ + eʸ): the partials are the softmax weights e^(x − ans), e^(y − ans).
logaddexp = _binary_prim(
    np.logaddexp,
    "logaddexp",
    lambda ans, x, y: exp(x - ans),
    lambda ans, x, y: exp(y - ans),
    _binary_samples(),
)
logaddexp2 = _binary_prim(
    np.logaddexp2,
    "logaddexp2",
    lambda ans, x, y: exp2(x - ans),
    lambda ans, x, y: exp2(y - ans),
    _binary_samples(),
)
# mod(x, y) = x − floor(x / y)·y and fmod(x, y) = x − trunc(x / y)·y. Between
# the jumps ∂/∂x = 1 and ∂/∂y = −floor(x / y) (−trunc for fmod); at a jump we
# take the one-sided derivative of the branch NumPy returns (the jump itself,
# like floor's, contributes 0).
remainder = _binary_prim(
    np.remainder,
    "remainder",
    lambda ans, x, y: ones_like_value(ans),
    lambda ans, x, y: -floor(x / y),
    _binary_samples("real", "nonzero"),
)
mod = remainder
fmod = _binary_prim(
    np.fmod,
    "fmod",
    lambda ans, x, y: ones_like_value(ans),
    lambda ans, x, y: -trunc(x / y),
    _binary_samples("real", "nonzero"),
)


def ones_like_value(ans):
    """A constant array of ones shaped like ``ans`` (a local derivative of 1)."""
    value = concrete(ans)
    return np.ones(np.shape(value), dtype=np.result_type(value, np.float16))


def _nan_tie_weight(x, y, first_wins):
    """fmax/fmin: like maximum/minimum, but a NaN loses to a number (weight 0
    for the NaN, 1 for the number); both NaN gives NaN (weight 1/2 each, as a tie)."""
    x, y = concrete(x), concrete(y)
    x_nan, y_nan = np.isnan(x), np.isnan(y)
    weight = first_wins(x, y) + 0.5 * (x == y)
    weight = np.where(y_nan & ~x_nan, 1.0, np.where(x_nan & ~y_nan, 0.0, weight))
    weight = np.where(x_nan & y_nan, 0.5, weight)
    return weight.astype(np.result_type(x, y, np.float16))


fmax = _binary_prim(
    np.fmax,
    "fmax",
    lambda ans, x, y: _nan_tie_weight(x, y, np.greater),
    lambda ans, x, y: _nan_tie_weight(y, x, np.greater),
    _binary_samples(),
)
fmin = _binary_prim(
    np.fmin,
    "fmin",
    lambda ans, x, y: _nan_tie_weight(x, y, np.less),
    lambda ans, x, y: _nan_tie_weight(y, x, np.less),
    _binary_samples(),
)


# What the VJP rules read: reverse mode keeps only that on its tape (the rest
# by shape alone), so tanh(x @ W) stores one array per layer, not two. Every
# declaration is checked registry-wide in tests/test_engine_internals.py.
for _prim in (tan, tanh, exp, expm1, sqrt, sigmoid):
    _prim.vjp_reads = ("ans",)
for _prim in (sin, cos, sinh, cosh, arctan, log, log1p, multiply):
    _prim.vjp_reads = ("args",)
for _prim in (add, subtract, negative):
    _prim.vjp_reads = ()
del _prim


__all__ = [
    "sin",
    "cos",
    "tan",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "exp",
    "expm1",
    "log",
    "log1p",
    "sqrt",
    "sigmoid",
    "relu",
    "sign",
    "absolute",
    "abs",
    "floor",
    "ceil",
    "rint",
    "trunc",
    "round",
    "around",
    "negative",
    "positive",
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "power",
    "maximum",
    "minimum",
    "where",
    "clip",
    "square",
    "reciprocal",
    "arcsin",
    "arccos",
    "arcsinh",
    "arccosh",
    "arctanh",
    "exp2",
    "log2",
    "log10",
    "cbrt",
    "sinc",
    "fabs",
    "deg2rad",
    "rad2deg",
    "radians",
    "degrees",
    "float_power",
    "nan_to_num",
    "arctan2",
    "hypot",
    "logaddexp",
    "logaddexp2",
    "remainder",
    "mod",
    "fmod",
    "fmax",
    "fmin",
]
