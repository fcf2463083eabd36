"""Products: matmul, and dot, outer, inner, vdot and cross built on it.

``matmul`` is bilinear: its JVP in one argument is the product with the
tangent in that argument's place, and its VJP multiplies the cotangent by the
*other* argument transposed — for a linear layer ``Y = X W`` that is
``dL/dX = dL/dY Wᵀ`` and ``dL/dW = Xᵀ dL/dY`` (seed 002).

The primitive takes a vector (1-D operand) directly when the other operand
is a vector or a matrix — ``W @ x`` is one recorded op, not three — and its
rules handle those cases; against a stack of matrices ``dualrev.numpy.matmul``
lifts the vector to a 1×n / n×1 matrix first (as NumPy does).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...core import Tracer, shape_of
from .base import Sample, ndim_of, register, sample_arrays
from .einsum import tensordot
from .indexing import as_operand, stack
from .overrides import numpy_function, numpy_ufunc
from .shape import expand_dims, expand_rank, moveaxis, mT, ravel, reshape, unbroadcast


def _matmul_impl(a, b):
    """``np.matmul``, with stacks folded into one BLAS call.

    Batched tangents and cotangents meet a plain weight matrix as a *stack*:
    ``W @ T`` with ``T`` of shape ``(k, n, 1)`` is k matrix-vector products
    (W read k times) in NumPy's loop, but one matrix-matrix product (W read
    once) after moving the stack into the columns. Same numbers, a single
    GEMM: this is what makes a batched Jacobian as fast as the closed form.
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 2 and b.ndim > 2:
        # (r, n) @ (..., n, p): stack the (..., p) columns side by side.
        n = b.shape[-2]
        columns = np.moveaxis(b, -2, 0).reshape(n, -1)
        out = (a @ columns).reshape((a.shape[0],) + b.shape[:-2] + b.shape[-1:])
        return np.moveaxis(out, 0, -2)
    if a.ndim > 2 and b.ndim == 2:
        # (..., r, n) @ (n, p): the stacked rows are just more rows.
        return (a.reshape(-1, a.shape[-1]) @ b).reshape(a.shape[:-1] + b.shape[-1:])
    return np.matmul(a, b)


# The rules inline the common case (no stack axes were broadcast, so the
# product already has the operand's shape) and call the helpers otherwise.
#
# A 1-D operand (a vector, as in ``W @ x``) reaches the primitive directly
# when the other operand has at most two axes (see ``matmul`` below): that
# saves the two reshape primitives per product that lifting it to a matrix
# would record. Its rules follow from NumPy's convention — a 1-D ``b`` is
# contracted with the last axis of ``a``, a 1-D ``a`` with the second-to-last
# axis of ``b`` — and a leading batch axis of a (co)tangent then lines up by
# broadcasting; the cotangent of a vector times a vector is an outer product.
# Nested derivatives also meet a vector against a *stack* (a batched tangent
# of a matrix has three axes), so the rules handle a partner of any rank by
# viewing it as the matrix of its rows (``_rows``) or columns (``_cols``).


def _batch_axes(x, core_ndim):
    """The leading (batch) axes of a tangent/cotangent ``x`` of a value with ``core_ndim`` axes."""
    s = tuple(shape_of(x))
    return s[: len(s) - core_ndim]


def _rows(a):
    """``a`` of shape (..., n) as an (M, n) matrix of its rows."""
    s = tuple(shape_of(a))
    return a if len(s) == 2 else reshape(a, (math.prod(s[:-1]), s[-1]))


def _cols(b):
    """``b`` of shape (..., n, p) as an (n, M) matrix of all its columns."""
    s = tuple(shape_of(b))
    if len(s) == 2:
        return b
    return reshape(moveaxis(b, -2, 0), (s[-2], math.prod(s[:-2]) * s[-1]))


