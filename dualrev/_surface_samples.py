"""The inputs :mod:`dualrev._surface` probes the public functions with.

Most functions need none of their own: the generator searches
:data:`CANDIDATES` for the first assignment of their required positional
arguments that NumPy (or SciPy) itself accepts with a finite result. The
calls that search cannot find (a subscript string, a list of conditions, a
tuple holding a factor, a callable) are written out in :data:`CALLS`: a
function of the probed values and, per parameter, its sample value or a
:class:`Static` label. Every value is fixed: the page does not depend on a
random seed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.integrate
import scipy.linalg
import scipy.signal
import scipy.special
import scipy.stats

from . import numpy as dnp
from .numpy._rules.overrides import FUNCTIONS, UFUNCS
from .scipy import integrate, linalg, signal, special, stats

V = np.array([0.23, 0.41, 0.67])  # increasing, distinct, inside (0, 1)
W = np.array([1.25, 1.5, 1.8])  # above one
M = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.2]])  # symmetric positive definite
L = np.linalg.cholesky(M)
LU = np.triu(M) + np.tril(M, -1) / 4  # a packed LU factor (unit lower triangle)
BAND = np.array([[0.0, 0.3, 0.2], [2.0, 1.5, 1.2], [0.3, 0.2, 0.0]])  # (1, 1)-banded, diagonal dominant

#: Tried for each required positional argument, in this order.
CANDIDATES: tuple = (V, W, M, 1, 0, -1, (2, 3))

#: Keyword parameters that are static by their name (never probed).
STATIC_NAMES = frozenset(
    """out dtype order casting subok like copy axis axes axis1 axis2 axisa axisb axisc keepdims kind method mode
    overwrite_a overwrite_b overwrite_ab overwrite_input check_finite signature where_ok""".split()
)


class Static:
    """A parameter that is not probed, with the reason shown on the page."""

    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label


Call = tuple[Callable[..., Any], tuple[tuple[str, Any], ...]]
STRING, CALLABLE, BOOLEANS = Static("a string"), Static("a callable"), Static("booleans")


def _decay(y: Any, t: Any, k: Any) -> Any:
    return -k * y


#: Written-out calls: ``(fn(*probed values), ((name, value or Static), ...))``.
CALLS: dict[str, dict[str, Call]] = {
    "numpy": {
        "einsum": (lambda a, b: dnp.einsum("ij,j->i", a, b),
                   (("subscripts", STRING), ("*operands", M), ("*operands", V))),  # fmt: skip
        "where": (dnp.where, (("condition", V - 0.41), ("x", V), ("y", W))),  # one entry picks y
        "reshape": (lambda a: dnp.reshape(a, (3, 1)), (("a", V), ("newshape", Static("a shape")))),
        "roll": (lambda a: dnp.roll(a, 1), (("a", V), ("shift", Static("integers")))),
        "dsplit": (lambda a: dnp.dsplit(a, 2), (("ary", np.arange(8.0).reshape(2, 2, 2) / 8),
                                                ("indices_or_sections", Static("integers")))),  # fmt: skip
        "select": (lambda c, d: dnp.select([V > 0.3], [c], d), (("condlist", BOOLEANS), ("choicelist", V),
                                                                   ("default", np.array(0.7)))),  # fmt: skip
        "r_": (lambda a, b: dnp.r_[a, b], (("[items]", V), ("[items]", W))),
        "c_": (lambda a, b: dnp.c_[a, b], (("[items]", V), ("[items]", W))),
        "getitem": (lambda x: dnp.getitem(x, 1), (("x", V), ("index", Static("an index")))),
        "take_along_axis": (lambda a: dnp.take_along_axis(a, np.array([2, 0]), axis=0),
                            (("arr", V), ("indices", Static("integers")))),  # fmt: skip
        "interp": (lambda x, xp, fp, left, right: dnp.interp(x, xp, fp, left, right),
                   (("x", np.array([0.1, 0.3, 0.9])), ("xp", V), ("fp", W), ("left", np.array(0.7)),
                    ("right", np.array(0.2)), ("period", Static("a plain number (traced: raises)")))),  # fmt: skip
        "pad": (lambda a, c: dnp.pad(a, 1, constant_values=c),
                (("array", V), ("pad_width", Static("integers")), ("constant_values", np.array(0.7)))),  # fmt: skip
        "full_like": (dnp.full_like, (("a", V), ("fill_value", np.array(0.7)))),
        "bincount": (lambda w: dnp.bincount(np.array([0, 1, 1, 3]), w),
                     (("x", Static("integers")), ("weights", np.array([0.2, 0.4, 0.6, 0.8])))),  # fmt: skip
        "linear": (dnp.linear, (("h", V), ("W", M), ("b", W))),
    },
    "linalg": {
        "multi_dot": (lambda a, b, c: dnp.linalg.multi_dot([a, b, c]), (("arrays", M), ("arrays", M), ("arrays", V))),
    },
    "special": {},
    "linalg_scipy": {
        "cho_solve": (lambda c, b: linalg.cho_solve((c, True), b), (("c_and_lower[0]", L), ("b", V))),
        "lu_solve": (lambda lu, b: linalg.lu_solve((lu, np.array([0, 1, 2])), b), (("lu_and_piv[0]", LU), ("b", V))),
        "solve_banded": (lambda ab, b: linalg.solve_banded((1, 1), ab, b),
                         (("l_and_u", Static("integers")), ("ab", BAND), ("b", V))),  # fmt: skip
        "eigh": (lambda a: linalg.eigh(a), (("a", M), ("b", Static("unsupported: b= raises")))),
    },
    "signal": {},
    "integrate": {
        "odeint": (lambda y0, t, k: integrate.odeint(_decay, y0, t, k),
                   (("func", CALLABLE), ("y0", np.array([1.0, 2.0])), ("t", np.array([0.0, 0.5, 1.0])),
                    ("*args", np.array(0.7)))),  # fmt: skip
    },
}

_SHAPES = {"norm": (), "t": (W[1],), "gamma": (W[1],), "beta": (W[0], W[2]), "chi2": (W[2],)}


def stats_calls() -> dict[str, Call]:
    """The probes of ``dualrev.scipy.stats``: ``"norm.logpdf"`` -> a call."""
    out: dict[str, Call] = {}
    for dist, methods in stats.DIFFERENTIABLE.items():
        for method in methods:
            fn = getattr(getattr(stats, dist), method)
            out[f"{dist}.{method}"] = _stats_call(dist, method, fn)
    return out


def _stats_call(dist: str, method: str, fn: Callable) -> Call:
    if dist in _SHAPES:
        names = [n.strip() for n in (getattr(scipy.stats, dist).shapes or "").split(",") if n.strip()]
        first = "q" if method in ("ppf", "isf") else "x"
        values = (V, *(np.array(v) for v in _SHAPES[dist]), np.array(0.05), np.array(1.1))
        return fn, tuple(zip((first, *names, "loc", "scale"), values))
    if dist == "poisson":
        return fn, (("k", np.array([0.0, 1.0, 3.0])), ("mu", np.array(1.5)), ("loc", np.array(0.0)))
    simplex, alpha = np.array([0.2, 0.3, 0.5]), W
    if dist == "dirichlet":
        return (fn, (("alpha", alpha),)) if method == "entropy" else (fn, (("x", simplex), ("alpha", alpha)))
    if method == "entropy":
        return fn, (("mean", V), ("cov", M))
    return fn, (("x", W), ("mean", V), ("cov", M))


class Section:
    """One namespace: its public ``names`` (name -> function), the library it
    wraps, the written-out calls and the candidate inputs of its probes."""

    def __init__(self, title: str, module: Any, library: Any, names: dict[str, Any], calls: dict[str, Call],
                 candidates: tuple = CANDIDATES) -> None:  # fmt: skip
        self.title, self.module, self.library, self.names = title, module, library, names
        self.calls, self.candidates = calls, candidates

    def overridden(self) -> dict[str, Any]:
        """The library's own names (not in ``names``) that dualrev overrides on traced values."""
        if self.module is None:
            return {}
        table: dict[Any, Any] = {**FUNCTIONS, **UFUNCS}
        own = [(n, getattr(self.module, n)) for n in sorted(dir(self.module)) if not n.startswith("_")]
        return {n: table[fn] for n, fn in own
                if n not in self.names and fn is getattr(self.library, n, None) and in_table(fn, table)}  # fmt: skip

    def passing_through(self) -> list[str]:
        """The library's other public callables, passed through unchanged."""
        if self.module is None:
            return []
        skip = set(self.names) | set(self.overridden())
        return [n for n in sorted(dir(self.module)) if n not in skip and not n.startswith("_")
                and (fn := getattr(self.module, n)) is getattr(self.library, n, None)
                and callable(fn) and not isinstance(fn, type)]  # fmt: skip


