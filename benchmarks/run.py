"""Run the workloads, check the targets (:mod:`.targets`), write ``results.json``
and the Markdown report (:mod:`.report`: ``benchmarks/results.md``, also
spliced into ``docs/performance.md``)."""

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
from .report import markdown, splice
from .targets import check_targets
from .workloads import WORKLOADS, replay

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "results.md"
PERFORMANCE_MD = ROOT / "docs" / "performance.md"


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
        "replay": {name: replay.available(name) for name in replay.TRANSFORMS},
    }


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
        splice(PERFORMANCE_MD, table)
        print(f"wrote {RESULTS_JSON.relative_to(ROOT)}, {RESULTS_MD.relative_to(ROOT)}", flush=True)
    return results
