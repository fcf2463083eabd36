"""local_jacobian — seed 001 §4.1: materialising a local Jacobian is wasteful.

For h = relu(a) the Jacobian ∂h/∂a = diag(Θ(a)) has D² entries, so the chain
rule through it (seed 001 eq. 45, dL/da = Jᵀ dL/dh) costs O(D²), while the
VJP rule dL/da = Θ(a) ⊙ dL/dh (eq. 47) costs O(D). The same holds for
sigmoid. For a linear layer a = h W + b the Jacobian with respect to W has
D·D² entries (almost all zero) and Jᵀg costs D³, while the VJP hᵀ g (an outer
product) costs D². With respect to the input h the Jacobian is W itself:
dense, D² either way — the control case where materialising wastes nothing.

Measured, per op and width D:

* ``vjp``: the pullback alone (``f_vjp(g)`` of ``dr.vjp``, tape recorded
  once beforehand) — what backprop does per op;
* ``materialised``: form the Jacobian from the JVP rule on an identity basis
  (``dr.jacobian(op, mode="forward")``, which is how the explicit mode forms
  local Jacobians) and contract it with g.

Counts are analytic: the Jacobian's entries and the multiply-adds of Jᵀg
versus the multiply-adds of the VJP rule (the derivative values themselves,
Θ(a) or σ(1−σ), are needed by both and not counted). Forming the Jacobian
from the JVP rule on an identity basis has its own cost
(``formation_multiply_adds``): D² for an elementwise op, but a matrix–matrix
product for the linear layer — D³ w.r.t. h (W times the D×D identity) and D⁴
w.r.t. W (D² directions, each h·T costing D²). The measured times include it. When the explicit mode is
available, its ``cost.local_jacobian_entries`` for the op is recorded beside
the analytic entry count (with ``structure="dense"``, the materialised
Jacobian this experiment is about), and next to it the entries the default
``structure="structured"`` stores (``explicit_structured_local_jacobian_entries``:
a diagonal keeps D values, a matmul none: it is applied matrix-free).
"""

from __future__ import annotations

import numpy as np

import dualrev as dr
import dualrev.numpy as dnp

from . import common, plotting

