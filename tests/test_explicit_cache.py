"""Repeated explicit Jacobians of one program reuse its skeleton (which edges,
their sizes, the memory figures) and its layout (copies, pruning, plans),
keyed by the tape's shape and the local Jacobians' structures, never by
their values — checked by counts and results, never by times."""

from __future__ import annotations

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.explicit import ExplicitMemoryError, linearize, memory_budget, plans


def jac(f, x, **kw):
    return dr.jacobian(f, mode="explicit", return_cost=True, **kw)(x)


def test_a_repeated_call_reuses_skeleton_layout_and_plan():
    W = np.arange(12.0).reshape(4, 3) / 10
    f = lambda x: dnp.tanh(W @ dnp.sin(x)) * 2.0
    linearize._SKELETONS.clear()
    plans._CACHE.clear()
    x = np.array([0.1, -0.4, 0.7])
    first, cost = jac(f, x)
    assert len(linearize._SKELETONS) == 1 and len(plans._CACHE) == 1
    (skeleton,) = linearize._SKELETONS.values()
    assert len(skeleton.layouts) == 1
    for k in range(3):  # new values, same program: nothing is planned or laid out again
        y = x + k
        again, cost2 = jac(f, y)
        np.testing.assert_allclose(again, dr.jacobian(f, mode="reverse")(y), rtol=1e-12)
        assert cost2.explicit == cost.explicit
    assert len(linearize._SKELETONS) == 1 and len(skeleton.layouts) == 1 and len(plans._CACHE) == 1
    g = lambda x: dnp.tanh(dnp.sin(x))
    jac(g, x)
    jac(g, np.linspace(0, 1, 5))  # new shapes: a new skeleton
    assert len(linearize._SKELETONS) == 3


def test_a_new_pattern_with_the_same_tape_shape_gets_its_own_layout():
    index = {"i": np.array([0, 1, 2])}
    f = lambda x: dnp.sin(x[index["i"]]) * x[index["i"][::-1]]
    x = np.array([0.3, -1.2, 0.8])
    linearize._SKELETONS.clear()
    for i in ([0, 1, 2], [2, 2, 0], [1, 0, 1]):
        index["i"] = np.array(i)
        got, _ = jac(f, x)
        np.testing.assert_allclose(got, dr.jacobian(f, mode="reverse")(x), rtol=1e-12, atol=1e-15)
    (skeleton,) = linearize._SKELETONS.values()
    assert len(skeleton.layouts) == 3


@pytest.mark.parametrize("order", ["forward", "reverse", "optimal", "user"])
def test_every_order_on_a_cache_hit(order):
    f = lambda x: dnp.sum(dnp.tanh(x) * dnp.cos(x[::-1]))
    x = np.linspace(-1, 1, 6)
    want = dr.jacobian(f, mode="reverse")(x)
    if order == "user":
        order = list(jac(f, x)[1].explicit.intermediates)[::-1]
    for _ in range(2):
        got, cost = jac(f, x, order=order)
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert cost.explicit.multiply_adds == min(cost.explicit.candidates.values()) or order != "optimal"


def test_the_memory_guard_still_runs_on_a_cache_hit():
    f = lambda x: dnp.tanh(np.ones((30, 20)) @ x)
    x = np.linspace(0, 1, 20)
    jac(f, x)
    with memory_budget(100):
        with pytest.raises(ExplicitMemoryError):
            dr.jacobian(f, mode="explicit")(x)
    jac(f, x)


def test_the_shared_ones_probe_is_never_written():
    f = lambda x: dnp.exp(x) + dnp.tanh(x)
    x = np.linspace(0, 1, 7)
    for _ in range(2):
        got, _ = jac(f, x)
        np.testing.assert_allclose(got, np.diag(np.exp(x) + 1 - np.tanh(x) ** 2), rtol=1e-12)
