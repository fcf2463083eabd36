"""Run the workloads, check the targets, write ``results.json`` and the Markdown
table (``benchmarks/results.md``, also spliced into ``docs/performance.md``)."""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

import dualrev
import timing

from . import competitors
from .harness import settings
from .workloads import WORKLOADS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "results.md"
PERFORMANCE_MD = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- benchmark-results:begin -->", "<!-- benchmark-results:end -->"


# --------------------------------------------------------------- environment


def _blas_info() -> list[dict]:
    """The BLAS libraries NumPy (and torch) loaded, with their thread counts
    (without threadpoolctl: the BLAS NumPy was built with, threads unknown)."""
    pools = timing.threadpool_info()
    if pools is not None:
        return [
            {k: info.get(k) for k in ("user_api", "internal_api", "version", "num_threads", "architecture")}
            for info in pools
        ]
    blas = timing.blas_build()
    return [{"internal_api": blas.get("name"), "version": blas.get("version"), "num_threads": None}]


def environment(threads: int | None, libs: dict, skipped: dict) -> dict:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": timing.cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "dualrev": f"{dualrev.__version__} ({timing.git_commit(ROOT)})",
        "threads_requested": threads,
        "blas": _blas_info(),
        "libraries": {name: competitors.version(mod) for name, mod in libs.items()},
        "skipped": skipped,
    }


# ------------------------------------------------------------------ targets


def _target(name: str, value: float, limit: float, unit: str = "") -> dict:
    return {"target": name, "value": value, "limit": limit, "unit": unit, "met": bool(value <= limit)}


def check_targets(rows: list[dict]) -> list[dict]:
    """The targets of docs/performance.md, read off the rows (single-threaded BLAS)."""
    out = []
    for row in rows:
        w, case = row["workload"], row["case"]
        if w == "op_overhead":
            us = row["us_per_op"]
            out.append(_target("op_overhead: reverse grad µs/op", us["dualrev grad"], 4.0, "µs"))
            out.append(_target("op_overhead: forward JVP µs/op", us["dualrev jvp"], 4.0, "µs"))
            # The µs targets were set where the hand-written gradient ran at
            # 1.7 µs/op; scaled to this machine they are 4.0 / 1.7 ≈ 2.35× the
            # hand-written gradient measured in the same run.
            hand = us["hand grad"]
            for task, impl in (("reverse grad", "dualrev grad"), ("forward JVP", "dualrev jvp")):
                out.append(_target(f"op_overhead: {task} / hand grad (scaled µs target)", us[impl] / hand, 2.35, "×"))
            out.append(
                _target("op_overhead: dualrev.numpy f / numpy f", row["ratio_to_numpy_f"]["dualrev.numpy f"], 1.15, "×")
            )
        elif w == "dispatch":
            for name, ns in row["overhead_ns"].items():
                out.append(_target(f"dispatch overhead of {name} on an ndarray", ns / 1000, 1.0, "µs"))
        elif w == "mlp_grad":
            limit = {16: 3.0, 256: 2.2, 1024: 2.75}[case["D"]]
            ratio = row["ratio_to_numpy_f"]["dualrev grad"]
            out.append(_target(f"mlp_grad D={case['D']}: t(grad)/t(numpy f)", ratio, limit, "×"))
        elif w == "jacobian_shapes":
            n, m = case["n"], case["m"]
            ratios = row["ratio_to_closed_form"]
            if row["well_shaped_mode"]:
                mode = row["well_shaped_mode"]
                out.append(_target(f"jacobian n={n} m={m}: {mode} / closed form", ratios[f"dualrev {mode}"], 1.5, "×"))
                picked = row["auto_picks"] == mode
                out.append({"target": f"jacobian n={n} m={m}: auto picks {mode}", "value": row["auto_picks"],
                            "limit": mode, "unit": "", "met": picked})
            else:
                out.append(_target(f"jacobian n={n} m={m}: auto / closed form", ratios["dualrev auto"], 2.0, "×"))
            what = f"jacobian n={n} m={m} hidden={case['hidden']}: explicit / better of forward, reverse"
            out.append(_target(what, row["explicit_over_best_fold"], 1.2 if case["hidden"] > 4 else 1.0, "×"))
        elif w == "hvp":
            out.append(_target("hvp: t(hvp)/t(numpy f)", row["ratio_to_numpy_f"]["dualrev hvp"], 3.0, "×"))
            out.append(_target("hvp: t(hvp)/t(dualrev grad)", row["hvp_over_dualrev_grad"], 2.0, "×"))
        elif w == "tape_memory":
            shape = "×".join(map(str, case["x_shape"]))
            ratio = row["ratio_to_hand"]["dualrev grad"]
            out.append(_target(f"tape_memory x=({shape}): reverse / hand-written", ratio, 1.2, "×"))
            peaks, depth, shallow = row["peak_bytes"], case["depth"], case["depth"] // 4
            growth = peaks["dualrev jvp"] / max(peaks[f"dualrev jvp (depth {shallow})"], 1)
            what = f"tape_memory x=({shape}): forward peak, depth {depth} / depth {shallow}"
            out.append(_target(what, growth, 1.5, "×"))
    return out


# ----------------------------------------------------------------- markdown


def _fmt_time(seconds: float) -> str:
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _fmt_value(v) -> str:
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return lines + [""]


