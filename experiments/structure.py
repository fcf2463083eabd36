"""structure — explicit Jacobians with dense vs structured local Jacobians.

Two programs, each swept against the width D (depth N fixed) and against N
(D fixed):

* ``elementwise``: f(x) = Σ tanhᴺ(x), x ∈ R^D — a chain of N elementwise ops
  and a sum. Every local Jacobian is a diagonal (the sum's is a 0-1 row).
  Dense, they are D×D matrices: forward order multiplies them matrix–matrix
  (≈ (N−1)·D³), reverse order drags a 1×D row through them (≈ N·D²).
  Structured, a diagonal times a diagonal costs D: (N−1)·D in every order.
* ``layers``: f(x) = Σ tanh(W_N ··· tanh(W_1 x)), D×D weights, scalar output
  (``common.dense_chain``). Dense: forward (2N−1)·D³ + D², reverse 2N·D².
  Structured: tanh′ stays a diagonal and W is its own local Jacobian
  (∂(W h)/∂h = W ⊗ I₁ = W: matmul's ``kron`` structure, nothing formed);
  reverse order then does what backprop does, N·D² + (N−1)·D; forward order
  scales W₁ and pushes its D columns through each later W,
  (N−1)·D³ + N·D² — forward mode's full gradient less its first W·I.

Timed per point (whole call, as a user sees it): the explicit mode in
forward and reverse order with ``structure="dense"`` (the lecture notes'
"bad approach": every local Jacobian formed densely from the JVP rule on an
identity basis — included in the time) and ``structure="structured"``, and
the gradient by forward mode (D JVPs, one batch) and by reverse mode (one
VJP). Multiply-adds: explicit mode from ``cost.multiply_adds`` (structured
runs, every order) and ``cost.dense_multiply_adds`` (the same order with
dense local Jacobians, checked equal to the ``structure="dense"`` run where
that is timed); forward and reverse mode analytic (derivative propagation,
primal excluded). Slopes: least squares on log-log axes over the three
largest points of each series.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import dualrev as dr
import dualrev.numpy as dnp

from . import common, plotting

NAME = "structure"
DESCRIPTION = "dense vs structured explicit Jacobians vs forward/reverse mode: elementwise chain and dense layers"
PROGRAMS = {
    "elementwise": "f(x) = sum(tanh(tanh(... tanh(x)))), N tanh, x of shape (D,)",
    "layers": "f(x) = sum(tanh(W_N ... tanh(W_1 x))), x of shape (D, 1), W_i D x D",
}
TIMED = ("explicit_dense_forward", "explicit_dense_reverse", "explicit_structured_forward",
         "explicit_structured_reverse", "forward", "reverse")
COUNTED = TIMED[:4] + ("explicit_structured_optimal",) + TIMED[4:]
ORDERS = ("forward", "reverse", "optimal")
THEORY = {  # slopes of the multiply-adds in D (in N every series has slope 1)
    "elementwise": {"explicit_dense_forward": 3, "explicit_dense_reverse": 2, "explicit_structured_forward": 1,
                    "explicit_structured_reverse": 1, "explicit_structured_optimal": 1, "forward": 2, "reverse": 1},
    "layers": {"explicit_dense_forward": 3, "explicit_dense_reverse": 2, "explicit_structured_forward": 3,
               "explicit_structured_reverse": 2, "explicit_structured_optimal": 2, "forward": 3, "reverse": 2},
}
SIZES = {
    "smoke": {
        "elementwise": {"N_fixed": 3, "D_sweep": [4, 8, 16], "D_fixed": 8, "N_sweep": [1, 2, 4], "D_max": {}},
        "layers": {"N_fixed": 2, "D_sweep": [4, 8, 16], "D_fixed": 8, "N_sweep": [1, 2, 4], "D_max": {}},
        "repeats": 1,
    },
    "quick": {
        "elementwise": {
            "N_fixed": 8, "D_sweep": [16, 64, 256, 1024, 4096, 16384, 65536], "D_fixed": 256,
            "N_sweep": [1, 2, 4, 8, 16, 32, 64],
            "D_max": {"explicit_dense_forward": 1024, "explicit_dense_reverse": 2048, "forward": 4096},
        },
        "layers": {
            "N_fixed": 4, "D_sweep": [16, 32, 64, 128, 256, 512, 1024], "D_fixed": 128,
            "N_sweep": [1, 2, 4, 8, 16, 32],
            "D_max": {"explicit_dense_forward": 512, "explicit_structured_forward": 512, "forward": 512},
        },
        "repeats": 5,
    },
    "full": {
        "elementwise": {
            "N_fixed": 8, "D_sweep": [16, 64, 256, 1024, 4096, 16384, 65536, 262144], "D_fixed": 256,
            "N_sweep": [1, 2, 4, 8, 16, 32, 64, 128],
            "D_max": {"explicit_dense_forward": 2048, "explicit_dense_reverse": 2048, "forward": 8192},
        },
        "layers": {
            "N_fixed": 4, "D_sweep": [16, 32, 64, 128, 256, 512, 1024, 2048], "D_fixed": 256,
            "N_sweep": [1, 2, 4, 8, 16, 32, 64],
            "D_max": {"explicit_dense_forward": 1024, "explicit_structured_forward": 1024, "forward": 1024},
        },
        "repeats": 7,
    },
}
# How each series is drawn (methods without an entry in plotting.STYLE).
LABELS = {
    "explicit_dense_forward": "explicit, dense local Jacobians, forward order",
    "explicit_dense_reverse": "explicit, dense local Jacobians, reverse order",
    "explicit_structured_forward": "explicit, structured, forward order",
    "explicit_structured_reverse": "explicit, structured, reverse order",
    "explicit_structured_optimal": "explicit, structured, optimal order",
    "forward": "forward mode: full gradient (D JVPs, one batch)",
    "reverse": "reverse mode: one VJP (backprop)",
}


def make_problem(program: str, D: int, N: int, seed: int = 0) -> tuple[Callable, np.ndarray]:
    """The function and its input point."""
    if program == "layers":
        f, x, _ = common.dense_chain([D] * (N + 1), scalar_output=True, seed=seed)
        return f, x

    def f(x: Any) -> Any:
        for _ in range(N):
            x = dnp.tanh(x)
        return dnp.sum(x)

    return f, np.random.default_rng(seed).standard_normal(D)


def analytic_multiply_adds(program: str, method: str, D: int, N: int) -> int:
    """Derivative propagation of forward/reverse mode (primal excluded): per op
    a tanh′ scaling (D) and, for layers, a D×D matrix–vector product; D for the
    sum; the forward-mode gradient pushes D directions."""
    per_layer = D if program == "elementwise" else D * D + D
    one_pass = N * per_layer + D
    return one_pass if method == "reverse" else D * one_pass


def timed_callable(method: str, f: Callable, x: np.ndarray) -> Callable[[], Any]:
    """A zero-argument call computing the method's gradient (explicit: (J, cost))."""
    if method.startswith("explicit_"):
        _, structure, order = method.split("_")
        jac = dr.jacobian(f, mode="explicit", order=order, structure=structure, return_cost=True)
        return lambda: jac(x)
    gradient = dr.grad(f, mode=method)
    return lambda: gradient(x)


