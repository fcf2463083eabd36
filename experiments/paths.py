"""paths — seed 003 §7: summing over paths is exponential, backprop is linear.

A chain of k "diamonds" on a scalar: in diamond i,

    b₁ = sin(c),  b₂ = cos(c),  c ← b₁ · b₂

so c reaches the next diamond along two paths. From x to the output there
are 2ᵏ paths, and de/dx is the sum over all of them of the product of the
2k local derivatives along the path (db₁/dc = cos c, ∂c′/∂b₁ = b₂ = cos c;
db₂/dc = −sin c, ∂c′/∂b₂ = b₁ = sin c). Three ways to get it:

* ``path_sum``   — enumerate the 2ᵏ paths and multiply the local derivatives
  along each (plain Python): 2ᵏ·(2k−1) multiplications, 2ᵏ−1 additions;
* ``shared_dp``  — the same local derivatives, but sum the two paths inside a
  diamond first and multiply the diamonds' sums (the shared sub-products of
  dynamic programming; plain Python): 3k multiplications, k additions;
* ``backprop``   — ``dr.grad(f)`` on the diamond chain (reverse mode through
  the library, which applies the same sharing automatically): from the VJP
  rules, per diamond 2 products for the multiply, 1 each for sin and cos, and
  1 addition where the two paths meet: 4k multiplications, k additions.

All three answers are compared (``max_relative_difference``). The counts are
deterministic; the times show the 2ᵏ blow-up and where it overtakes the
library's per-op overhead.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

import dualrev as dr
import dualrev.numpy as dnp

from . import common, plotting

NAME = "paths"
DESCRIPTION = "chain of k diamonds: sum over 2^k paths vs backprop's shared sub-products"
SIZES = {
    "smoke": {"k": [1, 2, 3, 4, 6], "repeats": 1},
    "quick": {"k": [1, 2, 3, 4, 6, 8, 10, 12, 14, 16, 18], "repeats": 3},
    "full": {"k": [1, 2, 3, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22], "repeats": 5},
}
X0 = 0.7


def diamond_chain(k: int):
    def f(x):
        c = x
        for _ in range(k):
            b1, b2 = dnp.sin(c), dnp.cos(c)
            c = b1 * b2
        return c

    return f


def local_derivatives(k: int, x: float) -> list:
    """Per diamond, the two paths' local-derivative pairs: [(db₁/dc, ∂c′/∂b₁), (db₂/dc, ∂c′/∂b₂)]."""
    edges = []
    c = x
    for _ in range(k):
        b1, b2 = math.sin(c), math.cos(c)
        edges.append(((math.cos(c), b2), (-math.sin(c), b1)))
        c = b1 * b2
    return edges


def path_sum(k: int, x: float) -> float:
    """Σ over all 2ᵏ paths of the product of the local derivatives along it."""
    edges = local_derivatives(k, x)
    total = 0.0
    for choice in itertools.product((0, 1), repeat=k):
        product = 1.0
        for diamond, branch in zip(edges, choice):
            d_branch, d_join = diamond[branch]
            product *= d_branch
            product *= d_join
        total += product
    return total


def shared_dp(k: int, x: float) -> float:
    """The same sum with the two paths of each diamond added first (linear in k)."""
    total = 1.0
    for (d1, j1), (d2, j2) in local_derivatives(k, x):
        total *= d1 * j1 + d2 * j2
    return total


COUNTS = {
    "path_sum": lambda k: {"multiplications": 2**k * (2 * k - 1), "additions": 2**k - 1, "paths": 2**k},
    "shared_dp": lambda k: {"multiplications": 3 * k, "additions": k, "paths": 2**k},
    "backprop": lambda k: {"multiplications": 4 * k, "additions": k, "paths": 2**k},
}
LABELS = {
    "path_sum": "sum over all 2ᵏ paths (plain Python)",
    "shared_dp": "shared sub-products, dynamic programming (plain Python)",
    "backprop": "backprop: dr.grad (reverse mode, library)",
}
COLORS = {"path_sum": "#d62728", "shared_dp": "#2ca02c", "backprop": "#1f77b4"}


