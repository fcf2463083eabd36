"""The cost ledger: ``jacobian(..., return_cost=True)`` in every mode returns one
kind of record (``dr.Cost``) of what ran. Only deterministic facts are tested
(passes, directions, taped runs, bytes held, the choice of ``mode="auto"``),
never timings."""

import dataclasses

import numpy as np
import pytest

import dualrev as dr
import dualrev._jacobians as jacobians
import dualrev.api as api
import dualrev.numpy as dnp
from dualrev.explicit import ExplicitCost, explicit_jacobian
from dualrev.ledger import EXPLICIT_FIELDS, predict

RNG = np.random.default_rng(0)
A_TALL = RNG.standard_normal((512, 4))  # R^4 -> R^512
A_WIDE = RNG.standard_normal((3, 10))  # R^10 -> R^3
A_3_10 = RNG.standard_normal((10, 3))  # R^3 -> R^10


def tall(x):
    return dnp.tanh(A_TALL @ x)


def wide(x):
    return dnp.tanh(A_WIDE @ x)


def three_to_ten(x):
    return dnp.sin(A_3_10 @ x)


# --------------------------------------------------------------------------
# Passes and directions, mode by mode
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "chunk_size, per_pass",
    [(None, (4,)), (2, (2, 2)), (3, (3, 1)), (1, (1, 1, 1, 1)), (10, (4,))],
)
def test_forward_passes_are_the_chunks_of_input_directions(chunk_size, per_pass):
    J, cost = dr.jacobian(tall, mode="forward", chunk_size=chunk_size, return_cost=True)(np.ones(4))
    assert isinstance(cost, dr.Cost) and J.shape == (512, 4)
    assert (cost.mode, cost.requested) == ("forward", "forward")
    assert (cost.n_inputs, cost.n_outputs) == (4, 512)
    assert cost.passes == len(per_pass) and cost.directions_per_pass == per_pass and cost.directions == 4
    assert cost.recordings == 0
    assert cost.multiply_adds is None and cost.tape_bytes is None and cost.peak_bytes is None
    assert cost.explicit is None


@pytest.mark.parametrize("chunk_size, per_pass", [(None, (512,)), (100, (100,) * 5 + (12,)), (512, (512,))])
def test_reverse_sweeps_are_the_chunks_of_output_directions(chunk_size, per_pass):
    J, cost = dr.jacobian(tall, mode="reverse", chunk_size=chunk_size, return_cost=True)(np.ones(4))
    np.testing.assert_allclose(J, dr.jacobian(tall, mode="forward")(np.ones(4)), rtol=1e-12, atol=1e-12)
    assert cost.mode == "reverse" and cost.passes == len(per_pass)
    assert cost.directions_per_pass == per_pass and cost.directions == 512
    assert cost.recordings == 1 and cost.tape_bytes > 0 and cost.multiply_adds is None


def test_default_chunks_hold_at_most_chunk_elements_scalars(monkeypatch):
    """Without chunk_size a block of directions holds at most CHUNK_ELEMENTS
    scalars: forward, n // (CHUNK_ELEMENTS // n) passes; reverse as wide as max(n, m)."""
    monkeypatch.setattr(jacobians, "CHUNK_ELEMENTS", 64)
    f = lambda x: dnp.sum(dnp.sin(x) ** 2) * x[:2]  # R^16 -> R^2
    _, fwd = dr.jacobian(f, mode="forward", return_cost=True)(np.ones(16))
    assert fwd.directions_per_pass == (4, 4, 4, 4)
    _, rev = dr.jacobian(f, mode="reverse", return_cost=True)(np.ones(16))
    assert rev.directions_per_pass == (2,)
    g = lambda x: dnp.concatenate([x] * 8)  # R^4 -> R^32: 64 // 32 = 2 cotangents per sweep
    _, rev = dr.jacobian(g, mode="reverse", return_cost=True)(np.ones(4))
    assert rev.directions_per_pass == (2,) * 16
    assert rev.alternatives["forward"]["directions_per_pass"] == (4,)