def prepare_point(program: str, D: int, N: int, methods: list[str]) -> tuple[dict, dict]:
    """Counts of every order (structured runs), the checked timed callables."""
    f, x = make_problem(program, D, N)
    reference = np.asarray(dr.grad(f, mode="reverse")(x))
    scale = max(1.0, float(np.max(np.abs(reference))))
    point: dict[str, Any] = {"D": D, "N": N, "orders": {}, "counts": {}, "max_abs_error": {}}

    def check(name: str, value: Any) -> None:
        error = float(np.max(np.abs(np.asarray(value).reshape(reference.shape) - reference)))
        point["max_abs_error"][name] = error
        if not error <= 1e-8 * scale:
            raise AssertionError(f"structure: {name} disagrees with reverse mode on {program} at D={D}, N={N}")

    for order in ORDERS:
        jac, cost = dr.jacobian(f, mode="explicit", order=order, return_cost=True)(x)
        check(f"explicit_structured_{order}", jac)
        point["orders"][order] = {
            "multiply_adds": int(cost.multiply_adds), "dense_multiply_adds": int(cost.dense_multiply_adds),
            "local_jacobian_entries": int(cost.local_jacobian_entries),
            "dense_local_jacobian_entries": int(cost.dense_local_jacobian_entries), "chosen": cost.chosen,
        }
    for order in ("forward", "reverse"):
        point["counts"][f"explicit_dense_{order}"] = point["orders"][order]["dense_multiply_adds"]
    for order in ORDERS:
        point["counts"][f"explicit_structured_{order}"] = point["orders"][order]["multiply_adds"]
    for method in ("forward", "reverse"):
        point["counts"][method] = analytic_multiply_adds(program, method, D, N)
    fns = {}
    for method in methods:
        fn = timed_callable(method, f, x)
        result = fn()
        if method.startswith("explicit_"):
            check(method, result[0])
            if "_dense_" in method:  # the dense run counts what the structured run predicted for it
                point["counts_checked_by_dense_run"] = point.get("counts_checked_by_dense_run", True) and (
                    int(result[1].multiply_adds) == point["counts"][method])
        else:
            check(method, result)
        fns[method] = fn
    return point, fns


