"""``checkpoint_loop``: a loop ``x ← step(x, *params)`` reversed with the
binomial schedule (:mod:`~dualrev.checkpointing.revolve`).

The whole loop is one multiple-result primitive (``checkpoint_loop``) whose
inputs are the leaves of ``x0``, of the params and the tracers captured by
``step``'s closure. In reverse mode its implementation (the first sweep)
advances from ``x0`` storing the snapshots the schedule places first and
*records* the last step; its VJP rule sweeps that recording, then follows the
schedule: from the newest snapshot, advance (plain evaluations) and store, or
record the one step left and sweep it. So the tape holds the inputs, at most
``snapshots`` states and one step's tape at a time, and the step evaluations
total ``n + t(n, s)``, the minimum (:func:`~dualrev.checkpointing.revolve.min_step_evaluations`).
A VJP rule applied to other values than the first sweep's (a second sweep of
the same tape, or tracers of an enclosing transformation) runs the schedule
from ``x0``. The JVP rule (forward-over-reverse, the explicit mode) runs the
loop on dual numbers; forward mode alone just runs the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core import Primitive, Tracer, shape_of, zeros_with_batch
from ..define import defjvp_argnum, defvjp_argnum
from ..forward import ForwardTrace, forward_pass
from ..reverse import ReverseTrace
from ..tape import ShapeOnly
from ..tree import TreeDef, tree_flatten, tree_unflatten
from .block import VjpCache, batch_of_cotangent
from .closure import Closure, as_inputs, check_plain, partial_pullback, top_trace
from .revolve import check_n_steps, check_snapshots, split

__all__ = ["checkpoint_loop", "CheckpointStats"]


@dataclass
class CheckpointStats:
    """What one :func:`checkpoint_loop` call did (filled in by the call that is
    given it, reset at its first sweep; the backward sweep adds to it).

    * ``forward_steps``: step evaluations of the first sweep (``n_steps``);
    * ``recomputed_steps``: plain step evaluations of the backward sweep;
    * ``recorded_steps``: recorded step evaluations of the backward sweep
      (the first sweep records the last step, so ``n_steps − 1`` here);
    * ``total_steps``: their sum, ``min_step_evaluations(n_steps, snapshots)``;
    * ``snapshots_used``: the most states stored at once (``x0`` included);
    * ``peak_tape_bytes``: the largest one-step tape (array bytes on it);
    * ``peak_snapshot_bytes``: the most bytes of stored states at once.
    """

    n_steps: int = 0
    snapshots: int = 0
    forward_steps: int = 0
    recomputed_steps: int = 0
    recorded_steps: int = 0
    snapshots_used: int = 0
    peak_tape_bytes: int = 0
    peak_snapshot_bytes: int = 0

    @property
    def total_steps(self) -> int:
        return self.forward_steps + self.recomputed_steps + self.recorded_steps

    def reset(self, n_steps: int, snapshots: int) -> None:
        """Zero every count, for a new first sweep."""
        self.__init__(n_steps, snapshots)  # type: ignore[misc]


def _nbytes(values: Any) -> int:
    total = 0
    for v in values:
        if isinstance(v, Tracer):
            v = v.primal
        if isinstance(v, (tuple, list)):
            total += _nbytes(v)
        elif isinstance(v, np.ndarray) and not isinstance(v, ShapeOnly):
            total += v.nbytes
    return total


def _tape_bytes(tape: list, inputs: list) -> int:
    """Bytes of the arrays a tape holds, those it shares with the step's inputs
    (the stored state, constant params) excluded: they are no new memory."""
    shared = {id(v.primal if isinstance(v, Tracer) else v) for v in inputs}
    return sum(_nbytes([v for v in (*entry.primals, entry.ans) if id(v) not in shared]) for entry in tape)


class _Loop:
    """One checkpoint_loop call: the step on flat leaves, the schedule, the counts."""

    __slots__ = ("step", "n", "s", "tree", "shapes", "n_x", "n_params", "p_tree", "closure", "stats",
                 "pending", "cache", "diff", "state_bytes", "who")  # fmt: skip

    def __init__(self, step: Callable, n: int, s: int, x_leaves: list, tree: TreeDef, p_tree: TreeDef,
                 n_params: int, closure: Closure, stats: CheckpointStats, who: str) -> None:  # fmt: skip
        self.step, self.n, self.s, self.tree, self.p_tree = step, n, s, tree, p_tree
        self.shapes = [tuple(shape_of(x)) for x in x_leaves]
        self.n_x, self.n_params, self.closure, self.stats, self.who = len(x_leaves), n_params, closure, stats, who
        self.pending: Any = None  # (the first sweep's inputs, its snapshots, its recording of the last step)
        self.cache = VjpCache()
        self.diff: list[bool] = []  # which inputs get cotangents: the state's, and the traced params'
        self.state_bytes = _nbytes(x_leaves)

    def apply(self, x: list, rest: list, i: int) -> list:
        """Step ``i`` (0-based) on the state leaves ``x``, ``rest`` = params + closure leaves."""
        params = tree_unflatten(self.p_tree, rest[: self.n_params])
        with self.closure.bound(rest[self.n_params :]):
            out = self.step(tree_unflatten(self.tree, x), *params)
        leaves, tree = tree_flatten(out)
        if tree != self.tree:
            raise ValueError(
                f"{self.who}: step {i} returned a state of structure {tree!r}, but x0 has structure "
                f"{self.tree!r}; the step must return a state shaped like its input"
            )
        for k, (leaf, shape) in enumerate(zip(leaves, self.shapes)):
            if tuple(shape_of(leaf)) != shape:
                raise ValueError(
                    f"{self.who}: step {i} returned leaf {k} of the state with shape {tuple(shape_of(leaf))}, "
                    f"but x0's has shape {shape}; the step must keep the state's shapes"
                )
        return leaves

    def run(self, x: list, rest: list, start: int, stop: int) -> list:
        for i in range(start, stop):
            x = self.apply(x, rest, i)
        return x

    def record(self, x: list, rest: list, i: int) -> tuple[list, Callable]:
        """Record step ``i`` from ``x``: its output leaves and its pullback."""
        k = self.n_x
        values = x + rest
        diff = [d or isinstance(v, Tracer) for d, v in zip(self.diff, values)]
        out, pullback = partial_pullback(lambda v: self.apply(v[:k], v[k:], i), values, diff, self.who)
        tape_bytes = _tape_bytes(pullback.tape, values)  # type: ignore[attr-defined]
        self.stats.peak_tape_bytes = max(self.stats.peak_tape_bytes, tape_bytes)
        return out, pullback

    def note_snapshots(self, stack: list, end: int) -> None:
        """Count the stored states; the newest one is only the current state
        (not a snapshot) when its one step is recorded next."""
        stored = stack[:-1] if len(stack) > 1 and end - stack[-1][0] == 1 else stack
        st = self.stats
        st.snapshots_used = max(st.snapshots_used, len(stored))
        st.peak_snapshot_bytes = max(st.peak_snapshot_bytes, len(stored) * self.state_bytes)

    def descend(self, stack: list, rest: list, end: int, counter: str) -> None:
        """Advance from the newest snapshot as the schedule says until one step is left before ``end``."""
        while True:
            idx, x = stack[-1]
            k = end - idx
            if k <= 1:
                return
            m = split(k, self.s - len(stack) + 1)
            x = self.run(x, rest, idx, idx + m)
            setattr(self.stats, counter, getattr(self.stats, counter) + m)
            stack.append((idx + m, x))
            self.note_snapshots(stack, end)

    def first_sweep(self, leaves: list) -> list:
        """The primal loop, leaving the snapshots and the last step's recording for the VJP."""
        stack = [(0, leaves[: self.n_x])]
        self.note_snapshots(stack, self.n)
        rest = leaves[self.n_x :]
        self.descend(stack, rest, self.n, "forward_steps")
        out, pullback = self.record(stack[-1][1], rest, self.n - 1)
        self.stats.forward_steps += 1
        self.pending = (leaves, stack, pullback)
        return out

    def reverse(self, leaves: list, ct: list, batch: tuple) -> list:
        """The cotangents of every input leaf, given those of the final state."""
        rest = leaves[self.n_x :]
        pending, self.pending = self.pending, None
        if pending is not None and len(pending[0]) == len(leaves) and all(a is b for a, b in zip(pending[0], leaves)):
            _, stack, pullback = pending
        else:  # other values than the first sweep's: run the schedule from x0
            stack = [(0, leaves[: self.n_x])]
            self.descend(stack, rest, self.n, "recomputed_steps")
            _, pullback = self.record(stack[-1][1], rest, self.n - 1)
            self.stats.recorded_steps += 1
        del pending
        ct_rest: list = [None] * len(rest)
        end = self.n
        while True:
            cts = pullback(ct, batch)
            del pullback
            ct = cts[: self.n_x]
            ct_rest = [a if c is None else c if a is None else a + c for a, c in zip(ct_rest, cts[self.n_x :])]
            end -= 1
            stack.pop()
            if end == 0:
                break
            self.descend(stack, rest, end, "recomputed_steps")
            _, pullback = self.record(stack[-1][1], rest, end - 1)
            self.stats.recorded_steps += 1
        return ct + ct_rest


