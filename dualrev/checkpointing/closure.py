"""What a checkpointed block depends on: its arguments and the traced values
its closure captures.

A checkpointed block becomes one primitive, whose implementation and rules
re-run the block on other values (plain arrays, fresh tape nodes, dual
numbers). Values the block reads from its *closure* must be re-run on those
too, or an outer trace's tracer would reach the recomputation unseen (and
the gradients with respect to it be lost). :class:`Closure` finds the
tracers in the closure cells of the function (also inside tuples, lists and
dicts held there), makes them explicit inputs of the primitive, and
:meth:`Closure.bound` temporarily rebinds the cells to the values a rule
runs on. Supported: tracers held directly in the function's closure cells
(containers included). Not found: tracers reached through globals, object
attributes or the closures of *other* functions the block calls; the
primitive's implementation detects those (a tracer in its result) and says
to pass them as arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..core import Trace, Tracer
from ..reverse import reverse_pass
from ..tree import TreeDef, tree_flatten, tree_unflatten

__all__ = ["Closure", "top_trace", "check_plain", "as_inputs", "partial_pullback"]


class Closure:
    """The traced values captured by ``fun``'s closure cells."""

    __slots__ = ("cells",)

    def __init__(self, fun: Callable) -> None:
        self.cells: list[tuple[Any, TreeDef, list, list[int]]] = []
        for cell in getattr(fun, "__closure__", None) or ():
            try:
                contents = cell.cell_contents
            except ValueError:  # an empty cell (a name assigned later)
                continue
            if isinstance(contents, Tracer):
                self.cells.append((cell, tree_flatten(contents)[1], [contents], [0]))
                continue
            if not isinstance(contents, (tuple, list, dict)):
                continue
            leaves, treedef = tree_flatten(contents)
            traced = [i for i, leaf in enumerate(leaves) if isinstance(leaf, Tracer)]
            if traced:
                self.cells.append((cell, treedef, leaves, traced))

    def leaves(self) -> list:
        """The captured tracers, in a fixed order."""
        return [leaves[i] for _, _, leaves, traced in self.cells for i in traced]

    def __len__(self) -> int:
        return sum(len(traced) for _, _, _, traced in self.cells)

    @contextmanager
    def bound(self, values: list) -> Iterator[None]:
        """Rebind the cells so that the captured tracers read as ``values``."""
        saved = []
        it = iter(values)
        try:
            for cell, treedef, leaves, traced in self.cells:
                new = list(leaves)
                for i in traced:
                    new[i] = next(it)
                saved.append((cell, cell.cell_contents))
                cell.cell_contents = tree_unflatten(treedef, new)
            yield
        finally:
            for cell, contents in reversed(saved):
                cell.cell_contents = contents


def partial_pullback(run: Callable[[list], list], values: list, diff: list[bool], who: str) -> tuple[list, Callable]:
    """Record ``run(values)`` with only the leaves flagged in ``diff`` as tape
    inputs (the others are constants: no cotangent is formed for them).

    Returns ``(output leaves, pullback)``; ``pullback(cts, batch)`` gives one
    cotangent per leaf of ``values`` (``None`` for the constants)."""
    where = [j for j, d in enumerate(diff) if d]

    def fun(v: list) -> list:
        full = list(values)
        for j, vj in zip(where, v):
            full[j] = vj
        return run(full)

    out, _, pullback, _ = reverse_pass(fun, [values[j] for j in where], False, who)

    def full_pullback(cts: list, batch: tuple) -> list:
        result: list = [None] * len(values)
        for j, c in zip(where, pullback(cts, batch, True)):
            result[j] = c
        return result

    full_pullback.tape = pullback.tape  # type: ignore[attr-defined]
    return out, full_pullback


def as_inputs(leaves: list) -> list:
    """Leaves as a primitive's inputs: Python floats become 0-d arrays (as the
    transformations make them), everything else is kept."""
    return [np.asarray(leaf) if type(leaf) is float else leaf for leaf in leaves]


def top_trace(leaves: list) -> Trace | None:
    """The highest-level trace among the tracers in ``leaves`` (``None`` if there is none)."""
    top = None
    for leaf in leaves:
        if isinstance(leaf, Tracer) and (top is None or leaf._trace.level > top.level):
            top = leaf._trace
    return top


def check_plain(leaves: list, who: str) -> None:
    """A checkpointed block run on plain values must not return a tracer: it
    would be one the block reached without receiving it as an input."""
    for leaf in leaves:
        if isinstance(leaf, Tracer):
            raise ValueError(
                f"{who}: the checkpointed function's result depends on a traced value it does not "
                f"receive as an argument (through a global, an object attribute or another function's "
                f"closure); pass that value as an argument of the checkpointed function (or, for "
                f"checkpoint_loop, as a parameter after n_steps)"
            )
