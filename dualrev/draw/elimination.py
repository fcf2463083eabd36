"""The elimination view: the explicit mode's vertex elimination, step by step.

The order comes from the explicit mode's planner (``explicit/plans.py``:
``fold_plan`` for "forward"/"reverse", every candidate priced for "optimal",
a user's order checked as the explicit mode checks it), and each step is the
explicit mode's own ``eliminate`` on a copy of the linearised graph with its
values, so the running count is the explicit mode's ``multiply_adds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..explicit.graph import Graph, eliminate
from ..explicit.linearize import _plans_for
from ..explicit.structures import to_dense
from .layout import Layout
from .model import Model, label_kind
from .render import (
    FILL_IN,
    SCALE,
    Picture,
    arrow,
    bounds,
    edge_text,
    fit_boxes,
    fmt,
    grid,
    new_figure,
    node_box,
    setup_axes,
)
from .view import layout_of

#: Most frames in a strip; longer eliminations show several vertices per frame.
MAX_FRAMES = 16
#: The widest a strip gets (inches) before frames wrap to the next row.
STRIP_WIDTH = 22.0
ORDERS = ("forward", "reverse", "optimal")


@dataclass
class Step:
    eliminated: list[int]  # the vertices eliminated in this frame (empty for the first frame)
    cost: int  # their multiply-adds
    total: int  # the running count
    fill_in: set[tuple[int, int]]  # edges created or updated
    state: Graph  # the graph after the step


def plan(model: Model, order: Any) -> tuple[str, list[int], str]:
    """(the plan's name, its elimination order, its description)."""
    if isinstance(order, str) and order not in ORDERS:
        raise ValueError(f"dr.draw: unknown elimination order {order!r}; choose 'forward', 'reverse', "
                         f"'optimal' or a list of the intermediate vertices {model.intermediates}")
    plans = _plans_for(model.graph, model.inputs, model.intermediates, order, "dr.draw")
    name = min(plans, key=lambda k: plans[k].cost) if order == "optimal" else next(iter(plans))
    return name, list(plans[name].order), plans[name].text


def steps(model: Model, order: list[int], max_frames: int = MAX_FRAMES) -> list[Step]:
    state = model.graph.copy()
    per = max(1, -(-len(order) // (max_frames - 1)))
    out = [Step([], 0, 0, set(), state.copy())]
    total = 0
    for i in range(0, len(order), per):
        chunk = order[i : i + per]
        before = {(u, v): id(m) for v, ps in state.preds.items() for u, m in ps.items()}
        cost = sum(eliminate(state, v) for v in chunk)
        total += cost
        after = {(u, v): id(m) for v, ps in state.preds.items() for u, m in ps.items()}
        fill = {e for e, ident in after.items() if before.get(e) != ident}
        out.append(Step(chunk, cost, total, fill, state.copy()))
    return out


def label_text(label: Any, shape: tuple[int, int], decimals: int) -> str:
    if shape == (1, 1):
        return f"∂ {fmt(np.asarray(to_dense(label, shape, np.float64)).reshape(()), decimals)}"
    return f"{label_kind(label)} {shape[0]}×{shape[1]}"


class EliminationDrawing(Picture):
    """A strip of frames: the linearised graph, then the graph after each
    elimination (the vertex gone, its fill-in edges orange), with the running
    multiply-add count. ``.save("steps.gif")`` writes them as an animation."""

    dpi = 80  # a strip is large already

    def __init__(self, model: Model, order: Any, decimals: int, max_nodes: int) -> None:
        if len(model.vertices) > max_nodes:
            raise ValueError(f"dr.draw: the elimination view draws every vertex, and this graph has "
                             f"{len(model.vertices)} > max_nodes={max_nodes}; draw a smaller program")
        self.model, self.decimals = model, decimals
        self.name, self.order, self.text = plan(model, order)
        self.layout: Layout = layout_of(model, max_nodes)
        fit_boxes(self.layout, max(len(v.name) + 6 for v in model.vertices.values()))
        self.steps = steps(model, self.order)

    @property
    def vertices(self) -> dict[int, Any]:
        return self.model.vertices

    @property
    def multiply_adds(self) -> int:
        return self.steps[-1].total

    def _frame(self, ax: Any, i: int) -> None:
        step, layout, model = self.steps[i], self.layout, self.model
        setup_axes(ax, layout)
        gone = {v for s in self.steps[: i + 1] for v in s.eliminated}
        for v, vertex in model.vertices.items():
            title = vertex.name if vertex.kind != "output" else f"{vertex.name} (out)"
            if v in step.eliminated:
                node_box(ax, layout, v, [(title, FILL_IN, "op"), ("eliminated", FILL_IN, "note")],
                         f"f{i}-v{v}", face="#fdebd0", edge=FILL_IN, style="--")
            elif v in gone:
                node_box(ax, layout, v, [(title, "#bbbbbb", "op")], f"f{i}-v{v}", edge="#dddddd", style=":")
            else:
                node_box(ax, layout, v, [(title, "#111111", "op"), (f"v{v}", "#777777", "id")], f"f{i}-v{v}")
        for v, preds in step.state.preds.items():
            for u, label in preds.items():
                fill = (u, v) in step.fill_in
                at = arrow(ax, layout, u, v, colour=FILL_IN if fill else "#666666",
                           width=1.6 if fill else 0.8, gid=f"f{i}-e{u}-{v}")
                shape = (step.state.sizes[v], step.state.sizes[u])
                edge_text(ax, at, [(label_text(label, shape, self.decimals), FILL_IN if fill else "#222222",
                                    "label")], f"f{i}-e{u}-{v}")
        if not step.eliminated:
            title = f"{self.name} order {self.order}: the linearised graph"
        else:
            names = ", ".join(f"v{v} ({model.vertices[v].name})" for v in step.eliminated)
            title = f"step {i}/{len(self.steps) - 1}: eliminate {names}: +{step.cost} → {step.total} multiply-adds"
        # a text, not ax.set_title: placing a title measures the (hidden) axes' ticks, which is slow
        ax.text(0.0, 1.0, title, transform=ax.transAxes, fontsize=7, ha="left", va="bottom", gid=f"f{i}-title")

    def frame_figure(self, i: int) -> Any:
        width, height = bounds(self.layout)
        fig = new_figure(width * SCALE, height * SCALE + 0.4)
        ax = fig.add_axes((0.01, 0.01, 0.98, (height * SCALE) / (height * SCALE + 0.4)))
        self._frame(ax, i)
        return fig

    def figure(self) -> Any:
        width, height = bounds(self.layout)
        w, h = width * SCALE, height * SCALE + 0.45  # one frame, inches (0.45: its title)
        cols, rows = grid(len(self.steps), max(1, int(STRIP_WIDTH // w)))
        top = 0.4
        fig = new_figure(cols * w, rows * h + top)
        total_h = rows * h + top
        for i in range(len(self.steps)):
            r, c = divmod(i, cols)
            bottom = total_h - top - (r + 1) * h
            ax = fig.add_axes((c / cols + 0.003, bottom / total_h, 1 / cols - 0.006, (h - 0.45) / total_h))
            self._frame(ax, i)
        fig.text(0.005, 1 - 0.08 / total_h, f"{self.text} — {self.multiply_adds} multiply-adds in all", ha="left",
                 va="top", fontsize=7.5, weight="bold")
        return fig

    def save(self, path: str | Path) -> Path:
        """As :meth:`Picture.save`, and ``.gif``: one frame per step (Pillow, which matplotlib needs anyway)."""
        path = Path(path)
        if path.suffix.lower() != ".gif":
            return super().save(path)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from PIL import Image

        frames = []
        for i in range(len(self.steps)):
            fig = self.frame_figure(i)
            canvas = FigureCanvasAgg(fig)
            fig.set_dpi(72)
            canvas.draw()
            frames.append(Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB"))
        size = (max(f.width for f in frames), max(f.height for f in frames))
        frames = [f.resize(size) for f in frames]
        path.parent.mkdir(parents=True, exist_ok=True)
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=1400, loop=0)
        return path
