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
    shape_of,
    size_of,
    zeros_with_batch,
)

__all__ = [
    "HasShape",
    "STRUCTURES",
    "Primitive",
    "NeverDifferentiated",
    "Tracer",
    "Trace",
    "primitive",
    "defjvp",
    "defvjp",
    "deflinear",
    "defjvp_argnum",
    "defvjp_argnum",
    "is_traced",
    "concrete",
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
STRUCTURES = ("dense", "diagonal", "gather", "segment")


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
      input entry) or ``"segment"`` (linear, every input entry is added to at
      most one output). The registry-wide tests check every declaration.

    * ``trusted``: the rules' results are not checked (the built-in
      primitives, which the registry-wide tests check). For the others the
      interpreters check every rule result's shape and dtype (``check_tangent``).

    Metadata for the registry-wide tests: ``test_inputs`` (``rng ->
    list[Sample]``) and ``test_order`` (how often the rules differentiate).
    """

    __slots__ = (
        "impl", "name", "jvp_rules", "vjp_rules", "jvp_rule_any", "vjp_rule_any", "jvp_batched", "vjp_batched",
        "multiple_results", "vjp_reads", "structure", "trusted", "test_inputs", "test_order",
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
        self.vjp_batched = True
        self.multiple_results = multiple_results
        self.vjp_reads = vjp_reads
        self.structure = structure
        self.trusted = False
        self.test_inputs: Callable | None = None
        self.test_order = 2
        self.__doc__ = getattr(impl, "__doc__", None)
        self.__wrapped__ = impl

    # The single dispatch point: every differentiable operation passes here.
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
        return trace.process(self, args, kwargs)

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


def _bind_argnum(rule: Callable, argnum: int) -> Callable:
    def bound(ct, ans, *args, **kwargs):
        return rule(argnum, ct, ans, *args, **kwargs)

    return bound


def primitive(
    fn: Callable | None = None,
    *,
    name: str | None = None,
    multiple_results: bool = False,
    vjp_reads: tuple[str, ...] | None = None,
    structure: str = "dense",
) -> Any:
    """Make ``fn`` a dualrev primitive (usable as a decorator).

    Register its derivative rules with :func:`defjvp` and :func:`defvjp`; it
    then works in every mode and at any nesting depth::

        @dr.primitive
        def cube(x):
            return x ** 3
        dr.defjvp(cube, lambda t, ans, x: 3 * x ** 2 * t)
        dr.defvjp(cube, lambda g, ans, x: 3 * x ** 2 * g)

    ``vjp_reads`` (optional) declares which values the VJP rules read — a
    subset of ``("ans", "args")`` — so that reverse mode keeps only those;
    ``structure`` how the explicit mode stores its local Jacobians
    (:class:`Primitive`; ``"dense"`` unless declared).
    """

    def make(f: Callable) -> Primitive:
        return Primitive(f, name=name, multiple_results=multiple_results, vjp_reads=vjp_reads, structure=structure)

    return make(fn) if fn is not None else make


def _check_prim(prim: Any, who: str) -> Primitive:
    """``prim`` itself, or the primitive behind a dualrev.numpy entry point
    (``dnp.sin.primitive``); anything else is a TypeError."""
    prim = getattr(prim, "primitive", prim)
    if not isinstance(prim, Primitive):
        raise TypeError(f"{who}: expected a dualrev Primitive (made with dr.primitive), got {type(prim).__name__}")
    return prim


def defjvp(prim: Primitive, *rules: Callable | None, batched: bool = True) -> None:
    """Register the JVP rules of ``prim``, one per positional argument.

    Each rule is ``rule(tangent, ans, *args, **kwargs) -> output tangent``
    where ``tangent`` has shape ``batch + args[i].shape`` and the result must
    have exactly shape ``batch + ans.shape`` (no implicit broadcasting: with a
    batch of directions it would be ambiguous; an argument broadcast by the
    op needs ``dnp.broadcast_to(t, t.shape[:t.ndim - x.ndim] + ans.shape)``)
    and a float dtype at least as wide as ``ans``'s; the interpreters check
    this and raise ``ValueError`` naming the primitive, the argument and the
    mode. ``None`` marks an argument never differentiated: booleans and
    integers (masks, indices) pass, a traced float there raises.
    ``batched=False`` says the rules cannot take a batch axis; the interpreter
    then applies them one direction at a time.
    """
    prim = _check_prim(prim, "defjvp")
    for argnum, rule in enumerate(rules):
        prim.jvp_rules[argnum] = rule
    prim.jvp_batched = batched


def defvjp(prim: Primitive, *rules: Callable | None, batched: bool = True) -> None:
    """Register the VJP rules of ``prim``, one per positional argument.

    Each rule is ``rule(cotangent, ans, *args, **kwargs) -> argument cotangent``
    where ``cotangent`` has shape ``batch + ans.shape`` and the result must have
    shape ``batch + args[i].shape`` (sum over broadcast axes: see
    ``dualrev.numpy.unbroadcast``) and a float dtype at least as wide as
    ``args[i]``'s (checked, as for :func:`defjvp`). ``None`` marks an argument
    never differentiated (booleans and integers only).
    """
    prim = _check_prim(prim, "defvjp")
    for argnum, rule in enumerate(rules):
        prim.vjp_rules[argnum] = rule
    prim.vjp_batched = batched


def defjvp_argnum(prim: Primitive, rule: Callable) -> None:
    """JVP rule for variadic primitives: ``rule(argnum, tangent, ans, *args, **kwargs)``."""
    prim = _check_prim(prim, "defjvp_argnum")
    prim.jvp_rule_any = rule


def defvjp_argnum(prim: Primitive, rule: Callable) -> None:
    """VJP rule for variadic primitives: ``rule(argnum, cotangent, ans, *args, **kwargs)``."""
    prim = _check_prim(prim, "defvjp_argnum")
    prim.vjp_rule_any = rule


def deflinear(prim: Primitive, *transposes: Callable | None) -> None:
    """Register both rules of a linear op from its transpose alone.

    For a linear map ``f`` the JVP is ``f`` itself applied to the tangent, so
    only the *transpose* (the VJP) is written: ``transpose(cotangent, ans,
    *args, **kwargs)``. This holds for unary linear maps (sum, reshape,
    indexing, ...) and each argument of a multilinear map, not for affine ops
    such as ``add``. The implementation must act on trailing axes so that
    leading batch axes of the tangent pass through.
    """
    prim = _check_prim(prim, "deflinear")
    # The transpose of a map that is linear in its one argument needs that
    # argument's shape only, never its values; a multilinear map's transpose
    # reads the other arguments.
    prim.vjp_reads = () if len(transposes) == 1 else ("args",)
    for argnum, transpose in enumerate(transposes):
        if transpose is None:
            prim.jvp_rules[argnum] = None
            prim.vjp_rules[argnum] = None
            continue
        prim.jvp_rules[argnum] = _linear_jvp(prim, argnum)
        prim.vjp_rules[argnum] = transpose


def _linear_jvp(prim: Primitive, argnum: int) -> Callable:
    def jvp(tangent: Any, ans: Any, *args: Any, **kwargs: Any) -> Any:
        operands = list(args)
        operands[argnum] = tangent
        return prim(*operands, **kwargs)

    return jvp
