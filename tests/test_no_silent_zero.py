"""No silent zero gradient, by construction.

A NumPy function that runs on the plain value of a traced argument returns a
constant: its derivative is taken to be 0. That is right only for
piecewise-constant functions (comparisons, ``sign``, ``floor``, ``argmax``,
integer-valued results); anywhere else it is a wrong gradient with no error.

Two checks:

* **The sweep**: every callable of ``numpy``, ``numpy.linalg`` and every
  ufunc of ``scipy.special`` is applied to traced float inputs at random
  points (forward mode, one random direction) with the first argument set
  NumPy itself accepts. Whatever happens must be honest: the tangent equals
  the finite-difference derivative (differentiated, or piecewise constant
  where that derivative is 0), or the call raises dualrev's error, or the
  result is not a number at all. A plain numeric result whose finite
  difference is not 0 — a silent zero — fails.
* **The audit**: every name dualrev lets through without differentiating
  (``INSPECTION_FUNCTIONS``, ``NONDIFF_UFUNCS``, the value-only tracer
  methods, comparisons and the other operators, the zero-derivative
  primitives) and every edge that used to be a silent zero has a verdict in
  ``AUDIT``, checked the same way with a call that exercises it.
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest
import scipy.special

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.numpy._rules.protocols import INSPECTION_FUNCTIONS, NONDIFF_UFUNCS
from dualrev.tree import tree_flatten

RNG = np.random.default_rng(2024)
X = RNG.uniform(0.2, 0.8, 5)  # distinct, inside every common domain
Y = RNG.uniform(0.2, 0.8, 5)
A = RNG.uniform(0.2, 0.8, (3, 3)) + np.eye(3)
IDX = np.array([0, 1, 1, 3, 1])
ZEROS_AT = np.array([-1.0, 0.0, 2.0, 0.0, 0.5])
SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, 1.0, 1.0]])

DIFFERENTIATED, PIECEWISE, RAISES, NON_NUMERIC = "differentiated", "piecewise constant", "raises", "non-numeric"
# Not mathematical functions (I/O, configuration, functions of callables,
# iterators, constructors of uninitialised memory).
SKIP = set(
    """info show_config show_runtime test savetxt save savez savez_compressed load loadtxt genfromtxt fromfile
    memmap printoptions set_printoptions get_printoptions seterr geterr seterrcall geterrcall setbufsize getbufsize
    errstate get_include asmatrix bmat lookfor source who frompyfunc vectorize piecewise apply_along_axis
    apply_over_axes fromfunction fromregex fromiter from_dlpack nditer nested_iters broadcast einsum_path require
    ndenumerate ndindex empty empty_like""".split()
)
# Errors dualrev cannot reword: np.frombuffer asks for the buffer protocol in C,
# which a Python 3.11 class cannot answer (``__buffer__`` is 3.12+).
KNOWN_FOREIGN = {"frombuffer"}


def _as_float(leaf):
    """A numeric leaf as float (None for a non-numeric one)."""
    if dr.is_traced(leaf):
        return leaf
    value = np.asarray(leaf)
    return value.astype(np.float64) if value.dtype.kind in "biuf" else None


def _floats(out):
    leaves = [_as_float(v) for v in tree_flatten(out)[0]] if out is not None else [None]
    return None if any(v is None for v in leaves) else leaves


def verdict(fn, args):
    """How dualrev treats ``fn(*args)`` on traced ``args``: (verdict, detail);
    the verdict is ``"SILENT ZERO"`` or ``"WRONG"`` when it is dishonest."""
    args = tuple(np.array(a) for a in args)  # copies: some NumPy functions write into their arguments
    directions = tuple(RNG.standard_normal(np.shape(a)) for a in args)
    seen = {}

    def wrapped(*traced):
        leaves = _floats(fn(*traced))
        seen["numeric"] = leaves is not None
        return leaves if leaves is not None else 0.0

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _, tangent = dr.jvp(wrapped, args, directions)
        except Exception as error:  # noqa: BLE001 - every error is inspected
            own = str(error).startswith("dualrev") or "dualrev" in str(error.__cause__ or "")
            return (RAISES, str(error)[:120]) if own else ("FOREIGN ERROR", f"{type(error).__name__}: {error}")
        if not seen["numeric"]:
            return NON_NUMERIC, ""
        h = 1e-6
        plus = _floats(fn(*[a + h * d for a, d in zip(args, directions)]))
        minus = _floats(fn(*[a - h * d for a, d in zip(args, directions)]))
    fd = [(p - m) / (2 * h) for p, m in zip(plus, minus)]
    tangent = [np.asarray(t, dtype=np.float64) for t in tree_flatten(tangent)[0]]
    for t, d in zip(tangent, fd):
        finite = np.isfinite(d)
        if not np.allclose(t[finite], d[finite], rtol=1e-4, atol=1e-5):
            silent = np.allclose(t, 0)
            return ("SILENT ZERO" if silent else "WRONG"), f"tangent {t.ravel()[:4]} vs fd {d.ravel()[:4]}"
    if all(np.allclose(d[np.isfinite(d)], 0, atol=1e-5) for d in fd):
        return PIECEWISE, ""
    return DIFFERENTIATED, ""


# ------------------------------------------------------------------ sweep

ARGUMENT_SETS = {"numpy": [(X,), (X, Y), (A,), (A, A)], "linalg": [(A,), (A, A)], "special": [(X,), (X, Y)]}
NAMESPACES = {
    "numpy": (np, np.__all__),
    "linalg": (np.linalg, np.linalg.__all__),
    "special": (scipy.special, [n for n in dir(scipy.special) if isinstance(getattr(scipy.special, n), np.ufunc)]),
}


def _accepted(fn, args):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(*[np.array(a) for a in args])  # copies: np.copyto, np.put ... write into them
        return True
    except Exception:  # noqa: BLE001 - NumPy refuses this signature: try the next one
        return False


def sweep(namespace):
    """{name: (verdict, detail)} over the callables of one namespace."""
    module, names = NAMESPACES[namespace]
    out = {}
    for name in sorted(set(names)):
        fn = getattr(module, name, None)
        if name in SKIP or name.startswith("_") or not callable(fn) or isinstance(fn, type):
            continue
        args = next((a for a in ARGUMENT_SETS[namespace] if _accepted(fn, a)), None)
        if args is not None:
            out[name] = verdict(fn, args)
    return out


@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
def test_sweep_finds_no_silent_zero(namespace):
    results = sweep(namespace)
    honest = (DIFFERENTIATED, PIECEWISE, RAISES, NON_NUMERIC)
    bad = {n: r for n, r in results.items() if r[0] not in honest and n not in KNOWN_FOREIGN}
    assert not bad, f"{namespace}: dishonest derivatives or foreign errors:\n" + "\n".join(
        f"  {n}: {v} {d}" for n, (v, d) in bad.items()
    )
    counts = Counter(v for v, _ in results.values())
    assert counts[DIFFERENTIATED] + counts[PIECEWISE] > 0, counts


# ------------------------------------------------------------------ audit


def _call(name):
    """``np.linalg.cond`` -> the NumPy callable."""
    obj = {"np": np, "dnp": dnp}[name.split(".")[0]]
    for part in name.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def _writes(fn):
    def write(x):
        fn(x)
        return 0.0

    return write


# name -> (verdict, call, arguments): every pass-through name and every former silent zero.
AUDIT = {
    **{f"np.{n}": (PIECEWISE, None, (X,)) for n in """shape ndim size iscomplexobj isrealobj argmax argmin argsort
        nonzero count_nonzero isfinite isnan isinf any all argwhere flatnonzero zeros_like ones_like isreal iscomplex
        isscalar isneginf isposinf signbit logical_not sign floor ceil rint trunc round around""".split()},
    **{f"np.{n}": (PIECEWISE, None, (X, Y)) for n in """allclose isclose array_equal array_equiv greater
        greater_equal less less_equal equal not_equal logical_and logical_or logical_xor floor_divide
        may_share_memory shares_memory""".split()},
    **{f"np.{n}": (NON_NUMERIC, None, (X,)) for n in
       "result_type min_scalar_type array_repr array_str array2string".split()},
    "np.testing.assert_allclose": (RAISES, lambda x: np.testing.assert_allclose(x, x), (X,)),  # converts
    "np.empty_like": (PIECEWISE, lambda x: np.shape(np.empty_like(x)), (X,)),  # values undefined
    "np.can_cast": (PIECEWISE, lambda x: np.can_cast(x, np.float32), (X,)),
    "np.searchsorted": (PIECEWISE, lambda x, y: np.searchsorted(np.sort(x), y), (X, Y)),
    "np.argpartition": (PIECEWISE, lambda x: np.argpartition(x, 2), (X,)),
    "np.digitize": (PIECEWISE, lambda x, y: np.digitize(x, np.sort(y)), (X, Y)),
    "np.linalg.matrix_rank": (PIECEWISE, None, (A,)),
    "np.linalg.norm(ord=0)": (PIECEWISE, lambda x: np.linalg.norm(x, 0), (X,)),
    "np.where(condition)": (PIECEWISE, lambda x: np.where(x > 0.5), (X,)),
    # Integer-only ufuncs: NumPy refuses floats, and a traced value is a float.
    **{f"np.{n}": (RAISES, None, (X, Y)) for n in ("bitwise_and", "bitwise_or")},
    "np.invert": (RAISES, None, (X,)),
    # Value-only tracer methods, comparisons and the other operators.
    **{f"x.{n}()": (PIECEWISE, (lambda n: lambda x: getattr(x, n)())(n), (X,))
       for n in ("argmax", "argmin", "argsort", "nonzero", "all", "any", "round")},
    "x.argpartition(2)": (PIECEWISE, lambda x: x.argpartition(2), (X,)),
    "x.searchsorted(y)": (PIECEWISE, lambda x, y: np.sort(x).searchsorted(y), (X, Y)),
    "x < y": (PIECEWISE, lambda x, y: x < y, (X, Y)),
    "x <= y": (PIECEWISE, lambda x, y: x <= y, (X, Y)),
    "x > y": (PIECEWISE, lambda x, y: x > y, (X, Y)),
    "x >= y": (PIECEWISE, lambda x, y: x >= y, (X, Y)),
    "x == y": (PIECEWISE, lambda x, y: x == y, (X, Y)),
    "x != y": (PIECEWISE, lambda x, y: x != y, (X, Y)),
    "x // y": (PIECEWISE, lambda x, y: x // y, (X, Y)),
    "2.0 // x": (PIECEWISE, lambda x: 2.0 // x, (X,)),
    "bool(x)": (PIECEWISE, lambda x: float(bool(x[0] > 0.5)), (X,)),
    "round(x)": (PIECEWISE, lambda x: round(x[0]), (X,)),
    "divmod(x, y)": (DIFFERENTIATED, divmod, (X, Y)),
    "divmod(2.0, x)": (DIFFERENTIATED, lambda x: divmod(2.0, x), (X,)),
    "np.divmod": (DIFFERENTIATED, None, (X, Y)),
    "x.astype(int)": (RAISES, lambda x: x.astype(int), (X,)),
    # The former silent zeros, now differentiated.
    "np.linalg.cond": (DIFFERENTIATED, None, (A,)),
    "np.linalg.cond(p='fro')": (DIFFERENTIATED, lambda a: np.linalg.cond(a, "fro"), (A,)),
    "np.linalg.cond(p=-2)": (DIFFERENTIATED, lambda a: np.linalg.cond(a, -2), (A,)),
    "np.linalg.det(singular)": (DIFFERENTIATED, np.linalg.det, (SINGULAR,)),
    "np.bincount(weights)": (DIFFERENTIATED, lambda w: np.bincount(IDX, weights=w), (X,)),
    "np.histogram(weights)": (DIFFERENTIATED, lambda a, w: np.histogram(a, bins=3, weights=w), (X, Y)),
    "np.histogram edges": (DIFFERENTIATED, lambda a: np.histogram(a, bins=4)[1], (X,)),
    "np.histogram counts": (PIECEWISE, lambda a: np.histogram(a, bins=4)[0], (X,)),
    "np.histogram(density)": (DIFFERENTIATED, lambda a: np.histogram(a, bins=2, density=True)[0], (X,)),
    "np.histogram_bin_edges": (DIFFERENTIATED, lambda a: np.histogram_bin_edges(a, bins=3), (X,)),
    "np.heaviside": (DIFFERENTIATED, lambda h: np.heaviside(ZEROS_AT, h), (Y,)),
    "np.heaviside(x)": (PIECEWISE, lambda x: np.heaviside(x - 0.5, 0.5), (X,)),
    "np.unique": (DIFFERENTIATED, None, (X,)),
    "np.full_like": (DIFFERENTIATED, lambda x: dnp.full_like(x, x[0]), (X,)),
    # scipy.special through dualrev.scipy (the ufuncs dispatch on traced values).
    **{f"scipy.special.{n}": (DIFFERENTIATED, getattr(scipy.special, n), (X,)) for n in """gamma rgamma loggamma
        erfinv erfcinv erfcx ndtr log_ndtr ndtri log_expit entr exp1 expi j0 j1 y0 y1 i0 i1 k0 k1 i0e k1e""".split()},
    **{f"scipy.special.{n}": (DIFFERENTIATED, getattr(scipy.special, n), (X, Y)) for n in
       "beta betaln xlogy xlog1py kl_div rel_entr".split()},
    "scipy.special.gammasgn": (PIECEWISE, scipy.special.gammasgn, (X,)),
    **{f"scipy.special.{n}(order, x)": (DIFFERENTIATED, (lambda f: lambda x: f(1.5 if f is not scipy.special.yn
        else 2, x))(getattr(scipy.special, n)), (X,)) for n in "jv yv iv ive kv kve yn".split()},
    "scipy.special.betainc(x)": (DIFFERENTIATED, lambda x: scipy.special.betainc(2.0, 3.0, x), (X,)),
    "scipy.special.gammainc(x)": (DIFFERENTIATED, lambda x: scipy.special.gammainc(2.0, x), (X,)),
    "scipy.special.gammaincc(x)": (DIFFERENTIATED, lambda x: scipy.special.gammaincc(2.0, x), (X,)),
    **{f"scipy.special.{n}(traced order)": (RAISES, lambda v, x, f=getattr(scipy.special, n): f(v, x), (X, Y))
       for n in "jv yn iv kv".split()},
    "scipy.special.betainc(traced a)": (RAISES, lambda a, x: scipy.special.betainc(a, 2.0, x), (X, Y)),
    "scipy.special.gammainc(traced a)": (RAISES, scipy.special.gammainc, (X, Y)),
    # Raising: what cannot be differentiated says so.
    "np.sort_complex": (RAISES, None, (X,)),
    "np.full": (RAISES, lambda x: np.full(3, x[0]), (X,)),
    "np.full_like(plain, traced)": (RAISES, lambda x: np.full_like(np.zeros(3), x[0]), (X,)),
    "np.copyto": (RAISES, _writes(lambda x: np.copyto(np.zeros(5), x)), (X,)),
    "np.put": (RAISES, _writes(lambda x: np.put(x, [0], 1.0)), (X,)),
    "np.putmask": (RAISES, _writes(lambda x: np.putmask(x, x > 0.5, 0.0)), (X,)),
    "np.place": (RAISES, _writes(lambda x: np.place(x, x > 0.5, 0.0)), (X,)),
    "np.fill_diagonal": (RAISES, _writes(lambda a: np.fill_diagonal(a, 0.0)), (A,)),
    # Issue 13: differentiated now, or raising where they cannot be.
    "np.interp": (DIFFERENTIATED, lambda x: np.interp(x, [0.0, 1.0], [0.0, 2.0]), (X,)),
    "np.interp(fp)": (DIFFERENTIATED, lambda f: np.interp(X, np.linspace(0.0, 1.0, 5), f), (Y,)),
    "np.angle": (PIECEWISE, None, (X,)),
    "np.imag": (PIECEWISE, None, (X,)),
    "np.median": (DIFFERENTIATED, None, (X,)),
    "np.convolve": (DIFFERENTIATED, None, (X, Y)),
    "np.array([x, y])": (RAISES, lambda x: np.array([x[0], x[1]]), (X,)),
    "np.pad(linear_ramp)": (DIFFERENTIATED, lambda x: np.pad(x, 1, mode="linear_ramp"), (X,)),
    "np.pad(mean)": (DIFFERENTIATED, lambda x: np.pad(x, 1, mode="mean", stat_length=2), (X,)),
    "np.pad(empty)": (RAISES, lambda x: np.pad(x, 1, mode="empty"), (X,)),
    "np.interp(period)": (DIFFERENTIATED, lambda x: np.interp(x, [0.0, 1.0], [0.0, 2.0], period=1.0), (X,)),
    "dnp.interp(traced period)": (RAISES, lambda p: dnp.interp(X, [0.0, 1.0], [0.0, 2.0], period=p[0]), (X,)),
}


@pytest.mark.parametrize("name", sorted(AUDIT))
def test_audited_verdict(name):
    expected, fn, args = AUDIT[name]
    got, detail = verdict(fn if fn is not None else _call(name), args)
    if expected == RAISES and got == "FOREIGN ERROR" and name in ("np.bitwise_and", "np.bitwise_or", "np.invert"):
        got = RAISES  # NumPy's own refusal of floats, exactly as for plain floats
    assert got == expected, f"{name}: {got} {detail}"


def test_the_pass_through_tables_are_audited():
    audited = {_call(n) for n in AUDIT if n.startswith("np.") and "(" not in n and " " not in n}
    missing = sorted(str(f) for f in (set(INSPECTION_FUNCTIONS) | set(NONDIFF_UFUNCS)) if f not in audited)
    assert not missing, f"pass-through names without a verdict in AUDIT: {missing}"


def test_audit_counts():
    counts = Counter(v for v, _, _ in AUDIT.values())
    assert counts[PIECEWISE] >= 60 and counts[DIFFERENTIATED] >= 15 and counts[RAISES] >= 10, counts


if __name__ == "__main__":  # the counts for a report: python tests/test_no_silent_zero.py
    for ns in sorted(NAMESPACES):
        print(ns, dict(Counter(v for v, _ in sweep(ns).values())))
    by_verdict: dict = {}
    for n, (v, _, _) in sorted(AUDIT.items()):
        by_verdict.setdefault(v, []).append(n)
    for v, names in by_verdict.items():
        print(f"{v} ({len(names)}): {', '.join(names)}")
