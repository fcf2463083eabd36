"""The interleaved timing protocol.

Every implementation is first called for a warm-up, which also calibrates how
many back-to-back calls (``inner``) one sample makes; then the implementations
take turns, one sample each per round, so a slow phase of a busy machine hits
all of them alike and their ratios stay meaningful. A sample records seconds
per call (the sample's time divided by ``inner``).
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)

# The per-call estimate is floored here only to avoid dividing by zero.
_SHORTEST_CALL = 1e-9


@dataclass(frozen=True)
class Protocol:
    """How to time.

    ``repeats`` samples per implementation. The warm-up calls an
    implementation at least ``warmup_calls`` times and for at least
    ``warmup_seconds``; the mean time per warm-up call sets ``inner`` to
    ``sample_seconds / per_call``, rounded up (``round_up``: a sample lasts at
    least ``sample_seconds``) or down (a sample lasts at most about that),
    at least 1 and at most ``max_inner``. An implementation whose warm-up
    call took longer than ``slow_call_seconds`` gets ``slow_call_repeats``
    samples instead. With ``pause_gc`` the garbage collector is off while
    sampling (a collection inside one sample would be charged to one
    implementation only) and runs between rounds.
    """

    repeats: int
    sample_seconds: float
    warmup_seconds: float = 0.0
    warmup_calls: int = 1
    round_up: bool = True
    max_inner: int | None = None
    slow_call_seconds: float | None = None
    slow_call_repeats: int = 3
    pause_gc: bool = False


@dataclass(frozen=True)
class Samples:
    """The samples (seconds per call) of one implementation and the number of
    calls each sample made."""

    seconds: tuple[float, ...]
    inner: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def min(self) -> float:
        return min(self.seconds)

    @property
    def max(self) -> float:
        return max(self.seconds)

    @property
    def repeats(self) -> int:
        return len(self.seconds)

    def summary(self) -> dict[str, float | int]:
        """``{"median", "min", "max", "repeats", "inner"}`` as plain numbers."""
        return {
            "median": float(self.median),
            "min": float(self.min),
            "max": float(self.max),
            "repeats": self.repeats,
            "inner": self.inner,
        }


def calibrate(
    fn: Callable[[], Any], protocol: Protocol, clock: Callable[[], float] = time.perf_counter
) -> tuple[int, float]:
    """Warm ``fn`` up; return ``(inner, seconds per warm-up call)``."""
    calls, start = 0, clock()
    while True:
        fn()
        calls += 1
        elapsed = clock() - start
        if elapsed >= protocol.warmup_seconds and calls >= protocol.warmup_calls:
            break
    per_call = max(elapsed / calls, _SHORTEST_CALL)
    ratio = protocol.sample_seconds / per_call
    inner = max(1, math.ceil(ratio) if protocol.round_up else int(ratio))
    if protocol.max_inner is not None:
        inner = min(inner, protocol.max_inner)
    return inner, per_call


def _sample_count(per_call: float, protocol: Protocol) -> int:
    slow = protocol.slow_call_seconds is not None and per_call > protocol.slow_call_seconds
    return max(1, min(protocol.repeats, protocol.slow_call_repeats) if slow else protocol.repeats)


def sample_interleaved(
    impls: Mapping[K, Callable[[], Any]], protocol: Protocol, clock: Callable[[], float] = time.perf_counter
) -> dict[K, Samples]:
    """Time each zero-argument callable of ``impls`` by ``protocol``, the
    samples taken in turns (round robin); one :class:`Samples` per key."""
    inners: dict[K, int] = {}
    counts: dict[K, int] = {}
    for key, fn in impls.items():
        inners[key], per_call = calibrate(fn, protocol, clock)
        counts[key] = _sample_count(per_call, protocol)
    samples: dict[K, list[float]] = {key: [] for key in impls}
    gc_was_enabled = gc.isenabled()
    if protocol.pause_gc:
        gc.disable()
    try:
        for round_ in range(max(counts.values(), default=0)):
            for key, fn in impls.items():
                if round_ >= counts[key]:
                    continue
                inner = inners[key]
                start = clock()
                for _ in range(inner):
                    fn()
                samples[key].append((clock() - start) / inner)
            if protocol.pause_gc:
                gc.collect()
    finally:
        if protocol.pause_gc and gc_was_enabled:
            gc.enable()
    return {key: Samples(tuple(samples[key]), inners[key]) for key in impls}
