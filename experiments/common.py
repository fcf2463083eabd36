"""What every experiment shares: command line, run context, timing,
environment record, slope fits and the model problem. Figures and the
writing of ``<name>.png`` / ``<name>.json`` are in :mod:`experiments.plotting`.

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
thread (``pin_blas_threads``). The sampling, the thread pinning and the
pieces of the environment record come from the shared :mod:`timing` package.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import timing

from . import plotting

PRESETS = ("smoke", "quick", "full")
PINNING: dict = {}
RESULTS_DIR = Path(__file__).resolve().parent / "results"
MIN_SAMPLE_SECONDS = 2e-3
MAX_INNER = 1000
SLOW_CALL_SECONDS = 0.5
SLOW_CALL_REPEATS = 3
THREADS_VARIABLE = "DUALREV_EXPERIMENT_THREADS"


# --------------------------------------------------------------------------
# Command line and run context
# --------------------------------------------------------------------------


def parse_args(name: str, description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m experiments.{name}", description=description)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--smoke", dest="preset", action="store_const", const="smoke",
                       help="tiny sizes, seconds (tests)")
    group.add_argument("--quick", dest="preset", action="store_const", const="quick",
                       help="default: a few seconds to tens of seconds")
    group.add_argument("--full", dest="preset", action="store_const", const="full",
                       help="larger sizes, paper-quality run")
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
        png, js = plotting.save(ctx.out, name, fig, record)
        ctx.progress(f"done in {runtime:.1f}s -> {png} and {js.name}")
        return record

    return main


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


TIMING_PROTOCOL = (
    "one timed warm-up call, then `repeats` samples (3 for calls slower than "
    f"{SLOW_CALL_SECONDS:g} s); each sample times `inner` back-to-back calls (inner chosen so a sample lasts "
    f">= {MIN_SAMPLE_SECONDS * 1e3:g} ms) and records seconds per call; the samples of the sizes of one sweep "
    "are interleaved (round robin) so load from other processes hits all sizes alike; reported: median, min, "
    "max over samples (plots: median with min-max error bars); BLAS pinned to one thread unless "
    "DUALREV_EXPERIMENT_THREADS says otherwise"
)


def measure(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> dict:
    """Time ``fn()`` (seconds per call): warm-up, then median/min/max of samples."""
    return measure_many([fn], repeats, warmup)[0]


def measure_many(fns: Sequence[Callable[[], Any]], repeats: int, warmup: int = 1) -> list[dict]:
    """Time several functions with their samples *interleaved* (round robin).

    On a shared machine a burst of load from another process then slows one
    sample of every size instead of every sample of one size, so the medians
    (and the fitted slopes) stay comparable. The warm-up calls of each
    function (at least one; ``warmup``) are timed and set ``inner``; functions
    slower than ``SLOW_CALL_SECONDS`` get ``SLOW_CALL_REPEATS`` samples
    instead of ``repeats`` to keep the suite short. Returns one
    ``{"median", "min", "max", "repeats", "inner"}`` per function.
    """
    protocol = timing.Protocol(
        repeats=repeats,
        sample_seconds=MIN_SAMPLE_SECONDS,
        warmup_calls=max(1, warmup),
        max_inner=MAX_INNER,
        slow_call_seconds=SLOW_CALL_SECONDS,
        slow_call_repeats=SLOW_CALL_REPEATS,
    )
    results = timing.sample_interleaved(dict(enumerate(fns)), protocol)
    return [results[i].summary() for i in range(len(fns))]


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
# Threads and environment
# --------------------------------------------------------------------------


def pin_blas_threads() -> dict:
    """Pin BLAS to ``$DUALREV_EXPERIMENT_THREADS`` threads (default 1).

    Why: on a small shared machine a multi-threaded BLAS call waits for a busy
    core and loses whole scheduler quanta (we saw 1.4 ms vs 36 ms for the same
    matrix–vector product), which buries the scaling we want to see. One
    thread makes every timing a clean single-core measurement. Set the
    variable to ``0`` to leave the BLAS default alone.
    """
    return timing.pin_blas_threads(int(os.environ.get(THREADS_VARIABLE, "1")))


def environment() -> dict:
    import matplotlib as mpl
    import scipy

    import dualrev

    blas = timing.blas_build()
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
        "blas_threads": timing.blas_threads(),
        "blas_pinning": PINNING,
        "thread_env": timing.thread_environment(
            ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", THREADS_VARIABLE)
        ),
    }


def explicit_mode_status() -> tuple[bool, str]:
    """Whether ``dr.jacobian(..., mode="explicit", return_cost=True)`` works here."""
    try:
        import dualrev as dr

        jac, cost = dr.jacobian(lambda x: x * 2.0, mode="explicit", order="reverse", return_cost=True)(np.ones(2))
        int(cost.multiply_adds)
        return True, "explicit mode available"
    except Exception as exc:
        return False, f"explicit mode unavailable ({type(exc).__name__}: {exc}); explicit parts skipped"


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
