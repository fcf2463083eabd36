"""A recorded program compiled to straight-line Python for reverse mode.

The interpreted replay (``run.replay_pullback``) still pays, per op, a loop
iteration, the building of a tape entry and the backward sweep's lookups.
Since a program's shapes, rules and structure are fixed for its signature,
all of that can be decided once and written out as Python source: one
assignment per op (``v7 = sin(v6)``), then a nested function with one rule
call per edge, in reverse order (``c = sin_vjp(g7, v7, v6)``, accumulated
into ``g6``). Python compiles it once; a replay is then a call.

The generated code computes exactly what the tape and the sweep compute:
the same rules on the same values (values a rule does not read are passed
as the same shape-only stand-ins), the same order of accumulation, and the
same treatment of a ``None`` (zero) contribution. Values are freed after
their last use, as the sweep frees its entries. Programs with an op the
sweep treats specially (multiple results, rules without a batch axis,
untrusted rules whose results are checked) are not compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import zeros_with_batch
from ..tape import SHAPE_ONLY_MIN_BYTES, shape_only
from .program import Program, step_rules

#: Longer programs stay interpreted (compiling Python source is linear, but
#: its constant makes very long programs slow to prepare).
MAX_COMPILED_STEPS = 20000


def compile_reverse(program: Program, leaves: list) -> Callable | None:
    """``run(*leaves) -> (outputs, values of aux slots, pull)`` where
    ``pull(*seeds) -> input cotangents`` (``None`` where nothing reached),
    or ``None`` when the program is not compiled. Runs the program once on
    ``leaves`` to decide what each rule reads."""
    if len(program.steps) > MAX_COMPILED_STEPS:
        return None
    if any(step.prim is not None and step.prim.general_vjp for step in program.steps):
        return None
    names: dict[str, Any] = {}
    values: list = [None] * program.n_slots
    for slot, leaf in zip(program.in_slots, leaves):
        values[slot] = leaf
    forward: list[str] = []
    edges: list[tuple[int, str, list[tuple[str, int]]]] = []  # (out slot, argument list, [(rule, slot)])
    read_by_sweep: set[int] = set()
    for k, step in enumerate(program.steps):
        prim, fn, template, positions, kwargs, out = step
        args, exprs, call_kwargs, traced = _call(k, step, values, names)
        forward.append(f"    v{out} = f{k}({', '.join(exprs)}{call_kwargs})")
        ans = values[out] = fn(*args, **kwargs)
        if prim is None:
            continue
        rules = []
        for i, rule, s in step_rules(step, args, program.plain_slots.__contains__, "reverse"):
            names[f"r{k}_{i}"] = rule
            rules.append((f"r{k}_{i}", s))
        if not rules:
            continue
        rule_args = [_kept(names, f"a{k}_ans", f"v{out}", ans, prim.drop_ans, out, read_by_sweep)]
        for i, expr in enumerate(exprs):
            if i in traced:
                rule_args.append(_kept(names, f"a{k}_{i}", expr, args[i], prim.drop_args, traced[i], read_by_sweep))
            else:
                rule_args.append(expr)
        edges.append((out, ", ".join(rule_args) + call_kwargs, rules))
    return _build(program, forward, edges, read_by_sweep, names)


def _call(k: int, step: Any, values: list, names: dict) -> tuple[list, list[str], str, dict[int, int]]:
    """Step ``k``'s arguments now (from ``values``), their expressions in the
    generated code (``v7`` for a traced value, a named constant otherwise),
    its keyword expression and its traced positions; registers the names."""
    _, fn, template, positions, kwargs, _ = step
    args = list(template)
    for i, s in positions:
        args[i] = values[s]
    traced = dict(positions)
    exprs = []
    for i, value in enumerate(template):
        if i in traced:
            exprs.append(f"v{traced[i]}")
        else:
            names[f"c{k}_{i}"] = value
            exprs.append(f"c{k}_{i}")
    names[f"f{k}"] = fn
    call_kwargs = ""
    if kwargs:
        names[f"kw{k}"] = kwargs
        call_kwargs = f", **kw{k}" if exprs else f"**kw{k}"
    return args, exprs, call_kwargs, traced


def _exec(source: str, names: dict, n_steps: int) -> Callable:
    namespace = dict(names)
    exec(compile(source, f"<dualrev replay of {n_steps} ops>", "exec"), namespace)  # noqa: S102
    run = namespace["run"]
    run.source = source  # for the curious (and the tests)
    return run


def _kept(names: dict, name: str, expr: str, value: Any, droppable: bool, slot: int, read: set[int]) -> str:
    """The expression a rule receives for a value: the value, or its shape-only stand-in."""
    if droppable and type(value) is np.ndarray and value.nbytes >= SHAPE_ONLY_MIN_BYTES:
        names[name] = shape_only(value)
        return name
    read.add(slot)
    return expr


def _build(program: Program, forward: list[str], edges: list, read: set[int], names: dict) -> Callable:
    ins = [f"v{s}" for s in program.in_slots]
    keep = read | {ref for computed, ref in program.outputs if computed}
    if program.aux is not None:
        keep |= {ref for computed, ref in program.aux[0] if computed}
    lines = [f"def run({', '.join(ins)}):"]
    for k, line in enumerate(forward):
        lines.append(line)
        dead = [f"v{s}" for s in program.release[k] if s not in keep]
        if dead:
            lines.append(f"    del {', '.join(dead)}")
    out_slots = sorted({ref for computed, ref in program.outputs if computed})
    receivers = sorted({s for _, _, rules in edges for _, s in rules} | set(out_slots) | {o for o, _, _ in edges})
    lines.append(f"    def pull({', '.join(f'seed{s}' for s in out_slots)}):")
    for s in receivers:
        lines.append(f"        g{s} = {'seed' + str(s) if s in out_slots else 'None'}")
    for out, rule_args, rules in reversed(edges):
        lines.append(f"        if g{out} is not None:")
        for rule, s in rules:
            lines.append(f"            c = {rule}(g{out}, {rule_args})")
            lines.append("            if c is not None:")
            lines.append(f"                g{s} = c if g{s} is None else g{s} + c")
        if out not in program.in_slots:
            lines.append(f"            g{out} = None")
    lines.append(f"        return [{', '.join(f'g{s}' if s in receivers else 'None' for s in program.in_slots)}]")
    exported = sorted(set(out_slots) | _aux_slots(program))
    lines.append(f"    return {{{', '.join(f'{s}: v{s}' for s in exported)}}}, pull")
    return _exec("\n".join(lines) + "\n", names, len(program.steps))


def _free(lines: list[str], release: tuple, exported: list[int], has_tangent: set[int]) -> None:
    """Forward mode holds only what later ops read: free values (and their
    tangents) after their last use."""
    dead = [s for s in release if s not in exported]
    names = [f"v{s}" for s in dead] + [f"t{s}" for s in dead if s in has_tangent]
    if names:
        lines.append(f"    del {', '.join(names)}")


def _aux_slots(program: Program) -> set[int]:
    return set() if program.aux is None else {ref for computed, ref in program.aux[0] if computed}


def compile_forward(program: Program, leaves: list) -> Callable | None:
    """``run(*leaves, *tangents, batch) -> (values, tangents)`` (dicts by
    slot, for the outputs and aux) computing forward mode as the dual numbers
    of ``forward.py`` do (the same JVP rules, a zero tangent where every rule
    gave ``None``), or ``None`` when the program is not compiled (an op with
    multiple results, unbatched or untrusted rules). Values whose arguments
    are all constants for forward mode (masks, indices, what only they give)
    get no tangent, as they are plain values there."""
    if len(program.steps) > MAX_COMPILED_STEPS:
        return None
    if any(
        step.prim is not None and (step.prim.multiple_results or not step.prim.trusted or not step.prim.jvp_batched)
        for step in program.steps
    ):
        return None
    names: dict[str, Any] = {"zeros": zeros_with_batch}
    values: list = [None] * program.n_slots
    for slot, leaf in zip(program.in_slots, leaves):
        values[slot] = leaf
    has_tangent = set(program.in_slots)
    exported = sorted({ref for computed, ref in program.outputs if computed} | _aux_slots(program))
    ins = [f"v{s}" for s in program.in_slots] + [f"t{s}" for s in program.in_slots]
    lines = [f"def run({', '.join(ins)}, batch):"]
    for k, step in enumerate(program.steps):
        prim, fn, _, positions, kwargs, out = step
        args, exprs, call_kwargs, traced = _call(k, step, values, names)
        lines.append(f"    v{out} = f{k}({', '.join(exprs)}{call_kwargs})")
        ans = values[out] = fn(*args, **kwargs)
        if prim is None:
            _free(lines, program.release[k], exported, has_tangent)
            continue
        contributions = []
        for i, rule, s in step_rules(step, args, lambda s: s not in has_tangent, "forward"):
            names[f"j{k}_{i}"] = rule
            contributions.append(f"j{k}_{i}(t{s}, v{out}, {', '.join(exprs)}{call_kwargs})")
        if not contributions and not any(s in has_tangent for _, s in positions):
            _free(lines, program.release[k], exported, has_tangent)
            continue  # every argument is a constant for forward mode: so is the value
        has_tangent.add(out)
        lines.append(f"    t{out} = None")
        for c in contributions:
            lines.append(f"    c = {c}")
            lines.append("    if c is not None:")
            lines.append(f"        t{out} = c if t{out} is None else t{out} + c")
        lines.append(f"    if t{out} is None:")
        lines.append(f"        t{out} = zeros(batch, v{out})")
        _free(lines, program.release[k], exported, has_tangent)
        del ans
    tangents = [s for s in exported if s in has_tangent]
    lines.append(
        f"    return {{{', '.join(f'{s}: v{s}' for s in exported)}}}, {{{', '.join(f'{s}: t{s}' for s in tangents)}}}"
    )
    return _exec("\n".join(lines) + "\n", names, len(program.steps))


__all__ = ["compile_reverse", "compile_forward", "MAX_COMPILED_STEPS"]
