"""Products: matmul, einsum and the functions built on them (dot, outer,
inner, vdot, tensordot, kron, cross).

``matmul`` is bilinear: its JVP in one argument is the product with the
tangent in that argument's place, and its VJP multiplies the cotangent by the
*other* argument transposed — for a linear layer ``Y = X W`` that is
``dL/dX = dL/dY Wᵀ`` and ``dL/dW = Xᵀ dL/dY`` (seed 002).

The primitive takes a vector (1-D operand) directly when the other operand
is a vector or a matrix — ``W @ x`` is one recorded op, not three — and its
rules handle those cases; against a stack of matrices ``dualrev.numpy.matmul``
lifts the vector to a 1×n / n×1 matrix first (as NumPy does).

``einsum`` is the general multilinear product: its JVP in operand i is the
same contraction with the tangent in place of operand i, and its VJP is the
contraction of the cotangent with all the *other* operands, producing operand
i's subscripts (an index that appears only in operand i was summed away, so
its cotangent is broadcast along it: a vector of ones joins the contraction).
Repeated subscripts within an operand (``"ii->i"``, a diagonal) are rewritten
before the primitive is applied: the second occurrence gets a fresh letter
and a constant identity matrix ties the two together, so the primitive only
ever sees distinct letters per operand.
"""

from __future__ import annotations

import math
import string

import numpy as np

from ..core import Tracer, defjvp, defjvp_argnum, defvjp, defvjp_argnum, dtype_of, shape_of
from . import shape_ops as _shape
from ._helpers import Sample, expand_rank, ndim_of, register, sample_arrays, samples, unbroadcast


def _mT(a):
    """Swap the last two axes (matrix transpose of every matrix in a stack)."""
    n = ndim_of(a)
    if n == 2:  # the common case: ``.T`` is one call (ndarray attribute or one primitive)
        return a.T
    perm = tuple(range(n - 2)) + (n - 1, n - 2)
    return _shape.transpose_p(a, axes=perm) if isinstance(a, Tracer) else np.swapaxes(a, -1, -2)


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


matmul_p = register(_matmul_impl, "matmul")
matmul_p.vjp_reads = ("args",)  # the rules multiply by the other operand, never read ans
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
    return a if len(s) == 2 else _shape.reshape(a, (math.prod(s[:-1]), s[-1]))


def _cols(b):
    """``b`` of shape (..., n, p) as an (n, M) matrix of all its columns."""
    s = tuple(shape_of(b))
    if len(s) == 2:
        return b
    return _shape.reshape(_shape.moveaxis(b, -2, 0), (s[-2], math.prod(s[:-2]) * s[-1]))


def _matmul_jvp_a(t, ans, a, b):
    if b.ndim == 1:  # ȧ @ b contracts ȧ's last axis with b, whatever the leading axes
        return matmul_p(t, b)
    if a.ndim == 1:  # ẏ = ȧ @ b for each direction: ȧ (B, n) against every column of b
        if b.ndim == 2:
            return matmul_p(t, b)
        return _shape.reshape(matmul_p(t, _cols(b)), _batch_axes(t, 1) + tuple(shape_of(ans)))
    return matmul_p(t if a.ndim == ans.ndim else expand_rank(t, a, ans), b)


def _matmul_jvp_b(t, ans, a, b):
    if a.ndim == 1:
        # a @ ḃ: for a vector ḃ (B, n) that is ḃ @ a; for a matrix ḃ NumPy's
        # rule (contract a with ḃ's second-to-last axis) keeps the batch axes.
        return matmul_p(t, a) if b.ndim == 1 else matmul_p(a, t)
    if b.ndim == 1:  # a @ ḃ for each direction: every row of a dotted with ḃ
        out = matmul_p(t, _mT(_rows(a)))
        return out if a.ndim == 2 else _shape.reshape(out, _batch_axes(t, 1) + tuple(shape_of(ans)))
    return matmul_p(a, t if b.ndim == ans.ndim else expand_rank(t, b, ans))


def _matmul_vjp_a(g, ans, a, b):
    if b.ndim == 1:  # ā = ȳ ⊗ b
        return _shape.expand_dims(g, -1) * b
    if a.ndim == 1:  # ā = Σ over every output column of ȳ times that column of b
        if b.ndim == 2:
            return matmul_p(g, _mT(b))
        g2 = _shape.reshape(g, _batch_axes(g, ndim_of(ans)) + (math.prod(shape_of(ans)),))
        return matmul_p(g2, _mT(_cols(b)))
    ct = matmul_p(g, _mT(b))
    return ct if ct.shape == a.shape else unbroadcast(ct, a, ans)


def _matmul_vjp_b(g, ans, a, b):
    if a.ndim == 1:
        if b.ndim == 1:  # vector @ vector: b̄ = ȳ a
            return _shape.expand_dims(g, -1) * a
        return _shape.expand_dims(a, -1) * _shape.expand_dims(g, -2)  # b̄ = a ⊗ ȳ
    if b.ndim == 1:  # b̄ = Σ over every row of a of ȳ times that row
        if a.ndim == 2:
            return matmul_p(g, a)
        g2 = _shape.reshape(g, _batch_axes(g, ndim_of(ans)) + (math.prod(shape_of(ans)),))
        return matmul_p(g2, _rows(a))
    ct = matmul_p(_mT(a), g)
    return ct if ct.shape == b.shape else unbroadcast(ct, b, ans)


