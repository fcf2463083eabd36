"""Unary elementwise functions (and the SciPy special functions among them).

An elementwise op has a *diagonal* local Jacobian: output ``i`` depends on
input ``i`` only. Both rules are therefore the same product with the local
derivative ``f'(x)``: JVP ``ẏ = f'(x) · ẋ`` and VJP ``x̄ = f'(x) · ȳ`` — O(D)
work, never the D×D matrix (seed 001 §4.1). Each local derivative is written
with dualrev.numpy, so second derivatives come for free; constants are
Python floats so that float32 stays float32.

Conventions at kinks (documented in DESIGN.md and tested): ``abs'(0) = 0``,
``relu'(0) = 0``; ``sign``, ``floor``, ``ceil``, ``round``, ``rint``,
``trunc`` have derivative 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special

from ...core import Primitive, Tracer, concrete, dtype_of, nondiff, shape_of
from .base import Sample, register, sample_arrays, shape_samples
from .indexing import where, where_p
from .overrides import EntryPoint, fallback, numpy_function, numpy_ufunc, ufunc_entry


def _unary_samples(domain: str, *shapes: tuple) -> Callable:
    return lambda rng: [Sample(sample_arrays(rng, domain, s)) for s in shapes]


def _unary(
    impl: Callable,
    name: str,
    derivative: Callable | None = None,
    domain: str = "real",
    *,
    times_derivative: Callable | None = None,
    vjp_reads: tuple[str, ...] | None = None,
    overrides: tuple = (),
) -> EntryPoint:
    """The entry point of a unary elementwise primitive, from its local
    derivative ``derivative(ans, x)``; it overrides ``impl`` when that is a
    ufunc (``np.sin``, ``scipy.special.erf``) and the callables in ``overrides``.

    The local Jacobian is diagonal, so the JVP and the VJP are the same
    product ``t · f'(x)``: one function serves as both rules. The hottest
    functions pass that product written out as ``times_derivative(t, ans, x)``
    — one Python frame per rule application instead of two (rule, then
    derivative), which is most of the cost of an op on a small array.
    """
    if times_derivative is None:
        assert derivative is not None
        local = derivative
        times_derivative = lambda t, ans, x: t * local(ans, x)
    prim = register(
        impl,
        name,
        structure="diagonal",
        jvp=(times_derivative,),
        vjp=(times_derivative,),
        vjp_reads=vjp_reads,
        samples=_unary_samples(domain, (3,), (2, 3)),
    )
    return ufunc_entry(prim, 1, *((impl,) if isinstance(impl, np.ufunc) else ()), *overrides)


def _zero(t, ans, *args, **kwargs):
    """The rule of a piecewise-constant op: derivative 0 wherever it exists."""
    return np.zeros(shape_of(t), dtype=dtype_of(t))


def _zero_derivative(ufunc: np.ufunc, name: str, domain: str = "real") -> EntryPoint:
    prim = register(ufunc, name, structure="diagonal", jvp=(_zero,), vjp=(_zero,), samples=_unary_samples(domain, (4,)))
    return ufunc_entry(prim, 1, ufunc)


def _relu_impl(x):
    return np.maximum(x, 0)


sin = _unary(np.sin, "sin", times_derivative=lambda t, ans, x: t * cos(x), vjp_reads=("args",))
cos: EntryPoint = _unary(np.cos, "cos", times_derivative=lambda t, ans, x: t * -sin(x), vjp_reads=("args",))
tan = _unary(np.tan, "tan", lambda ans, x: 1 + ans * ans, domain="small", vjp_reads=("ans",))
arctan = _unary(np.arctan, "arctan", lambda ans, x: 1 / (1 + x * x), vjp_reads=("args",))
sinh = _unary(np.sinh, "sinh", lambda ans, x: cosh(x), vjp_reads=("args",))
cosh: EntryPoint = _unary(np.cosh, "cosh", lambda ans, x: sinh(x), vjp_reads=("args",))
tanh = _unary(np.tanh, "tanh", times_derivative=lambda t, ans, x: t * (1 - ans * ans), vjp_reads=("ans",))
exp = _unary(np.exp, "exp", times_derivative=lambda t, ans, x: t * ans, vjp_reads=("ans",))
expm1 = _unary(np.expm1, "expm1", lambda ans, x: ans + 1, vjp_reads=("ans",))
log = _unary(np.log, "log", domain="positive", times_derivative=lambda t, ans, x: t * (1 / x), vjp_reads=("args",))
log1p = _unary(np.log1p, "log1p", lambda ans, x: 1 / (1 + x), domain="above_minus_one", vjp_reads=("args",))
sqrt = _unary(
    np.sqrt, "sqrt", domain="positive", times_derivative=lambda t, ans, x: t * (0.5 / ans), vjp_reads=("ans",)
)
sigmoid = _unary(
    scipy.special.expit, "sigmoid", times_derivative=lambda t, ans, x: t * (ans * (1 - ans)), vjp_reads=("ans",)
)
sigmoid.__doc__ = sigmoid.primitive.__doc__ = (
    "Logistic sigmoid 1 / (1 + exp(-x)); derivative σ(x)(1 − σ(x)) (seed 000 §3)."
)
# ``x > 0`` is a plain boolean array for tracers too (comparisons drop the derivative).
relu = _unary(_relu_impl, "relu", domain="nonzero", times_derivative=lambda t, ans, x: t * (x > 0))
relu.__doc__ = relu.primitive.__doc__ = (
    "max(x, 0); derivative Θ(x), the Heaviside step, with relu'(0) = 0 (seed 001 eq. 42)."
)
sign = _zero_derivative(np.sign, "sign", domain="nonzero")
absolute = _unary(np.absolute, "absolute", lambda ans, x: sign(x), domain="nonzero")
abs = absolute  # noqa: A001 - NumPy's name
floor = _zero_derivative(np.floor, "floor")
ceil = _zero_derivative(np.ceil, "ceil")
rint = _zero_derivative(np.rint, "rint")
trunc = _zero_derivative(np.trunc, "trunc")


def _negative_impl(x):
    return np.negative(x)


negative = ufunc_entry(
    register(
        _negative_impl,
        "negative",
        structure="diagonal",
        jvp=(lambda t, ans, x: -t,),
        vjp=(lambda g, ans, x: -g,),
        vjp_reads=(),
        samples=_unary_samples("real", (3,)),
    ),
    1,
    np.negative,
)

round_p: Primitive = register(
    lambda x, decimals=0: np.round(x, decimals=decimals),
    "round",
    structure="diagonal",
    jvp=(_zero,),
    vjp=(_zero,),
    samples=_unary_samples("real", (4,)),
)


@numpy_function(np.round, np.around)
def round(a: Any, decimals: int = 0, out: Any = None) -> Any:  # noqa: A001 - NumPy's name
    return round_p(a, decimals=decimals)


around = round


@numpy_ufunc(np.positive, np.conjugate)
def positive(x: Any) -> Any:
    """The identity (also ``np.conjugate``: values are real)."""
    return x


@numpy_ufunc(np.square)
def square(x: Any) -> Any:
    return x * x


@numpy_ufunc(np.reciprocal)
def reciprocal(x: Any) -> Any:
    return 1 / x


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
polygamma_p: Primitive = register(
    _polygamma_impl,
    "polygamma",
    structure="diagonal",
    jvp=(lambda t, ans, x, *, n: t * polygamma_p(x, n=n + 1),),
    vjp=(lambda g, ans, x, *, n: g * polygamma_p(x, n=n + 1),),
    samples=lambda rng: [Sample(sample_arrays(rng, "positive", (3,)), {"n": 1})],
)
gammaln = _unary(scipy.special.gammaln, "gammaln", lambda ans, x: digamma(x), domain="positive")
digamma: EntryPoint = _unary(scipy.special.digamma, "digamma", lambda ans, x: polygamma_p(x, n=1), domain="positive")
psi = digamma
expit = sigmoid


@fallback(scipy.special.polygamma)
def polygamma(n: Any, x: Any) -> Any:
    """``scipy.special.polygamma(n, x)``, differentiable in ``x`` (``n`` is a static int)."""
    return polygamma_p(x, n=int(n))


def _sinc_derivative(ans, x):
    """sinc(x) = sin(πx)/(πx): sinc'(x) = (cos(πx) − sinc(x)) / x, and 0 at x = 0
    (the limit; sinc is even)."""
    zero = concrete(x) == 0
    if not np.any(zero):
        return (cos(np.pi * x) - ans) / x
    safe_x = where(zero, 1.0, x)
    return where(zero, 0.0, (cos(np.pi * safe_x) - sinc(safe_x)) / safe_x)


sinc: EntryPoint = _unary(np.sinc, "sinc", _sinc_derivative, overrides=(np.sinc,))


@numpy_ufunc(np.fabs)
def fabs(x: Any) -> Any:
    """``np.fabs`` = ``absolute`` on real input (fabs'(0) = 0)."""
    return absolute(x)


@numpy_ufunc(np.deg2rad, np.radians)
def deg2rad(x: Any) -> Any:
    return x * float(np.pi / 180.0)


@numpy_ufunc(np.rad2deg, np.degrees)
def rad2deg(x: Any) -> Any:
    return x * float(180.0 / np.pi)


radians = deg2rad
degrees = rad2deg


@numpy_function(np.nan_to_num)
def nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> Any:
    """``np.nan_to_num``: derivative 1 at finite entries, 0 at replaced ones."""
    value = concrete(x)
    finite = np.isfinite(value)
    if np.all(finite):
        return x
    return where_p(finite, x, np.nan_to_num(value, nan=nan, posinf=posinf, neginf=neginf))


def safe_sqrt(value: Any) -> Any:
    """√value with derivative 0 (not inf·0 = NaN) where value == 0: the
    subgradient of std and of the norms at constant data / the zero vector."""
    zero = nondiff(np.equal, value, 0)
    # A traced mask (the recording of a replay, which must not branch on values) takes the general form.
    if not isinstance(zero, Tracer) and not np.any(zero):
        return sqrt(value)
    return where(zero, 0.0, sqrt(where(zero, 1.0, value)))


def _cast_impl(x, *, dtype):
    return np.asarray(x).astype(dtype) if np.ndim(x) else dtype.type(x)


# Casting between float dtypes is linear (the identity on values); its
# transpose casts the cotangent back to the input's dtype. ``x.astype`` of a
# traced value.
astype_p: Primitive = register(
    _cast_impl,
    "astype",
    structure="diagonal",
    linear=(lambda g, ans, x, *, dtype: astype_p(g, dtype=dtype_of(x)),),
    samples=shape_samples(((3,), {"dtype": np.dtype(np.float64)})),
)


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
    "nan_to_num",
]
