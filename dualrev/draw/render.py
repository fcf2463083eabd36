"""Pictures with matplotlib (already a dependency): SVG, PNG and PDF from one figure.

matplotlib is imported when a picture is first rendered, not with dualrev.
SVG text is kept as text (``svg.fonttype = "none"``), and every number is its
own text element inside a group whose id names it (``v12-adjoint``,
``e11-12-partial``), so an SVG can be searched and tested.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from .layout import Layout

#: Data units per column / per row of the layout.
COLUMN_WIDTH, ROW_HEIGHT = 3.9, 1.45
#: Inches per data unit.
SCALE = 0.62
#: Colours: forward tangents green, reverse adjoints red (as in the lecture notes).
FORWARD, REVERSE, FILL_IN = "#1a7f37", "#c0392b", "#e67e22"
FORMATS = ("svg", "png", "pdf")


def fmt(value: Any, decimals: int) -> str:
    """A number rounded for display, or an array's shape and first entries."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.size == 1 and arr.ndim == 0:
        return _number(float(arr), decimals)
    shown = ", ".join(_number(float(x), decimals) for x in arr.ravel()[:3])
    more = ", …" if arr.size > 3 else ""
    return f"{tuple(arr.shape)} [{shown}{more}]"


def _number(x: float, decimals: int) -> str:
    text = f"{x:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


class Picture:
    """A figure that renders as SVG (a string), PNG, PDF, and in Jupyter."""

    #: Resolution of PNG output.
    dpi = 110

    def figure(self) -> Any:  # pragma: no cover - every picture defines it
        raise NotImplementedError

    def svg(self) -> str:
        """The picture as an SVG document (text kept as text)."""
        buffer = io.BytesIO()
        self._render(buffer, "svg")
        return buffer.getvalue().decode("utf-8")

    def save(self, path: str | Path) -> Path:
        """Write the picture; the format is the extension: .svg, .png or .pdf."""
        path = Path(path)
        kind = path.suffix.lower().lstrip(".")
        if kind not in FORMATS:
            raise ValueError(f"dr.draw: cannot save {path.name!r}: choose a .svg, .png or .pdf file name")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            self._render(out, kind)
        return path

    def _render(self, out: Any, kind: str) -> None:
        import matplotlib

        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "dualrev", "pdf.fonttype": 42}):
            fig = self.figure()
            metadata = {"Date": None} if kind == "svg" else {}
            fig.savefig(out, format=kind, dpi=self.dpi, metadata=metadata)

    def _repr_svg_(self) -> str:
        return self.svg()


def new_figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(max(width, 3.0), max(height, 2.0)))


def fit_boxes(layout: Layout, longest_line: int) -> None:
    """Widen the boxes (and columns) of ``layout`` to its longest line of text."""
    layout.box_w = max(BOX_W, 0.5 * (CHAR_WIDTH * longest_line + 0.25))
    layout.column_width = 2 * layout.box_w + COLUMN_WIDTH - 2 * BOX_W


def bounds(layout: Layout) -> tuple[float, float]:
    cols = 1 + max((c for c, _ in layout.position.values()), default=0)
    rows = 1 + max((r for _, r in layout.position.values()), default=0)
    return cols * layout.column_width, rows * ROW_HEIGHT


def xy(layout: Layout, key: int) -> tuple[float, float]:
    col, row = layout.position[key]
    return (col + 0.5) * layout.column_width, -(row + 0.5) * ROW_HEIGHT


def setup_axes(ax: Any, layout: Layout) -> None:
    width, height = bounds(layout)
    ax.set_xlim(0, width)
    ax.set_ylim(-height - 0.1, 0.1)
    ax.set_aspect("equal")
    ax.axis("off")


#: Half the width / height of a node box (data units, the narrowest; see fit_boxes).
BOX_W, BOX_H = 0.95, 0.5
#: Width of a character of node text (data units).
CHAR_WIDTH = 0.085


def node_box(ax: Any, layout: Layout, key: int, lines: list[tuple[str, str, str]], gid: str,
             face: str = "white", edge: str = "#444444", style: str = "-", size: float = 6.5) -> None:
    """A box with one text element per (text, colour, id suffix)."""
    from matplotlib.patches import FancyBboxPatch

    x, y = xy(layout, key)
    box_w = layout.box_w
    box = FancyBboxPatch((x - box_w, y - BOX_H), 2 * box_w, 2 * BOX_H, boxstyle="round,pad=0.02,rounding_size=0.12",
                         facecolor=face, edgecolor=edge, linestyle=style, linewidth=0.9, zorder=2)
    box.set_gid(gid)
    ax.add_artist(box)  # not add_patch: the limits are set, and updating them is slow
    n = len(lines)
    for i, (text, colour, suffix) in enumerate(lines):
        dy = (n - 1) / 2 * 0.24 - i * 0.24
        weight = "bold" if i == 0 else "normal"
        ax.text(x, y + dy, text, ha="center", va="center", fontsize=size, color=colour, weight=weight,
                zorder=3, gid=f"{gid}-{suffix}", clip_on=False)


def arrow(ax: Any, layout: Layout, source: int, target: int, colour: str = "#666666",
          width: float = 0.8, style: str = "-", gid: str | None = None) -> tuple[float, float]:
    """An arrow between two boxes (right side → left side); returns where its label goes."""
    from matplotlib.patches import FancyArrowPatch

    (x0, y0), (x1, y1) = xy(layout, source), xy(layout, target)
    a, b = (x0 + layout.box_w, y0), (x1 - layout.box_w, y1)
    patch = FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=7, color=colour, linewidth=width,
                            linestyle=style, zorder=1, shrinkA=0, shrinkB=1)
    if gid:
        patch.set_gid(gid)
    ax.add_artist(patch)
    # a long edge is labelled just after its source, where fan-ins do not pile its label onto others
    column = layout.column_width
    t = 0.5 if abs(x1 - x0) <= column * 1.01 else 0.5 * column / max(x1 - x0, 1e-9)
    return a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])


def edge_text(ax: Any, at: tuple[float, float], lines: list[tuple[str, str, str]], gid: str,
              size: float = 5.6) -> None:
    x, y = at
    for i, (text, colour, suffix) in enumerate(lines):
        ax.text(x, y + 0.1 - i * 0.19, text, ha="center", va="bottom" if i == 0 else "top", fontsize=size,
                color=colour, zorder=4, gid=f"{gid}-{suffix}",
                bbox={"boxstyle": "round,pad=0.08", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})


def grid(n: int, per_row: int) -> tuple[int, int]:
    cols = min(n, per_row)
    return cols, math.ceil(n / cols)