def markdown(results: dict) -> str:
    env, rows, targets = results["environment"], results["rows"], results["targets"]
    blas = "; ".join(
        f"{b.get('internal_api')} {b.get('version')} ({b.get('num_threads')} threads"
        + (f", {b.get('architecture')}" if b.get("architecture") else "") + ")"
        for b in env["blas"]
    )
    libs = ", ".join(f"{k} {v}" for k, v in env["libraries"].items()) or "none"
    lines = [
        f"Measured {env['date']} on {env['machine']} ({env['cores']} cores), Python {env['python']}, "
        f"NumPy {env['numpy']}, dualrev {env['dualrev']}; BLAS: {blas}; "
        f"comparison libraries: {libs}"
        + (f"; skipped: {', '.join(f'{k} ({v})' for k, v in env['skipped'].items())}" if env["skipped"] else "")
        + f". Mode: {'quick' if results['quick'] else 'full'} "
        f"(median of {results['repeats']} interleaved samples).",
        "",
        "### Targets",
        "",
    ]
    lines += _table(
        ["target", "measured", "limit", "met"],
        [[t["target"],
          _fmt_value(t["value"]) + (f" {t['unit']}" if t["unit"] and isinstance(t["value"], float) else ""),
          _fmt_value(t["limit"]), "yes" if t["met"] else "**no**"] for t in targets],
    )
    by = {}
    for row in rows:
        by.setdefault(row["workload"], []).append(row)

    if "mlp_grad" in by:
        lines += ["### mlp_grad — time / time(numpy f), 4-layer tanh MLP, batch 64", ""]
        names = list(by["mlp_grad"][0]["times_s"])
        body = [[f"D={r['case']['D']}", _fmt_time(r["times_s"]["numpy f"])]
                + [f"{r['ratio_to_numpy_f'][k]:.2f}" for k in names[1:]] for r in by["mlp_grad"]]
        lines += _table(["case", "numpy f"] + names[1:], body)
    if "op_overhead" in by:
        lines += ["### op_overhead — µs per op, 300 elementwise ops on a length-8 vector", ""]
        r = by["op_overhead"][0]
        lines += _table(["implementation", "µs/op", "× numpy f"],
                        [[k, f"{r['us_per_op'][k]:.2f}", f"{r['ratio_to_numpy_f'][k]:.2f}"] for k in r["us_per_op"]])
    if "dispatch" in by:
        lines += ["### dispatch — one `dualrev.numpy` call on a plain ndarray (length 8) vs bare NumPy", ""]
        r = by["dispatch"][0]
        lines += _table(["call", "numpy", "dualrev.numpy", "overhead"],
                        [[f"`{n}`", _fmt_time(r["times_s"][f"numpy {n}"]), _fmt_time(r["times_s"][f"dualrev {n}"]),
                          f"{ns:.0f} ns"] for n, ns in r["overhead_ns"].items()])
    if "jacobian_shapes" in by:
        lines += ["### jacobian_shapes — time / time(closed form), J of tanh(W2 tanh(W1 x))", ""]
        names = [k for k in by["jacobian_shapes"][0]["times_s"] if k != "closed form"]
        body = [[f"n={r['case']['n']}, m={r['case']['m']}, hidden={r['case']['hidden']}",
                 _fmt_time(r["times_s"]["closed form"])]
                + [f"{r['ratio_to_closed_form'][k]:.2f}" for k in names] + [r["auto_picks"]]
                for r in by["jacobian_shapes"]]
        lines += _table(["case", "closed form"] + names + ["auto picks"], body)
    if "hvp" in by:
        lines += ["### hvp — Hessian-vector product of the MLP loss w.r.t. W1, D=256", ""]
        r = by["hvp"][0]
        lines += _table(["implementation", "time", "× numpy f"],
                        [[k, _fmt_time(t), f"{r['ratio_to_numpy_f'][k]:.2f}"] for k, t in r["times_s"].items()])
    if "tape_memory" in by:
        lines += ["### tape_memory — peak memory (tracemalloc), 2000 layers of tanh(x @ W), D=64", ""]
        names = list(by["tape_memory"][0]["peak_bytes"])
        body = []
        for r in by["tape_memory"]:
            shape = "×".join(map(str, r["case"]["x_shape"]))
            body.append([f"x: ({shape}), {r['case']['activation_bytes']} B/activation"]
                        + [f"{r['peak_bytes'][k] / 1e6:.2f} MB ({r['ratio_to_hand'][k]:.2f}×)" for k in names])
        lines += _table(["case"] + [f"{k} peak (× hand)" for k in names], body)
    return "\n".join(lines)


def _splice(path: Path, table: str) -> None:
    """Replace the generated section of ``docs/performance.md`` (between markers)."""
    if not path.exists():
        return
    text = path.read_text()
    if BEGIN not in text or END not in text:
        return
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")


# ---------------------------------------------------------------------- run


def run(quick: bool, threads: int | None, only: list[str] | None, write: bool) -> dict:
    protocol = settings(quick)
    libs, skipped = competitors.load(threads)
    names = only or list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        sys.exit(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    env = environment(threads, libs, skipped)
    print(f"dualrev benchmarks ({'quick' if quick else 'full'}); BLAS: {env['blas']}", flush=True)
    for name, why in skipped.items():
        print(f"  skipped {name}: {why}", flush=True)
    rows = []
    for name in names:
        start = time.perf_counter()
        rows += WORKLOADS[name](protocol, libs)
        print(f"  {name}: {time.perf_counter() - start:.1f} s", flush=True)
    results = {
        "environment": env,
        "quick": quick,
        "repeats": protocol.repeats,
        "rows": rows,
        "targets": check_targets(rows),
    }
    table = markdown(results)
    print()
    print(table)
    if write:
        RESULTS_JSON.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
        RESULTS_MD.write_text(table + "\n")
        _splice(PERFORMANCE_MD, table)
        print(f"wrote {RESULTS_JSON.relative_to(ROOT)}, {RESULTS_MD.relative_to(ROOT)}", flush=True)
    return results
