"""Registry-wide checks: every primitive of dualrev.numpy, on its own sample inputs.

For each primitive and each differentiable argument:

* both rules exist (the two modes can never drift apart in coverage);
* the JVP rule matches central finite differences;
* the adjoint identity ⟨u, J v⟩ = ⟨Jᵀ u, v⟩ holds between the JVP and VJP
  rules (exact up to rounding: the two rules must be transposes);
* a batch of directions gives the same result as a loop over single ones, for
  both rules;
* the rules return the right shape and keep float32 as float32;
* second derivatives (forward-over-reverse, reverse-over-forward and their
  siblings) agree with each other and with finite differences of the
  gradient, for every primitive whose metadata says it is twice
  differentiable (``samples(..., order=2)``, the default).

No per-op test code: the primitives declare their sample inputs.
Multiple-result primitives (``eigh``, ``svd``, ``qr``, ``slogdet``) are
compared on the concatenation of their raveled outputs.
"""

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.numpy import PRIMITIVES

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


def _flat(value, batch=()):
    """One array from a primitive's result (or a tuple of them, for multiple
    results), keeping ``batch`` leading axes: ``batch + (total size,)``."""
    if isinstance(value, tuple):
        return np.concatenate([np.reshape(np.asarray(v, dtype=np.float64), batch + (-1,)) for v in value], axis=-1)
    return np.reshape(np.asarray(value, dtype=np.float64), batch + (-1,))


def _random_like(rng, ans, batch=()):
    if isinstance(ans, tuple):
        return tuple(rng.standard_normal(batch + np.shape(a)) for a in ans)
    return rng.standard_normal(batch + np.shape(ans))


def _shape_tree(value):
    return tuple(np.shape(v) for v in value) if isinstance(value, tuple) else np.shape(value)


def _fd_jvp(prim, sample, argnum, direction, eps=1e-6):
    x = sample.args[argnum]
    h = eps * max(1.0, float(np.max(np.abs(x))) if np.size(x) else 1.0)
    plus = _flat(_call(prim, sample, argnum, x + h * direction))
    minus = _flat(_call(prim, sample, argnum, x - h * direction))
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
        got = jvp(v)
        assert _shape_tree(got) == _shape_tree(ans)
        got = _flat(got)
        want = _fd_jvp(prim, sample, argnum, v)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7, err_msg=f"{prim.name} arg {argnum}")


@pytest.mark.parametrize("prim,sample,argnum", CASES)
def test_adjoint_identity(prim, sample, argnum):
    """⟨u, J v⟩ = ⟨Jᵀ u, v⟩: the VJP rule is the transpose of the JVP rule."""
    rng = np.random.default_rng(11)
    x = sample.args[argnum]
    ans, jvp, vjp = _rules(prim, sample, argnum)
    for _ in range(3):
        v = rng.standard_normal(np.shape(x))
        u = _random_like(rng, ans)
        jv = _flat(jvp(v))
        jtu = np.asarray(vjp(u))
        u = _flat(u)
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
    U = _random_like(rng, ans, (k,))
    batched_jvp = jvp(V)
    batched_vjp = np.asarray(vjp(U))
    if isinstance(ans, tuple):
        assert _shape_tree(batched_jvp) == tuple((k,) + np.shape(a) for a in ans)
    else:
        assert np.shape(batched_jvp) == (k,) + np.shape(ans)
    assert batched_vjp.shape == (k,) + np.shape(x)
    batched_jvp = _flat(batched_jvp, (k,))
    for i in range(k):
        U_i = tuple(u[i] for u in U) if isinstance(U, tuple) else U[i]
        np.testing.assert_allclose(batched_jvp[i], _flat(jvp(V[i])), rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(batched_vjp[i], np.asarray(vjp(U_i)), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("prim,sample,argnum", CASES)
def test_modes_agree_through_the_api(prim, sample, argnum):
    """The primitive inside dr.jacobian: forward == reverse == finite differences."""

    def f(x):
        return _call(prim, sample, argnum, x)

    dr.testing.check_grads(f, sample.args[argnum], modes=("forward", "reverse"))


@pytest.mark.parametrize("prim,sample,argnum", CASES)
def test_float32_stays_float32(prim, sample, argnum):
    x32 = np.asarray(sample.args[argnum], dtype=np.float32)
    args = [
        np.asarray(a, dtype=np.float32) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in sample.args
    ]
    kwargs = sample.kwargs

    def f(x):
        a = list(args)
        a[argnum] = x
        out = prim(*a, **kwargs)
        return sum(dnp.sum(o) for o in out) if isinstance(out, tuple) else dnp.sum(out)

    for mode in ("forward", "reverse"):
        g = dr.grad(f, mode=mode)(x32)
        assert np.asarray(g).dtype == np.float32, mode


# ----------------------------------------------------------- second order

SECOND_ORDER_CASES = []
for _prim in PRIMITIVES:
    if getattr(_prim, "test_order", 2) < 2 or _prim.test_inputs is None:
        continue
    _samples = _prim.test_inputs(np.random.default_rng(1234))
    if _samples:  # the first sample of each primitive keeps this test fast
        for _argnum in _samples[0].diff:
            SECOND_ORDER_CASES.append(pytest.param(_prim, _samples[0], _argnum, id=f"{_prim.name}-arg{_argnum}"))


def _scalarised(prim, sample, argnum):
    """x ↦ Σ w ⊙ prim(..., x, ...) with fixed random weights w: a scalar
    function whose Hessian involves the primitive's second derivative."""
    rng = np.random.default_rng(3)
    weights = _random_like(rng, prim(*sample.args, **sample.kwargs))

    def f(x):
        out = _call(prim, sample, argnum, x)
        if isinstance(out, tuple):
            return sum(dnp.sum(o * w) for o, w in zip(out, weights))
        return dnp.sum(out * weights)

    return f


def test_second_order_cases_cover_the_registry():
    assert len(SECOND_ORDER_CASES) >= len(PRIMITIVES) // 2


@pytest.mark.parametrize("prim,sample,argnum", SECOND_ORDER_CASES)
def test_second_order(prim, sample, argnum):
    """Hessians: forward-over-reverse == reverse-over-forward (and the other two
    pairings) == finite differences of the gradient."""
    f = _scalarised(prim, sample, argnum)
    dr.testing.check_grads(f, sample.args[argnum], modes=("forward", "reverse"), order=2, rtol=1e-4, atol=1e-6)
