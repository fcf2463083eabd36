"""Explicit Jacobians: materialise every local Jacobian, then multiply them.

This is the "alternative (bad) approach using explicit Jacobians" of seed 001
§4.1, made runnable and *measurable*. Forward and reverse mode never form a
local Jacobian: they push a tangent (JVP) or pull a cotangent (VJP) through
each op, which for an elementwise op on D numbers is O(D) work. Here every op
``y = f(a, b, ...)`` of the recorded program contributes, per differentiable
argument ``a``, the dense matrix

    ∂y/∂a  of shape (y.size, a.size)

(a D×D *diagonal* matrix for an elementwise op: D² entries where D would do).
The full Jacobian is then a sum over paths of products of these matrices
(seed 003 §7), and *how* the products are bracketed decides the cost
(seed 003 §14: foldl = forward, foldr = reverse).

How a local Jacobian is obtained
--------------------------------
From the primitive's JVP rule and nothing else: the rule is applied to the
identity basis of the argument, a tangent of shape ``(a.size,) + a.shape``
(one batched call per op and argument; rules registered with
``batched=False`` are called once per basis row). The result, of shape
``(a.size,) + y.shape``, is ∂y/∂a transposed. No op has Jacobian-specific
code, so a user primitive with a JVP rule works here too.

The linearised graph
--------------------
The program is recorded on a tape (as in reverse mode). Its values are the
vertices; each (op, argument) pair is an edge ``a → y`` labelled with its local
Jacobian. Only the part of the graph that lies on a path from an input to an
output is linearised (dead code and constants are skipped). Two edges between
the same pair (``x * x``) are summed into one. An output that is also an input
or is used further by the program gets a *copy* vertex joined to it by an
identity edge, so that outputs are never eliminated.

Accumulation = vertex elimination
---------------------------------
*Eliminating* an intermediate vertex ``v`` replaces every path ``u → v → w``
by the edge ``u → w`` with label

    J_wu  +=  J_wv · J_vu          (size_w × size_v) · (size_v × size_u)

When only inputs and outputs remain, the edge ``x → y`` holds ∂y/∂x. Every
accumulation order is an elimination order (Griewank & Naumann):

* ``order="forward"`` (foldl) eliminates in execution order. When ``v`` goes,
  its predecessors are all inputs, so this is exactly forward accumulation
  from the inputs, ``J_v = Σ_parents J_local · J_parent``, matrix–matrix.
* ``order="reverse"`` (foldr) eliminates in reverse execution order: exactly
  reverse accumulation from the outputs, ``A_v = Σ_children A_child · J_local``.
* ``order="optimal"`` computes the cost of several candidate orders
  *symbolically* (from the sizes and the graph only, before any product is
  formed) and runs the cheapest:

  - forward and reverse (so the result is never worse than the better of the
    two under the cost model);
  - Markowitz vertex elimination: repeatedly eliminate the vertex whose
    elimination is cheapest *right now* (the weighted Markowitz degree
    ``Σ_u Σ_w size_w · size_v · size_u``, ties broken by execution order) — a
    greedy heuristic, not optimal in general (optimal elimination is NP-hard);
  - when every intermediate vertex has exactly one predecessor and one
    successor (the graph is a chain, or several chains that only share inputs
    and outputs), the exact matrix-chain dynamic programme on each chain: the
    optimal bracketing of ``J_L ··· J_1`` in O(L³) — every bracketing of a chain
    is a vertex elimination order, so it runs on the same engine;
  - for at most 20 intermediate vertices, the exact optimum over all
    elimination orders on the structured cost model, by branch and bound
    from the best of the above with a bounded amount of work (``search.py``);
    ``best found`` when the bound is reached first.

The cost model (what ``ExplicitCost.multiply_adds`` counts)
-----------------------------------------------------------
* A dense product of an a×b by a b×c matrix costs **a·b·c** multiply-adds (the
  schoolbook count; NumPy's BLAS does exactly that many fused operations).
* **Sums are free**: a fan-in sum ``J_wu += J_wv · J_vu`` accumulates into the
  existing matrix like GEMM with beta=1, so adding the contributions of
  several paths adds no multiply-adds. Summing the two local Jacobians of
  ``x * x`` into one edge is free for the same reason.
* **Identity is free**: the seed of an accumulation (∂x/∂x = I at an input,
  ∂y/∂y = I at an output) is never materialised or multiplied; the first
  product along a path from an input is the local Jacobian itself. Products
  with the identity edge of a copy vertex are free as well.
* Forming the local Jacobians (the JVP calls on the identity basis) is not a
  multiply-add of the accumulation; its size is reported separately as
  ``local_jacobian_entries`` (number of matrix entries materialised).

So for a chain of N ops on D-wide vectors with a scalar output, ``forward``
costs about N·D³ and ``reverse`` about N·D² (each D×D local Jacobian is hit by
a 1×D row); with a scalar input and a vector output it flips. An hourglass
chain (wide → narrow → wide) is bad for both and the dynamic programme
multiplies each half towards the waist first.

The memory guard
----------------
Before a single local Jacobian is formed, the bytes they will occupy
(``Σ size_out · size_in · itemsize`` over the edges to be linearised) are
estimated. Above the budget, :class:`ExplicitMemoryError` (a
``MemoryError``) is raised, naming the size and suggesting ``mode="forward"``
or ``mode="reverse"``, which never form a local Jacobian. The budget is
:data:`MEMORY_BUDGET_BYTES` (default 1 GiB); change it for a block of code with
``with dualrev.explicit.memory_budget(nbytes): ...`` (``None`` disables the
guard). The estimate covers the local Jacobians only, not the fill-in the
accumulation creates (at most the size of the Jacobians it combines).

Nesting
-------
Products and sums use ``dualrev.numpy`` (``matmul``, ``add``, ``reshape``,
``transpose``), so when the recorded values are tracers of an enclosing
transformation (``hessian(f, mode=("forward", "explicit"))``) the local
Jacobians and their products stay traced; on plain arrays they are plain
NumPy calls.

Layout
------
``graph.py`` holds the linearised graph and vertex elimination, ``plans.py``
the elimination orders and their symbolic costs, ``search.py`` the exact
optimum by branch and bound and ``search_bounds.py`` its lower bounds (all of
them work on plain arrays and sizes, without any AD),
``structures.py``/``algebra.py``/``local.py`` the structured local Jacobians,
``budget.py`` the cost record and the memory and search budgets,
``report.py`` what a run reports (plan text and cost record),
``build.py`` the way from a tape to the graph, and ``linearize.py`` the
interpreter: it records the program, forms the local Jacobians from the JVP
rules and runs the chosen plan, reusing per program shape what does not
depend on values.
"""

from . import budget
from .budget import ExplicitCost, ExplicitMemoryError, memory_budget, search_budget
from .linearize import explicit_jacobian

__all__ = [
    "ExplicitCost",
    "ExplicitMemoryError",
    "MEMORY_BUDGET_BYTES",
    "memory_budget",
    "search_budget",
    "explicit_jacobian",
]


def __getattr__(name: str) -> object:
    # The budget in force lives in budget.py (memory_budget() changes it there).
    if name == "MEMORY_BUDGET_BYTES":
        return budget.MEMORY_BUDGET_BYTES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
