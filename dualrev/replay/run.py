"""Running a recorded :class:`~dualrev.replay.program.Program` on new inputs.

Two interpreters:

* :func:`replay_pullback` — reverse mode without the function's Python and
  without the recording machinery: it runs the implementations step by step
  and writes the tape entries directly (the VJP rules of each step are looked
  up once, on the first replay, and kept with the program), then hands the
  tape to the ordinary backward sweep. Its entries are those reverse mode
  would record, so the sweep, and the gradient, are the same.
* :func:`replay_linearized` — the same for the explicit mode: the tape a
  :class:`~dualrev.explicit.linearize.LinearizeTrace` would record (every
  value kept, the JVP rules as parents), written directly.
* :func:`as_function` — the program as a function of the input leaves that
  calls each primitive through the dispatch rule, so any transformation (and
  nesting: ``hvp``, ``hessian``, the explicit mode) can run it; only the
  function's own Python is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._outputs import cast_like, check_output
from ..core import nondiff, zeros_with_batch
from ..forward import forward_pass
from ..reverse import backward
from ..tape import SHAPE_ONLY_MIN_BYTES, Recording, TapeEntry, new_record, shape_only
from ..tree import TreeDef, tree_unflatten
from .compile import compile_forward, compile_reverse
from .program import Program, step_rules

Pullback = Callable[[list, tuple, bool], list]


def replay_pullback(program: Program, leaves: list) -> tuple[list, Any, Pullback]:
    """Re-execute ``program`` on ``leaves`` recording the reverse-mode tape.

    Returns ``(output leaves, aux, pullback)`` as ``reverse.reverse_pass``
    does (``pullback(cotangents, batch, consume)``)."""
    compiled = program.compiled
    if compiled is None:  # the first replay: compile (or mark as interpreted, False)
        compiled = program.compiled = compile_reverse(program, leaves) or False
    if compiled:
        return _run_compiled(program, compiled, leaves)
    values: list = [None] * program.n_slots
    for slot, leaf in zip(program.in_slots, leaves):
        values[slot] = leaf
    plan = program.reverse_plan
    if plan is None:  # the first replay looks the rules up (and checks them, as reverse mode would)
        plan = program.reverse_plan = _plan(program, values)
    tape: list[TapeEntry] = []
    append = tape.append
    # One iteration per recorded op, written for speed: the rules, the
    # positions to keep by shape and the slots to free were decided once, in
    # the plan; what is left is the implementation call and the tape entry.
    for fn, prim, template, positions, kwargs, out, parents, drops, drop_ans, release in plan:
        if len(positions) == 1 and len(template) == 1:
            args: Any = [values[positions[0][1]]]
        else:
            args = list(template)
            for i, s in positions:
                args[i] = values[s]
        ans = fn(*args, **kwargs)
        if prim is None or not parents:  # a non-differentiable op, or no traced argument with a rule
            if type(out) is tuple:
                for s, a in zip(out, ans):
                    values[s] = a
            else:
                values[out] = ans
        else:
            if type(out) is tuple:
                for s, a in zip(out, ans):
                    values[s] = a
                kept = ans
            else:
                values[out] = kept = ans
                if drop_ans and type(ans) is np.ndarray and ans.nbytes >= SHAPE_ONLY_MIN_BYTES:
                    kept = shape_only(ans)
            for i in drops:
                value = args[i]
                if type(value) is np.ndarray and value.nbytes >= SHAPE_ONLY_MIN_BYTES:
                    args[i] = shape_only(value)
            append(new_record(TapeEntry, (prim, parents, tuple(args), kwargs, kept, out)))
        for s in release:
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


def replay_linearized(program: Program, leaves: list, has_aux: bool, who: str) -> tuple[list, Recording, int]:
    """Re-execute ``program`` on ``leaves`` writing the explicit mode's tape:
    ``(tape, recording, slots used)``, as recording the function would give
    them (the JVP rules of each step are looked up once and kept with the program)."""
    values: list = [None] * program.n_slots
    for slot, leaf in zip(program.in_slots, leaves):
        values[slot] = leaf
    plan = program.linear_plan
    if plan is None:
        plan = program.linear_plan = _linear_plan(program, values)
    tape: list[TapeEntry] = []
    append = tape.append
    for fn, prim, template, positions, kwargs, out, parents, release in plan:
        if len(positions) == 1 and len(template) == 1:
            args: Any = (values[positions[0][1]],)
        else:
            args = list(template)
            for i, s in positions:
                args[i] = values[s]
            args = tuple(args)
        ans = fn(*args, **kwargs)
        if type(out) is tuple:
            for s, a in zip(out, ans):
                values[s] = a
        else:
            values[out] = ans
        if parents:
            append(new_record(TapeEntry, (prim, parents, args, kwargs, ans, out)))
        for s in release:
            values[s] = None
    plain = program.plain_slots
    outs = [values[ref] if computed else ref for computed, ref in program.outputs]
    out_slots = [ref if computed and ref not in plain else None for computed, ref in program.outputs]
    check_output(outs, who)
    aux = _aux(program, values) if has_aux else None
    return tape, Recording(list(program.in_slots), outs, program.out_tree, out_slots, aux), program.n_slots


def _linear_plan(program: Program, values: list) -> list[tuple]:
    """Per step: ``(fn, prim, template, positions, kwargs, out, parents, release)``,
    the parents ``(argnum, JVP rule, slot)`` as the explicit mode records them."""
    plan = []
    for step, release, args in _run_once(program, values):
        prim, fn, template, positions, kwargs, out = step
        parents: tuple = ()
        if prim is not None:
            try:
                parents = tuple(step_rules(step, args, program.plain_slots.__contains__, "forward"))
            except NotImplementedError as exc:
                raise NotImplementedError(f"{exc} The explicit mode builds local Jacobians from JVP rules.") from None
        plan.append((fn, prim, template, positions, kwargs, out, parents, release))
    return plan


def _run_once(program: Program, values: list) -> Any:
    """Run the program once on a copy of ``values`` (the first replay's inputs,
    left in place), yielding each step with its release list and arguments, so
    that a plan can check the rules on the values."""
    scratch = list(values)
    for step, release in zip(program.steps, program.release):
        _, fn, template, positions, kwargs, out = step
        args = list(template)
        for i, s in positions:
            args[i] = scratch[s]
        ans = fn(*args, **kwargs)
        if type(out) is tuple:
            for s, a in zip(out, ans):
                scratch[s] = a
        else:
            scratch[out] = ans
        yield step, release, args
        for s in release:
            scratch[s] = None


def _run_compiled(program: Program, compiled: Callable, leaves: list) -> tuple[list, Any, Pullback]:
    slots, pull = compiled(*leaves)
    outs = [slots[ref] if computed else ref for computed, ref in program.outputs]
    aux = _aux(program, slots)
    out_slots = sorted({ref for computed, ref in program.outputs if computed})

    def pullback(cotangents: list, batch: tuple, consume: bool) -> list:
        seeds: dict[int, Any] = {}
        for (computed, slot), ct in zip(program.outputs, cotangents):
            if not computed or ct is None:
                continue
            seeds[slot] = seeds[slot] + ct if slot in seeds else ct
        result = pull(*[seeds.get(s) for s in out_slots])
        return [
            cast_like(g, p) if g is not None else zeros_with_batch(batch, p) for g, p in zip(result, leaves)
        ]

    return outs, aux, pullback


def _plan(program: Program, values: list) -> list[tuple]:
    """Per step: ``(fn, prim, template, positions, kwargs, out, parents, drops,
    drop_ans, release)``, checking the rules on the first replay's values."""
    plan = []
    for step, release, args in _run_once(program, values):
        prim, fn, template, positions, kwargs, out = step
        parents = _plan_step(program, step, args) if prim is not None else ()
        traced = {i for i, _, _ in parents}
        drops = tuple(i for i, _ in positions if i in traced) if prim is not None and prim.drop_args else ()
        drop_ans = prim is not None and prim.drop_ans
        plan.append((fn, prim, template, positions, kwargs, out, parents, drops, drop_ans, release))
    return plan