def _matmul_jvp_a(t, ans, a, b):
    if b.ndim == 1:  # ȧ @ b contracts ȧ's last axis with b, whatever the leading axes
        return matmul_p.bind2(t, b)
    if a.ndim == 1:  # ẏ = ȧ @ b for each direction: ȧ (B, n) against every column of b
        if b.ndim == 2:
            return matmul_p.bind2(t, b)
        return reshape(matmul_p.bind2(t, _cols(b)), _batch_axes(t, 1) + tuple(shape_of(ans)))
    return matmul_p.bind2(t if a.ndim == ans.ndim else expand_rank(t, a, ans), b)


def _matmul_jvp_b(t, ans, a, b):
    if a.ndim == 1:
        # a @ ḃ: for a vector ḃ (B, n) that is ḃ @ a; for a matrix ḃ NumPy's
        # rule (contract a with ḃ's second-to-last axis) keeps the batch axes.
        return matmul_p.bind2(t, a) if b.ndim == 1 else matmul_p.bind2(a, t)
    if b.ndim == 1:  # a @ ḃ for each direction: every row of a dotted with ḃ
        out = matmul_p.bind2(t, mT(_rows(a)))
        return out if a.ndim == 2 else reshape(out, _batch_axes(t, 1) + tuple(shape_of(ans)))
    return matmul_p.bind2(a, t if b.ndim == ans.ndim else expand_rank(t, b, ans))


def _matmul_vjp_a(g, ans, a, b):
    if b.ndim == 1:  # ā = ȳ ⊗ b
        return expand_dims(g, -1) * b
    if a.ndim == 1:  # ā = Σ over every output column of ȳ times that column of b
        if b.ndim == 2:
            return matmul_p.bind2(g, mT(b))
        g2 = reshape(g, _batch_axes(g, ndim_of(ans)) + (math.prod(shape_of(ans)),))
        return matmul_p.bind2(g2, mT(_cols(b)))
    ct = matmul_p.bind2(g, mT(b))
    return ct if ct.shape == a.shape else unbroadcast(ct, a, ans)


def _matmul_vjp_b(g, ans, a, b):
    if a.ndim == 1:
        if b.ndim == 1:  # vector @ vector: b̄ = ȳ a
            return expand_dims(g, -1) * a
        return expand_dims(a, -1) * expand_dims(g, -2)  # b̄ = a ⊗ ȳ
    if b.ndim == 1:  # b̄ = Σ over every row of a of ȳ times that row
        if a.ndim == 2:
            return matmul_p.bind2(g, a)
        g2 = reshape(g, _batch_axes(g, ndim_of(ans)) + (math.prod(shape_of(ans)),))
        return matmul_p.bind2(g2, _rows(a))
    ct = matmul_p.bind2(mT(a), g)
    return ct if ct.shape == b.shape else unbroadcast(ct, b, ans)


matmul_p = register(
    _matmul_impl,
    "matmul",
    jvp=(_matmul_jvp_a, _matmul_jvp_b),
    vjp=(_matmul_vjp_a, _matmul_vjp_b),
    vjp_reads=("args",),  # the rules multiply by the other operand, never read ans
    structure="kron",  # ∂(A b)/∂b = A, ∂(a B)/∂a = Bᵀ; matrix-free where the identity factor is larger
    samples=lambda rng: [
        Sample(sample_arrays(rng, "real", (2, 3), (3, 4))),
        Sample(sample_arrays(rng, "real", (2, 2, 3), (3, 1))),
        Sample(sample_arrays(rng, "real", (1, 3), (2, 3, 2))),
        Sample(sample_arrays(rng, "real", (4, 3), (3,))),
        Sample(sample_arrays(rng, "real", (3,), (3, 2))),
        Sample(sample_arrays(rng, "real", (3,), (3,))),
        Sample(sample_arrays(rng, "real", (2, 4, 3), (3,))),
        Sample(sample_arrays(rng, "real", (3,), (2, 3, 4))),
    ],
)


