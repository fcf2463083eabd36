"""What one explicit Jacobian cost, and the memory guard that runs before any
local Jacobian is formed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import search

#: Largest number of bytes the local Jacobians may occupy (None: no limit).
MEMORY_BUDGET_BYTES: int | None = 1 << 30


class ExplicitMemoryError(MemoryError):
    """The local Jacobians of ``mode="explicit"`` would exceed the memory budget."""


@contextlib.contextmanager
def memory_budget(nbytes: int | None) -> Iterator[None]:
    """Use ``nbytes`` as the explicit mode's memory budget inside a ``with`` block
    (``None``: no limit); the previous budget is restored on exit."""
    global MEMORY_BUDGET_BYTES
    if nbytes is not None and (not isinstance(nbytes, (int, np.integer)) or nbytes < 0):
        raise ValueError(f"memory_budget: expected a non-negative number of bytes or None, got {nbytes!r}")
    previous = MEMORY_BUDGET_BYTES
    MEMORY_BUDGET_BYTES = None if nbytes is None else int(nbytes)
    try:
        yield
    finally:
        MEMORY_BUDGET_BYTES = previous


@contextlib.contextmanager
def search_budget(eliminations: int) -> Iterator[None]:
    """Let ``order="optimal"``'s exact search simulate up to ``eliminations``
    eliminations (default :data:`~.search.WORK_LIMIT`, about 0.35 s where it
    stops) inside a ``with`` block, to prove optima on harder graphs; plans are
    cached per budget. The previous budget is restored on exit."""
    if not isinstance(eliminations, (int, np.integer)) or isinstance(eliminations, bool) or eliminations < 1:
        raise ValueError(f"search_budget: expected a positive number of eliminations, got {eliminations!r}")
    previous = search.WORK_LIMIT
    search.WORK_LIMIT = int(eliminations)
    try:
        yield
    finally:
        search.WORK_LIMIT = previous


@dataclass(frozen=True)
class ExplicitCost:
    """What one explicit Jacobian cost, under the cost model of ``dualrev.explicit``.

    * ``order``: the order asked for (``"forward"``, ``"reverse"``, ``"optimal"``
      or a user's elimination order).
    * ``multiply_adds``: exact number of scalar multiplications of the
      accumulation, as performed on the structured local Jacobians.
    * ``local_jacobian_entries``: number of local-Jacobian values stored.
    * ``local_jacobians``: number of local Jacobians (one per op and argument).
    * ``plan``: a readable description of the elimination order / bracketing run.
    * ``candidates``: the cost of every order ``"optimal"`` considered, by name
      (``forward``, ``reverse``, ``markowitz``, for chains ``chain DP``, for
      graphs of at most 20 intermediate vertices ``exact`` — or ``best found``
      when the branch and bound reached its work bound before proving the
      optimum); for another order, that order's cost alone.
    * ``structure``: ``"structured"`` or ``"dense"`` (the seed's bad approach).
    * ``dense_multiply_adds`` / ``dense_local_jacobian_entries``: the same
      figures had every local Jacobian been a dense matrix (same order).
    * ``intermediates``: the graph's intermediate vertices in execution order
      — the vertices a user's ``order=[...]`` must list, in any order.
    * ``gaps``: where the exact optimum was computed, each candidate's cost
      above it as a fraction (``{"markowitz": 0.12}`` reads "+12 %").
    * ``chosen``: the name of the plan that ran.
    * ``lower_bound``: a proven lower bound on the optimum (its cost where
      ``exact`` was computed; where the search stopped at its work bound the
      bound it proved, so ``best found`` is within ``best / lower_bound − 1``).
    * ``gap_ranges``: where only ``best found`` exists, each candidate's gap to
      the unknown optimum as a range ``(low, high)``: ``(c / best − 1,
      c / lower_bound − 1)`` (``{"markowitz": (0.3, 0.9)}`` reads "+30 % to +90 %").
    """

    order: Any
    multiply_adds: int
    local_jacobian_entries: int
    local_jacobians: int
    plan: str
    candidates: dict = field(default_factory=dict)
    structure: str = "structured"
    dense_multiply_adds: int = 0
    dense_local_jacobian_entries: int = 0
    intermediates: tuple = ()
    gaps: dict = field(default_factory=dict)
    chosen: str = ""
    lower_bound: int | None = None
    gap_ranges: dict = field(default_factory=dict)


def gap_figures(candidates: dict, lower: int | None) -> tuple[dict, dict]:
    """``(gaps, gap_ranges)`` of :class:`ExplicitCost` from the candidates'
    costs and the search's proven lower bound."""
    if candidates.get("exact", 0) > 0:
        return {k: c / candidates["exact"] - 1 for k, c in candidates.items() if k != "exact"}, {}
    found = candidates.get("best found", 0)
    if not lower or not found:
        return {}, {}
    return {}, {k: (c / found - 1, c / lower - 1) for k, c in candidates.items()}


def check_budget(nbytes: int, n_matrices: int, largest: tuple, who: str) -> None:
    budget = MEMORY_BUDGET_BYTES
    if budget is None or nbytes <= budget:
        return
    raise ExplicitMemoryError(
        f"{who}: mode='explicit' would store {n_matrices} local Jacobian(s) taking "
        f"{nbytes:,} bytes ({nbytes / 2**20:,.1f} MiB; the largest is {largest[0]}×{largest[1]}), "
        f"above the budget of {budget:,} bytes. Use mode='forward' or mode='reverse' (they apply "
        f"the same rules to vectors and never form a local Jacobian), or raise the budget with "
        f"`with dualrev.explicit.memory_budget(nbytes): ...`."
    )


def cost_like(template: ExplicitCost, **changes: Any) -> ExplicitCost:
    """A new :class:`ExplicitCost` with the fields of ``template`` (its dicts
    copied) and ``changes``, without the frozen dataclass's ``__init__`` (one
    ``object.__setattr__`` per field): repeated calls of one plan differ only
    in the counts they pass."""
    cost = object.__new__(ExplicitCost)
    fields = cost.__dict__
    fields.update(template.__dict__)
    fields["candidates"] = dict(template.candidates)
    fields["gaps"] = dict(template.gaps)
    fields["gap_ranges"] = dict(template.gap_ranges)
    fields.update(changes)
    return cost
