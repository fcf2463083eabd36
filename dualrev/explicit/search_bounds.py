"""Admissible lower bounds for :mod:`.search`: what eliminating the remaining
vertices must still cost, whatever the order.

Each remaining intermediate vertex is eliminated exactly once and every
elimination's cost is a sum of non-negative product (and forming) costs, so a
sum over the remaining vertices of lower bounds on each one's own
elimination is a lower bound on the rest (admissible). The per-vertex bounds
(:meth:`Floors.floor`) are documented where they are computed.
"""

from __future__ import annotations

from typing import Any

from .graph import Graph
from .structures import IDENTITY, BlockDiagonal, Diagonal, Sparse


def _weights(graph: Graph, intermediates: list[int]) -> dict[int, tuple[bool, int, int]]:
    """Per vertex ``v`` (intermediate, input or output): whether every product
    at an intermediate ``v`` costs at least size_v (``clean``: no 0-1, sparse or
    identity label on any path through it), and the least total size of a set
    of vertices separating the inputs from ``v`` (``v`` itself included) and
    ``v`` from the outputs: any future predecessor set of a vertex reached
    through ``v`` is such a separator, because elimination keeps every path."""
    inner = set(intermediates)
    clean_in: dict[int, bool] = {}
    for v in sorted(graph.preds):  # execution order: predecessors first
        clean_in[v] = all(_valued(m) and (u not in inner or clean_in[u]) for u, m in graph.preds[v].items())
    clean_out: dict[int, bool] = {}
    for v in sorted(graph.preds, reverse=True):
        ws = graph.succs.get(v, ())
        clean_out[v] = all(_valued(graph.preds[w][v]) and (w not in inner or clean_out[w]) for w in ws)
    forward = {v: list(ps) for v, ps in graph.preds.items()}
    backward = {u: list(ws) for u, ws in graph.succs.items()}
    sources = [v for v in graph.preds if not graph.preds[v] and v not in inner]
    sinks = [v for v in graph.preds if not graph.succs.get(v) and v not in inner]
    into = _cuts(forward, graph.sizes, sources)
    out_of = _cuts(backward, graph.sizes, sinks)
    return {v: (clean_in[v] and clean_out[v], into[v], out_of[v]) for v in graph.preds}


def _cuts(preds: dict[int, list[int]], sizes: dict[int, int], sources: list[int]) -> dict[int, int]:
    """For every vertex, the min total size of a vertex set (itself allowed)
    separating it from ``sources`` along ``preds`` (a max flow per vertex)."""
    cuts = {}
    for target in preds:
        # Split each vertex v into v_in = (v, 0) -> v_out = (v, 1) of capacity size_v.
        capacity: dict[tuple, dict[tuple, float]] = {}

        ancestors, todo = {target}, [target]
        while todo:
            v = todo.pop()
            for u in preds[v]:
                if u not in ancestors:
                    ancestors.add(u)
                    todo.append(u)
        for v in ancestors:
            _arc(capacity, (v, 0), (v, 1), sizes[v])
            for u in preds[v]:
                _arc(capacity, (u, 1), (v, 0), float("inf"))
            if v in sources:
                _arc(capacity, ("s", 0), (v, 0), float("inf"))
        cuts[target] = int(_max_flow(capacity, ("s", 0), (target, 1))) if ("s", 0) in capacity else sizes[target]
    return cuts


def _arc(capacity: dict, a: tuple, b: tuple, c: float) -> None:
    capacity.setdefault(a, {})[b] = capacity.get(a, {}).get(b, 0) + c
    capacity.setdefault(b, {}).setdefault(a, 0)


def _max_flow(capacity: dict, source: tuple, sink: tuple) -> float:
    """Edmonds-Karp on a residual ``capacity`` map (modified in place)."""
    total = 0.0
    while True:
        parent = {source: source}
        queue = [source]
        for a in queue:
            for b, c in capacity[a].items():
                if c > 0 and b not in parent:
                    parent[b] = a
                    queue.append(b)
            if sink in parent:
                break
        if sink not in parent:
            return total
        push, b = float("inf"), sink
        while b != source:
            push, b = min(push, capacity[parent[b]][b]), parent[b]
        b = sink
        while b != source:
            a = parent[b]
            capacity[a][b] -= push
            capacity[b][a] += push
            b = a
        total += push