@numpy_ufunc(np.matmul)
def matmul(a: Any, b: Any) -> Any:
    """``a @ b`` with NumPy's rules for 1-D operands."""
    # The common case first (vectors and matrices of plain values, traced or
    # not: every layer of a network): straight to the primitive.
    pa = a.primal if isinstance(a, Tracer) else a
    pb = b.primal if isinstance(b, Tracer) else b
    if type(pa) is np.ndarray and type(pb) is np.ndarray and 0 < pa.ndim <= 2 and 0 < pb.ndim <= 2:
        return matmul_p.bind2(a, b)
    a, b = as_operand(a), as_operand(b)
    na, nb = ndim_of(a), ndim_of(b)
    if na == 0 or nb == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions (use * for scalars)")
    if na <= 2 and nb <= 2:  # the primitive takes these vectors directly (no reshapes recorded)
        return matmul_p.bind2(a, b)
    a2 = reshape(a, (1,) + tuple(shape_of(a))) if na == 1 else a
    b2 = reshape(b, tuple(shape_of(b)) + (1,)) if nb == 1 else b
    out = matmul_p.bind2(a2, b2)
    if na == 1 or nb == 1:
        s = list(shape_of(out))
        if nb == 1:
            s.pop(-1)
        if na == 1:
            s.pop(-2 if nb != 1 else -1)
        out = reshape(out, tuple(s))
    return out


#: ``matmul`` without its plain-array check, for the ``@`` operator of a
#: traced value (which is always traced).
matmul_traced = matmul.__wrapped__  # type: ignore[attr-defined]


@numpy_function(np.dot)
def dot(a: Any, b: Any, out: Any = None) -> Any:
    """``np.dot`` for scalars, vectors and matrices."""
    if out is not None:
        raise TypeError("dualrev: dot of traced values takes no out= argument")
    na, nb = ndim_of(a), ndim_of(b)
    if na == 0 or nb == 0:
        return a * b
    if na <= 2 and nb <= 2:
        return matmul(a, b)
    # N-D: a sum product over the last axis of a and the second-to-last of b.
    return tensordot(a, b, axes=([-1], [-2 if nb >= 2 else -1]))


@numpy_function(np.outer)
def outer(a: Any, b: Any, out: Any = None) -> Any:
    a, b = ravel(a), ravel(b)
    return expand_dims(a, 1) * expand_dims(b, 0)


@numpy_function(np.inner)
def inner(a: Any, b: Any) -> Any:
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return a * b
    return tensordot(a, b, axes=([-1], [-1]))


@numpy_function(np.vdot)
def vdot(a: Any, b: Any) -> Any:
    return matmul(ravel(a), ravel(b))


@numpy_function(np.cross)
def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: Any = None) -> Any:
    """``np.cross`` of 3-vectors (or 2-vectors, giving the z component) from
    products of components."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3) or na != nb:
        raise ValueError("dualrev: cross of traced values needs two 3-vectors or two 2-vectors")
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    if na == 2:
        return a0 * b1 - a1 * b0
    a2, b2 = a[..., 2], b[..., 2]
    c = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return moveaxis(c, -1, axisc)


@numpy_ufunc(np.vecdot)
def vecdot(x1: Any, x2: Any, /, **kwargs: Any) -> Any:
    """Σ x1 x2 along ``axis`` (default the last), broadcasting the rest (real input: no conjugate)."""
    axis = kwargs.pop("axis", -1)
    if kwargs:
        raise TypeError(f"dualrev: vecdot of traced values takes no {sorted(kwargs)}")
    return (x1 * x2).sum(axis=axis)


@numpy_function(np.matrix_transpose)
def matrix_transpose(x: Any, /) -> Any:
    if ndim_of(x) < 2:
        raise ValueError("Input array must be at least 2-dimensional")
    return mT(x)


__all__ = ["matmul", "dot", "outer", "inner", "vdot", "cross", "vecdot", "matrix_transpose"]