def in_table(fn: Any, table: Any) -> bool:
    """``fn in table``, False for an unhashable ``fn``."""
    try:
        return fn in table
    except TypeError:  # unhashable
        return False


_LINALG: Any = dnp.linalg  # dualrev.numpy.linalg (mypy sees numpy.linalg, star-imported first)


def sections() -> list[Section]:
    """The namespaces of the page, in order."""
    stats_probes = stats_calls()
    matrices = (M, *(c for c in CANDIDATES if c is not M))
    return [
        Section("dualrev.numpy", dnp, np, {n: getattr(dnp, n) for n in dnp.DIFFERENTIABLE}, CALLS["numpy"]),
        Section("dualrev.numpy.linalg", _LINALG, np.linalg,
                {n: getattr(_LINALG, n) for n in _LINALG.DIFFERENTIABLE}, CALLS["linalg"], matrices),
        Section("dualrev.scipy.special", special, scipy.special,
                {n: getattr(special, n) for n in special.DIFFERENTIABLE}, CALLS["special"]),
        Section("dualrev.scipy.stats", None, None, {n: call[0] for n, call in stats_probes.items()}, stats_probes),
        Section("dualrev.scipy.linalg", linalg, scipy.linalg, {n: getattr(linalg, n) for n in linalg.DIFFERENTIABLE},
                CALLS["linalg_scipy"], matrices),
        Section("dualrev.scipy.signal", signal, scipy.signal, {n: getattr(signal, n) for n in signal.DIFFERENTIABLE},
                CALLS["signal"]),
        Section("dualrev.scipy.integrate", integrate, scipy.integrate,
                {n: getattr(integrate, n) for n in integrate.DIFFERENTIABLE}, CALLS["integrate"]),
    ]  # fmt: skip


__all__ = ["V", "W", "M", "CANDIDATES", "STATIC_NAMES", "Static", "CALLS", "stats_calls", "Section", "in_table",
           "sections"]