def _valued(label: Any) -> bool:
    """A label whose products always cost at least one multiplication per
    entry of the eliminated vertex: never the identity, never a 0-1 or sparse pattern."""
    return label is not IDENTITY and not isinstance(label, Sparse)




class _Reach:
    """Which entries of each vertex structurally depend on an input
    (``into``) and which entries some output depends on (``out_of``), as bit
    masks, from the graph's patterns (a dense label links every entry). At
    any later state, the rows of a vertex's in-labels together still cover
    ``into`` (elimination keeps every structural path, and symbolic products
    and sums never drop a pattern entry), and likewise the columns of its
    out-labels ``out_of``."""

    def __init__(self, graph: Graph, intermediates: list[int], table: Any) -> None:
        self.table = table
        inner = set(intermediates)
        sizes = graph.sizes
        self.into: dict[int, int] = {}
        self.out_of: dict[int, int] = {}
        self._rows: dict[tuple[int, int], int] = {}
        self._cols: dict[tuple[int, int], int] = {}
        sim = graph.symbolic()
        ids = {(v, u): table.intern(m, (sizes[v], sizes[u])) for v, ps in sim.preds.items() for u, m in ps.items()}
        for v in sorted(sim.preds):  # execution order
            if v not in inner:
                self.into[v] = (1 << sizes[v]) - 1
                continue
            mask = 0
            for u in sim.preds[v]:
                mask |= _hit(table, ids[v, u], self.into[u], rows=True)
            self.into[v] = mask
        for v in sorted(sim.preds, reverse=True):
            if v not in inner:
                self.out_of[v] = (1 << sizes[v]) - 1
                continue
            mask = 0
            for w in sim.succs.get(v, ()):
                mask |= _hit(table, ids[w, v], self.out_of[w], rows=False)
            self.out_of[v] = mask

    def rows(self, label: int, source: int) -> int:
        """Rows of ``label`` (on source → v) linked to an entry of ``into[source]``."""
        found = self._rows.get((label, source))
        if found is None:
            found = self._rows[label, source] = _hit(self.table, label, self.into[source], rows=True)
        return found

    def cols(self, label: int, target: int) -> int:
        """Columns of ``label`` (on v → target) linked to an entry of ``out_of[target]``."""
        found = self._cols.get((label, target))
        if found is None:
            found = self._cols[label, target] = _hit(self.table, label, self.out_of[target], rows=False)
        return found


def _hit(table: Any, label: int, mask: int, rows: bool) -> int:
    """The rows (``rows``) of ``label`` with an entry in a column of ``mask``,
    or its columns with an entry in a row of ``mask``."""
    m, n = table.shapes[label]
    structure = table.labels[label]
    if not mask:
        return 0
    if structure is IDENTITY or isinstance(structure, Diagonal):
        return mask
    if isinstance(structure, Sparse):
        found = 0
        src, dst = (structure.cols, structure.rows) if rows else (structure.rows, structure.cols)
        for a, b in zip(src.tolist(), dst.tolist()):
            if mask >> a & 1:
                found |= 1 << b
        return found
    if isinstance(structure, BlockDiagonal):  # block i links its p rows to its q columns, nothing else
        width, height = (structure.q, structure.p) if rows else (structure.p, structure.q)
        found, full = 0, (1 << height) - 1
        for i in range(structure.r):
            if mask >> (i * width) & ((1 << width) - 1):
                found |= full << (i * height)
        return found
    return (1 << (m if rows else n)) - 1  # dense or matrix-free: every entry linked


