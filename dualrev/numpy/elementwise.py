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


def _unary(impl, name, derivative, domain="real", kink_free=True):
    """A unary elementwise primitive from its local derivative ``derivative(ans, x)``."""
    prim = register(impl, name)
    defjvp(prim, lambda t, ans, x: t * derivative(ans, x))
    defvjp(prim, lambda g, ans, x: g * derivative(ans, x))
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


sin = _unary(np.sin, "sin", lambda ans, x: cos(x))
cos = _unary(np.cos, "cos", lambda ans, x: -sin(x))
tan = _unary(np.tan, "tan", lambda ans, x: 1 + ans * ans, domain="small")
arctan = _unary(np.arctan, "arctan", lambda ans, x: 1 / (1 + x * x))
sinh = _unary(np.sinh, "sinh", lambda ans, x: cosh(x))
cosh = _unary(np.cosh, "cosh", lambda ans, x: sinh(x))
tanh = _unary(np.tanh, "tanh", lambda ans, x: 1 - ans * ans)
exp = _unary(np.exp, "exp", lambda ans, x: ans)
expm1 = _unary(np.expm1, "expm1", lambda ans, x: ans + 1)
log = _unary(np.log, "log", lambda ans, x: 1 / x, domain="positive")
log1p = _unary(np.log1p, "log1p", lambda ans, x: 1 / (1 + x), domain="above_minus_one")
sqrt = _unary(np.sqrt, "sqrt", lambda ans, x: 0.5 / ans, domain="positive")
sigmoid = _unary(scipy.special.expit, "sigmoid", lambda ans, x: ans * (1 - ans))
sigmoid.__doc__ = "Logistic sigmoid 1 / (1 + exp(-x)); derivative σ(x)(1 − σ(x)) (seed 000 §3)."
relu = _unary(_relu_impl, "relu", lambda ans, x: concrete(x) > 0, domain="nonzero")
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


add = register(np.add, "add")
defjvp(add, lambda t, ans, x, y: expand_tangent(t, x, ans), lambda t, ans, x, y: expand_tangent(t, y, ans))
defvjp(add, lambda g, ans, x, y: unbroadcast(g, x, ans), lambda g, ans, x, y: unbroadcast(g, y, ans))
samples(add, _binary_samples())

subtract = register(np.subtract, "subtract")
defjvp(subtract, lambda t, ans, x, y: expand_tangent(t, x, ans), lambda t, ans, x, y: -expand_tangent(t, y, ans))
defvjp(subtract, lambda g, ans, x, y: unbroadcast(g, x, ans), lambda g, ans, x, y: unbroadcast(-g, y, ans))
samples(subtract, _binary_samples())

# Product rule: d(xy) = ẋ y + x ẏ.
multiply = register(np.multiply, "multiply")
defjvp(multiply, lambda t, ans, x, y: expand_rank(t, x, ans) * y, lambda t, ans, x, y: x * expand_rank(t, y, ans))
defvjp(multiply, lambda g, ans, x, y: unbroadcast(g * y, x, ans), lambda g, ans, x, y: unbroadcast(x * g, y, ans))
samples(multiply, _binary_samples())

# Quotient rule: d(x/y) = ẋ / y − (x/y) ẏ / y.
divide = register(np.true_divide, "divide")
defjvp(
    divide,
    lambda t, ans, x, y: expand_rank(t, x, ans) / y,
    lambda t, ans, x, y: -expand_rank(t, y, ans) * ans / y,
)
defvjp(
    divide,
    lambda g, ans, x, y: unbroadcast(g / y, x, ans),
    lambda g, ans, x, y: unbroadcast(-g * ans / y, y, ans),
)
samples(divide, _binary_samples("real", "nonzero"))
true_divide = divide


def _power_dx(ans, x, y):
    """∂(x**y)/∂x = y x**(y−1), with the x**0 convention: 0 (never 0·inf)."""
    if not isinstance(y, (np.ndarray, Tracer)):
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


def _minmax(impl, name, first_wins):
    prim = register(impl, name)
    defjvp(
        prim,
        lambda t, ans, x, y: expand_rank(t, x, ans) * _tie_weight(x, y, first_wins),
        lambda t, ans, x, y: expand_rank(t, y, ans) * _tie_weight(y, x, first_wins),
    )
    defvjp(
        prim,
        lambda g, ans, x, y: unbroadcast(g * _tie_weight(x, y, first_wins), x, ans),
        lambda g, ans, x, y: unbroadcast(g * _tie_weight(y, x, first_wins), y, ans),
    )
    samples(prim, _binary_samples())
    return prim


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
]
