"""Traces, tracers and the helpers that read a value's shape and dtype.

The bottom of the package: :class:`Trace` (one transformation in progress,
with its level), :class:`Tracer` (a value being differentiated) and the small
helpers every layer uses on plain and traced values alike; then the checks at
the edges of the rules: the results of rules the registry tests do not cover
(:func:`check_tangent`, :func:`check_cotangent`), traced floats reaching an
argument declared never differentiated (:class:`NeverDifferentiated`), and the
diagnosis of a tracer used after its transformation finished
(:func:`finished_trace_message`). ``dualrev.core`` re-exports all of it; the
levels are explained there.
"""

from __future__ import annotations

import itertools
import math
import sys
from types import FrameType
from typing import Any

import numpy as np

# --------------------------------------------------------------------------
# Traces and tracers
# --------------------------------------------------------------------------

_levels = itertools.count(1)
#: The keyword arguments of a call that has none: one shared dict, so that a
#: tape entry does not carry a fresh empty dict. Never mutated (rules receive
#: ``**kwargs``, a copy).
NO_KWARGS: dict = {}


class Trace:
    """One transformation in progress (a forward or a reverse interpreter).

    ``level`` orders nested transformations: inner ones have higher levels.
    """

    __slots__ = ("level", "active")

    #: Does this trace want to know when a value of one of its tracers is
    #: read as a plain value (``concrete``, ``bool(x)``)? The recording of a
    #: program for replay does: such a read may steer Python code, which a
    #: replay would not re-run (``read_value`` is then called).
    watches_reads = False
    #: Does this trace record non-differentiable ops on its tracers
    #: (comparisons, ``argmax``, ``isnan``...) as ops of their own
    #: (``record_nondiff``)? The recording of a program for replay does, so
    #: that masks and indices are recomputed; the interpreters do not.
    records_nondiff = False

    def __init__(self) -> None:
        self.level = next(_levels)
        self.active = True

    def read_value(self, tracer: Any) -> None:  # pragma: no cover - only traces that watch reads
        pass

    def record_nondiff(self, fn: Any, args: tuple, kwargs: dict) -> Any:  # pragma: no cover
        raise NotImplementedError

    def process(self, prim: Any, args: tuple, kwargs: dict) -> Any:  # pragma: no cover
        raise NotImplementedError

    # Calls of one or two positional arguments and no keywords (the common
    # case: elementwise ops, operators). Interpreters may specialise them;
    # by default they are ``process``.
    def process1(self, prim: Any, x: Any) -> Any:
        return self.process(prim, (x,), NO_KWARGS)

    def process2(self, prim: Any, x: Any, y: Any) -> Any:
        return self.process(prim, (x, y), NO_KWARGS)


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
    """The plain NumPy value under any number of tracer layers (no derivative).

    Every read of a traced value's data passes here, so a trace that watches
    reads (the recording of a program for replay) learns of it."""
    while isinstance(value, Tracer):
        trace = value._trace
        if trace.watches_reads and trace.active:
            trace.read_value(value)
        value = value.primal
    return value


def shape_only_value(value: Any) -> Any:
    """The plain value under any number of tracer layers, for a caller that
    reads only its shape and dtype (``np.zeros_like``, ``np.shape``): not a
    read of its data, so no trace is told."""
    while isinstance(value, Tracer):
        value = value.primal
    return value


