"""Declaring primitives and their rules: :func:`primitive`, :func:`defjvp`,
:func:`defvjp`, :func:`deflinear` and the variadic ``*_argnum`` forms.

The public way to extend dualrev (``dr.primitive``, ``dr.defjvp``, ...) and
the one ``dualrev.numpy`` uses for its built-in primitives. What a rule is
and the conventions every rule follows are described in ``dualrev.core``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .core import Primitive

__all__ = ["primitive", "defjvp", "defvjp", "deflinear", "defjvp_argnum", "defvjp_argnum"]


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
