"""Colourings of a sparsity pattern: which directions may share one pass.

* **column** (forward mode): columns that share no row are *structurally
  orthogonal* and can be summed into one seed direction; ``J · S`` (S the
  0-1 seed matrix of the colour classes) holds every entry once:
  ``J[i, j] = (J S)[i, colour(j)]`` (Curtis–Powell–Reid). A valid grouping is
  exactly a distance-1 colouring of the *column-intersection graph* (columns
  adjacent when they share a row), so it is computed with **networkx**'s
  ``greedy_color`` on that graph: a well-kept, tested implementation of the
  standard orderings (``largest_first``, ``smallest_last`` — Coleman–Moré's
  choice, usually the fewest colours on banded and stencil patterns —
  ``saturation_largest_first``/DSATUR — networkx's DSATUR is quadratic in
  the number of columns: minutes at 10⁴ columns, so it is never the default
  nor part of ``"best"`` —, ``natural``), where writing our own would only
  add code to trust.
* **row** (reverse mode): the column colouring of the transpose;
  ``J[i, j] = (Wᵀ J)[colour(i), j]``.
* **star** (symmetric Hessians): a colouring of the adjacency graph of H
  (i ~ j when H[i, j] ≠ 0, i ≠ j) that is distance-1 (neighbours differ) and
  in which every path on four vertices uses at least three colours. Then
  every nonzero can be read directly off ``B = H S`` *using symmetry*: either
  ``j`` is the only column of its colour in row ``i`` (``H[i, j] = B[i,
  colour(j)]``) or ``i`` is the only one of its colour in row ``j`` (``H[i,
  j] = H[j, i] = B[j, colour(i)]``) — Coleman–Moré's symmetrically
  orthogonal partition, which is equivalent to a star colouring (Gebremedhin,
  Manne & Pothen, SIAM Review 47, 2005). networkx has no star colouring, so
  this is their greedy Algorithm 4.1, on the vertex order of the networkx
  strategy named (``smallest_last``, ``largest_first``) or ``natural``. It
  needs no more colours than the column colouring (a distance-2 colouring is
  a star colouring) and often fewer: a tridiagonal H takes 3.

Every colouring, computed or given, is checked against the pattern with the
same rule the recovery uses (:func:`check_colouring`), so an invalid one
raises before any pass, naming two directions that collide.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

KINDS = ("column", "row", "star")
STRATEGIES = ("largest_first", "smallest_last", "saturation_largest_first", "natural", "best")
STAR_STRATEGIES = ("largest_first", "smallest_last", "natural", "best")


@dataclass(frozen=True)
class Colouring:
    """A colouring of a pattern: ``colours[k]`` is the pass of column ``k``
    (``kind="column"`` or ``"star"``) or of row ``k`` (``kind="row"``)."""

    kind: str
    colours: np.ndarray
    shape: tuple[int, int]
    strategy: str
    seconds: float = field(default=0.0, compare=False)

    @property
    def n_colours(self) -> int:
        """The number of compressed directions (passes batched into one)."""
        return int(self.colours.max()) + 1 if len(self.colours) else 0

    def seeds(self, dtype: Any = np.float64) -> np.ndarray:
        """The 0-1 seed matrix, one row per colour: ``(n_colours, len(colours))``."""
        out = np.zeros((self.n_colours, len(self.colours)), dtype=dtype)
        out[self.colours, np.arange(len(self.colours))] = 1
        return out

    def __repr__(self) -> str:
        return f"Colouring({self.kind}, {self.n_colours} colours for a {self.shape[0]}x{self.shape[1]} pattern)"


def as_pattern(pattern: Any, who: str) -> sp.csr_matrix:
    """A pattern (scipy.sparse or dense array-like) as a canonical bool CSR matrix."""
    if sp.issparse(pattern):
        out = sp.csr_matrix(pattern, dtype=bool)
    else:
        arr = np.asarray(pattern)
        if arr.ndim != 2:
            raise ValueError(f"{who}: a sparsity pattern must be a 2-D matrix, got shape {arr.shape}")
        out = sp.csr_matrix(arr != 0)
    out.eliminate_zeros()
    out.sum_duplicates()
    out.sort_indices()
    return out


def _intersection_graph(pattern: sp.csr_matrix) -> nx.Graph:
    """Columns adjacent when they share a row (PᵀP without its diagonal)."""
    p = sp.csr_matrix(pattern, dtype=bool)  # Boolean products: counts of shared rows cannot overflow
    gram = sp.coo_matrix(p.T.tocsr() @ p)
    keep = gram.row < gram.col
    graph = nx.Graph()
    graph.add_nodes_from(range(pattern.shape[1]))
    graph.add_edges_from(zip(gram.row[keep].tolist(), gram.col[keep].tolist()))
    return graph


def _greedy(graph: nx.Graph, strategy: str) -> np.ndarray:
    if strategy == "natural":
        found = nx.greedy_color(graph, strategy=lambda g, colors: sorted(g))
    else:
        found = nx.greedy_color(graph, strategy=strategy)
    colours = np.zeros(graph.number_of_nodes(), dtype=np.int64)
    if found:
        colours[np.fromiter(found.keys(), dtype=np.int64)] = np.fromiter(found.values(), dtype=np.int64)
    return colours


def _order(graph: nx.Graph, strategy: str) -> list[int]:
    if strategy == "natural":
        return sorted(graph)
    if strategy == "largest_first":
        return list(nx.algorithms.coloring.strategy_largest_first(graph, {}))
    return list(nx.algorithms.coloring.strategy_smallest_last(graph, {}))


def _star(pattern: sp.csr_matrix, strategy: str) -> np.ndarray:
    """Gebremedhin–Manne–Pothen's greedy star colouring (Algorithm 4.1) of the
    adjacency graph of a symmetric pattern, vertices in the strategy's order."""
    sym = sp.csr_matrix(pattern + pattern.T, dtype=bool)
    coo = sym.tocoo()
    keep = coo.row != coo.col
    graph = nx.Graph()
    graph.add_nodes_from(range(sym.shape[0]))
    graph.add_edges_from(zip(coo.row[keep].tolist(), coo.col[keep].tolist()))
    nbrs = [list(graph.adj[v]) for v in range(sym.shape[0])]
    colour = [-1] * sym.shape[0]
    for v in _order(graph, strategy):
        forbidden = set()
        for w in nbrs[v]:
            cw = colour[w]
            if cw >= 0:
                forbidden.add(cw)
            for x in nbrs[w]:
                cx = colour[x]
                if x == v or cx < 0:
                    continue
                if cw < 0:  # v and x would be two of a colour around a vertex coloured later
                    forbidden.add(cx)
                elif any(colour[y] == cw for y in nbrs[x] if y != w):  # y-x-w-v would be bicoloured
                    forbidden.add(cx)
        c = 0
        while c in forbidden:
            c += 1
        colour[v] = c
    return np.asarray(colour, dtype=np.int64)


