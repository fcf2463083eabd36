"""Timing and memory measurement.

Timing is *interleaved*: the implementations being compared take turns, sample
by sample, so a slow phase of a busy machine hits all of them alike and their
ratios stay meaningful. Each implementation is first warmed up (which also
calibrates how many calls one sample makes), then sampled ``repeats`` times;
the figure reported is the median time per call.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from typing import Callable


class Settings:
    """How long to measure: ``quick`` for a fast run, the default for the table."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.repeats = 5 if quick else 15
        self.sample_seconds = 0.005 if quick else 0.03
        self.warmup_seconds = 0.01 if quick else 0.1


def _calibrate(fn: Callable, settings: Settings) -> int:
    """Run ``fn`` for the warm-up time; return the number of calls per sample."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= settings.warmup_seconds and calls >= 2:
            break
    per_call = elapsed / calls
    return max(1, int(settings.sample_seconds / per_call))


def time_interleaved(impls: dict[str, Callable], settings: Settings) -> dict[str, float]:
    """Median seconds per call of each zero-argument callable, sampled in turns."""
    numbers = {name: _calibrate(fn, settings) for name, fn in impls.items()}
    samples: dict[str, list[float]] = {name: [] for name in impls}
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a collection in one sample would be charged to one library only
    try:
        for _ in range(settings.repeats):
            for name, fn in impls.items():
                number = numbers[name]
                start = time.perf_counter()
                for _ in range(number):
                    fn()
                samples[name].append((time.perf_counter() - start) / number)
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: statistics.median(values) for name, values in samples.items()}


def peak_memory(fn: Callable) -> int:
    """Peak bytes allocated while ``fn`` runs (Python objects and NumPy buffers,
    both traced by ``tracemalloc``), above what was allocated before.

    ``fn`` runs once first, untraced: CPython keeps freed small objects (tuples,
    floats...) on free lists of bounded size, and a first run would charge
    their filling to the workload (it looks like growth with depth, up to the
    free lists' cap)."""
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
    return peak - base
