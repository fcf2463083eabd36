"""Random small programs (DAGs) from a fixed seed, for cross_country.

A program starts from an input x ∈ R^k (k = 2…8) and appends 5–10 ops, each
reading one or two earlier values: an elementwise op (tanh, sin, cos), an
elementwise product or sum of two values of equal size (fan-in; a size-1
value broadcasts), a small matmul W·a with a random output width (1…12), a
sum (to size 1), a concatenation of two values, or a slice. Later values are
likelier operands, earlier ones are reused too (fan-out). The output is the
last value, concatenated with every value nothing else read (so no op is
dead code and the output gathers several paths: fan-in at the end).

``random_program(seed)`` returns the function, its input point and a
readable description; the same seed always gives the same program.

``large_dag_entry`` / ``large_statistics`` / ``plot_large``: part (c) of
cross_country, the planner's branch and bound on larger DAGs of this
generator (10–20 intermediate vertices): proofs completed, work, seconds,
lower bounds and the heuristics' gaps (ranges where unproven).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import dualrev.numpy as dnp
from dualrev.explicit import plans, search
from dualrev.explicit.linearize import linearised_graph

KINDS = ("unary", "binary", "matmul", "sum", "concat", "slice")
WEIGHTS = (0.30, 0.20, 0.24, 0.08, 0.10, 0.08)
UNARY = {"tanh": dnp.tanh, "sin": dnp.sin, "cos": dnp.cos}
#: The larger DAGs of cross_country (c): intermediate vertices (structured graph) from … to.
LARGE_INTERMEDIATES = (10, 20)
#: Their number of ops, and the seed after which they are drawn (past the small sample's).
LARGE_STEPS = (8, 18)
LARGE_SEED0 = 10_000
#: The larger DAGs' search budget: dualrev.explicit.search_budget(30_000) (the default is search.WORK_LIMIT).
LARGE_BUDGET = 30_000
HEURISTICS = ("forward", "reverse", "markowitz", "chain DP")
MODELS = ("structured", "dense")


class RandomProgram(NamedTuple):
    function: Callable[[Any], Any]
    x: np.ndarray
    text: str
    ops: list[tuple]


def _operand(rng: np.random.Generator, count: int) -> int:
    """An earlier value, later ones likelier (weight 1 + index)."""
    weights = np.arange(1, count + 1, dtype=float)
    return int(rng.choice(count, p=weights / weights.sum()))


def random_program(seed: int, steps: tuple[int, int] = (5, 10), inputs: tuple[int, int] = (2, 8)) -> RandomProgram:
    """The program of ``seed``: ops as (kind, operands, parameter) tuples."""
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(inputs[0], inputs[1] + 1))]
    ops: list[tuple] = []
    for _ in range(int(rng.integers(steps[0], steps[1] + 1))):
        kind = str(rng.choice(KINDS, p=WEIGHTS))
        a = _operand(rng, len(sizes))
        if kind == "binary":
            partners = [b for b in range(len(sizes)) if b != a and (sizes[b] in (sizes[a], 1) or sizes[a] == 1)]
            if not partners:
                kind = "unary"
            else:
                b = int(rng.choice(partners))
                ops.append(("binary", (a, b), str(rng.choice(["mul", "add"]))))
                sizes.append(max(sizes[a], sizes[b]))
                continue
        if kind == "slice" and sizes[a] < 2:
            kind = "unary"
        if kind == "unary":
            ops.append(("unary", (a,), str(rng.choice(list(UNARY)))))
            sizes.append(sizes[a])
        elif kind == "matmul":
            width = int(rng.integers(1, 13))
            ops.append(("matmul", (a,), rng.standard_normal((width, sizes[a])) / np.sqrt(sizes[a])))
            sizes.append(width)
        elif kind == "sum":
            ops.append(("sum", (a,), None))
            sizes.append(1)
        elif kind == "concat":
            b = _operand(rng, len(sizes))
            ops.append(("concat", (a, b), None))
            sizes.append(sizes[a] + sizes[b])
        elif kind == "slice":
            lo = int(rng.integers(0, sizes[a] - 1))
            hi = int(rng.integers(lo + 1, sizes[a] + 1))
            ops.append(("slice", (a,), (lo, hi)))
            sizes.append(hi - lo)
    read = {i for _, operands, _ in ops for i in operands}
    last = len(sizes) - 1
    unread = [i for i in range(1, last) if i not in read]
    ops.append(("output", (last, *unread), None))
    x = rng.standard_normal(sizes[0])
    return RandomProgram(_interpreter(ops), x, describe(ops, sizes), ops)


def _apply(kind: str, args: list, parameter: Any) -> Any:
    if kind == "unary":
        return UNARY[parameter](args[0])
    if kind == "binary":
        return args[0] * args[1] if parameter == "mul" else args[0] + args[1]
    if kind == "matmul":
        return dnp.matmul(parameter, args[0])
    if kind == "sum":
        return dnp.sum(args[0], keepdims=True)
    if kind == "slice":
        return args[0][parameter[0]:parameter[1]]
    return dnp.concatenate(args) if len(args) > 1 else args[0]  # concat, output


def _interpreter(ops: list[tuple]) -> Callable[[Any], Any]:
    def f(x: Any) -> Any:
        values = [x]
        for kind, operands, parameter in ops:
            values.append(_apply(kind, [values[i] for i in operands], parameter))
        return values[-1]

    return f


def describe(ops: list[tuple], sizes: list[int]) -> str:
    """One line: ``v0[4]; v1 = tanh(v0); v2 = W[3x4]·v1; ...``."""
    parts = [f"v0[{sizes[0]}]"]
    for i, (kind, operands, parameter) in enumerate(ops, 1):
        names = [f"v{j}" for j in operands]
        if kind == "unary":
            text = f"{parameter}({names[0]})"
        elif kind == "binary":
            text = f" {'*' if parameter == 'mul' else '+'} ".join(names)
        elif kind == "matmul":
            text = f"W[{parameter.shape[0]}x{parameter.shape[1]}]·{names[0]}"
        elif kind == "sum":
            text = f"sum({names[0]})"
        elif kind == "slice":
            text = f"{names[0]}[{parameter[0]}:{parameter[1]}]"
        else:
            text = f"concat({', '.join(names)})" if len(names) > 1 else names[0]
        parts.append(f"{'out' if kind == 'output' else f'v{i}'} = {text}")
    return "; ".join(parts)


def large_dag_entry(seed: int) -> dict | None:
    """One larger DAG (c): the heuristics' costs and the branch and bound's
    result on each model; None when it has too few or too many intermediates."""
    program = random_program(seed, steps=LARGE_STEPS)
    entry: dict[str, Any] = {"seed": seed, "program": program.text}
    for structure in MODELS:
        graph, inputs, inner = linearised_graph(lambda leaves: program.function(leaves[0]), [program.x], structure)
        if structure == "structured" and not LARGE_INTERMEDIATES[0] <= len(inner) <= LARGE_INTERMEDIATES[1]:
            return None
        orders = {"forward": plans.fold_plan("forward", inner), "reverse": plans.fold_plan("reverse", inner),
                  "markowitz": plans.markowitz_order(graph, inner)}
        chains = plans._chains(graph, inputs, set(inner))
        if chains is not None:
            orders["chain DP"] = [v for path in chains for v in plans.chain_dp(graph, path)[0]]
        costs = {name: plans.simulate(graph, order) for name, order in orders.items()}
        start = min(costs, key=costs.get)
        t0 = time.perf_counter()
        found = search.exact_search(graph, inner, orders[start], costs[start], LARGE_BUDGET)
        seconds = time.perf_counter() - t0
        if plans.simulate(graph, found.order) != found.cost or found.cost > costs[start]:
            raise AssertionError(f"cross_country: the search's order does not cost what it reports (seed {seed})")
        if found.lower_bound > min(costs.values()) or found.lower_bound > found.cost:
            raise AssertionError(f"cross_country: a lower bound above an order's cost (seed {seed})")
        best, low = found.cost, found.lower_bound
        entry[structure] = {
            "intermediates": len(inner), "candidates": costs, "proven": found.proven, "work": found.work,
            "states": found.states, "seconds": seconds, "best": best, "lower_bound": low,
            # gap to the optimum: exact when proven, else [above the best found, above the lower bound]
            "gaps": {name: [(c - best) / best if best else 0.0, (c - low) / low if low else float("inf")]
                     for name, c in costs.items()} if best else {},
        }
    return entry


def large_statistics(entries: list[dict], structure: str) -> dict:
    """(c): how often the proof completes, its work and seconds, per size band;
    the heuristics' gaps where proven and the ranges where not."""
    rows = [e[structure] for e in entries]
    bands = {}
    for lo, hi in ((10, 12), (13, 15), (16, 18), (19, 20)):
        band = [r for r in rows if lo <= r["intermediates"] <= hi]
        if band:
            proven = [r for r in band if r["proven"]]
            bands[f"{lo}-{hi}"] = {
                "graphs": len(band), "proven": len(proven),
                "median_work_proven": float(np.median([r["work"] for r in proven])) if proven else None,
                "max_seconds": max(r["seconds"] for r in band),
                "median_seconds": float(np.median([r["seconds"] for r in band])),
                "median_bound_ratio_unproven": (float(np.median([r["lower_bound"] / r["best"] for r in band
                                                                 if not r["proven"] and r["best"]]))
                                                if len(proven) < len(band) else None),
            }
    gaps = {}
    for name in HEURISTICS:
        have = [r for r in rows if name in r["gaps"]]
        proven = [r["gaps"][name][0] for r in have if r["proven"]]
        unproven = [r["gaps"][name] for r in have if not r["proven"]]
        gaps[name] = {
            "proven_graphs": len(proven),
            "proven_share_optimal": float(np.mean(np.asarray(proven) <= 1e-12)) if proven else None,
            "proven_median_gap": float(np.median(proven)) if proven else None,
            "proven_max_gap": float(np.max(proven)) if proven else None,
            "unproven_graphs": len(unproven),
            "unproven_median_gap_range": ([float(np.median([g[0] for g in unproven])),
                                           float(np.median([g[1] for g in unproven]))] if unproven else None),
        }
    return {"graphs": len(rows), "proven": sum(r["proven"] for r in rows),
            "max_seconds": max((r["seconds"] for r in rows), default=0.0), "bands": bands, "gaps": gaps}