def run_sweep(ctx: common.Context, program: str, vs: str) -> list[dict]:
    """One sweep (vs D or vs N) of one program: set-up and checks, then the
    timing of each method with the samples of its sizes interleaved."""
    s = ctx.sizes[program]
    grid = [(D, s["N_fixed"]) for D in s["D_sweep"]] if vs == "D" else [(s["D_fixed"], N) for N in s["N_sweep"]]
    points, fns = [], []
    for D, N in grid:
        methods = [m for m in TIMED if vs == "N" or D <= s["D_max"].get(m, D)]
        ctx.progress(f"{program} vs {vs}: D={D} N={N}: counts and checks ({len(methods)} timed methods)")
        point, point_fns = prepare_point(program, D, N, methods)
        point["seconds"] = {}
        points.append(point)
        fns.append(point_fns)
    for method in TIMED:
        group = [(p, f[method]) for p, f in zip(points, fns) if method in f]
        ctx.progress(f"{program} vs {vs}: timing {method} at {len(group)} sizes, samples interleaved")
        for (point, _), timing in zip(group, common.measure_many([fn for _, fn in group], ctx.sizes["repeats"])):
            point["seconds"][method] = timing
    return points


def fits_of(program: str, vs: str, points: list[dict]) -> list[dict]:
    """Slopes of counts and times over the three largest points of each series."""
    fits = []
    for method in COUNTED:
        tail = [p for p in points if p["counts"].get(method)][-3:]
        fits.append({"program": program, "vs": vs, "method": method, "measure": "multiply_adds",
                     "slope": common.fit_slope([p[vs] for p in tail], [p["counts"][method] for p in tail]),
                     "theory": THEORY[program][method] if vs == "D" else 1, "fit_points": [p[vs] for p in tail]})
    for method in TIMED:
        tail = [p for p in points if method in p["seconds"]][-3:]
        fits.append({"program": program, "vs": vs, "method": method, "measure": "seconds",
                     "slope": common.fit_slope([p[vs] for p in tail], [p["seconds"][method]["median"] for p in tail]),
                     "theory": THEORY[program][method] if vs == "D" else 1, "fit_points": [p[vs] for p in tail]})
    return fits


def run(ctx: common.Context) -> tuple[dict, Any]:
    ok, message = common.explicit_mode_status()
    ctx.progress(message)
    if not ok:
        return {"skipped": message, "sweeps": {}}, plotting.skipped_figure("structure", message)
    sweeps = {program: {vs: run_sweep(ctx, program, vs) for vs in ("D", "N")} for program in PROGRAMS}
    fits = [f for program, by_vs in sweeps.items() for vs, points in by_vs.items()
            for f in fits_of(program, vs, points)]
    points = [p for by_vs in sweeps.values() for ps in by_vs.values() for p in ps]
    elementwise = [p for ps in sweeps["elementwise"].values() for p in ps]
    summary = {
        "structured_elementwise_is_(N-1)*D_in_every_order": all(
            p["orders"][o]["multiply_adds"] == (p["N"] - 1) * p["D"] for p in elementwise for o in ORDERS),
        "dense_counts_match_dense_runs": all(p.get("counts_checked_by_dense_run", True) for p in points),
        "largest_max_abs_error": max(e for p in points for e in p["max_abs_error"].values()),
    }
    data = {
        "programs": PROGRAMS,
        "multiply_adds_method": (
            "explicit_structured_<order>: cost.multiply_adds of the structured run; explicit_dense_<order>: "
            "cost.dense_multiply_adds of the structured run in that order (checked equal to the structure='dense' "
            "run's multiply_adds wherever that is timed); forward / reverse: analytic derivative propagation, "
            "one pass = N*(D [+ D^2 for layers]) + D, the forward gradient is D passes"
        ),
        "timing": "whole call (primal, recording, forming local Jacobians, accumulation); explicit dense times "
                  "include forming every local Jacobian densely from the JVP rule on an identity basis",
        "fit_method": "least squares on log-log axes over the 3 largest points of each series",
        "summary": summary,
        "sweeps": sweeps,
        "fits": fits,
    }
    return data, plot(sweeps, fits, ctx.sizes)


