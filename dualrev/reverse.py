"""Reverse accumulation (backprop): record a tape, sweep it backwards.

During the forward pass every primitive applied to a :class:`~dualrev.tape.Node`
is appended to the trace's tape (``tape.py``). Execution order is already a
topological order, so the backward sweep is one loop over the tape in
reverse: for each entry, take the cotangent of its output ``ȳ`` and add
``VJP_i(ȳ) = ȳ · ∂y/∂a_i`` to the cotangent of each traced argument ``a_i``.
No recursion, no sort, no graph objects: the cotangents live in a dict keyed
by slot.

The price of reverse mode is memory: each tape entry keeps the primal values
its VJP rules need until the sweep reaches it (``Primitive.vjp_reads`` says
which; the others are kept by shape alone). The sweep pops entries as it
goes, so intermediates are released as soon as they are used.

Cotangents may carry leading batch axes: ``jacobian(mode="reverse")`` pulls
all output directions through one sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import numpy as dnp
from ._outputs import cast_like
from .core import NO_KWARGS, NeverDifferentiated, Primitive, Tracer, check_cotangent, shape_of, zeros_with_batch
from .tape import (
    SHAPE_ONLY_MIN_BYTES,
    Node,
    RecordingTrace,
    ShapeOnly,
    TapeEntry,
    new_object,
    new_record,
    record,
    shape_only,
    shape_only_alone,
)
from .tree import TreeDef


class ReverseTrace(RecordingTrace):
    """One reverse-mode transformation: a tape whose parents carry VJP rules."""

    __slots__ = ()

    # process1 and process2 record calls of one or two positional arguments
    # (elementwise ops and operators, most of any program) without a generic
    # loop; anything unusual (an argument of an enclosing trace, a missing or
    # "never differentiated" rule, multiple results) takes ``process``, which
    # handles every case. All three build the same entries.
    def process1(self, prim: Primitive, x: Any) -> Any:
        value = x.primal  # x is a Node of this trace: the only tracer
        rule = prim.vjp_rules.get(0)
        if rule is None or isinstance(value, Tracer) or prim.multiple_results:
            return self.process(prim, (x,), NO_KWARGS)
        ans = kept = prim.impl(value)
        out = self.n_slots
        self.n_slots = out + 1
        if prim.drop_args and type(value) is np.ndarray and value.nbytes >= SHAPE_ONLY_MIN_BYTES:
            primals = shape_only_alone(value)
        else:
            primals = (value,)
        if prim.drop_ans and type(ans) is np.ndarray and ans.nbytes >= SHAPE_ONLY_MIN_BYTES:
            kept = shape_only(ans)
        self.tape.append(new_record(TapeEntry, (prim, ((0, rule, x.slot),), primals, NO_KWARGS, kept, out)))
        node = new_object(Node)
        node.primal = ans
        node.slot = out
        node._trace = self
        return node

    def process2(self, prim: Primitive, x: Any, y: Any) -> Any:
        rules = prim.vjp_rules
        if isinstance(x, Tracer):
            xv = x.primal
            rule = rules.get(0)
            if x._trace is not self or rule is None or isinstance(xv, Tracer):
                return self.process(prim, (x, y), NO_KWARGS)
            parents: tuple = ((0, rule, x.slot),)  # type: ignore[attr-defined]  # a Node of this trace
            if isinstance(y, Tracer):
                yv = y.primal
                rule = rules.get(1)
                if y._trace is not self or rule is None or isinstance(yv, Tracer):
                    return self.process(prim, (x, y), NO_KWARGS)
                parents = (parents[0], (1, rule, y.slot))  # type: ignore[attr-defined]  # a Node of this trace
            else:
                yv = y
        else:  # y is a Node of this trace
            xv, yv = x, y.primal
            rule = rules.get(1)
            if rule is None or isinstance(yv, Tracer):
                return self.process(prim, (x, y), NO_KWARGS)
            parents = ((1, rule, y.slot),)
        if prim.multiple_results:
            return self.process(prim, (x, y), NO_KWARGS)
        ans = kept = prim.impl(xv, yv)
        out = self.n_slots
        self.n_slots = out + 1
        if prim.drop_args:
            if x is not xv and type(xv) is np.ndarray and xv.nbytes >= SHAPE_ONLY_MIN_BYTES:
                xv = shape_only(xv)
            if y is not yv and type(yv) is np.ndarray and yv.nbytes >= SHAPE_ONLY_MIN_BYTES:
                yv = shape_only(yv)
        if prim.drop_ans and type(ans) is np.ndarray and ans.nbytes >= SHAPE_ONLY_MIN_BYTES:
            kept = shape_only(ans)
        self.tape.append(new_record(TapeEntry, (prim, parents, (xv, yv), NO_KWARGS, kept, out)))
        node = new_object(Node)
        node.primal = ans
        node.slot = out
        node._trace = self
        return node

    def process(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        # The general case: any number of arguments, keywords, arguments of
        # enclosing traces, rules registered as None, multiple results.
        drop_args = prim.drop_args
        primals = list(args)
        parents = []
        dropped = None  # positions of traced arguments the rules never read
        enclosing = False  # is some argument a tracer of an enclosing (lower) trace?
        rules = prim.vjp_rules
        i = 0
        for arg in args:
            if isinstance(arg, Tracer):
                if arg._trace is self:
                    value = primals[i] = arg.primal
                    rule = rules.get(i)
                    if rule is None:
                        rule = prim.vjp_rule(i)  # raises if the rule is missing
                        if isinstance(rule, NeverDifferentiated):  # registered as None
                            rule.check(value, "reverse")
                            rule = None
                    if rule is not None:
                        parents.append((i, rule, arg.slot))  # type: ignore[attr-defined]  # a Node of this trace
                    if isinstance(value, Tracer):
                        enclosing = True
                    elif drop_args and type(value) is np.ndarray and value.nbytes >= SHAPE_ONLY_MIN_BYTES:
                        dropped = [i] if dropped is None else dropped + [i]
                else:
                    enclosing = True
            i += 1
        # Re-dispatch only when enclosing traces must see the call; otherwise
        # run the NumPy implementation directly.
        ans = prim(*primals, **kwargs) if enclosing else prim.impl(*primals, **kwargs)
        if prim.multiple_results:
            nodes, out = self.output_nodes(prim, ans)
        else:
            out = self.n_slots
            self.n_slots = out + 1
            nodes = Node(ans, self, out)
        if parents:
            # Keep on the tape only what the VJP rules read (the rest by shape).
            if dropped is not None:
                for i in dropped:
                    primals[i] = shape_only(primals[i])
            if prim.drop_ans and type(ans) is np.ndarray and ans.nbytes >= SHAPE_ONLY_MIN_BYTES:
                ans = shape_only(ans)
            self.tape.append(new_record(TapeEntry, (prim, tuple(parents), tuple(primals), kwargs, ans, out)))
        return nodes


def backward(tape: list[TapeEntry], seeds: dict[int, Any], consume: bool = True) -> dict[int, Any]:
    """The backward sweep: propagate cotangents from ``seeds`` through ``tape``.

    ``seeds`` maps output slots to their cotangents; the result maps every slot
    reached to its accumulated cotangent. With ``consume=True`` the tape is
    emptied as it is swept, freeing each entry's intermediates right after use.
    """
    cotangents = dict(seeds)
    pop, get = cotangents.pop, cotangents.get
    if not consume:  # sweep a shallow copy (the entries are shared, not copied)
        tape = list(tape)
    while tape:
        entry = tape.pop()
        prim, parents, primals, kwargs, ans, out = entry
        if prim.general_vjp:
            _backward_general(entry, cotangents)
            continue
        ct = pop(out, None)
        if ct is None:  # no path from this value to the outputs: nothing to pull
            continue
        for _, rule, slot in parents:
            contrib = rule(ct, ans, *primals, **kwargs) if kwargs else rule(ct, ans, *primals)
            if contrib is None:
                continue
            prev = get(slot)
            # A new array every time (never ``+=``): ``prev`` may be a seed the
            # user passed in, or an array a rule returned and still shares.
            cotangents[slot] = contrib if prev is None else prev + contrib
    return cotangents


def _backward_general(entry: TapeEntry, cotangents: dict[int, Any]) -> None:
    """One tape entry of a multiple-result primitive, of a rule that cannot
    take a batch axis or of an untrusted primitive, whose rule results are
    checked (the uncommon cases, kept out of the sweep's hot loop)."""
    prim, parents, primals, kwargs, ans, out = entry
    if prim.multiple_results:
        gs = [cotangents.pop(s, None) for s in out]
        if all(g is None for g in gs):
            return
        batch = _batch_shape(gs, ans)
        ct: Any = tuple(g if g is not None else zeros_with_batch(batch, a) for g, a in zip(gs, ans))
    else:
        ct = cotangents.pop(out, None)
        if ct is None:
            return
        batch = tuple(shape_of(ct)[: len(shape_of(ct)) - len(shape_of(ans))]) if not prim.trusted else ()
    for argnum, rule, slot in parents:
        contrib = _apply_vjp(prim, rule, ct, ans, primals, kwargs)
        if not prim.trusted:
            contrib = check_cotangent(prim, argnum, "reverse", contrib, batch, primals[argnum])
        if contrib is None:
            continue
        prev = cotangents.get(slot)
        cotangents[slot] = contrib if prev is None else prev + contrib


def _batch_shape(gs: list, ans: tuple) -> tuple:
    """The leading batch axes of a multiple-result cotangent, read off a present entry."""
    for g, a in zip(gs, ans):
        if g is not None:
            return tuple(np.shape(g)[: np.ndim(g) - np.ndim(a)])
    return ()


def _apply_vjp(prim: Primitive, rule: Callable, ct: Any, ans: Any, primals: tuple, kwargs: dict) -> Any:
    if prim.vjp_batched:
        return rule(ct, ans, *primals, **kwargs)
    # The rule takes one direction at a time: loop over a leading batch axis.
    first = ct[0] if prim.multiple_results else ct
    ref = ans[0] if prim.multiple_results else ans
    if np.ndim(first) == np.ndim(ref):
        return rule(ct, ans, *primals, **kwargs)
    k = np.shape(first)[0]
    if prim.multiple_results:
        results = [rule(tuple(c[b] for c in ct), ans, *primals, **kwargs) for b in range(k)]
    else:
        results = [rule(ct[b], ans, *primals, **kwargs) for b in range(k)]
    return dnp.stack(results)


Pullback = Callable[[list, tuple, bool], list]


def reverse_pass(
    fun: Callable[[list], Any], primals: list, has_aux: bool, who: str
) -> tuple[list, TreeDef, Pullback, Any]:
    """Run ``fun`` (a function of a list of leaves) recording a tape.

    Returns ``(output leaves, output structure, pullback, aux)``.
    ``pullback(cotangents, batch, consume)`` sweeps the tape and returns one
    cotangent per input leaf; with ``consume=True`` it may be called once and
    frees the tape as it goes.
    """
    trace = ReverseTrace()
    rec = record(fun, primals, has_aux, who, trace)

    def pullback(cotangents: list, batch: tuple, consume: bool) -> list:
        seeds: dict[int, Any] = {}
        for slot, ct in zip(rec.out_slots, cotangents):
            if slot is None or ct is None:
                continue
            seeds[slot] = seeds[slot] + ct if slot in seeds else ct
        result = backward(trace.tape, seeds, consume=consume)
        return [
            cast_like(result[s], p) if s in result else zeros_with_batch(batch, p)
            for s, p in zip(rec.in_slots, primals)
        ]

    pullback.tape = trace.tape  # type: ignore[attr-defined]  # read by the cost ledger before a sweep
    return rec.out_primals, rec.out_tree, pullback, rec.aux


__all__ = ["ReverseTrace", "backward", "reverse_pass", "Node", "ShapeOnly"]
