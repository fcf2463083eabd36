"""How long the benchmarks measure, and the medians they report.

The protocol is the shared one (:func:`timing.sample_interleaved`): the
implementations being compared take turns, sample by sample, so a slow phase
of a busy machine hits all of them alike and their ratios stay meaningful.
Each implementation is first warmed up for ``warmup_seconds`` (which also
calibrates how many calls one sample makes), then sampled ``repeats`` times
with the garbage collector paused; the figure reported is the median time
per call. An implementation whose warm-up call takes over
``slow_call_seconds`` (eager JAX on op_overhead: ~0.3 s for 300 ops) gets
fewer samples, so that it does not dominate the run's length.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from timing import Protocol, sample_interleaved


def settings(quick: bool) -> Protocol:
    """``quick`` for a fast run, the default for the table."""
    return Protocol(
        repeats=5 if quick else 15,
        sample_seconds=0.005 if quick else 0.03,
        warmup_seconds=0.01 if quick else 0.1,
        warmup_calls=2,
        round_up=False,
        slow_call_seconds=0.1,
        slow_call_repeats=3 if quick else 5,
        pause_gc=True,
    )


def time_interleaved(impls: dict[str, Callable[[], Any]], protocol: Protocol) -> dict[str, float]:
    """Median seconds per call of each zero-argument callable, sampled in turns."""
    return {name: samples.median for name, samples in sample_interleaved(impls, protocol).items()}
