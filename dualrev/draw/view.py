"""The graph view: every value node with its primal, tangent and adjoint, every
edge with its local Jacobian and its multiply-adds in the three modes."""

from __future__ import annotations

from typing import Any

from .layout import MAX_NODES, Layout, collapse
from .model import Edge, Model, Vertex
from .render import (
    FORWARD,
    REVERSE,
    SCALE,
    Picture,
    arrow,
    bounds,
    edge_text,
    fit_boxes,
    fmt,
    new_figure,
    node_box,
    setup_axes,
)


def layout_of(model: Model, max_nodes: int = MAX_NODES) -> Layout:
    ops = {v: (vx.name if vx.kind == "input" else vx.op) for v, vx in model.vertices.items()}
    pairs = [(e.source, e.target) for e in model.edges]
    fixed = set(model.inputs) | set(model.outputs)
    return collapse(sorted(model.vertices), pairs, ops, fixed, max_nodes)


def edge_lines(edge: Edge, decimals: int) -> list[tuple[str, str, str]]:
    """The partial (or the structure, and a few stored values) and the three modes' multiply-adds."""
    lines = []
    if edge.partial is not None:
        lines.append((f"∂ {fmt(edge.partial, decimals)}", "#222222", "partial"))
    else:
        m, n = edge.shape
        lines.append((f"{edge.kind} {m}×{n}" + (f", {edge.stored} stored" if edge.stored else ""), "#222222",
                      "partial"))
        if edge.values is not None and edge.values.size:
            shown = fmt(edge.values, decimals)
            lines.append((shown[shown.index("["):], "#555555", "values"))
    lines.append((f"fwd {edge.forward} · rev {edge.reverse} · expl {edge.explicit}", "#777777", "cost"))
    return lines


class GraphDrawing(Picture):
    """What :func:`dualrev.draw` returns without ``elimination=``: the recorded
    graph with its numbers. ``vertices``/``edges`` hold the unrounded values
    (see :mod:`dualrev.draw.model`); ``layout.note`` says what was collapsed."""

    def __init__(self, model: Model, decimals: int, directions: str, max_nodes: int = MAX_NODES) -> None:
        self.model = model
        self.decimals = decimals
        self.directions = directions
        self.layout = layout_of(model, max_nodes)
        fit_boxes(self.layout, max(len(text) for key in self.layout.groups for text, _, _ in self.node_lines(key)))

    @property
    def vertices(self) -> dict[int, Vertex]:
        return self.model.vertices

    @property
    def edges(self) -> list[Edge]:
        return self.model.edges

    def totals(self) -> dict[str, int]:
        """Σ over the edges of the multiply-adds of each mode."""
        return {
            "forward": sum(e.forward for e in self.model.edges),
            "reverse": sum(e.reverse for e in self.model.edges),
            "explicit": sum(e.explicit for e in self.model.edges),
        }

    def node_lines(self, key: int) -> list[tuple[str, str, str]]:
        group = self.layout.groups[key]
        vertex = self.model.vertices[group.last]
        title = group.label if group.collapsed else vertex.name
        if vertex.kind == "output" and not group.collapsed:
            title = f"{title} (output)"
        d = self.decimals
        return [
            (title, "#111111", "op"),
            (f"val {fmt(vertex.primal, d)}", "#111111", "primal"),
            (f"tan {fmt(vertex.tangent, d)}", FORWARD, "tangent"),
            (f"adj {fmt(vertex.adjoint, d)}", REVERSE, "adjoint"),
        ]

    def figure(self) -> Any:
        layout, model = self.layout, self.model
        width, height = bounds(layout)
        fig = new_figure(width * SCALE, height * SCALE + 0.9)
        ax = fig.add_axes((0.01, 0.01, 0.98, (height * SCALE) / (height * SCALE + 0.9)))
        setup_axes(ax, layout)
        for key in layout.groups:
            group = layout.groups[key]
            kind = model.vertices[group.last].kind
            face = {"input": "#eef5ff", "output": "#fff4e5"}.get(kind, "white")
            node_box(ax, layout, key, self.node_lines(key), f"v{key}", face=face,
                     style="--" if group.collapsed else "-")
        shown: dict[tuple[int, int], Edge] = {}
        for e in model.edges:
            u, v = layout.group_of[e.source], layout.group_of[e.target]
            if u != v:
                shown.setdefault((u, v), e)
        for (u, v), e in shown.items():
            at = arrow(ax, layout, u, v, gid=f"e{u}-{v}")
            edge_text(ax, at, edge_lines(e, self.decimals), f"e{u}-{v}")
        t = self.totals()
        caption = (f"val: primal   tan: forward tangent ({self.directions.split(';')[0]})   "
                   f"adj: reverse adjoint ({self.directions.split(';')[-1].strip()})\n"
                   f"edges: local partial ∂ or the local Jacobian's structure; multiply-adds of forward "
                   f"({t['forward']}), reverse ({t['reverse']}) and explicit accumulation "
                   f"({model.explicit_fold}-order elimination, {t['explicit']})")
        if layout.note:
            caption += "\n" + layout.note
        fig.text(0.01, 0.995, caption, ha="left", va="top", fontsize=6.5, color="#333333")
        return fig
