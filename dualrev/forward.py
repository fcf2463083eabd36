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

from typing import Any

import numpy as np

from .core import Primitive, Trace, Tracer, dtype_of, shape_of


class ForwardTrace(Trace):
    """One forward-mode transformation. ``batch`` is the shape of the leading
    direction axes every tangent of this trace carries (``()`` or ``(k,)``)."""

    __slots__ = ("batch",)

    def __init__(self, batch: tuple = ()) -> None:
        super().__init__()
        self.batch = tuple(batch)

    def process(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        primals = list(args)
        tangents: list = []
        enclosing = False  # is some argument a tracer of an enclosing (lower) trace?
        for i, arg in enumerate(args):
            if isinstance(arg, Tracer):
                if arg._trace is not self:
                    enclosing = True
                    continue
                primal = primals[i] = arg.primal_value
                tangents.append((i, arg.tangent))
                if isinstance(primal, Tracer):
                    enclosing = True
        # Re-dispatch only when enclosing traces must see the call; otherwise
        # run the NumPy implementation directly.
        ans = prim(*primals, **kwargs) if enclosing else prim.impl(*primals, **kwargs)

        if prim.multiple_results or (self.batch and not prim.jvp_batched):
            return self._process_general(prim, tangents, ans, primals, kwargs)
        rules = prim.jvp_rules
        out_tangent = None
        for i, tangent in tangents:
            rule = rules.get(i) or prim.jvp_rule(i)  # the method raises if the rule is missing
            if rule is None:  # declared non-differentiable
                continue
            contrib = rule(tangent, ans, *primals, **kwargs)
            if contrib is not None:
                out_tangent = contrib if out_tangent is None else out_tangent + contrib
        if out_tangent is None:
            out_tangent = _zeros(self.batch, ans)
        return Dual(ans, out_tangent, self)

    def _process_general(self, prim, tangents, ans, primals, kwargs):
        """Multiple results, or rules that take one direction at a time."""
        if prim.multiple_results:
            out = [None] * len(ans)
            for i, tangent in tangents:
                contrib = _apply_jvp(prim, i, tangent, ans, primals, kwargs, self.batch)
                if contrib is None:
                    continue
                for j, c in enumerate(contrib):
                    if c is not None:
                        out[j] = c if out[j] is None else out[j] + c
            return tuple(
                Dual(a, t if t is not None else _zeros(self.batch, a), self) for a, t in zip(ans, out)
            )

        out_tangent = None
        for i, tangent in tangents:
            contrib = _apply_jvp(prim, i, tangent, ans, primals, kwargs, self.batch)
            if contrib is not None:
                out_tangent = contrib if out_tangent is None else out_tangent + contrib
        if out_tangent is None:
            out_tangent = _zeros(self.batch, ans)
        return Dual(ans, out_tangent, self)


def _apply_jvp(prim, argnum, tangent, ans, primals, kwargs, batch):
    rule = prim.jvp_rule(argnum)
    if rule is None:  # declared non-differentiable
        return None
    if prim.jvp_batched or not batch:
        return rule(tangent, ans, *primals, **kwargs)
    # The rule takes one direction at a time: loop over the batch axis.
    from . import numpy as dnp

    results = [rule(tangent[k], ans, *primals, **kwargs) for k in range(batch[0])]
    if prim.multiple_results:
        return tuple(dnp.stack(list(parts)) for parts in zip(*results))
    return dnp.stack(results)


def _zeros(batch: tuple, like: Any) -> np.ndarray:
    return np.zeros(batch + shape_of(like), dtype=dtype_of(like))


class Dual(Tracer):
    """A dual number ``(primal, tangent)`` of one forward trace."""

    __slots__ = ("primal_value", "tangent")

    def __init__(self, primal: Any, tangent: Any, trace: ForwardTrace) -> None:
        self.primal_value = primal
        self.tangent = tangent
        self._trace = trace

    @property
    def primal(self) -> Any:
        return self.primal_value

    @property
    def shape(self) -> tuple:  # read often by rules: one property, not a chain
        return shape_of(self.primal_value)

    def __repr__(self) -> str:
        return f"Dual(primal={self.primal_value!r}, tangent={self.tangent!r})"
