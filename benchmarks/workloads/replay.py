"""Replay variants (issue 14): ``dr.grad(f, replay=True)`` and the same keyword
on ``value_and_grad``, ``jacobian``, ``jvp``, ``vjp`` and ``hvp`` record ``f``
once per input signature and re-execute the recorded primitives on later calls.

The benchmarks run before and after that keyword exists: :func:`available`
checks the signatures, and a workload adds its ``… (replay)`` columns only
when it is there. A replay variant is timed only after it has

1. recorded (first call) and matched the unreplayed result,
2. replayed on *different* input values and matched the unreplayed result
   there (a replay that returned a cached answer would be fast and wrong),
3. replayed on the timed inputs and matched again.

A variant that raises, or gives a different answer, is not timed; the row's
``notes`` say why (and the run prints it). Warnings raised while recording
(for example "not replayable, running unreplayed") are kept in the notes too:
such a variant is timed, since it is what a user of ``replay=True`` gets.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import dualrev as dr

from .check import check_close

#: The transformations that take ``replay=`` once issue 14's replay lands.
TRANSFORMS = ("grad", "value_and_grad", "jacobian", "jvp", "vjp", "hvp")


def available(name: str = "grad") -> bool:
    """Whether ``dr.<name>`` accepts ``replay=``."""
    fn = getattr(dr, name, None)
    if fn is None:
        return False
    try:
        return "replay" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _summary(exc: AssertionError) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines()]
    keep = [ln for ln in lines if ln.startswith(("Mismatched", "Max absolute", "Max relative", "(shapes"))]
    return "; ".join(keep or lines[:1])


def add_replay(
    impls: dict[str, Callable[[], Any]],
    notes: dict[str, str],
    name: str,
    make: Callable[[], Callable[..., Any]],
    reference: Callable[..., Any],
    args: Sequence[Any],
    other_args: Sequence[Any],
    what: str,
    **tolerance: float,
) -> None:
    """Add ``impls[name]``: ``make()`` returns the replaying function, called
    as ``fn(*args)``; ``reference(*args)`` is the unreplayed result it must
    match (on ``args`` and on ``other_args``, inputs of the same signature)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fn = make()
            for stage, call_args in (("recorded", args), ("replayed on new inputs", other_args), ("replayed", args)):
                try:
                    check_close(fn(*call_args), reference(*call_args), f"{what} {stage}", **tolerance)
                except AssertionError as exc:
                    notes[name] = f"WRONG RESULT when {stage}, not timed: {_summary(exc)}"
                    print(f"  {what}: {notes[name]}", flush=True)
                    return
    except Exception as exc:  # noqa: BLE001 - a failing variant is reported, not fatal
        notes[name] = f"not timed: {type(exc).__name__}: {exc}"
        print(f"  {what}: {notes[name]}", flush=True)
        return
    messages = sorted({str(w.message) for w in caught})
    if messages:
        notes[name] = "warned: " + " | ".join(messages)
    impls[name] = lambda: fn(*args)
