"""Draw the chain rule: one recorded computation graph in the three views.

``dr.draw(f, *args)`` records ``f`` at ``args`` and returns a picture of its
computation graph (:class:`~dualrev.draw.view.GraphDrawing`):

* every **value node** shows its primal (``val``: a number for a scalar, the
  shape and first entries of an array), its forward **tangent** (``tan``)
  for the input direction ``tangent`` and its reverse **adjoint** (``adj``)
  for the output direction ``cotangent``;
* every **edge** ``u → v`` shows the local partial ∂v/∂u (a 1×1 Jacobian) or
  the local Jacobian's structure kind, shape and stored entries, and the
  multiply-adds it costs in forward, reverse and explicit accumulation.

Defaults: ``tangent=None`` is the first basis direction for a function of one
scalar and the ones direction (every input entry perturbed by 1) otherwise;
``cotangent=None`` is 1 for a scalar output and the ones direction otherwise.
Both may be given, like the arguments named by ``argnums`` (or the outputs).

With ``elimination="forward" | "reverse" | "optimal" | [vertices]`` it draws
the explicit mode's vertex elimination instead
(:class:`~dualrev.draw.elimination.EliminationDrawing`): a strip of frames,
each with the vertex eliminated, its fill-in edges and the running
multiply-add count (``.save("steps.gif")`` animates them).

Both pictures have ``.svg()`` (a string), ``.save(path)`` (``.svg``, ``.png``,
``.pdf``) and ``_repr_svg_`` (Jupyter). How the numbers are obtained is in
:mod:`dualrev.draw.model`, the layout and the collapsing of graphs above
:data:`~dualrev.draw.layout.MAX_NODES` nodes in :mod:`dualrev.draw.layout`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .elimination import EliminationDrawing
from .layout import MAX_NODES
from .model import build
from .view import GraphDrawing

__all__ = ["draw", "GraphDrawing", "EliminationDrawing", "MAX_NODES"]


def draw(
    fun: Callable,
    *args: Any,
    argnums: int | Sequence[int] = 0,
    tangent: Any = None,
    cotangent: Any = None,
    decimals: int = 2,
    elimination: Any = None,
    names: Sequence[str] | None = None,
    max_nodes: int = MAX_NODES,
) -> GraphDrawing | EliminationDrawing:
    """Record ``fun(*args)`` and draw its computation graph (see the module docstring).

    ``argnums`` names the differentiated arguments (the others are constants),
    ``names`` the input nodes (default: the parameter names), ``decimals`` the
    rounding of the displayed numbers (the objects keep them unrounded), and
    ``max_nodes`` the most nodes drawn before runs of ops are collapsed.
    """
    if not isinstance(decimals, int) or decimals < 0:
        raise ValueError(f"dr.draw: decimals must be a non-negative int, got {decimals!r}")
    model = build(fun, args, argnums, tangent, cotangent, names)
    if elimination is not None:
        return EliminationDrawing(model, elimination, decimals, max_nodes)
    scalar_in = sum(v.primal.size for k, v in model.vertices.items() if k in model.inputs) == 1
    scalar_out = len(model.outputs) == 1 and model.vertices[model.outputs[0]].primal.size == 1
    directions = (
        ("given input direction" if tangent is not None else "basis direction 1" if scalar_in else "ones direction")
        + "; "
        + ("given output direction" if cotangent is not None else "output seed 1" if scalar_out else "ones seed")
    )
    return GraphDrawing(model, decimals, directions, max_nodes)
