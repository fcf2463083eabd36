"""chain_cost — seed 003 §14 (foldl vs foldr) on a chain of N dense layers.

f(x) = Σ tanh(W_N ··· tanh(W_1 x)), x ∈ R^D, every W_i D×D: the gradient is
the row vector 1ᵀ J_{2N} ··· J_1 with J = diag(tanh′) or W. Five ways to get
derivatives, timed and counted against D (N fixed) and against N (D fixed):

* ``explicit_forward``  — explicit mode, order="forward": the product of the
  local Jacobians from the input side, matrix–matrix: ≈ (2N−1)·D³.
* ``explicit_reverse``  — explicit mode, order="reverse": from the output side,
  a row vector times each matrix: ≈ 2N·D².

Both run with ``structure="dense"``: every local Jacobian a dense matrix formed
from the JVP rule on an identity basis (the lecture notes' bad approach, whose
cost model this experiment demonstrates). The default ``structure="structured"``
keeps tanh′ diagonal and W matrix-free; ``experiments.structure`` compares the two.
* ``vjp``               — reverse mode, one VJP (backprop): N·(D² + D) + D.
* ``jvp``               — forward mode, one JVP (one direction): N·(D² + D) + D.
* ``forward_gradient``  — forward mode, the full gradient = D JVPs (pushed as
  one batch): D·(N·(D² + D) + D).

Multiply-adds of the explicit mode are ``cost.multiply_adds`` (the
accumulation only; forming the local Jacobians is reported separately by the
library as ``local_jacobian_entries``; here we add the analytic cost of that
formation, N·(D³ + D²), because the times include it). The others are analytic
counts of the derivative propagation (primal excluded): per layer one D×D
matrix–vector product (D²) and one elementwise tanh′ scaling (D), plus D for
the sum. Times cover the whole call (primal included), as a user sees it.

Slopes are least-squares fits on log-log axes over the three largest sizes of
each method, where arithmetic (not Python overhead) dominates.
"""

from __future__ import annotations

import numpy as np

import dualrev as dr

from . import common, plotting

