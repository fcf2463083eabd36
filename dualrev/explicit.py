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
    is a vertex elimination order, so it runs on the same engine.

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
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from .core import Primitive, Tracer, dtype_of, shape_of
from .reverse import Node, ReverseTrace
from .tree import tree_flatten

__all__ = [
    "ExplicitCost",
    "ExplicitMemoryError",
    "MEMORY_BUDGET_BYTES",
    "memory_budget",
    "explicit_jacobian",
]

#: Largest number of bytes the local Jacobians may occupy (None: no limit).
MEMORY_BUDGET_BYTES: int | None = 1 << 30


class ExplicitMemoryError(MemoryError):
    """The local Jacobians of ``mode="explicit"`` would exceed the memory budget."""


@contextlib.contextmanager
def memory_budget(nbytes: int | None) -> Iterator[None]:
    """Use ``nbytes`` as the explicit mode's memory budget inside a ``with`` block
    (``None``: no limit); the previous budget is restored on exit."""
    global MEMORY_BUDGET_BYTES
    if nbytes is not None and (not isinstance(nbytes, (int, np.integer)) or nbytes < 0):
        raise ValueError(f"memory_budget: expected a non-negative number of bytes or None, got {nbytes!r}")
    previous = MEMORY_BUDGET_BYTES
    MEMORY_BUDGET_BYTES = None if nbytes is None else int(nbytes)
    try:
        yield
    finally:
        MEMORY_BUDGET_BYTES = previous


@dataclass(frozen=True)
class ExplicitCost:
    """What one explicit Jacobian cost, under the cost model of this module.

    * ``order``: the order asked for (``"forward"``, ``"reverse"``, ``"optimal"``).
    * ``multiply_adds``: exact number of scalar multiply-adds of the accumulation.
    * ``local_jacobian_entries``: number of local-Jacobian entries materialised.
    * ``local_jacobians``: number of local Jacobians (one per op and argument).
    * ``plan``: a readable description of the elimination order / bracketing run.
    * ``candidates``: the symbolic cost of every order considered, by name
      (``forward``, ``reverse``, ``markowitz`` and, for chains, ``chain DP``).
    """

    order: str
    multiply_adds: int
    local_jacobian_entries: int
    local_jacobians: int
    plan: str
    candidates: dict = field(default_factory=dict)


# --------------------------------------------------------------------------
# Recording: a tape whose edges are the arguments with a JVP rule
# --------------------------------------------------------------------------


