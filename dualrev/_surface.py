"""The differentiable surface of ``dualrev.numpy`` and ``dualrev.scipy``, generated.

``python -m dualrev._surface --write`` regenerates ``docs/api-surface.md``
(``python -m dualrev._surface`` prints it); ``tests/test_api_surface.py``
fails when the committed page differs from :func:`surface_markdown`.

For every public name of each namespace's ``DIFFERENTIABLE`` list the page
says which arguments are differentiable and why the others are not:

* **A primitive's entry point** (``dnp.sin.primitive``): read from the
  registry. Positional argument ``i`` is differentiable when the primitive
  has a JVP and a VJP rule for it (``jvp_rules[i]``, or ``jvp_rule_any`` for
  a variadic one); a rule registered as ``None`` means never differentiated;
  keyword arguments are static.
* **A composition** (written with several primitives): probed. Each argument
  is traced alone (``dr.jvp``, one fixed direction) on sample inputs that
  NumPy itself accepts, the others plain, and the result classified (see
  :data:`VERDICTS`). A float value where NumPy refuses one is an integer,
  index or shape; keyword parameters named in ``STATIC_NAMES`` or with a
  bool, string or tuple default are static. The inputs are fixed
  (``_surface_samples.py``), so the page is deterministic. One point per
  argument: "0 here" marks a derivative that vanished at the sample.
* NumPy's ufunc keywords (``out``, ``where``, ``casting`` ...) are not
  listed; on traced values they are static or refused.
"""

from __future__ import annotations

import inspect
import itertools
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import scipy.special

from ._surface_samples import STATIC_NAMES, Call, Section, Static, in_table, sections
from .api import jvp
from .core import Primitive, is_traced
from .numpy._rules.protocols import INSPECTION_FUNCTIONS, NONDIFF_UFUNCS, WRITES_INTO
from .tree import tree_flatten

PAGE = Path(__file__).resolve().parent.parent / "docs" / "api-surface.md"
REGENERATE = "python -m dualrev._surface --write"

#: The libraries the page was generated with: their pass-through lists and signatures depend on the versions.
VERSIONS = f"Generated with NumPy {np.__version__} and SciPy {scipy.__version__}."
DIFF, ZERO = "differentiable", "zero here"
VERDICTS = {
    DIFF: "traced, with a nonzero derivative that matches finite differences",
    ZERO: "traced, derivative 0 at the sample (piecewise constant there)",
    "value only": "the result does not depend on it through a rule: computed on the plain value",
    "static": "not a float array (an integer, index, shape, flag or string); no derivative",
    "never": "its rule is registered as None: integers and booleans pass, a traced float raises",
    "raises": "a traced value raises an error naming the function (and usually the argument)",
    "no rule": "the primitive has no rule for it: a traced value raises NotImplementedError",
    "WRONG": "the derivative disagrees with finite differences (a bug: report it)",
}
_H = 1e-6


def _float_leaves(out: Any) -> list:
    leaves = tree_flatten(out)[0] if out is not None else []
    keep = [v for v in leaves if is_traced(v) or np.asarray(v).dtype.kind == "f"]
    return keep if len(keep) == len(leaves) or keep else []


