"""The public transformations: grad, value_and_grad, jacobian, jvp, vjp, hessian, hvp.

Each transformation flattens the user's (possibly nested) arguments to a list
of float arrays, runs one of the interpreters on a function of those leaves,
and rebuilds the user's structure at the end.

Choosing a mode
---------------
``mode="forward"`` pushes tangents (one pass per input direction);
``mode="reverse"`` records a tape and sweeps it backwards (one sweep per output
direction); ``mode="explicit"`` materialises every local Jacobian and
multiplies them in a chosen ``order``. ``mode="auto"`` (the default) picks
between forward and reverse by the sizes: a full Jacobian of f: Rⁿ → Rᵐ costs
about ``n`` JVPs or ``m`` VJPs, so auto uses **reverse when m ≤ n** (always for
``grad``, whose output is a scalar) and **forward when m > n**. To learn m,
the first call records a tape (and reuses it when reverse wins); each
``jacobian(f)`` function then remembers m per input signature, so later calls
go straight to the chosen mode.

Batches of directions
---------------------
``jacobian`` pushes (forward) or pulls (reverse) many directions through one
pass by giving tangents/cotangents a leading batch axis. The basis is cut into
chunks so memory stays bounded: a chunk holds at most
``max(1, CHUNK_ELEMENTS // width)`` directions, where ``width`` is the number of
scalars one direction occupies at the differentiated end (the input size for
forward mode, max(input size, output size) for reverse mode), i.e. the
direction block is at most ``CHUNK_ELEMENTS`` scalars (32 MiB of float64).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import math

import numpy as np

from .core import Tracer, dtype_of, shape_of
from .forward import Dual, ForwardTrace
from .reverse import Node, ReverseTrace, backward
from .tree import tree_flatten, tree_unflatten

__all__ = ["MODES", "grad", "value_and_grad", "jacobian", "jvp", "vjp", "hessian", "hvp", "CHUNK_ELEMENTS"]

MODES = ("forward", "reverse", "explicit")
_MODES_OR_AUTO = MODES + ("auto",)
ORDERS = ("forward", "reverse", "optimal")

#: Largest number of scalars in one block of directions (see module docstring).
CHUNK_ELEMENTS = 1 << 22


# --------------------------------------------------------------------------
# Argument handling
# --------------------------------------------------------------------------


def _check_mode(mode: Any, who: str) -> str:
    if not isinstance(mode, str) or mode not in _MODES_OR_AUTO:
        raise ValueError(f"{who}: unknown mode {mode!r}; choose one of {', '.join(map(repr, _MODES_OR_AUTO))}")
    return mode


def _check_order(order: Any, who: str) -> str:
    if order not in ORDERS:
        raise ValueError(f"{who}: unknown order {order!r}; choose one of {', '.join(map(repr, ORDERS))}")
    return order


def _normalize_argnums(argnums: Any, nargs: int, who: str) -> tuple[tuple[int, ...], bool]:
    if isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool):
        nums, single = (int(argnums),), True
    elif isinstance(argnums, (tuple, list)) and all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in argnums
    ):
        nums, single = tuple(int(a) for a in argnums), False
    else:
        raise TypeError(f"{who}: argnums must be an int or a tuple/list of ints, got {argnums!r}")
    fixed = []
    for a in nums:
        if not -nargs <= a < nargs:
            raise ValueError(
                f"{who}: argnums={argnums!r} asks for positional argument {a}, but the function "
                f"was called with {nargs} positional argument(s)"
            )
        fixed.append(a % nargs)
    if len(set(fixed)) != len(fixed):
        raise ValueError(f"{who}: argnums={argnums!r} repeats an argument")
    return tuple(fixed), single


def _as_input(leaf: Any, who: str, where: str) -> Any:
    """An input leaf as a float array (ints promote to float64; float32 stays)."""
    if type(leaf) is np.ndarray and leaf.dtype.kind == "f":  # the common case, checked first
        return leaf
    if isinstance(leaf, Tracer):  # a value of an enclosing transformation
        kind = dtype_of(leaf).kind
        if kind != "f":
            raise TypeError(f"{who}: {where} is traced with non-float dtype {dtype_of(leaf)}")
        return leaf
    try:
        arr = np.asarray(leaf)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise TypeError(f"{who}: {where} is not numeric ({type(leaf).__name__})") from exc
    kind = arr.dtype.kind
    if kind == "f":
        return arr
    if kind in "iu":
        return arr.astype(np.float64)
    if kind == "b":
        raise TypeError(f"{who}: {where} is boolean; only float (or int, promoted) inputs can be differentiated")
    if kind == "c":
        raise TypeError(f"{who}: {where} is complex; dualrev differentiates real-valued float arrays only")
    raise TypeError(
        f"{who}: {where} is not numeric (got {type(leaf).__name__} with dtype {arr.dtype}); "
        f"pass float arrays, Python numbers, or tuples/lists/dicts of them"
    )


class _Args:
    """The differentiated arguments of one call, flattened to leaves."""

    def __init__(self, args: tuple, argnums: Any, who: str) -> None:
        self.args = args
        self.nums, self.single = _normalize_argnums(argnums, len(args), who)
        self.leaves: list = []
        self.treedefs = []
        self.counts = []
        for a in self.nums:
            leaves, treedef = tree_flatten(args[a])
            self.treedefs.append(treedef)
            self.counts.append(len(leaves))
            self.leaves.extend(_as_input(v, who, f"argument {a}") for v in leaves)

    def rebuild(self, new_leaves: Sequence) -> tuple:
        """The call's positional arguments with the differentiated leaves replaced."""
        args = list(self.args)
        start = 0
        for a, treedef, count in zip(self.nums, self.treedefs, self.counts):
            args[a] = tree_unflatten(treedef, list(new_leaves[start : start + count]))
            start += count
        return tuple(args)

    def structure(self, per_leaf: Sequence) -> Any:
        """Results per input leaf, in the structure of the differentiated arguments."""
        parts = []
        start = 0
        for treedef, count in zip(self.treedefs, self.counts):
            parts.append(tree_unflatten(treedef, list(per_leaf[start : start + count])))
            start += count
        return parts[0] if self.single else tuple(parts)


