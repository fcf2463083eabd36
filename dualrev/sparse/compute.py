"""Compressed Jacobians and Hessians: one batched pass of χ seed directions,
then each nonzero read off the compressed product (see ``colouring.py``).

* column colouring: ``B = J S`` by one batched forward pass (``forward_pass``
  with χ tangents), ``J[i, j] = B[i, colour(j)]``;
* row colouring: ``B = Wᵀ J`` by one reverse pass swept once with χ'
  cotangents, ``J[i, j] = B[colour(i), j]``;
* star colouring: ``B = H S`` by forward-over-reverse (the batched forward
  pass through the gradient's reverse sweep), each nonzero from whichever
  side of the symmetry holds it alone.

Checking a given pattern: with ``verify=True`` one random direction ``v``
rides along in the same batch, and ``J v`` (or ``uᵀ J``, ``H v``) from the
pass is compared with the same product of the recovered matrix. A nonzero
outside the pattern makes them differ (with probability 1), so a wrong
pattern raises instead of returning a silently wrong matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..core import float_dtype, shape_of, size_of
from ..forward import forward_pass
from ..reverse import reverse_pass
from .colouring import Colouring, unique_in_row

#: Relative tolerance of the random-direction check of a given pattern.
CHECK_RTOL = 1e-7


def _flat(parts: list, k: int) -> np.ndarray:
    """Batched leaves ``(k,) + shape`` side by side as a ``(k, Σ size)`` array."""
    if not parts:
        return np.zeros((k, 0))
    return np.concatenate([np.reshape(np.asarray(p), (k, -1)) for p in parts], axis=1)


def _split(block: np.ndarray, like: list) -> list:
    """A ``(k, Σ size)`` block as one batched leaf ``(k,) + leaf.shape`` per leaf."""
    out, offset, k = [], 0, block.shape[0]
    for leaf in like:
        size = size_of(leaf)
        out.append(block[:, offset : offset + size].reshape((k,) + tuple(shape_of(leaf))).astype(float_dtype(leaf)))
        offset += size
    return out


def _directions(col: Colouring, length: int, verify: bool, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    seeds = col.seeds()
    if not verify:
        return seeds, None
    v = np.random.default_rng(seed).uniform(0.5, 1.5, length) * np.random.default_rng(seed + 1).choice([-1, 1], length)
    return np.vstack([seeds, v]), v


def _check(product: np.ndarray, recovered: np.ndarray, scale: np.ndarray, who: str, what: str) -> None:
    err = np.abs(product - recovered)
    tol = CHECK_RTOL * (scale + np.abs(product)) + 1e-300
    if len(err) and np.any(err > tol + CHECK_RTOL * float(np.max(scale, initial=0.0))):
        worst = int(np.argmax(err - tol))
        raise ValueError(
            f"{who}: the given sparsity pattern is wrong for this function: it has a nonzero outside the pattern "
            f"({what} {worst}: the random-direction check gives {product[worst]:.6g} but the matrix recovered "
            f"within the pattern gives {recovered[worst]:.6g}). Detect the pattern with dr.{who}_sparsity(f)(x) "
            f"(or drop sparsity=), and compute the colouring from it"
        )


def jacobian_columns(
    fun: Callable[[list], Any], leaves: list, pattern: sp.csr_matrix, col: Colouring, has_aux: bool, who: str,
    verify: bool,
) -> tuple[sp.csr_matrix, Any, int]:
    """J by one batched forward pass of the column colouring's directions."""
    n = pattern.shape[1]
    directions, v = _directions(col, n, verify, 0)
    k = directions.shape[0]
    out, t_out, _, aux = forward_pass(fun, leaves, _split(directions, leaves), (k,), has_aux, who)
    _check_rows(out, pattern, who)
    block = _flat(t_out, k).T  # (m, k)
    coo = pattern.tocoo()
    vals = block[coo.row, col.colours[coo.col]]
    jac = sp.csr_matrix((vals, (coo.row, coo.col)), shape=pattern.shape)
    if v is not None:
        _check(block[:, -1], jac @ v, abs(jac) @ np.abs(v), who, "output row")
    return jac, aux, k


def jacobian_rows(
    fun: Callable[[list], Any], leaves: list, pattern: sp.csr_matrix, col: Colouring, has_aux: bool, who: str,
    verify: bool,
) -> tuple[sp.csr_matrix, Any, int]:
    """J by one reverse sweep of the row colouring's cotangents."""
    out, _, pullback, aux = reverse_pass(fun, leaves, has_aux, who)
    _check_rows(out, pattern, who)
    directions, u = _directions(col, pattern.shape[0], verify, 2)
    k = directions.shape[0]
    block = _flat(pullback(_split(directions, out), (k,), True), k)  # (k, n)
    coo = pattern.tocoo()
    vals = block[col.colours[coo.row], coo.col]
    jac = sp.csr_matrix((vals, (coo.row, coo.col)), shape=pattern.shape)
    if u is not None:
        _check(block[-1], jac.T @ u, abs(jac).T @ np.abs(u), who, "input column")
    return jac, aux, k


def _check_rows(out: list, pattern: sp.csr_matrix, who: str) -> None:
    m = sum(size_of(o) for o in out)
    if m != pattern.shape[0]:
        raise ValueError(
            f"{who}: the sparsity pattern has {pattern.shape[0]} rows but the function has {m} output scalars; "
            f"pass the pattern of this function (dr.jacobian_sparsity(f)(x))"
        )


def gradient_of(fun: Callable[[list], Any], who: str) -> Callable[[list], list]:
    """The gradient (one leaf per input leaf) of a scalar function of leaves, by one reverse sweep."""

    def gradient(leaves: list) -> list:
        out, _, pullback, _ = reverse_pass(fun, leaves, False, who)
        if len(out) != 1 or size_of(out[0]) != 1:
            shapes = [tuple(shape_of(o)) for o in out]
            raise ValueError(f"{who}: the function must return a single scalar, but it returned shapes {shapes}")
        return pullback([np.ones(shape_of(out[0]), dtype=float_dtype(out[0]))], (), True)

    return gradient


def hessian_star(
    fun: Callable[[list], Any], leaves: list, pattern: sp.csr_matrix, col: Colouring, who: str, verify: bool
) -> tuple[sp.csr_matrix, int]:
    """H by forward-over-reverse with the star colouring's directions, recovered by symmetry."""
    n = pattern.shape[1]
    directions, v = _directions(col, n, verify, 4)
    k = directions.shape[0]
    _, t_out, _, _ = forward_pass(gradient_of(fun, who), leaves, _split(directions, leaves), (k,), False, who)
    block = _flat(t_out, k).T  # (n, k): H S
    sym = sp.csr_matrix(pattern + pattern.T, dtype=bool)
    rows, cols, direct = unique_in_row(sym, col.colours)
    vals = np.where(direct, block[rows, col.colours[cols]], block[cols, col.colours[rows]])
    hess = sp.csr_matrix((vals, (rows, cols)), shape=sym.shape)
    if v is not None:
        _check(block[:, -1], hess @ v, abs(hess) @ np.abs(v), "hessian", "gradient entry")
    return hess, k
