"""Figure style, error bars, slope lines and labels, and the writing of
``<name>.png`` / ``<name>.json``."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # never open a window; the figures are files
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# One colour and marker per method, the same in every figure.
STYLE = {
    "explicit_forward": dict(color="#d62728", marker="s",
                             label="explicit (dense local Jacobians), forward order (matrix–matrix)"),
    "explicit_reverse": dict(color="#ff7f0e", marker="D",
                             label="explicit (dense local Jacobians), reverse order (vector–matrix)"),
    "explicit_optimal": dict(color="#9467bd", marker="*", label="explicit, optimal order"),
    "vjp": dict(color="#1f77b4", marker="o", label="reverse mode: one VJP (backprop)"),
    "jvp": dict(color="#2ca02c", marker="^", label="forward mode: one JVP"),
    "forward_gradient": dict(color="#8c564b", marker="v", label="forward mode: full gradient (D JVPs)"),
    "forward": dict(color="#2ca02c", marker="^", label="forward mode"),
    "reverse": dict(color="#1f77b4", marker="o", label="reverse mode"),
    "plain": dict(color="#7f7f7f", marker="x", label="plain evaluation"),
}


def figure(ncols: int = 1, nrows: int = 1, width: float = 7.0, height: float = 5.5):
    """A figure sized and styled to stay readable on a slide."""
    plt.rcParams.update(
        {
            "font.size": 12,
            "axes.titlesize": 13,
            "axes.labelsize": 12,
            "legend.fontsize": 9,
            "figure.titlesize": 15,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "lines.linewidth": 1.8,
            "lines.markersize": 6,
        }
    )
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    return fig, axes


def line_style(key: str) -> dict:
    """The colour and marker of ``key`` (its ``STYLE`` without the label)."""
    return {k: v for k, v in STYLE[key].items() if k != "label"}


def errorbar(ax, xs, timings: Sequence[dict], key: str, label: str | None = None, **extra):
    """Median with min–max error bars for a list of ``measure`` results."""
    style = dict(STYLE.get(key, {}))
    style.pop("label", None)
    style.update(extra)
    med = np.array([t["median"] for t in timings])
    lo = med - np.array([t["min"] for t in timings])
    hi = np.array([t["max"] for t in timings]) - med
    return ax.errorbar(xs, med, yerr=[lo, hi], capsize=3, label=label or STYLE.get(key, {}).get("label", key), **style)


def reference_slope(ax, xs, ys, slope: float, text: str, color="k", last: int | None = None):
    """A dotted theory line ∝ x^slope through the last (largest) point,
    drawn over the ``last`` largest x (all by default)."""
    xs = np.asarray(xs, float)
    x0, y0 = xs[-1], ys[-1]
    if last is not None:
        xs = xs[-last:]
    line = y0 * (xs / x0) ** slope
    ax.plot(xs, line, ls=":", color=color, lw=1.4, alpha=0.8, label=text)


def slope_label(key: str, slope: float | None, theory: float | None = None) -> str:
    base = STYLE.get(key, {}).get("label", key)
    fitted = "n/a" if slope is None else f"{slope:.2f}"
    return f"{base}: slope {fitted}" + ("" if theory is None else f" (theory {theory:g})")


def skipped_figure(title: str, message: str):
    """A figure that says why an experiment (or part) was skipped."""
    fig, axes = figure()
    ax = axes[0, 0]
    ax.axis("off")
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=12)
    return fig


def save(out: Path, name: str, fig, record: dict) -> tuple[Path, Path]:
    """Write ``out/<name>.png`` (the figure, if any) and ``out/<name>.json``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    png, js = out / f"{name}.png", out / f"{name}.json"
    if fig is not None:
        fig.savefig(png, dpi=110, bbox_inches="tight")
        plt.close(fig)
    with open(js, "w") as fh:
        json.dump(_jsonable(record), fh, indent=1, sort_keys=False)
        fh.write("\n")
    return png, js


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, Path):
        return str(value)
    return value