def plot_large(axes: Any, large: list[dict], models: tuple = MODELS) -> None:
    """Three panels: work and planning seconds against intermediate vertices
    (filled: proof completed; hollow: stopped at the work bound), and the
    heuristics' gaps on the structured model (a bar: the range where unproven)."""
    colors = {"structured": "#9467bd", "dense": "#d62728"}
    for ax, key, label in ((axes[0], "work", "eliminations simulated (work)"),
                           (axes[1], "seconds", "planning seconds (branch and bound)")):
        for structure in models:
            rows = [e[structure] for e in large]
            for proven in (True, False):
                pick = [r for r in rows if r["proven"] == proven]
                ax.scatter([r["intermediates"] + (0.12 if structure == "dense" else -0.12) for r in pick],
                           [max(r[key], 1e-4) for r in pick], s=22, color=colors[structure],
                           facecolors=colors[structure] if proven else "none",
                           label=f"{structure}: {'proven' if proven else 'stopped'} ({len(pick)})")
        if key == "work":
            ax.axhline(LARGE_BUDGET, color="k", ls=":", lw=1, label=f"work bound {LARGE_BUDGET:,}")
        ax.set_yscale("log")
        ax.set_xlabel("intermediate vertices (structured graph)")
        ax.set_ylabel(label)
        ax.set_title(f"{len(large)} larger random DAGs: the exact search's {key}")
        ax.legend(loc="lower right", fontsize=7.5)
    ax = axes[2]
    for offset, (name, color) in enumerate((("forward", "#2ca02c"), ("reverse", "#1f77b4"),
                                             ("markowitz", "#bcbd22"))):
        for i, e in enumerate(sorted(large, key=lambda e: e["structured"]["intermediates"])):
            r = e["structured"]
            lo, hi = (100 * g for g in r["gaps"].get(name, [np.nan, np.nan]))
            hi = min(hi, 1e5)
            x = i + 0.25 * (offset - 1)
            ax.plot([x, x], [lo, hi], color=color, lw=2.5 if not r["proven"] else 1.0,
                    marker="o" if r["proven"] else None, ms=3,
                    label=name if i == 0 else None)
    ax.set_yscale("symlog", linthresh=1)
    ax.set_xlabel("larger DAGs, by intermediate vertices (structured)")
    ax.set_ylabel("gap above the optimum (%): dot = proven, bar = range")
    ax.set_title("heuristics' gaps on the larger DAGs (structured)")
    ax.legend(loc="upper left", fontsize=8)
