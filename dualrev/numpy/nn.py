"""The layers of the lecture notes, built from registry primitives.

``linear``, ``sqerr`` and ``softmax`` are compositions, so their derivatives
follow from the primitives' rules; the docstrings give the closed forms the
tests check (seed 001 eqs. 33–34, seed 002).
"""

from __future__ import annotations

from typing import Any

from ._rules import reductions
from ._rules.products import matmul
from ._rules.reductions import logsumexp
from ._rules.unary import exp, relu, sigmoid


def linear(h: Any, W: Any, b: Any) -> Any:
    """``h @ W + b`` (seed 001 eq. 34a). For a batch ``X`` (rows = examples):
    dL/dW = Xᵀ dL/dY, dL/db = Σ_rows dL/dY, dL/dX = dL/dY Wᵀ."""
    return matmul(h, W) + b


def sqerr(f: Any, y: Any) -> Any:
    """Sum-of-squares error ½ Σ_i (f_i − y_i)² (seed 001 eq. 34b); dL/df = f − y."""
    d = f - y
    return 0.5 * reductions.sum(d * d)


def softmax(x: Any, axis: Any = -1) -> Any:
    """exp(x) / Σ exp(x) along ``axis``, computed as exp(x − logsumexp(x))."""
    return exp(x - logsumexp(x, axis=axis, keepdims=True))


def log_softmax(x: Any, axis: Any = -1) -> Any:
    """x − logsumexp(x) along ``axis``."""
    return x - logsumexp(x, axis=axis, keepdims=True)


__all__ = ["linear", "sqerr", "softmax", "log_softmax", "sigmoid", "relu"]