NAME = "chain_cost"
DESCRIPTION = "chain of N dense tanh layers of width D: explicit forward/reverse order, VJP, JVP, forward gradient"
METHODS = ("explicit_forward", "explicit_reverse", "vjp", "jvp", "forward_gradient")
EXPLICIT = ("explicit_forward", "explicit_reverse")
THEORY = {  # slopes of multiply-adds (and ideally time) in D and in N
    "D": {"explicit_forward": 3, "explicit_reverse": 2, "vjp": 2, "jvp": 2, "forward_gradient": 3},
    "N": {m: 1 for m in METHODS},
}
SIZES = {
    "smoke": {
        "N_fixed": 2, "D_sweep": [4, 8, 16], "D_max": {},
        "D_fixed": 8, "N_sweep": [1, 2, 4], "repeats": 1,
    },
    "quick": {
        "N_fixed": 4, "D_sweep": [16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
        "D_max": {"explicit_forward": 2048, "explicit_reverse": 1024, "forward_gradient": 2048},
        "D_fixed": 256, "N_sweep": [1, 2, 4, 8, 16, 32, 64], "repeats": 5,
    },
    "full": {
        "N_fixed": 4, "D_sweep": [16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
        "D_max": {"explicit_forward": 4096, "explicit_reverse": 2048, "forward_gradient": 4096},
        "D_fixed": 256, "N_sweep": [1, 2, 4, 8, 16, 32, 64, 128], "repeats": 9,
    },
}


def analytic_multiply_adds(method: str, D: int, N: int) -> int:
    one_pass = N * (D * D + D) + D
    if method in ("vjp", "jvp"):
        return one_pass
    if method == "forward_gradient":
        return D * one_pass
    raise ValueError(method)


def formation_multiply_adds(D: int, N: int) -> int:
    """Forming the local Jacobians from JVP rules on identity bases:
    W times a D×D basis (D³) and tanh′ times a D×D basis (D²) per layer."""
    return N * (D**3 + D * D)


def make_callable(method: str, f, x: np.ndarray, direction: np.ndarray):
    """A zero-argument function computing the method's derivative, and a way to
    read its cost (explicit mode) from the last call."""
    if method in EXPLICIT:
        order = method.split("_")[1]
        jac = dr.jacobian(f, mode="explicit", order=order, structure="dense", return_cost=True)
        return lambda: jac(x)
    if method == "vjp":
        def run_vjp():
            _, f_vjp = dr.vjp(f, x)
            return f_vjp(1.0)
        return run_vjp
    if method == "jvp":
        return lambda: dr.jvp(f, (x,), (direction,))
    if method == "forward_gradient":
        gradient = dr.grad(f, mode="forward")
        return lambda: gradient(x)
    raise ValueError(method)


def check(method: str, result, reference: np.ndarray, direction: np.ndarray) -> float:
    """Largest deviation from the reverse-mode gradient (JVP: from ⟨∇f, v⟩)."""
    if method in EXPLICIT:
        value = np.asarray(result[0]).reshape(reference.shape)
    elif method == "vjp":
        value = np.asarray(result[0])
    elif method == "jvp":
        return float(abs(float(result[1]) - float(np.sum(reference * direction))))
    else:
        value = np.asarray(result)
    return float(np.max(np.abs(value - reference)))


def prepare_point(method: str, D: int, N: int, seed: int = 0) -> tuple[dict, callable]:
    """Build the problem, check the method's answer, record its counts.
    Returns the point (without times) and the function to time."""
    f, x, _ = common.dense_chain([D] * (N + 1), scalar_output=True, seed=seed)
    direction = np.random.default_rng(seed + 1).standard_normal(x.shape)
    reference = dr.vjp(f, x)[1](1.0)[0]
    fn = make_callable(method, f, x, direction)
    result = fn()
    point = {"D": D, "N": N, "max_abs_error": check(method, result, reference, direction)}
    if point["max_abs_error"] > 1e-8 * max(1.0, float(np.max(np.abs(reference)))):
        raise AssertionError(f"chain_cost: {method} disagrees with the reverse-mode gradient at D={D}, N={N}")
    if method in EXPLICIT:
        cost = result[1]
        point["multiply_adds"] = int(cost.multiply_adds)
        point["local_jacobian_entries"] = int(cost.local_jacobian_entries)
        point["local_jacobians"] = int(cost.local_jacobians)
        point["formation_multiply_adds"] = formation_multiply_adds(D, N)
        point["plan"] = cost.plan if len(cost.plan) < 300 else cost.plan[:297] + "..."
    else:
        point["multiply_adds"] = analytic_multiply_adds(method, D, N)
    return point, fn


def run(ctx: common.Context):
    s = ctx.sizes
    explicit_ok, explicit_msg = common.explicit_mode_status()
    ctx.progress(explicit_msg)
    methods = [m for m in METHODS if explicit_ok or m not in EXPLICIT]
    jobs = []
    for m in methods:
        limit = s["D_max"].get(m, max(s["D_sweep"]))
        jobs += [("D", m, D, s["N_fixed"]) for D in s["D_sweep"] if D <= limit]
    for m in methods:
        jobs += [("N", m, s["D_fixed"], N) for N in s["N_sweep"]]
    sweeps = {"D": {m: [] for m in methods}, "N": {m: [] for m in methods}}
    done = 0
    for vs in ("D", "N"):
        for m in methods:
            group = [(D, N) for v, mm, D, N in jobs if v == vs and mm == m]
            fns = []
            for D, N in group:
                done += 1
                ctx.progress(f"vs {vs}: {m} D={D} N={N}: set-up and check ({done}/{len(jobs)})")
                point, fn = prepare_point(m, D, N)
                sweeps[vs][m].append(point)
                fns.append(fn)
            ctx.progress(f"vs {vs}: {m}: timing {len(fns)} sizes, samples interleaved")
            for point, timing in zip(sweeps[vs][m], common.measure_many(fns, s["repeats"])):
                point["seconds"] = timing
            del fns

    fits = []
    for vs, by_method in sweeps.items():
        for m, points in by_method.items():
            tail = points[-3:]
            xs = [p[vs] for p in tail]
            for measure in ("seconds", "multiply_adds"):
                ys = [p[measure]["median"] if measure == "seconds" else p[measure] for p in tail]
                fits.append({
                    "method": m, "vs": vs, "measure": measure, "slope": common.fit_slope(xs, ys),
                    "theory": THEORY[vs][m], "fit_points": xs,
                    "fixed": {"N": s["N_fixed"]} if vs == "D" else {"D": s["D_fixed"]},
                })
    data = {
        "function": "f(x) = sum(tanh(W_N ... tanh(W_1 x))), x of shape (D, 1), W_i D x D",
        "explicit_mode": explicit_msg,
        "multiply_adds_method": (
            "explicit_forward / explicit_reverse: cost.multiply_adds from dualrev's explicit mode with "
            "structure='dense' (accumulation only; local-Jacobian formation, analytic N*(D^3 + D^2), is in "
            "formation_multiply_adds). vjp / jvp: "
            "analytic count of the derivative propagation, N*(D^2 + D) + D (per layer one D x D matrix-vector "
            "product and one tanh' scaling, plus D for the sum; primal excluded). forward_gradient: D times that "
            "(D directions)."
        ),
        "fit_method": "least squares on log-log axes over the 3 largest sizes of each method",
        "sweeps": sweeps,
        "fits": fits,
    }
    if not explicit_ok:
        data["skipped"] = list(EXPLICIT)
    return data, plot(sweeps, fits, s, explicit_msg if not explicit_ok else None)


def plot(sweeps, fits, s, note):
    fig, axes = plotting.figure(ncols=2, nrows=2, width=7.4, height=5.6)
    for col, vs in enumerate(("D", "N")):
        for row, measure in enumerate(("seconds", "multiply_adds")):
            ax = axes[row, col]
            for m, points in sweeps[vs].items():
                if not points:
                    continue
                xs = [p[vs] for p in points]
                fit = next(f for f in fits if f["method"] == m and f["vs"] == vs and f["measure"] == measure)
                label = plotting.slope_label(m, fit["slope"], fit["theory"])
                if measure == "seconds":
                    plotting.errorbar(ax, xs, [p["seconds"] for p in points], m, label=label)
                else:
                    style = plotting.line_style(m)
                    ax.plot(xs, [p["multiply_adds"] for p in points], label=label, **style)
            # theory lines through the largest point of a representative method
            if vs == "D":
                anchors = [(3, "explicit_forward", "forward_gradient"), (2, "vjp", "jvp")]
            else:
                anchors = [(1, "vjp", "jvp")]
            colors = {3: "#555555", 2: "k", 1: "k"}
            for slope, *candidates in anchors:
                for c in candidates:
                    points = sweeps[vs].get(c)
                    if points:
                        ys = [p["seconds"]["median"] if measure == "seconds" else p["multiply_adds"] for p in points]
                        plotting.reference_slope(ax, [p[vs] for p in points], ys, slope, f"theory: ∝ {vs}^{slope}",
                                                 color=colors[slope], last=4 if measure == "seconds" else None)
                        break
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            fixed = f"N = {s['N_fixed']} layers" if vs == "D" else f"D = {s['D_fixed']}"
            ax.set_xlabel(f"{'width D' if vs == 'D' else 'depth N (layers)'}  ({fixed})")
            ax.set_ylabel("time per call (s)" if measure == "seconds" else "multiply-adds")
            ax.set_title(f"{'time' if measure == 'seconds' else 'multiply-adds'} vs {vs}")
            ax.legend(loc="upper left", fontsize=8)
    title = ("Chain of dense tanh layers, scalar output: matrix–matrix (D³) vs vector–matrix (D²)"
             " — explicit mode with dense local Jacobians")
    if note:
        title += f"\n({note})"
    fig.suptitle(title)
    fig.tight_layout()
    return fig


main = common.entry_point(NAME, DESCRIPTION, SIZES, run)

if __name__ == "__main__":
    main()
