"""The two NumPy protocols of traced values: ``__array_ufunc__`` (ufuncs and
their ``reduce``/``accumulate`` methods) and ``__array_function__`` (every
other NumPy function). Both look the call up in the override tables that the
families fill where they declare their functions; what is not there either
only inspects the value (computed on the plain value) or raises."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...core import concrete, nondiff, shape_only_value
from . import cumulative, reductions
from .overrides import FUNCTIONS, UFUNCS

# Ufuncs whose result carries no derivative: computed on the plain values.
NONDIFF_UFUNCS = {
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.isfinite, np.isinf, np.isnan, np.signbit, np.floor_divide,
    np.bitwise_and, np.bitwise_or, np.invert,
}  # fmt: skip
UFUNC_REDUCE: dict[np.ufunc, Callable] = {
    np.add: reductions.sum,
    np.multiply: reductions.prod,
    np.maximum: reductions.max,
    np.minimum: reductions.min,
}
UFUNC_ACCUMULATE: dict[np.ufunc, Callable] = {
    np.add: cumulative.cumsum,
    np.multiply: cumulative.cumprod,
}
# NumPy functions that only inspect a value: they run on the plain value.
# Those that read only its shape and dtype (SHAPE_FUNCTIONS) are not a read
# of the data; those whose array result depends on the data
# (VALUE_FUNCTIONS: indices, masks) are non-differentiable ops of their own
# (``core.nondiff``), so that a replay recomputes them.
SHAPE_FUNCTIONS = {
    np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj, np.zeros_like, np.ones_like,
    np.empty_like, np.can_cast, np.min_scalar_type, np.isscalar,
}  # fmt: skip
VALUE_FUNCTIONS = {
    np.argmax, np.argmin, np.argsort, np.argpartition, np.isfinite, np.isnan, np.isinf, np.isneginf,
    np.isposinf, np.searchsorted, np.digitize, np.isreal, np.iscomplex,
}  # fmt: skip
INSPECTION_FUNCTIONS = {
    np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj,
    np.allclose, np.isclose, np.array_equal, np.array_equiv, np.argmax, np.argmin,
    np.argsort, np.nonzero, np.count_nonzero, np.isfinite, np.isnan, np.isinf,
    np.any, np.all, np.searchsorted, np.argwhere, np.flatnonzero,
    np.zeros_like, np.ones_like, np.empty_like, np.can_cast,
    np.min_scalar_type, np.testing.assert_allclose, np.array_repr, np.array_str,
    np.argpartition, np.isreal, np.iscomplex, np.isscalar, np.may_share_memory,
    np.shares_memory, np.linalg.matrix_rank, np.digitize, np.array2string, np.isneginf, np.isposinf,
}  # fmt: skip


def _qualified_name(func: Callable) -> str:
    """``np.linalg.eig``, ``np.fft.fft``, ``np.convolve``: the name the user typed."""
    parts = (getattr(func, "__module__", None) or "numpy").split(".")
    public = [p for p in parts[1:] if not p.startswith("_")] if parts[0] == "numpy" else parts
    if parts[0] == "numpy":
        return ".".join(["np"] + public[:1] + [func.__name__])
    return ".".join(public + [func.__name__])


def _concrete_tree(x: Any, unwrap: Callable = concrete) -> Any:
    if isinstance(x, (list, tuple)):
        return type(x)(_concrete_tree(v, unwrap) for v in x)
    if isinstance(x, dict):
        return {k: _concrete_tree(v, unwrap) for k, v in x.items()}
    return unwrap(x)



def array_ufunc(self: Any, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    if kwargs.get("out") is not None:
        raise TypeError(
            f"dualrev: np.{ufunc.__name__}(..., out=...) would write into an array in place and "
            f"drop the derivative; use the returned value instead"
        )
    kwargs.pop("out", None)
    if ufunc in NONDIFF_UFUNCS:
        return nondiff(getattr(ufunc, method), *inputs, **kwargs)
    if method == "__call__":
        fn = UFUNCS.get(ufunc)
        if fn is not None:
            if kwargs:
                raise TypeError(f"dualrev: np.{ufunc.__name__} on traced values takes no {sorted(kwargs)}")
            return fn(*inputs)
    elif method == "reduce" and ufunc in UFUNC_REDUCE:
        return UFUNC_REDUCE[ufunc](*inputs, **kwargs)
    elif method == "accumulate" and ufunc in UFUNC_ACCUMULATE:
        (a,) = inputs
        return UFUNC_ACCUMULATE[ufunc](a, axis=kwargs.pop("axis", 0), **kwargs)
    raise NotImplementedError(
        f"dualrev: np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        + " has no derivative rule in dualrev. Use the dualrev.numpy equivalent if there is one, "
        "or make it a primitive with dr.primitive and give it rules with dr.defjvp + dr.defvjp."
    )

# NumPy functions that write into an existing plain array: a traced value
# there would lose its derivative. Each error names the functional spelling.
WRITES_INTO = {
    np.copyto: "dualrev.numpy.full_like / broadcast_to / where to build the array",
    np.put: "dualrev.numpy.where(onehot, value, x) or x + scatter-style sums",
    np.putmask: "dualrev.numpy.where(mask, value, x)",
    np.place: "dualrev.numpy.where(mask, value, x)",
    np.fill_diagonal: "x + dualrev.numpy.diag(values) (or where(eye, value, x))",
}


def array_function(self: Any, func: Callable, types: Any, args: tuple, kwargs: dict) -> Any:
    if func in WRITES_INTO:
        raise TypeError(
            f"dualrev: {_qualified_name(func)} writes a traced value into an array in place (NumPy's "
            f"full, full_like and fill_diagonal call it too), which would drop its derivative; "
            f"use {WRITES_INTO[func]} instead"
        )
    fn = FUNCTIONS.get(func)
    if fn is not None:
        return fn(*args, **kwargs)
    if func in SHAPE_FUNCTIONS:
        return func(*_concrete_tree(args, shape_only_value), **_concrete_tree(kwargs, shape_only_value))
    if func in VALUE_FUNCTIONS and not any(isinstance(v, (list, tuple, dict)) for v in args):
        return nondiff(func, *args, **kwargs)
    if func in INSPECTION_FUNCTIONS:
        return func(*_concrete_tree(args), **_concrete_tree(kwargs))
    raise NotImplementedError(
        f"dualrev: {_qualified_name(func)} has no derivative rule in dualrev. Use the dualrev.numpy "
        f"equivalent if there is one, or make it a primitive with dr.primitive and give it rules "
        f"with dr.defjvp + dr.defvjp (see docs/extending.md)."
    )


__all__ = [
    "NONDIFF_UFUNCS",
    "UFUNC_REDUCE",
    "UFUNC_ACCUMULATE",
    "INSPECTION_FUNCTIONS",
    "SHAPE_FUNCTIONS",
    "VALUE_FUNCTIONS",
    "WRITES_INTO",
    "array_ufunc",
    "array_function",
]