defjvp(matmul_p, _matmul_jvp_a, _matmul_jvp_b)
defvjp(matmul_p, _matmul_vjp_a, _matmul_vjp_b)
samples(
    matmul_p,
    lambda rng: [
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


def matmul(a, b):
    """``a @ b`` with NumPy's rules for 1-D operands."""
    if not (isinstance(a, Tracer) or isinstance(b, Tracer)):
        return np.matmul(a, b)
    a = a if isinstance(a, Tracer) else np.asarray(a)
    b = b if isinstance(b, Tracer) else np.asarray(b)
    na, nb = ndim_of(a), ndim_of(b)
    if na == 0 or nb == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions (use * for scalars)")
    if na <= 2 and nb <= 2:  # the primitive takes these vectors directly (no reshapes recorded)
        return matmul_p(a, b)
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
    # N-D: a sum product over the last axis of a and the second-to-last of b.
    return tensordot(a, b, axes=([-1], [-2 if nb >= 2 else -1]))


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
    return tensordot(a, b, axes=([-1], [-1]))


def vdot(a, b):
    if not (isinstance(a, Tracer) or isinstance(b, Tracer)):
        return np.vdot(a, b)
    return matmul(_shape.ravel(a), _shape.ravel(b))


# ------------------------------------------------------------------ einsum

_LETTERS = string.ascii_letters


def _einsum_impl(*operands, specs, out):
    # Leading axes beyond an operand's subscripts are batch axes (of
    # tangents/cotangents): the ellipsis carries them through, broadcasting.
    return np.einsum(",".join("..." + spec for spec in specs) + "->..." + out, *operands)


def _lead(x, spec) -> int:
    return ndim_of(x) - len(spec)


def _einsum_jvp(i, t, ans, *operands, specs, out):
    # Give the tangent as many lead axes as the answer's (unit axes after its
    # own batch axes) so the ellipsis lines them up.
    x = operands[i]
    missing = _lead(ans, out) - _lead(x, specs[i])
    if missing:
        t = _shape.reshape_p(t, shape=(1,) * missing + tuple(shape_of(x)), in_ndim=ndim_of(x))
    args = list(operands)
    args[i] = t
    return einsum_p(*args, specs=specs, out=out)


def _einsum_vjp(i, g, ans, *operands, specs, out):
    x, spec = operands[i], specs[i]
    others = [(o, sp) for j, (o, sp) in enumerate(zip(operands, specs)) if j != i]
    present = set(out).union(*[set(sp) for _, sp in others])
    core = tuple(shape_of(x))[_lead(x, spec) :]
    ones = [
        (np.ones(core[k], dtype=dtype_of(g)), letter) for k, letter in enumerate(spec) if letter not in present
    ]
    pieces = [(g, out)] + others + ones
    result = einsum_p(*[p for p, _ in pieces], specs=tuple(sp for _, sp in pieces), out=spec)
    want = tuple(shape_of(x))
    rshape = tuple(shape_of(result))
    if rshape[len(rshape) - len(want) :] == want and len(rshape) - len(want) == ndim_of(g) - ndim_of(ans):
        return result
    # Lead axes of the answer that x was broadcast along: sum them away.
    return _shape.sum_to_p(result, shape=want, in_ndim=_lead(ans, out) + len(spec))


einsum_p = register(_einsum_impl, "einsum")
defjvp_argnum(einsum_p, _einsum_jvp)
defvjp_argnum(einsum_p, _einsum_vjp)
samples(
    einsum_p,
    lambda rng: [
        Sample(sample_arrays(rng, "real", (2, 3), (3, 4)), {"specs": ("ij", "jk"), "out": "ik"}),
        Sample(sample_arrays(rng, "real", (2, 3, 4), (4,)), {"specs": ("bij", "j"), "out": "ib"}),
        Sample(sample_arrays(rng, "real", (3,), (3, 2), (2,)), {"specs": ("i", "ij", "j"), "out": ""}),
        Sample(sample_arrays(rng, "real", (2, 3)), {"specs": ("ij",), "out": "j"}),
        Sample(sample_arrays(rng, "real", (5, 2, 3), (3,)), {"specs": ("ij", "j"), "out": "i"}),
    ],
)


def _parse_einsum(subscripts: str, shapes: list) -> tuple:
    """Subscripts as explicit per-operand letter strings and an output string
    (the ellipsis expanded to fresh letters, implicit output made explicit)."""
    subscripts = subscripts.replace(" ", "")
    lhs, arrow, out = subscripts.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: {len(ins)} operand subscripts for {len(shapes)} operands")
    free = [c for c in _LETTERS if c not in subscripts]
    n_ell = max([len(sh) - (len(sp) - 3) for sp, sh in zip(ins, shapes) if "..." in sp], default=0)
    ell, free = "".join(free[:n_ell]), free[n_ell:]
    specs = []
    for sp, sh in zip(ins, shapes):
        if "..." in sp:
            k = len(sh) - (len(sp) - 3)
            sp = sp.replace("...", ell[n_ell - k :] if k else "")
        if len(sp) != len(sh):
            raise ValueError(f"einsum: subscripts {sp!r} do not match an operand with {len(sh)} axes")
        specs.append(sp)
    if arrow:
        out = out.replace("...", ell)
    else:
        counts = {c: "".join(specs).count(c) for c in set("".join(specs))}
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return specs, out, free


def einsum(subscripts, *operands, out=None, optimize=False, **kwargs):
    """``np.einsum`` (string subscripts) on traced operands."""
    if not any(isinstance(o, Tracer) for o in operands):
        return np.einsum(subscripts, *operands, out=out, optimize=optimize, **kwargs)
    if out is not None or kwargs or not isinstance(subscripts, str):
        raise TypeError("dualrev: einsum of traced values takes string subscripts and no out=/dtype= arguments")
    operands = [o if isinstance(o, Tracer) else np.asarray(o) for o in operands]
    specs, out_spec, free = _parse_einsum(subscripts, [tuple(shape_of(o)) for o in operands])
    extra, extra_specs = [], []
    for k, spec in enumerate(specs):
        seen = ""
        for pos, letter in enumerate(spec):
            if letter in seen:  # a diagonal: rename, and tie with an identity matrix
                fresh = free.pop(0)
                n = shape_of(operands[k])[pos]
                extra.append(np.eye(n, dtype=dtype_of(operands[k])))
                extra_specs.append(letter + fresh)
                letter = fresh
            seen += letter
        specs[k] = seen
    return einsum_p(*operands, *extra, specs=tuple(specs) + tuple(extra_specs), out=out_spec)


def tensordot(a, b, axes=2):
    """``np.tensordot`` as an einsum."""
    if not (isinstance(a, Tracer) or isinstance(b, Tracer)):
        return np.tensordot(a, b, axes=axes)
    na, nb = ndim_of(a), ndim_of(b)
    if np.ndim(axes) == 0:
        axes_a, axes_b = list(range(na - int(axes), na)), list(range(int(axes)))
    else:
        axes_a, axes_b = axes
        axes_a = [int(axes_a)] if np.ndim(axes_a) == 0 else [int(x) for x in axes_a]
        axes_b = [int(axes_b)] if np.ndim(axes_b) == 0 else [int(x) for x in axes_b]
    axes_a = [x % na for x in axes_a]
    axes_b = [x % nb for x in axes_b]
    letters = iter(_LETTERS)
    spec_a = [next(letters) for _ in range(na)]
    spec_b = [next(letters) for _ in range(nb)]
    for x, y in zip(axes_a, axes_b):
        spec_b[y] = spec_a[x]
    out = [c for k, c in enumerate(spec_a) if k not in axes_a] + [c for k, c in enumerate(spec_b) if k not in axes_b]
    return einsum(f"{''.join(spec_a)},{''.join(spec_b)}->{''.join(out)}", a, b)


def kron(a, b):
    """``np.kron``: an outer product with interleaved axes, then merged."""
    if not (isinstance(a, Tracer) or isinstance(b, Tracer)):
        return np.kron(a, b)
    n = max(ndim_of(a), ndim_of(b))
    sa = (1,) * (n - ndim_of(a)) + tuple(shape_of(a))
    sb = (1,) * (n - ndim_of(b)) + tuple(shape_of(b))
    a = _shape.reshape(a, sa) if isinstance(a, Tracer) else np.reshape(a, sa)
    b = _shape.reshape(b, sb) if isinstance(b, Tracer) else np.reshape(b, sb)
    la, lb = _LETTERS[:n], _LETTERS[n : 2 * n]
    pairs = einsum(f"{la},{lb}->{''.join(x + y for x, y in zip(la, lb))}", a, b)
    return _shape.reshape(pairs, tuple(x * y for x, y in zip(sa, sb)))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """``np.cross`` of 3-vectors (or 2-vectors, giving the z component) from
    products of components."""
    if not (isinstance(a, Tracer) or isinstance(b, Tracer)):
        return np.cross(a, b, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = _shape.moveaxis(a, axisa, -1) if isinstance(a, Tracer) else np.moveaxis(a, axisa, -1)
    b = _shape.moveaxis(b, axisb, -1) if isinstance(b, Tracer) else np.moveaxis(b, axisb, -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3) or na != nb:
        raise ValueError("dualrev: cross of traced values needs two 3-vectors or two 2-vectors")
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    if na == 2:
        return a0 * b1 - a1 * b0
    a2, b2 = a[..., 2], b[..., 2]
    c = _shape.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return _shape.moveaxis(c, -1, axisc)


__all__ = ["matmul", "dot", "outer", "inner", "vdot", "einsum", "tensordot", "kron", "cross"]
