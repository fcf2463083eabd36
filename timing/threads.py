"""The BLAS thread count: fix it, and read it back.

Two ways to fix it, for two situations:

* :func:`pin_threads_before_import` sets ``OPENBLAS_NUM_THREADS`` and its
  siblings. OpenBLAS (and OpenMP, MKL, BLIS) read them once, when loaded, so
  this works only before NumPy is imported — a ``__main__`` calls it first.
* :func:`pin_blas_threads` changes the libraries already loaded: through
  ``threadpoolctl`` when installed, otherwise by calling
  ``openblas_set_num_threads`` of every OpenBLAS in the process (ctypes).
"""

from __future__ import annotations

import ctypes
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def pin_threads_before_import(threads: int) -> dict[str, Any]:
    """Set every variable of ``THREAD_VARIABLES`` to ``threads``, unless NumPy
    is imported already (then the libraries would not read them; nothing is
    set). Returns what was done."""
    if "numpy" in sys.modules:
        return {"pinned": False, "via": "environment variables", "reason": "numpy was already imported"}
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    return {"pinned": threads, "via": "environment variables", "variables": list(THREAD_VARIABLES)}


def openblas_libraries() -> list[tuple[str, ctypes.CDLL]]:
    """The OpenBLAS builds loaded in this process, as ``(path, ctypes handle)``
    (Linux only: read from ``/proc/self/maps``; empty elsewhere)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line})
        return [(path, ctypes.CDLL(path)) for path in paths]
    except Exception:  # not Linux, or a library that cannot be opened
        return []


def _openblas_call(lib: ctypes.CDLL, action: str, *args: int) -> int | None:
    """Call ``openblas_<action>`` under whichever name this build exports;
    ``None`` if it exports none (or the function returns nothing)."""
    for name in (f"scipy_openblas_{action}64_", f"openblas_{action}64_", f"openblas_{action}"):
        if hasattr(lib, name):
            fn = getattr(lib, name)
            fn.restype = ctypes.c_int if action == "get_num_threads" else None
            result = fn(*args)
            return None if result is None else int(result)
    return None


def _threadpoolctl() -> Any:
    """The ``threadpoolctl`` module (optional; not a dependency), or ``None``."""
    try:
        return importlib.import_module("threadpoolctl")
    except ImportError:
        return None


def threadpool_info() -> list[dict[str, Any]] | None:
    """``threadpoolctl.threadpool_info()`` (every BLAS and OpenMP library
    loaded, with its thread count), or ``None`` if threadpoolctl is missing."""
    threadpoolctl = _threadpoolctl()
    return None if threadpoolctl is None else threadpoolctl.threadpool_info()


def pin_blas_threads(threads: int) -> dict[str, Any]:
    """Limit the BLAS libraries already loaded to ``threads`` threads
    (``threads <= 0``: leave them alone). Returns what was done."""
    if threads <= 0:
        return {"pinned": False}
    threadpoolctl = _threadpoolctl()
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(threads)
        return {"pinned": threads, "via": "threadpoolctl"}
    done = [path for path, lib in openblas_libraries() if _openblas_call(lib, "set_num_threads", threads) is None]
    return {"pinned": threads, "via": "openblas_set_num_threads (ctypes)", "libraries": done}


def blas_threads() -> dict[str, Any]:
    """The BLAS libraries loaded now and their thread counts:
    ``{"source": ..., "pools": [...]}``, from ``threadpoolctl.threadpool_info()``
    when installed, otherwise by asking each loaded OpenBLAS (best effort)."""
    info = threadpool_info()
    if info is not None:
        return {"source": "threadpoolctl", "pools": info}
    pools = []
    for path, lib in openblas_libraries():
        n = _openblas_call(lib, "get_num_threads")
        if n is not None:
            pools.append({"library": path, "num_threads": n})
    return {"source": "openblas_get_num_threads (ctypes; threadpoolctl not installed)", "pools": pools}


def thread_environment(names: Sequence[str] = THREAD_VARIABLES) -> dict[str, str]:
    """Those of the variables ``names`` that are set, with their values."""
    return {name: os.environ[name] for name in names if name in os.environ}
