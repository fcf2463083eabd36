"""Programs kept per input signature, and when replay does not apply.

A program is reused only for a call whose *signature* equals the recording
call's: the structure, shapes and dtypes of the differentiated arguments, and
the values of everything else (the other positional arguments and the
keyword arguments: arrays by their bytes, numbers, strings, ``None``,
functions by identity, and containers of these). A call with an argument
that cannot be part of a signature (an arbitrary object, which could change
between calls), with traced inputs (replay inside another transformation),
or whose recording was refused runs unreplayed; each reason is warned once
per transformed function.
"""

from __future__ import annotations

import types
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .._arguments import Args
from ..core import Tracer
from .program import Program, record_program


class ReplayWarning(UserWarning):
    """A function given ``replay=True`` runs unreplayed (the message says why)."""


class _Unkeyable(Exception):
    pass


_SIMPLE = (int, float, complex, str, bytes, bool, type(None), type(Ellipsis))
_CALLABLES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, np.ufunc, type)


def _key(value: Any) -> Any:
    """A hashable stand-in for an argument that is equal exactly when the values are."""
    kind = type(value)
    if kind is np.ndarray:
        if value.dtype.kind == "O":
            raise _Unkeyable("an object array")
        return ("array", value.shape, value.dtype.str, value.tobytes())
    if isinstance(value, Tracer):
        raise _Unkeyable("a traced value")
    if isinstance(value, np.generic):
        return ("scalar", value.dtype.str, value.tobytes())
    if isinstance(value, slice):
        return ("slice", _key(value.start), _key(value.stop), _key(value.step))
    if isinstance(value, _SIMPLE):
        return (kind.__name__, value)
    if isinstance(value, (tuple, list)):
        return (kind.__name__, tuple(_key(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, _key(v)) for k, v in value.items()))
    if isinstance(value, _CALLABLES):
        return ("callable", id(value), value)
    raise _Unkeyable(f"an argument of type {kind.__name__}")


def signature(spec: Args, kwargs: dict) -> tuple:
    """The replay signature of one call (raises ``_Unkeyable``)."""
    if any(isinstance(leaf, Tracer) for leaf in spec.leaves):
        raise _Unkeyable("inputs traced by an enclosing transformation (replay inside another transformation)")
    leaves = tuple([(leaf.shape, leaf.dtype.str) for leaf in spec.leaves])
    nums = spec.nums
    others = tuple([_key(a) for i, a in enumerate(spec.args) if i not in nums])
    return (nums, tuple(spec.treedefs), leaves, others, _key(kwargs) if kwargs else ())


class Replayer:
    """The programs of one transformed function, by signature."""

    def __init__(self, fun: Callable | None, who: str, name: str | None = None) -> None:
        self.fun = fun  # the function whose program is recorded (None: given at each call)
        self.who = who
        self.name = name or getattr(fun, "__name__", "f")  # for the warnings
        self.programs: dict[tuple, Program | None] = {}  # None: refused for this signature
        self.warned: set[str] = set()

    def program(self, spec: Args, kwargs: dict, has_aux: bool, fun: Callable | None = None) -> Program | None:
        """The program for this call, recording it (``fun``, or the function
        the replayer was made for) on the first call of a signature; ``None``
        when the call must run unreplayed."""
        try:
            key = signature(spec, kwargs)
        except _Unkeyable as why:
            self._warn(f"it was called with {why}, which cannot be part of a replay signature")
            return None
        if key in self.programs:
            return self.programs[key]
        target = fun if fun is not None else self.fun
        assert target is not None, "a Replayer made without a function needs one at each call"
        try:
            recorded = record_program(spec.bind(target, kwargs), spec.leaves, has_aux, self.who)
        except Exception as exc:  # any failure of the recording means: run as without replay
            # In the recording, values that are plain arrays in every other
            # mode (masks, indices) are traced, and code may treat them as
            # plain (item assignment, int(), NumPy functions dualrev lacks).
            # The unreplayed run then does what it always does (and raises
            # the same error if the function itself is wrong).
            self._warn(f"recording it raised {type(exc).__name__} ({str(exc)[:200]})")
            self.programs[key] = None
            return None
        if recorded.refusal is not None:
            self._warn(f"its recording cannot be replayed: {recorded.refusal}")
        if len(self.programs) >= 64:  # ever-new signatures: keep the cache bounded
            self.programs.clear()
        self.programs[key] = recorded.program
        return recorded.program

    def _warn(self, why: str) -> None:
        if why in self.warned:
            return
        self.warned.add(why)
        warnings.warn(
            f"dualrev.{self.who}({self.name}, replay=True): {why}; it runs unreplayed (as with replay=False), "
            f"which is always correct but re-runs its Python on every call",
            ReplayWarning,
            stacklevel=4,
        )


_by_function: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def replayer_of(fun: Callable, who: str) -> Replayer:
    """The :class:`Replayer` of ``fun`` for the transformations that take the
    function at each call (``jvp``, ``vjp``, ``hvp``): kept while ``fun``
    lives (it holds no reference to ``fun``: pass the function to record to
    :meth:`Replayer.program`). ``who`` names the transformation and its
    variant (``"hvp/reverse"``): one replayer per name."""
    make = lambda: Replayer(None, who.split("/")[0], getattr(fun, "__name__", "f"))  # noqa: E731
    try:
        per_fun = _by_function.setdefault(fun, {})
    except TypeError:  # not weak-referenceable (a builtin): a fresh one, never reused
        return make()
    rep = per_fun.get(who)
    if rep is None:
        rep = per_fun[who] = make()
    return rep


__all__ = ["Replayer", "ReplayWarning", "replayer_of", "signature"]
