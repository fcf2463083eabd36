"""A layered layout for a small DAG, and the collapse that keeps big ones readable.

Layout (Sugiyama's scheme, its two simplest steps):

1. **longest-path layering**: every node sits one column right of its
   furthest predecessor, so every edge points right; a source (an input)
   then moves to the column just left of its first consumer;
2. **barycentre ordering**: within a column, nodes are sorted by the mean row
   of their neighbours in the previous column (then, sweeping back, in the
   next one); a few sweeps remove most crossings of a computation graph.

No edge routing: an edge spanning several columns is a straight line.

Collapse: above :data:`MAX_NODES` nodes a drawing stays readable only if
repeated structure is summarised. First every run of the same op (each node
the only successor of the one before and having it as its only predecessor)
becomes one node ``op ×k``; if that is not enough, every such run of any ops
(``k ops``). A graph still above the limit is refused with a message that
says how to draw it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Most nodes drawn (after collapsing runs).
MAX_NODES = 60
#: Barycentre sweeps (down and up).
SWEEPS = 4


@dataclass
class Group:
    """A drawn node: one vertex, or a run of vertices collapsed into one."""

    members: list[int]
    label: str
    collapsed: bool = False

    @property
    def last(self) -> int:
        return self.members[-1]


@dataclass
class Layout:
    groups: dict[int, Group]  # by the group's first vertex
    group_of: dict[int, int]  # vertex → group key
    edges: list[tuple[int, int]]  # between group keys
    position: dict[int, tuple[float, float]] = field(default_factory=dict)  # group key → (column, row)
    note: str = ""
    box_w: float = 0.95  # half a box's width (data units; render.fit_boxes sets it)
    column_width: float = 3.9


def _runs(preds: dict[int, list[int]], succs: dict[int, list[int]], ops: dict[int, str],
          fixed: set[int], same_op: bool) -> list[list[int]]:
    """Maximal chains v₁ → … → v_k (k ≥ 2) of non-fixed vertices, each the only
    successor of the one before and having it as its only predecessor."""
    runs, seen = [], set()
    for v in sorted(preds):
        if v in seen or v in fixed:
            continue
        p = preds[v]
        starts = not (len(p) == 1 and p[0] not in fixed and len(succs[p[0]]) == 1
                      and (not same_op or ops[p[0]] == ops[v]))
        if not starts:
            continue
        run = [v]
        while True:
            s = succs[run[-1]]
            if len(s) != 1 or s[0] in fixed or len(preds[s[0]]) != 1 or (same_op and ops[s[0]] != ops[v]):
                break
            run.append(s[0])
        seen.update(run)
        if len(run) >= 2:
            runs.append(run)
    return runs


def collapse(vertices: list[int], edges: list[tuple[int, int]], ops: dict[int, str], fixed: set[int],
             max_nodes: int = MAX_NODES) -> Layout:
    """Group the vertices (collapsing runs when there are more than ``max_nodes``) and lay them out."""
    preds: dict[int, list[int]] = {v: [] for v in vertices}
    succs: dict[int, list[int]] = {v: [] for v in vertices}
    for u, v in edges:
        preds[v].append(u)
        succs[u].append(v)
    groups = {v: Group([v], ops[v]) for v in vertices}
    note = ""
    for same_op in (True, False):
        if len(groups) <= max_nodes:
            break
        groups = {v: Group([v], ops[v]) for v in vertices}
        runs = _runs(preds, succs, ops, fixed, same_op)
        for run in runs:
            for v in run:
                groups.pop(v, None)
            label = f"{ops[run[0]]} ×{len(run)}" if same_op else f"{len(run)} ops"
            groups[run[0]] = Group(run, label, collapsed=True)
        kind = "of the same op" if same_op else "of single-input single-output ops"
        note = (f"{len(vertices)} nodes > {max_nodes}: {len(runs)} runs {kind} collapsed "
                f"({sum(len(r) for r in runs)} nodes into {len(runs)}); numbers shown are the run's last node's")
    if len(groups) > max_nodes:
        raise ValueError(
            f"dr.draw: the graph has {len(vertices)} value nodes and still {len(groups)} after collapsing runs, "
            f"more than max_nodes={max_nodes} can be drawn readably; draw a smaller piece of the program "
            f"(a function of fewer ops, or smaller loops) or pass a larger max_nodes="
        )
    group_of = {v: key for key, g in groups.items() for v in g.members}
    gedges = sorted({(group_of[u], group_of[v]) for u, v in edges if group_of[u] != group_of[v]})
    layout = Layout(groups, group_of, gedges, note=note)
    place(layout)
    return layout


def place(layout: Layout) -> None:
    """Longest-path columns, then barycentre rows (see the module docstring)."""
    keys = sorted(layout.groups)
    preds: dict[int, list[int]] = {k: [] for k in keys}
    succs: dict[int, list[int]] = {k: [] for k in keys}
    for u, v in layout.edges:
        preds[v].append(u)
        succs[u].append(v)
    column: dict[int, int] = {}
    for k in keys:  # keys are in execution order: a topological order
        column[k] = 1 + max((column[p] for p in preds[k]), default=-1)
    for k in keys:  # a source sits just left of its first consumer (a layer's weights beside the layer)
        if not preds[k] and succs[k]:
            column[k] = max(0, min(column[s] for s in succs[k]) - 1)
    n_columns = 1 + max(column.values())
    columns: list[list[int]] = [[] for _ in range(n_columns)]
    for k in keys:
        columns[column[k]].append(k)
    row = {k: float(i) for col in columns for i, k in enumerate(col)}

    def sort_by(col: list[int], neighbours: dict[int, list[int]]) -> None:
        def centre(k: int) -> float:
            near = neighbours[k]
            return sum(row[n] for n in near) / len(near) if near else row[k]

        col.sort(key=lambda k: (centre(k), row[k]))
        for i, k in enumerate(col):
            row[k] = float(i)

    for _ in range(SWEEPS):
        for col in columns[1:]:
            sort_by(col, preds)
        for col in reversed(columns[:-1]):
            sort_by(col, succs)
    tallest = max(len(c) for c in columns)
    for col in columns:  # centre each column on the tallest
        offset = (tallest - len(col)) / 2
        for k in col:
            layout.position[k] = (float(column[k]), row[k] + offset)
