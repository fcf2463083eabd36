"""The optional comparison libraries: HIPS autograd, PyTorch (eager, CPU) and
JAX (eager and ``jax.jit``, CPU, float64).

All come with the ``bench`` extra. A library that is not installed (or fails
to import) is reported as skipped; the benchmark never fails for it.

JAX is loaded with ``jax_enable_x64`` (every comparison is in float64) and on
the CPU platform. With ``--threads N`` XLA's CPU backend is asked for one
intra-op thread when N is 1 (``XLA_FLAGS``, read when the backend starts, which
is after this import), so that single-threaded runs compare like with like.
"""

from __future__ import annotations

import os
from typing import Any

#: XLA flags for a single-threaded CPU backend (appended to any XLA_FLAGS given).
SINGLE_THREAD_XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def load(threads: int | None) -> tuple[dict[str, Any], dict[str, str]]:
    """``(modules, skipped)``: the importable libraries and why the others are missing."""
    modules: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    try:
        import autograd
        import autograd.numpy  # noqa: F401

        modules["autograd"] = autograd
    except Exception as exc:  # noqa: BLE001 - any import failure means "skip"
        skipped["autograd"] = f"not available ({type(exc).__name__}: {exc})"
    try:
        import torch

        if threads is not None:
            torch.set_num_threads(threads)
        modules["torch"] = torch
    except Exception as exc:  # noqa: BLE001
        skipped["torch"] = f"not available ({type(exc).__name__}: {exc})"
    try:
        modules["jax"] = _load_jax(threads)
    except Exception as exc:  # noqa: BLE001
        skipped["jax"] = f"not available ({type(exc).__name__}: {exc})"
    return modules, skipped


def _load_jax(threads: int | None) -> Any:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if threads == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        if "intra_op_parallelism_threads" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {SINGLE_THREAD_XLA_FLAGS}".strip()
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    # Start the backend now (a broken jaxlib fails here, not inside a workload)
    # and check that float64 really is on.
    probe = jnp.ones(2, dtype=jnp.float64) * 2.0
    if probe.dtype != jnp.float64:
        raise RuntimeError(f"jax_enable_x64 did not take effect (dtype {probe.dtype})")
    return jax


def version(module: Any) -> str:
    return getattr(module, "__version__", "unknown")
