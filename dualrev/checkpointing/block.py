"""``checkpoint(f)``: a block whose interior reverse mode does not keep.

The block becomes one multiple-result primitive (``checkpoint_block``) whose
inputs are the leaves of its arguments and the tracers its closure captures
(:class:`~dualrev.checkpointing.closure.Closure`), and whose outputs are the
leaves of its result (then those of ``aux``). Reverse mode keeps one tape
entry holding those inputs; the VJP rule re-runs the block recording a tape
(``reverse_pass``) and sweeps it at once. The JVP rule (forward-over-reverse,
the explicit mode, which treats the block as one dense local Jacobian) runs
it on dual numbers (``forward_pass``). Both rules are written on the values
they are given, so when those are tracers of enclosing transformations the
recomputation is traced by them: nesting works through the levels.
Forward mode alone gains nothing from checkpointing: there the block just runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._outputs import split_aux
from ..core import Primitive, Tracer, shape_of, zeros_with_batch
from ..define import defjvp_argnum, defvjp_argnum
from ..forward import ForwardTrace, forward_pass
from ..tree import TreeDef, tree_flatten, tree_unflatten
from .closure import Closure, as_inputs, check_plain, partial_pullback, top_trace

__all__ = ["checkpoint", "checkpoint_block", "batch_of_cotangent", "VjpCache"]

_NUMERIC = (np.ndarray, np.generic, float, int, bool, complex)


class _Block:
    """One call of a checkpointed function: how to run it on a flat list of leaves."""

    __slots__ = ("fun", "has_aux", "kwargs", "in_tree", "n_args", "closure", "out_tree", "n_out",
                 "aux_tree", "aux_static", "aux_numeric", "cache", "diff", "who")  # fmt: skip

    def __init__(self, fun: Callable, has_aux: bool, kwargs: dict, in_tree: TreeDef, n_args: int,
                 closure: Closure, who: str) -> None:  # fmt: skip
        self.fun, self.has_aux, self.kwargs, self.who = fun, has_aux, kwargs, who
        self.in_tree, self.n_args, self.closure = in_tree, n_args, closure
        self.out_tree: TreeDef | None = None
        self.n_out = 0
        self.aux_tree: TreeDef | None = None
        self.aux_static: list = []
        self.aux_numeric: list[bool] = []
        self.cache = VjpCache()
        self.diff: list[bool] = []  # which inputs were traced when the block was applied

    def call(self, leaves: list) -> tuple[list, list]:
        """``(result leaves, aux leaves)`` of the block on ``leaves``."""
        args = tree_unflatten(self.in_tree, leaves[: self.n_args])
        with self.closure.bound(leaves[self.n_args :]):
            out, aux = split_aux(self.fun(*args, **self.kwargs), self.has_aux, self.who)
        out_leaves, out_tree = tree_flatten(out)
        if self.out_tree is None:
            self.out_tree, self.n_out = out_tree, len(out_leaves)
        elif out_tree != self.out_tree:
            raise ValueError(
                f"{self.who}: the checkpointed function returned {out_tree!r} when re-run, but "
                f"{self.out_tree!r} before; it must be deterministic (the same structure every call)"
            )
        aux_leaves, aux_tree = tree_flatten(aux)
        if self.aux_tree is None:
            self.aux_tree = aux_tree
            self.aux_numeric = [isinstance(a, (*_NUMERIC, Tracer)) for a in aux_leaves]
            self.aux_static = [None if n else a for a, n in zip(aux_leaves, self.aux_numeric)]
        return out_leaves, [a for a, n in zip(aux_leaves, self.aux_numeric) if n]

    def value(self, leaves: list) -> list:
        return self.call(leaves)[0]

    def rebuild(self, outs: Any) -> Any:
        """The user's result (and aux) from the primitive's output leaves."""
        assert self.out_tree is not None and self.aux_tree is not None
        outs = list(outs)
        out = tree_unflatten(self.out_tree, outs[: self.n_out])
        if not self.has_aux:
            return out
        numeric = iter(outs[self.n_out :])
        aux = [next(numeric) if n else s for n, s in zip(self.aux_numeric, self.aux_static)]
        return out, tree_unflatten(self.aux_tree, aux)


class VjpCache:
    """A VJP rule is applied once per traced input with the same cotangent
    tuple; the first application computes them all and keeps them here."""

    __slots__ = ("key", "values")

    def __init__(self) -> None:
        self.key: Any = None
        self.values: list = []

    def get(self, ct: Any, compute: Callable[[], list]) -> list:
        if self.key is not ct:
            self.key, self.values = None, []  # free the previous ones first
            self.values = compute()
            self.key = ct
        return self.values


def batch_of_cotangent(ct: tuple, ans: tuple) -> tuple:
    """The leading batch axes of a multiple-result cotangent."""
    return tuple(shape_of(ct[0])[: len(shape_of(ct[0])) - len(shape_of(ans[0]))]) if ct else ()


def _impl(*leaves: Any, block: _Block) -> tuple:
    out, aux = block.call(list(leaves))
    check_plain(out + aux, block.who)
    return tuple(out) + tuple(aux)


def _vjp(argnum: int, ct: tuple, ans: tuple, *leaves: Any, block: _Block) -> Any:
    def compute() -> list:
        batch = batch_of_cotangent(ct, ans)
        diff = [isinstance(leaf, Tracer) or traced for leaf, traced in zip(leaves, block.diff)]
        _, pullback = partial_pullback(block.value, list(leaves), diff, block.who)
        return pullback(list(ct[: block.n_out]), batch)

    return block.cache.get(ct, compute)[argnum]


def _jvp(argnum: int, tangent: Any, ans: tuple, *leaves: Any, block: _Block) -> tuple:
    batch = tuple(shape_of(tangent)[: len(shape_of(tangent)) - len(shape_of(leaves[argnum]))])
    tangents = [tangent if i == argnum else zeros_with_batch(batch, p) for i, p in enumerate(leaves)]
    _, out_tangents, _, _ = forward_pass(block.value, list(leaves), tangents, batch, False, block.who)
    return tuple(out_tangents) + tuple(zeros_with_batch(batch, a) for a in ans[block.n_out :])


checkpoint_block = Primitive(_impl, name="checkpoint", multiple_results=True)
defvjp_argnum(checkpoint_block, _vjp)
defjvp_argnum(checkpoint_block, _jvp)


def checkpoint(fun: Callable, has_aux: bool = False) -> Callable:
    """``fun`` with its interior recomputed, not stored, by reverse mode.

    Reverse mode keeps only the block's inputs (and outputs) on the tape; the
    backward sweep re-runs the block, recording it, and sweeps that tape at
    once. Values and derivatives are those of ``fun`` in every mode and at
    every nesting depth (forward mode just runs ``fun``). Positional
    arguments may be nested tuples, lists and dicts of arrays; keyword
    arguments are static (not differentiated; a traced keyword argument is an
    error). ``has_aux=True``: ``fun`` returns ``(value, aux)``; the result is
    ``(value, aux)`` and aux is not differentiated. Traced values captured in
    ``fun``'s closure cells become inputs of the block, so their gradients
    flow; traced values reached any other way (globals, attributes, other
    functions' closures) must be passed as arguments (an error says so).
    ``fun`` must be deterministic: the recomputation must retrace it.
    """
    who = f"checkpoint({getattr(fun, '__name__', 'f')})"

    def checkpointed(*args: Any, **kwargs: Any) -> Any:
        for key, value in kwargs.items():
            if any(isinstance(leaf, Tracer) for leaf in tree_flatten(value)[0]):
                raise TypeError(
                    f"{who}: keyword argument {key!r} is traced; keyword arguments are static, so "
                    f"pass traced values positionally"
                )
        arg_leaves, in_tree = tree_flatten(args)
        closure = Closure(fun)
        top = top_trace(arg_leaves + closure.leaves())
        if top is None or isinstance(top, ForwardTrace):  # nothing to store: just run it
            return fun(*args, **kwargs)
        leaves = as_inputs(arg_leaves + closure.leaves())
        block = _Block(fun, has_aux, kwargs, in_tree, len(arg_leaves), closure, who)
        block.diff = [isinstance(leaf, Tracer) for leaf in leaves]
        return block.rebuild(checkpoint_block(*leaves, block=block))

    checkpointed.__name__ = who
    checkpointed.__doc__ = fun.__doc__
    checkpointed.__wrapped__ = fun  # type: ignore[attr-defined]
    return checkpointed
