"""Checkpointing: trade reverse mode's memory for recomputation.

* :func:`checkpoint` — a block whose interior reverse mode recomputes in the
  backward sweep instead of storing (``block.py``);
* :func:`checkpoint_loop` — a loop reversed with the optimal binomial
  (revolve) schedule, with :class:`CheckpointStats` counting what it did
  (``loop.py``);
* :func:`min_step_evaluations` — the least number of step evaluations for
  ``(n_steps, snapshots)`` from Griewank–Walther's formula (``revolve.py``).

No engine hook: each is one multiple-result primitive whose VJP rule re-runs
the block (``reverse_pass``) and whose JVP rule runs it on dual numbers
(``forward_pass``), so nesting works through the levels.
"""

from .block import checkpoint
from .loop import CheckpointStats, checkpoint_loop
from .revolve import beta, min_advances, min_step_evaluations

__all__ = ["checkpoint", "checkpoint_loop", "CheckpointStats", "min_step_evaluations", "min_advances", "beta"]
