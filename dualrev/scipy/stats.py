"""``dualrev.scipy.stats``: differentiable distributions in SciPy's call style.

``stats.norm.logpdf(x, loc, scale)``, ``stats.t.cdf(x, df)``,
``stats.multivariate_normal.logpdf(x, mean, cov)``, …: each method is a
composition of ``dualrev.numpy`` and ``dualrev.scipy.special`` functions,
differentiable in every continuous argument where it has a closed form (the
shape parameters of ``cdf``/``sf``/``ppf`` of t, gamma, beta and chi2 are not:
the incomplete functions are differentiated in their last argument only, and
poisson's ``k`` is discrete). Plain calls are SciPy's, unchanged. On traced
values SciPy runs on the plain values first: its errors are raised as they
are (a non-PD covariance), its NaN (a negative scale) is the NaN of the result
and of its derivative, and outside the support its constant (``-inf``, 0, 1)
is the value, with derivative 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.stats as _stats

from .. import numpy as dnp
from ..core import concrete, is_traced, shape_of
from ..numpy._rules.overrides import fallback
from . import _multivariate as mv
from . import special as sp
from ._special_rules import static_argument

_LOG_SQRT_2PI = float(0.5 * np.log(2 * np.pi))


def _plain(value: Any) -> Any:
    return concrete(value) if is_traced(value) else value


def _match(reference: Any, value: Any) -> Any:
    """``value`` where SciPy's ``reference`` is finite; SciPy's constant where
    it is ±inf (outside the support) and NaN, with NaN derivatives, where
    SciPy gives NaN."""
    reference = np.asarray(reference)
    plain = np.asarray(concrete(value))
    nan = np.isnan(reference)
    with np.errstate(invalid="ignore"):
        # NaN entries keep the composition's value, so that the NaN factor
        # below reaches its arguments' derivatives.
        keep = (np.isfinite(reference) & np.isfinite(plain)) | nan
    out = value
    if not keep.all():
        out = dnp.where(keep, value, np.where(keep, 0.0, reference))
    if nan.any():
        out = out * np.where(nan, np.nan, 1.0)
    return dnp.reshape(out, reference.shape) if shape_of(out) != reference.shape else out


def _method(plain: Callable, body: Callable, name: str = "") -> Callable:
    """A distribution method: SciPy's ``plain`` on plain values, ``body`` on
    traced ones (after ``plain`` on their plain values, for its checks and
    its values outside the support)."""

    def traced(*args: Any, **kwargs: Any) -> Any:
        reference = plain(*[_plain(a) for a in args], **{k: _plain(v) for k, v in kwargs.items()})
        with np.errstate(invalid="ignore", divide="ignore"):
            return _match(reference, body(*args, **kwargs))

    out = fallback(plain)(traced)
    out.__name__ = out.__qualname__ = plain.__name__
    out.__doc__ = f"``scipy.stats.{name}.{plain.__name__}``, differentiable in its continuous arguments."
    return out


class _Distribution:
    """A namespace of methods (``norm.logpdf``, ...) with SciPy's signatures."""

    def __init__(self, name: str, **methods: Callable) -> None:
        self.name = name
        scipy_dist = getattr(_stats, name)
        for method, body in methods.items():
            setattr(self, method, _method(getattr(scipy_dist, method), body, name))
        self.methods = tuple(sorted(methods))

    def __repr__(self) -> str:
        return f"<dualrev.scipy.stats.{self.name}: {', '.join(self.methods)}>"


def _location_scale(name: str, logpdf: Callable, cdf: Callable, sf: Callable, ppf: Callable, isf: Callable,
                    names: tuple = (), **replaced: Callable) -> _Distribution:  # fmt: skip
    """The methods of a location-scale family from its standard (loc 0,
    scale 1) log-density, cdf, sf, ppf and isf in ``z`` and the shape
    parameters ``names`` (SciPy's order: ``x, *shapes, loc, scale``, each
    also by keyword); ``replaced`` methods are given directly."""

    def split(args: tuple, kwargs: dict) -> tuple:
        given = dict(zip((*names, "loc", "scale"), args))
        if len(args) > len(names) + 2 or set(given) & set(kwargs):
            raise TypeError(f"dualrev: stats.{name}: too many or repeated arguments")
        given.update(kwargs)
        missing = [n for n in names if n not in given]
        if missing or set(given) - {*names, "loc", "scale"}:
            raise TypeError(f"dualrev: stats.{name} takes the shape parameters {names}, loc and scale")
        return tuple(given[n] for n in names), given.get("loc", 0.0), given.get("scale", 1.0)

    def standard(f: Callable) -> Callable:
        def method(x: Any, *args: Any, **kwargs: Any) -> Any:
            shapes, loc, scale = split(args, kwargs)
            return f((x - loc) / scale, *shapes)

        return method

    def density(x: Any, *args: Any, **kwargs: Any) -> Any:
        shapes, loc, scale = split(args, kwargs)
        return logpdf((x - loc) / scale, *shapes) - dnp.log(scale)

    def quantile(f: Callable) -> Callable:
        def method(q: Any, *args: Any, **kwargs: Any) -> Any:
            shapes, loc, scale = split(args, kwargs)
            return loc + scale * f(q, *shapes)

        return method

    methods: dict[str, Callable] = {
        "logpdf": density,
        "pdf": lambda *a, **k: dnp.exp(density(*a, **k)),
        "cdf": standard(cdf),
        "logcdf": lambda *a, **k: dnp.log(standard(cdf)(*a, **k)),
        "sf": standard(sf),
        "logsf": lambda *a, **k: dnp.log(standard(sf)(*a, **k)),
        "ppf": quantile(ppf),
        "isf": quantile(isf),
    }
    return _Distribution(name, **{**methods, **replaced})


