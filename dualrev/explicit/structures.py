"""Local Jacobians kept in their structure: the labels of the linearised graph,
with their products and sums.

An edge ``u → v`` carries ``∂v/∂u``, a ``(size_v, size_u)`` matrix, as one of

* :data:`IDENTITY` — never stored, multiplies for free;
* :class:`Diagonal` — an elementwise op: the vector of its diagonal;
* :class:`Sparse` — coordinate form (rows, cols, values): a 0-1 gather or
  scatter (indexing, reshape, transpose, broadcast, concatenate, sum: the
  values are all 1 and are not stored) or, after products, a weighted one;
* a dense 2-D array — the fallback (``structure="dense"`` uses nothing else),
  or, for a matrix product with a vector (matmul's ``kron`` structure), the
  other operand itself as a read-only view: dense, but nothing formed or stored;
* :class:`BlockDiagonal` — r blocks of one shape: a batch of rows through a
  matrix product, ∂(X W)/∂X = I ⊗ Wᵀ (every block the program's Wᵀ, a
  broadcast view), kept so through diagonals and multiplied block by block;
* :class:`Operator` — a dense local Jacobian kept matrix-free (below).

Products and sums stay structured where that is exact (diagonal·diagonal,
diagonal·dense, gather·dense, sparse·sparse …) and become dense when a
sparse result fills more than :data:`DENSIFY_FRACTION` of its matrix.

Values may be traced (the explicit mode nested inside another transformation),
so every operation on values is a ``dualrev.numpy`` call; the *patterns* (row
and column indices) are plain integer arrays computed with NumPy. For
planning, labels are symbolic: :data:`DENSE` for a dense matrix and
``Diagonal``/``Sparse`` whose values are :data:`SYMBOLIC`, so a plan's cost is
simulated with the same code that runs it.

Their products and sums, with what each costs, are in ``algebra.py``.
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


class BlockDiagonal:
    """``r`` diagonal blocks of shape (p, q): the (r·p, r·q) matrix
    diag(blocks[0], …, blocks[r-1]) — ``I_r ⊗ F`` when every block is one
    matrix F (``blocks`` then a broadcast view of it, ``shared``). A batch of
    rows through a matrix product has this Jacobian, ∂(X W)/∂X = I ⊗ Wᵀ."""

    __slots__ = ("blocks", "r", "p", "q", "shared")

    def __init__(self, blocks: Any, r: int, p: int, q: int, shared: bool = False) -> None:
        self.blocks, self.r, self.p, self.q, self.shared = blocks, r, p, q, shared

    @property
    def vals(self) -> Any:
        return self.blocks

    @property
    def nnz(self) -> int:
        return self.r * self.p * self.q

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows and columns of the block entries, in the C order of ``blocks``."""
        i, a, b = np.indices((self.r, self.p, self.q)).reshape(3, -1)
        return i * self.p + a, i * self.q + b

    def __repr__(self) -> str:
        return f"BlockDiagonal({self.r} blocks of {self.p}x{self.q})"


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
        if type(x) is np.ndarray:  # plain values: NumPy's own methods
            c = x.shape[1]
            out = self.jvp(x.T.reshape((c,) + self.in_shape))
            return out.reshape(c, self.m).T if type(out) is np.ndarray else dnp.transpose(dnp.reshape(out, (c, self.m)))
        c = shape_of(x)[1]
        out = self.jvp(dnp.reshape(dnp.transpose(x), (c,) + self.in_shape))
        return dnp.transpose(dnp.reshape(out, (c, self.m)))

    def left(self, x: Any) -> Any:
        """X · J for X of shape (c, m)."""
        if type(x) is np.ndarray:
            c = x.shape[0]
            out = self.vjp(x.reshape((c,) + self.out_shape))
            return out.reshape(c, self.n) if type(out) is np.ndarray else dnp.reshape(out, (c, self.n))
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
    return label is DENSE or (isinstance(label, (Diagonal, Sparse, Operator, BlockDiagonal)) and label.vals is SYMBOLIC)


def stored_entries(label: Any, shape: tuple[int, int]) -> int:
    """How many values a label stores (0 for the identity and 0-1 structures)."""
    if label is IDENTITY or isinstance(label, Operator):
        return 0
    if isinstance(label, Diagonal):
        return label.n
    if isinstance(label, Sparse):
        return 0 if label.vals is None else label.nnz
    if isinstance(label, BlockDiagonal):
        return 0 if label.shared else label.nnz  # shared: a view of the program's matrix
    if type(label) is np.ndarray and not label.flags.writeable:
        return 0  # the program's own matrix, a read-only view (matmul's kron structure)
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
    if isinstance(label, BlockDiagonal):
        return BlockDiagonal(SYMBOLIC, label.r, label.p, label.q, label.shared)
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
        vals = label.vals
        if type(vals) is np.ndarray:  # plain values: the diagonal written in place
            out = np.zeros((label.n, label.n), dtype=np.result_type(vals.dtype, dtype))
            out.flat[:: label.n + 1] = vals
            return out
        return _scatter(vals, (np.arange(label.n), np.arange(label.n)), shape, dtype)
    if isinstance(label, Sparse):
        vals = np.ones(label.nnz, dtype=dtype) if label.vals is None else label.vals
        return _scatter(vals, (label.rows, label.cols), shape, dtype)
    if isinstance(label, BlockDiagonal):
        blocks = label.blocks
        if type(blocks) is np.ndarray:  # the blocks written in place
            out = np.zeros((label.r, label.p, label.r, label.q), dtype=np.result_type(blocks.dtype, dtype))
            diagonal = np.arange(label.r)
            out[diagonal, :, diagonal, :] = blocks
            return out.reshape(shape)
        return _scatter(dnp.reshape(blocks, (-1,)), label.positions(), shape, dtype)
    return label


def _scatter(vals: Any, index: tuple, shape: tuple, dtype: Any) -> Any:
    """Zeros of ``shape`` with ``vals`` added at ``index`` (positions unique)."""
    if isinstance(vals, np.ndarray):
        out = np.zeros(shape, dtype=np.result_type(vals.dtype, dtype))
        out[index] = vals
        return out
    return scatter_add_p(vals, index=index, shape=tuple(shape), in_ndim=1)


def dtype_of_values(*labels: Any) -> Any:
    found = [dtype_of(x) for x in labels if x is not None and not isinstance(x, _Marker)]
    return np.result_type(*found) if found else np.float64
