"""io_shape — the full Jacobian of f: Rⁿ → Rᵐ costs n JVPs or m VJPs.

f(x) = tanh(B tanh(A x)) with A: h×n and B: m×h (h fixed). Forward mode
pushes the n input basis vectors, reverse mode pulls the m output basis
vectors; with ``chunk_size=1`` (one direction per pass) the time is
(number of passes) × (cost of one pass), so forward ∝ n, reverse ∝ m, and
they cross at n ≈ m. Sweep n at fixed m, then m at fixed n, and record what
``mode="auto"`` picks (``dualrev.api.choose_mode``) at each point. The
default batched Jacobian (all directions in one pass) is timed alongside.

Multiply-adds (analytic, derivative propagation only, primal excluded): one
JVP or VJP of f costs h·n + h + m·h + m (the two matmuls plus the two tanh′
scalings), so the forward Jacobian costs n times that, reverse m times.
"""

from __future__ import annotations

import numpy as np

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.api import choose_mode

from . import common, plotting

NAME = "io_shape"
DESCRIPTION = "full Jacobian of f: R^n -> R^m by forward (n JVPs) and reverse (m VJPs) mode"
SIZES = {
    "smoke": {"hidden": 8, "fixed": 8, "sweep": [2, 8, 32], "repeats": 1},
    "quick": {"hidden": 32, "fixed": 64, "sweep": [4, 8, 16, 32, 64, 128, 256, 512], "repeats": 7},
    "full": {"hidden": 64, "fixed": 128, "sweep": [4, 8, 16, 32, 64, 128, 256, 512, 1024], "repeats": 7},
}


