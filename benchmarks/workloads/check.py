"""The correctness check every workload runs before timing."""

from __future__ import annotations

from typing import Any

import numpy as np

import dualrev as dr


def check_close(actual: Any, expected: Any, what: str, rtol: float = 1e-8, atol: float = 1e-10) -> None:
    """Every timed implementation is checked once: a fast wrong answer is no result."""
    a_leaves = dr.tree_flatten(actual)[0]
    e_leaves = dr.tree_flatten(expected)[0]
    if isinstance(expected, dict):
        a_leaves = [actual[k] for k in expected]
    for a, e in zip(a_leaves, e_leaves):
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=rtol, atol=atol, err_msg=what)