def _static(distribution: str, argument: str, value: Any) -> Any:
    static_argument(f"scipy.stats.{distribution}", argument, value, "a shape parameter of the cdf, sf and ppf")
    return value


norm = _location_scale(
    "norm", lambda z: -0.5 * z * z - _LOG_SQRT_2PI, sp.ndtr, lambda z: sp.ndtr(-z), sp.ndtri,
    lambda q: -sp.ndtri(q),
    logcdf=lambda x, loc=0.0, scale=1.0: sp.log_ndtr((x - loc) / scale),
    logsf=lambda x, loc=0.0, scale=1.0: sp.log_ndtr((loc - x) / scale),
)  # fmt: skip


def _t_logpdf(z: Any, df: Any) -> Any:
    return (sp.gammaln((df + 1) / 2) - sp.gammaln(df / 2) - 0.5 * dnp.log(df * np.pi)
            - (df + 1) / 2 * dnp.log1p(z * z / df))  # fmt: skip


t = _location_scale(
    "t", _t_logpdf, lambda z, df: sp.stdtr(_static("t", "df", df), z),
    lambda z, df: sp.stdtr(_static("t", "df", df), -z), lambda q, df: sp.stdtrit(_static("t", "df", df), q),
    lambda q, df: -sp.stdtrit(_static("t", "df", df), q), ("df",),
)  # fmt: skip
gamma = _location_scale(
    "gamma", lambda z, a: sp.xlogy(a - 1, z) - z - sp.gammaln(a),
    lambda z, a: sp.gammainc(_static("gamma", "a", a), z), lambda z, a: sp.gammaincc(_static("gamma", "a", a), z),
    lambda q, a: sp.gammaincinv(_static("gamma", "a", a), q),
    lambda q, a: sp.gammaincinv(_static("gamma", "a", a), 1 - q), ("a",),
)  # fmt: skip
beta = _location_scale(
    "beta", lambda z, a, b: sp.xlogy(a - 1, z) + sp.xlog1py(b - 1, -z) - sp.betaln(a, b),
    lambda z, a, b: sp.betainc(_static("beta", "a", a), _static("beta", "b", b), z),
    lambda z, a, b: sp.betaincc(_static("beta", "a", a), _static("beta", "b", b), z),
    lambda q, a, b: sp.betaincinv(_static("beta", "a", a), _static("beta", "b", b), q),
    lambda q, a, b: sp.betaincinv(_static("beta", "a", a), _static("beta", "b", b), 1 - q), ("a", "b"),
)  # fmt: skip
_LN2 = float(np.log(2.0))
chi2 = _location_scale(
    "chi2", lambda z, df: sp.xlogy(df / 2 - 1, z / 2) - z / 2 - sp.gammaln(df / 2) - _LN2,
    lambda z, df: sp.gammainc(_static("chi2", "df", df) / 2, z / 2),
    lambda z, df: sp.gammaincc(_static("chi2", "df", df) / 2, z / 2),
    lambda q, df: 2 * sp.gammaincinv(_static("chi2", "df", df) / 2, q),
    lambda q, df: 2 * sp.gammaincinv(_static("chi2", "df", df) / 2, 1 - q), ("df",),
)  # fmt: skip


def _count(k: Any, loc: Any) -> Any:
    static_argument("scipy.stats.poisson", "k", k, "a discrete value")
    static_argument("scipy.stats.poisson", "loc", loc, "a discrete shift")
    return np.asarray(k, dtype=float) - loc


def _poisson_logpmf(k: Any, mu: Any, loc: Any = 0) -> Any:
    k = _count(k, loc)
    support = (k >= 0) & (k == np.floor(k))  # SciPy: -inf (pmf 0) off the integers
    return dnp.where(support, sp.xlogy(k, mu) - mu - sp.gammaln(np.where(support, k, 0) + 1), -np.inf)


poisson = _Distribution(
    "poisson",
    logpmf=_poisson_logpmf,
    pmf=lambda k, mu, loc=0: dnp.exp(_poisson_logpmf(k, mu, loc)),
    cdf=lambda k, mu, loc=0: sp.gammaincc(np.floor(_count(k, loc)) + 1, mu),
    sf=lambda k, mu, loc=0: sp.gammainc(np.floor(_count(k, loc)) + 1, mu),
    logcdf=lambda k, mu, loc=0: dnp.log(sp.gammaincc(np.floor(_count(k, loc)) + 1, mu)),
)

dirichlet = _Distribution(
    "dirichlet",
    logpdf=mv.dirichlet_logpdf,
    pdf=lambda x, alpha: dnp.exp(mv.dirichlet_logpdf(x, alpha)),
    entropy=mv.dirichlet_entropy,
)
multivariate_normal = _Distribution(
    "multivariate_normal",
    logpdf=mv.mvn_logpdf,
    pdf=lambda *a, **k: dnp.exp(mv.mvn_logpdf(*a, **k)),
    entropy=mv.mvn_entropy,
)

DIFFERENTIABLE = {d.name: d.methods for d in (norm, t, gamma, beta, chi2, poisson, dirichlet, multivariate_normal)}

__all__ = ["norm", "t", "gamma", "beta", "chi2", "poisson", "dirichlet", "multivariate_normal", "DIFFERENTIABLE"]
