"""Make traced values behave like ndarrays.

Operators, methods, ``np.*`` calls (through ``__array_ufunc__`` and
``__array_function__``) on a :class:`~dualrev.core.Tracer` all land on the
registry, so unmodified NumPy code can be differentiated. Anything that would
silently drop a derivative — converting to a plain array or a float, writing
into an array in place — raises a ``TypeError`` that says what to do instead.

The override tables are filled where each function is declared (see
``_rules/overrides.py``); ``_rules/protocols.py`` holds the two NumPy
protocols that read them.
"""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np

from ..core import binary_operator, concrete, dtype_of, nondiff, shape_of, unary_operator
from ._rules import binary, cumulative, indexing, products, reductions, shape, statistics, unary
from ._rules import binning as binning  # registers the overrides of bincount, histogram, unique, full_like
from ._rules.overrides import FUNCTIONS, UFUNCS
from ._rules.protocols import (
    INSPECTION_FUNCTIONS,
    NONDIFF_UFUNCS,
    UFUNC_ACCUMULATE,
    UFUNC_REDUCE,
    array_function,
    array_ufunc,
)


def _no_conversion(kind: str) -> NoReturn:
    raise TypeError(
        f"dualrev: cannot convert a traced value to {kind}: that would drop its derivative. "
        f"Keep it as an array and use dualrev.numpy functions on it: np.array([x, ...]) and "
        f"np.asarray of lists holding traced values are dnp.array([x, ...]) / dnp.asarray; if a "
        f"NumPy array received it by item assignment (a[i] = x), build the array with "
        f"dnp.stack/dnp.concatenate/dnp.where instead (dnp = dualrev.numpy). Use "
        f"dualrev.concrete(x) for the value alone, without derivative."
    )


def _in_place(name: str, instead: str) -> NoReturn:
    raise TypeError(
        f"dualrev: x.{name}() modifies a traced array in place, which would drop its "
        f"derivative; use {instead} instead"
    )


