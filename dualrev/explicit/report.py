"""What running a plan reports: the plan's description (with every candidate
for ``order="optimal"``) and the cost record of the explicit Jacobian."""

from __future__ import annotations

from typing import Any

from .budget import ExplicitCost, gap_figures
from .plans import Plan


def choose(plans: dict[str, Plan], intermediates: list[int], order: Any) -> tuple[str, str]:
    """The plan to run (the cheapest for "optimal") and how the report reads."""
    name = min(plans, key=lambda k: plans[k].cost) if order == "optimal" else next(iter(plans))
    predicted, text = plans[name].cost, plans[name].text
    if not intermediates:
        text = "no intermediate vertices: the Jacobian is the local Jacobians themselves"
    if order == "optimal":
        others = ", ".join(f"{k} {p.cost:,}" for k, p in plans.items())
        return name, f"optimal → {name}: {text} [{predicted:,} multiply-adds; candidates: {others}]"
    return name, f"{text} [{predicted:,} multiply-adds]"


def cost_record(
    plans: dict[str, Plan], chosen: str, plan: str, run_key: Any, structure: str, intermediates: list, counts: tuple
) -> ExplicitCost:
    """The cost record of running ``plans[chosen]``; ``counts``: the local Jacobians' entries,
    number and dense entries."""
    multiply_adds = plans[chosen].cost
    candidates = {k: p.cost for k, p in plans.items()} if run_key == "optimal" else {chosen: multiply_adds}
    lower = next((p.lower_bound for k, p in plans.items() if k in ("exact", "best found")), None)
    gaps, ranges = gap_figures(candidates, lower)
    entries, local_jacobians, dense_entries = counts
    return ExplicitCost(
        order=run_key,
        plan=plan,
        multiply_adds=int(multiply_adds),
        local_jacobian_entries=int(entries),
        local_jacobians=int(local_jacobians),
        candidates=candidates,
        structure=structure,
        dense_multiply_adds=int(plans[chosen].dense_cost),
        dense_local_jacobian_entries=int(dense_entries),
        intermediates=tuple(intermediates),
        gaps=gaps,
        chosen=chosen,
        lower_bound=lower if run_key == "optimal" else None,
        gap_ranges=ranges,
    )
