"""What a differentiated function returns, as every transformation handles it.

The interpreters run the user's function on tracers; what comes back may hold
an ``aux`` value next to the differentiated output, tracers that must be
unwrapped, values of a dtype that cannot be differentiated, and derivatives
whose dtype must follow their input's (float32 stays float32). The helpers
here are shared by forward mode, reverse mode, the explicit mode and the API.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import Trace, Tracer, dtype_of, float_dtype, shape_of, size_of
from .tree import TreeDef, tree_flatten, tree_unflatten


def split_aux(out: Any, has_aux: bool, who: str) -> tuple[Any, Any]:
    """``(value, aux)`` of a function called with ``has_aux``; ``(out, None)`` without."""
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"{who}: with has_aux=True the function must return a pair (value, aux)")
    return out[0], out[1]


def strip(value: Any, trace: Trace) -> Any:
    """``value`` (any container) with the tracer layer of ``trace`` removed."""
    leaves, treedef = tree_flatten(value)
    out = []
    for v in leaves:
        if isinstance(v, Tracer) and v._trace is trace:
            v = v.primal
        out.append(v)
    return tree_unflatten(treedef, out)


def check_output(leaves: list, who: str) -> None:
    """Raise ``TypeError`` unless every output leaf is numeric (float, int or bool)."""
    for v in leaves:
        if np.dtype(dtype_of(v)).kind not in "fiub":
            raise TypeError(
                f"{who}: the function returned a value of dtype {dtype_of(v)}; "
                f"it must return float arrays (or nested tuples/lists/dicts of them)"
            )


def cast_like(value: Any, like: Any) -> Any:
    """Give a derivative the dtype of the value it belongs to (float32 stays float32)."""
    if type(value) is np.ndarray and type(like) is np.ndarray:
        if value.dtype is like.dtype and value.dtype.kind == "f":
            return value  # the common case: already the (float) dtype of its input
    target = float_dtype(like)
    if isinstance(value, np.ndarray) and value.dtype != target:
        return value.astype(target)
    if isinstance(value, np.generic) and value.dtype != target:
        return target.type(value)
    return value


def finish(value: Any) -> Any:
    """A result handed back to the user: a writable ndarray, a NumPy scalar for 0-d."""
    if type(value) is np.ndarray and value.ndim and value.flags.writeable:  # the common case
        return value
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return value[()]
        if not value.flags.writeable:
            return np.array(value)
    return value


def scalar_output(out_leaves: list, out_tree: TreeDef, who: str) -> Any:
    """The one scalar a differentiated function must return for a gradient."""
    if len(out_leaves) != 1:
        raise ValueError(
            f"{who}: the function must return a single scalar, but it returned {out_tree!r} "
            f"({len(out_leaves)} arrays); use dr.jacobian for several outputs"
        )
    (value,) = out_leaves
    if np.dtype(dtype_of(value)).kind != "f":
        raise TypeError(
            f"{who}: the function returned a value of dtype {dtype_of(value)}; "
            f"only real floating-point outputs can be differentiated"
        )
    if size_of(value) != 1:
        raise ValueError(
            f"{who}: the function must return a scalar, but its output has shape "
            f"{tuple(shape_of(value))}; use dr.jacobian (or dr.vjp with a cotangent) for "
            f"non-scalar outputs"
        )
    return value
