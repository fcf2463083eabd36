"""Running a recorded :class:`~dualrev.replay.program.Program` on new inputs.

Two interpreters:

* :func:`replay_pullback` — reverse mode without the function's Python and
  without the recording machinery: it runs the implementations step by step
  and writes the tape entries directly (the VJP rules of each step are looked
  up once, on the first replay, and kept with the program), then hands the
  tape to the ordinary backward sweep. Its entries are those reverse mode
  would record, so the sweep, and the gradient, are the same.
* :func:`as_function` — the program as a function of the input leaves that
  calls each primitive through the dispatch rule, so any transformation (and
  nesting: ``hvp``, ``hessian``, the explicit mode) can run it; only the
  function's own Python is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._outputs import cast_like
from ..core import NeverDifferentiated, nondiff, zeros_with_batch
from ..reverse import backward
from ..tape import SHAPE_ONLY_MIN_BYTES, TapeEntry, new_record, shape_only
from ..tree import tree_unflatten
from .program import Program

Pullback = Callable[[list, tuple, bool], list]


def replay_pullback(program: Program, leaves: list) -> tuple[list, Any, Pullback]:
    """Re-execute ``program`` on ``leaves`` recording the reverse-mode tape.

    Returns ``(output leaves, aux, pullback)`` as ``reverse.reverse_pass``
    does (``pullback(cotangents, batch, consume)``)."""
    values: list = [None] * program.n_slots
    for slot, leaf in zip(program.in_slots, leaves):
        values[slot] = leaf
    plan = program.reverse_plan
    if plan is None:
        plan = program.reverse_plan = []
        build = True
    else:
        build = False
    tape: list[TapeEntry] = []
    append = tape.append
    release = program.release
    for k, step in enumerate(program.steps):
        prim, fn, template, positions, kwargs, out = step
        args = list(template)
        for i, s in positions:
            args[i] = values[s]
        if prim is None:
            values[out] = fn(*args, **kwargs)
        else:
            ans = fn(*args, **kwargs)
            if build:
                plan.append(_plan_step(program, step, args))
            parents = plan[k]
            if prim.multiple_results:
                for s, a in zip(out, ans):
                    values[s] = a
            else:
                values[out] = ans
            if parents:
                append(new_record(TapeEntry, (prim, parents, _kept_args(prim, args, positions), kwargs,
                                              _kept_ans(prim, ans), out)))  # fmt: skip
        if build and prim is None:
            plan.append(())
        for s in release[k]:
            values[s] = None
    outs = [values[ref] if computed else ref for computed, ref in program.outputs]
    aux = _aux(program, values)
    out_slots = [ref if computed else None for computed, ref in program.outputs]

    def pullback(cotangents: list, batch: tuple, consume: bool) -> list:
        seeds: dict[int, Any] = {}
        for slot, ct in zip(out_slots, cotangents):
            if slot is None or ct is None:
                continue
            seeds[slot] = seeds[slot] + ct if slot in seeds else ct
        result = backward(tape, seeds, consume=consume)
        return [
            cast_like(result[s], p) if s in result else zeros_with_batch(batch, p)
            for s, p in zip(program.in_slots, leaves)
        ]

    pullback.tape = tape  # type: ignore[attr-defined]  # read by the cost ledger before a sweep
    return outs, aux, pullback


def _plan_step(program: Program, step: Any, args: list) -> tuple:
    """The parents ``(argnum, rule, slot)`` of one step, as reverse mode
    records them: traced arguments with a VJP rule; the results of
    non-differentiable ops are constants there, as in every other mode."""
    prim = step.prim
    parents = []
    for i, s in step.positions:
        if s in program.plain_slots:
            continue
        rule = prim.vjp_rules.get(i)
        if rule is None:
            rule = prim.vjp_rule(i)  # raises, naming the primitive, if the rule is missing
            if isinstance(rule, NeverDifferentiated):
                rule.check(args[i], "reverse")
                continue
        parents.append((i, rule, s))
    return tuple(parents)


def _kept_args(prim: Any, args: list, positions: tuple) -> tuple:
    if prim.drop_args:
        for i, _ in positions:
            value = args[i]
            if type(value) is np.ndarray and value.nbytes >= SHAPE_ONLY_MIN_BYTES:
                args[i] = shape_only(value)
    return tuple(args)


def _kept_ans(prim: Any, ans: Any) -> Any:
    if prim.drop_ans and type(ans) is np.ndarray and ans.nbytes >= SHAPE_ONLY_MIN_BYTES:
        return shape_only(ans)
    return ans


def _aux(program: Program, values: list) -> Any:
    if program.aux is None:
        return None
    refs, tree = program.aux
    return tree_unflatten(tree, [values[ref] if computed else ref for computed, ref in refs])


def as_function(program: Program) -> Callable[[list], Any]:
    """The program as a function of its input leaves (traced or not), which
    returns its outputs in their structure (``(out, aux)`` when recorded with aux)."""

    def run(leaves: list) -> Any:
        values: list = [None] * program.n_slots
        for slot, leaf in zip(program.in_slots, leaves):
            values[slot] = leaf
        release = program.release
        for k, (prim, fn, template, positions, kwargs, out) in enumerate(program.steps):
            args = list(template)
            for i, s in positions:
                args[i] = values[s]
            if prim is None:
                values[out] = nondiff(fn, *args, **kwargs)
            else:
                ans = prim(*args, **kwargs)
                if prim.multiple_results:
                    for s, a in zip(out, ans):
                        values[s] = a
                else:
                    values[out] = ans
            for s in release[k]:
                values[s] = None
        out = tree_unflatten(program.out_tree, [values[r] if c else r for c, r in program.outputs])
        if program.aux is None:
            return out
        return out, _aux(program, values)

    return run


__all__ = ["replay_pullback", "as_function"]
