"""checkpointing — reverse mode's memory traded for recomputation (revolve).

The loop x ← tanh(W x), x ∈ R^D, n steps, gradient of Σ x_n with respect to
x0 (W a constant that exists beforehand, so neither mode is charged for it),
by

* plain reverse mode: the tape keeps every step (memory ∝ n);
* ``dr.checkpoint_loop(step, x0, n, W, snapshots=s)``: at most s stored
  states and one step's tape, the step evaluated ``n + t(n, s)`` times
  (Griewank–Walther's minimum, ``dr.min_step_evaluations``).

Sweep 1, s = 1 … n at fixed n: peak memory (tracemalloc, ``timing.peak_memory``)
and time per gradient, and the step evaluations counted by ``dr.CheckpointStats``
against the theoretical curve for every s. Sweep 2, n at fixed s: peak memory
of both (checkpointed flat in n, plain reverse linear). Every gradient is
checked against plain reverse mode (relative error ≤ 1e-12).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

import dualrev as dr
import dualrev.numpy as dnp
from timing import peak_memory

from . import common, plotting

NAME = "checkpointing"
DESCRIPTION = "checkpoint_loop (revolve) vs plain reverse mode: memory, time and step evaluations vs snapshots"
PROGRAM = "x <- tanh(W x), x of shape (D,), n steps; gradient of sum(x_n) with respect to x0"
SIZES = {
    "smoke": {"D": 8, "n": 30, "snapshots": [1, 2, 5, 30], "n_sweep": [10, 20, 40], "s_fixed": 3, "repeats": 1},
    "quick": {"D": 64, "n": 200, "snapshots": [1, 2, 5, 10, 50, 200], "n_sweep": [50, 100, 200, 400],
              "s_fixed": 10, "repeats": 3},
    "full": {"D": 256, "n": 1000, "snapshots": [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
             "n_sweep": [100, 200, 500, 1000, 2000], "s_fixed": 10, "repeats": 3},
}  # fmt: skip
TARGET_S = 10  # the target: memory <= 15 % of plain reverse mode at n = 1000, s = 10


def step(x: Any, W: Any) -> Any:
    return dnp.tanh(W @ x)


def make_problem(D: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((D, D)) * (1.2 / np.sqrt(D)), rng.standard_normal(D)


def plain_gradient(W: np.ndarray, n: int) -> Callable:
    def loss(x: Any) -> Any:
        for _ in range(n):
            x = step(x, W)
        return dnp.sum(x)

    return dr.grad(loss)


def checkpointed_gradient(W: np.ndarray, n: int, s: int | None, stats: dr.CheckpointStats) -> Callable:
    return dr.grad(lambda x: dnp.sum(dr.checkpoint_loop(step, x, n, W, snapshots=s, stats=stats)))


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def sweep_snapshots(ctx: common.Context, W: np.ndarray, x: np.ndarray) -> dict:
    n = ctx.sizes["n"]
    plain = plain_gradient(W, n)
    reference = plain(x)
    stats = [dr.CheckpointStats() for _ in ctx.sizes["snapshots"]]
    fns = [plain] + [checkpointed_gradient(W, n, s, st) for s, st in zip(ctx.sizes["snapshots"], stats)]
    ctx.progress(f"timing plain reverse and {len(fns) - 1} snapshot counts at n = {n}")
    timings = common.measure_many([lambda f=f: f(x) for f in fns], ctx.sizes["repeats"])
    plain_memory = peak_memory(lambda: plain(x), warmup=False)
    points = []
    for s, st, fn, timing in zip(ctx.sizes["snapshots"], stats, fns[1:], timings[1:]):
        memory = peak_memory(functools.partial(fn, x), warmup=False)
        error = relative_error(fn(x), reference)
        points.append({
            "snapshots": s, "peak_bytes": memory, "memory_ratio": memory / plain_memory, "seconds": timing,
            "time_ratio": timing["median"] / timings[0]["median"], "relative_error": error,
            "forward_steps": st.forward_steps, "recomputed_steps": st.recomputed_steps,
            "recorded_steps": st.recorded_steps, "total_steps": st.total_steps,
            "min_step_evaluations": dr.min_step_evaluations(n, s), "snapshots_used": st.snapshots_used,
            "peak_tape_bytes": st.peak_tape_bytes, "peak_snapshot_bytes": st.peak_snapshot_bytes,
        })  # fmt: skip
        ctx.progress(f"s = {s}: {st.total_steps} step evaluations, memory {memory / plain_memory:.3f} of plain")
    theory = [dr.min_step_evaluations(n, s) for s in range(1, n + 1)]
    return {"n": n, "plain": {"peak_bytes": plain_memory, "seconds": timings[0]}, "points": points,
            "theory_curve": {"snapshots": list(range(1, n + 1)), "min_step_evaluations": theory}}  # fmt: skip


def sweep_steps(ctx: common.Context, W: np.ndarray, x: np.ndarray) -> dict:
    s = ctx.sizes["s_fixed"]
    points = []
    for n in ctx.sizes["n_sweep"]:
        plain, stats = plain_gradient(W, n), dr.CheckpointStats()
        ck = checkpointed_gradient(W, n, s, stats)
        memory = {"plain": peak_memory(functools.partial(plain, x)),
                  "checkpointed": peak_memory(functools.partial(ck, x))}  # fmt: skip
        points.append({"n": n, "peak_bytes": memory, "relative_error": relative_error(ck(x), plain(x)),
                       "total_steps": stats.total_steps,
                       "min_step_evaluations": dr.min_step_evaluations(n, s)})  # fmt: skip
        ctx.progress(f"n = {n}: plain {memory['plain']} B, checkpointed (s = {s}) {memory['checkpointed']} B")
    slopes = {k: common.fit_slope([p["n"] for p in points], [p["peak_bytes"][k] for p in points])
              for k in ("plain", "checkpointed")}  # fmt: skip
    return {"snapshots": s, "points": points, "slopes": slopes}


def run(ctx: common.Context) -> tuple[dict, Any]:
    W, x = make_problem(ctx.sizes["D"])
    by_s = sweep_snapshots(ctx, W, x)
    by_n = sweep_steps(ctx, W, x)
    pts = by_s["points"]
    target = next((p for p in pts if p["snapshots"] == TARGET_S), None)
    summary = {
        "max_relative_error": max([p["relative_error"] for p in pts] + [p["relative_error"] for p in by_n["points"]]),
        "all_counts_minimal": all(p["total_steps"] == p["min_step_evaluations"] for p in pts + by_n["points"]),
        "target_s10": None if target is None else {
            k: target[k] for k in ("memory_ratio", "time_ratio", "total_steps", "min_step_evaluations")},
    }  # fmt: skip
    data = {"program": PROGRAM, "counts": "dr.CheckpointStats of each call",
            "memory": "timing.peak_memory (tracemalloc)", "summary": summary,
            "by_snapshots": by_s, "by_steps": by_n}  # fmt: skip
    return data, plot(by_s, by_n, ctx.sizes)


def plot(by_s: dict, by_n: dict, sizes: dict) -> Any:
    fig, axes = plotting.figure(ncols=2, nrows=2, width=7.2, height=5.2)
    pts, n = by_s["points"], by_s["n"]
    ss = [p["snapshots"] for p in pts]
    ax = axes[0, 0]
    ax.loglog(ss, [p["peak_bytes"] for p in pts], "o-", color="#1f77b4", label="checkpoint_loop")
    ax.axhline(by_s["plain"]["peak_bytes"], color="#7f7f7f", ls="--", label="plain reverse mode")
    ax.set(xlabel="snapshots s", ylabel="peak bytes", title=f"peak memory, n = {n}, D = {sizes['D']}")
    ax.legend()
    ax = axes[0, 1]
    plotting.errorbar(ax, ss, [p["seconds"] for p in pts], "vjp", label="checkpoint_loop")
    ax.axhline(by_s["plain"]["seconds"]["median"], color="#7f7f7f", ls="--", label="plain reverse mode")
    ax.set(xscale="log", yscale="log", xlabel="snapshots s", ylabel="seconds per gradient", title="time")
    ax.legend()
    ax = axes[1, 0]
    curve = by_s["theory_curve"]
    ax.loglog(curve["snapshots"], curve["min_step_evaluations"], "-", color="k", lw=1.2,
              label="minimum n + t(n, s) (Griewank–Walther)")  # fmt: skip
    ax.loglog(ss, [p["total_steps"] for p in pts], "o", color="#d62728", label="measured (CheckpointStats)")
    ax.set(xlabel="snapshots s", ylabel="step evaluations", title=f"step evaluations, n = {n}")
    ax.legend()
    ax = axes[1, 1]
    ns = [p["n"] for p in by_n["points"]]
    for key, color in (("plain", "#7f7f7f"), ("checkpointed", "#1f77b4")):
        label = "plain reverse mode" if key == "plain" else f"checkpoint_loop, s = {by_n['snapshots']}"
        slope = by_n["slopes"][key]
        ax.loglog(ns, [p["peak_bytes"][key] for p in by_n["points"]], "o-", color=color,
                  label=f"{label} (slope {'n/a' if slope is None else f'{slope:.2f}'})")  # fmt: skip
    ax.set(xlabel="steps n", ylabel="peak bytes", title="peak memory vs n")
    ax.legend()
    return fig


main = common.entry_point(NAME, DESCRIPTION, SIZES, run)

if __name__ == "__main__":
    main()