def _impl(*leaves: Any, loop: _Loop, prepare: bool) -> tuple:
    if prepare:
        out = loop.first_sweep(list(leaves))
    else:
        out = loop.run(list(leaves[: loop.n_x]), list(leaves[loop.n_x :]), 0, loop.n)
        loop.stats.forward_steps += loop.n
    check_plain(out, loop.who)
    return tuple(out)


def _vjp(argnum: int, ct: tuple, ans: tuple, *leaves: Any, loop: _Loop, prepare: bool) -> Any:
    return loop.cache.get(ct, lambda: loop.reverse(list(leaves), list(ct), batch_of_cotangent(ct, ans)))[argnum]


def _jvp(argnum: int, tangent: Any, ans: tuple, *leaves: Any, loop: _Loop, prepare: bool) -> tuple:
    batch = tuple(shape_of(tangent)[: len(shape_of(tangent)) - len(shape_of(leaves[argnum]))])
    tangents = [tangent if i == argnum else zeros_with_batch(batch, p) for i, p in enumerate(leaves)]
    k = loop.n_x
    _, out, _, _ = forward_pass(lambda v: loop.run(v[:k], v[k:], 0, loop.n), list(leaves), tangents, batch, False,
                                loop.who)  # fmt: skip
    return tuple(out)


