"""What an environment record is made of, besides the BLAS threads
(:mod:`timing.threads`): the CPU, the BLAS NumPy was built with, the commit."""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit(root: Path, dirty_paths: Sequence[str] = ("dualrev",)) -> str:
    """The short commit of the repository at ``root``, with ``+dirty`` when
    ``dirty_paths`` have uncommitted changes; ``unknown`` without git."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", *dirty_paths], cwd=root, capture_output=True, text=True, timeout=10
        )
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def blas_build() -> dict[str, Any]:
    """The BLAS NumPy was built against (``np.show_config``: name, version,
    configuration ...); empty when this NumPy cannot say."""
    import numpy as np

    try:
        config = np.show_config(mode="dicts")
    except Exception:  # older NumPy: no mode="dicts"
        return {}
    if not isinstance(config, dict):
        return {}
    blas = config.get("Build Dependencies", {}).get("blas", {})
    return dict(blas) if isinstance(blas, dict) else {}
