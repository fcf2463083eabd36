"""memory — seed 001 §4.2: reverse mode keeps the forward pass; forward mode does not.

Peak memory (``tracemalloc``: Python objects and NumPy buffers allocated
during the call; the weights exist beforehand and are not counted) of one
derivative of the dense tanh chain f(x) = Σ tanh(W_N ··· tanh(W_1 x)) against
its depth N at fixed width D:

* ``plain``   — evaluate f on ndarrays: each layer's output replaces the last;
* ``forward`` — one JVP (dual numbers): a (primal, tangent) pair per live
  value, released as the pass moves on — flat in N;
* ``reverse`` — the gradient by backprop: the tape keeps, per layer, what the
  VJP rules will need until the backward sweep uses it — at least
  tanh(W_i h) (tanh′ = 1 − ans²), D float64 = 8·D bytes per layer, and
  16·D if the pre-activation W_i h is kept as well — linear in N.

Memory is deterministic here (no timings): the fitted bytes per layer are
compared with 8·D (one vector per layer) and 16·D (two).
"""

from __future__ import annotations

import numpy as np

import dualrev as dr
import timing

from . import common, plotting

NAME = "memory"
DESCRIPTION = "peak memory (tracemalloc) vs depth: reverse mode grows linearly, forward mode stays flat"
SIZES = {
    "smoke": {"D": 64, "N_sweep": [1, 4, 16]},
    "quick": {"D": 512, "N_sweep": [1, 2, 4, 8, 16, 32, 64, 128]},
    "full": {"D": 1024, "N_sweep": [1, 2, 4, 8, 16, 32, 64, 128, 256]},
}
METHODS = ("plain", "forward", "reverse")


def callables(f, x, direction):
    return {
        "plain": lambda: f(x),
        "forward": lambda: dr.jvp(f, (x,), (direction,)),
        "reverse": lambda: dr.grad(f, mode="reverse")(x),
    }


def run(ctx: common.Context):
    s = ctx.sizes
    D = s["D"]
    results = {m: [] for m in METHODS}
    for i, N in enumerate(s["N_sweep"], 1):
        ctx.progress(f"depth N={N}, D={D} ({i}/{len(s['N_sweep'])})")
        f, x, _ = common.dense_chain([D] * (N + 1), scalar_output=True, seed=N)
        direction = np.ones_like(x)
        for m, fn in callables(f, x, direction).items():
            # peak_memory makes one untraced call first: imports and rule closures warm up outside the trace
            results[m].append({"N": N, "peak_bytes": timing.peak_memory(fn)})
    fits = []
    for m, points in results.items():
        line = common.fit_line([p["N"] for p in points], [p["peak_bytes"] for p in points])
        fits.append({"method": m, "vs": "N", "measure": "peak_bytes",
                     "bytes_per_layer": line[0], "intercept_bytes": line[1]})
    theory = D * 8
    data = {
        "D": D,
        "function": "f(x) = sum(tanh(W_N ... tanh(W_1 x))), x of shape (D, 1), W_i D x D (allocated before tracing)",
        "measure": "tracemalloc peak minus the traced memory at the start of the call, bytes",
        "theory_reverse_bytes_per_layer": theory,
        "theory_note": (
            "reverse keeps at least tanh(W_i h) per layer (D * 8 bytes; 2 * D * 8 if W_i h is kept too); "
            "forward and plain: O(1) in N"
        ),
        "results": results,
        "fits": fits,
    }
    return data, plot(results, fits, D, theory)


def plot(results, fits, D, theory):
    fig, axes = plotting.figure(width=8.5, height=6)
    ax = axes[0, 0]
    labels = {
        "plain": "plain evaluation",
        "forward": "forward mode (one JVP)",
        "reverse": "reverse mode (gradient, tape)",
    }
    for m, points in results.items():
        fit = next(f for f in fits if f["method"] == m)
        style = plotting.line_style(m)
        ax.plot([p["N"] for p in points], [p["peak_bytes"] / 2**20 for p in points],
                label=f"{labels[m]}: {fit['bytes_per_layer'] / 1024:.1f} KiB/layer", **style)
    rev = results["reverse"]
    ns = np.array([p["N"] for p in rev], float)
    for factor, ls in ((1, ":"), (2, "--")):
        vectors = f"{factor} D-vector{'s' if factor > 1 else ''}"
        ax.plot(ns, (rev[0]["peak_bytes"] + factor * theory * (ns - ns[0])) / 2**20, ls=ls, color="k", lw=1,
                label=f"reverse keeping {vectors} per layer: {factor * theory / 1024:.0f} KiB/layer")
    ax.set_xlabel("depth N (layers)")
    ax.set_ylabel("peak memory during the call (MiB)")
    ax.set_title(f"Seed 001 §4.2: peak memory vs depth, D = {D}")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


main = common.entry_point(NAME, DESCRIPTION, SIZES, run)

if __name__ == "__main__":
    main()
