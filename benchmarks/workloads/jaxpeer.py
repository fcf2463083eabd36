"""JAX as the peer: each task eager (op by op, as written) and under
``jax.jit`` (compiled once, before timing: the warm-up call compiles, and the
timed calls reuse the executable). JAX dispatches asynchronously, so every
timed call ends with ``jax.block_until_ready``. Inputs are converted to JAX
arrays once, outside the timed calls, as the NumPy implementations get theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .check import check_close


def to_numpy(jax: Any, tree: Any) -> Any:
    return jax.tree_util.tree_map(np.asarray, tree)


def to_jax(jax: Any, tree: Any) -> Any:
    return jax.tree_util.tree_map(jax.numpy.asarray, tree)


def add_jax(
    impls: dict[str, Callable[[], Any]],
    jax: Any,
    task: str,
    fn: Callable[..., Any],
    args: Sequence[Any],
    expected: Any,
    what: str,
    eager: bool = True,
    project: Callable[[Any], Any] | None = None,
    **tolerance: float,
) -> None:
    """Add ``impls["jax <task>"]`` (if ``eager``) and ``impls["jax jit <task>"]``
    calling ``fn(*args)``, each checked once against ``expected``
    (``project`` picks the compared part of the result)."""
    project = project or (lambda r: r)
    block = jax.block_until_ready
    variants = {"jax jit": jax.jit(fn)}
    if eager:
        variants = {"jax": fn, **variants}
    for prefix, f in variants.items():
        result = block(f(*args))  # for jit: compiles, so the timing excludes it
        check_close(project(to_numpy(jax, result)), expected, f"{what} ({prefix})", **tolerance)
        impls[f"{prefix} {task}"] = lambda f=f: block(f(*args))
