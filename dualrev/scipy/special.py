"""``dualrev.scipy.special``: SciPy's special functions, differentiable.

Each function here is differentiable in every argument where the derivative
is a closed form (see ``DIFFERENTIABLE``); the primitives live in
``dualrev/numpy/_rules/unary.py`` (erf, erfc, expit, logit, gammaln, digamma,
polygamma) and ``_special_rules.py`` (the rest). Integer orders (``jn``,
``yn``, ``polygamma``, ``multigammaln``'s ``d``), the real order of the Bessel
functions and the shape parameters of the incomplete functions (``betainc``'s
``a`` and ``b``, ``gammainc``'s ``a``) are not differentiated: a traced value
there is an error naming the argument. Plain calls are SciPy's, unchanged, and
the SciPy ufuncs covered here also dispatch from ``scipy.special.f(tracer)``.
Every other ``scipy.special`` name passes through unchanged.
"""

from typing import Any as _Any

import numpy as _np
import scipy.special as _special
from scipy.special import *  # noqa: F403 - pass-through of the rest

from .. import numpy as _dnp
from ..core import concrete as _concrete
from ..core import shape_of as _shape_of
from ..numpy import nn as _nn
from ..numpy._rules import reductions as _reductions
from ..numpy._rules.base import ndim_of as _ndim_of
from ..numpy._rules.overrides import fallback as _fallback
from ..numpy._rules.overrides import override as _override
from ..numpy._rules.unary import digamma as digamma
from ..numpy._rules.unary import erf as erf
from ..numpy._rules.unary import erfc as erfc
from ..numpy._rules.unary import expit as expit
from ..numpy._rules.unary import gammaln as gammaln
from ..numpy._rules.unary import logit as logit
from ..numpy._rules.unary import polygamma_p as _polygamma_p
from ..numpy._rules.unary import psi as psi
from . import _special_rules as _rules
from ._special_rules import *  # noqa: F403
from ._special_rules import static_argument as _static


def _entry(plain: _Any, body: _Any) -> _Any:
    """``body`` with the fast path to ``plain`` and as its override on traced values."""
    wrapped = _fallback(plain)(body)
    wrapped.__name__ = wrapped.__qualname__ = plain.__name__
    wrapped.__doc__ = f"``scipy.special.{plain.__name__}``, differentiable (see the module docstring)."
    _override(wrapped, plain)
    return wrapped


def _order(name: str, argument: str, value: _Any, integer: bool = False, why: str = "") -> _Any:
    _static(f"scipy.special.{name}", argument, value, why or ("an integer order" if integer else "an order"))
    return value


@_fallback(_special.polygamma)
def polygamma(n: _Any, x: _Any) -> _Any:
    """ψ⁽ⁿ⁾(x), differentiable in ``x`` (``n`` is an integer order)."""
    _static("scipy.special.polygamma", "n", n, "an integer order")
    return _per_order(lambda x, k: _polygamma_p(x, n=int(k)), n, x)


@_fallback(_special.multigammaln)
def multigammaln(a: _Any, d: _Any) -> _Any:
    """log Γ_d(a) = d(d−1)/4 log π + Σⱼ gammaln(a − (j−1)/2), differentiable in ``a``."""
    _static("scipy.special.multigammaln", "d", d, "the integer dimension")
    _special.multigammaln(_concrete(a), d)  # SciPy's checks and errors
    d = int(d)
    out = d * (d - 1) / 4 * float(_np.log(_np.pi))
    for j in range(d):
        out = out + gammaln(a - j / 2)
    return out


def _bessel(kind: str, fn: str, v: _Any, x: _Any) -> _Any:
    _order(fn, "n" if fn in ("yn", "kn") else "v", v, integer=fn in ("yn", "kn"))
    integer = fn in ("yn", "kn")  # SciPy truncates their orders
    return _per_order(lambda x, k: _rules.bessel_p(x, kind=kind, v=float(int(k) if integer else k), fn=fn), v, x)


def _per_order(call: _Any, v: _Any, x: _Any) -> _Any:
    """``call(x, order)`` broadcast over an array of static orders."""
    orders = _np.asarray(v)
    if orders.ndim == 0:
        return call(x, orders)
    shape = _np.broadcast_shapes(orders.shape, _shape_of(x))
    x = _dnp.broadcast_to(x, shape)
    orders = _np.broadcast_to(orders, shape)
    flat = [call(x[i], orders[i]) for i in _np.ndindex(shape)]
    return _dnp.stack(flat).reshape(shape)


def _bessel_of_order(kind: str, fn: str) -> _Any:
    return _entry(getattr(_special, fn), lambda v, x: _bessel(kind, fn, v, x))


def _bessel_fixed(kind: str, fn: str, v: float) -> _Any:
    return _entry(getattr(_special, fn), lambda x: _rules.bessel_p(x, kind=kind, v=v, fn=fn))


jv = jn = _bessel_of_order("j", "jv")
yv = _bessel_of_order("y", "yv")
yn = _bessel_of_order("y", "yn")
iv = _bessel_of_order("i", "iv")
ive = _bessel_of_order("ive", "ive")
kv = _bessel_of_order("k", "kv")
kve = _bessel_of_order("kve", "kve")
kn = _bessel_of_order("k", "kn")
j0, j1 = _bessel_fixed("j", "j0", 0.0), _bessel_fixed("j", "j1", 1.0)
y0, y1 = _bessel_fixed("y", "y0", 0.0), _bessel_fixed("y", "y1", 1.0)
i0, i1 = _bessel_fixed("i", "i0", 0.0), _bessel_fixed("i", "i1", 1.0)
k0, k1 = _bessel_fixed("k", "k0", 0.0), _bessel_fixed("k", "k1", 1.0)
i0e, i1e = _bessel_fixed("ive", "i0e", 0.0), _bessel_fixed("ive", "i1e", 1.0)
k0e, k1e = _bessel_fixed("kve", "k0e", 0.0), _bessel_fixed("kve", "k1e", 1.0)


