"""Peak memory of one call."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any


def peak_memory(fn: Callable[[], Any], warmup: bool = True) -> int:
    """Peak bytes allocated while ``fn()`` runs (Python objects and NumPy
    buffers, both traced by ``tracemalloc``), above what was allocated before;
    the result of the call is dropped afterwards.

    With ``warmup`` (the default) ``fn`` runs once first, untraced: caches
    are filled, and CPython keeps freed small objects (tuples, floats...) on
    free lists of bounded size, whose filling a first run would charge to the
    workload (it looks like growth with size, up to the free lists' cap)."""
    if warmup:
        fn()
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return int(peak - base)
