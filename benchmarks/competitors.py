"""The optional comparison libraries: HIPS autograd and PyTorch (eager, CPU).

Both come with the ``bench`` extra. A library that is not installed (or fails
to import) is reported as skipped; the benchmark never fails for it.
"""

from __future__ import annotations

from typing import Any


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
    return modules, skipped


def version(module: Any) -> str:
    return getattr(module, "__version__", "unknown")
