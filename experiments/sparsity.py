"""sparsity — sparse Jacobians: detect the pattern, colour it, compress the passes.

1. Colours vs n for four Jacobian patterns, each *detected* from a program
   by ``dr.jacobian_sparsity`` (detection and colouring timed separately):
   ``banded`` (tridiagonal: f_i of x_{i-1}, x_i, x_{i+1}), ``block`` (dense
   8 x 8 blocks on the diagonal), ``stencil`` (2-D 5-point Laplacian plus a
   cubic term on a √n x √n grid) and ``random`` (f_i = sin(x_a(i)) x_b(i)
   + x_c(i)² with random index maps). Column (forward) and row (reverse)
   colourings: networkx greedy, ``largest_first``.
2. Time vs n on the tridiagonal program: the sparse Jacobian with the
   pattern and colouring passed in (one batched forward pass of 3 colours +
   1 checking direction), the whole sparse pipeline (detect + colour +
   pass), and the dense forward and dense reverse Jacobians (n² entries;
   only up to ``dense_max``, beyond which the n x n result alone is too big).
3. ``scipy.integrate.solve_ivp(method="BDF")`` on the stiff 1-D Brusselator
   (2 x grid unknowns): with the dualrev sparse Jacobian, with SciPy's own
   finite differences on the same pattern (``jac_sparsity``), and with no
   Jacobian information (dense finite differences: only at a small size).
4. The Hessian of a chain-structured sum (tridiagonal H): star colours and
   Hessian-vector passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.integrate import solve_ivp

import dualrev as dr
import dualrev.numpy as dnp

from . import common, plotting

NAME = "sparsity"
DESCRIPTION = "sparse Jacobians: colours vs n, compressed vs dense passes, solve_ivp BDF with a dualrev Jacobian"
PATTERNS = ("banded", "block", "stencil", "random")
SIZES = {
    "smoke": {"colour_n": [64, 256], "sparse_n": [100, 1000], "dense_n": [50, 100], "ivp_grid": 200,
              "ivp_dense_grid": 50, "hessian_n": 1000, "repeats": 1},
    "quick": {"colour_n": [256, 1024, 4096, 10_000], "sparse_n": [1000, 10_000, 100_000],
              "dense_n": [250, 500, 1000, 2000], "ivp_grid": 5000, "ivp_dense_grid": 100, "hessian_n": 10_000,
              "repeats": 3},
    "full": {"colour_n": [256, 1024, 4096, 16384, 65536], "sparse_n": [1000, 10_000, 100_000, 1_000_000],
             "dense_n": [250, 500, 1000, 2000, 4000], "ivp_grid": 50_000, "ivp_dense_grid": 500,
             "hessian_n": 100_000, "repeats": 5},
}


def _shift(x: Any, k: int) -> Any:
    z = np.zeros(abs(k))
    return dnp.concatenate([x[k:], z]) if k > 0 else dnp.concatenate([z, x[:k]])


def program(kind: str, n: int) -> tuple[Callable, np.ndarray]:
    """The function and its point (n rounded to fit the pattern's shape)."""
    rng = np.random.default_rng(n)
    if kind == "banded":
        def f(x: Any) -> Any:
            return dnp.sin(x) * x + _shift(x, 1) ** 2 - dnp.tanh(_shift(x, -1))
        return f, rng.uniform(0.5, 1.5, n)
    if kind == "block":
        b = 8
        n -= n % b
        w = rng.standard_normal((b, b))

        def f(x: Any) -> Any:
            blocks = dnp.exp(0.3 * dnp.reshape(x, (n // b, b, 1)))  # a product within each block, no matmul
            return dnp.reshape(dnp.sum(blocks * w, axis=1), (n,))
        return f, rng.uniform(0.5, 1.5, n)
    if kind == "stencil":
        side = int(round(np.sqrt(n)))
        zr, zc = np.zeros((1, side)), np.zeros((side + 2, 1))

        def f(x: Any) -> Any:
            g = dnp.reshape(x, (side, side))
            pad = dnp.concatenate([zc, dnp.concatenate([zr, g, zr], axis=0), zc], axis=1)
            lap = pad[:-2, 1:-1] + pad[2:, 1:-1] + pad[1:-1, :-2] + pad[1:-1, 2:] - 4 * g
            return dnp.reshape(lap + g**3, (side * side,))
        return f, rng.uniform(0.5, 1.5, side * side)
    a, b, c = rng.integers(0, n, n), rng.integers(0, n, n), rng.integers(0, n, n)

    def f(x: Any) -> Any:
        return dnp.sin(x[a]) * x[b] + x[c] ** 2
    return f, rng.uniform(0.5, 1.5, n)


def colours_vs_n(ctx: common.Context) -> dict:
    out: dict = {}
    for kind in PATTERNS:
        out[kind] = []
        for n in ctx.sizes["colour_n"]:
            f, x = program(kind, n)
            start = time.perf_counter()
            pattern = dr.jacobian_sparsity(f)(x)
            detect = time.perf_counter() - start
            column, row = dr.colouring(pattern, "column"), dr.colouring(pattern, "row")
            out[kind].append({"n": x.size, "nnz": int(pattern.nnz), "column_colours": column.n_colours,
                              "row_colours": row.n_colours, "max_row_nnz": int(np.diff(pattern.indptr).max()),
                              "detect_seconds": detect, "column_colour_seconds": column.seconds,
                              "row_colour_seconds": row.seconds})
            ctx.progress(f"colours {kind} n={x.size}: column {column.n_colours}, row {row.n_colours}")
    return out


def times_vs_n(ctx: common.Context) -> dict:
    sparse_points, dense_points = [], []
    for n in ctx.sizes["sparse_n"]:
        f, x = program("banded", n)
        pattern = dr.jacobian_sparsity(f)(x)
        col = dr.colouring(pattern, "column")
        given = dr.jacobian(f, sparsity=pattern, colouring=col)
        whole = dr.jacobian(f, sparse=True, return_cost=True)
        start = time.perf_counter()  # one timed call of the whole pipeline (its stages from the cost record)
        start = time.perf_counter()
        _, cost = whole(x)
        once = time.perf_counter() - start
        t_whole = {"median": once, "min": once, "max": once, "repeats": 1, "inner": 1}
        t_given = common.measure(lambda g=given, x=x: g(x), ctx.sizes["repeats"])
        sparse_points.append({"n": n, "colours": col.n_colours, "given": t_given, "whole": t_whole,
                              "detect_seconds": cost.detect_seconds, "colour_seconds": cost.colour_seconds,
                              "compute_seconds": cost.compute_seconds})
        ctx.progress(f"sparse tridiagonal n={n}: {t_given['median']:.4f}s given, {t_whole['median']:.3f}s whole")
    for n in ctx.sizes["dense_n"]:
        f, x = program("banded", n)
        fwd, rev = dr.jacobian(f, mode="forward"), dr.jacobian(f, mode="reverse")
        sparse = dr.jacobian(f, sparse=True)
        np.testing.assert_allclose(sparse(x).toarray(), np.asarray(fwd(x)), rtol=1e-12)
        t_fwd, t_rev = common.measure_many([lambda g=fwd, x=x: g(x), lambda g=rev, x=x: g(x)], ctx.sizes["repeats"])
        dense_points.append({"n": n, "forward": t_fwd, "reverse": t_rev})
        ctx.progress(f"dense tridiagonal n={n}: forward {t_fwd['median']:.3f}s, reverse {t_rev['median']:.3f}s")
    return {"sparse": sparse_points, "dense": dense_points}


def brusselator(grid: int, alpha: float = 0.02, a: float = 1.0, b: float = 3.0) -> tuple[Callable, np.ndarray]:
    h2 = (1.0 / (grid + 1)) ** 2
    one, bb = np.ones(1), np.full(1, b)

    def rhs(y: Any) -> Any:
        u, v = y[:grid], y[grid:]
        lap_u = (dnp.concatenate([one, u[:-1]]) - 2 * u + dnp.concatenate([u[1:], one])) / h2
        lap_v = (dnp.concatenate([bb, v[:-1]]) - 2 * v + dnp.concatenate([v[1:], bb])) / h2
        return dnp.concatenate([a + u * u * v - (b + 1) * u + alpha * lap_u, b * u - u * u * v + alpha * lap_v])

    xs = np.linspace(0, 1, grid + 2)[1:-1]
    return rhs, np.concatenate([1 + np.sin(2 * np.pi * xs), np.full(grid, b)])


def _solve(rhs: Callable, y0: np.ndarray, **jac: Any) -> dict:
    start = time.perf_counter()
    sol = solve_ivp(lambda t, y: np.asarray(rhs(y)), (0.0, 10.0), y0, method="BDF", rtol=1e-6, atol=1e-8, **jac)
    return {"seconds": time.perf_counter() - start, "success": bool(sol.success), "nfev": int(sol.nfev),
            "njev": int(sol.njev), "nlu": int(sol.nlu), "y_end": sol.y[:, -1]}


def ivp(ctx: common.Context) -> dict:
    out = {}
    for grid in (ctx.sizes["ivp_grid"], ctx.sizes["ivp_dense_grid"]):
        rhs, y0 = brusselator(grid)
        start = time.perf_counter()
        pattern = dr.jacobian_sparsity(rhs)(y0)
        col = dr.colouring(pattern, "column")
        setup = time.perf_counter() - start
        jac = dr.jacobian(rhs, sparsity=pattern, colouring=col)
        runs = {"dualrev_jac": _solve(rhs, y0, jac=lambda t, y, j=jac: j(y)),
                "scipy_fd_jac_sparsity": _solve(rhs, y0, jac_sparsity=pattern)}
        if grid == ctx.sizes["ivp_dense_grid"]:
            runs["scipy_dense_fd"] = _solve(rhs, y0)
        ref = runs["dualrev_jac"]["y_end"]
        for r in runs.values():
            r["max_abs_diff_to_dualrev"] = float(np.max(np.abs(r.pop("y_end") - ref)))
        out[str(2 * grid)] = {"unknowns": 2 * grid, "colours": col.n_colours, "setup_seconds": setup, "runs": runs}
        ctx.progress(f"solve_ivp BDF {2 * grid} unknowns: " + ", ".join(f"{k} {r['seconds']:.2f}s"
                                                                       for k, r in runs.items()))
    return out


def hessian_chain(ctx: common.Context) -> dict:
    n = ctx.sizes["hessian_n"]

    def f(x: Any) -> Any:
        return dnp.sum((x[1:] - x[:-1] ** 2) ** 2) + dnp.sum(dnp.cos(x))

    x = np.random.default_rng(0).uniform(-1, 1, n)
    hess, cost = dr.hessian(f, sparse=True, return_cost=True)(x)
    return {"n": n, "nnz": int(hess.nnz), "star_colours": cost.colours, "hvp_directions": cost.directions,
            "passes": cost.passes, "detect_seconds": cost.detect_seconds, "colour_seconds": cost.colour_seconds,
            "compute_seconds": cost.compute_seconds}


def summarise(colours: dict, times: dict, hess: dict) -> dict:
    sparse = {p["n"]: p for p in times["sparse"]}
    dense = times["dense"]
    biggest = dense[-1]
    slope = common.fit_slope([p["n"] for p in dense[-3:]], [p["forward"]["median"] for p in dense[-3:]])
    out: dict = {"dense_forward_slope": slope, "dense_measured_up_to": biggest["n"]}
    if 10_000 in sparse and slope is not None:
        extrapolated = biggest["forward"]["median"] * (10_000 / biggest["n"]) ** slope
        out["dense_forward_at_10000_extrapolated_seconds"] = extrapolated
        out["speedup_vs_dense_forward_at_10000_(given_pattern)"] = extrapolated / sparse[10_000]["given"]["median"]
        out["speedup_vs_dense_forward_at_10000_(whole_pipeline)"] = extrapolated / sparse[10_000]["whole"]["median"]
    if biggest["n"] <= max(sparse):
        f, x = program("banded", biggest["n"])
        pattern = dr.jacobian_sparsity(f)(x)
        given = dr.jacobian(f, sparsity=pattern, colouring=dr.colouring(pattern, "column"))
        same = common.measure(lambda: given(x), 3)["median"]
        out[f"speedup_vs_dense_forward_at_{biggest['n']}_(measured)"] = biggest["forward"]["median"] / same
    if 10_000 in sparse and 100_000 in sparse:
        for how in ("given", "whole"):
            out[f"sparse_growth_1e4_to_1e5_({how})"] = sparse[100_000][how]["median"] / sparse[10_000][how]["median"]
    out["tridiagonal_colours"] = sorted({p["colours"] for p in times["sparse"]})
    out["stencil_column_colours"] = {p["n"]: p["column_colours"] for p in colours["stencil"]}
    out["hessian_chain_hvp_directions"] = hess["hvp_directions"]
    return out


def run(ctx: common.Context) -> tuple[dict, Any]:
    colours = colours_vs_n(ctx)
    times = times_vs_n(ctx)
    solved = ivp(ctx)
    hess = hessian_chain(ctx)
    data = {"patterns": {k: program.__doc__ for k in PATTERNS}, "colouring": "networkx greedy, largest_first",
            "colours": colours, "times": times, "solve_ivp": solved, "hessian_chain": hess,
            "summary": summarise(colours, times, hess)}
    return data, plot(colours, times)


def plot(colours: dict, times: dict) -> Any:
    fig, axes = plotting.figure(ncols=3, nrows=1, width=6.2, height=5.0)
    ax = axes[0, 0]
    for kind, points in colours.items():
        line = ax.plot([p["n"] for p in points], [p["column_colours"] for p in points], marker="o", label=f"{kind}")
        ax.plot([p["n"] for p in points], [p["row_colours"] for p in points], ls="--", color=line[0].get_color())
    ax.set(xscale="log", xlabel="n", ylabel="colours (solid: column, dashed: row)", title="colours vs n")
    ax.legend()
    ax = axes[0, 1]
    sparse, dense = times["sparse"], times["dense"]
    plotting.errorbar(ax, [p["n"] for p in sparse], [p["given"] for p in sparse], "sparse_given",
                      label="sparse, pattern + colouring given", color="#2ca02c", marker="o")
    plotting.errorbar(ax, [p["n"] for p in sparse], [p["whole"] for p in sparse], "sparse_whole",
                      label="sparse, detect + colour + pass", color="#17becf", marker="s")
    plotting.errorbar(ax, [p["n"] for p in dense], [p["forward"] for p in dense], "forward",
                      label="dense forward Jacobian")
    plotting.errorbar(ax, [p["n"] for p in dense], [p["reverse"] for p in dense], "reverse",
                      label="dense reverse Jacobian")
    ax.set(xscale="log", yscale="log", xlabel="n", ylabel="seconds", title="tridiagonal Jacobian")
    ax.legend(fontsize=8)
    ax = axes[0, 2]
    for kind, points in colours.items():
        line = ax.plot([p["n"] for p in points], [p["detect_seconds"] for p in points], marker="o",
                       label=f"{kind}: detect")
        ax.plot([p["n"] for p in points], [p["column_colour_seconds"] for p in points], ls="--", marker="x",
                color=line[0].get_color(), label=f"{kind}: colour")
    ax.set(xscale="log", yscale="log", xlabel="n", ylabel="seconds", title="detection (solid), colouring (dashed)")
    ax.legend(fontsize=7)
    return fig


main = common.entry_point(NAME, DESCRIPTION, SIZES, run)

if __name__ == "__main__":
    main()
