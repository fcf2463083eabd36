"""``python -m benchmarks [--quick] [--threads N] [--only NAME ...]``.

The BLAS thread count must be fixed *before* NumPy is imported (OpenBLAS reads
its environment once), so the arguments are parsed here first and the
environment variables set (:func:`timing.pin_threads_before_import`); only
then is anything numerical imported.
"""

import argparse
import sys

import timing


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and shorter samples (about a minute)")
    parser.add_argument("--threads", type=int, default=None, help="BLAS (and torch) threads; default: library default")
    parser.add_argument("--only", nargs="*", default=None, help="run only these workloads")
    parser.add_argument("--no-write", action="store_true", help="print the table but write no files")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.threads is not None:
        timing.pin_threads_before_import(args.threads)
    from .run import run

    run(quick=args.quick, threads=args.threads, only=args.only, write=not args.no_write)


if __name__ == "__main__":
    main()