def nondiff(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` for a function whose result carries no
    derivative (a comparison, ``argmax``, ``isnan``...), on the plain values.

    A trace that records non-differentiable ops (the recording of a program
    for replay) gets the call as an op of its own, so that a replay recomputes
    the mask or index instead of reusing the recorded one; other traces are
    looked through. Keyword arguments are read as plain values."""
    top = None
    for arg in args:
        if isinstance(arg, Tracer) and (top is None or arg._trace.level > top.level):
            top = arg._trace
    if top is None:
        return fn(*args, **{k: concrete(v) for k, v in kwargs.items()})
    if top.records_nondiff and top.active:
        return top.record_nondiff(fn, args, kwargs)
    return nondiff(fn, *[a.primal if isinstance(a, Tracer) and a._trace is top else a for a in args], **kwargs)


# --------------------------------------------------------------------------
# Checking the results of rules the registry tests do not cover
# --------------------------------------------------------------------------

#: What a rule may return besides ``None``: arrays, NumPy and Python scalars, tracers.
_RESULT_TYPES = (Tracer, np.ndarray, np.generic, float, int)


def check_tangent(prim: Any, argnum: int, mode: str, result: Any, batch: tuple, ans: Any, trace: Any = None) -> Any:
    """The result of an untrusted primitive's JVP rule for argument ``argnum``,
    checked: ``None``, or one tangent per output (a tuple for
    ``multiple_results``) of shape exactly ``batch + output.shape`` and a float
    dtype at least as wide as the output's. ``trace`` is the transformation
    applying the rule (forward mode): a result traced by it means the rule
    closed over one of its values. Raises ``ValueError``."""
    if result is None or not prim.multiple_results:
        return _check_one(prim, argnum, mode, "JVP", result, batch, ans, "its output", trace)
    if not isinstance(result, (tuple, list)) or len(result) != len(ans):
        raise ValueError(
            f"dualrev: the JVP rule of primitive '{prim.name}' for argument {argnum} ({mode} mode) returned "
            f"{type(result).__name__} but a tuple of {len(ans)} tangents (one per result, or None) was expected"
        )
    return tuple(
        _check_one(prim, argnum, mode, "JVP", r, batch, a, f"its result {j}", trace)
        for j, (r, a) in enumerate(zip(result, ans))
    )


def check_answer(prim: Any, ans: Any, trace: Any) -> None:
    """Raise ``ValueError`` when an untrusted primitive's implementation,
    applied to the unwrapped arguments, returned a value of the ``trace``
    applying it: the implementation closes over one of its traced values."""
    answers = ans if prim.multiple_results and isinstance(ans, (tuple, list)) else (ans,)
    if any(isinstance(a, Tracer) and a._trace is trace for a in answers):
        raise ValueError(
            f"dualrev: the implementation of primitive '{prim.name}' returned a value traced by the "
            f"transformation applying it: it closes over a traced value (a variable of the differentiated "
            f"function). An implementation computes on its arguments only: pass the value to the primitive "
            f"as an argument (and give that argument a rule)."
        )


def check_cotangent(prim: Any, argnum: int, mode: str, result: Any, batch: tuple, arg: Any) -> Any:
    """The result of an untrusted primitive's VJP rule for argument ``argnum``,
    checked: ``None`` or a cotangent of shape exactly ``batch + arg.shape`` and
    a float dtype at least as wide as the argument's. Raises ``ValueError``."""
    return _check_one(prim, argnum, mode, "VJP", result, batch, arg, f"argument {argnum}", None)


def _check_one(
    prim: Any, argnum: int, mode: str, kind: str, result: Any, batch: tuple, like: Any, of: str, trace: Any
) -> Any:
    if result is None:
        return None
    what = "tangent" if kind == "JVP" else "cotangent"
    where = f"dualrev: the {kind} rule of primitive '{prim.name}' for argument {argnum} ({mode} mode)"
    if not isinstance(result, _RESULT_TYPES) or isinstance(result, bool):
        raise ValueError(f"{where} returned a {type(result).__name__}; a {what} must be an array (or None for zero)")
    if trace is not None and isinstance(result, Tracer) and result._trace is trace:
        raise ValueError(
            f"{where} returned a value traced by the transformation applying the rule: the rule (or, for "
            f"dr.deflinear, the implementation) closes over a traced value, a variable of the differentiated "
            f"function. Rules must compute from their arguments (tangent, ans, *args) only; pass the value "
            f"to the primitive as an argument."
        )
    expected = tuple(batch) + tuple(shape_of(like))
    got = tuple(shape_of(result))
    if got != expected:
        fix = "broadcast it (dnp.broadcast_to)" if kind == "JVP" else "sum over broadcast axes (dnp.unbroadcast)"
        raise ValueError(
            f"{where} returned a {what} of shape {got}, but {expected} was expected (the batch of directions "
            f"{tuple(batch)} + the shape {tuple(shape_of(like))} of {of}); {fix} or fix the rule"
        )
    dt, want = np.dtype(dtype_of(result)), float_dtype(like)
    if dt.kind != "f" or dt.itemsize < want.itemsize:
        raise ValueError(
            f"{where} returned a {what} of dtype {dt}, but a float dtype at least as wide as {want} (that of "
            f"{of}) was expected; return None for a zero contribution"
        )
    return result


class NeverDifferentiated:
    """The rule of an argument registered with ``None``: it contributes nothing
    for boolean and integer values (masks, indices, traced or not), and a
    traced float value there is an error: the derivative would silently be
    zero. The interpreters call :meth:`check` (with their mode) at the point
    the argument meets the rule; calling the rule itself checks too."""

    __slots__ = ("prim", "argnum", "kind", "mode")

    def __init__(self, prim: Any, argnum: int, kind: str, mode: str) -> None:
        self.prim, self.argnum, self.kind, self.mode = prim, argnum, kind, mode

    def check(self, value: Any, mode: str) -> None:
        """Raise ``ValueError`` when ``value`` (the argument's traced value) is a float."""
        dt = dtype_of(value)
        if dt.kind not in "fc":
            return
        how = "defjvp" if self.kind == "JVP" else "defvjp"
        raise ValueError(
            f"dualrev: primitive '{self.prim.name}' got a traced float value (shape {tuple(shape_of(value))}, "
            f"dtype {dt}) as argument {self.argnum}, whose {self.kind} rule is None (never differentiated), "
            f"in {mode} mode. Give argument {self.argnum} a rule with dr.{how} (a zero rule if its derivative "
            f"really is zero), or pass a constant there (dr.concrete(value), or a value computed outside the "
            f"transformation); None is for boolean and integer arguments (masks, indices)."
        )

    def __call__(self, ct: Any, ans: Any, *args: Any, **kwargs: Any) -> None:
        self.check(args[self.argnum], self.mode)
        return None

    def __repr__(self) -> str:
        return f"<never differentiated: {self.prim.name} argument {self.argnum}>"


#: The interpreter functions that apply rules after the differentiated
#: function has returned (the backward sweep, the explicit mode's local Jacobians).
_SWEEPS = {"dualrev.reverse": ("backward", "_backward_general", "_apply_vjp"), "dualrev.explicit.local": None}


def finished_trace_message(name: Any, args: tuple) -> str:
    """Why a traced value of a finished transformation reached ``name``: a
    closure (a function on the stack closes over it; or a rule, run after the
    differentiated function returned, read it from elsewhere) or an escape."""
    dead = [a for a in args if isinstance(a, Tracer) and not a._trace.active]
    frame: FrameType | None = sys._getframe(2)  # the caller of Primitive.__call__
    in_sweep = False
    while frame is not None:
        code = frame.f_code
        for var in code.co_freevars:
            if any(frame.f_locals.get(var) is d for d in dead):
                return (
                    f"dualrev: '{name}' was applied to a traced value of a finished transformation that the "
                    f"function '{code.co_name}' ({code.co_filename}:{frame.f_lineno}) closes over as '{var}'. "
                    f"A primitive's implementation or derivative rules run on their arguments, and rules may run "
                    f"after the differentiated function has returned: pass '{var}' to the primitive as an "
                    f"argument (its rules receive it in *args) instead of closing over it."
                )
        sweep = _SWEEPS.get(frame.f_globals.get("__name__", ""), ())
        in_sweep = in_sweep or sweep is None or code.co_name in sweep
        frame = frame.f_back
    if in_sweep:
        return (
            f"dualrev: a derivative rule passed a traced value of a finished transformation to '{name}'. Rules "
            f"run after the differentiated function has returned and must compute from their arguments "
            f"(cotangent or tangent, ans, *args) only: pass the value to the primitive as an argument instead "
            f"of reading it from a closure, a global or an object."
        )
    return (
        f"dualrev: a traced value escaped the transformation that created it and was passed to '{name}' "
        f"after that transformation had finished. Return it from the differentiated function (or as aux, "
        f"with has_aux=True) instead of storing it in an outer variable, or store dr.concrete(value)."
    )
