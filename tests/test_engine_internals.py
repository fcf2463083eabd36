"""Invariants of the engine's speed and memory shortcuts (no timings here).

Reverse mode keeps on its tape only the values a primitive's VJP rules read
(``Primitive.vjp_reads``); the others are replaced by a ``ShapeOnly``
stand-in. A wrong declaration would silently give wrong gradients, so every
declaration in the registry is checked here: the rules must give the same
cotangents when the undeclared values are stand-ins.
"""

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.numpy import PRIMITIVES
from dualrev.reverse import ReverseTrace, ShapeOnly, backward


def _declared_cases():
    for prim in PRIMITIVES:
        if prim.vjp_reads is None or prim.multiple_results or prim.test_inputs is None:
            continue
        for sample in prim.test_inputs(np.random.default_rng(7)):
            for argnum in sample.diff:
                yield pytest.param(prim, sample, argnum, id=f"{prim.name}-{argnum}")


@pytest.mark.parametrize("prim, sample, argnum", list(_declared_cases()))
def test_vjp_reads_declaration_is_honest(prim, sample, argnum):
    args, kwargs = sample.args, sample.kwargs
    ans = prim(*args, **kwargs)
    rule = prim.vjp_rule(argnum)
    if rule is None:
        return
    rng = np.random.default_rng(0)
    for batch in ((), (3,)):
        ct = rng.standard_normal(batch + np.shape(ans))
        want = rule(ct, ans, *args, **kwargs)
        kept_ans = ans if "ans" in prim.vjp_reads else ShapeOnly(ans)
        kept_args = [
            a if "args" in prim.vjp_reads or i not in sample.diff else ShapeOnly(a) for i, a in enumerate(args)
        ]
        got = rule(ct, kept_ans, *kept_args, **kwargs)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-13, atol=1e-14)


def test_tape_drops_what_the_rules_do_not_read():
    """tanh's rule reads its output only and matmul's its operands only: a
    chain tanh(x @ W) keeps one activation per layer on the tape, as
    hand-written backprop does, not the pre-activations as well."""
    W = np.eye(64) * 0.5
    x = np.ones((64, 64))
    trace = ReverseTrace()
    dnp.tanh(dnp.tanh(trace.new_node(x) @ W) @ W)
    stored = {
        id(value)
        for _prim, _parents, primals, _kwargs, ans, _out in trace.tape
        for value in (*primals, ans)
        if isinstance(value, np.ndarray) and value.shape == (64, 64) and value is not W
    }
    assert len(stored) == 3  # x and the two tanh outputs


def test_sweep_does_not_write_into_seeds():
    """Cotangents are accumulated into new arrays: the user's seed is untouched."""
    x = np.arange(3.0)
    _, f_vjp = dr.vjp(lambda x: x * 2.0 + x, x)
    seed = np.ones(3)
    (g,) = f_vjp(seed)
    np.testing.assert_array_equal(seed, np.ones(3))
    np.testing.assert_array_equal(g, 3 * np.ones(3))
    assert backward([], {0: seed}, consume=True)[0] is seed


def _count_reverse_traces(monkeypatch):
    """Make dualrev.reverse count the reverse traces reverse_pass opens."""
    import dualrev.reverse as reverse

    created = []

    class CountingTrace(ReverseTrace):
        __slots__ = ()

        def __init__(self):
            super().__init__()
            created.append(self)

    monkeypatch.setattr(reverse, "ReverseTrace", CountingTrace)
    return created


def test_auto_jacobian_remembers_the_output_size(monkeypatch):
    """mode='auto' records a reverse tape on the first call to learn m; later
    calls with the same input shapes go straight to the chosen mode."""
    created = _count_reverse_traces(monkeypatch)
    W = np.random.default_rng(0).standard_normal((6, 2))
    wide = dr.jacobian(lambda x: dnp.tanh(W @ x))  # n=2 < m=6: forward
    x = np.array([0.3, -0.2])
    first = wide(x)
    assert len(created) == 1  # recorded once to learn m, then forward
    second = wide(x + 1.0)
    assert len(created) == 1  # no tape on the second call
    np.testing.assert_allclose(second, dr.jacobian(lambda x: dnp.tanh(W @ x), mode="forward")(x + 1.0))
    np.testing.assert_allclose(first, dr.jacobian(lambda x: dnp.tanh(W @ x), mode="reverse")(x))

    created.clear()
    tall = dr.jacobian(lambda x: dnp.tanh(W.T @ x))  # n=6 > m=2: reverse
    y = np.linspace(-1, 1, 6)
    tall(y)
    tall(y)
    assert len(created) == 2  # one tape per call, reused by the reverse sweep
    tall(y + 0.5)  # same shapes: still reverse, recording the tape it sweeps
    assert len(created) == 3


def test_auto_jacobian_rereads_the_output_size():
    """If the output size depends on more than the input shapes, the
    remembered size is only a guess: the result is right either way and the
    next call uses the new size."""

    def f(x, k):
        return dnp.tile(dnp.sin(x), k)

    jac = dr.jacobian(f)
    x = np.array([0.1, 0.2, 0.3])
    for k in (1, 4, 1, 4):
        expected = np.tile(np.diag(np.cos(x)), (k, 1))
        np.testing.assert_allclose(jac(x, k), expected)
