"""Lean recording (issue 14), checked by counts that do not depend on the
machine: the Python frames one recorded op costs, what a tape entry holds,
and the frames a replayed gradient saves. (Speed itself is measured by the
benchmarks, never asserted here.)"""

import sys

import numpy as np

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.core import NO_KWARGS
from dualrev.forward import Dual, ForwardTrace
from dualrev.reverse import ReverseTrace


def frames(call):
    """The Python functions entered while ``call()`` runs (C functions not counted)."""
    names = []

    def profile(frame, event, arg):
        if event == "call":
            names.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return names[1:]  # the call itself


X = np.linspace(-1.0, 1.0, 64)  # 512 bytes: large enough for shape-only stand-ins


SMALL = np.linspace(-1.0, 1.0, 8)  # below the shape-only threshold: every value is kept


def test_recording_an_elementwise_op_or_operator_costs_two_frames():
    trace = ReverseTrace()
    node = trace.new_node(SMALL)
    assert frames(lambda: dnp.tanh(node)) == ["entry", "process1"]
    assert frames(lambda: node * 0.9) == ["operator", "process2"]
    assert frames(lambda: node + node) == ["operator", "process2"]
    assert frames(lambda: 2.0 - node) == ["operator", "process2"]
    assert frames(lambda: -node) == ["operator", "process1", "_negative_impl"]  # a Python implementation
    W = np.ones((8, 3))
    assert frames(lambda: node @ W) == ["__matmul__", "matmul", "bind2", "process2", "_matmul_impl"]
    # A value kept by shape alone: the interned stand-in is looked up (two more frames).
    big = trace.new_node(X)
    dnp.tanh(big)
    assert frames(lambda: dnp.tanh(big)) == ["entry", "process1", "shape_only_alone", "shape_only"]


def test_forward_mode_adds_only_the_rules():
    trace = ForwardTrace()
    dual = Dual(SMALL, np.ones_like(SMALL), trace)
    recorded = frames(lambda: dnp.sin(dual))
    assert recorded[:2] == ["entry", "process1"] and "__init__" not in recorded
    assert frames(lambda: dual * 0.9)[:2] == ["operator", "process2"]


def test_tape_entries_share_empty_keywords_and_shape_only_stand_ins():
    trace = ReverseTrace()
    h = trace.new_node(X)
    for _ in range(3):
        h = dnp.tanh(h)  # tanh's rule reads its result only: the input is kept by shape
    entries = trace.tape
    assert all(e.kwargs is NO_KWARGS for e in entries)
    assert entries[1].primals is entries[2].primals  # one shared (ShapeOnly,) tuple
    assert type(entries[1].primals[0]).__name__ == "ShapeOnly"
    assert all(type(e.ans) is np.ndarray for e in entries)


def test_nodes_are_built_without_an_init_frame():
    trace = ReverseTrace()
    node = trace.new_node(X)
    assert "__init__" not in frames(lambda: dnp.exp(node) * node)


def chain(x):
    h = x
    for k in range(60):
        h = dnp.sin(h) if k % 3 == 0 else (h * 0.9 if k % 3 == 1 else dnp.tanh(h + x))
    return dnp.sum(h)


def test_a_replayed_gradient_runs_fewer_than_half_the_frames():
    eager, replayed = dr.grad(chain), dr.grad(chain, replay=True)
    replayed(X)
    replayed(X)  # recorded, then compiled
    n_eager, n_replayed = len(frames(lambda: eager(X))), len(frames(lambda: replayed(X)))
    assert n_replayed < 0.5 * n_eager, (n_eager, n_replayed)
    np.testing.assert_array_equal(eager(X), replayed(X))