checkpoint_loop_p = Primitive(_impl, name="checkpoint_loop", multiple_results=True)
defvjp_argnum(checkpoint_loop_p, _vjp)
defjvp_argnum(checkpoint_loop_p, _jvp)


def checkpoint_loop(
    step: Callable, x0: Any, n_steps: int, *params: Any, snapshots: int | None = None,
    stats: CheckpointStats | None = None,
) -> Any:  # fmt: skip
    """The state after ``n_steps`` iterations of ``x ← step(x, *params)``,
    reversed by reverse mode with the binomial (revolve) schedule.

    ``x0`` may be a nested container of arrays; ``step`` must return a state
    of the same structure and shapes. ``snapshots`` is how many states may be
    stored at once (``x0`` included, at least 1); ``None`` stores every state
    (no recomputation). Reverse mode then keeps at most ``snapshots`` states
    and one step's tape, and evaluates the step
    ``min_step_evaluations(n_steps, snapshots)`` times in all. Gradients flow
    to ``x0``, to ``params`` and to traced values in ``step``'s closure cells.
    ``stats`` (a :class:`CheckpointStats`) is filled in with the counts.
    """
    who = f"checkpoint_loop({getattr(step, '__name__', 'step')})"
    n = check_n_steps(n_steps, who)
    s = check_snapshots(snapshots, who)
    stats = stats if stats is not None else CheckpointStats()
    s_eff = n if s is None else min(s, max(n, 1))
    stats.reset(n, s_eff)
    x_leaves, tree = tree_flatten(x0)
    if n == 0:
        return x0
    x_leaves = as_inputs(x_leaves)
    p_leaves, p_tree = tree_flatten(params)
    p_leaves = as_inputs(p_leaves)
    closure = Closure(step)
    leaves = x_leaves + p_leaves + closure.leaves()
    loop = _Loop(step, n, s_eff, x_leaves, tree, p_tree, len(p_leaves), closure, stats, who)
    loop.diff = [True] * len(x_leaves) + [isinstance(leaf, Tracer) for leaf in leaves[len(x_leaves) :]]
    top = top_trace(leaves)
    if top is None or isinstance(top, ForwardTrace):  # nothing to store: just run it
        stats.forward_steps = n
        return tree_unflatten(tree, loop.run(x_leaves, leaves[len(x_leaves) :], 0, n))
    out = checkpoint_loop_p(*leaves, loop=loop, prepare=isinstance(top, ReverseTrace))
    return tree_unflatten(tree, list(out))
