"""Second order, built on the first-order transformations: :func:`hessian`
(the Jacobian of the gradient) and :func:`hvp` (a Hessian-vector product
without forming H), each with a choice of (outer, inner) modes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import numpy as dnp
from ._arguments import Args, check_directions, check_mode
from ._outputs import finish
from .api import Argnums, grad, jacobian, jvp
from .replay import as_function, replay_forward, replayer_of
from .sparse import pick_colouring, sparse_hessian
from .tree import tree_flatten, tree_unflatten

__all__ = ["hessian", "hvp"]


def _nested_modes(mode: Any, who: str) -> tuple[str, str]:
    if mode == "auto":
        return "forward", "reverse"
    if isinstance(mode, str):
        check_mode(mode, who)
        return mode, mode
    if isinstance(mode, (tuple, list)) and len(mode) == 2:
        outer, inner = mode
        check_mode(outer, who)
        check_mode(inner, who)
        return ("forward" if outer == "auto" else outer), ("reverse" if inner == "auto" else inner)
    raise ValueError(f"{who}: mode must be a mode name or an (outer, inner) pair, got {mode!r}")


def hessian(
    fun: Callable,
    argnums: Argnums = 0,
    mode: Any = ("forward", "reverse"),
    *,
    sparse: bool = False,
    sparsity: Any = None,
    colouring: Any = None,
    coloring: Any = None,
    return_cost: bool = False,
) -> Callable:
    """The Hessian of a scalar function: shape ``x.shape + x.shape``.

    Computed as the Jacobian of the gradient. ``mode`` is an ``(outer, inner)``
    pair: the default ``("forward", "reverse")`` is forward-over-reverse (one
    reverse sweep differentiated by a batch of JVPs: the cheapest choice); any
    pair of modes works, or a single mode name for both.

    ``sparse=True`` (implied by ``sparsity=``/``colouring=``): a CSR matrix by
    forward-over-reverse with a star colouring, see :mod:`dualrev.sparse`
    (``return_cost=True``: ``(H, SparseCost)``, sparse path only).
    """
    colour = pick_colouring(colouring, coloring, "hessian")
    if sparse or sparsity is not None or colour is not None:
        return sparse_hessian(fun, argnums, mode, return_cost, sparsity, colour)
    outer, inner = _nested_modes(mode, "hessian")
    return jacobian(grad(fun, argnums, mode=inner), argnums, mode=outer)


def hvp(
    fun: Callable, primals: Sequence, tangents: Sequence, mode: Any = ("forward", "reverse"), *, replay: bool = False
) -> tuple:
    """Hessian-vector product ``H v`` of a scalar function, without forming H.

    ``primals`` and ``tangents`` are tuples (one entry per argument, checked in
    every mode pair as :func:`jvp` checks them: as many tangents as primals, of
    the same structure and shapes, a real dtype); the result is a tuple with
    one entry per primal. The default forward-over-reverse
    pushes one tangent through the gradient computation (cost ≈ a few
    gradients); ``("reverse", "forward")`` and the others give the same numbers.
    ``replay=True``: the program of the gradient computation (the inner
    mode's sweep included) is recorded once per signature and pushed forward
    by the compiled forward mode (forward outer mode); other mode pairs
    differentiate ``fun``'s recorded program instead of its Python.
    """
    outer, inner = _nested_modes(mode, "hvp")
    spec, t_leaves, _ = check_directions(primals, tangents, False, "hvp")
    argnums = tuple(range(len(primals)))
    if replay and outer == "forward":
        program = replayer_of(fun, f"hvp/{inner}").program(spec, {}, False, grad(fun, argnums, mode=inner))
        if program is not None:
            out, dots, out_tree, _ = replay_forward(program, spec.leaves, t_leaves, ())
            return tuple(tree_unflatten(out_tree, [finish(d) for d in dots]))
    elif replay:
        program = replayer_of(fun, "hvp").program(spec, {}, False, fun)
        if program is not None:
            fun = _program_of_args(program, spec)
    gradient = grad(fun, argnums, mode=inner)
    if outer == "forward":
        return tuple(jvp(gradient, tuple(primals), tuple(tangents))[1])

    def directional(*args: Any) -> Any:
        g = gradient(*args)
        total: Any = 0.0
        for gl, vl in zip(tree_flatten(g)[0], t_leaves):
            total = total + dnp.sum(gl * vl)
        return total

    return grad(directional, argnums, mode=outer)(*primals)


def _program_of_args(program: Any, spec: Args) -> Callable:
    """A recorded program as a function of the positional arguments it was
    recorded for (the same structure), for the transformations that call ``f(*args)``."""
    run = as_function(program)

    def replayed(*args: Any) -> Any:
        return run(Args(args, spec.nums, "hvp").leaves)

    return replayed
