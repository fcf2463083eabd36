"""What every experiment shares: command line, sizes, timing, environment,
slope fits, plot style and the writing of ``<name>.png`` / ``<name>.json``.

An experiment module defines ``NAME``, ``DESCRIPTION``, ``SIZES`` (one dict of
sizes per preset: ``smoke``, ``quick``, ``full``) and ``run(ctx) -> (data,
figure)``; its ``main = common.entry_point(...)`` gives it the command line
``python -m experiments.<name> [--smoke | --quick | --full] [--out DIR]``.

Timing protocol (every time in every JSON, see ``TIMING_PROTOCOL``): one
timed warm-up call, then ``repeats`` samples; a sample times a loop of
``inner`` calls (``inner`` is chosen so that one sample lasts at least
``MIN_SAMPLE_SECONDS``, which keeps timer resolution out of the fastest
points) and records the time per call. The samples of the sizes of one sweep
are interleaved (``measure_many``). We report the median, min and max of the
samples; plots draw the median with min–max error bars. BLAS runs on one
thread (``pin_blas_threads``).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import matplotlib

matplotlib.use("Agg")  # never open a window; the figures are files
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

PRESETS = ("smoke", "quick", "full")
PINNING: dict = {}
RESULTS_DIR = Path(__file__).resolve().parent / "results"
MIN_SAMPLE_SECONDS = 2e-3
SLOW_CALL_SECONDS = 0.5
SLOW_CALL_REPEATS = 3

# One colour and marker per method, the same in every figure.
STYLE = {
    "explicit_forward": dict(color="#d62728", marker="s", label="explicit, forward order (matrix–matrix)"),
    "explicit_reverse": dict(color="#ff7f0e", marker="D", label="explicit, reverse order (vector–matrix)"),
    "explicit_optimal": dict(color="#9467bd", marker="*", label="explicit, optimal order"),
    "vjp": dict(color="#1f77b4", marker="o", label="reverse mode: one VJP (backprop)"),
    "jvp": dict(color="#2ca02c", marker="^", label="forward mode: one JVP"),
    "forward_gradient": dict(color="#8c564b", marker="v", label="forward mode: full gradient (D JVPs)"),
    "forward": dict(color="#2ca02c", marker="^", label="forward mode"),
    "reverse": dict(color="#1f77b4", marker="o", label="reverse mode"),
    "plain": dict(color="#7f7f7f", marker="x", label="plain evaluation"),
}


# --------------------------------------------------------------------------
# Command line and run context
# --------------------------------------------------------------------------


def parse_args(name: str, description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m experiments.{name}", description=description)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--smoke", dest="preset", action="store_const", const="smoke", help="tiny sizes, seconds (tests)")
    group.add_argument("--quick", dest="preset", action="store_const", const="quick", help="default: a few seconds to tens of seconds")
    group.add_argument("--full", dest="preset", action="store_const", const="full", help="larger sizes, paper-quality run")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help=f"output directory (default {RESULTS_DIR})")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(preset="quick")
    return parser.parse_args(argv)


@dataclass
class Context:
    """What ``run`` receives: the preset, its sizes, and a progress printer."""

    name: str
    preset: str
    sizes: dict
    out: Path
    quiet: bool = False
    started: float = field(default_factory=time.perf_counter)

    def progress(self, message: str) -> None:
        if not self.quiet:
            elapsed = time.perf_counter() - self.started
            print(f"[{self.name} {elapsed:6.1f}s] {message}", flush=True)


def entry_point(name: str, description: str, sizes: dict, run: Callable[[Context], tuple[dict, Any]]):
    """The ``main(argv)`` of an experiment: parse, run, write PNG + JSON."""

    def main(argv: Sequence[str] | None = None) -> dict:
        args = parse_args(name, description, argv)
        PINNING.update(pin_blas_threads())
        ctx = Context(name=name, preset=args.preset, sizes=sizes[args.preset], out=args.out, quiet=args.quiet)
        ctx.progress(f"preset {args.preset}: {description}")
        data, fig = run(ctx)
        runtime = time.perf_counter() - ctx.started
        record = {
            "experiment": name,
            "description": description,
            "preset": args.preset,
            "sizes": ctx.sizes,
            "runtime_seconds": round(runtime, 3),
            "environment": environment(),
            "timing_protocol": TIMING_PROTOCOL,
            **data,
        }
        png, js = save(ctx.out, name, fig, record)
        ctx.progress(f"done in {runtime:.1f}s -> {png} and {js.name}")
        return record

    return main


TIMING_PROTOCOL = (
    "one timed warm-up call, then `repeats` samples (3 for calls slower than "
    f"{SLOW_CALL_SECONDS:g} s); each sample times `inner` back-to-back calls (inner chosen so a sample lasts "
    f">= {MIN_SAMPLE_SECONDS * 1e3:g} ms) and records seconds per call; the samples of the sizes of one sweep "
    "are interleaved (round robin) so load from other processes hits all sizes alike; reported: median, min, "
    "max over samples (plots: median with min-max error bars); BLAS pinned to one thread unless "
    "DUALREV_EXPERIMENT_THREADS says otherwise"
)


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


def measure(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> dict:
    """Time ``fn()`` (seconds per call): warm-up, then median/min/max of samples."""
    return measure_many([fn], repeats, warmup)[0]


def measure_many(fns: Sequence[Callable[[], Any]], repeats: int, warmup: int = 1, progress=None) -> list[dict]:
    """Time several functions with their samples *interleaved* (round robin).

    On a shared machine a burst of load from another process then slows one
    sample of every size instead of every sample of one size, so the medians
    (and the fitted slopes) stay comparable. The warm-up call of each function
    (at least one) is timed and sets ``inner``; functions slower than
    ``SLOW_CALL_SECONDS`` get ``SLOW_CALL_REPEATS`` samples instead of
    ``repeats`` to keep the suite short.
    """
    inners, counts = [], []
    for fn in fns:
        estimate = None
        for _ in range(max(1, warmup)):
            start = time.perf_counter()
            fn()
            estimate = max(time.perf_counter() - start, 1e-7)
        inners.append(max(1, min(1000, math.ceil(MIN_SAMPLE_SECONDS / estimate))))
        counts.append(max(1, min(repeats, SLOW_CALL_REPEATS) if estimate > SLOW_CALL_SECONDS else repeats))
    samples: list[list[float]] = [[] for _ in fns]
    for r in range(max(counts)):
        if progress is not None:
            progress(f"  sample {r + 1}/{max(counts)}")
        for i, fn in enumerate(fns):
            if r >= counts[i]:
                continue
            start = time.perf_counter()
            for _ in range(inners[i]):
                fn()
            samples[i].append((time.perf_counter() - start) / inners[i])
    return [
        {
            "median": float(np.median(ss)),
            "min": float(np.min(ss)),
            "max": float(np.max(ss)),
            "repeats": len(ss),
            "inner": inner,
        }
        for ss, inner in zip(samples, inners)
    ]


def fit_slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of log(y) against log(x) (None with < 2 usable points)."""
    pts = [(x, y) for x, y in zip(xs, ys) if x is not None and y is not None and x > 0 and y > 0]
    if len(pts) < 2 or len({p[0] for p in pts}) < 2:
        return None
    lx, ly = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(lx, ly, 1)[0])