NAME = "local_jacobian"
DESCRIPTION = "VJP rule O(D) vs materialised local Jacobian O(D^2) (relu, sigmoid, linear layer)"
SIZES = {
    "smoke": {"vjp_D": [8, 32, 128], "jac_D": [8, 32], "jac_D_linear_W": [4, 8], "repeats": 1},
    "quick": {
        "vjp_D": [16, 64, 256, 1024, 4096, 16384, 65536, 262144],
        "jac_D": [16, 32, 64, 128, 256, 512, 1024],
        "jac_D_linear_W": [8, 16, 32, 64, 96, 128],
        "repeats": 3,
    },
    "full": {
        "vjp_D": [16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576],
        "jac_D": [16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
        "jac_D_linear_W": [8, 16, 32, 64, 128, 256, 320],
        "repeats": 9,
    },
}

# The linear layers are limited by their matrix W (D² entries) in the VJP sweep.
LINEAR_VJP_MAX_D = {"smoke": 128, "quick": 2048, "full": 4096}


def _problem(op: str, D: int, seed: int = 0):
    """(function of one array, primal, cotangent, analytic counts)."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(D)
    if op in ("relu", "sigmoid"):
        a = rng.standard_normal(D)
        fn = dnp.relu if op == "relu" else dnp.sigmoid
        counts = {"jacobian_entries": D * D, "materialised_multiply_adds": D * D, "vjp_multiply_adds": D,
                  "formation_multiply_adds": D * D}
        return fn, a, g, counts
    h = rng.standard_normal(D)
    W = rng.standard_normal((D, D)) / np.sqrt(D)
    b = rng.standard_normal(D)
    if op == "linear_W":
        counts = {"jacobian_entries": D**3, "materialised_multiply_adds": D**3, "vjp_multiply_adds": D * D,
                  "formation_multiply_adds": D**4}
        return (lambda W: dnp.linear(h, W, b)), W, g, counts
    counts = {"jacobian_entries": D * D, "materialised_multiply_adds": D * D, "vjp_multiply_adds": D * D,
              "formation_multiply_adds": D**3}
    return (lambda h: dnp.linear(h, W, b)), h, g, counts


OPS = {
    "relu": {"label": "relu", "color": "#1f77b4"},
    "sigmoid": {"label": "sigmoid", "color": "#2ca02c"},
    "linear_W": {"label": "linear layer, w.r.t. W", "color": "#d62728"},
    "linear_h": {"label": "linear layer, w.r.t. input h (control)", "color": "#7f7f7f"},
}
THEORY = {  # (vjp slope, materialised slope) in D
    "relu": (1, 2),
    "sigmoid": (1, 2),
    "linear_W": (2, 3),
    "linear_h": (2, 2),
}


def jac_sizes_of(op: str, sizes: dict) -> list:
    return sizes["jac_D_linear_W"] if op == "linear_W" else sizes["jac_D"]


def contract(J: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Jᵀg over the output axis (the first axis of J): seed 001 eq. 45."""
    return np.tensordot(g, J, axes=1)


def run(ctx: common.Context):
    s = ctx.sizes
    explicit_ok, explicit_msg = common.explicit_mode_status()
    ctx.progress(explicit_msg)
    results = {}
    jobs = []
    for op in OPS:
        jac_sizes = jac_sizes_of(op, s)
        vjp_sizes = [D for D in s["vjp_D"] if not op.startswith("linear") or D <= LINEAR_VJP_MAX_D[ctx.preset]]
        jobs += [(op, "vjp", D) for D in vjp_sizes] + [(op, "materialised", D) for D in jac_sizes]
    for i, (op, method, D) in enumerate(jobs, 1):
        ctx.progress(f"{op} {method} D={D} ({i}/{len(jobs)})")
        fn, primal, g, counts = _problem(op, D)
        entry = {"D": D, **counts}
        if method == "vjp":
            _, f_vjp = dr.vjp(fn, primal)
            entry["seconds"] = common.measure(lambda f_vjp=f_vjp, g=g: f_vjp(g), s["repeats"])
            expected = f_vjp(g)[0]
        else:
            jac = dr.jacobian(fn, mode="forward")
            entry["seconds"] = common.measure(
                lambda jac=jac, primal=primal, g=g: contract(jac(primal), g), s["repeats"]
            )
            got = contract(jac(primal), g)
            expected = dr.vjp(fn, primal)[1](g)[0]
            if not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
                raise AssertionError(f"local_jacobian: Jᵀg and the VJP disagree for {op} at D={D}")
            if explicit_ok and D <= 64:  # a cross-check of the entry count (cheap sizes only)
                _, cost = dr.jacobian(fn, mode="explicit", order="reverse", structure="dense", return_cost=True)(
                    primal
                )
                entry["explicit_local_jacobian_entries"] = int(cost.local_jacobian_entries)
                _, cost = dr.jacobian(fn, mode="explicit", order="reverse", return_cost=True)(primal)
                entry["explicit_structured_local_jacobian_entries"] = int(cost.local_jacobian_entries)
        results.setdefault(op, {}).setdefault(method, []).append(entry)

    fits = []
    for op, by_method in results.items():
        for method, entries in by_method.items():
            xs = [e["D"] for e in entries]
            tail = slice(-3, None)  # the largest sizes: arithmetic, not Python, dominates there
            count_key = "vjp_multiply_adds" if method == "vjp" else "materialised_multiply_adds"
            fits.append({"op": op, "method": method, "vs": "D", "measure": "multiply_adds",
                         "slope": common.fit_slope(xs, [e[count_key] for e in entries]),
                         "theory": THEORY[op][0 if method == "vjp" else 1]})
            fits.append({"op": op, "method": method, "vs": "D", "measure": "seconds", "fit_points": xs[tail],
                         "slope": common.fit_slope(xs[tail], [e["seconds"]["median"] for e in entries][tail]),
                         "theory": THEORY[op][0 if method == "vjp" else 1]})
            if method == "materialised":
                fits.append({"op": op, "method": method, "vs": "D", "measure": "jacobian_entries",
                             "slope": common.fit_slope(xs, [e["jacobian_entries"] for e in entries]),
                             "theory": THEORY[op][1]})
    data = {
        "explicit_mode": explicit_msg,
        "counts_method": (
            "analytic: elementwise op: Jacobian D^2 entries, J^T g D^2 multiply-adds, VJP D; linear layer w.r.t. W: "
            "Jacobian D*D^2 entries, J^T g D^3, VJP (outer product) D^2; w.r.t. h: D^2 each. "
            "formation_multiply_adds: forming J from the JVP rule on an identity basis (D^2 elementwise, "
            "D^3 linear w.r.t. h, D^4 linear w.r.t. W); included in the materialised times"
        ),
        "vjp_timing": "pullback only (f_vjp(g)), tape recorded once beforehand",
        "materialised_timing": "dr.jacobian(op, mode='forward')(x) (JVP rule on an identity basis) then J^T g",
        "results": results,
        "fits": fits,
    }
    return data, plot(results, fits)


def plot(results, fits):
    fig, axes = plotting.figure(ncols=2, width=7.2)
    ax_count, ax_time = axes[0]
    for op, info in OPS.items():
        if op not in results:
            continue
        for method, ls, marker in (("vjp", "-", "o"), ("materialised", "--", "s")):
            entries = results[op].get(method, [])
            if not entries:
                continue
            xs = [e["D"] for e in entries]
            key = "vjp_multiply_adds" if method == "vjp" else "materialised_multiply_adds"
            name = "VJP rule" if method == "vjp" else "Jacobian, then Jᵀg"
            ax_count.plot(xs, [e[key] for e in entries], ls=ls, marker=marker, color=info["color"],
                          label=f"{info['label']}: {name} (∝ D^{THEORY[op][0 if method == 'vjp' else 1]})")
            slope = next(f["slope"] for f in fits
                         if f["op"] == op and f["method"] == method and f["measure"] == "seconds")
            plotting.errorbar(ax_time, xs, [e["seconds"] for e in entries], op, color=info["color"], ls=ls,
                              marker=marker, label=f"{info['label']}: {name}, slope {slope:.2f}")
    for ax in (ax_count, ax_time):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("width D (entries of the op's input and output)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1)
    ax_count.set_ylabel("multiply-adds of the chain-rule step")
    ax_count.set_title("Operation count (analytic)")
    ax_time.set_ylabel("time per backward step (s)")
    ax_time.set_title("Measured time (slopes fitted on the 3 largest D)")
    fig.suptitle("Seed 001 §4.1: VJP rule vs materialised local Jacobian")
    fig.tight_layout()
    return fig


main = common.entry_point(NAME, DESCRIPTION, SIZES, run)

if __name__ == "__main__":
    main()
