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
import scipy.special

from ..core import Tracer, concrete, deflinear, dtype_of, shape_of
from . import elementwise as el
from . import products, reductions
from ._helpers import Sample, register, sample_arrays, samples
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


# Casting between float dtypes is linear (the identity on values); its
# transpose casts the cotangent back to the input's dtype.
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
    np.arcsin: el.arcsin,
    np.arccos: el.arccos,
    np.arcsinh: el.arcsinh,
    np.arccosh: el.arccosh,
    np.arctanh: el.arctanh,
    np.exp2: el.exp2,
    np.log2: el.log2,
    np.log10: el.log10,
    np.cbrt: el.cbrt,
    np.fabs: el.fabs,
    np.deg2rad: el.deg2rad,
    np.rad2deg: el.rad2deg,
    np.radians: el.deg2rad,
    np.degrees: el.rad2deg,
    np.arctan2: el.arctan2,
    np.hypot: el.hypot,
    np.logaddexp: el.logaddexp,
    np.logaddexp2: el.logaddexp2,
    np.remainder: el.remainder,
    np.fmod: el.fmod,
    np.fmax: el.fmax,
    np.fmin: el.fmin,
    np.float_power: el.float_power,
    np.conjugate: el.positive,  # real values: the identity
    scipy.special.expit: el.sigmoid,
    scipy.special.logit: el.logit,
    scipy.special.erf: el.erf,
    scipy.special.erfc: el.erfc,
    scipy.special.gammaln: el.gammaln,
    scipy.special.psi: el.digamma,
}
# Ufuncs whose result carries no derivative: computed on the plain values.
NONDIFF_UFUNCS = {
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.isfinite, np.isinf, np.isnan, np.signbit, np.floor_divide,
    np.heaviside, np.bitwise_and, np.bitwise_or, np.invert,
}
UFUNC_REDUCE: dict[np.ufunc, Callable] = {
    np.add: reductions.sum,
    np.multiply: reductions.prod,
    np.maximum: reductions.max,
    np.minimum: reductions.min,
}
UFUNC_ACCUMULATE: dict[np.ufunc, Callable] = {
    np.add: reductions.cumsum,
    np.multiply: reductions.cumprod,
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
    elif method == "accumulate" and ufunc in UFUNC_ACCUMULATE:
        (a,) = inputs
        return UFUNC_ACCUMULATE[ufunc](a, axis=kwargs.pop("axis", 0), **kwargs)
    raise NotImplementedError(
        f"dualrev: np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        + " has no derivative rule in dualrev. Use the dualrev.numpy equivalent if there is one, "
        "or make it a primitive with dr.primitive and give it rules with dr.defjvp + dr.defvjp."
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
    np.argpartition, np.isreal, np.iscomplex, np.isscalar, np.may_share_memory,
    np.shares_memory, np.linalg.matrix_rank, np.linalg.cond, np.digitize, np.histogram,
    np.bincount, np.unique, np.array2string, np.isneginf, np.isposinf,
}


def _array_function(self, func, types, args, kwargs):
    fn = FUNCTIONS.get(func)
    if fn is not None:
        return fn(*args, **kwargs)
    if func in INSPECTION_FUNCTIONS:
        return func(*_concrete_tree(args), **_concrete_tree(kwargs))
    raise NotImplementedError(
        f"dualrev: {_qualified_name(func)} has no derivative rule in dualrev. Use the dualrev.numpy "
        f"equivalent if there is one, or make it a primitive with dr.primitive and give it rules "
        f"with dr.defjvp + dr.defvjp (see docs/extending.md)."
    )


def _qualified_name(func: Callable) -> str:
    """``np.linalg.eig``, ``np.fft.fft``, ``np.convolve``: the name the user typed."""
    parts = (getattr(func, "__module__", None) or "numpy").split(".")
    public = [p for p in parts[1:] if not p.startswith("_")] if parts[0] == "numpy" else parts
    return ".".join(["np"] + public[:1] + [func.__name__]) if parts[0] == "numpy" else ".".join(public + [func.__name__])


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


def _on_value(fn: Callable) -> Callable:
    """A method that only inspects the value (argmax, nonzero, …): no derivative."""

    def method(self, *args, **kwargs):
        return fn(concrete(self), *args, **kwargs)

    return method


def _in_place(name: str, instead: str) -> Callable:
    def method(self, *args, **kwargs):
        raise TypeError(
            f"dualrev: x.{name}() modifies a traced array in place, which would drop its "
            f"derivative; use {instead} instead"
        )

    return method


def _round_method(self, decimals=0, out=None):
    return el.round(self, decimals=decimals, out=out)


def _imag(self):
    return np.zeros(shape_of(self), dtype=dtype_of(self))


class TracerArrayMethods:
    """The ndarray interface of traced values, inherited by the interpreters'
    tracer classes (``forward.Dual``, ``tape.Node``)."""

    __slots__ = ()
    __array_priority__ = 1000.0  # ndarray op tracer -> defer to the tracer


def install(cls: type = TracerArrayMethods) -> None:
    """Attach the ndarray interface to the tracer mixin."""
    for name, fn in {
        "add": el.add, "sub": el.subtract, "mul": el.multiply, "truediv": el.divide,
        "pow": el.power, "matmul": products.matmul, "mod": el.remainder,
        "floordiv": lambda x, y: np.floor_divide(concrete(x), concrete(y)),  # derivative 0
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
    cls.__deepcopy__ = lambda self, memo: self
    cls.std = _method(reductions.std)
    cls.var = _method(reductions.var)
    cls.cumsum = _method(reductions.cumsum)
    cls.cumprod = _method(reductions.cumprod)
    cls.trace = _method(shape.trace)
    cls.diagonal = _method(shape.diagonal)
    cls.repeat = _method(shape.repeat)
    cls.take = _method(shape.take)
    cls.round = _round_method
    cls.conj = cls.conjugate = lambda self: self
    cls.real = property(lambda self: self)
    cls.imag = property(_imag)
    cls.ptp = _method(reductions.ptp)
    for name in ("argmax", "argmin", "argsort", "argpartition", "nonzero", "all", "any", "searchsorted"):
        setattr(cls, name, _on_value(getattr(np.ndarray, name)))
    cls.sort = _in_place("sort", "dualrev.numpy.sort(x) (or np.sort(x)), which returns a new array")
    cls.fill = _in_place("fill", "dualrev.numpy.full_like(x, value) or x * 0 + value")
    cls.resize = _in_place("resize", "dualrev.numpy.reshape or dualrev.numpy.pad")
    cls.partition = _in_place("partition", "dualrev.numpy.partition(x, kth)")


__all__ = ["TracerArrayMethods", "install", "UFUNCS", "FUNCTIONS", "INSPECTION_FUNCTIONS"]