def _split_aux(out: Any, has_aux: bool, who: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"{who}: with has_aux=True the function must return a pair (value, aux)")
    return out[0], out[1]


def _strip(value: Any, trace: Any) -> Any:
    """Remove this trace's tracer layer from a value (for aux outputs)."""
    leaves, treedef = tree_flatten(value)
    out = []
    for v in leaves:
        if isinstance(v, Tracer) and v._trace is trace:
            v = v.primal
        out.append(v)
    return tree_unflatten(treedef, out)


def _finish(value: Any) -> Any:
    """A result handed back to the user: writable ndarray, NumPy scalar for 0-d."""
    if type(value) is np.ndarray and value.ndim and value.flags.writeable:  # the common case
        return value
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return value[()]
        if not value.flags.writeable:
            return np.array(value)
    return value


def _zeros(batch: tuple, like: Any, dtype: Any = None) -> np.ndarray:
    return np.zeros(tuple(batch) + tuple(shape_of(like)), dtype=dtype if dtype is not None else _float_dtype(like))


def _float_dtype(value: Any) -> np.dtype:
    dt = np.dtype(dtype_of(value))
    return dt if dt.kind == "f" else np.dtype(np.float64)


def _cast_like(value: Any, like: Any) -> Any:
    """Give a derivative the dtype of the value it belongs to (float32 stays float32)."""
    if type(value) is np.ndarray and type(like) is np.ndarray:
        if value.dtype is like.dtype and value.dtype.kind == "f":
            return value  # the common case: already the (float) dtype of its input
    target = _float_dtype(like)
    if isinstance(value, np.ndarray) and value.dtype != target:
        return value.astype(target)
    if isinstance(value, np.generic) and value.dtype != target:
        return target.type(value)
    return value


def _size(value: Any) -> int:
    return math.prod(shape_of(value))


def _check_output(leaves: list, who: str) -> None:
    for v in leaves:
        kind = np.dtype(dtype_of(v)).kind
        if kind not in "fiub":
            raise TypeError(
                f"{who}: the function returned a value of dtype {dtype_of(v)}; "
                f"it must return float arrays (or nested tuples/lists/dicts of them)"
            )


# --------------------------------------------------------------------------
# The two interpreters on flat leaves
# --------------------------------------------------------------------------


