"""bracketing — seed 003 §14: the order of the matrix product decides the cost.

The Jacobian of a chain of layers x ↦ tanh(W_L ··· tanh(W_1 x)) with widths
w₀ → w₁ → … → w_L is the product J_{2L} ··· J_1 of the local Jacobians
(W_i: w_i×w_{i−1}, diag(tanh′): w_i×w_i, materialised densely). The explicit
mode multiplies them in three orders and counts the multiply-adds
(``cost.multiply_adds``):

* ``forward``  (foldl, from the input)  — best when the input is narrow;
* ``reverse``  (foldr, from the output) — best when the output is narrow;
* ``optimal``  — the exact matrix-chain dynamic programme for a chain, never
  worse than either; it wins outright on an *hourglass* (wide → narrow →
  wide), where both folds drag a wide end through the whole chain.

Every local Jacobian here is materialised densely (``structure="dense"``),
the cost model the independent check recomputes. For comparison the same
chains also run with the default ``structure="structured"`` (tanh′ kept as a
diagonal, W matrix-free): the optimal order's count is drawn as a fifth,
hatched bar (``structured`` in the JSON, every order).

The library also prices a greedy Markowitz vertex elimination (its heuristic
for general graphs, ``cost.candidates["markowitz"]``); it is plotted for
comparison: on chains it is sometimes worse than the better fold.

Chains: an expanding and a contracting funnel, a scalar-output chain, an
hourglass and a narrow–wide–narrow "barrel", then random widths. Every count
is also recomputed here from the matrix shapes alone (schoolbook a·b·c per
product, identity seeds free — the library's cost model), including an
independent matrix-chain DP for the optimum, and the two are compared
(``independent_check``).
"""

from __future__ import annotations

import numpy as np

import dualrev as dr

from . import common, plotting

NAME = "bracketing"
DESCRIPTION = "multiply-adds of forward, reverse and optimal bracketing on random and hourglass chains"
ORDERS = ("forward", "reverse", "optimal")
NAMED = {
    "expanding": [2, 8, 32, 128],
    "contracting": [128, 32, 8, 2],
    "scalar output": [64, 64, 64, 64, 1],
    "hourglass": [64, 32, 4, 32, 64],
    "barrel": [4, 64, 64, 64, 4],
}
SIZES = {
    "smoke": {"named": ["expanding", "contracting", "hourglass"], "random": 2, "layers": [2, 4], "width": [2, 16]},
    "quick": {"named": list(NAMED), "random": 10, "layers": [3, 7], "width": [2, 96]},
    "full": {"named": list(NAMED), "random": 30, "layers": [3, 10], "width": [2, 160]},
}


def matrix_dims(widths: list[int]) -> list[int]:
    """Dimensions p₀…p_M of the local-Jacobian chain J_M ··· J_1 (J_j is
    p_j × p_{j−1}): each layer contributes W (w_i × w_{i−1}) then diag (w_i × w_i)."""
    dims = [widths[0]]
    for w in widths[1:]:
        dims += [w, w]
    return dims


def fold_costs(dims: list[int]) -> dict:
    """Forward and reverse fold costs of J_M ··· J_1 (identity seeds free)."""
    M = len(dims) - 1
    forward = sum(dims[j] * dims[j - 1] * dims[0] for j in range(2, M + 1))
    reverse = sum(dims[M] * dims[j] * dims[j - 1] for j in range(1, M))
    return {"forward": forward, "reverse": reverse}


def chain_dp(dims: list[int]) -> int:
    """The classical matrix-chain DP: cheapest bracketing of J_M ··· J_1."""
    M = len(dims) - 1
    best = np.zeros((M + 1, M + 1), dtype=object)
    for length in range(2, M + 1):
        for i in range(1, M - length + 2):
            j = i + length - 1
            best[i, j] = min(best[i, s] + best[s + 1, j] + dims[i - 1] * dims[s] * dims[j] for s in range(i, j))
    return int(best[1, M]) if M >= 2 else 0


def measure_chain(name: str, widths: list[int], seed: int) -> dict:
    f, x, _ = common.dense_chain(widths, scalar_output=False, seed=seed)
    entry = {"name": name, "widths": widths, "multiply_adds": {}, "plans": {}}
    reference = dr.jacobian(f, mode="reverse")(x)
    for order in ORDERS:
        jac, cost = dr.jacobian(f, mode="explicit", order=order, structure="dense", return_cost=True)(x)
        if not np.allclose(jac, reference, rtol=1e-9, atol=1e-12):
            raise AssertionError(f"bracketing: explicit order={order} disagrees with reverse mode on {widths}")
        entry["multiply_adds"][order] = int(cost.multiply_adds)
        entry["plans"][order] = cost.plan if len(cost.plan) < 400 else cost.plan[:397] + "..."
        if order == "optimal":
            entry["candidates"] = {k: int(v) for k, v in dict(cost.candidates).items()}
            entry["local_jacobian_entries"] = int(cost.local_jacobian_entries)
    entry["structured"] = {}  # the same chain with structured local Jacobians (diagonal tanh′, matrix-free W)
    for order in ORDERS:
        jac, cost = dr.jacobian(f, mode="explicit", order=order, return_cost=True)(x)
        if not np.allclose(jac, reference, rtol=1e-9, atol=1e-12):
            raise AssertionError(f"bracketing: structured order={order} disagrees with reverse mode on {widths}")
        entry["structured"][order] = int(cost.multiply_adds)
    dims = matrix_dims(widths)
    expected = {**fold_costs(dims), "optimal": chain_dp(dims)}
    entry["independent"] = expected
    entry["independent_check"] = all(entry["multiply_adds"][o] == expected[o] for o in ORDERS)
    best_fold = min(entry["multiply_adds"]["forward"], entry["multiply_adds"]["reverse"])
    entry["best_fold_over_optimal"] = best_fold / max(entry["multiply_adds"]["optimal"], 1)
    return entry