def _style(method: str) -> dict:
    dense = "_dense_" in method
    colors = {"explicit_dense_forward": "#d62728", "explicit_dense_reverse": "#ff7f0e",
              "explicit_structured_forward": "#e377c2", "explicit_structured_reverse": "#9467bd",
              "explicit_structured_optimal": "#17becf"}
    if method in colors:
        marker = {"forward": "s", "reverse": "D", "optimal": "*"}[method.rsplit("_", 1)[1]]
        return {"color": colors[method], "marker": marker, "ls": "--" if dense else "-",
                "mfc": "none" if dense else colors[method]}
    return plotting.line_style(method)


def plot(sweeps: dict, fits: list[dict], sizes: dict) -> Any:
    fig, axes = plotting.figure(ncols=2, nrows=4, width=7.6, height=5.4)
    slopes = {(f["program"], f["vs"], f["method"], f["measure"]): f["slope"] for f in fits}
    for row, (program, vs) in enumerate((p, v) for p in PROGRAMS for v in ("D", "N")):
        points = sweeps[program][vs]
        for col, measure in enumerate(("multiply_adds", "seconds")):
            ax = axes[row, col]
            for method in COUNTED if measure == "multiply_adds" else TIMED:
                slope = slopes[(program, vs, method, measure)]
                theory = THEORY[program][method] if vs == "D" else 1
                label = f"{LABELS[method]}: slope {'n/a' if slope is None else f'{slope:.2f}'} (theory {theory})"
                if measure == "seconds":
                    timed = [p for p in points if method in p["seconds"]]
                    plotting.errorbar(ax, [p[vs] for p in timed], [p["seconds"][method] for p in timed], method,
                                      label=label, **_style(method))
                else:
                    ys = [p["counts"][method] or np.nan for p in points]  # 0 (N = 1) is off a log axis
                    ax.plot([p[vs] for p in points], ys, label=label, **_style(method))
            ref = [(3, "explicit_dense_forward"), (1, "reverse")] if vs == "D" else [(1, "reverse")]
            if program == "layers" and vs == "D":
                ref = [(3, "explicit_dense_forward"), (2, "reverse")]
            for slope, method in ref:
                pts = [p for p in points if (method in p["seconds"] if measure == "seconds" else True)]
                ys = [p["seconds"][method]["median"] if measure == "seconds" else p["counts"][method] for p in pts]
                plotting.reference_slope(ax, [p[vs] for p in pts], ys, slope, f"reference: ∝ {vs}^{slope}",
                                         color="k" if slope < 3 else "#555555", last=3)
            s = sizes[program]
            fixed = f"N = {s['N_fixed']}" if vs == "D" else f"D = {s['D_fixed']}"
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            depth = "depth N (tanh ops)" if program == "elementwise" else "depth N (layers)"
            ax.set_xlabel(f"{'width D' if vs == 'D' else depth}  ({fixed})")
            ax.set_ylabel("multiply-adds" if measure == "multiply_adds" else "time per gradient (s)")
            what = "elementwise chain Σ tanhᴺ(x)" if program == "elementwise" else "N dense tanh layers, scalar output"
            ax.set_title(f"{what}: {'multiply-adds' if measure == 'multiply_adds' else 'time'} vs {vs}")
            ax.legend(loc="upper left", fontsize=7.5)
    fig.suptitle("Explicit Jacobians: dense local Jacobians (dashed, hollow) vs structured (solid), "
                 "against forward and reverse mode")
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    return fig


main = common.entry_point(NAME, DESCRIPTION, SIZES, run)

if __name__ == "__main__":
    main()
