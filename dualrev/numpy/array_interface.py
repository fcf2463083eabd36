"""Make traced values behave like ndarrays.

Operators, methods, ``np.*`` calls (through ``__array_ufunc__`` and
``__array_function__``) on a :class:`~dualrev.core.Tracer` all land on the
registry, so unmodified NumPy code can be differentiated. Anything that would
silently drop a derivative — converting to a plain array or a float, writing
into an array in place — raises a ``TypeError`` that says what to do instead.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..core import Tracer, concrete, dtype_of, shape_of
from . import elementwise as el
from . import nn, products, reductions
from . import shape_ops as shape

# ---------------------------------------------------------------- operators


def _binary(fn: Callable) -> tuple[Callable, Callable]:
    def op(self, other):
        return fn(self, other)

    def rop(self, other):
        return fn(other, self)

    return op, rop


def _compare(ufunc: np.ufunc) -> Callable:
    # Comparisons are not differentiable: they return plain boolean arrays.
    def op(self, other):
        return ufunc(concrete(self), concrete(other))

    return op


def _setitem(self, key, value):
    raise TypeError(
        "dualrev: item assignment into a traced array would drop its derivative. Build the "
        "array functionally instead: dualrev.numpy.where(mask, new, x), "
        "dualrev.numpy.concatenate([...]), or x + dualrev.numpy.scatter_add-style updates "
        "(e.g. x * (1 - onehot) + value * onehot)."
    )


def _no_conversion(kind: str) -> Callable:
    def convert(self, *args, **kwargs):
        raise TypeError(
            f"dualrev: cannot convert a traced value to {kind}: that would drop its derivative. "
            f"Keep it as an array and use dualrev.numpy functions on it; if a NumPy array "
            f"received it by item assignment (a[i] = x), build the array with "
            f"dualrev.numpy.stack/concatenate/where instead. Use dualrev.concrete(x) for the "
            f"value alone, without derivative."
        )

    return convert


def _astype(self, dtype, *args, **kwargs):
    dtype = np.dtype(dtype)
    if dtype == dtype_of(self):
        return self
    if not np.issubdtype(dtype, np.inexact):
        raise TypeError(
            f"dualrev: astype({dtype}) of a traced value would drop its derivative; "
            f"round with dualrev.numpy.floor/round (derivative 0) if that is intended"
        )
    return _cast_p(self, dtype=dtype)


def _cast_impl(x, *, dtype):
    return np.asarray(x).astype(dtype) if np.ndim(x) else dtype.type(x)


from ._helpers import Sample, register, sample_arrays, samples  # noqa: E402
from ..core import deflinear  # noqa: E402

_cast_p = register(_cast_impl, "astype")
deflinear(_cast_p, lambda g, ans, x, *, dtype: _cast_p(g, dtype=dtype_of(x)))
samples(_cast_p, lambda rng: [Sample(sample_arrays(rng, "real", (3,)), {"dtype": np.dtype(np.float64)})])


def _iter(self):
    for i in range(len(self)):
        yield self[i]


def _bool(self):
    return bool(concrete(self))


# -------------------------------------------------------- __array_ufunc__

UFUNCS: dict[np.ufunc, Callable] = {
    np.add: el.add,
    np.subtract: el.subtract,
    np.multiply: el.multiply,
    np.true_divide: el.divide,
    np.divide: el.divide,
    np.power: el.power,
    np.negative: el.negative,
    np.positive: el.positive,
    np.absolute: el.absolute,
    np.sign: el.sign,
    np.floor: el.floor,
    np.ceil: el.ceil,
    np.rint: el.rint,
    np.trunc: el.trunc,
    np.sqrt: el.sqrt,
    np.square: el.square,
    np.reciprocal: el.reciprocal,
    np.exp: el.exp,
    np.expm1: el.expm1,
    np.log: el.log,
    np.log1p: el.log1p,
    np.sin: el.sin,
    np.cos: el.cos,
    np.tan: el.tan,
    np.arctan: el.arctan,
    np.sinh: el.sinh,
    np.cosh: el.cosh,
    np.tanh: el.tanh,
    np.maximum: el.maximum,
    np.minimum: el.minimum,
    np.matmul: products.matmul,
}
# Ufuncs whose result carries no derivative: computed on the plain values.
NONDIFF_UFUNCS = {
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.isfinite, np.isinf, np.isnan, np.signbit, np.floor_divide,
}
UFUNC_REDUCE: dict[np.ufunc, Callable] = {
    np.add: reductions.sum,
    np.multiply: reductions.prod,
    np.maximum: reductions.max,
    np.minimum: reductions.min,
}


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    if kwargs.get("out") is not None:
        raise TypeError(
            f"dualrev: np.{ufunc.__name__}(..., out=...) would write into an array in place and "
            f"drop the derivative; use the returned value instead"
        )
    kwargs.pop("out", None)
    if ufunc in NONDIFF_UFUNCS:
        return getattr(ufunc, method)(*[concrete(x) for x in inputs], **kwargs)
    if method == "__call__":
        fn = UFUNCS.get(ufunc)
        if fn is not None:
            if kwargs:
                raise TypeError(f"dualrev: np.{ufunc.__name__} on traced values takes no {sorted(kwargs)}")
            return fn(*inputs)
    elif method == "reduce" and ufunc in UFUNC_REDUCE:
        return UFUNC_REDUCE[ufunc](*inputs, **kwargs)
    raise NotImplementedError(
        f"dualrev: np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        + " has no derivative rule in dualrev. Use the dualrev.numpy equivalent if there is one, "
        "or register one with dr.primitive + dr.defjvp + dr.defvjp."
    )


# ----------------------------------------------------- __array_function__

FUNCTIONS: dict[Callable, Callable] = {}  # filled by dualrev.numpy.__init__
# NumPy functions that only inspect a value: they run on the plain value.
INSPECTION_FUNCTIONS = {
    np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj,
    np.allclose, np.isclose, np.array_equal, np.array_equiv, np.argmax, np.argmin,
    np.argsort, np.nonzero, np.count_nonzero, np.isfinite, np.isnan, np.isinf,
    np.any, np.all, np.sort_complex, np.searchsorted, np.argwhere, np.flatnonzero,
    np.zeros_like, np.ones_like, np.empty_like, np.full_like, np.can_cast,
    np.min_scalar_type, np.testing.assert_allclose, np.array_repr, np.array_str,
}


def _array_function(self, func, types, args, kwargs):
    fn = FUNCTIONS.get(func)
    if fn is not None:
        return fn(*args, **kwargs)
    if func in INSPECTION_FUNCTIONS:
        return func(*_concrete_tree(args), **_concrete_tree(kwargs))
    raise NotImplementedError(
        f"dualrev: np.{func.__name__} has no derivative rule in dualrev. Use the dualrev.numpy "
        f"equivalent if there is one, or register one with dr.primitive + dr.defjvp + dr.defvjp "
        f"(see docs/extending.md)."
    )


def _concrete_tree(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return type(x)(_concrete_tree(v) for v in x)
    if isinstance(x, dict):
        return {k: _concrete_tree(v) for k, v in x.items()}
    return concrete(x)


# ---------------------------------------------------------------- methods


def _method(fn: Callable) -> Callable:
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)

    method.__name__ = getattr(fn, "__name__", "method")
    return method


def _reshape_method(self, *shape, **kwargs):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = shape[0]
    return shape_mod_reshape(self, shape, **kwargs)


shape_mod_reshape = shape.reshape


def _transpose_method(self, *axes):
    if not axes or axes == (None,):
        return shape.transpose(self)
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        axes = axes[0]
    return shape.transpose(self, axes)


def _dot_method(self, other):
    return products.dot(self, other)


def _copy(self, *args, **kwargs):
    return self  # values are immutable from dualrev's point of view


def install(cls: type = Tracer) -> None:
    """Attach the ndarray interface to the tracer base class."""
    for name, fn in {
        "add": el.add, "sub": el.subtract, "mul": el.multiply, "truediv": el.divide,
        "pow": el.power, "matmul": products.matmul,
    }.items():
        op, rop = _binary(fn)
        setattr(cls, f"__{name}__", op)
        setattr(cls, f"__r{name}__", rop)
    cls.__neg__ = lambda self: el.negative(self)
    cls.__pos__ = lambda self: self
    cls.__abs__ = lambda self: el.absolute(self)
    for name, ufunc in {
        "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
        "eq": np.equal, "ne": np.not_equal,
    }.items():
        setattr(cls, f"__{name}__", _compare(ufunc))
    cls.__hash__ = object.__hash__
    cls.__getitem__ = lambda self, index: shape.getitem(self, index)
    cls.__setitem__ = _setitem
    cls.__iter__ = _iter
    cls.__bool__ = _bool
    cls.__array__ = _no_conversion("a NumPy array")
    cls.__float__ = _no_conversion("a Python float")
    cls.__int__ = _no_conversion("a Python int")
    cls.__complex__ = _no_conversion("a Python complex")
    cls.item = _no_conversion("a Python scalar (.item())")
    cls.tolist = _no_conversion("a Python list (.tolist())")
    cls.__array_ufunc__ = _array_ufunc
    cls.__array_function__ = _array_function
    cls.T = property(lambda self: shape.transpose(self))
    cls.mT = property(lambda self: shape.swapaxes(self, -1, -2))
    cls.reshape = _reshape_method
    cls.transpose = _transpose_method
    cls.ravel = _method(shape.ravel)
    cls.flatten = _method(shape.ravel)
    cls.squeeze = _method(shape.squeeze)
    cls.swapaxes = _method(shape.swapaxes)
    cls.astype = _astype
    cls.sum = _method(reductions.sum)
    cls.mean = _method(reductions.mean)
    cls.prod = _method(reductions.prod)
    cls.max = _method(reductions.max)
    cls.min = _method(reductions.min)
    cls.dot = _dot_method
    cls.clip = _method(el.clip)
    cls.copy = _copy
    cls.__copy__ = _copy


__all__ = ["install", "UFUNCS", "FUNCTIONS", "INSPECTION_FUNCTIONS"]
del nn