class Floors:
    """Per remaining vertex a lower bound on the cost of eliminating it,
    whenever that happens, and their sum, kept up to date as eliminations
    change the neighbourhoods (only the neighbours are re-priced)."""

    def __init__(self, graph: Graph, intermediates: list[int], state: Any) -> None:
        self.weights = _weights(graph, intermediates)
        self.state = state
        self.heavy = state.table.heavy
        self.sizes = graph.sizes
        self.weighted = state.table.weighted
        self.reach = _Reach(graph, intermediates, state.table)
        self.sides: dict[tuple[int, int, bool], tuple[int, int]] = {}
        self.floors = {v: self.floor(v) for v in intermediates}
        self.total = sum(self.floors.values())
        self.chains: dict[tuple, int] = {}  # chain_floor per path's labels

    def floor(self, v: int) -> int:
        """A heavy (dense or matrix-free) edge stays heavy until ``v`` is
        eliminated, and so do its successors' (products with a dense factor
        are dense): eliminating ``v`` then costs at least ``size_v · a · b``,
        where a (b) is the least total size of a vertex set separating the
        inputs from that in-edge's source (the out-edge's target from the
        outputs): any set of predecessors (successors) ``v`` can have is such
        a separator. Where no identity or sparse label lies on any path
        through ``v`` (``clean``), every product there costs at least size_v."""
        preds, sides = self.state.preds, self.sides
        a = rows = 0
        for u, m in preds[v].items():
            side = sides.get((m, u, True))
            if side is None:
                side = sides[m, u, True] = self.side(m, u, True)
            if side[0] > a:
                a = side[0]
            rows |= side[1]
        b = cols = 0
        for w in self.state.succs[v]:
            m = preds[w][v]
            side = sides.get((m, w, False))
            if side is None:
                side = sides[m, w, False] = self.side(m, w, False)
            if side[0] > b:
                b = side[0]
            cols |= side[1]
        bound = self.sizes[v] * ((a or 1) * (b or 1) if self.weights[v][0] else a * b)
        # Weighted (not identity, not 0-1) labels stay weighted (a product or
        # sum with a weighted factor is weighted), and their patterns keep
        # every entry that structurally depends on the inputs (:class:`_Reach`).
        # So at v's elimination its weighted in-labels cover (in their rows)
        # every entry of ``rows`` and its weighted out-labels (in their
        # columns) every entry of ``cols``; a product of two weighted labels
        # costs at least one multiplication per entry k of v that is a column
        # of the outer and a row of the inner (diagonal: one per entry; sparse:
        # one per stored entry or matching pair; dense or operator: more).
        # A heavy out-label (m×k) times a weighted in-label costs at least m per
        # row of the in-label (dense·diagonal m·k, dense·sparse m·nnz, more for
        # dense or operators), and the heavy out-labels' heights sum to at
        # least b; likewise a weighted out-label times heavy in-labels.
        return max(bound, (rows & cols).bit_count(), b * rows.bit_count(), a * cols.bit_count())

    def side(self, label: int, other: int, into: bool) -> tuple[int, int]:
        """For an edge with ``label`` from (``into``) or to ``other``: the cut
        it brings to :meth:`floor` (a or b; 0 unless heavy) and the entries of
        v it covers (rows or columns; 0 unless weighted)."""
        cut = self.weights[other][1 if into else 2] if self.heavy[label] else 0
        if not self.weighted[label]:
            return cut, 0
        return cut, (self.reach.rows(label, other) if into else self.reach.cols(label, other))

    def eliminated(self, v: int, record: list) -> list:
        """``v`` was eliminated (``record`` from :meth:`_State.eliminate`):
        re-price its neighbours; returns what :meth:`restore` undoes."""
        floors = self.floors
        changed = [(v, floors.pop(v))]
        delta = -changed[0][1]
        for n in set(record[1]) | record[2]:
            old = floors.get(n)
            if old is not None:
                changed.append((n, old))
                new = floors[n] = self.floor(n)
                delta += new - old
        self.total += delta
        return changed

    def restore(self, changed: list) -> None:
        floors = self.floors
        for n, old in changed:
            self.total += old - floors.get(n, 0)
            floors[n] = old


#: A relaxed label (:func:`chain_floor`): every product with it costs 0 and is itself.
_BOTTOM = -1
#: Most (label, cost) pairs kept per interval of :func:`chain_floor` before relaxing to _BOTTOM.
_PARETO_MAX = 8


