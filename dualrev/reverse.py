"""Reverse accumulation (backprop) on a tape.

During the forward pass every primitive applied to a :class:`Node` is appended
to the trace's *tape* (a Wengert list). Execution order is already a
topological order, so the backward sweep is one loop over the tape in reverse:
for each entry, take the cotangent of its output ``ȳ`` and add
``VJP_i(ȳ) = ȳ · ∂y/∂a_i`` to the cotangent of each traced argument ``a_i``.
No recursion, no sort, no graph objects: nodes are integers (slots) and the
cotangents live in a dict keyed by slot.

The price of reverse mode is memory: each tape entry keeps the primal values
its VJP rules need until the sweep reaches it. The sweep pops entries as it
goes, so intermediates are released as soon as they are used.

Cotangents may carry leading batch axes: ``jacobian(mode="reverse")`` pulls
all output directions through one sweep.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import HasShape, Primitive, Trace, Tracer, dtype_of, shape_of


class ReverseTrace(Trace):
    """One reverse-mode transformation: its tape and a slot counter."""

    __slots__ = ("tape", "n_slots")

    def __init__(self) -> None:
        super().__init__()
        # Entries: (prim, parents, primals, kwargs, ans, out) where parents is a
        # tuple of (vjp_rule, slot) for the traced arguments with a rule, and
        # out is the output slot (a tuple of slots for multiple-result
        # primitives). The rules are looked up once, here, not at every sweep.
        self.tape: list[tuple] = []
        self.n_slots = 0

    def new_node(self, value: Any) -> "Node":
        node = Node(value, self, self.n_slots)
        self.n_slots += 1
        return node

    def process(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        # This runs once per recorded op, so it is written for speed: one
        # isinstance per argument in the common case, and the "keep only what
        # the rules read" bookkeeping (vjp_reads) costs nothing for arrays too
        # small to be worth dropping.
        reads = prim.vjp_reads
        drop_args = reads is not None and "args" not in reads
        primals = list(args)
        parents = []
        droppable = None  # positions of traced arguments the rules never read
        enclosing = False  # is some argument a tracer of an enclosing (lower) trace?
        rules = prim.vjp_rules
        i = 0
        for arg in args:
            if isinstance(arg, Tracer):
                if arg._trace is self:
                    value = primals[i] = arg.value
                    rule = rules.get(i) or prim.vjp_rule(i)  # the method raises if the rule is missing
                    if rule is not None:
                        parents.append((rule, arg.slot))
                    if isinstance(value, Tracer):
                        enclosing = True
                    elif drop_args and type(value) is np.ndarray and value.nbytes >= SHAPE_ONLY_MIN_BYTES:
                        droppable = [i] if droppable is None else droppable + [i]
                else:
                    enclosing = True
            i += 1
        # Re-dispatch only when enclosing traces must see the call; otherwise
        # run the NumPy implementation directly.
        ans = prim(*primals, **kwargs) if enclosing else prim.impl(*primals, **kwargs)
        if prim.multiple_results:
            nodes = tuple(self.new_node(a) for a in ans)
            out = tuple(n.slot for n in nodes)
        else:
            out = self.n_slots
            self.n_slots = out + 1
            nodes = Node(ans, self, out)
        if parents:
            # Keep on the tape only what the VJP rules read (the rest by shape).
            if droppable is not None:
                for i in droppable:
                    primals[i] = ShapeOnly(primals[i])
            if (
                reads is not None
                and "ans" not in reads
                and type(ans) is np.ndarray
                and ans.nbytes >= SHAPE_ONLY_MIN_BYTES
            ):
                ans = ShapeOnly(ans)
            self.tape.append((prim, tuple(parents), tuple(primals), kwargs, ans, out))
        return nodes


class ShapeOnly(HasShape):
    """Stands in on the tape for a value that no VJP rule reads: its shape and
    dtype (which rules may still ask for, e.g. to unbroadcast) without its
    data, so the data can be freed as soon as the program is done with it."""

    __slots__ = ("shape", "dtype")

    def __init__(self, value: Any) -> None:
        self.shape = tuple(shape_of(value))
        self.dtype = dtype_of(value)

    def __repr__(self) -> str:
        return f"ShapeOnly(shape={self.shape}, dtype={self.dtype})"


#: Arrays smaller than this are kept as they are: a stand-in would cost about
#: as much memory as it saves, and time on every recorded op.
SHAPE_ONLY_MIN_BYTES = 256


class Node(Tracer):
    """A value recorded on a reverse trace: its primal and its slot number."""

    __slots__ = ("value", "slot")

    def __init__(self, value: Any, trace: ReverseTrace, slot: int) -> None:
        self.value = value
        self.slot = slot
        self._trace = trace

    @property
    def primal(self) -> Any:
        return self.value

    @property
    def shape(self) -> tuple:  # read often by rules: one property, not a chain
        return shape_of(self.value)

    def __repr__(self) -> str:
        return f"Node(value={self.value!r}, slot={self.slot})"


def backward(tape: list, seeds: dict[int, Any], consume: bool = True) -> dict[int, Any]:
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
        prim, parents, primals, kwargs, ans, out = tape.pop()
        if prim.multiple_results or not prim.vjp_batched:
            _backward_general(prim, parents, primals, kwargs, ans, out, cotangents)
            continue
        ct = pop(out, None)
        if ct is None:  # no path from this value to the outputs: nothing to pull
            continue
        for rule, slot in parents:
            contrib = rule(ct, ans, *primals, **kwargs)
            if contrib is None:
                continue
            prev = get(slot)
            # A new array every time (never ``+=``): ``prev`` may be a seed the
            # user passed in, or an array a rule returned and still shares.
            cotangents[slot] = contrib if prev is None else prev + contrib
    return cotangents


def _backward_general(prim, parents, primals, kwargs, ans, out, cotangents) -> None:
    """One tape entry of a multiple-result primitive or of a rule that cannot
    take a batch axis (the uncommon cases, kept out of the sweep's hot loop)."""
    if prim.multiple_results:
        gs = [cotangents.pop(s, None) for s in out]
        if all(g is None for g in gs):
            return
        batch = _batch_shape(gs, ans)
        ct = tuple(
            g if g is not None else np.zeros(batch + shape_of(a), dtype=dtype_of(a)) for g, a in zip(gs, ans)
        )
    else:
        ct = cotangents.pop(out, None)
        if ct is None:
            return
    for rule, slot in parents:
        contrib = _apply_vjp(prim, rule, ct, ans, primals, kwargs)
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


def _apply_vjp(prim, rule, ct, ans, primals, kwargs):
    if prim.vjp_batched:
        return rule(ct, ans, *primals, **kwargs)
    # The rule takes one direction at a time: loop over a leading batch axis.
    first = ct[0] if prim.multiple_results else ct
    ref = ans[0] if prim.multiple_results else ans
    if np.ndim(first) == np.ndim(ref):
        return rule(ct, ans, *primals, **kwargs)
    from . import numpy as dnp

    k = np.shape(first)[0]
    if prim.multiple_results:
        results = [rule(tuple(c[b] for c in ct), ans, *primals, **kwargs) for b in range(k)]
    else:
        results = [rule(ct[b], ans, *primals, **kwargs) for b in range(k)]
    return dnp.stack(results)
