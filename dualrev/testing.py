"""Checking derivatives: every mode against every other and against finite differences.

``check_grads(f, *args)`` is what a user runs after writing a new primitive or
a tricky function; the test suite uses the same machinery. Finite differences
are an oracle *with error* (truncation ~h², rounding ~ε/h), so they are
compared with a relative tolerance; agreement between modes is exact up to
float rounding and is compared tightly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import api
from . import numpy as dnp
from ._arguments import check_mode
from .tree import TreeDef, tree_flatten, tree_unflatten

__all__ = ["check_grads", "numerical_jacobian", "available_modes"]


def available_modes() -> tuple[str, ...]:
    """The modes dualrev implements: ``dr.MODES``."""
    return api.MODES


def _flat_function(f: Callable, args: tuple) -> tuple[Callable, np.ndarray]:
    """``f`` as a function of one flat float64 vector of all argument leaves."""
    leaves, treedef = tree_flatten(tuple(args))
    arrays = [np.asarray(v, dtype=np.float64) for v in leaves]
    shapes = [a.shape for a in arrays]
    sizes = [a.size for a in arrays]
    x0 = np.concatenate([a.ravel() for a in arrays]) if arrays else np.zeros(0)

    def unflatten(x):
        parts, offset = [], 0
        for shape, size in zip(shapes, sizes):
            parts.append(x[offset : offset + size].reshape(shape))
            offset += size
        return tree_unflatten(treedef, parts)

    def flat_f(x):
        out = f(*unflatten(x))
        out_leaves, _ = tree_flatten(out)
        return np.concatenate([np.ravel(np.asarray(o, dtype=np.float64)) for o in out_leaves])

    return flat_f, x0


def numerical_jacobian(f: Callable, *args: Any, eps: float = 1e-6) -> np.ndarray:
    """Central-difference Jacobian of ``f`` w.r.t. all leaves of ``args``,
    as a 2-D array (all output scalars × all input scalars), in float64.

    The step is ``eps · max(1, |x_i|)``: for float64 a step near 1e-6 balances
    truncation error (∝ h²) against rounding error (∝ ε/h).
    """
    flat_f, x0 = _flat_function(f, args)
    columns = []
    for i in range(x0.size):
        h = eps * max(1.0, abs(x0[i]))
        xp, xm = x0.copy(), x0.copy()
        xp[i] += h
        xm[i] -= h
        columns.append((flat_f(xp) - flat_f(xm)) / (2 * h))
    if not columns:
        return np.zeros((flat_f(x0).size, 0))
    return np.stack(columns, axis=1)


def _worst(got: np.ndarray, want: np.ndarray, atol: float, rtol: float) -> tuple:
    err = np.abs(got - want) - (atol + rtol * np.abs(want))
    idx = np.unravel_index(int(np.argmax(err)), err.shape)
    return idx, float(err[idx])


def _locate(col: int, args: tuple) -> str:
    leaves, _ = tree_flatten(tuple(args))
    offset = 0
    for k, leaf in enumerate(leaves):
        size = int(np.size(leaf))
        if col < offset + size:
            index = np.unravel_index(col - offset, np.shape(leaf)) if np.ndim(leaf) else ()
            return f"input leaf {k} at index {tuple(int(i) for i in index)}"
        offset += size
    return f"input column {col}"


def _compare(name: str, got: np.ndarray, want: np.ndarray, args: tuple, atol: float, rtol: float) -> None:
    if got.shape != want.shape:
        raise AssertionError(f"check_grads: {name}: Jacobian shape {got.shape} != expected {want.shape}")
    if got.size == 0 or np.allclose(got, want, atol=atol, rtol=rtol):
        return
    (row, col), _ = _worst(got, want, atol, rtol)
    raise AssertionError(
        f"check_grads: {name} disagree; worst element: output {row}, {_locate(col, args)}: "
        f"got {float(got[row, col]):.10g}, expected {float(want[row, col]):.10g} (atol={atol}, rtol={rtol})"
    )


def check_grads(
    f: Callable,
    *args: Any,
    modes: Sequence[str] | None = None,
    order: int = 1,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    mode_rtol: float = 1e-9,
    mode_atol: float = 1e-11,
) -> None:
    """Check the derivatives of ``f`` at ``args`` in every mode.

    For ``order=1`` the full Jacobian (w.r.t. every leaf of every argument) is
    computed in each of ``modes`` (default: every available mode); the modes
    must agree with each other to ``mode_rtol`` and with central finite
    differences (step ``eps``) to ``rtol``/``atol``. For ``order=2`` every
    (outer, inner) pair of modes computes the Jacobian of the Jacobian and is
    checked the same way (finite differences of the first mode's Jacobian).

    Raises ``AssertionError`` naming the mode(s), the input leaf and index, and
    the worst element.
    """
    modes = tuple(modes) if modes is not None else available_modes()
    for m in modes:
        check_mode(m, "check_grads")
    args = tuple(args)

    if order == 1:
        funcs = [(m, _first(f, m, args)) for m in modes]
        fd = numerical_jacobian(f, *args, eps=eps)
    elif order == 2:
        funcs = []
        for outer in modes:
            for inner in modes:
                funcs.append((f"{outer}-over-{inner}", _second(f, outer, inner, args)))
        first_mode = modes[0]

        def jac_first(*a):
            return _mode_jacobian(f, a, first_mode)

        fd = numerical_jacobian(jac_first, *args, eps=eps)
    else:
        raise ValueError(f"check_grads: order must be 1 or 2, got {order!r}")

    results = []
    for name, compute in funcs:
        try:
            results.append((name, compute()))
        except Exception as exc:
            raise AssertionError(f"check_grads: mode {name} failed: {type(exc).__name__}: {exc}") from exc
    base_name, base = results[0]
    for name, jac in results[1:]:
        _compare(f"modes {name!r} and {base_name!r}", jac, base, args, mode_atol, mode_rtol)
    for name, jac in results:
        _compare(f"mode {name!r} and finite differences", jac, fd, args, atol, rtol)


def _first(f: Callable, mode: str, args: tuple) -> Callable[[], np.ndarray]:
    def compute():
        return _mode_jacobian(f, args, mode)

    return compute


def _mode_jacobian(f: Callable, args: tuple, mode: str) -> np.ndarray:
    argnums = tuple(range(len(args)))
    jac = api.jacobian(f, argnums=argnums, mode=mode)(*args)
    out_leaves, out_tree = tree_flatten(f(*args))
    in_leaves, _ = tree_flatten(tuple(args))
    n_in = [int(np.size(v)) for v in in_leaves]
    # Each output leaf of the Jacobian pytree holds a tuple over argnums; walk
    # the output structure to get them in order.
    per_out = _per_output(jac, out_tree)
    rows = []
    for out, blocks in zip(out_leaves, per_out):
        block_leaves, _ = tree_flatten(blocks)
        m = int(np.size(out))
        rows.append(
            np.concatenate([np.asarray(b, dtype=np.float64).reshape(m, n) for b, n in zip(block_leaves, n_in)], axis=1)
            if n_in
            else np.zeros((m, 0))
        )
    return np.concatenate(rows, axis=0) if rows else np.zeros((0, sum(n_in)))


def _per_output(jac: Any, out_tree: TreeDef) -> list:
    """Walk ``jac`` along the output treedef, returning the entry at each output leaf."""
    entries: list = []

    def walk(node, treedef):
        if treedef.kind is None:
            entries.append(node)
        elif treedef.kind == "none":
            return
        elif treedef.kind is dict:
            for key, child in zip(treedef.keys, treedef.children):
                walk(node[key], child)
        else:
            for value, child in zip(node, treedef.children):
                walk(value, child)

    walk(jac, out_tree)
    return entries


def _second(f: Callable, outer: str, inner: str, args: tuple) -> Callable[[], np.ndarray]:
    def inner_jacobian(*a):
        return _flat_jacobian_traced(f, a, inner)

    def compute():
        return _mode_jacobian(inner_jacobian, args, outer)

    return compute


def _flat_jacobian_traced(f: Callable, args: tuple, mode: str) -> Any:
    """The Jacobian of ``f`` as one 2-D array, built with dualrev.numpy so that
    an enclosing transformation can differentiate it."""
    argnums = tuple(range(len(args)))
    jac = api.jacobian(f, argnums=argnums, mode=mode)(*args)
    out_leaves, out_tree = tree_flatten(f(*args))
    in_leaves, _ = tree_flatten(tuple(args))
    n_in = [int(np.prod(np.shape(v) if not hasattr(v, "shape") else v.shape, dtype=np.int64)) for v in in_leaves]
    per_out = _per_output(jac, out_tree)
    rows = []
    for out, blocks in zip(out_leaves, per_out):
        block_leaves, _ = tree_flatten(blocks)
        m = int(np.prod(out.shape if hasattr(out, "shape") else np.shape(out), dtype=np.int64))
        rows.append(dnp.concatenate([dnp.reshape(b, (m, n)) for b, n in zip(block_leaves, n_in)], axis=1))
    return dnp.concatenate(rows, axis=0) if len(rows) > 1 else rows[0]
