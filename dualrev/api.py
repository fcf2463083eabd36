"""The public transformations: grad, value_and_grad, jacobian, jvp, vjp
(second order, built on them: ``second_order.py``).

Each transformation flattens the user's (possibly nested) arguments to a list
of float arrays (``_arguments.py``), runs one of the interpreters on a function
of those leaves (``forward.py``, ``reverse.py``, ``explicit/``; full Jacobians
in ``_jacobians.py``), and rebuilds the user's structure at the end.

Choosing a mode
---------------
``mode="forward"`` pushes tangents (one pass per input direction);
``mode="reverse"`` records a tape and sweeps it backwards (one sweep per output
direction); ``mode="explicit"`` materialises every local Jacobian and
multiplies them in a chosen ``order``. ``mode="auto"`` (the default) picks
between forward and reverse by the sizes (:func:`choose_mode`): a full
Jacobian of f: Rⁿ → Rᵐ costs about ``n`` JVPs or ``m`` VJPs, so auto uses
**reverse when m ≤ n** (always for ``grad``, whose output is a scalar) and
**forward when m > n**. To learn m, the first call records a tape (and reuses
it when reverse wins); each ``jacobian(f)`` function then remembers m per
input signature, so later calls go straight to the chosen mode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import numpy as dnp
from ._arguments import MODES, Args, batch_of, check_directions, check_like, check_mode, check_order, check_structure
from ._jacobians import CHUNK_ELEMENTS, RunLog, choose_mode, jacobian_flat, jacobian_forward
from ._outputs import cast_like, finish, scalar_output
from .core import float_dtype, shape_of, size_of
from .forward import forward_pass
from .ledger import build_cost, check_return_cost
from .replay import Replayer, as_function, replay_forward, replay_linearized, replay_pullback, replayer_of
from .reverse import reverse_pass
from .sparse import pick_colouring, sparse_jacobian
from .tree import tree_flatten, tree_unflatten

__all__ = [
    "MODES",
    "grad",
    "value_and_grad",
    "jacobian",
    "jvp",
    "vjp",
    "choose_mode",
    "CHUNK_ELEMENTS",
]

Argnums = int | Sequence[int]


def _gradient(
    spec: Args, f: Any, mode: str, order: Any, has_aux: bool, who: str, structure: str, program: Any = None
) -> tuple[Any, list, Any]:
    """``(value, gradient per input leaf, aux)`` of the scalar function ``f`` of
    the leaves (or of its recorded ``program``, replayed)."""
    if program is not None and mode in ("reverse", "auto"):
        out_leaves, aux, pullback = replay_pullback(program, spec.leaves)
        value = scalar_output(out_leaves, program.out_tree, who)
        seed = np.ones(shape_of(value), dtype=float_dtype(value))
        return value, pullback([seed], (), True), aux
    if program is not None:
        f = as_function(program)
    if mode in ("reverse", "auto"):
        out_leaves, out_tree, pullback, aux = reverse_pass(f, spec.leaves, has_aux, who)
        value = scalar_output(out_leaves, out_tree, who)
        seed = np.ones(shape_of(value), dtype=float_dtype(value))
        return value, pullback([seed], (), True), aux
    if mode == "explicit":
        out_leaves, out_tree, jac, aux, _ = jacobian_flat(
            f, spec.leaves, mode, order, has_aux, who, structure=structure
        )
    else:
        out_leaves, out_tree, jac, aux = jacobian_forward(f, spec.leaves, has_aux, who)
    value = scalar_output(out_leaves, out_tree, who)
    row = jac[0]
    grads = []
    offset = 0
    for leaf in spec.leaves:
        size = size_of(leaf)
        grads.append(cast_like(dnp.reshape(row[0, offset : offset + size], shape_of(leaf)), leaf))
        offset += size
    return value, grads, aux


def _value_and_grad(
    fun: Callable, argnums: Argnums, mode: str, has_aux: bool, order: Any, who: str, structure: str, replay: bool
) -> Callable:
    check_mode(mode, who)
    check_order(order, who)
    check_structure(structure, who)
    replayer = Replayer(fun, who) if replay else None

    def value_and_grad_fun(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        spec = Args(args, argnums, who)
        program = replayer.program(spec, kwargs, has_aux) if replayer is not None else None
        f = spec.bind(fun, kwargs) if program is None else None  # a replayed program needs no binding
        value, grads, aux = _gradient(spec, f, mode, order, has_aux, who, structure, program)
        value = finish(value)
        result = (value, aux) if has_aux else value
        return result, spec.structure([finish(g) for g in grads])

    value_and_grad_fun.replayer = replayer  # type: ignore[attr-defined]  # its programs, for inspection
    value_and_grad_fun.__name__ = f"{who}({getattr(fun, '__name__', 'f')})"
    value_and_grad_fun.__doc__ = fun.__doc__
    return value_and_grad_fun


def value_and_grad(
    fun: Callable,
    argnums: Argnums = 0,
    mode: str = "auto",
    *,
    has_aux: bool = False,
    order: Any = "optimal",
    structure: str = "structured",
    replay: bool = False,
) -> Callable:
    """Like :func:`grad`, but the returned function gives ``(value, gradient)``
    (``((value, aux), gradient)`` with ``has_aux=True``)."""
    return _value_and_grad(fun, argnums, mode, has_aux, order, "value_and_grad", structure, replay)


def grad(
    fun: Callable,
    argnums: Argnums = 0,
    mode: str = "auto",
    *,
    has_aux: bool = False,
    order: Any = "optimal",
    structure: str = "structured",
    replay: bool = False,
) -> Callable:
    """The gradient of a scalar function.

    ``dr.grad(f)(x)`` has the structure and shape of ``x``. ``argnums`` picks
    the differentiated positional argument(s) (an int, or a tuple for a tuple
    of gradients); keyword arguments pass through undifferentiated.
    ``mode`` is ``"reverse"`` (one backward sweep: the cheap choice for a
    scalar output), ``"forward"`` (one JVP per input scalar, batched),
    ``"explicit"`` (local Jacobians multiplied in ``order``, kept in their
    ``structure``) or ``"auto"`` (reverse). ``has_aux=True``: ``f`` returns ``(value, aux)`` and
    the result is ``(gradient, aux)``. ``replay=True``: record ``f``'s
    program on the first call of each input signature and replay it on later
    calls without running ``f``'s Python (:mod:`dualrev.replay`; ``f`` must be
    pure, and a recording that read a traced value runs unreplayed, warned once).

    Raises ``ValueError`` when ``f`` does not return a scalar (use
    :func:`jacobian`), ``TypeError`` for a non-float output or non-numeric
    input.
    """
    vg = _value_and_grad(fun, argnums, mode, has_aux, order, "grad", structure, replay)

    def grad_fun(*args: Any, **kwargs: Any) -> Any:
        (value, g) = vg(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    grad_fun.replayer = vg.replayer  # type: ignore[attr-defined]
    grad_fun.__name__ = f"grad({getattr(fun, '__name__', 'f')})"
    grad_fun.__doc__ = fun.__doc__
    return grad_fun


def jacobian(
    fun: Callable,
    argnums: Argnums = 0,
    mode: str = "auto",
    *,
    order: Any = "optimal",
    has_aux: bool = False,
    return_cost: bool = False,
    chunk_size: int | None = None,
    structure: str = "structured",
    sparse: bool = False,
    sparsity: Any = None,
    colouring: Any = None,
    coloring: Any = None,
    replay: bool = False,
) -> Callable:
    """The full Jacobian: for each output leaf of shape ``out`` and input leaf of
    shape ``in``, an array of shape ``out + in``.

    The result has the structure of ``f``'s output; each output leaf holds the
    structure of the differentiated argument(s) (a tuple when ``argnums`` is a
    tuple). Forward mode costs one JVP per input scalar, reverse mode one VJP
    per output scalar, both batched into few passes (``chunk_size`` directions
    at a time; by default the block of directions holds at most
    ``CHUNK_ELEMENTS`` scalars). ``mode="auto"`` uses reverse when the output
    has no more scalars than the input, forward otherwise.

    ``mode="explicit"`` forms the local Jacobians and multiplies them in
    ``order`` (``"forward"``, ``"reverse"``, ``"optimal"`` or a list of the
    graph's intermediate vertices, see ``cost.intermediates``), keeping each in
    its structure (diagonal, sparse 0-1, dense; ``structure="dense"``: every
    one dense, the seed's bad approach).

    With ``return_cost=True`` (any mode) the function returns ``(J, cost)``, a
    :class:`~dualrev.ledger.Cost`: the mode that ran and why, its passes and
    their directions, the bytes a reverse tape held, the explicit mode's exact
    multiply-adds (and its :class:`~dualrev.explicit.ExplicitCost` as
    ``cost.explicit``), and the passes forward and reverse would take
    (``cost.alternatives``). Without it nothing is measured.

    ``sparse=True`` (implied by ``sparsity=`` or ``colouring=``/``coloring=``):
    a ``scipy.sparse`` CSR matrix (outputs × differentiated inputs, flattened)
    from one compressed pass (``return_cost``: a ``SparseCost``), see :mod:`dualrev.sparse`.
    ``replay=True``: as for :func:`grad` (the recorded program runs in ``mode``).
    """
    who = "jacobian"
    colour = pick_colouring(colouring, coloring, who)
    if sparse or sparsity is not None or colour is not None:
        return sparse_jacobian(fun, argnums, mode, has_aux, return_cost, sparsity, colour)
    check_mode(mode, who)
    check_order(order, who)
    check_structure(structure, who)
    return_cost = check_return_cost(return_cost, who)

    out_sizes: dict = {}  # auto mode: output size seen per input signature
    replayer = Replayer(fun, who) if replay else None

    def jacobian_fun(*args: Any, **kwargs: Any) -> Any:
        spec = Args(args, argnums, who)
        log = RunLog() if return_cost else None
        program = replayer.program(spec, kwargs, has_aux) if replayer is not None else None
        out_leaves, out_tree, jac, aux, cost = jacobian_flat(
            spec.bind(fun, kwargs) if program is None else as_function(program),
            spec.leaves,
            mode,
            order,
            has_aux,
            who,
            chunk_size=chunk_size,
            out_sizes=out_sizes,
            structure=structure,
            log=log,
            **({} if program is None else _replayed_passes(program)),
        )
        per_out = []
        for o, j in zip(out_leaves, jac):
            blocks = []
            offset = 0
            for leaf in spec.leaves:
                size = size_of(leaf)
                block = dnp.reshape(j[:, offset : offset + size], tuple(shape_of(o)) + tuple(shape_of(leaf)))
                blocks.append(finish(cast_like(block, leaf)))
                offset += size
            per_out.append(spec.structure(blocks))
        result = tree_unflatten(out_tree, per_out)
        if has_aux:
            result = (result, aux)
        if log is not None:
            return result, build_cost(log, mode, chunk_size, cost)
        return result

    jacobian_fun.replayer = replayer  # type: ignore[attr-defined]
    jacobian_fun.__name__ = f"jacobian({getattr(fun, '__name__', 'f')})"
    return jacobian_fun


def _replayed_passes(program: Any) -> dict:
    """The forward pass and the recording of a replayed program, for ``jacobian_flat``."""

    def push(leaves: list, tangents: list, batch: tuple, has_aux: bool, who: str) -> tuple:
        return replay_forward(program, leaves, tangents, batch)

    def pull(leaves: list) -> tuple:
        outs, aux, pullback = replay_pullback(program, leaves)
        return outs, program.out_tree, pullback, aux

    def linearized(leaves: list, has_aux: bool, who: str) -> tuple:
        return replay_linearized(program, leaves, has_aux, who)

    return {"push": push, "pull": pull, "linearized": linearized}


def jvp(
    fun: Callable,
    primals: Sequence,
    tangents: Sequence,
    *,
    batched: bool = False,
    has_aux: bool = False,
    replay: bool = False,
) -> tuple:
    """Forward mode: ``(f(*primals), J · tangents)`` in one pass.

    ``primals`` and ``tangents`` are tuples with one entry per argument of
    ``f`` (each entry may be a nested container). With ``batched=True`` every
    tangent has one extra leading axis of ``k`` directions and the output
    tangents have it too. ``replay=True``: ``fun``'s recorded program runs
    instead of its Python (as for :func:`grad`; kept while ``fun`` lives).
    """
    who = "jvp"
    spec, t_leaves, batch = check_directions(primals, tangents, batched, who)
    program = replayer_of(fun, who).program(spec, {}, has_aux, fun) if replay else None
    if program is None:
        out, tangents_out, out_tree, aux = forward_pass(spec.bind(fun), spec.leaves, t_leaves, batch, has_aux, who)
    else:
        out, tangents_out, out_tree, aux = replay_forward(program, spec.leaves, t_leaves, batch)
    result = (
        tree_unflatten(out_tree, [finish(o) for o in out]),
        tree_unflatten(out_tree, [finish(t) for t in tangents_out]),
    )
    return result + (aux,) if has_aux else result


def vjp(fun: Callable, *primals: Any, has_aux: bool = False, replay: bool = False) -> tuple:
    """Reverse mode: ``(f(*primals), f_vjp)`` where ``f_vjp(u)`` returns ``uᵀ J``
    as a tuple with one entry per primal (``(…, f_vjp, aux)`` with has_aux).

    The tape is kept until ``f_vjp`` is garbage collected, so ``f_vjp`` can be
    called many times. ``f_vjp(u, batched=True)`` takes cotangents with one
    extra leading axis of directions. ``replay=True``: as for :func:`jvp`.
    """
    who = "vjp"
    spec = Args(tuple(primals), tuple(range(len(primals))), who)
    program = replayer_of(fun, who).program(spec, {}, has_aux, fun) if replay else None
    if program is None:
        out, out_tree, pullback, aux = reverse_pass(spec.bind(fun), spec.leaves, has_aux, who)
    else:
        out, aux, pullback = replay_pullback(program, spec.leaves)
        out_tree = program.out_tree

    def f_vjp(cotangent: Any, *, batched: bool = False) -> tuple:
        ct_leaves, ct_tree = tree_flatten(cotangent)
        if ct_tree != out_tree:
            raise ValueError(f"vjp: the cotangent has structure {ct_tree!r} but the output has {out_tree!r}")
        batch = batch_of(ct_leaves, batched, "cotangent", who)
        ct_leaves = check_like("cotangent", ct_leaves, out, batch, who)
        grads = pullback(ct_leaves, batch, False)
        return spec.per_argument([finish(g) for g in grads])

    value = tree_unflatten(out_tree, [finish(o) for o in out])
    return (value, f_vjp, aux) if has_aux else (value, f_vjp)
