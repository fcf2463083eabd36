"""The layers of the lecture notes, built from registry primitives.

``linear``, ``sqerr`` and ``softmax`` are compositions, so their derivatives
follow from the primitives' rules; the docstrings give the closed forms the
tests check (seed 001 eqs. 33–34, seed 002).
"""

from __future__ import annotations

from .elementwise import exp, relu, sigmoid  # noqa: F401 - re-exported layers
from .products import matmul
from .reductions import logsumexp
from .reductions import sum as _sum


def linear(h, W, b):
    """``h @ W + b`` (seed 001 eq. 34a). For a batch ``X`` (rows = examples):
    dL/dW = Xᵀ dL/dY, dL/db = Σ_rows dL/dY, dL/dX = dL/dY Wᵀ."""
    return matmul(h, W) + b


def sqerr(f, y):
    """Sum-of-squares error ½ Σ_i (f_i − y_i)² (seed 001 eq. 34b); dL/df = f − y."""
    d = f - y
    return 0.5 * _sum(d * d)


def softmax(x, axis=-1):
    """exp(x) / Σ exp(x) along ``axis``, computed as exp(x − logsumexp(x))."""
    return exp(x - logsumexp(x, axis=axis, keepdims=True))


def log_softmax(x, axis=-1):
    return x - logsumexp(x, axis=axis, keepdims=True)


__all__ = ["linear", "sqerr", "softmax", "log_softmax", "sigmoid", "relu"]