def run(ctx: common.Context):
    s = ctx.sizes
    ok, message = common.explicit_mode_status()
    ctx.progress(message)
    if not ok:
        return {"skipped": message, "chains": []}, plotting.skipped_figure("bracketing", message)
    rng = np.random.default_rng(2024)
    chains = [(name, NAMED[name]) for name in s["named"]]
    for i in range(s["random"]):
        layers = int(rng.integers(s["layers"][0], s["layers"][1] + 1))
        widths = [int(w) for w in rng.integers(s["width"][0], s["width"][1] + 1, size=layers + 1)]
        chains.append((f"random {i + 1}", widths))
    results = []
    for i, (name, widths) in enumerate(chains, 1):
        ctx.progress(f"{name}: widths {widths} ({i}/{len(chains)})")
        results.append(measure_chain(name, widths, seed=i))
    summary = {
        "all_independent_checks_pass": all(r["independent_check"] for r in results),
        "structured_optimal_never_above_dense_optimal": all(
            r["structured"]["optimal"] <= r["multiply_adds"]["optimal"] for r in results
        ),
        "optimal_never_worse": all(
            r["multiply_adds"]["optimal"] <= min(r["multiply_adds"]["forward"], r["multiply_adds"]["reverse"])
            for r in results
        ),
        "largest_gain_of_optimal": max(r["best_fold_over_optimal"] for r in results),
        "markowitz_worse_than_best_fold": [
            r["name"] for r in results
            if r["candidates"].get("markowitz", 0) > min(r["multiply_adds"]["forward"], r["multiply_adds"]["reverse"])
        ],
    }
    data = {
        "function": "x -> tanh(W_L ... tanh(W_1 x)), widths w_0 -> ... -> w_L, vector output",
        "multiply_adds_method": (
            "cost.multiply_adds of dualrev's explicit mode with structure='dense' (schoolbook a*b*c per dense "
            "product, sums and identity seeds free); 'structured': the default structure='structured' per order; "
            "'independent' recomputes forward/reverse folds and the matrix-chain DP optimum "
            "from the local-Jacobian shapes alone"
        ),
        "summary": summary,
        "chains": results,
    }
    return data, plot(results)


def plot(results):
    fig, axes = plotting.figure(width=max(11, 0.85 * len(results) + 3), height=6.2)
    ax = axes[0, 0]
    xs = np.arange(len(results))
    width = 0.17
    colors = {"forward": plotting.STYLE["forward"]["color"], "reverse": plotting.STYLE["reverse"]["color"],
              "optimal": plotting.STYLE["explicit_optimal"]["color"], "markowitz": "#bcbd22"}
    labels = {"forward": "forward order (foldl, from the input)", "reverse": "reverse order (foldr, from the output)",
              "optimal": "optimal bracketing (matrix-chain DP)",
              "markowitz": "Markowitz greedy elimination (candidate the library prices, not run here)"}
    for j, order in enumerate(ORDERS + ("markowitz",)):
        heights = [
            r["multiply_adds"][order] if order in ORDERS else r["candidates"].get("markowitz", 0) for r in results
        ]
        ax.bar(xs + (j - 2) * width, heights, width, color=colors[order], label=labels[order])
    ax.bar(xs + 2 * width, [r["structured"]["optimal"] for r in results], width, color="white",
           edgecolor=colors["optimal"], hatch="///",
           label="optimal order, structured local Jacobians (structure='structured': diagonal tanh′, matrix-free W)")
    for x, r in zip(xs, results):
        top = max(r["multiply_adds"].values())
        ax.text(x, top * 1.25, f"×{r['best_fold_over_optimal']:.1f}", ha="center", fontsize=9)
    ax.set_yscale("log")
    ax.set_xticks(xs)
    ax.set_xticklabels([f"{r['name']}\n{'-'.join(map(str, r['widths']))}" for r in results], rotation=60, ha="right",
                       fontsize=8)
    ax.set_ylabel("multiply-adds of the accumulation")
    ax.set_xlabel("chain (layer widths, input first)")
    ax.set_ylim(top=ax.get_ylim()[1] * 40)  # room for the legend above the bars
    ax.set_title(
        "Explicit Jacobian of a chain of tanh layers, dense local Jacobians: multiply-adds by bracketing"
        " (label: best fold ÷ optimal)"
    )
    ax.legend(loc="upper left", fontsize=10, ncol=2)
    fig.tight_layout()
    return fig


main = common.entry_point(NAME, DESCRIPTION, SIZES, run)

if __name__ == "__main__":
    main()
