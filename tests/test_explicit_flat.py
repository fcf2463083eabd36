"""A cached plan runs as a flat list of products and sums (explicit/flat.py):
the same products, on the same labels, in the same order as vertex
elimination on the graph — checked by results, counts and costs, never by times."""

from __future__ import annotations

import cProfile
import pstats

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.explicit import flat, linearize
from dualrev.explicit.graph import eliminate
from dualrev.explicit.plans import plans_for
from dualrev.explicit.structures import to_dense

W = np.arange(20.0).reshape(5, 4) / 10 - 0.7
V = np.arange(15.0).reshape(3, 5) / 7 - 1.0


def program(x):
    h = dnp.tanh(W @ x)
    y = V @ (h * dnp.sin(h)) + dnp.sum(h * h)
    return dnp.concatenate([y, x[:2] * 3.0])


@pytest.mark.parametrize("order", ["forward", "reverse", "markowitz", "exact"])
def test_flat_steps_do_what_elimination_does(order):
    x = np.array([0.3, -0.2, 0.9, 0.5])
    graph, in_slots, intermediates = linearize.linearised_graph(lambda leaves: program(leaves[0]), [x])
    plans = plans_for(graph, in_slots, intermediates, "optimal")
    plan = plans.get(order) or plans["forward"]
    edges = {(v, u): label for v, ps in graph.preds.items() for u, label in ps.items()}
    before = {v: dict(ps) for v, ps in graph.preds.items()}, {u: set(ws) for u, ws in graph.succs.items()}
    steps = flat.flat_steps(graph, plan.order)
    assert (graph.preds, graph.succs) == before  # the graph is left as it was
    cost = flat.run_steps(edges, steps)
    by_elimination = sum(eliminate(graph, v) for v in plan.order)
    assert cost == by_elimination == plan.cost
    for v, ps in graph.preds.items():
        for u, label in ps.items():
            shape = (graph.sizes[v], graph.sizes[u])
            np.testing.assert_array_equal(to_dense(edges[v, u], shape, np.float64), to_dense(label, shape, np.float64))


@pytest.mark.parametrize("order", ["forward", "reverse", "optimal"])
def test_repeated_calls_give_the_first_calls_results_and_costs(order):
    f = dr.jacobian(program, mode="explicit", order=order, return_cost=True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4)
    first, cost = f(x)
    for _ in range(3):
        y = rng.standard_normal(4)
        again, cost2 = f(y)
        np.testing.assert_allclose(again, dr.jacobian(program, mode="forward")(y), rtol=1e-12, atol=1e-12)
        assert cost2 == cost and cost2 is not cost
        cost2.candidates["changed"] = 1  # the record of one call is its own
        cost2.gaps["changed"] = 1.0
    assert "changed" not in f(x)[1].candidates and "changed" not in f(x)[1].gaps
    np.testing.assert_allclose(f(x)[0], first, rtol=0, atol=0)


def test_python_calls_per_repeated_explicit_jacobian():
    # The benchmark's jacobian_shapes program (tanh(W2 tanh(W1 x)), 4 -> 512):
    # 405 Python calls per Jacobian before the flat plans and the inlined
    # common cases, 288 after, 257 once W1 and W2 are their own local
    # Jacobians (matmul's kron structure). The bound leaves room for changes elsewhere.
    rng = np.random.default_rng(2)
    W1, W2, x = rng.standard_normal((256, 4)), rng.standard_normal((512, 256)), rng.standard_normal(4)
    jac = dr.jacobian(lambda x: dnp.tanh(W2 @ dnp.tanh(W1 @ x)), mode="explicit")
    jac(x)
    jac(x)
    profile = cProfile.Profile()
    profile.enable()
    jac(x)
    profile.disable()
    assert pstats.Stats(profile).total_calls <= 290