def _plain_ok(fn: Callable, values: tuple) -> bool:
    """Whether ``fn(*values)`` runs on plain values with finite float results."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            leaves = _float_leaves(fn(*values))
        return bool(leaves) and all(np.all(np.isfinite(np.asarray(v))) for v in leaves)
    except Exception:  # noqa: BLE001 - NumPy refuses these values: try others
        return False


def probe(fn: Callable[[Any], Any], value: Any) -> tuple[str, str]:
    """How ``fn`` treats a traced ``value``: ``(verdict, detail)``."""
    value = np.asarray(value, dtype=np.float64)
    direction = np.linspace(0.6, 1.3, value.size).reshape(value.shape)
    if value.ndim == 2 and value.shape[0] == value.shape[1] and np.array_equal(value, value.T):
        direction = direction + direction.T  # a symmetric input (eigh, a covariance) moves symmetrically
    seen: dict[str, bool] = {}

    def traced(v: Any) -> list:
        leaves = _float_leaves(fn(v))
        seen["traced"] = any(is_traced(leaf) for leaf in leaves)
        return leaves

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            _, tangents = jvp(traced, (value,), (direction,))
        except Exception as error:  # noqa: BLE001 - every error is reported
            return "raises", " ".join(str(error).split())
        tangent = np.concatenate([np.ravel(np.asarray(t, dtype=np.float64)) for t in tangents])
        try:
            plus = _float_leaves(fn(value + _H * direction))
            minus = _float_leaves(fn(value - _H * direction))
            fd = np.concatenate([np.ravel((np.asarray(p) - np.asarray(m)) / (2 * _H)) for p, m in zip(plus, minus)])
        except Exception:  # noqa: BLE001 - off the domain (a simplex): the tangent alone decides
            fd = tangent
    finite = np.isfinite(fd) & np.isfinite(tangent)
    if not seen["traced"]:
        return ("value only", "") if np.allclose(fd[finite], 0, atol=1e-5) else ("WRONG", "a silent zero")
    if not np.allclose(tangent[finite], fd[finite], rtol=1e-4, atol=1e-5):
        return "WRONG", "tangent vs finite differences"
    return (DIFF, "") if np.any(np.abs(tangent[finite]) > 1e-9) else (ZERO, "")


def _at(fn: Callable, values: Any, k: int) -> Callable[[Any], Any]:
    """``v -> fn(*values)`` with ``values[k]`` replaced by ``v``."""
    return lambda v: fn(*values[:k], v, *values[k + 1 :])


def _probe_call(call: Call) -> list[tuple[str, str, str]]:
    """``(parameter, verdict, detail)`` for a written-out call."""
    fn, params = call
    values = [v for _, v in params if not isinstance(v, Static)]
    out, k = [], 0
    for name, value in params:
        if isinstance(value, Static):
            out.append((name, "static", value.label))
            continue
        out.append((name, *probe(_at(fn, values, k), value)))
        k += 1
    return out


def _doc_parameters(fn: Callable, name: str) -> list[str] | None:
    """The parameter names of a SciPy ufunc, from its docstring (``betainc(a, b, x, out=None)``)."""
    ufunc = getattr(scipy.special, name, None)
    head = (getattr(ufunc, "__doc__", "") or "").split("\n", 1)[0]
    if not head.startswith(f"{name}("):
        return None
    names = [p.strip() for p in head[len(name) + 1 : head.index(")")].split(",")]
    return [n for n in names if n and "=" not in n and not n.startswith(("*", "/"))]


def _signature(fn: Callable, name: str) -> list[inspect.Parameter]:
    parameters = list(inspect.signature(fn).parameters.values())
    names = _doc_parameters(fn, name)
    if [p.kind for p in parameters] == [inspect.Parameter.VAR_POSITIONAL] and names:
        return [inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in names]
    return parameters


def _required(parameters: list[inspect.Parameter]) -> list[inspect.Parameter]:
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p for p in parameters if p.kind in positional and p.default is inspect.Parameter.empty]


def _distinct(values: tuple) -> tuple:
    """``values`` with the k-th repeat of an array shifted by 0.05 k (``f(x, x)`` may be flat)."""
    out: list = []
    for v in values:
        repeats = sum(1 for u in out if isinstance(v, np.ndarray) and isinstance(u, np.ndarray) and u.shape == v.shape)
        out.append(v + 0.05 * repeats if isinstance(v, np.ndarray) else v)
    return tuple(out)


def _probe_auto(fn: Callable, name: str, candidates: tuple) -> list[tuple[str, str, str]]:
    """``(parameter, verdict, detail)`` from the signature and the ``candidates``."""
    parameters = _signature(fn, name)
    required = _required(parameters)
    tuples = (_distinct(c) for c in itertools.product(candidates, repeat=len(required)))
    base = next((c for c in tuples if not c or _plain_ok(fn, c)), None)
    if base is None:
        return [(p.name, "unprobed", "no sample input found") for p in required]
    out = []
    for k, (p, value) in enumerate(zip(required, base)):
        if not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
            out.append((p.name, "static", "an integer, index or shape"))
            continue
        out.append((p.name, *probe(_at(fn, base, k), value)))
    first = next((v for v in base if isinstance(v, np.ndarray)), candidates[0])
    like = np.asarray(first)[..., ::-1] ** 2 + 0.1  # not an affine function of ``first``
    for p in parameters:
        if p in required or p.kind == inspect.Parameter.VAR_KEYWORD:
            continue
        out.append(_probe_optional(fn, base, p, like))
    return out


def _probe_optional(fn: Callable, base: tuple, p: inspect.Parameter, like: np.ndarray) -> tuple[str, str, str]:
    label = f"*{p.name}" if p.kind == inspect.Parameter.VAR_POSITIONAL else p.name
    if p.name in STATIC_NAMES or isinstance(p.default, (bool, str, tuple)):
        return label, "static", "a keyword parameter"
    if p.kind == inspect.Parameter.POSITIONAL_ONLY:
        return label, "static", "positional-only"

    def call(v: Any) -> Any:
        if p.kind == inspect.Parameter.VAR_POSITIONAL:
            return fn(*base, v)
        return fn(*base, **{p.name: v})

    for value in (like, np.array(0.7)):
        if _plain_ok(call, (value,)):
            return (label, *probe(call, value))
    return label, "static", "a float array is refused"


def _rule(rules: dict, any_rule: Callable | None, argnum: int) -> Any:
    """The rule for ``argnum`` (None: never differentiated; "missing": none)."""
    if argnum in rules:
        return rules[argnum]
    return any_rule if any_rule is not None else "missing"


def _from_rules(entry: Any, prim: Primitive) -> list[tuple[str, str, str]]:
    """``(parameter, verdict, detail)`` of a primitive's entry point, from its rules."""
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = [p for p in inspect.signature(entry).parameters.values() if p.kind in positional]
    out = []
    for i, p in enumerate(params):
        if p.default is not inspect.Parameter.empty:
            break
        rules = [_rule(prim.jvp_rules, prim.jvp_rule_any, i), _rule(prim.vjp_rules, prim.vjp_rule_any, i)]
        if any(r is None for r in rules):
            out.append((p.name, "never", f"rule None in primitive {prim.name!r}"))
        elif any(isinstance(r, str) for r in rules):
            out.append((p.name, "no rule", f"primitive {prim.name!r}"))
        else:
            out.append((p.name, DIFF, f"primitive {prim.name!r}"))
    return out


