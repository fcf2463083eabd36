"""Local Jacobians from the primitives' own rules, in the form each declares.

* dense (``structure="dense"``, or a multiple-result primitive): the JVP rule
  on the identity basis of the argument, one batched call;
* structured (the default): a diagonal from one JVP of a ones tangent, a 0-1
  gather from the JVP (the op itself) of an index probe, a 0-1 segment sum
  from the VJP (its transpose, a gather) of one, and for a dense-kind
  primitive a matrix-free :class:`~.structures.Operator` over its rules.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import numpy as dnp
from ..core import (
    NeverDifferentiated,
    Primitive,
    check_cotangent,
    check_tangent,
    concrete,
    dtype_of,
    float_dtype,
    shape_of,
    size_of,
)
from ..tape import TapeEntry
from .structures import BlockDiagonal, Diagonal, Operator, Sparse


def identity_basis(x: Any) -> np.ndarray:
    """The tangent ``(x.size,) + x.shape`` whose k-th row is the k-th unit vector."""
    n = size_of(x)
    return np.eye(n, dtype=float_dtype(x)).reshape((n,) + tuple(shape_of(x)))


def never_differentiated(entry: TapeEntry, argnum: int, rule: Callable) -> bool:
    """Is ``rule`` the rule of an argument registered with None? (Then it
    contributes nothing, and a float value there is an error.)"""
    if not isinstance(rule, NeverDifferentiated):
        return False
    rule.check(entry.primals[argnum], "explicit")
    return True


def _checked(entry: TapeEntry, argnum: int, result: Any, batch: tuple) -> Any:
    """A JVP rule's result, checked unless its primitive is trusted."""
    if entry.prim.trusted:
        return result
    return check_tangent(entry.prim, argnum, "explicit", result, batch, entry.ans)


def apply_rule(entry: TapeEntry, argnum: int, rule: Callable, basis: Any) -> Any:
    """The JVP rule of ``argnum`` on the whole basis (one call), or row by row
    for rules registered with ``batched=False``."""
    prim, ans, primals, kwargs = entry.prim, entry.ans, entry.primals, entry.kwargs
    if never_differentiated(entry, argnum, rule):
        return None
    if prim.jvp_batched:
        if prim.trusted:
            return rule(basis, ans, *primals, **kwargs)
        return _checked(entry, argnum, rule(basis, ans, *primals, **kwargs), tuple(shape_of(basis)[:1]))
    rows = [_checked(entry, argnum, rule(basis[k], ans, *primals, **kwargs), ()) for k in range(basis.shape[0])]
    if not prim.multiple_results:
        return dnp.stack(rows)
    stacked: list = []
    for j, parts in enumerate(zip(*rows)):
        if all(p is None for p in parts):
            stacked.append(None)
        else:
            zero = np.zeros(shape_of(ans[j]), dtype=float_dtype(ans[j]))
            stacked.append(dnp.stack([p if p is not None else zero for p in parts]))
    return tuple(stacked)


def as_matrix(tangent: Any, n_in: int, out: Any) -> Any:
    """A batched output tangent ``(n_in,) + out.shape`` as ∂out/∂in: ``(out.size, n_in)``."""
    full = (n_in,) + tuple(shape_of(out))
    if tuple(shape_of(tangent)) != full:  # a rule may return a broadcastable tangent
        tangent = dnp.broadcast_to(tangent, full)
    return dnp.transpose(dnp.reshape(tangent, (n_in, size_of(out))))


def fast_size(value: Any) -> int:
    return value.size if type(value) is np.ndarray else size_of(value)


def fast_itemsize(value: Any) -> int:
    if type(value) is np.ndarray and value.dtype.kind == "f":
        return value.dtype.itemsize
    return float_dtype(value).itemsize


_ONES: dict[tuple, np.ndarray] = {}


def _ones_probe(x: Any, shared: bool = False) -> np.ndarray:
    """A ones tangent like ``x``; ``shared``: one read-only array per shape
    (for the built-in rules, which never write into their arguments)."""
    if type(x) is np.ndarray and x.dtype.kind == "f":
        if not shared:
            return np.ones(x.shape, dtype=x.dtype)
        key = (x.shape, x.dtype.char)
        found = _ONES.get(key)
        if found is None:
            if len(_ONES) >= 64:
                _ONES.clear()
            found = _ONES[key] = np.ones(x.shape, dtype=x.dtype)
            found.flags.writeable = False
        return found
    return np.ones(shape_of(x), dtype=float_dtype(x))


