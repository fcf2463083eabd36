"""Traces, tracers and the helpers that read a value's shape and dtype.

The bottom of the package: :class:`Trace` (one transformation in progress,
with its level), :class:`Tracer` (a value being differentiated) and the small
helpers every layer uses on plain and traced values alike. ``dualrev.core``
re-exports all of it; the levels are explained there.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

# --------------------------------------------------------------------------
# Traces and tracers
# --------------------------------------------------------------------------

_levels = itertools.count(1)


class Trace:
    """One transformation in progress (a forward or a reverse interpreter).

    ``level`` orders nested transformations: inner ones have higher levels.
    """

    __slots__ = ("level", "active")

    def __init__(self) -> None:
        self.level = next(_levels)
        self.active = True

    def process(self, prim: Any, args: tuple, kwargs: dict) -> Any:  # pragma: no cover
        raise NotImplementedError


class HasShape:
    """``ndim`` and ``size`` derived from ``shape``, for array-like stand-ins
    (tracers, and the shape-only placeholders the tape keeps)."""

    __slots__ = ()

    @property
    def ndim(self) -> int:
        return len(self.shape)  # type: ignore[attr-defined]  # each subclass has a shape

    @property
    def size(self) -> int:
        return math.prod(self.shape)  # type: ignore[attr-defined]


class Tracer(HasShape):
    """A value being differentiated (``forward.Dual``, ``tape.Node``).

    ``primal`` is the value it stands for: a plain array, or a tracer of an
    enclosing transformation. The ndarray behaviour (operators, methods,
    ``__array_ufunc__``...) comes from the ``TracerArrayMethods`` mixin of
    ``dualrev.numpy``, so that every operation goes through the registry.
    """

    __slots__ = ("primal", "_trace")
    primal: Any
    _trace: Any  # the Trace it belongs to

    @property
    def shape(self) -> tuple:
        return shape_of(self.primal)

    @property
    def dtype(self) -> np.dtype:
        return dtype_of(self.primal)

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d (scalar) traced value")
        return shape[0]


def shape_of(value: Any) -> tuple:
    """``value.shape`` for arrays and tracers, ``np.shape`` for Python scalars."""
    try:
        return value.shape
    except AttributeError:
        return np.shape(value)


def dtype_of(value: Any) -> np.dtype:
    """``value.dtype`` for arrays and tracers, NumPy's choice for Python scalars."""
    try:
        return value.dtype
    except AttributeError:
        return np.result_type(value)


def size_of(value: Any) -> int:
    """The number of scalars in ``value`` (1 for a Python number)."""
    return math.prod(shape_of(value))


def float_dtype(*values: Any) -> np.dtype:
    """The dtype derivatives of ``values`` take: their common floating dtype,
    float64 when none of them is floating (ints promote, float32 stays)."""
    dt = np.result_type(*[dtype_of(v) for v in values]) if values else np.dtype(np.float64)
    return dt if dt.kind == "f" else np.dtype(np.float64)


def zeros_with_batch(batch: tuple, like: Any) -> np.ndarray:
    """A zero tangent/cotangent of ``like``: shape ``batch + like.shape``, its float dtype."""
    return np.zeros(tuple(batch) + tuple(shape_of(like)), dtype=float_dtype(like))


def is_traced(value: Any) -> bool:
    """True when ``value`` is being differentiated by some dualrev transformation."""
    return isinstance(value, Tracer)


def concrete(value: Any) -> Any:
    """The plain NumPy value under any number of tracer layers (no derivative)."""
    while isinstance(value, Tracer):
        value = value.primal
    return value