def run(ctx: common.Context):
    s = ctx.sizes
    methods = {
        "path_sum": lambda k: (lambda: path_sum(k, X0)),
        "shared_dp": lambda k: (lambda: shared_dp(k, X0)),
        "backprop": lambda k: (lambda: dr.grad(diamond_chain(k))(X0)),
    }
    results = {m: [] for m in methods}
    for m, make in methods.items():
        fns = []
        for k in s["k"]:
            fn = make(k)
            results[m].append({"k": k, "value": float(fn()), **COUNTS[m](k)})
            fns.append(fn)
        ctx.progress(f"{m}: timing k = {s['k'][0]}..{s['k'][-1]}, samples interleaved")
        for point, timing in zip(results[m], common.measure_many(fns, s["repeats"])):
            point["seconds"] = timing
    worst = 0.0
    for i in range(len(s["k"])):
        ref = results["backprop"][i]["value"]
        for m in ("path_sum", "shared_dp"):
            worst = max(worst, abs(results[m][i]["value"] - ref) / max(abs(ref), 1e-300))
    tail = slice(-4, None)
    ks = s["k"][tail]
    fits = []
    for m in methods:
        ys = [p["seconds"]["median"] for p in results[m]][tail]
        per_diamond = float(np.polyfit(ks, np.log2(ys), 1)[0]) if len(ks) > 1 else None
        fits.append({"method": m, "vs": "k", "measure": "seconds", "fit_points": ks,
                     "loglog_slope": common.fit_slope(ks, ys),
                     "growth_factor_per_diamond": None if per_diamond is None else 2**per_diamond})
    crossing = next((p["k"] for p, q in zip(results["path_sum"], results["backprop"])
                     if p["seconds"]["median"] > q["seconds"]["median"]), None)
    data = {
        "function": "k diamonds: b1 = sin(c), b2 = cos(c), c <- b1 * b2, starting from x = 0.7; de/dx",
        "x": X0,
        "counts_method": (
            "analytic (see module docstring): path_sum 2^k(2k-1) mult + 2^k-1 add; shared_dp 3k + k; backprop 4k + k"
        ),
        "max_relative_difference": worst,
        "path_sum_slower_than_backprop_from_k": crossing,
        "results": results,
        "fits": fits,
    }
    return data, plot(results, fits, crossing)


def plot(results, fits, crossing):
    fig, axes = plotting.figure(ncols=2, width=7.2)
    ax_time, ax_count = axes[0]
    for m, points in results.items():
        ks = [p["k"] for p in points]
        fit = next(f for f in fits if f["method"] == m)
        growth = fit["growth_factor_per_diamond"]
        plotting.errorbar(ax_time, ks, [p["seconds"] for p in points], m, color=COLORS[m], marker="o",
                          label=f"{LABELS[m]}: ×{growth:.2f} per diamond")
        ax_count.plot(ks, [p["multiplications"] + p["additions"] for p in points], marker="o", color=COLORS[m],
                      label=LABELS[m])
    ks = [p["k"] for p in results["path_sum"]]
    ax_count.plot(ks, [2**k for k in ks], ls=":", color="k", label="number of paths 2ᵏ")
    if crossing is not None:
        ax_time.axvline(crossing, color="k", ls=":", lw=1)
        ax_time.text(crossing, 0.97, f" path sum slower than\n dr.grad from k = {crossing}", va="top", fontsize=10,
                     transform=ax_time.get_xaxis_transform())
    for ax in (ax_time, ax_count):
        ax.set_yscale("log")
        ax.set_xlabel("number of diamonds k")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16))
    ax_time.set_ylabel("time for de/dx (s)")
    ax_time.set_title("Measured time (growth fitted on the 4 largest k)")
    ax_count.set_ylabel("multiplications + additions")
    ax_count.set_title("Operation count (analytic)")
    fig.suptitle("Seed 003 §7: sum over 2ᵏ paths vs shared sub-products")
    fig.tight_layout()
    return fig


main = common.entry_point(NAME, DESCRIPTION, SIZES, run)

if __name__ == "__main__":
    main()
