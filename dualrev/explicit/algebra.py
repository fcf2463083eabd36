"""Products and sums of local-Jacobian labels (``structures.py``), with the
multiplications each performs — the cost model of the structured explicit mode.

The cost of a product is the number of scalar multiplications it performs:
m·k·n for dense·dense, one per stored entry of the structured factor and
column (or row) of the dense one, one per matching pair of entries for
sparse·sparse — and none where a factor is 0-1 (a copy, not a multiply) or
the identity. A matrix-free operator costs m·n per direction it is applied
to, and m·n per direction of its narrow side when it must be formed. Sums
are free (except where they must form an operator).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse

from .. import numpy as dnp
from ..numpy._rules.indexing import scatter_add_p
from .structures import (
    DENSE,
    DENSIFY_FRACTION,
    IDENTITY,
    SYMBOLIC,
    BlockDiagonal,
    Diagonal,
    Operator,
    Sparse,
    dtype_of_values,
    is_symbolic,
    symbolic,
    to_dense,
)

# --------------------------------------------------------------------------
# Products: outer (m×k) · inner (k×n)
# --------------------------------------------------------------------------


def product(outer: Any, inner: Any, m: int, k: int, n: int) -> tuple[Any, int]:
    """``outer · inner`` and the multiplications it costs."""
    if outer is IDENTITY:
        return inner, 0
    if inner is IDENTITY:
        return outer, 0
    if type(outer) is BlockDiagonal or type(inner) is BlockDiagonal:
        return _block_product(outer, inner, m, k, n)
    if isinstance(outer, Operator) or isinstance(inner, Operator):
        return _operator_product(outer, inner, m, k, n)
    o_struct = isinstance(outer, (Diagonal, Sparse))
    i_struct = isinstance(inner, (Diagonal, Sparse))
    if not o_struct and not i_struct:
        cost = m * k * n
        return (DENSE if outer is DENSE or inner is DENSE else dnp.matmul(outer, inner)), cost
    if isinstance(outer, Diagonal):
        return _diagonal_times(outer, inner, n)
    if isinstance(inner, Diagonal):
        return _times_diagonal(outer, inner, m)
    if o_struct and i_struct:
        return _sparse_times_sparse(outer, inner)
    if o_struct:
        return _sparse_times_dense(outer, inner, n)
    transposed, cost = _sparse_times_dense(inner.transpose(), _transpose(outer), m)
    return _transpose(transposed), cost


def _operator_product(outer: Any, inner: Any, m: int, k: int, n: int) -> tuple[Any, int]:
    """A product with a matrix-free factor: apply its rule to the other factor
    (made dense), or form it first — whichever costs fewer multiplications."""
    if isinstance(outer, Operator) and not isinstance(inner, (Operator, Diagonal, Sparse)):
        return (DENSE if inner is DENSE or outer.jvp is None else outer.right(inner)), outer.m * outer.n * n
    if isinstance(inner, Operator) and not isinstance(outer, (Operator, Diagonal, Sparse)) and inner.has_vjp:
        return (DENSE if outer is DENSE or inner.jvp is None else inner.left(outer)), m * inner.m * inner.n
    if isinstance(outer, Diagonal) and isinstance(inner, Operator) and outer.vals is not SYMBOLIC and inner.jvp:
        # The common case (an elementwise op after a dense one), decided as below without the general search.
        formed = inner.form_cost() + outer.n * n
        if inner.has_vjp and m * inner.m * inner.n <= formed:  # ties: apply, as min() below picks
            return inner.left(to_dense(outer, (m, k), np.float64)), m * inner.m * inner.n
        return _diagonal_times(outer, inner.form(), n)[0], formed
    options = []  # (cost, how): apply a rule to the other factor made dense, or form an operator first
    if isinstance(outer, Operator):
        options.append((outer.m * outer.n * n, "apply outer"))
        options.append((outer.form_cost() + product(DENSE, symbolic(inner), m, k, n)[1], "form outer"))
    if isinstance(inner, Operator):
        if inner.has_vjp:
            options.append((m * inner.m * inner.n, "apply inner"))
        options.append((inner.form_cost() + product(symbolic(outer), DENSE, m, k, n)[1], "form inner"))
    cost, how = min(options, key=lambda option: option[0])
    if is_symbolic(outer) or is_symbolic(inner):
        return DENSE, cost
    if how == "apply outer":
        return outer.right(to_dense(inner, (k, n), np.float64)), cost
    if how == "apply inner":
        return inner.left(to_dense(outer, (m, k), np.float64)), cost
    if how == "form outer":
        return product(outer.form(), inner, m, k, n)[0], cost
    return product(outer, inner.form(), m, k, n)[0], cost


def _block_product(outer: Any, inner: Any, m: int, k: int, n: int) -> tuple[Any, int]:
    """A product with a block-diagonal factor: block by block (a batched
    matrix product) with a dense factor, a diagonal or another block diagonal
    of the same blocking; as a sparse matrix with a sparse one; formed (a copy,
    no multiplication) beside a matrix-free operator."""
    if type(outer) is BlockDiagonal and type(inner) is BlockDiagonal:
        a, b = outer, inner
        if a.r == b.r and a.q == b.p:
            blocks = SYMBOLIC if a.blocks is SYMBOLIC or b.blocks is SYMBOLIC else dnp.matmul(a.blocks, b.blocks)
            return BlockDiagonal(blocks, a.r, a.p, b.q), a.r * a.p * a.q * b.q
        return product(_as_sparse(a, (m, k)), _as_sparse(b, (k, n)), m, k, n)
    if type(outer) is BlockDiagonal:
        a = outer
        if isinstance(inner, (Sparse, Operator)):
            other = _as_sparse(a, (m, k)) if isinstance(inner, Sparse) else _formed(a, (m, k))
            return product(other, inner, m, k, n)
        if isinstance(inner, Diagonal):  # scale every block's columns
            blocks = _scale(a.blocks, _reshape(inner.vals, (a.r, 1, a.q)))
            return BlockDiagonal(blocks, a.r, a.p, a.q), a.nnz
        if a.blocks is SYMBOLIC or inner is DENSE:
            return DENSE, a.nnz * n
        if a.shared and type(inner) is np.ndarray:  # one matrix F: F times each (q, n) slab
            slabs = inner.reshape(a.r, a.q, n)
            return np.matmul(a.blocks[0], slabs).reshape(m, n), a.nnz * n
        return dnp.reshape(dnp.matmul(a.blocks, dnp.reshape(inner, (a.r, a.q, n))), (m, n)), a.nnz * n
    b = inner
    if isinstance(outer, (Sparse, Operator)):
        other = _as_sparse(b, (k, n)) if isinstance(outer, Sparse) else _formed(b, (k, n))
        return product(outer, other, m, k, n)
    if isinstance(outer, Diagonal):  # scale every block's rows
        blocks = _scale(b.blocks, _reshape(outer.vals, (b.r, b.p, 1)))
        return BlockDiagonal(blocks, b.r, b.p, b.q), b.nnz
    if b.blocks is SYMBOLIC or outer is DENSE:
        return DENSE, m * b.nnz
    if b.shared and type(outer) is np.ndarray:  # each row's (r, p) pieces times F: one product
        return (outer.reshape(m * b.r, b.p) @ b.blocks[0]).reshape(m, n), m * b.nnz
    pieces = dnp.transpose(dnp.reshape(outer, (m, b.r, b.p)), (1, 0, 2))  # (r, m, p)
    return dnp.reshape(dnp.transpose(dnp.matmul(pieces, b.blocks), (1, 0, 2)), (m, n)), m * b.nnz


def _reshape(vals: Any, shape: tuple) -> Any:
    if vals is SYMBOLIC:
        return SYMBOLIC
    return vals.reshape(shape) if type(vals) is np.ndarray else dnp.reshape(vals, shape)


def _formed(b: BlockDiagonal, shape: tuple[int, int]) -> Any:
    return DENSE if b.blocks is SYMBOLIC else to_dense(b, shape, dtype_of_values(b.blocks))


def _transpose(x: Any) -> Any:
    return x if x is DENSE else dnp.transpose(x)


def _valued(label: Any) -> bool:
    return label.vals is not None


def _scale(a: Any, b: Any) -> Any:
    """The product of two value vectors, either of which may be None (all ones) or symbolic."""
    if a is None:
        return b
    if b is None:
        return a
    if a is SYMBOLIC or b is SYMBOLIC:
        return SYMBOLIC
    return a * b


def _take(vals: Any, index: np.ndarray) -> Any:
    return vals if vals is None or vals is SYMBOLIC else vals[index]


def _diagonal_times(d: Diagonal, inner: Any, n: int) -> tuple[Any, int]:
    if isinstance(inner, Diagonal):
        return Diagonal(_scale(d.vals, inner.vals), d.n), d.n
    if isinstance(inner, Sparse):
        vals = _scale(_take(d.vals, inner.rows), inner.vals if _valued(inner) else None)
        return Sparse(inner.rows, inner.cols, vals, inner.shape), (inner.nnz if _valued(inner) else 0)
    if d.vals is SYMBOLIC or inner is DENSE:
        return DENSE, d.n * n
    if type(d.vals) is np.ndarray and type(inner) is np.ndarray:
        return d.vals[:, None] * inner, d.n * n
    return dnp.expand_dims(d.vals, -1) * inner, d.n * n


def _times_diagonal(outer: Any, d: Diagonal, m: int) -> tuple[Any, int]:
    if isinstance(outer, Sparse):
        vals = _scale(outer.vals if _valued(outer) else None, _take(d.vals, outer.cols))
        return Sparse(outer.rows, outer.cols, vals, outer.shape), (outer.nnz if _valued(outer) else 0)
    if d.vals is SYMBOLIC or outer is DENSE:
        return DENSE, m * d.n
    return outer * d.vals, m * d.n


def _sparse_times_dense(a: Sparse, dense: Any, n: int) -> tuple[Any, int]:
    """(m×k sparse) · (k×n dense): gather the rows of ``dense``, scale, add into rows."""
    cost = a.nnz * n if _valued(a) else 0
    if dense is DENSE or a.vals is SYMBOLIC:
        return DENSE, cost
    m, k = a.shape
    unique_rows = len(np.unique(a.rows)) == a.nnz
    if not unique_rows and type(dense) is np.ndarray and (a.vals is None or type(a.vals) is np.ndarray):
        # Rows summed (a segment sum, or a weighted row): one product in C — BLAS
        # where the pattern is dense-ish, scipy's sparse product otherwise — never
        # a gather of every picked row followed by a scatter-add.
        vals = np.ones(a.nnz, dtype=dense.dtype) if a.vals is None else a.vals
        if a.nnz >= DENSIFY_FRACTION * m * k:
            return to_dense(Sparse(a.rows, a.cols, vals, a.shape), a.shape, vals.dtype) @ dense, cost
        return np.asarray(scipy.sparse.csr_matrix((vals, (a.rows, a.cols)), shape=a.shape) @ dense), cost
    picked = dense[a.cols]
    if a.vals is not None:
        picked = dnp.expand_dims(a.vals, -1) * picked
    if isinstance(picked, np.ndarray):
        out = np.zeros((m, n), dtype=picked.dtype)
        if unique_rows:
            out[a.rows] = picked
        else:
            np.add.at(out, a.rows, picked)
        return out, cost
    return scatter_add_p(picked, index=(a.rows,), shape=(m, n), in_ndim=2), cost


def _sparse_times_sparse(a: Sparse, b: Sparse) -> tuple[Any, int]:
    """Match every entry (i, k) of ``a`` with every entry (k, j) of ``b``."""
    order = np.argsort(b.rows, kind="stable")
    b_rows = b.rows[order]
    starts = np.searchsorted(b_rows, a.cols, side="left")
    counts = np.searchsorted(b_rows, a.cols, side="right") - starts
    total = int(counts.sum())
    pa = np.repeat(np.arange(a.nnz), counts)
    first = np.cumsum(counts) - counts  # where each a-entry's run starts in the pair list
    pb = order[np.repeat(starts - first, counts) + np.arange(total)]
    cost = total if (_valued(a) and _valued(b)) else 0
    vals = _scale(_take(a.vals, pa), _take(b.vals, pb))
    return _coalesce(a.rows[pa], b.cols[pb], vals, (a.shape[0], b.shape[1])), cost


def _coalesce(rows: np.ndarray, cols: np.ndarray, vals: Any, shape: tuple[int, int]) -> Any:
    """Entries at repeated positions summed (a free sum); dense when it fills up."""
    keys = rows.astype(np.int64) * shape[1] + cols
    unique, inverse = np.unique(keys, return_inverse=True)
    if len(unique) < len(keys):
        if vals is None:
            vals = np.ones(len(keys))
        if vals is not SYMBOLIC:
            vals = _segment_sum(vals, inverse, len(unique))
        rows, cols = unique // shape[1], unique % shape[1]
    return _maybe_dense(Sparse(rows, cols, vals, shape))


def _segment_sum(vals: Any, segments: np.ndarray, n: int) -> Any:
    if isinstance(vals, np.ndarray):
        out = np.zeros(n, dtype=vals.dtype)
        np.add.at(out, segments, vals)
        return out
    return scatter_add_p(vals, index=(segments,), shape=(n,), in_ndim=1)


def _maybe_dense(s: Sparse) -> Any:
    m, n = s.shape
    if s.nnz and s.nnz >= DENSIFY_FRACTION * m * n and s.vals is not None:
        return DENSE if s.vals is SYMBOLIC else to_dense(s, s.shape, dtype_of_values(s.vals))
    return s


# --------------------------------------------------------------------------
# Sums (free under the cost model)
# --------------------------------------------------------------------------


def add(a: Any, b: Any, shape: tuple[int, int]) -> tuple[Any, int]:
    """``a + b`` for labels of the same ``shape``, and the multiplications it
    costs: none (sums are free) unless a matrix-free operator must be formed."""
    if a is None:
        return b, 0
    formed = sum(x.form_cost() for x in (a, b) if isinstance(x, Operator))
    if formed:
        a, b = (to_dense(x, shape, np.float64) if isinstance(x, Operator) else x for x in (a, b))
    return _add(a, b, shape), formed


def _add(a: Any, b: Any, shape: tuple[int, int]) -> Any:
    if a is DENSE or b is DENSE:
        return DENSE
    if a is IDENTITY and b is IDENTITY:
        return 2 * np.eye(shape[0], dtype=np.float64)
    if isinstance(a, Diagonal) and isinstance(b, Diagonal):
        if a.vals is SYMBOLIC or b.vals is SYMBOLIC:
            return Diagonal(SYMBOLIC, a.n)
        return Diagonal(a.vals + b.vals, a.n)
    if type(a) is BlockDiagonal and type(b) is BlockDiagonal and (a.r, a.p, a.q) == (b.r, b.p, b.q):
        blocks = SYMBOLIC if a.blocks is SYMBOLIC or b.blocks is SYMBOLIC else a.blocks + b.blocks
        return BlockDiagonal(blocks, a.r, a.p, a.q)
    if type(a) is BlockDiagonal or type(b) is BlockDiagonal:  # beside another structure: as sparse
        if all(x is IDENTITY or isinstance(x, (Diagonal, Sparse, BlockDiagonal)) for x in (a, b)):
            a, b = (_as_sparse(x, shape) if type(x) is BlockDiagonal else x for x in (a, b))
        else:
            a, b = (_formed(x, shape) if type(x) is BlockDiagonal else x for x in (a, b))
    structured = [x for x in (a, b) if x is IDENTITY or isinstance(x, (Diagonal, Sparse))]
    if len(structured) == 2:
        sa, sb = _as_sparse(a, shape), _as_sparse(b, shape)
        vals = _concat_vals(sa, sb)
        return _coalesce(np.concatenate([sa.rows, sb.rows]), np.concatenate([sa.cols, sb.cols]), vals, shape)
    if any(is_symbolic(x) for x in (a, b)):
        return DENSE
    values = (x.vals if isinstance(x, (Diagonal, Sparse)) else None if x is IDENTITY else x for x in (a, b))
    dtype = dtype_of_values(*values)
    return dnp.add(to_dense(a, shape, dtype), to_dense(b, shape, dtype))


def _as_sparse(x: Any, shape: tuple[int, int]) -> Sparse:
    if isinstance(x, Sparse):
        return x
    if type(x) is BlockDiagonal:
        rows, cols = x.positions()
        vals = SYMBOLIC if x.blocks is SYMBOLIC else _reshape(x.blocks, (-1,))
        return Sparse(rows, cols, vals, shape)
    n = shape[0]
    vals = None if x is IDENTITY else x.vals
    return Sparse(np.arange(n), np.arange(n), vals, shape)


def _concat_vals(a: Sparse, b: Sparse) -> Any:
    if a.vals is None and b.vals is None:
        return None
    if a.vals is SYMBOLIC or b.vals is SYMBOLIC:
        return SYMBOLIC
    dtype = dtype_of_values(a.vals, b.vals)
    va = np.ones(a.nnz, dtype=dtype) if a.vals is None else a.vals
    vb = np.ones(b.nnz, dtype=dtype) if b.vals is None else b.vals
    return dnp.concatenate([va, vb])
