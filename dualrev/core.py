"""The registry: primitives, their derivative rules, levels, and the one dispatch point.

A *primitive* is a NumPy function that dualrev treats as atomic. For each
argument it may be given

* a **JVP rule** ``(tangent, ans, *args, **kwargs) -> output tangent``: the
  local Jacobian applied to an input direction (forward accumulation), and
* a **VJP rule** ``(cotangent, ans, *args, **kwargs) -> argument cotangent``:
  the transposed local Jacobian applied to an output direction (reverse
  accumulation, i.e. backprop).

Nothing else in dualrev knows how to differentiate an op. The three
interpreters (``forward.py``, ``reverse.py``, ``explicit/``) only read these
rules; ``dualrev.numpy`` declares the built-in primitives.

Levels
------
Every transformation (a ``jvp``, a ``vjp``, ...) opens a new *trace* with a
level higher than every trace opened before it. A traced value (a
:class:`Tracer`) belongs to exactly one trace. When a primitive is applied,
:meth:`Primitive.__call__` finds the argument with the highest level and lets
that trace interpret the call; tracers of lower levels are ordinary constants
for it (they are handled when the primitive is re-applied to the unwrapped
values). This is what makes nested derivatives correct: the inner derivative in
``d/dx [x * d/dy (x + y)]`` never sees the outer perturbation of ``x``.

Conventions every rule follows
------------------------------
* A tangent or cotangent has shape ``batch + value.shape`` where ``batch`` is
  zero or more leading axes (a batch of directions). Rules use trailing axes
  only, so one rule serves single and batched directions.
* Rules are written with ``dualrev.numpy`` (or operators on the arguments), so
  applying a rule to traced values is itself traced: higher derivatives need
  no extra code.
* A rule may return ``None`` for "this contribution is zero".
* The rules of user primitives are checked where they are applied (shape
  ``batch + value.shape``, a float dtype); built-in ones are ``trusted``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._tracing import (
    NO_KWARGS,
    HasShape,
    NeverDifferentiated,
    Trace,
    Tracer,
    check_answer,
    check_cotangent,
    check_tangent,
    concrete,
    dtype_of,
    finished_trace_message,
    float_dtype,
    is_traced,
    nondiff,
    shape_of,
    shape_only_value,
    size_of,
    zeros_with_batch,
)

__all__ = [
    "NO_KWARGS",
    "HasShape",
    "STRUCTURES",
    "Primitive",
    "NeverDifferentiated",
    "Tracer",
    "Trace",
    "unary_entry",
    "binary_entry",
    "unary_operator",
    "binary_operator",
    "is_traced",
    "concrete",
    "nondiff",
    "shape_only_value",
    "size_of",
    "float_dtype",
    "zeros_with_batch",
    "shape_of",
    "dtype_of",
    "check_tangent",
    "check_cotangent",
    "check_answer",
]

# --------------------------------------------------------------------------
# Primitives
# --------------------------------------------------------------------------

#: The structure kinds a primitive's local Jacobians may declare.
STRUCTURES = ("dense", "diagonal", "gather", "segment", "kron", "batched")


class Primitive:
    """An atomic differentiable operation: an implementation plus JVP/VJP rules.

    ``Primitive(fn)`` wraps ``fn``. Positional arguments may be traced; keyword
    arguments are static parameters (axes, shapes, ...) passed unchanged to the
    implementation and to every rule.

    Attributes read by the interpreters:

    * ``jvp_rules[i]`` / ``vjp_rules[i]``: rule for positional argument ``i``;
      ``None`` marks it never differentiated: boolean and integer values
      (masks, indices) pass, a traced float value there is an error
      (:class:`NeverDifferentiated`).
    * ``jvp_rule_any`` / ``vjp_rule_any``: ``rule(argnum, ct, ans, *args, **kw)``
      for variadic primitives such as ``concatenate``.
    * ``jvp_batched`` / ``vjp_batched``: False when the rule cannot take a
      leading batch axis; the interpreter then loops over the batch.
    * ``multiple_results``: the implementation returns a tuple; JVP rules then
      return a tuple of tangents and VJP rules receive a tuple of cotangents.
    * ``vjp_reads``: which values the VJP rules read, a subset of
      ``("ans", "args")``; ``None`` (the default) means both. Reverse mode
      keeps only those on its tape (the others by shape and dtype alone), so
      e.g. ``tanh`` (whose rule reads ``ans``) does not also keep its input.
      The registry-wide tests check every declaration.
    * ``structure``: how the explicit mode keeps its local Jacobians (one of
      :data:`STRUCTURES`): ``"dense"`` (the default, always correct),
      ``"diagonal"`` (elementwise: output i depends on the broadcast input at
      i only), ``"gather"`` (linear, every output is a copy of at most one
      input entry), ``"segment"`` (linear, every input entry is added to at
      most one output) or ``"kron"`` (a matrix product of its two arguments,
      in ``np.matmul``'s convention for 1-D and 2-D operands: ∂(A B)/∂B =
      A ⊗ I and ∂(A B)/∂A = I ⊗ Bᵀ, so where the identity factor has size 1
      — a vector operand — the local Jacobian *is* the other operand) or
      ``"batched"`` (a matrix function applied to each matrix of a stack, the
      last two axes, alone: the Jacobian is block diagonal over the leading
      axes). The registry-wide tests check every declaration.

    * ``trusted``: the rules' results are not checked (the built-in
      primitives, which the registry-wide tests check). For the others the
      interpreters check every rule result's shape and dtype (``check_tangent``).

    Metadata for the registry-wide tests: ``test_inputs`` (``rng ->
    list[Sample]``) and ``test_order`` (how often the rules differentiate).
    """

    __slots__ = (
        "impl", "name", "jvp_rules", "vjp_rules", "jvp_rule_any", "vjp_rule_any", "jvp_batched", "vjp_batched",
        "multiple_results", "_vjp_reads", "drop_args", "drop_ans", "structure", "trusted", "general_vjp",
        "test_inputs", "test_order",
        "__dict__",  # __doc__ and __wrapped__, so that help() and inspect see the implementation
    )  # fmt: skip

    def __init__(
        self,
        impl: Callable,
        name: str | None = None,
        multiple_results: bool = False,
        vjp_reads: tuple[str, ...] | None = None,
        structure: str = "dense",
    ) -> None:
        if structure not in STRUCTURES:
            raise ValueError(f"primitive: unknown structure {structure!r}; choose one of {', '.join(STRUCTURES)}")
        self.impl = impl
        self.name = name or getattr(impl, "__name__", repr(impl))
        self.jvp_rules: dict[int, Callable | None] = {}
        self.vjp_rules: dict[int, Callable | None] = {}
        self.jvp_rule_any: Callable | None = None
        self.vjp_rule_any: Callable | None = None
        self.jvp_batched = True
        self.general_vjp = True  # set again by the next three (see __setattr__)
        self.multiple_results = multiple_results
        self.trusted = False
        self.vjp_batched = True
        self.vjp_reads = vjp_reads
        self.structure = structure
        self.test_inputs: Callable | None = None
        self.test_order = 2
        self.__doc__ = getattr(impl, "__doc__", None)
        self.__wrapped__ = impl

    # ``general_vjp``: the backward sweep must take its general path for this
    # primitive (multiple results, rules without a batch axis, results to
    # check). Kept up to date on every assignment of the attributes it
    # depends on, so the sweep reads one plain attribute per entry (and
    # ``trusted``, read on every forward op, stays a plain attribute too).
    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in ("trusted", "vjp_batched", "multiple_results"):
            general = (
                getattr(self, "multiple_results", False)
                or not getattr(self, "vjp_batched", True)
                or not getattr(self, "trusted", False)
            )
            object.__setattr__(self, "general_vjp", general)

    @property
    def vjp_reads(self) -> tuple[str, ...] | None:
        return self._vjp_reads

    @vjp_reads.setter
    def vjp_reads(self, reads: tuple[str, ...] | None) -> None:
        # What reverse mode may keep by shape alone, decided once here rather
        # than on every recorded op.
        self._vjp_reads = reads
        self.drop_args = reads is not None and "args" not in reads
        self.drop_ans = reads is not None and "ans" not in reads

    # The single dispatch point: every differentiable operation passes here
    # (``bind1``/``bind2`` are the same rule for calls of one or two positional
    # arguments and no keywords, the elementwise ops and operators, without
    # the ``*args``/``**kwargs`` packing).
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Fast path: no traced argument (dualrev.numpy on plain arrays, and the
        # rules' own arithmetic during a sweep) goes straight to NumPy. This
        # loop is all the overhead a plain call pays, so it does nothing else.
        for arg in args:
            if isinstance(arg, Tracer):
                break
        else:
            return self.impl(*args, **kwargs)
        # Traced: the trace with the highest level interprets the call.
        trace = arg._trace
        for arg in args:
            if isinstance(arg, Tracer) and arg._trace.level > trace.level:
                trace = arg._trace
        if not trace.active:
            raise RuntimeError(finished_trace_message(self.name, args))
        return trace.process(self, args, kwargs or NO_KWARGS)

    def bind1(self, x: Any) -> Any:
        """``self(x)``: the dispatch rule for one positional argument."""
        if isinstance(x, Tracer):
            trace = x._trace
            if trace.active:
                return trace.process1(self, x)
            raise RuntimeError(finished_trace_message(self.name, (x,)))
        return self.impl(x)

    def bind2(self, x: Any, y: Any) -> Any:
        """``self(x, y)``: the dispatch rule for two positional arguments."""
        if isinstance(x, Tracer):
            trace = x._trace
            if isinstance(y, Tracer) and y._trace.level > trace.level:
                trace = y._trace
        elif isinstance(y, Tracer):
            trace = y._trace
        else:
            return self.impl(x, y)
        if trace.active:
            return trace.process2(self, x, y)
        raise RuntimeError(finished_trace_message(self.name, (x, y)))

    # Rule lookup, with errors that name the op and the mode. An argument
    # registered with None gets a NeverDifferentiated rule.
    def jvp_rule(self, argnum: int) -> Callable:
        return self._rule(self.jvp_rules, self.jvp_rule_any, argnum, "JVP", "forward", "defjvp")

    def vjp_rule(self, argnum: int) -> Callable:
        return self._rule(self.vjp_rules, self.vjp_rule_any, argnum, "VJP", "reverse", "defvjp")

    def _rule(self, rules: dict, any_rule: Callable | None, argnum: int, kind: str, mode: str, how: str) -> Any:
        if argnum in rules:
            rule = rules[argnum]
            return rule if rule is not None else NeverDifferentiated(self, argnum, kind, mode)
        if any_rule is not None:
            return _bind_argnum(any_rule, argnum)
        raise NotImplementedError(
            f"dualrev: primitive '{self.name}' has no {kind} rule for argument {argnum}, so it "
            f"cannot be differentiated in {mode} mode. Register one with "
            f"dr.{how}({self.name}, ...)."
        )

    def __repr__(self) -> str:
        return f"<dualrev primitive {self.name}>"


# The same dispatch rule as ``bind1``/``bind2``, written into the callables
# that run on every elementwise op: the entry points of one- and
# two-argument primitives (``dnp.sin``, ``dnp.add``) and the operators of
# traced values (``x + y``). Inlined here, next to the rule, so that an op
# costs one Python frame before the interpreter's ``process1``/``process2``.
def unary_entry(prim: Primitive) -> Callable:
    """``prim``'s public function of one positional argument: NumPy on a plain
    value, the interpreter of its trace on a tracer, ``prim(x, **kw)`` with keywords."""
    impl, name = prim.impl, prim.name

    def entry(x: Any, /, **kwargs: Any) -> Any:
        if kwargs:
            return prim(x, **kwargs)
        if isinstance(x, Tracer):
            trace = x._trace
            if trace.active:
                return trace.process1(prim, x)
            raise RuntimeError(finished_trace_message(name, (x,)))
        return impl(x)

    return entry


def binary_entry(prim: Primitive) -> Callable:
    """``prim``'s public function of two positional arguments (see :func:`unary_entry`)."""
    impl, name = prim.impl, prim.name

    def entry(x: Any, y: Any, /, **kwargs: Any) -> Any:
        if kwargs:
            return prim(x, y, **kwargs)
        if isinstance(x, Tracer):
            trace = x._trace
            if isinstance(y, Tracer) and y._trace.level > trace.level:
                trace = y._trace
        elif isinstance(y, Tracer):
            trace = y._trace
        else:
            return impl(x, y)
        if trace.active:
            return trace.process2(prim, x, y)
        raise RuntimeError(finished_trace_message(name, (x, y)))

    return entry


def unary_operator(prim: Primitive) -> Callable:
    """The method ``-x`` / ``abs(x)`` of a tracer: ``prim(self)``."""
    name = prim.name

    def operator(self: Any) -> Any:
        trace = self._trace
        if trace.active:
            return trace.process1(prim, self)
        raise RuntimeError(finished_trace_message(name, (self,)))

    return operator


def binary_operator(prim: Primitive, reflected: bool = False) -> Callable:
    """The method ``x + y`` of a tracer: ``prim(self, other)``; ``reflected``:
    ``y + x`` (``__radd__``), ``prim(other, self)``."""
    name = prim.name

    def operator(self: Any, other: Any) -> Any:
        trace = self._trace
        if isinstance(other, Tracer) and other._trace.level > trace.level:
            trace = other._trace
        if trace.active:
            return trace.process2(prim, other, self) if reflected else trace.process2(prim, self, other)
        raise RuntimeError(finished_trace_message(name, (self, other)))

    return operator


def _bind_argnum(rule: Callable, argnum: int) -> Callable:
    def bound(ct, ans, *args, **kwargs):
        return rule(argnum, ct, ans, *args, **kwargs)

    return bound
