"""The multivariate distributions of ``dualrev.scipy.stats``: dirichlet and
multivariate_normal, differentiable in the point and in every parameter
(the mean and the covariance too)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import numpy as dnp
from ..core import shape_of
from . import special as sp

_LOG_2PI = float(np.log(2 * np.pi))


def _dirichlet_x(x: Any, alpha: Any) -> Any:
    """SciPy's convention: components on the first axis; K−1 of them imply the last."""
    k = shape_of(alpha)[0]
    if shape_of(x)[0] == k - 1:
        x = dnp.concatenate([x, 1 - dnp.sum(x, axis=0, keepdims=True)], axis=0)
    return x


def _log_beta(alpha: Any) -> Any:
    return dnp.sum(sp.gammaln(alpha)) - sp.gammaln(dnp.sum(alpha))


def dirichlet_logpdf(x: Any, alpha: Any) -> Any:
    """Σᵢ (αᵢ − 1) log xᵢ − log B(α), over the first axis of ``x``."""
    x = _dirichlet_x(x, alpha)
    weights = dnp.reshape(alpha, shape_of(alpha) + (1,) * (len(shape_of(x)) - 1))
    return dnp.sum(sp.xlogy(weights - 1, x), axis=0) - _log_beta(alpha)


def dirichlet_entropy(alpha: Any) -> Any:
    """log B(α) + (α₀ − K) ψ(α₀) − Σ (αᵢ − 1) ψ(αᵢ)."""
    total = dnp.sum(alpha)
    k = shape_of(alpha)[0]
    return _log_beta(alpha) + (total - k) * sp.digamma(total) - dnp.sum((alpha - 1) * sp.digamma(alpha))


def _covariance(cov: Any, k: int) -> Any:
    """SciPy's covariances: a scalar (times I), a vector (the diagonal) or a matrix."""
    return cov * np.eye(k) if len(shape_of(cov)) < 2 else cov


def _dimension(x: Any, mean: Any, cov: Any) -> int:
    if mean is not None and len(shape_of(mean)):
        return shape_of(mean)[0]
    if len(shape_of(cov)):
        return shape_of(cov)[0]
    return 1


def _points(x: Any, k: int) -> Any:
    """``x`` with the components on a last axis of length k (SciPy's
    ``(n,)`` input of a one-dimensional normal is n points)."""
    shape = shape_of(x)
    if k == 1 and (not shape or shape[-1] != 1):
        return dnp.reshape(x, shape + (1,))
    return x


def mvn_logpdf(x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
    """−½ (k log 2π + log det Σ + (x − μ)ᵀ Σ⁻¹ (x − μ)), SciPy's output shape."""
    k = _dimension(x, mean, cov)
    sigma = _covariance(cov, k)
    d = _points(x, k) - (0.0 if mean is None else mean)
    flat = dnp.reshape(d, (-1, k))
    solved = dnp.linalg.solve(sigma, dnp.transpose(flat))
    maha = dnp.sum(dnp.transpose(flat) * solved, axis=0)
    logdet = dnp.linalg.slogdet(sigma)[1]
    out = -0.5 * (k * _LOG_2PI + logdet + maha)
    return dnp.reshape(out, shape_of(d)[:-1])


def mvn_entropy(mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
    """½ (k (1 + log 2π) + log det Σ)."""
    k = _dimension(None, mean, cov)
    return 0.5 * (k * (1 + _LOG_2PI) + dnp.linalg.slogdet(_covariance(cov, k))[1])


__all__ = ["dirichlet_logpdf", "dirichlet_entropy", "mvn_logpdf", "mvn_entropy"]