class _RecordingTrace(ReverseTrace):
    """A reverse-mode tape, except that an argument is an edge when its *JVP*
    rule exists (the explicit mode never calls a VJP rule)."""

    __slots__ = ()

    def process(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        primals = list(args)
        parents = []
        for i, arg in enumerate(args):
            if isinstance(arg, Node) and arg._trace is self:
                primals[i] = arg.value
                try:
                    rule = prim.jvp_rule(i)
                except NotImplementedError as exc:
                    raise NotImplementedError(
                        f"{exc} The explicit mode builds local Jacobians from JVP rules."
                    ) from None
                if rule is not None:
                    parents.append((i, arg.slot))
        ans = prim(*primals, **kwargs)
        if prim.multiple_results:
            nodes = tuple(self.new_node(a) for a in ans)
            out = tuple(n.slot for n in nodes)
        else:
            nodes = self.new_node(ans)
            out = nodes.slot
        if parents:
            self.tape.append((prim, tuple(primals), kwargs, ans, tuple(parents), out))
        return nodes


# --------------------------------------------------------------------------
# The linearised graph
# --------------------------------------------------------------------------


class _Identity:
    """The label of an identity edge (never materialised, multiplies for free)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "I"


class _Dense:
    """The label of a dense edge when only the cost is being simulated."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "J"


IDENTITY = _Identity()
_DENSE = _Dense()


class _Graph:
    """Vertices with sizes; ``preds[v][u]`` is the label of edge u → v (a
    ``(size_v, size_u)`` matrix, :data:`IDENTITY`, or ``_DENSE`` when
    simulating); ``succs[u]`` the set of its successors."""

    def __init__(self, sizes: dict[int, int]) -> None:
        self.sizes = sizes
        self.preds: dict[int, dict[int, Any]] = {}
        self.succs: dict[int, set[int]] = {}

    def add_vertex(self, v: int) -> None:
        self.preds.setdefault(v, {})
        self.succs.setdefault(v, set())

    def add_edge(self, u: int, v: int, label: Any) -> None:
        self.add_vertex(u)
        self.add_vertex(v)
        self.preds[v][u] = _accumulate(self.preds[v].get(u), label, (self.sizes[v], self.sizes[u]))
        self.succs[u].add(v)

    def remove_vertex(self, v: int) -> None:
        for u in self.preds.pop(v, {}):
            self.succs[u].discard(v)
        for w in self.succs.pop(v, set()):
            self.preds[w].pop(v, None)

    def symbolic(self) -> "_Graph":
        """A copy with every dense label replaced by ``_DENSE`` (for planning)."""
        copy = _Graph(self.sizes)
        copy.preds = {
            v: {u: (IDENTITY if m is IDENTITY else _DENSE) for u, m in ps.items()} for v, ps in self.preds.items()
        }
        copy.succs = {u: set(ws) for u, ws in self.succs.items()}
        return copy


def _accumulate(existing: Any, new: Any, shape: tuple) -> Any:
    """``existing + new`` for edge labels; a free sum under the cost model."""
    if existing is None:
        return new
    if existing is _DENSE or new is _DENSE:
        return _DENSE
    from . import numpy as dnp

    dense = [m for m in (existing, new) if m is not IDENTITY]
    dtype = dtype_of(dense[0]) if dense else np.float64
    existing, new = (np.eye(*shape, dtype=dtype) if m is IDENTITY else m for m in (existing, new))
    return dnp.add(existing, new)


def _product_cost(graph: _Graph, w: int, v: int, u: int, outer: Any, inner: Any) -> int:
    if outer is IDENTITY or inner is IDENTITY:
        return 0
    sizes = graph.sizes
    return sizes[w] * sizes[v] * sizes[u]


def _elimination_cost(graph: _Graph, v: int) -> int:
    """Multiply-adds of eliminating ``v`` now: Σ_u Σ_w size_w · size_v · size_u
    over its current predecessors u and successors w (identity edges free)."""
    total = 0
    for w in graph.succs[v]:
        outer = graph.preds[w][v]
        for u, inner in graph.preds[v].items():
            total += _product_cost(graph, w, v, u, outer, inner)
    return total


def _eliminate(graph: _Graph, v: int) -> int:
    """Eliminate vertex ``v``: every path u → v → w becomes the edge u → w with
    label ``J_wu + J_wv · J_vu``. Returns the multiply-adds performed."""
    from . import numpy as dnp

    in_edges = graph.preds.pop(v)
    successors = graph.succs.pop(v)
    cost = 0
    for w in sorted(successors):
        outer = graph.preds[w].pop(v)
        for u in sorted(in_edges):
            inner = in_edges[u]
            cost += _product_cost(graph, w, v, u, outer, inner)
            if outer is IDENTITY:
                product = inner
            elif inner is IDENTITY:
                product = outer
            elif outer is _DENSE or inner is _DENSE:
                product = _DENSE
            else:
                product = dnp.matmul(outer, inner)
            graph.preds[w][u] = _accumulate(graph.preds[w].get(u), product, (graph.sizes[w], graph.sizes[u]))
            graph.succs[u].add(w)
    for u in in_edges:
        graph.succs[u].discard(v)
    return cost


# --------------------------------------------------------------------------
# Elimination orders (the plans)
# --------------------------------------------------------------------------


def _simulate(graph: _Graph, order: list[int]) -> int:
    sim = graph.symbolic()
    return sum(_eliminate(sim, v) for v in order)


def _markowitz_order(graph: _Graph, intermediates: list[int]) -> list[int]:
    """Greedy: always eliminate the vertex that is cheapest to eliminate now
    (ties: earliest in execution order)."""
    sim = graph.symbolic()
    remaining = set(intermediates)
    costs = {v: _elimination_cost(sim, v) for v in remaining}
    order = []
    while remaining:
        v = min(remaining, key=lambda x: (costs[x], x))
        neighbours = set(sim.preds[v]) | sim.succs[v]
        _eliminate(sim, v)
        remaining.discard(v)
        order.append(v)
        for n in neighbours & remaining:
            costs[n] = _elimination_cost(sim, n)
    return order


def _chains(graph: _Graph, inputs: list[int], intermediates: set[int]) -> list[list[int]] | None:
    """The paths input → ... → output when every intermediate has exactly one
    predecessor and one successor; None when the graph is not made of chains."""
    for v in intermediates:
        if len(graph.preds[v]) != 1 or len(graph.succs[v]) != 1:
            return None
    paths = []
    for x in inputs:
        for w in sorted(graph.succs.get(x, ())):
            path = [x, w]
            while path[-1] in intermediates:
                (nxt,) = graph.succs[path[-1]]
                path.append(nxt)
            paths.append(path)
    return paths


def _chain_dp(graph: _Graph, path: list[int]) -> tuple[list[int], str]:
    """Optimal bracketing of the chain ``path`` (vertices p_0 … p_L; matrix k
    maps p_{k-1} to p_k) by the classic matrix-chain dynamic programme.

    ``best[i][j]`` is the cheapest way to form ∂p_j/∂p_i; splitting at k means
    forming ∂p_k/∂p_i and ∂p_j/∂p_k first and then eliminating p_k, which
    costs size_j · size_k · size_i. Returns the elimination order (a post-order
    of the split tree) and the bracketing as text."""
    sizes = [graph.sizes[p] for p in path]
    L = len(path) - 1
    best = [[0] * (L + 1) for _ in range(L + 1)]
    split = [[0] * (L + 1) for _ in range(L + 1)]
    for length in range(2, L + 1):
        for i in range(0, L - length + 1):
            j = i + length
            choices = ((best[i][k] + best[k][j] + sizes[j] * sizes[k] * sizes[i], k) for k in range(i + 1, j))
            best[i][j], split[i][j] = min(choices)

    order: list[int] = []
    names = []
    for k in range(1, L + 1):
        label = graph.preds[path[k]][path[k - 1]]
        names.append(f"J{k}[{sizes[k]}x{sizes[k - 1]}]" if label is not IDENTITY else f"I{k}")

    def walk(i: int, j: int) -> str:
        if j - i == 1:
            return names[i]
        k = split[i][j]
        left, right = walk(k, j), walk(i, k)
        order.append(path[k])
        return f"({left}·{right})"

    text = walk(0, L)
    return order, text


_PLAN_TEXT = {
    "forward": "forward (foldl): eliminate the {n} intermediate vertices in execution order, "
    "J_v = Σ J_local·J_parent",
    "reverse": "reverse (foldr): eliminate the {n} intermediate vertices in reverse execution order, "
    "A_v = Σ A_child·J_local",
    "markowitz": "Markowitz vertex elimination of {n} intermediate vertices, the currently cheapest first",
}


def _plans(graph: _Graph, inputs: list[int], intermediates: list[int]) -> dict[str, tuple[list[int], int, str]]:
    """Candidate elimination orders with their simulated multiply-adds."""
    plans: dict[str, tuple[list[int], int, str]] = {}
    chains = _chains(graph, inputs, set(intermediates))
    if chains is not None:
        order, texts = [], []
        for path in chains:
            o, text = _chain_dp(graph, path)
            order += o
            texts.append(text)
        shown = " + ".join(texts)
        if len(shown) > 400:
            shown = f"{len(chains)} chain(s), {len(intermediates)} intermediate vertices"
        plans["chain DP"] = (order, _simulate(graph, order), f"matrix-chain dynamic programming: {shown}")
    for name, order in (
        ("forward", sorted(intermediates)),
        ("reverse", sorted(intermediates, reverse=True)),
        ("markowitz", _markowitz_order(graph, intermediates)),
    ):
        plans[name] = (order, _simulate(graph, order), _PLAN_TEXT[name].format(n=len(intermediates)))
    return plans


# --------------------------------------------------------------------------
# Local Jacobians from JVP rules
# --------------------------------------------------------------------------


def _size(value: Any) -> int:
    return int(np.prod(shape_of(value), dtype=np.int64))


def _float_dtype(value: Any) -> np.dtype:
    dt = np.dtype(dtype_of(value))
    return dt if dt.kind == "f" else np.dtype(np.float64)


def _identity_basis(x: Any) -> np.ndarray:
    """The tangent ``(x.size,) + x.shape`` whose k-th row is the k-th unit vector."""
    n = _size(x)
    return np.eye(n, dtype=_float_dtype(x)).reshape((n,) + tuple(shape_of(x)))


def _apply_rule(prim: Primitive, argnum: int, basis: Any, ans: Any, primals: tuple, kwargs: dict) -> Any:
    """The JVP rule of ``argnum`` on the whole basis (one call), or row by row
    for rules registered with ``batched=False``."""
    from . import numpy as dnp

    rule = prim.jvp_rule(argnum)
    if prim.jvp_batched:
        return rule(basis, ans, *primals, **kwargs)
    rows = [rule(basis[k], ans, *primals, **kwargs) for k in range(basis.shape[0])]
    if not prim.multiple_results:
        return dnp.stack(rows)
    stacked = []
    for j, parts in enumerate(zip(*rows)):
        if all(p is None for p in parts):
            stacked.append(None)
        else:
            zero = np.zeros(shape_of(ans[j]), dtype=_float_dtype(ans[j]))
            stacked.append(dnp.stack([p if p is not None else zero for p in parts]))
    return tuple(stacked)


def _as_matrix(tangent: Any, n_in: int, out: Any) -> Any:
    """A batched output tangent ``(n_in,) + out.shape`` as ∂out/∂in: ``(out.size, n_in)``."""
    from . import numpy as dnp

    full = (n_in,) + tuple(shape_of(out))
    if tuple(shape_of(tangent)) != full:  # a rule may return a broadcastable tangent
        tangent = dnp.broadcast_to(tangent, full)
    return dnp.transpose(dnp.reshape(tangent, (n_in, _size(out))))


# --------------------------------------------------------------------------
# The interpreter
# --------------------------------------------------------------------------


def _relevant(tape: list, in_slots: list[int], out_slots: set[int]) -> tuple[set[int], set[int]]:
    """Vertices reachable from an input and vertices that reach an output."""
    from_inputs = set(in_slots)
    for _prim, _p, _k, _ans, parents, out in tape:
        if any(s in from_inputs for _, s in parents):
            from_inputs.update(out if isinstance(out, tuple) else (out,))
    to_outputs = set(out_slots)
    for _prim, _p, _k, _ans, parents, out in reversed(tape):
        outs = out if isinstance(out, tuple) else (out,)
        if any(s in to_outputs for s in outs):
            to_outputs.update(s for _, s in parents)
    return from_inputs, to_outputs


def _check_budget(nbytes: int, n_matrices: int, largest: tuple, who: str) -> None:
    budget = MEMORY_BUDGET_BYTES
    if budget is None or nbytes <= budget:
        return
    raise ExplicitMemoryError(
        f"{who}: mode='explicit' would materialise {n_matrices} local Jacobian(s) taking "
        f"{nbytes:,} bytes ({nbytes / 2**20:,.1f} MiB; the largest is {largest[0]}×{largest[1]}), "
        f"above the budget of {budget:,} bytes. Use mode='forward' or mode='reverse' (they apply "
        f"the same rules to vectors and never form a local Jacobian), or raise the budget with "
        f"`with dualrev.explicit.memory_budget(nbytes): ...`."
    )


def explicit_jacobian(fun: Callable, leaves: list, order: str, has_aux: bool, who: str):
    """Full Jacobian of ``fun`` (a function of the list ``leaves``) by explicit
    local Jacobians multiplied in ``order``.

    Returns ``(out_leaves, out_tree, jac, aux, cost)``: ``jac`` holds one 2-D
    array ``(out_leaf.size, n_inputs)`` per output leaf, columns ordered leaf by
    leaf (C order); ``cost`` is an :class:`ExplicitCost`.
    """
    from . import numpy as dnp
    from .api import record

    if order not in ("forward", "reverse", "optimal"):
        raise ValueError(f"{who}: unknown order {order!r}; choose 'forward', 'reverse' or 'optimal'")

    # 1. Record the program on a tape.
    trace = _RecordingTrace()
    in_slots, primals_out, out_tree, out_slots, aux = record(fun, leaves, has_aux, who, trace)
    tape = trace.tape

    # 2. Keep the edges on some input → output path; estimate their memory.
    from_inputs, to_outputs = _relevant(tape, in_slots, {s for s in out_slots if s is not None})
    sizes: dict[int, int] = {s: _size(v) for s, v in zip(in_slots, leaves)}
    work = []
    nbytes, n_matrices, largest = 0, 0, (0, 0)
    for prim, primals, kwargs, ans, parents, out_slot in tape:
        outs = out_slot if isinstance(out_slot, tuple) else (out_slot,)
        answers = ans if prim.multiple_results else (ans,)
        if not any(s in to_outputs for s in outs):
            continue
        edges = [(argnum, s) for argnum, s in parents if s in from_inputs]
        if not edges:
            continue
        for s, a in zip(outs, answers):
            sizes[s] = _size(a)
        out_size = sum(_size(a) for a in answers)
        for argnum, s in edges:
            n_in = _size(primals[argnum])
            nbytes += out_size * n_in * _float_dtype(answers[0]).itemsize
            n_matrices += 1
            largest = max(largest, (out_size, n_in), key=lambda ab: ab[0] * ab[1])
        work.append((prim, primals, kwargs, answers, outs, edges))
    _check_budget(nbytes, n_matrices, largest, who)

    # 3. Form the local Jacobians (JVP rule on the identity basis) as edges.
    graph = _Graph(sizes)
    for s in in_slots:
        graph.add_vertex(s)
    entries = local_jacobians = 0
    for prim, primals, kwargs, answers, outs, edges in work:
        ans = answers if prim.multiple_results else answers[0]
        for argnum, s in edges:
            n_in = sizes[s]
            if n_in == 0:
                continue
            tangents = _apply_rule(prim, argnum, _identity_basis(primals[argnum]), ans, primals, kwargs)
            if tangents is None:  # the rule says: no dependence
                continue
            if not prim.multiple_results:
                tangents = (tangents,)
            local_jacobians += 1
            for out_s, a, tangent in zip(outs, answers, tangents):
                entries += n_in * _size(a)
                if tangent is None or out_s not in to_outputs or _size(a) == 0:
                    continue
                graph.add_edge(s, out_s, _as_matrix(tangent, n_in, a))
    del work, tape

    # 4. Outputs become dependents: an output that is an input or feeds later
    #    ops gets a copy vertex joined by an identity edge.
    next_id = trace.n_slots
    dependent_of: dict[int, int] = {}
    for s in out_slots:
        if s is None or s in dependent_of:
            continue
        if s in graph.preds and (s in in_slots or graph.succs[s]):
            dependent_of[s] = next_id
            sizes[next_id] = sizes[s]
            graph.add_edge(s, next_id, IDENTITY)
            next_id += 1
        else:
            dependent_of[s] = s
    dependents = set(dependent_of.values())

    # Drop vertices left off every input → output path (rules that returned None).
    reach = set(in_slots)
    for v in sorted(graph.preds):
        if any(u in reach for u in graph.preds[v]):
            reach.add(v)
    useful = set(dependents)
    for v in sorted(graph.preds, reverse=True):
        if graph.succs[v] & useful:
            useful.add(v)
    for v in list(graph.preds):
        if v not in in_slots and v not in dependents and not (v in reach and v in useful):
            graph.remove_vertex(v)
    intermediates = sorted(v for v in graph.preds if v not in dependents and v not in in_slots)

    # 5. Plan: simulate the candidate orders, then run the chosen one.
    plans = _plans(graph, in_slots, intermediates)
    candidates = {name: cost for name, (_o, cost, _t) in plans.items()}
    if order == "optimal":
        name = min(plans, key=lambda k: plans[k][1])  # dict order: chain DP first on ties
    else:
        name = order
    elimination, predicted, text = plans[name]
    multiply_adds = sum(_eliminate(graph, v) for v in elimination)
    assert multiply_adds == predicted, (multiply_adds, predicted)
    if not intermediates:
        text = "no intermediate vertices: the Jacobian is the local Jacobians themselves"
    if order == "optimal":
        others = ", ".join(f"{k} {v:,}" for k, v in candidates.items())
        plan = f"optimal → {name}: {text} [{multiply_adds:,} multiply-adds; candidates: {others}]"
    else:
        plan = f"{text} [{multiply_adds:,} multiply-adds]"

    # 6. Read the Jacobian off the edges input → output.
    jac = []
    for s, o in zip(out_slots, primals_out):
        m = _size(o)
        blocks = []
        for x, leaf in zip(in_slots, leaves):
            n = sizes[x]
            label = graph.preds.get(dependent_of[s], {}).get(x) if s is not None else None
            dtype = np.result_type(_float_dtype(o), _float_dtype(leaf))
            if label is None:
                blocks.append(np.zeros((m, n), dtype=dtype))
            elif label is IDENTITY:
                blocks.append(np.eye(n, dtype=dtype))
            else:
                blocks.append(label)
        if not blocks:
            jac.append(np.zeros((m, 0), dtype=_float_dtype(o)))
        elif len(blocks) == 1:
            jac.append(blocks[0])
        else:
            jac.append(dnp.concatenate(blocks, axis=1))
    cost = ExplicitCost(
        order=order,
        plan=plan,
        multiply_adds=int(multiply_adds),
        local_jacobian_entries=int(entries),
        local_jacobians=int(local_jacobians),
        candidates=candidates,
    )
    return primals_out, out_tree, jac, aux, cost
