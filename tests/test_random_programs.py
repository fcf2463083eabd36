"""Hypothesis builds random programs — DAGs of registry ops with broadcasting,
reductions, indexing and products — and checks forward == reverse == explicit
(tight: the modes must agree to rounding) and all == central finite
differences. (tests/test_explicit.py checks each explicit order separately.)"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualrev as dr
import dualrev.numpy as dnp

UNARY = {
    "sin": dnp.sin,
    "tanh": dnp.tanh,
    "sigmoid": dnp.sigmoid,
    "exp_small": lambda x: dnp.exp(0.3 * x),
    "log1p_sq": lambda x: dnp.log1p(x * x),
    "sqrt_1p": lambda x: dnp.sqrt(1.0 + x * x),
    "arctan": dnp.arctan,
    "square": lambda x: x**2,
    "neg": lambda x: -x,
    "cosh_small": lambda x: dnp.cosh(0.5 * x),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1.5 + b * b),
    "maximum": dnp.maximum,
    "where": lambda a, b: dnp.where(dr.concrete(a) > 0, a, b),
}
REDUCE = {
    "sum": dnp.sum,
    "mean": dnp.mean,
    "max": dnp.max,
    "logsumexp": dnp.logsumexp,
    "prod": dnp.prod,
}


def _broadcastable(s1, s2):
    try:
        np.broadcast_shapes(s1, s2)
        return True
    except ValueError:
        return False


def _matmul_ok(s1, s2):
    if len(s1) == 0 or len(s2) == 0:
        return False
    try:
        np.matmul(np.zeros(s1), np.zeros(s2))
        return True
    except ValueError:
        return False


@st.composite
def programs(draw):
    """A list of instructions over a growing list of values (inputs first)."""
    input_shapes = draw(st.lists(st.sampled_from([(3,), (2, 3), (2, 1), (), (1, 3)]), min_size=1, max_size=2))
    shapes = list(input_shapes)
    program = []
    for _ in range(draw(st.integers(2, 7))):
        i = draw(st.integers(0, len(shapes) - 1))
        s = shapes[i]
        kind = draw(st.sampled_from(["unary", "binary", "reduce", "index", "shape", "matmul", "concat"]))
        if kind == "binary":
            partners = [j for j, t in enumerate(shapes) if _broadcastable(s, t)]
            j = draw(st.sampled_from(partners))
            op = draw(st.sampled_from(sorted(BINARY)))
            program.append(("binary", op, i, j))
            shapes.append(np.broadcast_shapes(s, shapes[j]))
        elif kind == "reduce" and len(s) > 0:
            op = draw(st.sampled_from(sorted(REDUCE)))
            axis = draw(st.sampled_from([None] + list(range(-len(s), len(s)))))
            keep = draw(st.booleans())
            program.append(("reduce", op, i, axis, keep))
            shapes.append(np.sum(np.zeros(s), axis=axis, keepdims=keep).shape)
        elif kind == "index" and len(s) > 0 and s[-1] > 1:
            index = draw(
                st.sampled_from(
                    [
                        (Ellipsis, slice(None, None, -1)),
                        (Ellipsis, np.array([0, 0, s[-1] - 1])),
                        (Ellipsis, slice(1, None)),
                        (Ellipsis, 0),
                    ]
                )
            )
            program.append(("index", index, i))
            shapes.append(np.zeros(s)[index].shape)
        elif kind == "shape" and len(s) == 2:
            op = draw(st.sampled_from(["T", "ravel", "expand"]))
            program.append(("shape", op, i))
            shapes.append({"T": s[::-1], "ravel": (s[0] * s[1],), "expand": (1,) + s}[op])
        elif kind == "matmul" and len(s) >= 1:
            partners = [j for j, t in enumerate(shapes) if _matmul_ok(s, t)]
            if partners:
                j = draw(st.sampled_from(partners))
                program.append(("matmul", i, j))
                shapes.append(np.matmul(np.zeros(s), np.zeros(shapes[j])).shape)
                continue
            program.append(("unary", "tanh", i))
            shapes.append(s)
        elif kind == "concat" and len(s) >= 1:
            partners = [j for j, t in enumerate(shapes) if len(t) == len(s) and t[:-1] == s[:-1]]
            j = draw(st.sampled_from(partners))
            program.append(("concat", i, j))
            shapes.append(s[:-1] + (s[-1] + shapes[j][-1],))
        else:
            op = draw(st.sampled_from(sorted(UNARY)))
            program.append(("unary", op, i))
            shapes.append(s)
    n_outputs = draw(st.integers(1, 2))
    return input_shapes, program, n_outputs


def run(program, n_outputs, *inputs):
    values = list(inputs)
    for instr in program:
        kind = instr[0]
        if kind == "unary":
            values.append(UNARY[instr[1]](values[instr[2]]))
        elif kind == "binary":
            values.append(BINARY[instr[1]](values[instr[2]], values[instr[3]]))
        elif kind == "reduce":
            _, op, i, axis, keep = instr
            values.append(REDUCE[op](values[i], axis=axis, keepdims=keep))
        elif kind == "index":
            values.append(values[instr[2]][instr[1]])
        elif kind == "shape":
            x = values[instr[2]]
            shaped = {"T": lambda: x.T, "ravel": lambda: dnp.ravel(x), "expand": lambda: dnp.expand_dims(x, 0)}
            values.append(shaped[instr[1]]())
        elif kind == "matmul":
            values.append(dnp.matmul(values[instr[1]], values[instr[2]]))
        elif kind == "concat":
            values.append(dnp.concatenate([values[instr[1]], values[instr[2]]], axis=-1))
    outs = values[-n_outputs:]
    return tuple(outs) if n_outputs > 1 else outs[0]


@settings(max_examples=200)
@given(programs(), st.integers(0, 2**31 - 1))
def test_forward_equals_reverse_equals_finite_differences(prog, seed):
    input_shapes, program, n_outputs = prog
    rng = np.random.default_rng(seed)
    # Inputs away from the kinks of maximum/where/max (ties have probability 0).
    inputs = [rng.uniform(0.3, 1.2, s) * rng.choice([-1.0, 1.0], s) for s in input_shapes]

    def f(*xs):
        return run(program, n_outputs, *xs)

    dr.testing.check_grads(f, *inputs, modes=("forward", "reverse", "explicit"), rtol=1e-5, atol=1e-6)


# "where" reads dr.concrete(a): such programs are refused and must still be equal
@pytest.mark.filterwarnings("ignore::dualrev.replay.ReplayWarning")
@settings(max_examples=60)
@given(programs(), st.integers(0, 2**31 - 1))
def test_replayed_jacobians_equal_unreplayed_on_new_inputs(prog, seed):
    """replay=True records the program on one input and replays it on others:
    the reverse and forward Jacobians equal the unreplayed ones exactly."""
    input_shapes, program, n_outputs = prog
    rng = np.random.default_rng(seed)
    argnums = tuple(range(len(input_shapes)))

    def f(*xs):
        return run(program, n_outputs, *xs)

    replayed = {m: dr.jacobian(f, argnums, mode=m, replay=True) for m in ("reverse", "forward")}
    for _ in range(2):
        inputs = [rng.uniform(0.3, 1.2, s) * rng.choice([-1.0, 1.0], s) for s in input_shapes]
        for mode, jac in replayed.items():
            got = dr.tree_flatten(jac(*inputs))[0]
            expected = dr.tree_flatten(dr.jacobian(f, argnums, mode=mode)(*inputs))[0]
            for a, b in zip(got, expected):
                np.testing.assert_array_equal(a, b)