def _index_probe(shape: tuple) -> np.ndarray:
    """1, 2, …, n in ``shape``: a linear 0-1 op moves these to where their entries go."""
    return (np.arange(math.prod(shape), dtype=np.float64) + 1).reshape(shape)


def _moved_indices(moved: Any, shape: tuple) -> np.ndarray:
    """The probe after a linear 0-1 op, as source indices (−1 where nothing arrived)."""
    moved = np.asarray(concrete(moved), dtype=np.float64)
    if moved.shape != tuple(shape):
        moved = np.broadcast_to(moved, shape)
    return moved.ravel().astype(np.int64) - 1


def structured_jacobian(entry: TapeEntry, argnum: int, rule: Callable) -> Any:
    """∂ans/∂args[argnum] in the form its primitive declares (see ``Primitive.structure``),
    computed by the primitive's own rules; ``None`` when the rule says "no dependence"."""
    prim, ans, x = entry.prim, entry.ans, entry.primals[argnum]
    if isinstance(rule, NeverDifferentiated) and never_differentiated(entry, argnum, rule):
        return None
    m = ans.size if type(ans) is np.ndarray else size_of(ans)
    n = x.size if type(x) is np.ndarray else size_of(x)
    kind = prim.structure
    if kind == "kron":
        return kron_jacobian(entry, argnum, rule)
    if kind == "batched":
        return batched_jacobian(entry, argnum, rule)
    if kind == "diagonal":  # one JVP of a ones tangent: the (broadcast) diagonal
        probe = _ONES.get((x.shape, x.dtype.char)) if prim.trusted and type(x) is np.ndarray else None
        if probe is None:  # not the shared probe of a built-in rule (only floating ones are kept)
            probe = _ones_probe(x, prim.trusted)
        t = rule(probe, ans, *entry.primals, **entry.kwargs)
        if not prim.trusted:
            t = _checked(entry, argnum, t, ())
        if t is None:
            return None
        if type(t) is np.ndarray and type(ans) is np.ndarray and type(x) is np.ndarray:
            if t.shape == ans.shape == x.shape:  # the common case, without shape_of
                return Diagonal(t.reshape(m), m)
        if tuple(shape_of(t)) != tuple(shape_of(ans)):
            t = dnp.broadcast_to(t, shape_of(ans))
        vals = t.reshape(m) if type(t) is np.ndarray else dnp.reshape(t, (m,))
        if tuple(shape_of(x)) == tuple(shape_of(ans)):
            return Diagonal(vals, m)
        cols = np.broadcast_to(np.arange(n).reshape(shape_of(x)), shape_of(ans)).ravel()
        return Sparse(np.arange(m), cols, vals, (m, n))
    if kind == "gather":  # the JVP (the op itself) carries each input index to its outputs
        moved = _checked(entry, argnum, rule(_index_probe(tuple(shape_of(x))), ans, *entry.primals, **entry.kwargs), ())
        if moved is None:
            return None
        src = _moved_indices(moved, tuple(shape_of(ans)))
        rows = np.flatnonzero(src >= 0)
        return Sparse(rows, src[rows], None, (m, n))
    # segment: the transpose (the VJP rule, a gather) says which output each input joins
    transpose = prim.vjp_rule(argnum)
    if isinstance(transpose, NeverDifferentiated):
        raise ValueError(
            f"dualrev: primitive '{prim.name}' declares structure='segment' but has no VJP rule for argument "
            f"{argnum}; the explicit mode reads a segment pattern off the transpose. Give it one with dr.defvjp, "
            f"or declare structure='dense'."
        )
    moved = transpose(_index_probe(tuple(shape_of(ans))), ans, *entry.primals, **entry.kwargs)
    if not prim.trusted:
        moved = check_cotangent(prim, argnum, "explicit", moved, (), x)
    dst = _moved_indices(moved, tuple(shape_of(x)))
    cols = np.flatnonzero(dst >= 0)
    return Sparse(dst[cols], cols, None, (m, n))


