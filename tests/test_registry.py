"""Registry-wide checks: every primitive of dualrev.numpy, on its own sample inputs.

For each primitive and each differentiable argument:

* both rules exist (the two modes can never drift apart in coverage);
* the JVP rule matches central finite differences;
* the adjoint identity ⟨u, J v⟩ = ⟨Jᵀ u, v⟩ holds between the JVP and VJP
  rules (exact up to rounding: the two rules must be transposes);
* a batch of directions gives the same result as a loop over single ones, for
  both rules;
* the rules return the right shape and keep float32 as float32.

No per-op test code: the primitives declare their sample inputs.
"""

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.numpy._helpers import PRIMITIVES

CASES = []
for _prim in PRIMITIVES:
    _samples = _prim.test_inputs(np.random.default_rng(1234)) if _prim.test_inputs else []
    for _k, _sample in enumerate(_samples):
        for _argnum in _sample.diff:
            CASES.append(pytest.param(_prim, _sample, _argnum, id=f"{_prim.name}-s{_k}-arg{_argnum}"))


def test_every_primitive_has_samples_and_both_rules():
    missing = []
    for prim in PRIMITIVES:
        if prim.test_inputs is None:
            missing.append(f"{prim.name}: no sample inputs")
            continue
        for sample in prim.test_inputs(np.random.default_rng(0)):
            for i in sample.diff:
                for kind, lookup in (("JVP", prim.jvp_rule), ("VJP", prim.vjp_rule)):
                    try:
                        if lookup(i) is None:
                            missing.append(f"{prim.name}: {kind} rule for argument {i} is None")
                    except NotImplementedError:
                        missing.append(f"{prim.name}: no {kind} rule for argument {i}")
    assert not missing, "\n".join(missing)


def test_registry_is_not_empty():
    assert len(PRIMITIVES) >= 40
    assert len(CASES) >= 60


def _call(prim, sample, argnum, value):
    args = list(sample.args)
    args[argnum] = value
    return prim(*args, **sample.kwargs)


def _fd_jvp(prim, sample, argnum, direction, eps=1e-6):
    x = sample.args[argnum]
    h = eps * max(1.0, float(np.max(np.abs(x))) if np.size(x) else 1.0)
    plus = np.asarray(_call(prim, sample, argnum, x + h * direction), dtype=np.float64)
    minus = np.asarray(_call(prim, sample, argnum, x - h * direction), dtype=np.float64)
    return (plus - minus) / (2 * h)


def _rules(prim, sample, argnum):
    ans = prim(*sample.args, **sample.kwargs)

    def jvp(t):
        return prim.jvp_rule(argnum)(t, ans, *sample.args, **sample.kwargs)

    def vjp(g):
        return prim.vjp_rule(argnum)(g, ans, *sample.args, **sample.kwargs)

    return ans, jvp, vjp


@pytest.mark.parametrize("prim,sample,argnum", CASES)
def test_jvp_matches_finite_differences(prim, sample, argnum):
    rng = np.random.default_rng(7)
    x = sample.args[argnum]
    ans, jvp, _ = _rules(prim, sample, argnum)
    for _ in range(2):
        v = rng.standard_normal(np.shape(x))
        got = np.asarray(jvp(v))
        want = _fd_jvp(prim, sample, argnum, v)
        assert got.shape == np.shape(ans)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7, err_msg=f"{prim.name} arg {argnum}")


@pytest.mark.parametrize("prim,sample,argnum", CASES)
def test_adjoint_identity(prim, sample, argnum):
    """⟨u, J v⟩ = ⟨Jᵀ u, v⟩: the VJP rule is the transpose of the JVP rule."""
    rng = np.random.default_rng(11)
    x = sample.args[argnum]
    ans, jvp, vjp = _rules(prim, sample, argnum)
    for _ in range(3):
        v = rng.standard_normal(np.shape(x))
        u = rng.standard_normal(np.shape(ans))
        jv = np.asarray(jvp(v))
        jtu = np.asarray(vjp(u))
        assert jtu.shape == np.shape(x), f"{prim.name}: VJP shape {jtu.shape} != argument shape {np.shape(x)}"
        lhs = float(np.sum(u * jv))
        rhs = float(np.sum(jtu * v))
        scale = float(np.sum(np.abs(u) * np.abs(jv)) + np.sum(np.abs(jtu) * np.abs(v))) + 1e-300
        assert abs(lhs - rhs) <= 1e-12 * scale, f"{prim.name} arg {argnum}: <u,Jv>={lhs} <J^T u,v>={rhs}"


@pytest.mark.parametrize("prim,sample,argnum", CASES)
def test_batched_rules_equal_looped(prim, sample, argnum):
    rng = np.random.default_rng(5)
    x = sample.args[argnum]
    ans, jvp, vjp = _rules(prim, sample, argnum)
    k = 3
    V = rng.standard_normal((k,) + np.shape(x))
    U = rng.standard_normal((k,) + np.shape(ans))
    batched_jvp = np.asarray(jvp(V))
    batched_vjp = np.asarray(vjp(U))
    assert batched_jvp.shape == (k,) + np.shape(ans)
    assert batched_vjp.shape == (k,) + np.shape(x)
    for i in range(k):
        np.testing.assert_allclose(batched_jvp[i], np.asarray(jvp(V[i])), rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(batched_vjp[i], np.asarray(vjp(U[i])), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("prim,sample,argnum", CASES)
def test_modes_agree_through_the_api(prim, sample, argnum):
    """The primitive inside dr.jacobian: forward == reverse == finite differences."""

    def f(x):
        return _call(prim, sample, argnum, x)

    dr.testing.check_grads(f, sample.args[argnum], modes=("forward", "reverse"))


@pytest.mark.parametrize("prim,sample,argnum", CASES)
def test_float32_stays_float32(prim, sample, argnum):
    x32 = np.asarray(sample.args[argnum], dtype=np.float32)
    args = [np.asarray(a, dtype=np.float32) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in sample.args]
    kwargs = sample.kwargs

    def f(x):
        a = list(args)
        a[argnum] = x
        return dnp.sum(prim(*a, **kwargs))

    for mode in ("forward", "reverse"):
        g = dr.grad(f, mode=mode)(x32)
        assert np.asarray(g).dtype == np.float32, mode