def test_explicit_mode_is_one_recording_and_keeps_its_cost_record():
    x = np.linspace(-1.0, 1.0, 10)
    J, cost = dr.jacobian(wide, mode="explicit", order="optimal", return_cost=True)(x)
    leaves = [x]
    *_, direct = explicit_jacobian(lambda v: wide(v[0]), leaves, "optimal", False, "jacobian", "structured")
    assert isinstance(cost, dr.Cost) and isinstance(cost.explicit, ExplicitCost)
    assert cost.explicit == direct  # the explicit mode's record, unchanged
    assert cost.mode == "explicit" and cost.passes == 1 and cost.directions_per_pass == (0,)
    assert cost.recordings == 1 and cost.tape_bytes is None
    assert cost.multiply_adds == direct.multiply_adds
    for name in EXPLICIT_FIELDS:  # cost.plan, cost.candidates, ... read through
        assert getattr(cost, name) == getattr(direct, name)
    assert cost.multiply_adds <= min(cost.candidates.values())
    np.testing.assert_allclose(J, dr.jacobian(wide, mode="forward")(x), rtol=1e-12, atol=1e-12)


def test_explicit_figures_are_explained_in_other_modes():
    _, cost = dr.jacobian(wide, mode="reverse", return_cost=True)(np.ones(10))
    with pytest.raises(AttributeError, match=r"Cost\.plan: only mode='explicit'.*ran mode='reverse'"):
        cost.plan  # noqa: B018
    assert not hasattr(cost, "candidates")
    with pytest.raises(AttributeError, match="no attribute 'no_such_figure'"):
        cost.no_such_figure  # noqa: B018


# --------------------------------------------------------------------------
# mode="auto": the choice, the reason, the alternatives
# --------------------------------------------------------------------------


def test_auto_on_a_wide_jacobian_chooses_reverse_and_says_why():
    jac = dr.jacobian(wide, return_cost=True)
    J, cost = jac(np.ones(10))
    assert J.shape == (3, 10)
    assert (cost.mode, cost.requested) == ("reverse", "auto")
    assert cost.mode == jacobians.choose_mode(10, 3)
    assert cost.chosen_because.startswith("m=3 ≤ n=10: 3 VJPs instead of 10 JVPs")
    forward, reverse = cost.alternatives["forward"], cost.alternatives["reverse"]
    assert forward == {"passes": 1, "directions": 10, "directions_per_pass": (10,), "recordings": 0}
    assert reverse == {"passes": 1, "directions": 3, "directions_per_pass": (3,), "recordings": 1}
    assert cost.recordings == 1 and cost.tape_bytes > 0  # the tape that measured m was swept
    _, again = jac(np.ones(10) * 0.5)
    assert again.mode == "reverse" and again.recordings == 1 and "remembered" in again.chosen_because


def test_auto_on_a_tall_jacobian_chooses_forward_and_says_why():
    jac = dr.jacobian(three_to_ten, return_cost=True)
    J, cost = jac(np.ones(3))
    assert J.shape == (10, 3)
    assert cost.mode == "forward" == jacobians.choose_mode(3, 10)
    assert cost.chosen_because.startswith("m=10 > n=3: 3 JVPs instead of 10 VJPs")
    assert cost.alternatives["forward"]["passes"] == 1 and cost.alternatives["forward"]["directions"] == 3
    assert cost.alternatives["reverse"]["passes"] == 1 and cost.alternatives["reverse"]["directions"] == 10
    assert cost.recordings == 1 and cost.tape_bytes is None  # one taped run to learn m, then dropped
    _, again = jac(np.ones(3))
    assert again.mode == "forward" and again.recordings == 0 and "remembered" in again.chosen_because


def test_a_tie_goes_to_reverse():
    _, cost = dr.jacobian(lambda x: dnp.sin(x), return_cost=True)(np.ones(5))
    assert cost.mode == "reverse" and cost.chosen_because.startswith("m=5 ≤ n=5: 5 VJPs instead of 5 JVPs")


@pytest.mark.parametrize("mode", ["forward", "reverse", "auto"])
@pytest.mark.parametrize("fun, n", [(tall, 4), (wide, 10), (three_to_ten, 3)])
@pytest.mark.parametrize("chunk_size", [None, 1, 3])
def test_the_prediction_for_the_mode_that_ran_is_what_ran(mode, fun, n, chunk_size):
    _, cost = dr.jacobian(fun, mode=mode, chunk_size=chunk_size, return_cost=True)(np.ones(n))
    ran = cost.alternatives[cost.mode]
    assert (ran["passes"], ran["directions_per_pass"]) == (cost.passes, cost.directions_per_pass)
    assert ran["directions"] == cost.directions
    assert cost.alternatives == predict(cost.n_inputs, cost.n_outputs, chunk_size)


def test_an_explicitly_asked_mode_says_what_auto_would_do():
    _, cost = dr.jacobian(wide, mode="forward", return_cost=True)(np.ones(10))
    assert cost.chosen_because == (
        "mode='forward' was asked for (mode='auto' would choose reverse: m=3 ≤ n=10: 3 VJPs instead of 10 JVPs)"
    )
    _, cost = dr.jacobian(wide, mode="reverse", return_cost=True)(np.ones(10))
    assert "mode='auto' makes the same choice" in cost.chosen_because