def _plan_step(program: Program, step: Any, args: list) -> tuple:
    """The parents ``(argnum, rule, slot)`` of one step, as reverse mode
    records them: traced arguments with a VJP rule; the results of
    non-differentiable ops are constants there, as in every other mode."""
    return tuple(step_rules(step, args, program.plain_slots.__contains__, "reverse"))


def _aux(program: Program, values: Any) -> Any:
    if program.aux is None:
        return None
    refs, tree = program.aux
    return tree_unflatten(tree, [values[ref] if computed else ref for computed, ref in refs])


def replay_forward(program: Program, leaves: list, tangents: list, batch: tuple) -> tuple[list, list, TreeDef, Any]:
    """Forward mode on a recorded program: ``(outputs, their tangents, output
    structure, aux)`` as ``forward.forward_pass`` returns them, from the
    compiled program (or, where it is not compiled, through the dual numbers)."""
    compiled = program.compiled_forward
    if compiled is None:
        compiled = program.compiled_forward = compile_forward(program, leaves) or False
    if not compiled:
        return forward_pass(as_function(program), leaves, tangents, batch, program.aux is not None, "jvp")
    values, dots = compiled(*leaves, *tangents, batch)
    outs, outs_dot = [], []
    for computed, ref in program.outputs:
        value = values[ref] if computed else ref
        outs.append(value)
        dot = dots.get(ref) if computed else None
        outs_dot.append(zeros_with_batch(batch, value) if dot is None else dot)
    return outs, outs_dot, program.out_tree, _aux(program, values)


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


__all__ = ["replay_pullback", "replay_forward", "as_function"]
