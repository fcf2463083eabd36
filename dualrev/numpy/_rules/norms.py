"""Linear algebra built from the other primitives: matrix_power, multi_dot,
trace and the vector and matrix norms. Compositions only: no new rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...core import concrete, dtype_of, shape_of
from . import reductions
from .base import ndim_of
from .decompositions import svd_p
from .indexing import where
from .inverse import eye_like, inv_p
from .overrides import numpy_function
from .products import dot, matmul_p
from .shape import broadcast_to, expand_dims, moveaxis, ravel, reshape, squeeze
from .unary import absolute, safe_sqrt


@numpy_function(np.linalg.matrix_power)
def matrix_power(a: Any, n: int) -> Any:
    """Repeated squaring with matmul (inv first for negative n)."""
    n = int(n)
    if n == 0:
        return broadcast_to(eye_like(a), tuple(shape_of(a))) + 0.0 * a
    if n < 0:
        a, n = inv_p(a), -n
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else matmul_p.bind2(result, base)
        n >>= 1
        if n:
            base = matmul_p.bind2(base, base)
    return result


@numpy_function(np.linalg.multi_dot, sequences=True)
def multi_dot(arrays: Any, *, out: Any = None) -> Any:
    arrays = list(arrays)
    result = arrays[0]
    for x in arrays[1:]:
        result = dot(result, x)
    return result


@numpy_function(np.linalg.trace)
def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """``np.linalg.trace``: the trace over the last two axes."""
    return reductions.trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


def _vector_norm(x, ord, axis, keepdims):
    """Vector p-norms along ``axis``. At the zero vector every norm has a kink;
    we return the subgradient 0 (``safe_sqrt`` / ``abs'(0) = 0``)."""
    if ord is None or ord == 2:
        return safe_sqrt(reductions.sum(x * x, axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return reductions.max(absolute(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return reductions.min(absolute(x), axis=axis, keepdims=keepdims)
    if ord == 0:  # the number of nonzeros: piecewise constant
        return np.sum(concrete(x) != 0, axis=axis, keepdims=keepdims).astype(dtype_of(x))
    if ord == 1:
        return reductions.sum(absolute(x), axis=axis, keepdims=keepdims)
    p = float(ord)
    total = reductions.sum(absolute(x) ** p, axis=axis, keepdims=keepdims)
    zero = concrete(total) == 0
    if not np.any(zero):
        return total ** (1.0 / p)
    return where(zero, 0.0, where(zero, 1.0, total) ** (1.0 / p))


def _matrix_norm(x, ord, axes, keepdims):
    row, col = axes
    if ord in ("fro", "f", None):
        return safe_sqrt(reductions.sum(x * x, axis=axes, keepdims=keepdims))
    if ord in (1, -1, np.inf, -np.inf):
        reduce_inner, reduce_outer = (row, col) if ord in (1, -1) else (col, row)
        sums = reductions.sum(absolute(x), axis=reduce_inner, keepdims=True)
        pick = reductions.max if ord in (1, np.inf) else reductions.min
        out = pick(sums, axis=reduce_outer, keepdims=True)
    elif ord in (2, -2, "nuc"):
        s = svd_p(moveaxis(x, (row, col), (-2, -1)))[1]
        reducers: dict[Any, Callable[..., Any]] = {2: reductions.max, -2: reductions.min, "nuc": reductions.sum}
        out = reducers[ord](s, axis=-1)
        out = expand_dims(out, tuple(sorted((row, col))))
    else:
        raise ValueError(f"Invalid norm order {ord!r} for matrices.")
    return out if keepdims else squeeze(out, axis=axes)


@numpy_function(np.linalg.norm)
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """``np.linalg.norm``: vector norms (any p, ±inf, 0) and matrix norms
    ('fro', 'nuc', ±1, ±2, ±inf). The 2/−2/'nuc' matrix norms go through the
    SVD (distinct singular values needed where they are differentiated)."""
    nd = ndim_of(x)
    if axis is None:
        if ord is None:
            out = safe_sqrt(reductions.sum(x * x))
            return reshape(out, (1,) * nd) if keepdims else out
        axis = tuple(range(nd)) if nd in (1, 2) else None
        if axis is None:
            raise ValueError("Improper number of dimensions to norm.")
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    axes = tuple(int(a) % nd for a in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError("Improper number of dimensions to norm.")


@numpy_function(np.linalg.cond)
def cond(x: Any, p: Any = None) -> Any:
    """``np.linalg.cond``, differentiated: for ``p`` None/2/−2 the ratio of the
    largest and smallest singular values (SVD; distinct singular values
    needed where it is differentiated), for the other ``p`` (``'fro'``,
    ``'nuc'``, ±1, ±inf) ``norm(A, p) · norm(inv(A), p)``, as NumPy computes it."""
    nd = ndim_of(x)
    if nd < 2:
        raise np.linalg.LinAlgError(f"{nd}-dimensional array given. Array must be at least two-dimensional")
    if p is None or p == 2 or p == -2:
        s = svd_p(x)[1]
        big, small = reductions.max(s, axis=-1), reductions.min(s, axis=-1)
        return small / big if p == -2 else big / small
    axes = (nd - 2, nd - 1)
    return _matrix_norm(x, p, axes, False) * _matrix_norm(inv_p(x), p, axes, False)


@numpy_function(np.linalg.vector_norm)
def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Any:
    if axis is None:
        out = _vector_norm(ravel(x), ord, 0, False)
        return reshape(out, (1,) * ndim_of(x)) if keepdims else out
    if np.ndim(axis) == 0:
        return _vector_norm(x, ord, axis, keepdims)
    axes = tuple(int(a) % ndim_of(x) for a in axis)
    if ord in (None, 2):
        return safe_sqrt(reductions.sum(x * x, axis=axes, keepdims=keepdims))
    raise NotImplementedError("dualrev: vector_norm over several axes supports ord=2 only")


@numpy_function(np.linalg.matrix_norm)
def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:
    nd = ndim_of(x)
    return _matrix_norm(x, ord, (nd - 2, nd - 1), keepdims)


# ``cond`` is not exported: np.linalg.cond reaches it on traced values (__array_function__),
# so dualrev.numpy.linalg.cond stays NumPy's.
__all__ = ["matrix_power", "multi_dot", "trace", "norm", "vector_norm", "matrix_norm"]
