"""Recording a program: the tape (Wengert list) shared by reverse mode and the
explicit mode.

While a recording trace is active, every primitive applied to one of its
:class:`Node` values appends a :class:`TapeEntry` to the trace's tape.
Execution order is already a topological order, so interpreters that consume
the tape (the backward sweep of ``reverse.py``, the linearisation of
``explicit/``) need no sort and no recursion. Nodes are integers (*slots*);
values computed from no traced input are not recorded at all.

:class:`RecordingTrace` is the common base: it owns the tape and the slot
counter and makes the output nodes. Each subclass decides in ``process``
which arguments become parents and what an entry keeps (reverse mode: the
VJP rules, and only the values they read; the explicit mode: the JVP rules).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ._outputs import check_output, split_aux, strip
from .core import HasShape, Primitive, Trace, Tracer, dtype_of, shape_of
from .numpy.array_interface import TracerArrayMethods
from .tree import TreeDef, tree_flatten


class TapeEntry(NamedTuple):
    """One recorded primitive application ``ans = prim(*primals, **kwargs)``.

    * ``prim``: the primitive;
    * ``parents``: a triple ``(argnum, rule, slot)`` per traced argument with
      a rule: its position, the rule the interpreter will apply for it (a VJP
      rule in reverse mode, a JVP rule in the explicit mode), its value's slot;
    * ``primals``: the positional arguments, unwrapped (values no rule reads
      may be replaced by a :class:`ShapeOnly`);
    * ``kwargs``: the static keyword arguments;
    * ``ans``: the result (a tuple for multiple-result primitives; possibly a
      :class:`ShapeOnly`);
    * ``out``: the slot of the result (a tuple of slots for multiple results).
    """

    prim: Primitive
    parents: tuple[tuple[int, Callable, int], ...]
    primals: tuple
    kwargs: dict
    ans: Any
    out: Any


#: Builds a TapeEntry from a tuple of its fields without the
#: Python-level ``__new__`` frame NamedTuple adds: recording runs once per op.
new_record = tuple.__new__

#: Makes a Node (or Dual) without running ``__init__``: the recording fast
#: paths set its three slots themselves, one Python frame fewer per op.
new_object = object.__new__


class RecordingTrace(Trace):
    """A transformation that records a tape: the tape, the slot counter, the nodes."""

    __slots__ = ("tape", "n_slots")

    def __init__(self) -> None:
        super().__init__()
        self.tape: list[TapeEntry] = []
        self.n_slots = 0

    def new_node(self, value: Any) -> Node:
        node = Node(value, self, self.n_slots)
        self.n_slots += 1
        return node

    def output_nodes(self, prim: Primitive, ans: Any) -> tuple[Any, Any]:
        """The node(s) for a primitive's result and their slot(s)."""
        if prim.multiple_results:
            nodes = tuple(self.new_node(a) for a in ans)
            return nodes, tuple(n.slot for n in nodes)
        node = self.new_node(ans)
        return node, node.slot


class Node(TracerArrayMethods, Tracer):
    """A value recorded on a tape: its primal and its slot number."""

    __slots__ = ("slot",)

    def __init__(self, value: Any, trace: RecordingTrace, slot: int) -> None:
        self.primal = value
        self.slot = slot
        self._trace = trace

    def __repr__(self) -> str:
        return f"Node(primal={self.primal!r}, slot={self.slot})"


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

_shape_only_cache: dict[tuple, ShapeOnly] = {}
_alone_cache: dict[int, tuple] = {}


def shape_only(value: np.ndarray) -> ShapeOnly:
    """The :class:`ShapeOnly` of an array: one shared, immutable object per
    (shape, dtype), so a tape of many same-shaped steps stores none of them
    twice (they would cost ~100 bytes an entry)."""
    key = (value.shape, value.dtype)
    kept = _shape_only_cache.get(key)
    if kept is None:
        if len(_shape_only_cache) > 4096:  # programs with ever-new shapes: do not grow without bound
            _shape_only_cache.clear()
            _alone_cache.clear()
        kept = _shape_only_cache[key] = ShapeOnly(value)
    return kept


def shape_only_alone(value: np.ndarray) -> tuple:
    """``(shape_only(value),)``, itself shared: the arguments of a one-argument
    op whose rule reads only its input's shape (48 bytes an entry saved)."""
    kept = shape_only(value)
    alone = _alone_cache.get(id(kept))
    if alone is None or alone[0] is not kept:
        alone = _alone_cache[id(kept)] = (kept,)
    return alone


class Recording(NamedTuple):
    """What :func:`record` returns."""

    in_slots: list[int]  # the slot of each input leaf
    out_primals: list  # the plain output leaves
    out_tree: TreeDef  # their structure
    out_slots: list[int | None]  # the slot of each output leaf (None: it does not depend on the inputs)
    aux: Any


def record(fun: Callable[[list], Any], primals: list, has_aux: bool, who: str, trace: RecordingTrace) -> Recording:
    """Run ``fun`` (a function of a list of leaves) on nodes of ``trace``, recording its tape."""
    try:
        nodes = [trace.new_node(p) for p in primals]
        out, aux = split_aux(fun(nodes), has_aux, who)
        aux = strip(aux, trace)
    finally:
        trace.active = False
    out_leaves, out_tree = tree_flatten(out)
    primals_out: list = []
    out_slots: list[int | None] = []
    for o in out_leaves:
        if isinstance(o, Node) and o._trace is trace:
            primals_out.append(o.primal)
            out_slots.append(o.slot)
        else:  # the output does not depend on the inputs
            primals_out.append(o)
            out_slots.append(None)
    check_output(primals_out, who)
    return Recording([n.slot for n in nodes], primals_out, out_tree, out_slots, aux)


def droppable(value: Any) -> bool:
    """Is ``value`` an array worth replacing by a :class:`ShapeOnly` on the tape?"""
    return type(value) is np.ndarray and value.nbytes >= SHAPE_ONLY_MIN_BYTES