def chain_floor(table: Any, labels: list[int]) -> int:
    """A lower bound on what eliminating the interior vertices of a path
    p_0 → … → p_L (``labels[k]`` on edge p_k → p_{k+1}, ends never eliminated)
    costs in *products of consecutive path segments*: the matrix-chain DP over
    every bracketing, on the structured cost model, keeping per interval every
    label its product can have with the least cost reaching it.

    Admissible: eliminating an interior vertex v of the path multiplies the
    labels of the edges to its current path neighbours, and those labels are
    the products of the path segments in the bracketing the order induces,
    *plus* the sums of every other path between the same ends (or dense-formed
    operators). The cost model is monotone in the labels' structure (a
    superset pattern, weighted instead of 0-1, dense instead of structured:
    never fewer multiplications, never a smaller product) once a matrix-free
    operator is read as the dense matrix (``_dense_ops``: an operator's product
    never costs less than the dense one's). So each real product costs at
    least the DP's product for that bracketing, and the DP takes the least
    over bracketings. An interval with more than :data:`_PARETO_MAX` labels
    is relaxed to :data:`_BOTTOM` at its least cost (free products: smaller)."""
    n = len(labels)
    cells: dict[tuple[int, int], dict[int, int]] = {(i, i + 1): {table.dense_op(m): 0} for i, m in enumerate(labels)}
    product = table.product
    for length in range(2, n + 1):
        for i in range(0, n - length + 1):
            j = i + length
            cell: dict[int, int] = {}
            for k in range(i + 1, j):
                left, right = cells[i, k], cells[k, j]  # inner: p_i → p_k; outer: p_k → p_j
                for outer, c_outer in right.items():
                    for inner, c_inner in left.items():
                        if outer == _BOTTOM or inner == _BOTTOM:
                            label, c = _BOTTOM, 0
                        else:
                            label, c = product(outer, inner)
                        total = c_outer + c_inner + c
                        if total < cell.get(label, total + 1):
                            cell[label] = total
            if len(cell) > _PARETO_MAX:
                cell = {_BOTTOM: min(cell.values())}
            cells[i, j] = cell
    return min(cells[0, n].values())


def path_floor(floors: Floors, max_paths: int = 20) -> int:
    """A lower bound on eliminating every remaining vertex: the chain DP
    (:func:`chain_floor`) on a few paths with disjoint interiors (so no
    elimination is counted twice: each is charged to the one path through
    its vertex), each path taken where it beats the sum of its interior's
    vertex floors, plus the vertex floors of every other remaining vertex.
    Paths are picked greedily, the most weighted edges first; their ends are
    never eliminated, their interiors all remaining."""
    state = floors.state
    preds, remaining, weighted = state.preds, state.remaining, state.table.weighted
    vertex = floors.floors
    used: set[int] = set()
    total = 0
    for _ in range(max_paths):
        score: dict[int, int] = {}
        came: dict[int, int] = {}
        best, end, last = 1, -1, -1
        for v in sorted(remaining - used):
            s, frm = -1, None
            for u, m in preds[v].items():
                if u in remaining:
                    found = None if u in used else score.get(u)
                    if found is None:
                        continue
                    su = found
                else:
                    su = 0
                su += weighted[m]
                if su > s:
                    s, frm = su, u
            if frm is None:
                continue
            score[v], came[v] = s, frm
            for w in sorted(state.succs[v]):
                if w not in remaining and s + weighted[preds[w][v]] > best:
                    best, end, last = s + weighted[preds[w][v]], w, v
        if end < 0:
            break
        path = [end]
        v = last
        while v in remaining:
            path.append(v)
            v = came[v]
        path.append(v)
        path.reverse()
        interior = path[1:-1]
        labels = tuple(preds[b][a] for a, b in zip(path, path[1:]))
        chain = floors.chains.get(labels)
        if chain is None:
            chain = floors.chains[labels] = chain_floor(state.table, list(labels))
        total += max(chain, sum(vertex[v] for v in interior))
        used.update(interior)
    return total + sum(f for v, f in vertex.items() if v not in used)
