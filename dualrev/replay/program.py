"""Recording a program once, so that later calls can replay it.

A *program* is the straight-line sequence of operations a function applied to
its inputs: every primitive (with its static keyword arguments and the
constants it was given) and every non-differentiable op on a traced value
(comparisons, ``argmax``, ``isnan``: :func:`dualrev.core.nondiff`), so that a
replay recomputes masks and indices instead of reusing the recorded ones.
Replaying re-executes the implementations on new inputs without running the
function's Python.

That is only right when the Python did not depend on the values. The
:class:`ProgramTrace` watches for every read of a traced value's data
(``bool(x)``, ``if x > 0:``, ``float``, ``.item()``, ``concrete``, a traced
index or shape) and for values of an enclosing transformation; any of them
*refuses* the recording, with the reason, and the function then runs
unreplayed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._outputs import check_output, split_aux
from ..core import NO_KWARGS, NeverDifferentiated, Primitive, Tracer, concrete
from ..tape import Node, RecordingTrace
from ..tree import TreeDef, tree_flatten


class Step(NamedTuple):
    """One recorded operation ``out = fn(*args, **kwargs)``.

    ``template`` holds the positional arguments with ``None`` where a traced
    value went; ``positions`` says which: ``(argnum, slot)`` pairs. ``prim``
    is the primitive (``None`` for a non-differentiable op, whose ``fn`` is
    a plain function)."""

    prim: Primitive | None
    fn: Callable
    template: tuple
    positions: tuple[tuple[int, int], ...]
    kwargs: dict
    out: Any  # a slot, or a tuple of slots for multiple results


class Program:
    """A recorded program: steps, input slots, and where the outputs come from.

    ``outputs``/``aux`` are one reference per leaf: ``(True, slot)`` for a
    value the program computes, ``(False, value)`` for a constant."""

    def __init__(
        self,
        steps: list[Step],
        n_slots: int,
        in_slots: list[int],
        plain_slots: set[int],
        outputs: list[tuple[bool, Any]],
        out_tree: TreeDef,
        aux: tuple[list[tuple[bool, Any]], TreeDef] | None,
    ) -> None:
        self.steps = steps
        self.n_slots = n_slots
        self.in_slots = in_slots
        self.plain_slots = plain_slots  # results of non-differentiable ops
        self.outputs = outputs
        self.out_tree = out_tree
        self.aux = aux
        self.release = _last_uses(steps, n_slots, outputs, aux)
        self.reverse_plan: list | None = None  # built by the first interpreted reverse replay
        self.linear_plan: list | None = None  # built by the first replay in the explicit mode
        self.compiled: Any = None  # compile.compile_reverse's function, False if not compiled
        self.compiled_forward: Any = None  # compile.compile_forward's

    def __repr__(self) -> str:
        return f"<dualrev program: {len(self.steps)} steps, {len(self.in_slots)} inputs>"


def _last_uses(steps: list[Step], n_slots: int, outputs: list, aux: Any) -> list[tuple[int, ...]]:
    """For each step, the slots no later step reads (and no output is): a
    replay drops them there, so that it holds no more than the tape needs."""
    keep = {ref for computed, ref in outputs if computed}
    if aux is not None:
        keep.update(ref for computed, ref in aux[0] if computed)
    last = {}
    for k, step in enumerate(steps):
        for _, slot in step.positions:
            last[slot] = k
    release: list[list[int]] = [[] for _ in steps]
    for slot, k in last.items():
        if slot not in keep:
            release[k].append(slot)
    return [tuple(r) for r in release]


class PlainNode(Node):
    """The result of a non-differentiable op in a recording: a value that is
    plain in every other mode (a mask, an index), so converting it to a
    Python or NumPy value works as it would there, but refuses the replay."""

    __slots__ = ()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:  # type: ignore[override]  # plain here, refused on tracers
        return np.asarray(concrete(self), dtype=dtype)

    def __float__(self) -> float:  # type: ignore[override]  # plain here, refused on tracers
        return float(concrete(self))

    def __int__(self) -> int:  # type: ignore[override]  # plain here, refused on tracers
        return int(concrete(self))

    def __index__(self) -> int:  # type: ignore[override]  # plain here, refused on tracers
        return int(np.asarray(concrete(self)).__index__())

    def item(self, *args: Any, **kwargs: Any) -> Any:
        return np.asarray(concrete(self)).item(*args, **kwargs)

    def tolist(self, *args: Any, **kwargs: Any) -> Any:
        return np.asarray(concrete(self)).tolist()


class ProgramTrace(RecordingTrace):
    """Records a :class:`Program` (not a tape) and watches for what would make
    replaying it wrong (``refusal`` says what, and where)."""

    __slots__ = ("steps", "plain_slots", "refusal")
    watches_reads = True
    records_nondiff = True

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[Step] = []
        self.plain_slots: set[int] = set()
        self.refusal: str | None = None

    def refuse(self, why: str) -> None:
        if self.refusal is None:
            self.refusal = f"{why} ({_user_location()})"

    def read_value(self, tracer: Any) -> None:
        self.refuse("the function read the value of a traced array (bool(), if/while on a comparison, float(), "
                    ".item(), printing, or an index or shape computed from it)")  # fmt: skip

    def _unwrap(self, name: str, args: tuple, kwargs: dict) -> tuple[list, list, tuple]:
        values = list(args)
        template = list(args)
        positions = []
        for i, arg in enumerate(args):
            if isinstance(arg, Tracer):
                if arg._trace is self:
                    values[i] = arg.primal
                    template[i] = None
                    positions.append((i, arg.slot))  # type: ignore[attr-defined]  # a Node of this trace
                else:
                    self.refuse(f"'{name}' received a value traced by an enclosing transformation")
            elif isinstance(arg, (list, tuple)) and any(isinstance(a, Tracer) for a in arg):
                self.refuse(f"'{name}' received a list of traced values")
        if any(isinstance(v, Tracer) for v in kwargs.values()):
            self.refuse(f"'{name}' received a traced keyword argument")
        return values, template, tuple(positions)

    def process(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        values, template, positions = self._unwrap(str(prim.name), args, kwargs)
        enclosing = any(isinstance(v, Tracer) for v in values)
        ans = prim(*values, **kwargs) if enclosing else prim.impl(*values, **kwargs)
        nodes, out = self.output_nodes(prim, ans)
        self.steps.append(Step(prim, prim.impl, tuple(template), positions, kwargs or NO_KWARGS, out))
        return nodes

    def record_nondiff(self, fn: Callable, args: tuple, kwargs: dict) -> Any:
        name = str(getattr(fn, "__name__", None) or fn)
        values, template, positions = self._unwrap(name, args, kwargs)
        ans = fn(*[concrete(v) for v in values], **{k: concrete(v) for k, v in kwargs.items()})
        if isinstance(ans, (tuple, list)):  # e.g. np.nonzero's tuple of index arrays
            self.refuse(f"'{name}' of a traced value returned several arrays")
            return ans
        node = PlainNode(ans, self, self.n_slots)
        self.n_slots += 1
        self.plain_slots.add(node.slot)
        self.steps.append(Step(None, fn, tuple(template), positions, dict(kwargs) or NO_KWARGS, node.slot))
        return node


def step_rules(step: Step, args: list, constant: Callable[[int], bool], mode: str) -> list[tuple[int, Callable, int]]:
    """``(argnum, rule, slot)`` for each traced argument of a primitive step
    that ``mode`` ("forward": JVP rules, "reverse": VJP rules) differentiates,
    as the interpreters choose them: arguments whose slot is ``constant``
    in that mode are skipped, a missing rule raises naming the primitive, an
    argument registered as never differentiated is checked on its value."""
    prim = step.prim
    assert prim is not None
    table = prim.vjp_rules if mode == "reverse" else prim.jvp_rules
    found = []
    for i, s in step.positions:
        if constant(s):
            continue
        rule = table.get(i)
        if rule is None:
            rule = prim.vjp_rule(i) if mode == "reverse" else prim.jvp_rule(i)
            if isinstance(rule, NeverDifferentiated):
                rule.check(args[i], mode)
                continue
        found.append((i, rule, s))
    return found


def _user_location() -> str:
    """``file:line`` of the innermost frame outside dualrev: where the user's code did it."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("dualrev"):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "inside dualrev"
    return f"at {frame.f_code.co_filename}:{frame.f_lineno}, in {frame.f_code.co_name}"