def classify(fn: Any, name: str, section: Section) -> list[tuple[str, str, str]]:
    """``(parameter, verdict, detail)`` for one public name, merged by parameter."""
    prim = getattr(fn, "primitive", None)
    if name in section.calls:
        rows = _probe_call(section.calls[name])
    elif isinstance(prim, Primitive):
        rows = _from_rules(fn, prim)
    else:
        rows = _probe_auto(fn, name, section.candidates)
    merged: dict[str, tuple[str, str, str]] = {}
    for row in rows:
        if row[0] not in merged or row[1] == DIFF:
            merged[row[0]] = row
    return list(merged.values())


Rows = list[tuple[str, str, str]]


def surface() -> dict[str, tuple[dict[str, Rows], dict[str, Rows]]]:
    """``{module: ({name: rows}, {overridden library name: rows})}``; a row is ``(parameter, verdict, detail)``."""
    out = {}
    for sec in sections():
        own = {n: classify(f, n, sec) for n, f in sorted(sec.names.items())}
        out[sec.title] = (own, {n: classify(f, n, sec) for n, f in sec.overridden().items()})
    return out


def _differentiable(rows: Rows) -> bool:
    return any(v in (DIFF, ZERO) for _, v, _ in rows)


def counts(table: dict[str, tuple[dict[str, Rows], dict[str, Rows]]] | None = None) -> dict[str, tuple[int, int]]:
    """Per module: (names of its ``DIFFERENTIABLE`` with a differentiable
    argument, overridden library names with one)."""
    table = surface() if table is None else table
    return {m: (sum(map(_differentiable, own.values())), sum(map(_differentiable, extra.values())))
            for m, (own, extra) in table.items()}  # fmt: skip


def _short(verdict: str, detail: str) -> str:
    """The reason shown for a verdict: a raised error's first clause, at most 100 characters."""
    if verdict != "raises":
        return detail if verdict in ("static", "unprobed", "WRONG") else ""
    text = detail.removeprefix("dualrev: ")
    named = re.search(r"is not differentiable in its argument '\w+' \(([^)]*)\)", text)
    if named:
        return f"names the argument ({named.group(1)})"
    for stop in ("; ", ". ", ": that", ", so"):
        text = text.split(stop, 1)[0]
    return text if len(text) <= 100 else text[:99].rstrip() + "…"