def colouring(pattern: Any, kind: str = "column", strategy: str = "largest_first") -> Colouring:
    """A colouring of ``pattern`` (a scipy.sparse or dense 0-1 matrix).

    ``kind``: ``"column"`` (forward mode, one direction per colour of
    columns), ``"row"`` (reverse mode) or ``"star"`` (a symmetric Hessian
    pattern, recovered using symmetry). ``strategy``: the greedy vertex order
    (``"largest_first"``, ``"smallest_last"``, ``"natural"``,
    ``"saturation_largest_first"`` — column/row only, quadratic in networkx —)
    or ``"best"``: the first three, keeping the fewest colours. The result is checked before it is returned.
    """
    who = "colouring"
    if kind not in KINDS:
        raise ValueError(f"{who}: unknown kind {kind!r}; choose one of {', '.join(map(repr, KINDS))}")
    allowed = STAR_STRATEGIES if kind == "star" else STRATEGIES
    if strategy not in allowed:
        raise ValueError(f"{who}: unknown strategy {strategy!r} for kind {kind!r}; choose one of {allowed}")
    p = as_pattern(pattern, who)
    if kind == "star" and p.shape[0] != p.shape[1]:
        raise ValueError(f"{who}: a star colouring needs a square (Hessian) pattern, got shape {p.shape}")
    start = time.perf_counter()
    names = [s for s in allowed if s not in ("best", "saturation_largest_first")] if strategy == "best" else [strategy]
    best: tuple[int, str, np.ndarray] | None = None
    for name in names:
        if kind == "star":
            colours = _star(p, name)
        else:
            colours = _greedy(_intersection_graph(p if kind == "column" else p.T.tocsr()), name)
        count = int(colours.max()) + 1 if len(colours) else 0
        if best is None or count < best[0]:
            best = (count, name, colours)
    assert best is not None
    result = Colouring(kind, best[2], (int(p.shape[0]), int(p.shape[1])), best[1], time.perf_counter() - start)
    check_colouring(result, p, who)
    return result


