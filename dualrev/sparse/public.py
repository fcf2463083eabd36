"""The public surface: pattern detection, and the sparse paths of
``dr.jacobian(..., sparse=True)`` and ``dr.hessian(..., sparse=True)``."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import scipy.sparse as sp

from .._arguments import Args
from ..core import size_of
from .colouring import Colouring, as_pattern, check_colouring, colouring
from .compute import gradient_of, hessian_star, jacobian_columns, jacobian_rows
from .detect import pattern_of

Argnums = int | Sequence[int]


@dataclass
class SparseCost:
    """What a sparse Jacobian or Hessian took (``return_cost=True``).

    ``mode``: ``"forward"`` (column colouring, one batched forward pass),
    ``"reverse"`` (row colouring, one reverse sweep of χ' cotangents) or
    ``"forward-over-reverse"`` (Hessian, star colouring); ``shape`` and
    ``nnz`` of the matrix; ``colours``: the compressed directions of the
    pass that ran and ``alternatives`` the counts of the colourings that
    were compared (``{"forward": χ, "reverse": χ'}``); ``passes``: 1 (all
    directions batched into one pass); ``directions``: the directions pushed
    (colours, plus 1 when a given pattern was checked: ``verified``);
    ``strategy``: the colouring's vertex order; ``detect_seconds``,
    ``colour_seconds``, ``compute_seconds``: the three stages (0 for a stage
    skipped because its result was passed in)."""

    mode: str
    shape: tuple[int, int]
    nnz: int
    colours: int
    directions: int
    strategy: str
    verified: bool
    passes: int = 1
    alternatives: dict[str, int] = field(default_factory=dict)
    detect_seconds: float = 0.0
    colour_seconds: float = 0.0
    compute_seconds: float = 0.0


def jacobian_sparsity(fun: Callable, argnums: Argnums = 0, *, has_aux: bool = False) -> Callable:
    """The sparsity pattern of the Jacobian: ``dr.jacobian_sparsity(f)(x)`` is a
    ``scipy.sparse`` CSR matrix of dtype bool and shape ``(f(x).size, x.size)``
    (several output leaves: their rows in order; several differentiated
    leaves: their columns in order), propagated through the program recorded
    at ``x`` (see :mod:`dualrev.sparse.detect`): exact for the structured
    ops, conservative (a dense block) for dense-structure ops."""
    who = "jacobian_sparsity"

    def sparsity_fun(*args: Any, **kwargs: Any) -> sp.csr_matrix:
        spec = Args(args, argnums, who)
        return pattern_of(spec.bind(fun, kwargs), spec.leaves, has_aux, who)[0]

    sparsity_fun.__name__ = f"jacobian_sparsity({getattr(fun, '__name__', 'f')})"
    return sparsity_fun


def _hessian_pattern(fun: Callable[[list], Any], leaves: list, who: str) -> sp.csr_matrix:
    pattern = pattern_of(gradient_of(fun, who), leaves, False, who)[0]
    return sp.csr_matrix(pattern + pattern.T, dtype=bool)


def hessian_sparsity(fun: Callable, argnums: Argnums = 0) -> Callable:
    """The sparsity pattern of the Hessian of a scalar function: the pattern of
    the Jacobian of its gradient (the reverse sweep recorded and propagated
    like any program), symmetrised; a bool CSR matrix ``(x.size, x.size)``."""
    who = "hessian_sparsity"

    def sparsity_fun(*args: Any, **kwargs: Any) -> sp.csr_matrix:
        spec = Args(args, argnums, who)
        return _hessian_pattern(spec.bind(fun, kwargs), spec.leaves, who)

    sparsity_fun.__name__ = f"hessian_sparsity({getattr(fun, '__name__', 'f')})"
    return sparsity_fun


def pick_colouring(colouring: Any, coloring: Any, who: str) -> Any:
    """``colouring=`` or its alias ``coloring=`` (not both)."""
    if colouring is not None and coloring is not None:
        raise ValueError(f"{who}: pass colouring= or its alias coloring=, not both")
    return colouring if colouring is not None else coloring


def _given(sparsity: Any, shape: tuple[int, int] | None, who: str) -> sp.csr_matrix:
    pattern = as_pattern(sparsity, who)
    if shape is not None and pattern.shape[1] != shape[1]:
        raise ValueError(
            f"{who}: the sparsity pattern has {pattern.shape[1]} columns but the differentiated input has "
            f"{shape[1]} scalars; pass the pattern of this function (dr.{who}_sparsity(f)(x))"
        )
    return pattern


def sparse_jacobian(
    fun: Callable, argnums: Argnums, mode: str, has_aux: bool, return_cost: bool, sparsity: Any, colour: Any
) -> Callable:
    """The function ``dr.jacobian(fun, sparse=True, ...)`` returns."""
    who = "jacobian"
    if mode not in ("auto", "forward", "reverse"):
        raise ValueError(f"{who}: sparse=True computes by mode 'forward', 'reverse' or 'auto', not {mode!r}")
    if colour is not None and not isinstance(colour, Colouring):
        check_colouring(colour, sp.csr_matrix((0, 0)), who)  # raises the TypeError
    if colour is not None and colour.kind == "star":
        raise ValueError(f"{who}: a star colouring is for dr.hessian(sparse=True); use kind='column' or 'row'")
    if colour is not None and mode != "auto" and {"column": "forward", "row": "reverse"}[colour.kind] != mode:
        raise ValueError(f"{who}: mode={mode!r} does not match the given {colour.kind} colouring")

    def jacobian_fun(*args: Any, **kwargs: Any) -> Any:
        spec = Args(args, argnums, who)
        f = spec.bind(fun, kwargs)
        n = sum(size_of(leaf) for leaf in spec.leaves)
        start = time.perf_counter()
        pattern = pattern_of(f, spec.leaves, has_aux, who)[0] if sparsity is None else _given(sparsity, (0, n), who)
        detected = time.perf_counter() - start
        alternatives: dict[str, int] = {}
        if colour is not None:
            check_colouring(colour, pattern, who)
            chosen, coloured = colour, 0.0
        else:
            kinds = {"forward": ["column"], "reverse": ["row"], "auto": ["column", "row"]}[mode]
            found = [colouring(pattern, kinds[0])]
            if len(kinds) > 1 and pattern.shape[0] == pattern.shape[1] and (pattern != pattern.T).nnz == 0:
                found.append(Colouring("row", found[0].colours, found[0].shape, found[0].strategy))  # symmetric
            elif len(kinds) > 1:
                found.append(colouring(pattern, kinds[1]))
            alternatives = {("forward" if c.kind == "column" else "reverse"): c.n_colours for c in found}
            chosen = min(found, key=lambda c: c.n_colours)  # ties: forward (no tape)
            coloured = sum(c.seconds for c in found)
        verify = sparsity is not None
        start = time.perf_counter()
        run = jacobian_columns if chosen.kind == "column" else jacobian_rows
        jac, aux, k = run(f, spec.leaves, pattern, chosen, has_aux, who, verify)
        cost = SparseCost(
            "forward" if chosen.kind == "column" else "reverse", tuple(jac.shape), int(jac.nnz), chosen.n_colours,
            k, chosen.strategy, verify, 1, alternatives, detected, coloured, time.perf_counter() - start,
        )
        result = (jac, aux) if has_aux else jac
        return (result, cost) if return_cost else result

    jacobian_fun.__name__ = f"jacobian({getattr(fun, '__name__', 'f')}, sparse=True)"
    return jacobian_fun


def sparse_hessian(
    fun: Callable, argnums: Argnums, mode: Any, return_cost: bool, sparsity: Any, colour: Any
) -> Callable:
    """The function ``dr.hessian(fun, sparse=True, ...)`` returns."""
    who = "hessian"
    if mode not in (("forward", "reverse"), ["forward", "reverse"], "auto"):
        raise ValueError(f"{who}: sparse=True computes forward-over-reverse only; drop mode= (got {mode!r})")
    if colour is not None and (not isinstance(colour, Colouring) or colour.kind != "star"):
        raise ValueError(f"{who}: colouring= must be a star colouring: dr.colouring(pattern, kind='star')")

    def hessian_fun(*args: Any, **kwargs: Any) -> Any:
        spec = Args(args, argnums, who)
        f = spec.bind(fun, kwargs)
        start = time.perf_counter()
        if sparsity is None:
            pattern = _hessian_pattern(f, spec.leaves, who)
        else:
            given = _given(sparsity, None, who)
            pattern = sp.csr_matrix(given + given.T, dtype=bool)
        detected = time.perf_counter() - start
        if colour is not None:
            check_colouring(colour, pattern, who)
            chosen, coloured = colour, 0.0
        else:
            chosen = colouring(pattern, "star")
            coloured = chosen.seconds
        n = sum(size_of(leaf) for leaf in spec.leaves)
        if pattern.shape != (n, n):
            raise ValueError(f"{who}: the sparsity pattern is {pattern.shape} but the input has {n} scalars")
        start = time.perf_counter()
        hess, k = hessian_star(f, spec.leaves, pattern, chosen, who, sparsity is not None)
        cost = SparseCost(
            "forward-over-reverse", tuple(hess.shape), int(hess.nnz), chosen.n_colours, k, chosen.strategy,
            sparsity is not None, 1, {"star": chosen.n_colours}, detected, coloured, time.perf_counter() - start,
        )
        return (hess, cost) if return_cost else hess

    hessian_fun.__name__ = f"hessian({getattr(fun, '__name__', 'f')}, sparse=True)"
    return hessian_fun
