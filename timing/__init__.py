"""Measurement shared by ``experiments/`` and ``benchmarks/``.

* :func:`sample_interleaved` — the timing protocol: calibrate how many calls
  one sample makes, then sample every implementation in turns (see
  :class:`Protocol`);
* :func:`peak_memory` — peak bytes allocated during one call (tracemalloc);
* :func:`pin_threads_before_import` / :func:`pin_blas_threads` — fix the BLAS
  thread count through environment variables before NumPy is imported, or in
  the loaded libraries afterwards;
* :func:`cpu_model`, :func:`git_commit`, :func:`blas_build`,
  :func:`blas_threads`, :func:`threadpool_info`, :func:`thread_environment`
  — the pieces of an environment record.

Importing this package imports nothing heavy (NumPy is imported only inside
the functions that read its configuration), so a ``__main__`` can import it
and still set the thread variables before NumPy loads.
"""

from .environment import blas_build, cpu_model, git_commit
from .memory import peak_memory
from .sampling import Protocol, Samples, calibrate, sample_interleaved
from .threads import (
    THREAD_VARIABLES,
    blas_threads,
    pin_blas_threads,
    pin_threads_before_import,
    thread_environment,
    threadpool_info,
)

__all__ = [
    "THREAD_VARIABLES",
    "Protocol",
    "Samples",
    "blas_build",
    "blas_threads",
    "calibrate",
    "cpu_model",
    "git_commit",
    "peak_memory",
    "pin_blas_threads",
    "pin_threads_before_import",
    "sample_interleaved",
    "thread_environment",
    "threadpool_info",
]