def _forward_pass(fun: Callable, primals: list, tangents: list, batch: tuple, has_aux: bool, who: str):
    """Run ``fun`` on dual numbers. Returns (out leaves, out tangents, out treedef, aux)."""
    trace = ForwardTrace(batch)
    try:
        duals = [Dual(p, t, trace) for p, t in zip(primals, tangents)]
        out, aux = _split_aux(fun(duals), has_aux, who)
        aux = _strip(aux, trace)
    finally:
        trace.active = False
    out_leaves, out_tree = tree_flatten(out)
    primals_out, tangents_out = [], []
    for o in out_leaves:
        if isinstance(o, Dual) and o._trace is trace:
            primals_out.append(o.primal_value)
            tangents_out.append(o.tangent)
        else:  # the output does not depend on the inputs
            primals_out.append(o)
            tangents_out.append(_zeros(batch, o))
    _check_output(primals_out, who)
    return primals_out, tangents_out, out_tree, aux


def record(fun: Callable, primals: list, has_aux: bool, who: str, trace: ReverseTrace):
    """Run ``fun`` on nodes of ``trace``, recording its tape.

    Returns ``(in_slots, out_primals, out_tree, out_slots, aux)``: the slots of
    the inputs, the plain output leaves, their structure, the slot of each
    output leaf (``None`` where an output does not depend on the inputs) and
    the aux value. Shared by reverse mode and the explicit mode.
    """
    try:
        nodes = [trace.new_node(p) for p in primals]
        out, aux = _split_aux(fun(nodes), has_aux, who)
        aux = _strip(aux, trace)
    finally:
        trace.active = False
    out_leaves, out_tree = tree_flatten(out)
    primals_out, out_slots = [], []
    for o in out_leaves:
        if isinstance(o, Node) and o._trace is trace:
            primals_out.append(o.value)
            out_slots.append(o.slot)
        else:  # the output does not depend on the inputs
            primals_out.append(o)
            out_slots.append(None)
    _check_output(primals_out, who)
    return [n.slot for n in nodes], primals_out, out_tree, out_slots, aux


def _reverse_pass(fun: Callable, primals: list, has_aux: bool, who: str):
    """Run ``fun`` recording a tape. Returns (out leaves, out treedef, pullback, aux).

    ``pullback(cotangents, batch, consume)`` sweeps the tape; with
    ``consume=True`` it may be called once and frees the tape as it goes.
    """
    trace = ReverseTrace()
    in_slots, primals_out, out_tree, out_slots, aux = record(fun, primals, has_aux, who, trace)

    def pullback(cotangents: list, batch: tuple, consume: bool) -> list:
        seeds: dict[int, Any] = {}
        for slot, ct in zip(out_slots, cotangents):
            if slot is None or ct is None:
                continue
            seeds[slot] = seeds[slot] + ct if slot in seeds else ct
        result = backward(trace.tape, seeds, consume=consume)
        return [
            _cast_like(result[s], p) if s in result else _zeros(batch, p) for s, p in zip(in_slots, primals)
        ]

    return primals_out, out_tree, pullback, aux


