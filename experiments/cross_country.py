"""cross_country — graphs where neither fold (forward nor reverse) is optimal.

(a) **Waist graphs** Rⁿ → R^w → Rⁿ: f(x) = tanh(W₂ tanh(W₁ x)), W₁: w×n,
W₂: n×w, w ≪ n. The Jacobian diag(tanh′₂) W₂ diag(tanh′₁) W₁ is n×n of rank
w. Forward mode pushes n directions through both matmuls (≈ 2·n²·w + n² + n·w
multiply-adds), reverse mode pulls n directions back (the same count); the
explicit mode in the optimal order scales the narrow factors and forms one
n×w by w×n product (≈ n²·w): cross-country elimination, meeting at the waist.
Timed: the full Jacobian by ``mode="explicit", order="optimal"`` (structured,
and with ``structure="dense"``), by batched forward mode (all n directions
in one pass, ``dr.jacobian(f, mode="forward")``) and by batched reverse mode.
Swept against n (w fixed) and against w (n fixed).

(b) **Random small DAGs** from a fixed-seed generator (:mod:`experiments.dags`):
elementwise ops, small matmuls with random widths, sums, concatenations and
slices, with fan-out and fan-in, at most :data:`DAG_MAX_INTERMEDIATES`
intermediate vertices, so that the library's ``exact`` candidate (the
optimum over all elimination orders) exists and is proven. For each DAG:
the multiply-adds of the forward and reverse folds, Markowitz, chain DP
(chains only) and exact, and each one's gap above exact (``cost.gaps``), on
the structured cost model and on the dense one.

(c) **Larger random DAGs** (the same generator with 8–18 ops, kept when they
have :data:`~experiments.dags.LARGE_INTERMEDIATES` intermediate vertices): the planner's branch
and bound (``dualrev.explicit.search``, its default work bound) run from the
best heuristic on each model. Per DAG: whether the proof completed, the
eliminations simulated (work), the planning seconds, the best order found
and the proven lower bound; each heuristic's gap to the proven optimum, or,
where the proof did not complete, the range of its gap (above the best order
found … above the lower bound).

Every Jacobian (forward, reverse, explicit in each order and structure) is
checked against reverse mode with ``np.allclose``; a mismatch raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.explicit import search

from . import common, dags, plotting

NAME = "cross_country"
DESCRIPTION = "waist graphs R^n -> R^w -> R^n and random small DAGs: explicit optimal elimination vs the folds"
TIMED = ("explicit_optimal", "explicit_dense_optimal", "forward", "reverse")
SIZES = {
    "smoke": {"w_fixed": 2, "n_sweep": [8, 16], "n_fixed": 16, "w_sweep": [1, 4], "dags": 8, "repeats": 1,
              "large_dags": 2},
    "quick": {"w_fixed": 4, "n_sweep": [32, 64, 128, 256, 512, 1024], "n_fixed": 1024,
              "w_sweep": [1, 4, 16, 64, 256], "dags": 150, "repeats": 5, "large_dags": 16},
    "full": {"w_fixed": 4, "n_sweep": [32, 64, 128, 256, 512, 1024, 2048], "n_fixed": 1024,
             "w_sweep": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], "dags": 500, "repeats": 7, "large_dags": 60},
}
MODELS = ("structured", "dense")
#: The DAG sample keeps graphs of at most this many intermediate vertices (the
#: sample of the published figures; the exact search now reaches further).
DAG_MAX_INTERMEDIATES = 8
TOL = dict(rtol=1e-9, atol=1e-12)
LABELS = {
    "explicit_optimal": "explicit, optimal order (structured)",
    "explicit_dense_optimal": "explicit, optimal order, dense local Jacobians",
    "forward": "forward mode, batched (n JVPs in one pass; count = reverse's)",
    "reverse": "reverse mode, batched (n VJPs in one pass)",
}


def waist(n: int, w: int, seed: int = 0) -> tuple[Callable, np.ndarray]:
    """f(x) = tanh(W₂ tanh(W₁ x)) with W₁: w×n, W₂: n×w, and its input point."""
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((w, n)) / np.sqrt(n)
    W2 = rng.standard_normal((n, w)) / np.sqrt(w)

    def f(x: Any) -> Any:
        return dnp.tanh(dnp.matmul(W2, dnp.tanh(dnp.matmul(W1, x))))

    return f, rng.standard_normal(n)


def pass_multiply_adds(n: int, w: int) -> int:
    """One JVP or VJP of the waist function: two matmuls and two tanh′ scalings."""
    return 2 * n * w + n + w


def waist_point(n: int, w: int) -> tuple[dict, dict]:
    """Counts and checks of one waist graph, and the callables to time."""
    f, x = waist(n, w)
    reference = dr.jacobian(f, mode="reverse")(x)
    jacs = {
        "explicit_optimal": dr.jacobian(f, mode="explicit", order="optimal", return_cost=True),
        "explicit_dense_optimal": dr.jacobian(f, mode="explicit", order="optimal", structure="dense",
                                              return_cost=True),
        "forward": dr.jacobian(f, mode="forward"),
        "reverse": dr.jacobian(f, mode="reverse"),
    }
    point: dict[str, Any] = {"n": n, "w": w, "multiply_adds": {}}
    for name, jac in jacs.items():
        result = jac(x)
        value = result[0] if name.startswith("explicit") else result
        if not np.allclose(value, reference, **TOL):
            raise AssertionError(f"cross_country: {name} Jacobian disagrees with reverse mode at n={n}, w={w}")
        if name == "explicit_optimal":
            cost = result[1]
            point["candidates"] = {k: int(v) for k, v in dict(cost.candidates).items()}
            point["chosen"], point["plan"] = cost.chosen, cost.plan
            point["multiply_adds"]["explicit_optimal"] = int(cost.multiply_adds)
        elif name == "explicit_dense_optimal":
            point["multiply_adds"]["explicit_dense_optimal"] = int(result[1].multiply_adds)
    for mode in ("forward", "reverse"):  # n directions each (m = n)
        point["multiply_adds"][mode] = n * pass_multiply_adds(n, w)
    return point, {name: (lambda jac=jac: jac(x)) for name, jac in jacs.items()}


def waist_sweep(ctx: common.Context, vs: str) -> list[dict]:
    s = ctx.sizes
    grid = [(n, s["w_fixed"]) for n in s["n_sweep"]] if vs == "n" else [(s["n_fixed"], w) for w in s["w_sweep"]]
    points, fns = [], []
    for n, w in grid:
        ctx.progress(f"waist vs {vs}: n={n}, w={w}: counts and checks")
        point, point_fns = waist_point(n, w)
        points.append(point)
        fns += [point_fns[name] for name in TIMED]
    ctx.progress(f"waist vs {vs}: timing {len(fns)} cases, samples interleaved")
    timings = iter(common.measure_many(fns, s["repeats"]))
    for point in points:
        point["seconds"] = {name: next(timings) for name in TIMED}
        t = {name: point["seconds"][name]["median"] for name in TIMED}
        c = point["multiply_adds"]
        point["time_ratio"] = {"explicit/forward": t["explicit_optimal"] / t["forward"],
                               "explicit/reverse": t["explicit_optimal"] / t["reverse"]}
        point["count_ratio"] = {"explicit/forward": c["explicit_optimal"] / c["forward"],
                                "explicit/reverse": c["explicit_optimal"] / c["reverse"]}
    return points


def dag_entry(index: int, seed: int) -> dict:
    """One random DAG: every mode's Jacobian checked, the candidates' costs and gaps."""
    program = dags.random_program(seed)
    f, x = program.function, program.x
    reference = dr.jacobian(f, mode="reverse")(x)
    entry: dict[str, Any] = {"index": index, "seed": seed, "program": program.text, "n": x.size}
    forward = dr.jacobian(f, mode="forward")(x)
    if not np.allclose(forward, reference, **TOL):
        raise AssertionError(f"cross_country: forward and reverse mode disagree on DAG {index} ({program.text})")
    entry["m"] = int(np.asarray(reference).size // x.size)
    for structure in ("structured", "dense"):
        results = {}
        for order in ("forward", "reverse", "optimal"):
            jac, cost = dr.jacobian(f, mode="explicit", order=order, structure=structure, return_cost=True)(x)
            if not np.allclose(jac, reference, **TOL):
                raise AssertionError(f"cross_country: explicit {structure} order={order} disagrees with reverse "
                                     f"mode on DAG {index} ({program.text})")
            results[order] = cost
        cost = results["optimal"]
        candidates = {k: int(v) for k, v in dict(cost.candidates).items()}
        exact = candidates.get("exact")
        entry[structure] = {
            "candidates": candidates,
            "gaps": {k: float(v) for k, v in dict(cost.gaps).items()},
            "own_gaps": {k: (v - exact) / exact for k, v in candidates.items() if exact} if exact else {},
            "chosen": cost.chosen,
            "optimal": int(cost.multiply_adds),
            "folds_run": {o: int(results[o].multiply_adds) for o in ("forward", "reverse")},
            "intermediates": len(cost.intermediates),
        }
    return entry


def exact_beaten(entries: list[dict]) -> list[dict]:
    """DAGs where a candidate costs less than the library's ``exact`` one (then
    ``exact`` is not the optimum on that cost model; ``gaps`` go negative)."""
    found = []
    for e in entries:
        for structure in MODELS:
            c = e[structure]["candidates"]
            name = min(c, key=c.get)
            if c[name] < c["exact"]:
                found.append({"index": e["index"], "seed": e["seed"], "structure": structure, "exact": c["exact"],
                              "cheapest": name, "cheapest_multiply_adds": c[name], "program": e["program"]})
    return found


def gap_statistics(entries: list[dict], structure: str) -> dict:
    """Per heuristic: how often it is optimal and how far above exact it is."""
    stats = {}
    for name in ("forward", "reverse", "best fold", "markowitz", "chain DP"):
        gaps = []
        for e in entries:
            c = e[structure]["candidates"]
            exact = c.get("exact")
            if not exact:
                continue
            value = min(c["forward"], c["reverse"]) if name == "best fold" else c.get(name)
            if value is not None:
                gaps.append((value - exact) / exact)
        if not gaps:
            stats[name] = {"graphs": 0}
            continue
        g = np.asarray(gaps)
        stats[name] = {"graphs": len(g), "share_optimal": float(np.mean(g <= 1e-12)), "min": float(np.min(g)),
                       "median": float(np.median(g)),
                       "mean": float(np.mean(g)), "p90": float(np.quantile(g, 0.9)), "max": float(np.max(g))}
    return stats


def run(ctx: common.Context) -> tuple[dict, Any]:
    ok, message = common.explicit_mode_status()
    ctx.progress(message)
    if not ok:
        return {"skipped": message, "waist": {}, "dags": []}, plotting.skipped_figure("cross_country", message)
    waist_sweeps = {vs: waist_sweep(ctx, vs) for vs in ("n", "w")}
    entries, seed = [], 0
    while len(entries) < ctx.sizes["dags"]:
        seed += 1
        entry = dag_entry(len(entries) + 1, seed)
        small = entry["structured"]["intermediates"] <= DAG_MAX_INTERMEDIATES
        if not small or any("exact" not in entry[s]["candidates"] for s in MODELS):
            continue  # too many intermediate vertices for the sample: the next seed
        entries.append(entry)
        if len(entries) % 25 == 0 or len(entries) == ctx.sizes["dags"]:
            ctx.progress(f"random DAGs: {len(entries)}/{ctx.sizes['dags']} (seeds 1-{seed})")
    large, large_seed = [], dags.LARGE_SEED0
    while len(large) < ctx.sizes["large_dags"]:
        large_seed += 1
        entry = dags.large_dag_entry(large_seed)
        if entry is not None:
            large.append(entry)
            ctx.progress(f"larger DAGs: {len(large)}/{ctx.sizes['large_dags']} (seed {large_seed}: "
                         f"{entry['structured']['intermediates']} intermediates, proven "
                         f"{entry['structured']['proven']}/{entry['dense']['proven']})")
    stats = {structure: gap_statistics(entries, structure) for structure in MODELS}
    beaten = exact_beaten(entries)
    largest = waist_sweeps["n"][-1]
    summary = {
        "waist_largest": {"n": largest["n"], "w": largest["w"], "time_ratio": largest["time_ratio"],
                          "count_ratio": largest["count_ratio"], "chosen": largest["chosen"]},
        "dags": len(entries),
        "seeds_tried": seed,
        "waist_time_ratio_by_n": {p["n"]: p["time_ratio"] for p in waist_sweeps["n"]},
        "exact_never_above_a_candidate": not beaten,
        "exact_beaten": beaten,
        "optimal_is_cheapest_candidate": all(
            e[s]["optimal"] == min(e[s]["candidates"].values()) for e in entries for s in MODELS),
        "neither_fold_optimal": {
            s: sum(min(e[s]["candidates"]["forward"], e[s]["candidates"]["reverse"]) > e[s]["candidates"]["exact"]
                   for e in entries) for s in MODELS},
        "intermediates_range": [min(e["structured"]["intermediates"] for e in entries),
                                max(e["structured"]["intermediates"] for e in entries)],
        "gap_statistics": stats,
        "large_dags": {structure: dags.large_statistics(large, structure) for structure in MODELS},
    }
    data = {
        "waist_function": "f(x) = tanh(W2 tanh(W1 x)), W1: w x n, W2: n x w; full n x n Jacobian",
        "multiply_adds_method": (
            "explicit: cost.multiply_adds / cost.candidates of dualrev's explicit mode; forward / reverse mode: "
            "analytic, n directions x (2*n*w + n + w) per direction (two matmuls, two tanh' scalings)"
        ),
        "dag_generator": dags.__doc__.strip().splitlines()[0],
        "gap_definition": (
            "cost.gaps: (candidate - exact) / exact multiply-adds, exact = the library's search over all "
            "elimination orders (branch and bound on the symbolic graph state, proven optimal on the structured "
            "cost model; "
            "summary.exact_beaten lists any DAG where a candidate beat it, and must be empty)"
        ),
        "large_dag_method": (
            f"dags.random_program(seed, steps={dags.LARGE_STEPS}) from seed {dags.LARGE_SEED0 + 1}, kept with "
            f"{dags.LARGE_INTERMEDIATES[0]}-{dags.LARGE_INTERMEDIATES[1]} structured intermediates; "
            f"search.exact_search from the cheapest heuristic, work bound {dags.LARGE_BUDGET:,} eliminations "
            f"(dualrev.explicit.search_budget; the default is {search.WORK_LIMIT:,}); "
            "gaps: [(c - best found) / best found, (c - lower bound) / lower bound] (equal when proven)"
        ),
        "summary": summary,
        "waist": waist_sweeps,
        "dags": entries,
        "large_dags": large,
    }
    return data, plot(waist_sweeps, entries, ctx.sizes, large)


def _ecdf(ax: Any, entries: list[dict], structure: str) -> None:
    colors = {"forward": "#2ca02c", "reverse": "#1f77b4", "best fold": "#7f7f7f", "markowitz": "#bcbd22",
              "chain DP": "#9467bd"}
    lowest = 0.0  # a negative gap: a candidate beat the library's exact optimum
    for name, color in colors.items():
        gaps = []
        for e in entries:
            c = e[structure]["candidates"]
            value = min(c["forward"], c["reverse"]) if name == "best fold" else c.get(name)
            if value is not None and c.get("exact"):
                gaps.append(100 * (value - c["exact"]) / c["exact"])
        if not gaps:
            continue
        g = np.sort(gaps)
        lowest = min(lowest, float(g[0]))
        share = np.mean(np.abs(g) <= 1e-10)
        ax.step(np.concatenate([[min(0.0, g[0])], g]), np.arange(len(g) + 1) / len(g), where="post", color=color,
                label=f"{name}: optimal on {100 * share:.0f}% of {len(g)}, median gap {np.median(g):.0f}%")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlim(left=lowest)
    if lowest < 0:
        ax.text(0.02, 0.97, f"left of 0: a candidate cheaper than the library's 'exact' ({lowest:.0f}%)",
                transform=ax.transAxes, va="top", fontsize=8)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("gap above the exact optimum (%, symlog)")
    ax.set_ylabel("fraction of DAGs with at most this gap")
    model = "structured local Jacobians" if structure == "structured" else "dense local Jacobians"
    ax.set_title(f"random DAGs, {model}: heuristics vs exact")
    ax.legend(loc="lower right", fontsize=8)


def plot(waist_sweeps: dict, entries: list[dict], sizes: dict, large: list[dict]) -> Any:
    fig, axes = plotting.figure(ncols=3, nrows=3, width=6.6, height=5.4)
    styles = {"explicit_optimal": dict(color="#9467bd", marker="*", ms=10),
              "explicit_dense_optimal": dict(color="#d62728", marker="s", ls="--", mfc="none"),
              "forward": plotting.line_style("forward"), "reverse": plotting.line_style("reverse")}
    points = waist_sweeps["n"]
    ns = [p["n"] for p in points]
    ax = axes[0, 0]
    for name in TIMED:
        plotting.errorbar(ax, ns, [p["seconds"][name] for p in points], name, label=LABELS[name], **styles[name])
    ax.set_ylabel("time for the full n×n Jacobian (s)")
    ax.set_title(f"waist Rⁿ → Rʷ → Rⁿ (w = {sizes['w_fixed']}): full Jacobian time")
    ax = axes[0, 1]
    for name in TIMED:
        ax.plot(ns, [p["multiply_adds"][name] for p in points], label=LABELS[name], **styles[name])
    for cand, color in (("forward", "#98df8a"), ("reverse", "#aec7e8"), ("markowitz", "#bcbd22")):
        ax.plot(ns, [p["candidates"].get(cand, np.nan) for p in points], color=color, ls=":", marker=".",
                label=f"explicit, {cand} {'fold' if cand != 'markowitz' else 'elimination'} (structured)")
    ax.set_ylabel("multiply-adds")
    ax.set_title(f"waist Rⁿ → Rʷ → Rⁿ (w = {sizes['w_fixed']}): multiply-adds")
    for a in axes[0, :2]:
        a.set_xscale("log", base=2)
        a.set_yscale("log")
        a.set_xlabel(f"n (input and output size), waist w = {sizes['w_fixed']}")
        a.legend(loc="upper left", fontsize=7.5)
    ax = axes[0, 2]
    wpoints = waist_sweeps["w"]
    ws = [p["w"] for p in wpoints]
    for key, color in (("explicit/forward", "#2ca02c"), ("explicit/reverse", "#1f77b4")):
        ax.plot(ws, [p["time_ratio"][key] for p in wpoints], color=color, marker="o", label=f"time {key}")
        ax.plot(ws, [p["count_ratio"][key] for p in wpoints], color=color, marker="x", ls="--",
                label=f"multiply-adds {key}")
    ax.axhline(1.0, color="k", lw=1, ls=":")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel(f"waist width w (n = {sizes['n_fixed']})")
    ax.set_ylabel("explicit optimal ÷ batched mode (< 1: explicit wins)")
    ax.set_title("waist: explicit optimal relative to the folds")
    ax.legend(loc="upper left", fontsize=8)
    _ecdf(axes[1, 0], entries, "structured")
    _ecdf(axes[1, 1], entries, "dense")
    ax = axes[1, 2]
    exact = np.array([e["structured"]["candidates"]["exact"] for e in entries], float)
    for name, color, marker in (("forward", "#2ca02c", "^"), ("reverse", "#1f77b4", "o"),
                                ("markowitz", "#bcbd22", "x")):
        ys = np.array([e["structured"]["candidates"][name] for e in entries], float)
        ax.scatter(np.maximum(exact, 1), np.maximum(ys, 1), s=14, color=color, marker=marker, alpha=0.7, label=name)
    lo, hi = max(1.0, float(np.min(exact, initial=1.0))), max(10.0, float(np.max(exact, initial=10.0)))
    ax.plot([lo, hi], [lo, hi], color="k", ls=":", lw=1.2, label="= exact optimum")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("exact optimum (multiply-adds, structured)")
    ax.set_ylabel("candidate's multiply-adds")
    ax.set_title(f"{len(entries)} random DAGs: each candidate vs exact")
    ax.legend(loc="upper left", fontsize=8)
    dags.plot_large(axes[2], large, MODELS)
    fig.suptitle("Cross-country elimination: a waist graph and random DAGs, where neither fold is optimal")
    fig.tight_layout()
    return fig


main = common.entry_point(NAME, DESCRIPTION, SIZES, run)

if __name__ == "__main__":
    main()
