"""The primitives of ``dualrev.scipy.special`` beyond those of ``dualrev.numpy``.

Elementwise functions with a local derivative come from the factories of
``dualrev/numpy/_rules/unary.py`` and ``binary.py`` (which also register the
``scipy.special`` ufunc overrides). The Bessel functions are one primitive with
the kind and the order static: every derivative is a recurrence between
neighbouring orders of the same kind, so derivatives of any order stay inside
it. The incomplete functions (``betainc``, ``gammainc``, …) are differentiable
in their last argument only: their derivative there is a density, written with
``dualrev.numpy`` so that it differentiates again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as sc

from ..core import Primitive, dtype_of, is_traced
from ..numpy._rules.base import DOMAINS, Sample, register, sample_arrays
from ..numpy._rules.binary import _binary, _binary_samples
from ..numpy._rules.shape import expand_rank, unbroadcast
from ..numpy._rules.unary import _unary, _zero_derivative, digamma, exp, log, log1p, sigmoid, sign
from ..numpy._rules.unary import gammaln as gammaln

_SQRT_PI_2 = float(np.sqrt(np.pi) / 2)
_SQRT_2PI = float(np.sqrt(2 * np.pi))
_TWO_OVER_SQRT_PI = float(2 / np.sqrt(np.pi))
_LN10 = float(np.log(10.0))
_DEG = float(np.pi / 180)

DOMAINS.setdefault("erfc_range", lambda rng, s: rng.uniform(0.2, 1.8, s))  # erfcinv's (0, 2)
DOMAINS.setdefault("log_probability", lambda rng, s: rng.uniform(-2.5, -0.1, s))  # ndtri_exp's (-inf, 0)


def static_argument(function: str, argument: str, value: Any, why: str = "") -> None:
    """The error for a traced value where ``function`` has no derivative: in
    ``argument`` (an integer order, a discrete parameter, or a parameter this
    function is not differentiated in)."""
    if is_traced(value):
        raise ValueError(
            f"dualrev: {function} is not differentiable in its argument {argument!r}"
            + (f" ({why})" if why else "")
            + "; a traced value reached it. Pass a constant there (differentiate in the other arguments)."
        )


# ------------------------------------------------------------- unary

gamma: Any = _unary(sc.gamma, "gamma", lambda ans, x: ans * digamma(x), domain="positive")
rgamma = _unary(sc.rgamma, "rgamma", lambda ans, x: -ans * digamma(x), domain="positive")
loggamma = _unary(sc.loggamma, "loggamma", lambda ans, x: digamma(x), domain="positive")
gammasgn = _zero_derivative(sc.gammasgn, "gammasgn", domain="positive")
erfinv = _unary(sc.erfinv, "erfinv", lambda ans, x: _SQRT_PI_2 * exp(ans * ans), domain="unit")
erfcinv = _unary(sc.erfcinv, "erfcinv", lambda ans, x: -_SQRT_PI_2 * exp(ans * ans), domain="erfc_range")
erfcx: Any = _unary(sc.erfcx, "erfcx", lambda ans, x: 2 * x * ans - _TWO_OVER_SQRT_PI, domain="positive")
dawsn: Any = _unary(sc.dawsn, "dawsn", lambda ans, x: 1 - 2 * x * ans)
ndtr: Any = _unary(sc.ndtr, "ndtr", lambda ans, x: exp(-0.5 * x * x) / _SQRT_2PI)
log_ndtr: Any = _unary(sc.log_ndtr, "log_ndtr", lambda ans, x: exp(-0.5 * x * x - ans) / _SQRT_2PI)
ndtri = _unary(sc.ndtri, "ndtri", lambda ans, x: _SQRT_2PI * exp(0.5 * ans * ans), domain="probability")
ndtri_exp = _unary(
    sc.ndtri_exp, "ndtri_exp", lambda ans, x: _SQRT_2PI * exp(x + 0.5 * ans * ans), domain="log_probability"
)
log_expit = _unary(sc.log_expit, "log_expit", lambda ans, x: sigmoid(-x))
entr = _unary(sc.entr, "entr", lambda ans, x: -(log(x) + 1), domain="positive")
exp1: Any = _unary(sc.exp1, "exp1", lambda ans, x: -exp(-x) / x, domain="positive")
expi: Any = _unary(sc.expi, "expi", lambda ans, x: exp(x) / x, domain="positive")
exp10 = _unary(sc.exp10, "exp10", lambda ans, x: ans * _LN10)
exp2 = _unary(sc.exp2, "exp2", lambda ans, x: ans * float(np.log(2.0)))
expm1 = _unary(sc.expm1, "special_expm1", lambda ans, x: ans + 1)
log1p_ = _unary(sc.log1p, "special_log1p", lambda ans, x: 1 / (1 + x), domain="above_minus_one")
cbrt = _unary(sc.cbrt, "special_cbrt", lambda ans, x: 1 / (3 * ans * ans), domain="nonzero")
sindg: Any = _unary(sc.sindg, "sindg", lambda ans, x: _DEG * cosdg(x))
cosdg: Any = _unary(sc.cosdg, "cosdg", lambda ans, x: -_DEG * sindg(x))

# ------------------------------------------------------------- binary


def _digamma_difference(ans, x, y):
    return digamma(x) - digamma(x + y)


beta = _binary(
    sc.beta, "beta", lambda ans, x, y: ans * _digamma_difference(ans, x, y),
    lambda ans, x, y: ans * _digamma_difference(ans, y, x), _binary_samples("positive", "positive"),
)  # fmt: skip
betaln = _binary(
    sc.betaln, "betaln", _digamma_difference, lambda ans, x, y: _digamma_difference(ans, y, x),
    _binary_samples("positive", "positive"),
)  # fmt: skip
xlogy = _binary(
    sc.xlogy, "xlogy", lambda ans, x, y: log(y), lambda ans, x, y: x / y, _binary_samples("real", "positive")
)
xlog1py = _binary(
    sc.xlog1py, "xlog1py", lambda ans, x, y: log1p(y), lambda ans, x, y: x / (1 + y),
    _binary_samples("real", "above_minus_one"),
)  # fmt: skip
kl_div = _binary(
    sc.kl_div, "kl_div", lambda ans, x, y: log(x / y), lambda ans, x, y: 1 - x / y,
    _binary_samples("positive", "positive"),
)  # fmt: skip
rel_entr = _binary(
    sc.rel_entr, "rel_entr", lambda ans, x, y: log(x / y) + 1, lambda ans, x, y: -x / y,
    _binary_samples("positive", "positive"),
)  # fmt: skip

# ------------------------------------------------------------- Bessel functions

# kind -> (the function of any order, the sign of the v+1 term, the extra term's
# coefficient): f' = (f_{v-1} + s f_{v+1}) * c + e * f_v (the scaled kinds).
_BESSEL = {
    "j": (sc.jv, -1.0, 0.5),
    "y": (sc.yv, -1.0, 0.5),
    "i": (sc.iv, 1.0, 0.5),
    "k": (sc.kv, 1.0, -0.5),
    "ive": (sc.ive, 1.0, 0.5),
    "kve": (sc.kve, 1.0, -0.5),
}
_ONE_ARGUMENT = {"j0", "j1", "y0", "y1", "i0", "i1", "k0", "k1", "i0e", "i1e", "k0e", "k1e"}


def _bessel_impl(x, *, kind, v, fn):
    if fn in _ONE_ARGUMENT:
        out = getattr(sc, fn)(x)
    elif fn in ("yn", "kn"):
        out = getattr(sc, fn)(int(v), x)
    else:
        out = getattr(sc, fn)(v, x)
    return np.asarray(out).astype(dtype_of(x), copy=False)


def _bessel_derivative(ans, x, *, kind, v, fn):
    neighbour = fn if fn in ("yn", "kn") else _BESSEL[kind][0].__name__
    _, s, c = _BESSEL[kind]
    out = (bessel_p(x, kind=kind, v=v - 1, fn=neighbour) + s * bessel_p(x, kind=kind, v=v + 1, fn=neighbour)) * c
    if kind == "ive":
        out = out - sign(x) * ans
    elif kind == "kve":
        out = out + ans
    return out


def _bessel_samples(rng):
    cases = [("j", 0.0, "j0"), ("j", 2.0, "jv"), ("y", 1.0, "y1"), ("y", 2.0, "yn"), ("i", 1.5, "iv"),
             ("k", 0.0, "k0"), ("k", 2.0, "kn"), ("ive", 1.0, "ive"), ("kve", 0.5, "kve")]  # fmt: skip
    return [Sample(sample_arrays(rng, "positive", (3,)), {"kind": k, "v": v, "fn": f}) for k, v, f in cases]


bessel_p: Primitive = register(
    _bessel_impl,
    "bessel",
    structure="diagonal",
    jvp=(lambda t, ans, x, **kw: t * _bessel_derivative(ans, x, **kw),),
    vjp=(lambda g, ans, x, **kw: g * _bessel_derivative(ans, x, **kw),),
    samples=_bessel_samples,
)

# ------------------------------------------------------------- incomplete functions


def _last_argument(fn: Callable, name: str, nparams: int, density: Callable, samples: Callable) -> Primitive:
    """A broadcasting primitive ``fn(*params, x)`` differentiable in ``x`` only,
    where its derivative is ``density(ans, *params, x)``."""

    def jvp(t, ans, *args):
        return expand_rank(t, args[-1], ans) * density(ans, *args)

    def vjp(g, ans, *args):
        return unbroadcast(g * density(ans, *args), args[-1], ans)

    def impl(*args):
        return np.asarray(fn(*args)).astype(dtype_of(args[-1]), copy=False)

    fixed = (None,) * nparams
    return register(impl, name, structure="diagonal", jvp=(*fixed, jvp), vjp=(*fixed, vjp), samples=samples)


def _params_samples(*domains: str) -> Callable:
    def make(rng):
        out = []
        for shape in ((3,), (2, 3)):
            args = [sample_arrays(rng, d, (3,))[0] for d in domains[:-1]] + sample_arrays(rng, domains[-1], shape)
            out.append(Sample(args, diff=(len(args) - 1,)))
        return out

    return make


def _beta_density(a, b, x):
    return exp(xlogy(a - 1, x) + xlog1py(b - 1, -x) - sc.betaln(a, b))


def _gamma_density(a, x):
    return exp(xlogy(a - 1, x) - x - sc.gammaln(a))


def _t_density(df, x):
    log_norm = sc.gammaln((df + 1) / 2) - sc.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
    return exp(log_norm - (df + 1) / 2 * log1p(x * x / df))


betainc_p = _last_argument(
    sc.betainc, "betainc", 2, lambda ans, a, b, x: _beta_density(a, b, x),
    _params_samples("positive", "positive", "probability"),
)  # fmt: skip
betaincc_p = _last_argument(
    sc.betaincc, "betaincc", 2, lambda ans, a, b, x: -_beta_density(a, b, x),
    _params_samples("positive", "positive", "probability"),
)  # fmt: skip
betaincinv_p = _last_argument(
    sc.betaincinv, "betaincinv", 2, lambda ans, a, b, y: 1 / _beta_density(a, b, ans),
    _params_samples("above_one", "above_one", "probability"),
)  # fmt: skip
gammainc_p = _last_argument(
    sc.gammainc, "gammainc", 1, lambda ans, a, x: _gamma_density(a, x), _params_samples("positive", "positive")
)
gammaincc_p = _last_argument(
    sc.gammaincc, "gammaincc", 1, lambda ans, a, x: -_gamma_density(a, x), _params_samples("positive", "positive")
)
gammaincinv_p = _last_argument(
    sc.gammaincinv, "gammaincinv", 1, lambda ans, a, y: 1 / _gamma_density(a, ans),
    _params_samples("above_one", "probability"),
)  # fmt: skip
stdtr_p = _last_argument(
    sc.stdtr, "stdtr", 1, lambda ans, df, x: _t_density(df, x), _params_samples("above_one", "real")
)
stdtrit_p = _last_argument(
    sc.stdtrit, "stdtrit", 1, lambda ans, df, p: 1 / _t_density(df, ans), _params_samples("above_one", "probability")
)

__all__ = [
    "gamma", "rgamma", "loggamma", "gammasgn", "erfinv", "erfcinv", "erfcx", "dawsn", "ndtr", "log_ndtr",
    "ndtri", "ndtri_exp", "log_expit", "entr", "exp1", "expi", "exp10", "exp2", "expm1", "cbrt", "sindg",
    "cosdg", "beta", "betaln", "xlogy", "xlog1py", "kl_div", "rel_entr",
]  # fmt: skip