def _chunks(n: int, width: int, chunk_size: int | None) -> list[tuple[int, int]]:
    if chunk_size is None:
        chunk_size = max(1, CHUNK_ELEMENTS // max(width, 1))
    chunk_size = max(1, int(chunk_size))
    return [(s, min(n, s + chunk_size)) for s in range(0, n, chunk_size)] or [(0, 0)]


def _basis_block(leaves: list, start: int, stop: int) -> list:
    """Rows ``start:stop`` of the identity over all leaves, split per leaf:
    leaf j gets an array of shape ``(stop - start,) + leaf.shape``."""
    k = stop - start
    blocks = []
    offset = 0
    for leaf in leaves:
        n = _size(leaf)
        block = np.zeros((k, n), dtype=_float_dtype(leaf))
        lo, hi = max(start, offset), min(stop, offset + n)
        if lo < hi:
            rows = np.arange(lo, hi)
            block[rows - start, rows - offset] = 1
        blocks.append(block.reshape((k,) + tuple(shape_of(leaf))))
        offset += n
    return blocks


# --------------------------------------------------------------------------
# Full Jacobians in each mode, on flat leaves
# --------------------------------------------------------------------------


def _jacobian_forward(fun, leaves, has_aux, who, chunk_size=None):
    """Push the identity basis of the inputs through forward passes (n directions)."""
    n = sum(_size(v) for v in leaves)
    rows = None
    out_leaves = out_tree = aux = None
    for start, stop in _chunks(n, n, chunk_size):
        basis = _basis_block(leaves, start, stop)
        out_leaves, tangents, out_tree, aux = _forward_pass(fun, leaves, basis, (stop - start,), has_aux, who)
        if rows is None:
            rows = [[] for _ in out_leaves]
        for acc, t, o in zip(rows, tangents, out_leaves):
            acc.append(_reshape(t, (stop - start, _size(o))))
    # columns: all input directions; J_leaf has shape (out_size, n)
    jac = [_transpose(_concat(parts, 0)) for parts in rows]
    return out_leaves, out_tree, jac, aux


def _jacobian_reverse(fun, leaves, has_aux, who, chunk_size=None, traced=None):
    """Pull the identity basis of the outputs through backward sweeps (m directions)."""
    out_leaves, out_tree, pullback, aux = traced or _reverse_pass(fun, leaves, has_aux, who)
    n = sum(_size(v) for v in leaves)
    m = sum(_size(o) for o in out_leaves)
    blocks = []
    chunks = _chunks(m, max(n, m), chunk_size)
    for i, (start, stop) in enumerate(chunks):
        seeds = _basis_block(out_leaves, start, stop)
        cts = pullback(seeds, (stop - start,), consume=(i == len(chunks) - 1))
        blocks.append(_concat([_reshape(c, (stop - start, _size(p))) for c, p in zip(cts, leaves)], 1))
    full = _concat(blocks, 0)  # (m, n)
    jac = []
    offset = 0
    for o in out_leaves:
        jac.append(full[offset : offset + _size(o)])
        offset += _size(o)
    return out_leaves, out_tree, jac, aux


def _reshape(x, shape):
    from . import numpy as dnp

    return dnp.reshape(x, shape)


def _concat(parts, axis):
    from . import numpy as dnp

    return parts[0] if len(parts) == 1 else dnp.concatenate(parts, axis=axis)


def _transpose(x):
    from . import numpy as dnp

    return dnp.transpose(x)


def _jacobian_flat(fun, leaves, mode, order, has_aux, who, return_cost=False, chunk_size=None, out_sizes=None):
    """Full Jacobian of ``fun`` (a function of the leaves). Returns
    (out leaves, out treedef, [J per out leaf as (out_size, n)], aux, cost).

    ``out_sizes`` (auto mode): a dict from input shapes and dtypes to the
    output size seen for them, kept by one ``jacobian(f)`` function across its
    calls, so that later calls go straight to the cheaper mode."""
    if mode == "explicit":
        from .explicit import explicit_jacobian

        return explicit_jacobian(fun, leaves, order, has_aux, who)
    if mode == "forward":
        return _jacobian_forward(fun, leaves, has_aux, who, chunk_size) + (None,)
    if mode == "reverse":
        return _jacobian_reverse(fun, leaves, has_aux, who, chunk_size) + (None,)
    # auto: reverse when m <= n. The output size m is known only after running
    # f, so the first call records a reverse tape and decides from it (reusing
    # the tape when reverse wins). The mode changes the cost, never the
    # result, so later calls with the same input shapes use the m seen before
    # and run only the chosen mode; m is re-read from every result (for an f
    # whose output size depends on something other than the input shapes).
    n = sum(_size(v) for v in leaves)
    key = tuple((tuple(shape_of(v)), np.dtype(dtype_of(v)).str) for v in leaves)
    m = None if out_sizes is None else out_sizes.get(key)
    if m is not None:
        run = _jacobian_reverse if m <= n else _jacobian_forward
        result = run(fun, leaves, has_aux, who, chunk_size)
        out_sizes[key] = sum(_size(o) for o in result[0])
        return result + (None,)
    traced = _reverse_pass(fun, leaves, has_aux, who)
    m = sum(_size(o) for o in traced[0])
    if out_sizes is not None:
        if len(out_sizes) >= _OUT_SIZES_MAX:
            out_sizes.clear()
        out_sizes[key] = m
    if m <= n:
        return _jacobian_reverse(fun, leaves, has_aux, who, chunk_size, traced=traced) + (None,)
    del traced
    return _jacobian_forward(fun, leaves, has_aux, who, chunk_size) + (None,)


#: How many input signatures one ``jacobian(f, mode="auto")`` remembers.
_OUT_SIZES_MAX = 64


def choose_mode(n_inputs: int, n_outputs: int) -> str:
    """What ``mode="auto"`` picks for a Jacobian of Rⁿ → Rᵐ: reverse when m ≤ n."""
    return "reverse" if n_outputs <= n_inputs else "forward"


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def value_and_grad(
    fun: Callable, argnums: int | Sequence[int] = 0, mode: str = "auto", *, has_aux: bool = False, order: str = "optimal"
) -> Callable:
    """Like :func:`grad`, but the returned function gives ``(value, gradient)``
    (``((value, aux), gradient)`` with ``has_aux=True``)."""
    who = "value_and_grad"
    _check_mode(mode, who)
    _check_order(order, who)

    def value_and_grad_fun(*args: Any, **kwargs: Any):
        spec = _Args(args, argnums, who)

        def f(leaves):
            return fun(*spec.rebuild(leaves), **kwargs)

        def check_scalar(out_leaves, out_tree):
            if len(out_leaves) != 1:
                raise ValueError(
                    f"grad: the function must return a single scalar, but it returned {out_tree!r} "
                    f"({len(out_leaves)} arrays); use dr.jacobian for several outputs"
                )
            (value,) = out_leaves
            kind = np.dtype(dtype_of(value)).kind
            if kind != "f":
                raise TypeError(
                    f"grad: the function returned a value of dtype {dtype_of(value)}; "
                    f"only real floating-point outputs can be differentiated"
                )
            if _size(value) != 1:
                raise ValueError(
                    f"grad: the function must return a scalar, but its output has shape "
                    f"{tuple(shape_of(value))}; use dr.jacobian (or dr.vjp with a cotangent) for "
                    f"non-scalar outputs"
                )
            return value

        if mode in ("reverse", "auto"):
            out_leaves, out_tree, pullback, aux = _reverse_pass(f, spec.leaves, has_aux, who)
            value = check_scalar(out_leaves, out_tree)
            seed = np.ones(shape_of(value), dtype=_float_dtype(value))
            grads = pullback([seed], (), consume=True)
        else:
            if mode == "explicit":
                out_leaves, out_tree, jac, aux, _ = _jacobian_flat(f, spec.leaves, mode, order, has_aux, who)
            else:
                out_leaves, out_tree, jac, aux = _jacobian_forward(f, spec.leaves, has_aux, who)
            value = check_scalar(out_leaves, out_tree)
            row = jac[0]
            grads = []
            offset = 0
            for leaf in spec.leaves:
                size = _size(leaf)
                grads.append(_cast_like(_reshape(row[0, offset : offset + size], shape_of(leaf)), leaf))
                offset += size
        grads = [_finish(g) for g in grads]
        value = _finish(value)
        result = (value, aux) if has_aux else value
        return result, spec.structure(grads)

    value_and_grad_fun.__name__ = f"value_and_grad({getattr(fun, '__name__', 'f')})"
    value_and_grad_fun.__doc__ = fun.__doc__
    return value_and_grad_fun


def grad(
    fun: Callable, argnums: int | Sequence[int] = 0, mode: str = "auto", *, has_aux: bool = False, order: str = "optimal"
) -> Callable:
    """The gradient of a scalar function.

    ``dr.grad(f)(x)`` has the structure and shape of ``x``. ``argnums`` picks
    the differentiated positional argument(s) (an int, or a tuple for a tuple
    of gradients); keyword arguments pass through undifferentiated.
    ``mode`` is ``"reverse"`` (one backward sweep: the cheap choice for a
    scalar output), ``"forward"`` (one JVP per input scalar, batched),
    ``"explicit"`` (materialised local Jacobians, multiplied in ``order``) or
    ``"auto"`` (reverse). ``has_aux=True``: ``f`` returns ``(value, aux)`` and
    the result is ``(gradient, aux)``.

    Raises ``ValueError`` when ``f`` does not return a scalar (use
    :func:`jacobian`), ``TypeError`` for a non-float output or non-numeric
    input.
    """
    vg = value_and_grad(fun, argnums, mode, has_aux=has_aux, order=order)

    def grad_fun(*args: Any, **kwargs: Any):
        (value, g) = vg(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    grad_fun.__name__ = f"grad({getattr(fun, '__name__', 'f')})"
    grad_fun.__doc__ = fun.__doc__
    return grad_fun


def jacobian(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    mode: str = "auto",
    *,
    order: str = "optimal",
    has_aux: bool = False,
    return_cost: bool = False,
    chunk_size: int | None = None,
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

    ``mode="explicit"`` materialises the local Jacobians and multiplies them in
    ``order`` (``"forward"``, ``"reverse"`` or ``"optimal"``); with
    ``return_cost=True`` the function returns ``(J, cost)``.
    """
    who = "jacobian"
    _check_mode(mode, who)
    _check_order(order, who)
    if return_cost and mode != "explicit":
        raise ValueError("jacobian: return_cost=True needs mode='explicit' (operation counts come from that mode)")

    out_sizes: dict = {}  # auto mode: output size seen per input signature

    def jacobian_fun(*args: Any, **kwargs: Any):
        spec = _Args(args, argnums, who)

        def f(leaves):
            return fun(*spec.rebuild(leaves), **kwargs)

        out_leaves, out_tree, jac, aux, cost = _jacobian_flat(
            f, spec.leaves, mode, order, has_aux, who, chunk_size=chunk_size, out_sizes=out_sizes
        )
        per_out = []
        for o, j in zip(out_leaves, jac):
            blocks = []
            offset = 0
            for leaf in spec.leaves:
                size = _size(leaf)
                block = _reshape(j[:, offset : offset + size], tuple(shape_of(o)) + tuple(shape_of(leaf)))
                blocks.append(_finish(_cast_like(block, leaf)))
                offset += size
            per_out.append(spec.structure(blocks))
        result = tree_unflatten(out_tree, per_out)
        if has_aux:
            result = (result, aux)
        if return_cost:
            return result, cost
        return result

    jacobian_fun.__name__ = f"jacobian({getattr(fun, '__name__', 'f')})"
    return jacobian_fun


def _check_like(name: str, values: list, like: list, batch: tuple, who: str) -> list:
    out = []
    for v, p in zip(values, like):
        v = v if isinstance(v, Tracer) else np.asarray(v)
        expected = tuple(batch) + tuple(shape_of(p))
        if tuple(shape_of(v)) != expected:
            hint = " (batched=True: one extra leading axis of directions)" if batch else ""
            raise ValueError(f"{who}: a {name} has shape {tuple(shape_of(v))} but {expected} was expected{hint}")
        out.append(_cast_like(v, p) if not isinstance(v, Tracer) else v)
    return out


def jvp(fun: Callable, primals: Sequence, tangents: Sequence, *, batched: bool = False, has_aux: bool = False):
    """Forward mode: ``(f(*primals), J · tangents)`` in one pass.

    ``primals`` and ``tangents`` are tuples with one entry per argument of
    ``f`` (each entry may be a nested container). With ``batched=True`` every
    tangent has one extra leading axis of ``k`` directions and the output
    tangents have it too.
    """
    who = "jvp"
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples (one entry per argument of f)")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: got {len(primals)} primals but {len(tangents)} tangents")
    spec = _Args(tuple(primals), tuple(range(len(primals))), who)
    t_leaves, t_tree = tree_flatten(tuple(tangents))
    p_tree = tree_flatten(tuple(primals))[1]
    if t_tree != p_tree:
        raise ValueError(f"jvp: tangents have structure {t_tree!r} but primals have {p_tree!r}")
    if batched:
        ks = {shape_of(t)[0] if len(shape_of(t)) else None for t in t_leaves}
        if len(ks) != 1 or None in ks:
            raise ValueError("jvp: with batched=True every tangent needs the same leading axis of directions")
        batch = (ks.pop(),) if t_leaves else (0,)
    else:
        batch = ()
    t_leaves = _check_like("tangent", t_leaves, spec.leaves, batch, who)

    def f(leaves):
        return fun(*spec.rebuild(leaves))

    out, tangents_out, out_tree, aux = _forward_pass(f, spec.leaves, t_leaves, batch, has_aux, who)
    result = (
        tree_unflatten(out_tree, [_finish(o) for o in out]),
        tree_unflatten(out_tree, [_finish(t) for t in tangents_out]),
    )
    return result + (aux,) if has_aux else result


def vjp(fun: Callable, *primals: Any, has_aux: bool = False):
    """Reverse mode: ``(f(*primals), f_vjp)`` where ``f_vjp(u)`` returns ``uᵀ J``
    as a tuple with one entry per primal (``(…, f_vjp, aux)`` with has_aux).

    The tape is kept until ``f_vjp`` is garbage collected, so ``f_vjp`` can be
    called many times. ``f_vjp(u, batched=True)`` takes cotangents with one
    extra leading axis of directions.
    """
    who = "vjp"
    spec = _Args(tuple(primals), tuple(range(len(primals))), who)

    def f(leaves):
        return fun(*spec.rebuild(leaves))

    out, out_tree, pullback, aux = _reverse_pass(f, spec.leaves, has_aux, who)

    def f_vjp(cotangent: Any, *, batched: bool = False) -> tuple:
        ct_leaves, ct_tree = tree_flatten(cotangent)
        if ct_tree != out_tree:
            raise ValueError(f"vjp: the cotangent has structure {ct_tree!r} but the output has {out_tree!r}")
        if batched:
            ks = {shape_of(c)[0] if len(shape_of(c)) else None for c in ct_leaves}
            if len(ks) != 1 or None in ks:
                raise ValueError("vjp: with batched=True every cotangent needs the same leading axis of directions")
            batch = (ks.pop(),)
        else:
            batch = ()
        ct_leaves = _check_like("cotangent", ct_leaves, out, batch, who)
        grads = pullback(ct_leaves, batch, consume=False)
        parts = []
        start = 0
        for treedef, count in zip(spec.treedefs, spec.counts):
            parts.append(tree_unflatten(treedef, [_finish(g) for g in grads[start : start + count]]))
            start += count
        return tuple(parts)

    value = tree_unflatten(out_tree, [_finish(o) for o in out])
    return (value, f_vjp, aux) if has_aux else (value, f_vjp)


def _nested_modes(mode: Any, who: str) -> tuple[str, str]:
    if mode == "auto":
        return "forward", "reverse"
    if isinstance(mode, str):
        _check_mode(mode, who)
        return mode, mode
    if isinstance(mode, (tuple, list)) and len(mode) == 2:
        outer, inner = mode
        _check_mode(outer, who)
        _check_mode(inner, who)
        return ("forward" if outer == "auto" else outer), ("reverse" if inner == "auto" else inner)
    raise ValueError(f"{who}: mode must be a mode name or an (outer, inner) pair, got {mode!r}")


def hessian(fun: Callable, argnums: int | Sequence[int] = 0, mode: Any = ("forward", "reverse")) -> Callable:
    """The Hessian of a scalar function: shape ``x.shape + x.shape``.

    Computed as the Jacobian of the gradient. ``mode`` is an ``(outer, inner)``
    pair: the default ``("forward", "reverse")`` is forward-over-reverse (one
    reverse sweep differentiated by a batch of JVPs: the cheapest choice); any
    pair of modes works, or a single mode name for both.
    """
    outer, inner = _nested_modes(mode, "hessian")
    return jacobian(grad(fun, argnums, mode=inner), argnums, mode=outer)


def hvp(fun: Callable, primals: Sequence, tangents: Sequence, mode: Any = ("forward", "reverse")) -> tuple:
    """Hessian-vector product ``H v`` of a scalar function, without forming H.

    ``primals`` and ``tangents`` are tuples (one entry per argument); the result
    is a tuple with one entry per primal. The default forward-over-reverse
    pushes one tangent through the gradient computation (cost ≈ a few
    gradients); ``("reverse", "forward")`` and the others give the same numbers.
    """
    outer, inner = _nested_modes(mode, "hvp")
    argnums = tuple(range(len(primals)))
    gradient = grad(fun, argnums, mode=inner)
    if outer == "forward":
        return tuple(jvp(gradient, tuple(primals), tuple(tangents))[1])

    from . import numpy as dnp

    def directional(*args):
        g = gradient(*args)
        total = 0.0
        for gl, vl in zip(tree_flatten(g)[0], tree_flatten(tuple(tangents))[0]):
            total = total + dnp.sum(gl * vl)
        return total

    return grad(directional, argnums, mode=outer)(*primals)