def _in_last(name: str, prim: _Any, *params: str) -> _Any:
    """The public function of an incomplete function differentiable in its last argument."""

    def body(*args: _Any) -> _Any:
        for argument, value in zip(params, args):
            _static(f"scipy.special.{name}", argument, value, "differentiable in its last argument only")
        return prim(*args)

    return _entry(getattr(_special, name), body)


betainc = _in_last("betainc", _rules.betainc_p, "a", "b")
betaincc = _in_last("betaincc", _rules.betaincc_p, "a", "b")
betaincinv = _in_last("betaincinv", _rules.betaincinv_p, "a", "b")
gammainc = _in_last("gammainc", _rules.gammainc_p, "a")
gammaincc = _in_last("gammaincc", _rules.gammaincc_p, "a")
gammaincinv = _in_last("gammaincinv", _rules.gammaincinv_p, "a")
stdtr = _in_last("stdtr", _rules.stdtr_p, "df")
stdtrit = _in_last("stdtrit", _rules.stdtrit_p, "df")
_DF, _COUNT = "the degrees of freedom, a shape parameter", "a discrete count"
chdtr = _entry(_special.chdtr, lambda v, x: gammainc(_order("chdtr", "v", v, why=_DF) / 2, x / 2))
chdtrc = _entry(_special.chdtrc, lambda v, x: gammaincc(_order("chdtrc", "v", v, why=_DF) / 2, x / 2))
pdtr = _entry(_special.pdtr, lambda k, m: gammaincc(_np.floor(_order("pdtr", "k", k, why=_COUNT)) + 1, m))
pdtrc = _entry(_special.pdtrc, lambda k, m: gammainc(_np.floor(_order("pdtrc", "k", k, why=_COUNT)) + 1, m))


@_fallback(_special.logsumexp)
def logsumexp(a: _Any, axis: _Any = None, b: _Any = None, keepdims: bool = False, return_sign: bool = False) -> _Any:
    """log Σ b·exp(a) over ``axis``, differentiable in ``a`` and ``b``; with
    ``return_sign`` the pair (log |Σ b·exp(a)|, its sign), as in SciPy."""
    if b is None and not return_sign:
        return _reductions.logsumexp(a, axis=axis, keepdims=keepdims)
    if b is not None:
        shape = _np.broadcast_shapes(_shape_of(a), _shape_of(b))
        a, b = _dnp.broadcast_to(a, shape), _dnp.broadcast_to(b, shape)
    plain = _concrete(a)
    axes = tuple(range(plain.ndim)) if axis is None else axis
    shift = _np.amax(plain, axis=axes, keepdims=True) if plain.size else _np.zeros([1] * plain.ndim)
    shift = _np.where(_np.isfinite(shift), shift, 0.0).astype(plain.dtype)
    terms = _dnp.exp(a - shift)
    total = _dnp.sum(terms if b is None else b * terms, axis=axes, keepdims=keepdims)
    shift = shift if keepdims else _np.squeeze(shift, axis=axes)
    if not return_sign:
        with _np.errstate(invalid="ignore", divide="ignore"):
            return _dnp.log(total) + shift
    sign = _np.sign(_concrete(total))
    with _np.errstate(divide="ignore"):
        return _dnp.log(_dnp.abs(total)) + shift, sign


def _all_axes(x: _Any, axis: _Any) -> _Any:
    """SciPy's ``axis=None``: every axis."""
    return tuple(range(_ndim_of(x))) if axis is None else axis


@_fallback(_special.softmax)
def softmax(x: _Any, axis: _Any = None) -> _Any:
    """exp(x) / Σ exp(x) over ``axis`` (all axes when None, as in SciPy)."""
    return _nn.softmax(x, axis=_all_axes(x, axis))


@_fallback(_special.log_softmax)
def log_softmax(x: _Any, axis: _Any = None) -> _Any:
    """x − logsumexp(x) over ``axis`` (all axes when None, as in SciPy)."""
    return _nn.log_softmax(x, axis=_all_axes(x, axis))


# The ufuncs whose first argument is an order or a shape parameter (differentiable in the last one only).
ORDER_FIRST = tuple(
    getattr(_special, n)
    for n in """jv yv yn iv ive kv kve kn polygamma betainc betaincc betaincinv gammainc gammaincc gammaincinv
    stdtr stdtrit chdtr chdtrc pdtr pdtrc""".split()
    if isinstance(getattr(_special, n), _np.ufunc)
)

DIFFERENTIABLE = tuple(
    sorted(
        _rules.__all__
        + """erf erfc expit logit gammaln digamma psi polygamma multigammaln jv jn yv yn iv ive kv kve kn
        j0 j1 y0 y1 i0 i1 k0 k1 i0e i1e k0e k1e betainc betaincc betaincinv gammainc gammaincc gammaincinv
        stdtr stdtrit chdtr chdtrc pdtr pdtrc logsumexp softmax log_softmax""".split()
    )
)
