"""Arrays built from traced values: ``array``/``asarray`` of nested lists and
tuples, ``r_``/``c_``, ``linspace``/``logspace``, ``select`` and ``pad``; and
the functions that are the identity (or a constant) on real input: ``copy``,
``real``, ``imag``, ``conj``, ``angle``, ``real_if_close``.

Compositions of the shape and indexing primitives (stack, concatenate,
getitem, where): no new rules. Arithmetic on traced values goes through
their operators.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ...core import Tracer, concrete, shape_of
from .base import ndim_of
from .indexing import along, as_operand, concatenate, index_explicit, scatter_add_p, stack, take, where
from .overrides import FUNCTIONS, numpy_function, numpy_ufunc, traced_tree
from .shape import broadcast_to, expand_dims, moveaxis, ravel, reshape, transpose


def _concrete_tree(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_concrete_tree(v) for v in value]
    return concrete(value)


def _build(value: Any, dtype: np.dtype) -> Any:
    """A nested sequence with traced leaves as one traced array: a stack."""
    if isinstance(value, Tracer):
        return value if value.dtype == dtype else value.astype(dtype)  # type: ignore[attr-defined]
    if isinstance(value, (list, tuple)) and traced_tree(value):
        return stack([_build(item, dtype) for item in value])
    return np.asarray(value, dtype=dtype)


def _from_tree(obj: Any, dtype: Any, ndmin: int) -> Any:
    # NumPy on the plain values gives the dtype, and its errors for ragged input.
    want = np.asarray(_concrete_tree(obj)).dtype if dtype is None else np.dtype(dtype)
    if not np.issubdtype(want, np.inexact):
        raise TypeError(f"dualrev: an array of dtype {want} from traced values would drop their derivative")
    out = _build(obj, want)
    if ndim_of(out) < ndmin:
        out = reshape(out, (1,) * (ndmin - ndim_of(out)) + tuple(shape_of(out)))
    return out


def array(
    object: Any,  # noqa: A002 - NumPy's name
    dtype: Any = None,
    *,
    copy: Any = True,
    order: str = "K",
    subok: bool = False,
    ndmin: int = 0,
    like: Any = None,
) -> Any:
    """``np.array``; lists and tuples that mix traced values, arrays and numbers
    (at any depth) become one traced array, stacked."""
    if not traced_tree(object):
        extra = {} if like is None else {"like": like}
        return np.array(object, dtype=dtype, copy=copy, order=order, subok=subok, ndmin=ndmin, **extra)  # type: ignore[call-overload]
    return _from_tree(object, dtype, ndmin)


def asarray(a: Any, dtype: Any = None, order: Any = None, **kwargs: Any) -> Any:
    """``np.asarray``: traced values (and nested lists of them) as traced arrays."""
    if not traced_tree(a):
        return np.asarray(a, dtype=dtype, order=order, **kwargs)
    return _from_tree(a, dtype, 0)


def asanyarray(a: Any, dtype: Any = None, order: Any = None, **kwargs: Any) -> Any:
    if not traced_tree(a):
        return np.asanyarray(a, dtype=dtype, order=order, **kwargs)
    return _from_tree(a, dtype, 0)


def ascontiguousarray(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    if not traced_tree(a):
        return np.ascontiguousarray(a, dtype=dtype, **kwargs)
    return _from_tree(a, dtype, 1)


for _np_fn, _fn in ((np.array, array), (np.asarray, asarray), (np.asanyarray, asanyarray)):
    FUNCTIONS[_np_fn] = _fn  # never called by NumPy (it converts first): the table lists what dnp replaces
FUNCTIONS[np.ascontiguousarray] = ascontiguousarray


def operand(a: Any) -> Any:
    """A traced value as it is; nested lists with traced leaves stacked; the rest as an ndarray."""
    return a if isinstance(a, Tracer) else asarray(a)


# ------------------------------------------------------------------ r_, c_


class AxisConcatenator:
    """``np.r_`` / ``np.c_`` for traced items: slices, numbers, arrays and the
    leading ``"axis,ndmin,trans1d"`` directive string, as NumPy reads them."""

    def __init__(self, plain: Any, axis: int, ndmin: int, trans1d: int) -> None:
        self._plain, self._defaults = plain, (axis, ndmin, trans1d)

    def __getitem__(self, key: Any) -> Any:
        items = key if isinstance(key, tuple) else (key,)
        if not traced_tree(list(items)):
            return self._plain[key]
        axis, ndmin, trans1d = self._defaults
        pieces = []
        for k, item in enumerate(items):
            if isinstance(item, str):
                if k or item in ("r", "c"):
                    raise NotImplementedError(f"dualrev: the np.r_/np.c_ directive {item!r} is not supported")
                given = [int(v) for v in item.split(",")]
                axis, ndmin, trans1d = (given + [axis, ndmin, trans1d][len(given) :])[:3]
                continue
            if isinstance(item, slice):
                piece = np.r_[item]
                if ndmin > 1:
                    piece = np.array(piece, ndmin=ndmin)
                    if trans1d != -1:
                        piece = piece.swapaxes(-1, trans1d)
                pieces.append(piece)
                continue
            piece = operand(item)
            nd = ndim_of(piece)
            if nd < ndmin:
                piece = reshape(piece, (1,) * (ndmin - nd) + tuple(shape_of(piece)))
                if trans1d != -1 and not isinstance(item, (int, float)):
                    k1, k2 = trans1d, ndmin - nd
                    k1 = k1 + k2 + 1 if k1 < 0 else k1
                    axes = list(range(ndmin))
                    piece = transpose(piece, axes[:k1] + axes[k2:] + axes[k1:k2])
            pieces.append(piece)
        return concatenate(pieces, axis=axis)

    def __len__(self) -> int:
        return 0


r_ = AxisConcatenator(np.r_, 0, 1, -1)
c_ = AxisConcatenator(np.c_, -1, 2, 0)


# ---------------------------------------------------------------- linspace


@numpy_function(np.linspace)
def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
    **kwargs: Any,
) -> Any:
    """NumPy's construction ``arange(num) * step + start`` (the last sample
    ``stop`` itself): differentiable in both endpoints."""
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = (num - 1) if endpoint else num
    start, stop = as_operand(start), as_operand(stop)
    dt = np.result_type(concrete(start), concrete(stop), float(num))
    delta = stop - start
    y: Any = np.arange(0, num, dtype=dt).reshape((-1,) + (1,) * ndim_of(delta))
    step: Any = np.nan
    if div > 0:
        step = delta / div
        y = (y / div) * delta if np.any(concrete(step) == 0) else y * step
    else:
        y = y * delta
    y = y + start
    if endpoint and num > 1:
        last = expand_dims(broadcast_to(stop, tuple(shape_of(y))[1:]), 0)
        y = concatenate([index_explicit(y, (slice(None, -1),)), last], axis=0)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if dtype is not None:
        y = y.astype(dtype)
    return (y, step) if retstep else y


@numpy_function(np.logspace)
def logspace(
    start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: Any = 10.0, dtype: Any = None, axis: int = 0
) -> Any:
    y = linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    if ndim_of(base) > 0:
        base = expand_dims(as_operand(base), axis)
    out = base**y
    return out if dtype is None else out.astype(dtype)


# ------------------------------------------- the identity on real input


@numpy_function(np.copy)
def copy(a: Any, order: str = "K", subok: bool = False) -> Any:
    """Traced values are immutable: the copy is the value itself."""
    return operand(a)


@numpy_function(np.real)
def real(val: Any) -> Any:
    return operand(val)


@numpy_function(np.imag)
def imag(val: Any) -> Any:
    """0 for real input: a constant."""
    return np.zeros(shape_of(val), dtype=operand(val).dtype)


@numpy_ufunc(np.conjugate)
def conjugate(x: Any) -> Any:
    return x


conj = conjugate


@numpy_function(np.angle)
def angle(z: Any, deg: bool = False) -> Any:
    """0 or π for real input: piecewise constant (derivative 0)."""
    return np.angle(concrete(z), deg=deg)


@numpy_function(np.real_if_close)
def real_if_close(a: Any, tol: float = 100) -> Any:
    return operand(a)


# ------------------------------------------------------------------ select


@numpy_function(np.select, sequences=True)
def select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    """The first choice whose condition holds: nested ``where`` (the
    conditions are constants), the last condition innermost."""
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if len(condlist) == 0:
        raise ValueError("select with an empty condition list is not possible")
    conditions = [np.asarray(concrete(c)) for c in condlist]
    for i, c in enumerate(conditions):
        if c.dtype != bool:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray")
    choices = [operand(c) for c in choicelist]
    shape = np.broadcast_shapes(*[c.shape for c in conditions], *[tuple(shape_of(c)) for c in choices])
    result = broadcast_to(operand(default), shape)
    for condition, choice in zip(reversed(conditions), reversed(choices)):
        result = where(condition, choice, result)
    return result


# --------------------------------------------------------------------- pad

_GATHER_MODES = ("edge", "reflect", "symmetric", "wrap")


#: More ``pad`` modes of traced values, filled by the families that can
#: compute them (``quantiles``: the statistics modes and ``linear_ramp``):
#: ``mode -> fn(array, widths, **kwargs)`` with ``widths`` a list of ``(before, after)`` ints.
PAD_MODES: dict[str, Any] = {}


@numpy_function(np.pad)
def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """``np.pad``. ``constant``: ``array`` scattered into zeros plus the border
    (traced ``constant_values`` too: a gather of them). ``edge``, ``reflect``,
    ``symmetric``, ``wrap``: a gather per axis, whose index is NumPy's own pad
    of ``arange(n)`` (so the derivative of a border entry goes to the entry it copies)."""
    array = operand(array)
    n = ndim_of(array)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (n, 2))
    s = tuple(shape_of(array))
    if mode in _GATHER_MODES:
        if kwargs.get("reflect_type", "even") != "even":
            raise NotImplementedError("dualrev: pad(reflect_type='odd') of a traced value is not supported")
        out = array
        for ax in range(n):
            lo, hi = (int(w) for w in widths[ax])
            if lo or hi:
                out = index_explicit(out, along(ax, n, np.pad(np.arange(s[ax]), (lo, hi), mode=mode)))  # type: ignore[call-overload]
        return out
    if isinstance(mode, str) and mode in PAD_MODES:
        return PAD_MODES[mode](array, [(int(lo), int(hi)) for lo, hi in widths], **kwargs)
    if mode != "constant":
        supported = ", ".join(repr(m) for m in ("constant", *_GATHER_MODES, *sorted(PAD_MODES)))
        raise NotImplementedError(f"dualrev: pad(mode={mode!r}) of a traced value is not supported; {supported} are")
    new_shape = tuple(int(d + lo + hi) for d, (lo, hi) in zip(s, widths))
    index = tuple(slice(int(lo), int(lo) + d) for d, (lo, _) in zip(s, widths))
    inner = scatter_add_p(array, index=index, shape=new_shape, in_ndim=n)
    values = kwargs.get("constant_values", 0)
    if traced_tree(values):  # which constant lands where: NumPy's pad of labels 1 .. 2n
        labels = np.pad(np.zeros(s, dtype=np.int64), widths, constant_values=np.arange(1, 2 * n + 1).reshape(n, 2))
        pairs = ravel(broadcast_to(operand(values), (n, 2)))
        return inner + where(labels > 0, take(pairs, np.maximum(labels - 1, 0)), 0.0)
    values = concrete(values)
    if np.all(np.asarray(values) == 0):
        return inner
    return inner + np.pad(np.zeros(s, dtype=array.dtype), widths, mode="constant", constant_values=values)


__all__ = [
    "array",
    "asarray",
    "asanyarray",
    "ascontiguousarray",
    "r_",
    "c_",
    "linspace",
    "logspace",
    "copy",
    "real",
    "imag",
    "conjugate",
    "conj",
    "angle",
    "real_if_close",
    "select",
    "pad",
]