def _counts(rows: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys ``row * n_groups + group`` and how often each occurs."""
    keys, counts = np.unique(rows.astype(np.int64) * max(n_groups, 1) + groups, return_counts=True)
    return keys, counts


def lookup(keys: np.ndarray, counts: np.ndarray, query: np.ndarray) -> np.ndarray:
    """The count of each queried key (0 when absent)."""
    if len(keys) == 0:
        return np.zeros(len(query), dtype=np.int64)
    at = np.clip(np.searchsorted(keys, query), 0, len(keys) - 1)
    return np.where(keys[at] == query, counts[at], 0)


def unique_in_row(pattern: sp.csr_matrix, colours: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each nonzero (i, j): is j the only column of its colour in row i?"""
    coo = pattern.tocoo()
    rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
    k = int(colours.max()) + 1 if len(colours) else 1
    keys, counts = _counts(rows, colours[cols], k)
    return rows, cols, lookup(keys, counts, rows * k + colours[cols]) == 1


def check_colouring(col: Any, pattern: sp.csr_matrix, who: str) -> None:
    """Raise ``ValueError`` unless ``col`` is a valid colouring of its kind for ``pattern``."""
    if not isinstance(col, Colouring):
        raise TypeError(f"{who}: colouring= must be a dr.Colouring (from dr.colouring(pattern, ...)), got {col!r}")
    length = pattern.shape[0] if col.kind == "row" else pattern.shape[1]
    if len(col.colours) != length or (col.kind == "star" and pattern.shape[0] != pattern.shape[1]):
        raise ValueError(
            f"{who}: the {col.kind} colouring was made for a {col.shape[0]}x{col.shape[1]} pattern, but this "
            f"pattern is {pattern.shape[0]}x{pattern.shape[1]}; compute one with dr.colouring(pattern, kind=...)"
        )
    if col.kind == "star":
        sym = sp.csr_matrix(pattern + pattern.T, dtype=bool)
        rows, cols, ok = unique_in_row(sym, col.colours)
        mirror = _mirror(sym, rows, cols, ok)
        bad = np.flatnonzero(~(ok | mirror))
        if len(bad):
            i, j = int(rows[bad[0]]), int(cols[bad[0]])
            raise ValueError(
                f"{who}: the star colouring is not valid for this pattern: H[{i}, {j}] cannot be recovered "
                f"(column {j} shares colour {int(col.colours[j])} with another column of row {i}, and column {i} "
                f"shares colour {int(col.colours[i])} with another column of row {j}); compute the colouring "
                f"from this pattern with dr.colouring(pattern, kind='star')"
            )
        return
    p = pattern if col.kind == "column" else pattern.T.tocsr()
    rows, cols, ok = unique_in_row(p, col.colours)
    bad = np.flatnonzero(~ok)
    if len(bad):
        i, j = int(rows[bad[0]]), int(cols[bad[0]])
        same = cols[(rows == i) & (col.colours[cols] == col.colours[j])]
        other = int(same[same != j][0])
        what = ("columns", "row") if col.kind == "column" else ("rows", "column")
        raise ValueError(
            f"{who}: the {col.kind} colouring is not valid for this pattern: {what[0]} {j} and {other} share "
            f"colour {int(col.colours[j])} but both have a nonzero in {what[1]} {i}, so their sum cannot be "
            f"split; compute the colouring from this pattern with dr.colouring(pattern, kind={col.kind!r})"
        )


def _mirror(sym: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """For each nonzero (i, j) of a symmetric pattern: is the mirrored (j, i) directly recoverable?"""
    n = sym.shape[1]
    keys = rows * n + cols
    order = np.argsort(keys)
    at = np.searchsorted(keys[order], cols * n + rows)
    return ok[order[np.clip(at, 0, len(keys) - 1)]]
