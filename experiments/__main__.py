"""Run every experiment: ``python -m experiments [--smoke | --quick | --full] [--out DIR] [--only NAME ...]``.

Each experiment writes ``<out>/<name>.png`` and ``<out>/<name>.json``; the
runner prints each one's runtime and, at the end, where the figures are.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from . import EXPERIMENTS, common


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    for preset in common.PRESETS:
        group.add_argument(f"--{preset}", dest="preset", action="store_const", const=preset)
    parser.add_argument("--out", type=Path, default=common.RESULTS_DIR)
    parser.add_argument("--only", nargs="+", choices=EXPERIMENTS, default=list(EXPERIMENTS))
    parser.add_argument("--quiet", action="store_true")
    parser.set_defaults(preset="quick")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    runtimes = {}
    for name in args.only:
        module = importlib.import_module(f"experiments.{name}")
        print(f"\n=== {name} ({args.preset}) ===", flush=True)
        t0 = time.perf_counter()
        extra = ["--quiet"] if args.quiet else []
        module.main([f"--{args.preset}", "--out", str(args.out), *extra])
        runtimes[name] = time.perf_counter() - t0
    total = time.perf_counter() - started
    print(f"\nAll {len(runtimes)} experiments ({args.preset}) in {total:.1f} s:")
    for name, seconds in runtimes.items():
        print(f"  {name:15s} {seconds:6.1f} s   {args.out / (name + '.png')}")
    print(f"Figures and raw data (JSON) are in {args.out.resolve()}/; docs/experiments.md explains them.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
