"""Local Jacobians kept in their structure: the labels of the linearised graph,
with their products and sums.

An edge ``u → v`` carries ``∂v/∂u``, a ``(size_v, size_u)`` matrix, as one of

* :data:`IDENTITY` — never stored, multiplies for free;
* :class:`Diagonal` — an elementwise op: the vector of its diagonal;
* :class:`Sparse` — coordinate form (rows, cols, values): a 0-1 gather or
  scatter (indexing, reshape, transpose, broadcast, concatenate, sum: the
  values are all 1 and are not stored) or, after products, a weighted one;
* a dense 2-D array — the fallback (``structure="dense"`` uses nothing else).

Products and sums stay structured where that is exact (diagonal·diagonal,
diagonal·dense, gather·dense, sparse·sparse …) and become dense when a
sparse result fills more than :data:`DENSIFY_FRACTION` of its matrix.

Values may be traced (the explicit mode nested inside another transformation),
so every operation on values is a ``dualrev.numpy`` call; the *patterns* (row
and column indices) are plain integer arrays computed with NumPy. For
planning, labels are symbolic: :data:`DENSE` for a dense matrix and
``Diagonal``/``Sparse`` whose values are :data:`SYMBOLIC`, so a plan's cost is
simulated with the same code that runs it.

The cost of a product is the number of scalar multiplications it performs:
m·k·n for dense·dense, one per stored entry of the structured factor and
column (or row) of the dense one, one per matching pair of entries for
sparse·sparse — and none where a factor is 0-1 (a copy, not a multiply) or
the identity. Sums are free.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import numpy as dnp
from ..core import dtype_of, shape_of
from ..numpy._rules.indexing import scatter_add_p

#: A sparse result filling more than this share of its matrix is stored dense.
DENSIFY_FRACTION = 0.25


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


IDENTITY = _Marker("I")  # the identity matrix
DENSE = _Marker("J")  # a dense matrix whose values are not formed (planning)
SYMBOLIC = _Marker("values")  # the values of a structured label, not formed (planning)


class Diagonal:
    """A square diagonal matrix: ``vals`` is its diagonal (1-D)."""

    __slots__ = ("vals", "n")

    def __init__(self, vals: Any, n: int) -> None:
        self.vals = vals
        self.n = n

    @property
    def nnz(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return f"Diagonal({self.n})"


class Sparse:
    """A matrix of ``shape`` with entries ``vals[i]`` at ``(rows[i], cols[i])``;
    ``vals is None`` means every entry is exactly 1. Positions are unique."""

    __slots__ = ("rows", "cols", "vals", "shape")

    def __init__(self, rows: np.ndarray, cols: np.ndarray, vals: Any, shape: tuple[int, int]) -> None:
        self.rows = rows
        self.cols = cols
        self.vals = vals
        self.shape = shape

    @property
    def nnz(self) -> int:
        return len(self.rows)

    def transpose(self) -> Sparse:
        return Sparse(self.cols, self.rows, self.vals, (self.shape[1], self.shape[0]))

    def __repr__(self) -> str:
        kind = "0-1" if self.vals is None else "weighted"
        return f"Sparse({self.shape[0]}x{self.shape[1]}, {self.nnz} {kind} entries)"


class Operator:
    """A dense local Jacobian kept matrix-free: the primitive's JVP rule applies
    it to columns, its VJP rule to rows (as forward and reverse mode do), and
    it is formed only when it must meet another structure. ``jvp``/``vjp`` are
    ``batch -> batch`` callables on ``(c, *in_shape)`` / ``(c, *out_shape)``
    blocks (``vjp`` None when the primitive has no VJP rule); both None when
    symbolic. One direction costs m·n multiplications, like a dense row or
    column."""

    __slots__ = ("jvp", "vjp", "m", "n", "in_shape", "out_shape", "has_vjp")

    def __init__(self, jvp: Any, vjp: Any, m: int, n: int, in_shape: tuple, out_shape: tuple, has_vjp: bool) -> None:
        self.jvp, self.vjp, self.m, self.n = jvp, vjp, m, n
        self.in_shape, self.out_shape, self.has_vjp = in_shape, out_shape, has_vjp

    @property
    def nnz(self) -> int:
        return 0

    @property
    def vals(self) -> Any:
        return SYMBOLIC if self.jvp is None else True

    def right(self, x: Any) -> Any:
        """J · X for X of shape (n, c)."""
        c = shape_of(x)[1]
        out = self.jvp(dnp.reshape(dnp.transpose(x), (c,) + self.in_shape))
        return dnp.transpose(dnp.reshape(out, (c, self.m)))

    def left(self, x: Any) -> Any:
        """X · J for X of shape (c, m)."""
        c = shape_of(x)[0]
        return dnp.reshape(self.vjp(dnp.reshape(x, (c,) + self.out_shape)), (c, self.n))

    def form_cost(self) -> int:
        """Multiplications of forming the matrix: its narrower side's directions."""
        return self.m * self.n * (min(self.m, self.n) if self.has_vjp else self.n)

    def form(self) -> Any:
        if self.jvp is None:
            return DENSE
        if self.has_vjp and self.m < self.n:
            return self.left(np.eye(self.m))
        return self.right(np.eye(self.n))

    def __repr__(self) -> str:
        return f"Operator({self.m}x{self.n})"