def kron_jacobian(entry: TapeEntry, argnum: int, rule: Callable) -> Any:
    """∂(A B)/∂A = I ⊗ Bᵀ and ∂(A B)/∂B = A ⊗ I of a matrix product (``structure="kron"``).
    Where the identity factor has size 1 — B a vector (or one column) for ∂/∂B,
    A a vector (or one row) for ∂/∂A, as in every ``W @ x`` and ``x @ W`` — that
    is the other operand itself (Bᵀ a transposed view): nothing is formed or
    stored, and a read-only view keeps the program's array safe. Otherwise a
    matrix-free operator applies the Kronecker product by the primitive's rules."""
    a, b = entry.primals[0], entry.primals[1]
    if argnum == 1 and type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim == 1:
        if a.dtype == entry.ans.dtype and entry.prim.trusted:  # W @ x, the common case, without the checks below
            view = a.view()
            view.flags.writeable = False
            return view
    sa, sb = tuple(shape_of(a)), tuple(shape_of(b))
    factor: Any = None
    if argnum == 1 and len(sa) == 2 and (len(sb) == 1 or (len(sb) == 2 and sb[1] == 1)):
        factor = a  # ∂(A b)/∂b = A ⊗ I₁
    elif argnum == 0 and len(sb) == 2 and (len(sa) == 1 or (len(sa) == 2 and sa[0] == 1)):
        factor = b.T if type(b) is np.ndarray else dnp.transpose(b)  # ∂(a B)/∂a = I₁ ⊗ Bᵀ
    elif len(sa) == len(sb) == 1:  # a · b: the other vector as a row
        other = b if argnum == 0 else a
        factor = other.reshape(1, -1) if type(other) is np.ndarray else dnp.reshape(other, (1, sa[0]))
    ans = entry.ans
    if factor is None or dtype_of(factor) != dtype_of(ans) or not entry.prim.trusted:
        if argnum == 0 and len(sa) >= 2 and dtype_of(b) == dtype_of(ans) and entry.prim.trusted:
            blocks = _row_blocks(a, b, sa, sb)
            if blocks is not None:
                return blocks
        return operator_jacobian(entry, argnum, rule)
    if type(factor) is np.ndarray:
        if factor is a or factor is b:
            factor = factor.view()
        factor.flags.writeable = False
    return factor


def batched_jacobian(entry: TapeEntry, argnum: int, rule: Callable) -> Any:
    """A matrix function on a stack (``structure="batched"``): one block per
    matrix, all formed by the JVP rule on one identity basis of a single
    matrix repeated over the stack (q directions instead of the stack's r·q).
    A single matrix, traced values or a rule without a batch axis: matrix-free."""
    prim, ans, x = entry.prim, entry.ans, entry.primals[argnum]
    if type(x) is not np.ndarray or type(ans) is not np.ndarray or x.ndim < 3 or not prim.trusted:
        return operator_jacobian(entry, argnum, rule)
    batch = x.shape[:-2]
    if not prim.jvp_batched or ans.shape[: len(batch)] != batch:
        return operator_jacobian(entry, argnum, rule)
    r, q = math.prod(batch), x.shape[-2] * x.shape[-1]
    p = ans.size // r
    basis = np.eye(q, dtype=float_dtype(x)).reshape((q,) + (1,) * len(batch) + x.shape[-2:])
    t = rule(np.broadcast_to(basis, (q,) + x.shape), ans, *entry.primals, **entry.kwargs)
    if t is None:
        return None
    t = np.broadcast_to(t, (q,) + ans.shape).reshape(q, r, p)
    return BlockDiagonal(np.ascontiguousarray(t.transpose(1, 2, 0)), r, p, q)


def _row_blocks(a: Any, b: Any, sa: tuple, sb: tuple) -> BlockDiagonal | None:
    """∂(A B)/∂A for a batch of rows A (..., m, k): every row of A meets Bᵀ
    alone, so the Jacobian is block diagonal, I ⊗ Bᵀ — one block per row, the
    shared Bᵀ (a view) for a matrix B, the rows' own Bᵀ for a stack B with
    A's batch axes; for a vector b, ∂(A b)/∂A = I ⊗ bᵀ (one 1×k block per row).
    None where broadcasting would mix the batches."""
    rows = math.prod(sa[:-1])
    if len(sb) == 1:
        b = b.reshape(sb[0], 1) if type(b) is np.ndarray else dnp.reshape(b, (sb[0], 1))
        sb = (sb[0], 1)
    k, c = sb[-2:]
    if rows < 2 or sa[-1] != k:
        return None
    bt = b.T if type(b) is np.ndarray and len(sb) == 2 else dnp.swapaxes(b, -1, -2)
    if len(sb) == 2:
        if type(bt) is np.ndarray:
            return BlockDiagonal(np.broadcast_to(bt, (rows, c, k)), rows, c, k, shared=True)
        return BlockDiagonal(dnp.broadcast_to(bt, (rows, c, k)), rows, c, k)
    if sb[:-2] != sa[:-2]:
        return None
    per_row = dnp.broadcast_to(dnp.expand_dims(bt, -3), sa[:-1] + (c, k))
    return BlockDiagonal(dnp.reshape(per_row, (rows, c, k)), rows, c, k)


