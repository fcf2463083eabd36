"""One mechanism for "NumPy on plain arrays, dualrev on traced values".

``@numpy_function(np.reshape)`` on ``dualrev.numpy.reshape``

* gives it its plain-array fast path: when no argument is traced (positional
  arguments and keyword values, one level into lists and tuples where a
  function takes a sequence of arrays) the NumPy function is called with the
  arguments unchanged, so ``dnp.reshape`` on an ndarray *is* ``np.reshape``; and
* registers it in :data:`FUNCTIONS`, the table ``__array_function__`` reads,
  so that ``np.reshape(tracer, ...)`` lands on it.

``@numpy_ufunc(np.square)`` does the same for a ufunc (the table is
:data:`UFUNCS`, read by ``__array_ufunc__``), and :func:`ufunc_entry` builds
the entry point of a one- or two-argument elementwise primitive (the
elementwise factories call it where they declare the primitive).
:func:`fallback` gives the fast path alone, for functions that are not NumPy's
(``scipy.special.logsumexp``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

import numpy as np

from ...core import Primitive, Tracer, binary_entry, unary_entry

F = TypeVar("F", bound=Callable[..., Any])



class EntryPoint(Protocol):
    """The public function of an elementwise primitive (``dnp.sin``): callable,
    with the Primitive behind it as ``.primitive``."""

    primitive: Primitive

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


# NumPy function -> dualrev.numpy function, read by ``__array_function__``.
FUNCTIONS: dict[Callable, Callable] = {}
# ufunc (NumPy's or scipy.special's) -> dualrev function, read by ``__array_ufunc__``.
UFUNCS: dict[np.ufunc, Callable] = {}


def _traced_item(values: Any) -> bool:
    """Whether a traced value is among ``values`` or one level into a list or tuple there."""
    for value in values:
        if isinstance(value, Tracer):
            return True
        if isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, Tracer):
                    return True
    return False


def traced_tree(value: Any) -> bool:
    """Whether ``value`` is traced or holds a traced value in nested lists and tuples."""
    if isinstance(value, Tracer):
        return True
    if isinstance(value, (list, tuple)):
        return any(traced_tree(item) for item in value)
    return False


def fallback(plain: Callable, *, sequences: bool = False, nested: bool = False) -> Callable[[F], F]:
    """Decorator: call ``plain`` (unchanged arguments) when nothing is traced.

    "Traced" looks at the positional arguments and the keyword values, and one
    level into lists and tuples among the keyword values — and among the
    positional arguments too when ``sequences`` is set, for the functions
    that take a sequence of arrays (``concatenate``, ``stack``, ...). Other
    functions skip that scan: their tuples are shapes and axes, and scanning
    ``(2, 4)`` would be a third of what ``dnp.reshape`` adds to ``np.reshape``.
    With ``nested`` a first argument that is a list or tuple is scanned at
    every depth (``dnp.max([a, b])``, ``dnp.mean([[a, 1.0], [b, c]])``).
    """

    def decorate(fn: F) -> F:
        if nested:

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if args and isinstance(args[0], (list, tuple)) and traced_tree(args[0]):
                    return fn(*args, **kwargs)
                for arg in args:
                    if isinstance(arg, Tracer):
                        return fn(*args, **kwargs)
                if kwargs and _traced_item(kwargs.values()):
                    return fn(*args, **kwargs)
                return plain(*args, **kwargs)

        elif sequences:

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if _traced_item(args) or (kwargs and _traced_item(kwargs.values())):
                    return fn(*args, **kwargs)
                return plain(*args, **kwargs)

        else:

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                # Inlined (no helper call): this loop is all a plain call pays.
                for arg in args:
                    if isinstance(arg, Tracer):
                        return fn(*args, **kwargs)
                if kwargs:
                    if _traced_item(kwargs.values()):
                        return fn(*args, **kwargs)
                    return plain(*args, **kwargs)
                return plain(*args)

        return wrapper  # type: ignore[return-value]

    return decorate


def numpy_function(
    np_fn: Callable, *aliases: Callable, sequences: bool = False, nested: bool = False
) -> Callable[[F], F]:
    """Decorator: the fast path to ``np_fn`` (see :func:`fallback`), and the
    ``__array_function__`` override of ``np_fn`` and of its ``aliases``
    (``np.round``/``np.around``)."""
    fast = fallback(np_fn, sequences=sequences, nested=nested)

    def decorate(fn: F) -> F:
        wrapper = fast(fn)
        for target in (np_fn, *aliases):
            FUNCTIONS[target] = wrapper
        return wrapper

    return decorate


def numpy_ufunc(ufunc: np.ufunc, *aliases: np.ufunc) -> Callable[[F], F]:
    """Decorator: the fast path to ``ufunc``, and the ``__array_ufunc__``
    override of ``ufunc`` and of its ``aliases`` (``np.deg2rad``/``np.radians``)."""
    fast = fallback(ufunc)

    def decorate(fn: F) -> F:
        wrapper = fast(fn)
        for target in (ufunc, *aliases):
            UFUNCS[target] = wrapper
        return wrapper

    return decorate


def override(entry: Callable, *targets: Callable) -> None:
    """Register ``entry`` as the override of NumPy (or SciPy) callables: ufuncs
    in :data:`UFUNCS`, other functions in :data:`FUNCTIONS`."""
    for target in targets:
        if isinstance(target, np.ufunc):
            UFUNCS[target] = entry
        else:
            FUNCTIONS[target] = entry


def ufunc_entry(prim: Primitive, nargs: int, *overrides: Callable) -> EntryPoint:
    """The public function of a one- or two-argument elementwise primitive,
    registered as the override of ``overrides``.

    On plain arrays it calls the implementation directly: a plain Python
    function costs ~0.1 µs to enter where calling the Primitive object
    (``*args`` packing and the tracer loop in ``Primitive.__call__``) costs
    ~0.5 µs, which is most of the price of ``dnp.sin`` over ``np.sin`` on
    small arrays. A tracer goes straight to its trace's ``process1``/
    ``process2`` (``core.unary_entry``/``binary_entry``: the dispatch rule
    for one or two arguments), keyword arguments to the primitive. The
    primitive is ``entry.primitive``.
    """
    impl = prim.impl
    entry: Any = unary_entry(prim) if nargs == 1 else binary_entry(prim)
    entry.__name__ = entry.__qualname__ = prim.name
    entry.__doc__ = prim.__doc__
    entry.__wrapped__ = impl
    entry.primitive = prim
    override(entry, *overrides)
    return cast(EntryPoint, entry)


__all__ = [
    "EntryPoint", "FUNCTIONS", "UFUNCS", "traced_tree", "fallback", "numpy_function", "numpy_ufunc", "override",
    "ufunc_entry",
]  # fmt: skip