class TracerArrayMethods:
    """The ndarray interface of traced values, inherited by the interpreters'
    tracer classes (``forward.Dual``, ``tape.Node``)."""

    __slots__ = ()
    __array_priority__ = 1000.0  # ndarray op tracer -> defer to the tracer
    __hash__ = object.__hash__  # defining __eq__ would otherwise remove it

    # ------------------------------------------------------------ operators
    # The primitives' dispatch for one or two arguments (core.binary_operator),
    # not the entry points: an operator on a tracer is always traced, so the
    # entry point's plain-array check would be wasted.

    __add__ = binary_operator(binary.add.primitive)
    __radd__ = binary_operator(binary.add.primitive, reflected=True)

    __sub__ = binary_operator(binary.subtract.primitive)
    __rsub__ = binary_operator(binary.subtract.primitive, reflected=True)

    __mul__ = binary_operator(binary.multiply.primitive)
    __rmul__ = binary_operator(binary.multiply.primitive, reflected=True)

    __truediv__ = binary_operator(binary.divide.primitive)
    __rtruediv__ = binary_operator(binary.divide.primitive, reflected=True)

    __pow__ = binary_operator(binary.power.primitive)
    __rpow__ = binary_operator(binary.power.primitive, reflected=True)

    __mod__ = binary_operator(binary.remainder.primitive)
    __rmod__ = binary_operator(binary.remainder.primitive, reflected=True)

    def __matmul__(self, other: Any) -> Any:
        return products.matmul_traced(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return products.matmul_traced(other, self)

    def __floordiv__(self, other: Any) -> Any:
        return binary.floor_divide(self, other)  # derivative 0

    def __rfloordiv__(self, other: Any) -> Any:
        return binary.floor_divide(other, self)

    def __divmod__(self, other: Any) -> Any:
        return binary.divmod_(self, other)

    def __rdivmod__(self, other: Any) -> Any:
        return binary.divmod_(other, self)

    def __round__(self, ndigits: int | None = None) -> Any:
        """``round(x)``: ``np.round`` (derivative 0), a traced array like ``x``."""
        return unary.round(self, decimals=0 if ndigits is None else ndigits)

    __neg__ = unary_operator(unary.negative.primitive)

    def __pos__(self) -> Any:
        return self

    __abs__ = unary_operator(unary.absolute.primitive)

    # Comparisons are not differentiable: they return plain boolean arrays
    # (core.nondiff: or ops of their own in the recording of a replay).
    def __lt__(self, other: Any) -> Any:
        return nondiff(np.less, self, other)

    def __le__(self, other: Any) -> Any:
        return nondiff(np.less_equal, self, other)

    def __gt__(self, other: Any) -> Any:
        return nondiff(np.greater, self, other)

    def __ge__(self, other: Any) -> Any:
        return nondiff(np.greater_equal, self, other)

    def __eq__(self, other: Any) -> Any:
        return nondiff(np.equal, self, other)

    def __ne__(self, other: Any) -> Any:
        return nondiff(np.not_equal, self, other)

    # ------------------------------------------------- indexing, iteration
    def __getitem__(self, index: Any) -> Any:
        return indexing.getitem(self, index)

    def __setitem__(self, key: Any, value: Any) -> NoReturn:
        raise TypeError(
            "dualrev: item assignment into a traced array would drop its derivative. Build the "
            "array functionally instead: dualrev.numpy.where(mask, new, x), "
            "dualrev.numpy.concatenate([...]), or x + dualrev.numpy.scatter_add-style updates "
            "(e.g. x * (1 - onehot) + value * onehot)."
        )

    def __iter__(self) -> Any:
        if not shape_of(self):
            raise TypeError("dualrev: iteration over a 0-d (scalar) traced value")
        return (self[i] for i in range(shape_of(self)[0]))

    def __bool__(self) -> bool:
        return bool(concrete(self))

    # ---------------------------------------------- conversions (refused)
    def __array__(self, *args: Any, **kwargs: Any) -> NoReturn:
        _no_conversion("a NumPy array")

    def __float__(self) -> NoReturn:
        _no_conversion("a Python float")

    def __int__(self) -> NoReturn:
        _no_conversion("a Python int")

    def __complex__(self) -> NoReturn:
        _no_conversion("a Python complex")

    def __index__(self) -> NoReturn:
        _no_conversion("a Python int (an index or a size)")

    def __format__(self, spec: str) -> str:
        return format(concrete(self), spec)  # printing only: no derivative involved

    def item(self, *args: Any, **kwargs: Any) -> NoReturn:
        _no_conversion("a Python scalar (.item())")

    def tolist(self, *args: Any, **kwargs: Any) -> NoReturn:
        _no_conversion("a Python list (.tolist())")

    # ------------------------------------------- the NumPy protocols
    __array_ufunc__ = array_ufunc
    __array_function__ = array_function

    # -------------------------------------------------------- attributes
    def __getattr__(self, name: str) -> NoReturn:
        # Only reached when normal lookup fails: say what a traced value is.
        if name.startswith("__"):
            raise AttributeError(name)
        if hasattr(np.ndarray, name):
            hint = f"dualrev.numpy.{name}(x)" if callable(getattr(np, name, None)) else "a dualrev.numpy function"
            raise AttributeError(
                f"dualrev: the ndarray attribute .{name} is not supported on traced values; use "
                f"{hint} if it exists, or dualrev.concrete(x).{name} for the plain value "
                f"(without derivative)"
            )
        raise AttributeError(f"dualrev: a traced value (an ndarray stand-in) has no attribute {name!r}")

    @property
    def shape(self) -> tuple:
        return shape_of(self.primal)  # Tracer's attribute

    @shape.setter
    def shape(self, value: Any) -> NoReturn:
        raise AttributeError(
            "dualrev: setting x.shape would reshape a traced array in place; use x = x.reshape(shape)"
        )

    @property
    def T(self) -> Any:
        return shape.transpose(self)

    @property
    def mT(self) -> Any:
        return shape.swapaxes(self, -1, -2)

    @property
    def real(self) -> Any:
        return self

    @property
    def imag(self) -> Any:
        return np.zeros(shape_of(self), dtype=dtype_of(self))

    def conj(self) -> Any:
        return self

    def conjugate(self) -> Any:
        return self

    def copy(self, *args: Any, **kwargs: Any) -> Any:
        return self  # values are immutable from dualrev's point of view

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: Any) -> Any:
        return self

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> Any:
        dtype = np.dtype(dtype)
        if dtype == dtype_of(self):
            return self
        if not np.issubdtype(dtype, np.inexact):
            raise TypeError(
                f"dualrev: astype({dtype}) of a traced value would drop its derivative; "
                f"round with dualrev.numpy.floor/round (derivative 0) if that is intended"
            )
        return unary.astype_p(self, dtype=dtype)

    # ------------------------------------------------ shape methods
    def reshape(self, *shape_: Any, **kwargs: Any) -> Any:
        if len(shape_) == 1 and not isinstance(shape_[0], (int, np.integer)):
            shape_ = shape_[0]
        return shape.reshape(self, shape_, **kwargs)

    def transpose(self, *axes: Any) -> Any:
        if not axes or axes == (None,):
            return shape.transpose(self)
        if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
            axes = axes[0]
        return shape.transpose(self, axes)

    def ravel(self, *args: Any, **kwargs: Any) -> Any:
        return shape.ravel(self, *args, **kwargs)

    def flatten(self, *args: Any, **kwargs: Any) -> Any:
        return shape.ravel(self, *args, **kwargs)

    def squeeze(self, *args: Any, **kwargs: Any) -> Any:
        return shape.squeeze(self, *args, **kwargs)

    def swapaxes(self, *args: Any, **kwargs: Any) -> Any:
        return shape.swapaxes(self, *args, **kwargs)

    def diagonal(self, *args: Any, **kwargs: Any) -> Any:
        return indexing.diagonal(self, *args, **kwargs)

    def repeat(self, *args: Any, **kwargs: Any) -> Any:
        return indexing.repeat(self, *args, **kwargs)

    def take(self, *args: Any, **kwargs: Any) -> Any:
        return indexing.take(self, *args, **kwargs)

    # ------------------------------------------------ reductions and math
    def sum(self, *args: Any, **kwargs: Any) -> Any:
        return reductions.sum(self, *args, **kwargs)

    def mean(self, *args: Any, **kwargs: Any) -> Any:
        return reductions.mean(self, *args, **kwargs)

    def prod(self, *args: Any, **kwargs: Any) -> Any:
        return reductions.prod(self, *args, **kwargs)

    def max(self, *args: Any, **kwargs: Any) -> Any:
        return reductions.max(self, *args, **kwargs)

    def min(self, *args: Any, **kwargs: Any) -> Any:
        return reductions.min(self, *args, **kwargs)

    def ptp(self, *args: Any, **kwargs: Any) -> Any:
        return reductions.ptp(self, *args, **kwargs)

    def trace(self, *args: Any, **kwargs: Any) -> Any:
        return reductions.trace(self, *args, **kwargs)

    def std(self, *args: Any, **kwargs: Any) -> Any:
        return statistics.std(self, *args, **kwargs)

    def var(self, *args: Any, **kwargs: Any) -> Any:
        return statistics.var(self, *args, **kwargs)

    def cumsum(self, *args: Any, **kwargs: Any) -> Any:
        return cumulative.cumsum(self, *args, **kwargs)

    def cumprod(self, *args: Any, **kwargs: Any) -> Any:
        return cumulative.cumprod(self, *args, **kwargs)

    def dot(self, other: Any) -> Any:
        return products.dot(self, other)

    def clip(self, *args: Any, **kwargs: Any) -> Any:
        return binary.clip(self, *args, **kwargs)

    def round(self, decimals: int = 0, out: Any = None) -> Any:
        return unary.round(self, decimals=decimals, out=out)

    # ------------------------------- methods that only inspect the value
    def argmax(self, *args: Any, **kwargs: Any) -> Any:
        return nondiff(np.ndarray.argmax, self, *args, **kwargs)

    def argmin(self, *args: Any, **kwargs: Any) -> Any:
        return nondiff(np.ndarray.argmin, self, *args, **kwargs)

    def argsort(self, *args: Any, **kwargs: Any) -> Any:
        return nondiff(np.ndarray.argsort, self, *args, **kwargs)

    def argpartition(self, *args: Any, **kwargs: Any) -> Any:
        return nondiff(np.ndarray.argpartition, self, *args, **kwargs)

    def nonzero(self) -> Any:
        return np.ndarray.nonzero(concrete(self))

    def all(self, *args: Any, **kwargs: Any) -> Any:
        return np.ndarray.all(concrete(self), *args, **kwargs)

    def any(self, *args: Any, **kwargs: Any) -> Any:
        return np.ndarray.any(concrete(self), *args, **kwargs)

    def searchsorted(self, v: Any, *args: Any, **kwargs: Any) -> Any:
        return np.ndarray.searchsorted(concrete(self), concrete(v), *args, **kwargs)

    # ------------------------------------------------- in place (refused)
    def sort(self, *args: Any, **kwargs: Any) -> NoReturn:
        _in_place("sort", "dualrev.numpy.sort(x) (or np.sort(x)), which returns a new array")

    def fill(self, *args: Any, **kwargs: Any) -> NoReturn:
        _in_place("fill", "dualrev.numpy.full_like(x, value) or x * 0 + value")

    def resize(self, *args: Any, **kwargs: Any) -> NoReturn:
        _in_place("resize", "dualrev.numpy.reshape or dualrev.numpy.pad")

    def partition(self, *args: Any, **kwargs: Any) -> NoReturn:
        _in_place("partition", "dualrev.numpy.partition(x, kth)")


__all__ = [
    "TracerArrayMethods",
    "UFUNCS",
    "FUNCTIONS",
    "UFUNC_REDUCE",
    "UFUNC_ACCUMULATE",
    "NONDIFF_UFUNCS",
    "INSPECTION_FUNCTIONS",
]