def operator_jacobian(entry: TapeEntry, argnum: int, rule: Callable) -> Operator | None:
    """A dense-kind local Jacobian kept matrix-free: its JVP rule applies it to
    a block of columns, its VJP rule (if the primitive has one) to rows."""
    prim, ans, x = entry.prim, entry.ans, entry.primals[argnum]
    if isinstance(rule, NeverDifferentiated) and never_differentiated(entry, argnum, rule):
        return None
    if type(x) is np.ndarray:
        in_shape, n = x.shape, x.size
    else:
        in_shape, n = tuple(shape_of(x)), size_of(x)
    if type(ans) is np.ndarray:
        out_shape, m = ans.shape, ans.size
    else:
        out_shape, m = tuple(shape_of(ans)), size_of(ans)
    direct = prim.jvp_batched and prim.trusted  # apply_rule would call the rule as it is

    def jvp(block: Any) -> Any:
        if direct:
            out = rule(block, ans, *entry.primals, **entry.kwargs)
        else:
            out = apply_rule(entry, argnum, rule, block)
        if type(out) is np.ndarray and type(block) is np.ndarray:
            full = (block.shape[0],) + out_shape
            return out if out.shape == full else np.broadcast_to(out, full)
        full = (shape_of(block)[0],) + out_shape
        if type(out) is np.ndarray:
            return out if out.shape == full else np.broadcast_to(out, full)
        return out if tuple(shape_of(out)) == full else dnp.broadcast_to(out, full)

    rules = prim.vjp_rules
    if argnum in rules:  # prim.vjp_rule() without its frames (a rule registered with None: None here)
        found = rules[argnum]
    else:
        try:
            found = prim.vjp_rule(argnum)
        except NotImplementedError:
            found = None
    if found is None or isinstance(found, NeverDifferentiated):  # no VJP rule: columns only
        return Operator(jvp, None, m, n, in_shape, out_shape, False)
    vjp_rule: Callable = found

    def vjp(block: Any) -> Any:
        if prim.vjp_batched:
            out = vjp_rule(block, ans, *entry.primals, **entry.kwargs)
        else:
            k = shape_of(block)[0]
            out = dnp.stack([vjp_rule(block[j], ans, *entry.primals, **entry.kwargs) for j in range(k)])
        if not prim.trusted:
            out = check_cotangent(prim, argnum, "explicit", out, tuple(shape_of(block)[:1]), x)
        return out

    return Operator(jvp, vjp, m, n, in_shape, out_shape, True)


def structured_bytes(prim: Primitive, x: Any, answers: tuple, itemsize: int) -> int:
    """What the local Jacobian of one argument will take, stored as declared."""
    m, n = sum(fast_size(a) for a in answers), fast_size(x)
    if prim.structure == "diagonal" and not prim.multiple_results:
        return m * itemsize + (0 if m == n else 16 * m)
    if prim.structure in ("gather", "segment") and not prim.multiple_results:
        return 16 * max(m, n)
    if prim.structure == "kron" and not prim.multiple_results and len(shape_of(x)) == 1:
        return 0  # the other operand itself (kron_jacobian): nothing stored; else as a dense kind, below
    if prim.structure == "batched" and not prim.multiple_results and type(x) is np.ndarray and x.ndim >= 3:
        r = math.prod(tuple(shape_of(x))[:-2])
        return (m // r) * (n // r) * r * itemsize  # r blocks of (m/r)×(n/r)
    if not prim.multiple_results:  # matrix-free; formed only where it pays, along its narrow side
        return m * n * itemsize if min(m, n) > 1 else (m + n) * itemsize
    return m * n * itemsize