def make_problem(n: int, m: int, hidden: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((hidden, n)) / np.sqrt(n)
    B = rng.standard_normal((m, hidden)) / np.sqrt(hidden)
    x = rng.standard_normal(n)

    def f(x):
        return dnp.tanh(dnp.matmul(B, dnp.tanh(dnp.matmul(A, x))))

    return f, x


def pass_multiply_adds(n: int, m: int, hidden: int) -> int:
    """Multiply-adds of one JVP (or one VJP) of f, primal excluded."""
    return hidden * n + hidden + m * hidden + m


LABELS = ("forward_chunk1", "forward_batched", "reverse_chunk1", "reverse_batched", "auto_batched")


def prepare_point(n: int, m: int, hidden: int) -> tuple[dict, dict]:
    """The point's counts and auto's pick, and one callable per timed variant
    (all checked to give the same Jacobian)."""
    f, x = make_problem(n, m, hidden)
    per_pass = pass_multiply_adds(n, m, hidden)
    point = {
        "n": n,
        "m": m,
        "auto_choice": choose_mode(n, m),
        "multiply_adds": {"forward": n * per_pass, "reverse": m * per_pass},
        "passes_chunk1": {"forward": n, "reverse": m},
    }
    fns = {}
    reference = None
    for label in LABELS:
        mode, variant = label.split("_")
        jac = dr.jacobian(f, mode=mode, chunk_size=1 if variant == "chunk1" else None)
        result = jac(x)
        if reference is None:
            reference = result
        elif not np.allclose(result, reference, rtol=1e-10, atol=1e-12):
            raise AssertionError(f"io_shape: {label} Jacobian disagrees at n={n}, m={m}")
        fns[label] = (lambda jac=jac: jac(x))
    return point, fns


def finish_point(point: dict) -> None:
    t = point["seconds"]
    for variant in ("chunk1", "batched"):
        forward_faster = t[f"forward_{variant}"]["median"] < t[f"reverse_{variant}"]["median"]
        point[f"faster_{variant}"] = "forward" if forward_faster else "reverse"


def crossover(xs, forward, reverse) -> float | None:
    """Where the forward and reverse curves cross (log-log interpolation)."""
    diff = np.log(np.asarray(forward)) - np.log(np.asarray(reverse))
    for i in range(len(xs) - 1):
        if diff[i] == 0:
            return float(xs[i])
        if diff[i] * diff[i + 1] < 0:
            lx0, lx1 = np.log(xs[i]), np.log(xs[i + 1])
            return float(np.exp(lx0 + (lx1 - lx0) * diff[i] / (diff[i] - diff[i + 1])))
    return None


def run(ctx: common.Context):
    s = ctx.sizes
    hidden, fixed, sweep = s["hidden"], s["fixed"], s["sweep"]
    sweeps = {}
    total = 2 * len(sweep)
    done = 0
    for vs in ("n", "m"):
        points, fns = [], []
        for value in sweep:
            n, m = (value, fixed) if vs == "n" else (fixed, value)
            done += 1
            ctx.progress(f"sweep {vs}: n={n}, m={m}: set-up and check ({done}/{total})")
            point, point_fns = prepare_point(n, m, hidden)
            points.append(point)
            fns += [point_fns[label] for label in LABELS]
        ctx.progress(f"sweep {vs}: timing {len(fns)} cases, samples interleaved")
        timings = iter(common.measure_many(fns, s["repeats"]))
        for point in points:
            point["seconds"] = {label: next(timings) for label in LABELS}
            finish_point(point)
        sweeps[vs] = points

    fits, crossovers, auto_report = [], {}, {}
    for vs, points in sweeps.items():
        xs = [p[vs] for p in points]
        for method in ("forward", "reverse"):
            measured = {
                "seconds": [p["seconds"][f"{method}_chunk1"]["median"] for p in points],
                "multiply_adds": [p["multiply_adds"][method] for p in points],
                "passes": [p["passes_chunk1"][method] for p in points],
            }
            for measure, ys in measured.items():
                fits.append({"method": method, "chunk_size": 1, "vs": vs, "measure": measure,
                             "slope": common.fit_slope(xs, ys)})
        fw = [p["seconds"]["forward_chunk1"]["median"] for p in points]
        rv = [p["seconds"]["reverse_chunk1"]["median"] for p in points]
        crossovers[vs] = {
            "fixed": {"n": fixed} if vs == "m" else {"m": fixed},
            "measured_chunk1": crossover(xs, fw, rv),
            "measured_batched": crossover(
                xs,
                [p["seconds"]["forward_batched"]["median"] for p in points],
                [p["seconds"]["reverse_batched"]["median"] for p in points],
            ),
            "theory_multiply_adds": fixed,
            "auto_switches_at": fixed,
        }
        auto_report[vs] = {
            "agrees_with_faster_chunk1": sum(p["auto_choice"] == p["faster_chunk1"] for p in points),
            "agrees_with_faster_batched": sum(p["auto_choice"] == p["faster_batched"] for p in points),
            "points": len(points),
        }

    fig = plot(sweeps, fixed, hidden, fits)
    data = {
        "function": "f(x) = tanh(B tanh(A x)), A: hidden x n, B: m x hidden",
        "multiply_adds_method": (
            "analytic: one JVP or VJP = hidden*n + hidden + m*hidden + m multiply-adds (two matmuls, two tanh' "
            "scalings; primal excluded); full Jacobian = n JVPs (forward) or m VJPs (reverse)"
        ),
        "auto_rule": "choose_mode(n, m): reverse when m <= n, forward when m > n",
        "sweeps": sweeps,
        "fits": fits,
        "crossover": crossovers,
        "auto": auto_report,
    }
    return data, fig


def plot(sweeps, fixed, hidden, fits):
    fig, axes = plotting.figure(ncols=2, width=7.2)
    for ax, vs in zip(axes[0], ("n", "m")):
        points = sweeps[vs]
        xs = [p[vs] for p in points]
        for method in ("forward", "reverse"):
            slope = next(f["slope"] for f in fits
                         if f["method"] == method and f["vs"] == vs and f["measure"] == "seconds")
            label = f"{plotting.STYLE[method]['label']}, 1 direction/pass: slope {slope:.2f}"
            plotting.errorbar(ax, xs, [p["seconds"][f"{method}_chunk1"] for p in points], method, label=label)
            style = plotting.line_style(method)
            style.update(ls="--", alpha=0.55, mfc="none")
            ax.errorbar(
                xs,
                [p["seconds"][f"{method}_batched"]["median"] for p in points],
                yerr=None,
                label=f"{plotting.STYLE[method]['label']}, all directions in one pass",
                **style,
            )
        auto = [p["seconds"]["auto_batched"]["median"] for p in points]
        ax.plot(xs, auto, ls="none", marker="o", ms=13, mfc="none", mec="k", label='mode="auto" (batched)')
        ax.axvline(fixed, color="k", ls=":", lw=1.2)
        other = "m" if vs == "n" else "n"
        ax.text(fixed, 0.02, f" {vs} = {other} = {fixed}", va="bottom", ha="left", fontsize=10,
                transform=ax.get_xaxis_transform())
        for p in points:
            ax.annotate(
                "R" if p["auto_choice"] == "reverse" else "F",
                (p[vs], 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, -14),
                textcoords="offset points",
                ha="center",
                fontsize=10,
                color=plotting.STYLE[p["auto_choice"]]["color"],
                fontweight="bold",
            )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(f"{vs} ({'input' if vs == 'n' else 'output'} size), {other} = {fixed} fixed")
        ax.set_ylabel("time for the full Jacobian (s)")
        ax.set_title(f"sweep {vs} at {other} = {fixed} (letters: auto's pick)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1)
    fig.suptitle(f"Full Jacobian of f: Rⁿ → Rᵐ, f(x) = tanh(B tanh(A x)), hidden {hidden}: forward ∝ n, reverse ∝ m")
    fig.tight_layout()
    return fig


main = common.entry_point(NAME, DESCRIPTION, SIZES, run)

if __name__ == "__main__":
    main()