def test_sizes_count_every_leaf_of_every_argument_and_output():
    f = lambda a, b: {"s": dnp.sum(a * b[0]), "v": a * 2.0}  # n = 3 + 3 + 2, m = 1 + 3
    (J, cost) = dr.jacobian(f, argnums=(0, 1), return_cost=True)(np.ones(3), (np.ones(3), np.ones(2)))
    assert (cost.n_inputs, cost.n_outputs) == (8, 4) and cost.mode == "reverse"
    assert J["v"][0].shape == (3, 3)


# --------------------------------------------------------------------------
# What the reverse tape holds
# --------------------------------------------------------------------------


def _mlp(n_layers, W):
    def f(x):
        for _ in range(n_layers):
            x = dnp.tanh(x @ W)
        return dnp.sum(x)

    return f


def test_tape_bytes_hold_one_activation_per_layer_not_the_pre_activations():
    """tanh's rule reads its output and matmul's its operands (see
    tests/test_engine_internals.py): a chain tanh(x @ W) keeps x, W and one
    activation per layer; a shared W and an activation read by the next
    matmul are counted once."""
    W = np.eye(32) * 0.5
    x = np.ones((8, 32))
    act = x.nbytes  # every activation is (8, 32) float64
    costs = {}
    for n_layers in (1, 4):
        _, costs[n_layers] = dr.jacobian(_mlp(n_layers, W), mode="reverse", return_cost=True)(x)
    kept = x.nbytes + W.nbytes + 4 * act
    assert kept <= costs[4].tape_bytes < kept + act  # not the 4 pre-activations, not W four times
    assert costs[4].tape_bytes - costs[1].tape_bytes == 3 * act


def test_tape_bytes_count_a_view_as_the_buffer_it_keeps():
    big = np.ones(1000)
    f = lambda x: dnp.sum(dnp.sin(x[:10]))  # the slice keeps x alive, not 80 bytes
    _, cost = dr.jacobian(f, mode="reverse", return_cost=True)(big)
    assert cost.tape_bytes >= big.nbytes


def test_tape_bytes_inside_another_transformation():
    inner = lambda x: dr.jacobian(wide, mode="reverse", return_cost=True)(x)[1].tape_bytes * 0.0 + x
    np.testing.assert_allclose(dr.jacobian(inner, mode="forward")(np.ones(10)), np.eye(10))


# --------------------------------------------------------------------------
# The default path, the signature, bad input
# --------------------------------------------------------------------------


def test_without_return_cost_nothing_is_measured(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("measured without return_cost")

    monkeypatch.setattr(api, "RunLog", refuse)
    monkeypatch.setattr(jacobians, "tape_nbytes", refuse)
    for mode in ("forward", "reverse", "explicit", "auto"):
        J = dr.jacobian(wide, mode=mode)(np.ones(10))
        assert isinstance(J, np.ndarray) and J.shape == (3, 10)


def test_has_aux_and_return_cost_together():
    f = lambda x: (dnp.sin(x), "aux")
    (J, aux), cost = dr.jacobian(f, has_aux=True, return_cost=True)(np.ones(3))
    assert aux == "aux" and J.shape == (3, 3) and cost.mode == "reverse"


@pytest.mark.parametrize("bad", ["yes", 1, None, np.array([True])])
def test_return_cost_must_be_a_bool(bad):
    with pytest.raises(TypeError, match=r"jacobian: return_cost must be True or False.*pass return_cost=True"):
        dr.jacobian(wide, return_cost=bad)


def test_numpy_bools_are_bools():
    _, cost = dr.jacobian(wide, return_cost=np.bool_(True))(np.ones(10))
    assert cost.mode == "reverse"
    assert isinstance(dr.jacobian(wide, return_cost=np.bool_(False))(np.ones(10)), np.ndarray)


@pytest.mark.parametrize("transform", [dr.grad, dr.value_and_grad])
def test_gradients_have_no_cost_ledger(transform):
    with pytest.raises(TypeError, match="return_cost"):
        transform(lambda x: dnp.sum(x), return_cost=True)


def test_the_cost_is_a_frozen_record():
    _, cost = dr.jacobian(wide, return_cost=True)(np.ones(10))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cost.mode = "forward"
    assert dataclasses.replace(cost, peak_bytes=1).peak_bytes == 1
    assert repr(cost).startswith("Cost(mode='reverse'")
