"""Products: matmul and the functions built on it (dot, outer, inner, vdot).

``matmul`` is bilinear: its JVP in one argument is the product with the
tangent in that argument's place, and its VJP multiplies the cotangent by the
*other* argument transposed — for a linear layer ``Y = X W`` that is
``dL/dX = dL/dY Wᵀ`` and ``dL/dW = Xᵀ dL/dY`` (seed 002).

The primitive takes operands with at least two axes; ``dualrev.numpy.matmul``
lifts vectors to 1×n / n×1 matrices first (as NumPy does) so that the rules
never special-case 1-D operands.
"""

from __future__ import annotations

import numpy as np

from ..core import Tracer, defjvp, defvjp, shape_of
from . import shape_ops as _shape
from ._helpers import Sample, expand_rank, ndim_of, register, sample_arrays, samples, unbroadcast


def _mT(a):
    """Swap the last two axes (matrix transpose of every matrix in a stack)."""
    n = ndim_of(a)
    perm = tuple(range(n - 2)) + (n - 1, n - 2)
    return _shape.transpose_p(a, axes=perm) if isinstance(a, Tracer) else np.swapaxes(a, -1, -2)


matmul_p = register(np.matmul, "matmul")
defjvp(
    matmul_p,
    lambda t, ans, a, b: matmul_p(expand_rank(t, a, ans), b),
    lambda t, ans, a, b: matmul_p(a, expand_rank(t, b, ans)),
)
defvjp(
    matmul_p,
    lambda g, ans, a, b: unbroadcast(matmul_p(g, _mT(b)), a, ans),
    lambda g, ans, a, b: unbroadcast(matmul_p(_mT(a), g), b, ans),
)
samples(
    matmul_p,
    lambda rng: [
        Sample(sample_arrays(rng, "real", (2, 3), (3, 4))),
        Sample(sample_arrays(rng, "real", (2, 2, 3), (3, 1))),
        Sample(sample_arrays(rng, "real", (1, 3), (2, 3, 2))),
    ],
)


def matmul(a, b):
    """``a @ b`` with NumPy's rules for 1-D operands."""
    if not (isinstance(a, Tracer) or isinstance(b, Tracer)):
        return np.matmul(a, b)
    a = a if isinstance(a, Tracer) else np.asarray(a)
    b = b if isinstance(b, Tracer) else np.asarray(b)
    na, nb = ndim_of(a), ndim_of(b)
    if na == 0 or nb == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions (use * for scalars)")
    a2 = _shape.reshape(a, (1,) + tuple(shape_of(a))) if na == 1 else a
    b2 = _shape.reshape(b, tuple(shape_of(b)) + (1,)) if nb == 1 else b
    out = matmul_p(a2, b2)
    if na == 1 or nb == 1:
        s = list(shape_of(out))
        if nb == 1:
            s.pop(-1)
        if na == 1:
            s.pop(-2 if nb != 1 else -1)
        out = _shape.reshape(out, tuple(s))
    return out


def dot(a, b, out=None):
    """``np.dot`` for scalars, vectors and matrices."""
    if not (isinstance(a, Tracer) or isinstance(b, Tracer)):
        return np.dot(a, b, out=out)
    if out is not None:
        raise TypeError("dualrev: dot of traced values takes no out= argument")
    na, nb = ndim_of(a), ndim_of(b)
    if na == 0 or nb == 0:
        return a * b
    if na <= 2 and nb <= 2:
        return matmul(a, b)
    if nb == 1:
        return matmul(a, b)
    raise NotImplementedError(
        "dualrev: dot of traced arrays with more than 2 axes is not supported; use matmul or einsum"
    )


def outer(a, b, out=None):
    if not (isinstance(a, Tracer) or isinstance(b, Tracer)):
        return np.outer(a, b, out=out)
    a = _shape.ravel(a)
    b = _shape.ravel(b)
    return _shape.expand_dims(a, 1) * _shape.expand_dims(b, 0)


def inner(a, b):
    if not (isinstance(a, Tracer) or isinstance(b, Tracer)):
        return np.inner(a, b)
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return a * b
    return matmul(a, _mT(b) if ndim_of(b) >= 2 else b) if ndim_of(a) >= 1 else a * b


def vdot(a, b):
    if not (isinstance(a, Tracer) or isinstance(b, Tracer)):
        return np.vdot(a, b)
    return matmul(_shape.ravel(a), _shape.ravel(b))


__all__ = ["matmul", "dot", "outer", "inner", "vdot"]