def is_symbolic(label: Any) -> bool:
    return label is DENSE or (isinstance(label, (Diagonal, Sparse, Operator)) and label.vals is SYMBOLIC)


def stored_entries(label: Any, shape: tuple[int, int]) -> int:
    """How many values a label stores (0 for the identity and 0-1 structures)."""
    if label is IDENTITY or isinstance(label, Operator):
        return 0
    if isinstance(label, Diagonal):
        return label.n
    if isinstance(label, Sparse):
        return 0 if label.vals is None else label.nnz
    return shape[0] * shape[1]


def symbolic(label: Any) -> Any:
    """The label without its values, for planning."""
    if label is IDENTITY or label is DENSE:
        return label
    if isinstance(label, Operator):
        return Operator(None, None, label.m, label.n, label.in_shape, label.out_shape, label.has_vjp)
    if isinstance(label, Diagonal):
        return Diagonal(SYMBOLIC, label.n)
    if isinstance(label, Sparse):
        return Sparse(label.rows, label.cols, None if label.vals is None else SYMBOLIC, label.shape)
    return DENSE


def to_dense(label: Any, shape: tuple[int, int], dtype: Any) -> Any:
    """The label as a dense ``shape`` array (or :data:`DENSE` when symbolic)."""
    if is_symbolic(label):
        return DENSE
    if isinstance(label, Operator):
        return label.form()
    if label is IDENTITY:
        return np.eye(shape[0], shape[1], dtype=dtype)
    if isinstance(label, Diagonal):
        return _scatter(label.vals, (np.arange(label.n), np.arange(label.n)), shape, dtype)
    if isinstance(label, Sparse):
        vals = np.ones(label.nnz, dtype=dtype) if label.vals is None else label.vals
        return _scatter(vals, (label.rows, label.cols), shape, dtype)
    return label


def _scatter(vals: Any, index: tuple, shape: tuple, dtype: Any) -> Any:
    """Zeros of ``shape`` with ``vals`` added at ``index`` (positions unique)."""
    if isinstance(vals, np.ndarray):
        out = np.zeros(shape, dtype=np.result_type(vals.dtype, dtype))
        out[index] = vals
        return out
    return scatter_add_p(vals, index=index, shape=tuple(shape), in_ndim=1)


def _dtype(*labels: Any) -> Any:
    found = [dtype_of(x) for x in labels if x is not None and not isinstance(x, _Marker)]
    return np.result_type(*found) if found else np.float64


# --------------------------------------------------------------------------
# Products: outer (m×k) · inner (k×n)
# --------------------------------------------------------------------------


def product(outer: Any, inner: Any, m: int, k: int, n: int) -> tuple[Any, int]:
    """``outer · inner`` and the multiplications it costs."""
    if outer is IDENTITY:
        return inner, 0
    if inner is IDENTITY:
        return outer, 0
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
    m = a.shape[0]
    picked = dense[a.cols]
    if a.vals is not None:
        picked = dnp.expand_dims(a.vals, -1) * picked
    unique_rows = len(np.unique(a.rows)) == a.nnz
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
        return DENSE if s.vals is SYMBOLIC else to_dense(s, s.shape, _dtype(s.vals))
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
    structured = [x for x in (a, b) if x is IDENTITY or isinstance(x, (Diagonal, Sparse))]
    if len(structured) == 2:
        sa, sb = _as_sparse(a, shape), _as_sparse(b, shape)
        vals = _concat_vals(sa, sb)
        return _coalesce(np.concatenate([sa.rows, sb.rows]), np.concatenate([sa.cols, sb.cols]), vals, shape)
    if any(is_symbolic(x) for x in (a, b)):
        return DENSE
    dtype = _dtype(*(x.vals if isinstance(x, (Diagonal, Sparse)) else None if x is IDENTITY else x for x in (a, b)))
    return dnp.add(to_dense(a, shape, dtype), to_dense(b, shape, dtype))


def _as_sparse(x: Any, shape: tuple[int, int]) -> Sparse:
    if isinstance(x, Sparse):
        return x
    n = shape[0]
    vals = None if x is IDENTITY else x.vals
    return Sparse(np.arange(n), np.arange(n), vals, shape)


def _concat_vals(a: Sparse, b: Sparse) -> Any:
    if a.vals is None and b.vals is None:
        return None
    if a.vals is SYMBOLIC or b.vals is SYMBOLIC:
        return SYMBOLIC
    dtype = _dtype(a.vals, b.vals)
    va = np.ones(a.nnz, dtype=dtype) if a.vals is None else a.vals
    vb = np.ones(b.nnz, dtype=dtype) if b.vals is None else b.vals
    return dnp.concatenate([va, vb])