def fit_line(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float] | None:
    """Least-squares (slope, intercept) of y against x on linear axes."""
    if len(xs) < 2:
        return None
    slope, intercept = np.polyfit(np.asarray(xs, float), np.asarray(ys, float), 1)
    return float(slope), float(intercept)


# --------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------


THREADS_VARIABLE = "DUALREV_EXPERIMENT_THREADS"


def _openblas_libraries() -> list:
    """The OpenBLAS builds loaded in this process (ctypes handles)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line})
        return [(path, ctypes.CDLL(path)) for path in paths]
    except Exception:  # pragma: no cover - not Linux, or no OpenBLAS
        return []


def _openblas_call(lib, action: str, *args):
    for name in (f"scipy_openblas_{action}64_", f"openblas_{action}64_", f"openblas_{action}"):
        if hasattr(lib, name):
            fn = getattr(lib, name)
            fn.restype = ctypes.c_int if action == "get_num_threads" else None
            return fn(*args)
    return None


def pin_blas_threads() -> dict:
    """Pin BLAS to ``$DUALREV_EXPERIMENT_THREADS`` threads (default 1).

    Why: on a small shared machine a multi-threaded BLAS call waits for a busy
    core and loses whole scheduler quanta (we saw 1.4 ms vs 36 ms for the same
    matrix–vector product), which buries the scaling we want to see. One
    thread makes every timing a clean single-core measurement. Set the
    variable to ``0`` to leave the BLAS default alone.
    """
    wanted = int(os.environ.get(THREADS_VARIABLE, "1"))
    if wanted <= 0:
        return {"pinned": False}
    try:
        import threadpoolctl  # optional; not a dependency

        threadpoolctl.threadpool_limits(wanted)
        return {"pinned": wanted, "via": "threadpoolctl"}
    except ImportError:
        pass
    done = [path for path, lib in _openblas_libraries() if _openblas_call(lib, "set_num_threads", wanted) is None]
    return {"pinned": wanted, "via": "openblas_set_num_threads (ctypes)", "libraries": done}


def _blas_threads() -> dict:
    """BLAS libraries and their thread counts now: threadpoolctl when
    installed, otherwise ask a loaded OpenBLAS directly (best effort)."""
    try:
        import threadpoolctl  # optional; not a dependency

        return {"source": "threadpoolctl", "pools": threadpoolctl.threadpool_info()}
    except ImportError:
        pass
    pools = []
    for path, lib in _openblas_libraries():
        n = _openblas_call(lib, "get_num_threads")
        if n is not None:
            pools.append({"library": path, "num_threads": int(n)})
    return {"source": "openblas_get_num_threads (ctypes; threadpoolctl not installed)", "pools": pools}


def environment() -> dict:
    import matplotlib as mpl
    import scipy

    import dualrev

    try:
        blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    except Exception:  # older NumPy: no mode="dicts"
        blas = {}
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "matplotlib": mpl.__version__,
        "dualrev": getattr(dualrev, "__version__", "?"),
        "blas": {k: blas.get(k) for k in ("name", "version", "openblas configuration") if k in blas},
        "blas_threads": _blas_threads(),
        "blas_pinning": PINNING,
        "thread_env": {
            k: os.environ[k]
            for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", THREADS_VARIABLE)
            if k in os.environ
        },
    }


def explicit_mode_status() -> tuple[bool, str]:
    """Whether ``dr.jacobian(..., mode="explicit", return_cost=True)`` works here."""
    try:
        import dualrev as dr

        f = lambda x: x * 2.0  # noqa: E731
        jac, cost = dr.jacobian(f, mode="explicit", order="reverse", return_cost=True)(np.ones(2))
        int(cost.multiply_adds)
        return True, "explicit mode available"
    except Exception as exc:
        return False, f"explicit mode unavailable ({type(exc).__name__}: {exc}); explicit parts skipped"


# --------------------------------------------------------------------------
# Plots and files
# --------------------------------------------------------------------------


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


def save(out: Path, name: str, fig, record: dict) -> tuple[Path, Path]:
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


def skipped_figure(title: str, message: str):
    """A figure that says why an experiment (or part) was skipped."""
    fig, axes = figure()
    ax = axes[0, 0]
    ax.axis("off")
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=12)
    return fig


# --------------------------------------------------------------------------
# The model problem: a chain of dense layers
# --------------------------------------------------------------------------


def dense_chain(widths: Sequence[int], scalar_output: bool = True, seed: int = 0):
    """``f(x) = [sum] tanh(W_L ··· tanh(W_1 x))`` on a column vector ``x`` of
    shape ``(widths[0], 1)``; ``W_i`` has shape ``(widths[i], widths[i-1])``.

    Returns ``(f, x, weights)``. The vectors are columns so that every layer is
    exactly two recorded ops (matmul, tanh): the explicit mode then sees the
    chain ``J = diag(tanh′) W_L ··· diag(tanh′) W_1`` and nothing else.
    """
    import dualrev.numpy as dnp

    rng = np.random.default_rng(seed)
    weights = [
        rng.standard_normal((w_out, w_in)) / np.sqrt(w_in) for w_in, w_out in zip(widths[:-1], widths[1:])
    ]
    x = rng.standard_normal((widths[0], 1))

    def f(x):
        h = x
        for W in weights:
            h = dnp.tanh(dnp.matmul(W, h))
        return dnp.sum(h) if scalar_output else h

    return f, x, weights
