"""``python -m benchmarks [--quick] [--threads N] [--only NAME ...]``.

The BLAS thread count must be fixed *before* NumPy is imported (OpenBLAS reads
its environment once), so the arguments are parsed here first and the
environment variables set (:func:`timing.pin_threads_before_import`); only
then is anything numerical imported.

The default is one thread: the targets are ratios under single-threaded BLAS
(a multi-threaded BLAS on a small shared machine measures its scheduler), so
``make bench`` gives the figures the targets are about. ``--threads 0`` leaves
every library at its own default.
"""

import argparse
import sys

import timing


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and shorter samples (a few minutes)")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS, torch and XLA threads (default 1, as the targets assume; 0: library defaults)")
    parser.add_argument("--only", nargs="*", default=None, help="run only these workloads")
    parser.add_argument("--no-write", action="store_true", help="print the table but write no files")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    threads = args.threads or None
    if threads is not None:
        timing.pin_threads_before_import(threads)
    from .run import run

    run(quick=args.quick, threads=threads, only=args.only, write=not args.no_write)


if __name__ == "__main__":
    main()
