"""The binomial checkpointing schedule (revolve; Griewank and Walther, ACM
TOMS Algorithm 799, 2000).

A loop of ``n`` steps is reversed with ``s`` snapshots (stored states, the
initial state included). With ``r`` repetitions (no step evaluated more than
``r + 1`` times: ``r`` plain advances and one recording) ``s`` snapshots
reverse at most ``β(s, r) = C(s + r, s)`` steps, and the least number of plain
advances (untaped step evaluations, the first forward sweep's included) is

    t(n, s) = r·n − β(s + 1, r − 1)   for the r with β(s, r − 1) < n ≤ β(s, r),

(``β(·, −1) = 0``). Every step is also recorded once, so the minimum number of
step evaluations is ``n + t(n, s)`` (:func:`min_step_evaluations`).

The schedule itself is the recursion behind that count: from a snapshot at
step ``i`` with ``k`` steps left to reverse and ``s`` snapshots available
(that one included), advance ``m`` steps, store the state, reverse the last
``k − m`` steps with ``s − 1`` snapshots, then the first ``m`` with ``s``.
:func:`split` picks an ``m`` minimising ``m + t(k − m, s − 1) + t(m, s)``,
which by the theorem is ``t(k, s)``: the schedule is optimal.
"""

from __future__ import annotations

import math
from functools import lru_cache
from numbers import Integral
from typing import Any

import numpy as np

__all__ = ["beta", "min_advances", "min_step_evaluations", "split", "check_n_steps", "check_snapshots"]


def beta(s: int, r: int) -> int:
    """``β(s, r) = C(s + r, s)``: the most steps ``s`` snapshots reverse with ``r`` repetitions (0 for ``r < 0``)."""
    if r < 0 or s < 0:
        return 0
    return math.comb(s + r, s)


def check_n_steps(n_steps: Any, who: str) -> int:
    """``n_steps`` as an int, or a clear error: it must be a non-negative integer."""
    if isinstance(n_steps, bool) or not isinstance(n_steps, Integral):
        raise TypeError(
            f"{who}: n_steps must be a non-negative integer, got {n_steps!r} ({type(n_steps).__name__}); "
            f"pass the number of loop iterations as an int"
        )
    if n_steps < 0:
        raise ValueError(f"{who}: n_steps must be a non-negative integer, got {n_steps}; pass 0 for no steps")
    return int(n_steps)


def check_snapshots(snapshots: Any, who: str) -> int | None:
    """``snapshots`` as an int ≥ 1 (or ``None``: store every state), or a clear error."""
    if snapshots is None:
        return None
    if isinstance(snapshots, bool) or not isinstance(snapshots, Integral):
        raise TypeError(
            f"{who}: snapshots must be an integer >= 1 or None (store every state), got {snapshots!r} "
            f"({type(snapshots).__name__})"
        )
    if snapshots < 1:
        raise ValueError(
            f"{who}: snapshots must be at least 1 (the initial state is one snapshot), got {snapshots}; "
            f"use snapshots=None to store every state"
        )
    return int(snapshots)


def repetitions(n: int, s: int) -> int:
    """The least ``r`` with ``β(s, r) ≥ n``."""
    r = 0
    while beta(s, r) < n:
        r += 1
    return r


def min_advances(n_steps: int, snapshots: int) -> int:
    """Griewank–Walther's ``t(n, s)``: the least number of plain (untaped) step
    evaluations that reverse ``n_steps`` steps with ``snapshots`` snapshots."""
    n = check_n_steps(n_steps, "min_advances")
    s = check_snapshots(snapshots, "min_advances")
    assert s is not None
    if n <= 1:
        return 0
    r = repetitions(n, s)
    return r * n - beta(s + 1, r - 1)


def min_step_evaluations(n_steps: int, snapshots: int | None = None) -> int:
    """The least number of step evaluations that evaluate a loop of ``n_steps``
    steps and reverse it with ``snapshots`` snapshots (the initial state
    counts as one; ``None`` means one per state): ``n + t(n, s)``, each step
    recorded once plus Griewank–Walther's minimal plain advances ``t(n, s)``
    (:func:`min_advances`). With ``s ≥ n`` that is ``2n − 1``: the forward
    sweep (whose last step is the recorded one) and ``n − 1`` recordings."""
    n = check_n_steps(n_steps, "min_step_evaluations")
    s = check_snapshots(snapshots, "min_step_evaluations")
    if n == 0:
        return 0
    return n + min_advances(n, n if s is None else s)


_TABLES: dict[int, np.ndarray] = {}


def _advances_table(s: int, n: int) -> np.ndarray:
    """``t(k, s)`` for ``k = 0 … n`` (at least) as floats; ``inf`` where
    ``s = 0`` snapshots cannot reverse ``k > 1`` steps. Kept per ``s``."""
    table = _TABLES.get(s)
    if table is not None and len(table) > n:
        return table
    size = max(n + 1, 2 * (len(table) if table is not None else 0))
    k = np.arange(size)
    if s == 0:
        table = np.where(k <= 1, 0.0, np.inf)
    else:
        betas = [1]
        while betas[-1] < size:
            betas.append(beta(s, len(betas)))
        r = np.searchsorted(np.array(betas, dtype=float), k, side="left")  # least r with β(s, r) ≥ k
        lower = np.array([float(beta(s + 1, i - 1)) for i in range(len(betas))])
        table = np.where(k <= 1, 0.0, r * k - lower[r])
    _TABLES[s] = table
    return table


@lru_cache(maxsize=65536)
def split(k: int, s: int) -> int:
    """An optimal number of steps to advance from a snapshot with ``k ≥ 2``
    steps to reverse and ``s ≥ 1`` snapshots available (that one included)."""
    if s >= k:
        return 1  # store every state
    if s == 1:
        return k - 1  # no snapshot to spare: advance to the step before the last
    ms = np.arange(1, k)
    costs = ms + _advances_table(s - 1, k)[k - ms] + _advances_table(s, k)[ms]
    return int(ms[int(np.argmin(costs))])
