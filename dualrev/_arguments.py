"""Argument handling for the public transformations: mode and ``argnums``
checks, the differentiated arguments flattened to float leaves, and the
checks of user-supplied tangents and cotangents."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._outputs import cast_like
from .core import Tracer, dtype_of, shape_of
from .explicit.linearize import STRUCTURE_MODES
from .tree import TreeDef, tree_flatten, tree_unflatten

MODES = ("forward", "reverse", "explicit")
MODES_OR_AUTO = MODES + ("auto",)
ORDERS = ("forward", "reverse", "optimal")


def check_mode(mode: Any, who: str) -> str:
    if not isinstance(mode, str) or mode not in MODES_OR_AUTO:
        raise ValueError(f"{who}: unknown mode {mode!r}; choose one of {', '.join(map(repr, MODES_OR_AUTO))}")
    return mode


def check_order(order: Any, who: str) -> Any:
    """An order name, or a user's elimination order (a list of vertices, checked
    against the graph by the explicit mode)."""
    if isinstance(order, (list, tuple)):
        return order
    if not isinstance(order, str) or order not in ORDERS:
        raise ValueError(
            f"{who}: unknown order {order!r}; choose one of {', '.join(map(repr, ORDERS))} "
            f"or pass a list of the graph's intermediate vertices (mode='explicit')"
        )
    return order


def check_structure(structure: Any, who: str) -> str:
    if structure not in STRUCTURE_MODES:
        raise ValueError(
            f"{who}: unknown structure {structure!r}; choose one of {', '.join(map(repr, STRUCTURE_MODES))}"
        )
    return structure


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def normalize_argnums(argnums: Any, nargs: int, who: str) -> tuple[tuple[int, ...], bool]:
    """``argnums`` as a tuple of non-negative positions, and whether it was a single int."""
    nums: tuple[int, ...]
    if _is_int(argnums):
        nums, single = (int(argnums),), True
    elif isinstance(argnums, (tuple, list)) and all(_is_int(a) for a in argnums):
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


def as_input(leaf: Any, who: str, where: str) -> Any:
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


#: ``normalize_argnums`` results by (argnums, number of arguments): checked once.
_ARGNUMS: dict[tuple, tuple[tuple[int, ...], bool]] = {}


class Args:
    """The differentiated arguments of one call, flattened to leaves."""

    def __init__(self, args: tuple, argnums: Any, who: str) -> None:
        self.args = args
        key = (argnums if type(argnums) is int else tuple(argnums) if type(argnums) is tuple else None, len(args))
        checked = _ARGNUMS.get(key) if key[0] is not None else None
        if checked is None:
            checked = normalize_argnums(argnums, len(args), who)
            if key[0] is not None and len(_ARGNUMS) < 256:
                _ARGNUMS[key] = checked
        self.nums, self.single = checked
        self.leaves: list = []
        self.treedefs: list[TreeDef] = []
        self.counts: list[int] = []
        for a in self.nums:
            leaves, treedef = tree_flatten(args[a])
            self.treedefs.append(treedef)
            self.counts.append(len(leaves))
            for v in leaves:  # the common leaf (a float ndarray) checked inline
                self.leaves.append(
                    v if type(v) is np.ndarray and v.dtype.kind == "f" else as_input(v, who, f"argument {a}")
                )

    def bind(self, fun: Callable, kwargs: dict | None = None) -> Callable[[list], Any]:
        """``fun`` as a function of the differentiated leaves alone (the other
        arguments and the keyword arguments fixed to this call's)."""
        kwargs = kwargs or {}

        def of_leaves(leaves: list) -> Any:
            return fun(*self.rebuild(leaves), **kwargs)

        return of_leaves

    def rebuild(self, new_leaves: Sequence) -> tuple:
        """The call's positional arguments with the differentiated leaves replaced."""
        args = list(self.args)
        for a, part in zip(self.nums, self._split(new_leaves)):
            args[a] = part
        return tuple(args)

    def per_argument(self, per_leaf: Sequence) -> tuple:
        """Values per input leaf regrouped per differentiated argument (one entry each)."""
        return tuple(self._split(per_leaf))

    def structure(self, per_leaf: Sequence) -> Any:
        """Results per input leaf, in the structure of the differentiated arguments."""
        parts = self.per_argument(per_leaf)
        return parts[0] if self.single else parts

    def _split(self, per_leaf: Sequence) -> list:
        parts, start = [], 0
        for treedef, count in zip(self.treedefs, self.counts):
            parts.append(tree_unflatten(treedef, list(per_leaf[start : start + count])))
            start += count
        return parts


def batch_of(leaves: list, batched: bool, name: str, who: str) -> tuple:
    """The batch shape ``(k,)`` shared by batched tangents/cotangents, or ``()``."""
    if not batched:
        return ()
    ks = {shape_of(t)[0] if len(shape_of(t)) else None for t in leaves}
    if len(ks) != 1 or None in ks:
        shapes = ", ".join(str(tuple(shape_of(t))) for t in leaves) or "none"
        raise ValueError(
            f"{who}: with batched=True every {name} needs the same leading axis of directions "
            f"(got shapes {shapes})"
        )
    return (ks.pop(),)


def check_like(name: str, values: list, like: list, batch: tuple, who: str) -> list:
    """User tangents/cotangents checked against the values they belong to:
    shape ``batch + value.shape``, a real numeric dtype (ints promote)."""
    out = []
    for v, p in zip(values, like):
        v = v if isinstance(v, Tracer) else np.asarray(v)
        expected = tuple(batch) + tuple(shape_of(p))
        if tuple(shape_of(v)) != expected:
            hint = " (batched=True: one extra leading axis of directions)" if batch else ""
            raise ValueError(f"{who}: a {name} has shape {tuple(shape_of(v))} but {expected} was expected{hint}")
        if np.dtype(dtype_of(v)).kind not in "fiu":
            raise TypeError(
                f"{who}: a {name} has dtype {dtype_of(v)}; {name}s must be real float arrays "
                f"(ints are promoted) of the dtype of the values they belong to"
            )
        out.append(cast_like(v, p) if not isinstance(v, Tracer) else v)
    return out


def check_directions(primals: Any, tangents: Any, batched: bool, who: str) -> tuple[Args, list, tuple]:
    """``primals`` and their ``tangents`` as ``jvp`` and ``hvp`` take them (tuples,
    one entry per argument of ``f``), checked: the differentiated arguments,
    the tangent leaves (shape ``batch + primal.shape``, cast to the primals'
    dtypes) and the batch shape."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            f"{who}: primals and tangents must be tuples with one entry per argument of f, e.g. "
            f"dr.{who}(f, (x,), (v,)) rather than dr.{who}(f, x, v); got {type(primals).__name__} and "
            f"{type(tangents).__name__}"
        )
    if len(primals) != len(tangents):
        raise ValueError(f"{who}: got {len(primals)} primals but {len(tangents)} tangents (one per primal)")
    spec = Args(tuple(primals), tuple(range(len(primals))), who)
    t_leaves, t_tree = tree_flatten(tuple(tangents))
    p_tree = tree_flatten(tuple(primals))[1]
    if t_tree != p_tree:
        raise ValueError(f"{who}: tangents have structure {t_tree!r} but primals have {p_tree!r}")
    batch = batch_of(t_leaves, batched, "tangent", who)
    return spec, check_like("tangent", t_leaves, spec.leaves, batch, who), batch