def _cell(rows: Rows, wanted: Callable[[str], bool]) -> str:
    groups: dict[tuple[str, str], list[str]] = {}
    for param, verdict, detail in rows:
        if wanted(verdict):
            groups.setdefault((verdict, _short(verdict, detail)), []).append(f"`{param}`")
    parts = []
    for (verdict, note), params in groups.items():
        text = ", ".join(params)
        if verdict == ZERO:
            text += " (0 here)"
        elif verdict != DIFF:
            text += f" — {verdict}" + (f": {note}" if note else "")
        parts.append(text.replace("|", "\\|"))
    return "; ".join(parts) or "—"


def _rows(table: dict[str, Rows]) -> list[str]:
    out = ["| name | differentiable in | not differentiable |", "|---|---|---|"]
    for name, rows in table.items():
        yes, no = _cell(rows, lambda v: v in (DIFF, ZERO)), _cell(rows, lambda v: v not in (DIFF, ZERO))
        out.append(f"| `{name}` | {yes} | {no} |")
    return out


def _names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _passing_through(sec: Section) -> list[str]:
    if sec.module is None:
        return ["Only the distributions and methods above are defined; `dualrev.scipy.stats` has no other names.", ""]
    rest = sec.passing_through()
    value_only = [n for n in rest if in_table(getattr(sec.module, n), INSPECTION_FUNCTIONS | NONDIFF_UFUNCS)]
    writes = [n for n in rest if in_table(getattr(sec.module, n), WRITES_INTO)]
    others = [n for n in rest if n not in value_only and n not in writes]
    lines = []
    if value_only:
        lines += [f"**Value only** ({len(value_only)}; computed on the plain value, no derivative): "
                  f"{_names(value_only)}.", ""]  # fmt: skip
    if writes:
        lines += [f"**Raise `TypeError`** ({len(writes)}; they write into an array in place): {_names(writes)}.", ""]
    lines += [f"**Pass through** ({len(others)} other callables of `{sec.library.__name__}`, unchanged): given a "
              "traced argument each raises an error naming itself, or takes no array (constructors, dtypes, "
              "configuration), or returns a non-numeric or piecewise-constant result; "
              f"`tests/test_no_silent_zero.py` sweeps them. {_names(others)}.", ""]  # fmt: skip
    return lines


def surface_markdown(table: dict[str, tuple[dict[str, Rows], dict[str, Rows]]] | None = None) -> str:
    """The page ``docs/api-surface.md`` (of ``table``, default :func:`surface`)."""
    table = surface() if table is None else table
    total = counts(table)
    method = (__doc__ or "").split("\n\n", 2)[2].strip()
    out = [
        "# The differentiable surface",
        "",
        f"Generated by `{REGENERATE}` from the registry; do not edit (`tests/test_api_surface.py` fails "
        "when it drifts). [api.md](api.md) documents the transformations.",
        "",
        VERSIONS,
        "",
        "## Method",
        "",
        method.replace(":data:`VERDICTS`", "the verdicts below"),
        "",
        "The verdicts:",
        "",
        *(f"* **{k}**: {v}." for k, v in VERDICTS.items()),
        "",
        "## Counts",
        "",
        "Names with at least one differentiable argument: those of the module's `DIFFERENTIABLE`, and the "
        "library's own names that dualrev overrides on traced values (listed after each table).",
        "",
        "| module | `DIFFERENTIABLE` names | differentiable | overridden library names, differentiable |",
        "|---|---|---|---|",
        *(f"| `{m}` | {len(table[m][0])} | {a} | {b} |" for m, (a, b) in total.items()),
        "",
    ]
    for sec in sections():
        own, extra = table[sec.title]
        out += [f"## `{sec.title}`", "", *_rows(own), ""]
        if extra:
            out += [f"`{sec.library.__name__}`'s own names that dualrev overrides: the name is the library's "
                    "function, and a traced argument reaches dualrev's version through `__array_ufunc__` / "
                    "`__array_function__`:", "", *_rows(extra), ""]  # fmt: skip
        out += _passing_through(sec)
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    """``--write``: regenerate ``docs/api-surface.md``; otherwise print the page."""
    text = surface_markdown()
    if "--write" in argv:
        PAGE.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
