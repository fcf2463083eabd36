"""Forward accumulation on dual numbers.

A :class:`Dual` carries a primal value ``x`` and a tangent ``ẋ`` (the
directional derivative of ``x`` along the input direction being pushed). When a
primitive ``y = f(a, b, ...)`` meets a Dual, the chain rule gives

    ẏ = ∂f/∂a · ȧ + ∂f/∂b · ḃ + ...

and each product ``∂f/∂a · ȧ`` is exactly the primitive's JVP rule for
argument ``a``. No graph is stored: memory stays flat however long the program.

The tangent may carry leading batch axes (``k`` directions at once): that is
how ``jacobian(mode="forward")`` pushes an identity basis through one pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import numpy as dnp
from ._outputs import check_output, split_aux, strip
from .core import (
    NO_KWARGS,
    NeverDifferentiated,
    Primitive,
    Trace,
    Tracer,
    check_answer,
    check_tangent,
    zeros_with_batch,
)
from .numpy.array_interface import TracerArrayMethods
from .tree import TreeDef, tree_flatten

new_object = object.__new__  # a Dual without its __init__ frame (the fast paths set the slots)


class ForwardTrace(Trace):
    """One forward-mode transformation. ``batch`` is the shape of the leading
    direction axes every tangent of this trace carries (``()`` or ``(k,)``)."""

    __slots__ = ("batch",)

    def __init__(self, batch: tuple = ()) -> None:
        super().__init__()
        self.batch = tuple(batch)

    # process1 and process2: calls of one or two positional arguments of a
    # trusted single-result primitive whose tracers all belong to this trace,
    # without the generic loop; everything else takes ``process``.
    def process1(self, prim: Primitive, x: Any) -> Any:
        value = x.primal  # x is a Dual of this trace: the only tracer
        rule = prim.jvp_rules.get(0)
        if (
            rule is None
            or isinstance(value, Tracer)
            or prim.multiple_results
            or not prim.trusted
            or (self.batch and not prim.jvp_batched)
        ):
            return self.process(prim, (x,), NO_KWARGS)
        ans = prim.impl(value)
        tangent = rule(x.tangent, ans, value)
        dual = new_object(Dual)
        dual.primal = ans
        dual.tangent = zeros_with_batch(self.batch, ans) if tangent is None else tangent
        dual._trace = self
        return dual

    def process2(self, prim: Primitive, x: Any, y: Any) -> Any:
        if prim.multiple_results or not prim.trusted or (self.batch and not prim.jvp_batched):
            return self.process(prim, (x, y), NO_KWARGS)
        rules = prim.jvp_rules
        x_traced = isinstance(x, Tracer)
        y_traced = isinstance(y, Tracer)
        xv = x.primal if x_traced else x
        yv = y.primal if y_traced else y
        if (x_traced and (x._trace is not self or isinstance(xv, Tracer) or rules.get(0) is None)) or (
            y_traced and (y._trace is not self or isinstance(yv, Tracer) or rules.get(1) is None)
        ):
            return self.process(prim, (x, y), NO_KWARGS)
        ans = prim.impl(xv, yv)
        tangent = rules[0](x.tangent, ans, xv, yv) if x_traced else None  # type: ignore[misc]  # checked above
        if y_traced:
            contrib = rules[1](y.tangent, ans, xv, yv)  # type: ignore[misc]
            if contrib is not None:
                tangent = contrib if tangent is None else tangent + contrib
        dual = new_object(Dual)
        dual.primal = ans
        dual.tangent = zeros_with_batch(self.batch, ans) if tangent is None else tangent
        dual._trace = self
        return dual

    def process(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        primals = list(args)
        tangents: list = []
        enclosing = False  # is some argument a tracer of an enclosing (lower) trace?
        for i, arg in enumerate(args):
            if isinstance(arg, Tracer):
                if arg._trace is not self:
                    enclosing = True
                    continue
                primal = primals[i] = arg.primal
                tangents.append((i, arg.tangent))  # type: ignore[attr-defined]  # a Dual of this trace
                if isinstance(primal, Tracer):
                    enclosing = True
        # Re-dispatch only when enclosing traces must see the call; otherwise
        # run the NumPy implementation directly.
        ans = prim(*primals, **kwargs) if enclosing else prim.impl(*primals, **kwargs)

        if prim.multiple_results:
            if not prim.trusted:
                check_answer(prim, ans, self)
            return self._multiple_results(prim, tangents, ans, primals, kwargs)
        out_tangent = None
        if prim.trusted and (not self.batch or prim.jvp_batched):  # the hot path
            rules = prim.jvp_rules
            for i, tangent in tangents:
                rule = rules.get(i)
                if rule is None:
                    rule = prim.jvp_rule(i)  # raises if the rule is missing
                    if isinstance(rule, NeverDifferentiated):  # registered as None
                        rule.check(primals[i], "forward")
                        continue
                contrib = rule(tangent, ans, *primals, **kwargs)
                if contrib is not None:
                    out_tangent = contrib if out_tangent is None else out_tangent + contrib
        else:  # rules that take one direction at a time, or whose results are checked
            if not prim.trusted:
                check_answer(prim, ans, self)
            for i, tangent in tangents:
                contrib = _apply_jvp(prim, i, tangent, ans, primals, kwargs, self)
                if contrib is not None:
                    out_tangent = contrib if out_tangent is None else out_tangent + contrib
        if out_tangent is None:
            out_tangent = zeros_with_batch(self.batch, ans)
        return Dual(ans, out_tangent, self)

    def _multiple_results(self, prim: Primitive, tangents: list, ans: tuple, primals: list, kwargs: dict) -> tuple:
        out: list = [None] * len(ans)
        for i, tangent in tangents:
            contrib = _apply_jvp(prim, i, tangent, ans, primals, kwargs, self)
            if contrib is None:
                continue
            for j, c in enumerate(contrib):
                if c is not None:
                    out[j] = c if out[j] is None else out[j] + c
        return tuple(Dual(a, t if t is not None else zeros_with_batch(self.batch, a), self) for a, t in zip(ans, out))


def _apply_jvp(
    prim: Primitive, argnum: int, tangent: Any, ans: Any, primals: list, kwargs: dict, trace: ForwardTrace
) -> Any:
    """One JVP rule application, looping over the batch for ``batched=False``
    rules; the result is checked unless the primitive is trusted."""
    rule = prim.jvp_rule(argnum)
    if isinstance(rule, NeverDifferentiated):  # registered as None
        rule.check(primals[argnum], "forward")
        return None
    batch = trace.batch
    if prim.jvp_batched or not batch:
        result = rule(tangent, ans, *primals, **kwargs)
    else:
        results = [rule(tangent[k], ans, *primals, **kwargs) for k in range(batch[0])]
        if not prim.trusted:
            results = [check_tangent(prim, argnum, "forward", r, (), ans, trace) for r in results]
        if prim.multiple_results:
            result = tuple(dnp.stack(list(parts)) for parts in zip(*results))
        else:
            result = dnp.stack(results)
    if not prim.trusted:
        return check_tangent(prim, argnum, "forward", result, batch, ans, trace)
    return result


class Dual(TracerArrayMethods, Tracer):
    """A dual number ``(primal, tangent)`` of one forward trace."""

    __slots__ = ("tangent",)

    def __init__(self, primal: Any, tangent: Any, trace: ForwardTrace) -> None:
        self.primal = primal
        self.tangent = tangent
        self._trace = trace

    def __repr__(self) -> str:
        return f"Dual(primal={self.primal!r}, tangent={self.tangent!r})"


def forward_pass(
    fun: Callable[[list], Any], primals: list, tangents: list, batch: tuple, has_aux: bool, who: str
) -> tuple[list, list, TreeDef, Any]:
    """Run ``fun`` (a function of a list of leaves) on dual numbers.

    Returns ``(output leaves, their tangents, the output structure, aux)``; an
    output that does not depend on the inputs gets a zero tangent.
    """
    trace = ForwardTrace(batch)
    try:
        duals = [Dual(p, t, trace) for p, t in zip(primals, tangents)]
        out, aux = split_aux(fun(duals), has_aux, who)
        aux = strip(aux, trace)
    finally:
        trace.active = False
    out_leaves, out_tree = tree_flatten(out)
    primals_out, tangents_out = [], []
    for o in out_leaves:
        if isinstance(o, Dual) and o._trace is trace:
            primals_out.append(o.primal)
            tangents_out.append(o.tangent)
        else:  # the output does not depend on the inputs
            primals_out.append(o)
            tangents_out.append(zeros_with_batch(batch, o))
    check_output(primals_out, who)
    return primals_out, tangents_out, out_tree, aux