class Recorded(NamedTuple):
    """What :func:`record_program` returns: the program (``None`` if refused),
    why it was refused, and the first call's outputs and aux."""

    program: Program | None
    refusal: str | None


def record_program(fun: Callable[[list], Any], leaves: list, has_aux: bool, who: str) -> Recorded:
    """Run ``fun`` (a function of a list of leaves) once, recording its program."""
    trace = ProgramTrace()
    try:
        nodes = [trace.new_node(p) for p in leaves]
        out, aux = split_aux(fun(nodes), has_aux, who)
    finally:
        trace.active = False
    out_leaves, out_tree = tree_flatten(out)
    outputs = [_reference(o, trace) for o in out_leaves]
    check_output([trace_value(o, trace) for o in out_leaves], who)
    aux_refs = None
    if has_aux:
        aux_leaves, aux_tree = tree_flatten(aux)
        aux_refs = ([_reference(a, trace) for a in aux_leaves], aux_tree)
    if any(not computed and isinstance(v, Tracer) for computed, v in outputs + (aux_refs[0] if aux_refs else [])):
        trace.refuse(f"{who}: the function returned a value traced by an enclosing transformation")
    if trace.refusal is not None:
        return Recorded(None, trace.refusal)
    program = Program(
        trace.steps, trace.n_slots, [n.slot for n in nodes], trace.plain_slots, outputs, out_tree, aux_refs
    )
    return Recorded(program, None)


def _reference(value: Any, trace: ProgramTrace) -> tuple[bool, Any]:
    if isinstance(value, Node) and value._trace is trace:
        return True, value.slot
    return False, value


def trace_value(value: Any, trace: ProgramTrace) -> Any:
    return value.primal if isinstance(value, Node) and value._trace is trace else value


__all__ = ["Program", "ProgramTrace", "PlainNode", "Step", "Recorded", "record_program", "step_rules"]
