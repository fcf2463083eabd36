"""Tape replay (``replay=True``): equal results, f's Python not re-run, and
every safety rule: a branching function is refused, masks are recomputed,
reads of traced values, closures over enclosing tracers and replay inside
another transformation run unreplayed with one warning."""

import warnings

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp
import dualrev.scipy.special as sps
from dualrev.replay import ReplayWarning

rng = np.random.default_rng(7)


def _counted(f):
    calls = []

    def g(*args, **kwargs):
        calls.append(1)
        return f(*args, **kwargs)

    g.calls = calls
    return g


def mlp(params, x):
    h = x
    for W, b in params["layers"]:
        h = dnp.tanh(h @ W + b)
    return dnp.mean(h**2) + 0.1 * sps.logsumexp(h)


def _params(d=5):
    return {"layers": [(rng.standard_normal((d, d)), rng.standard_normal(d)) for _ in range(3)]}


PROGRAMS = {
    "chain": lambda x: dnp.sum(dnp.exp(dnp.sin(x) * 0.9 + x) / (1 + x**2)),
    "where_mask": lambda x: dnp.sum(dnp.where(x > 0, dnp.sqrt(dnp.abs(x)), 0.5 * x**2)),
    "relu": lambda x: dnp.sum(dnp.maximum(x, 0.0) ** 2),
    "mask_product": lambda x: dnp.sum(x * (x > 0.2) + x**2 * (x <= 0.2)),
    "isnan_where": lambda x: dnp.sum(dnp.where(dnp.isnan(x), 0.0, x) ** 3),
    "softmax": lambda x: dnp.sum(sps.softmax(x) * x),
    "norm": lambda x: dnp.linalg.norm(x) + dnp.std(x),
    "stack_reshape": lambda x: dnp.sum(dnp.reshape(dnp.stack([x, x**2]), (-1,))[::2] * 3.0),
    "clip_max": lambda x: dnp.sum(dnp.clip(x, -0.5, 0.5)) + dnp.max(x),
}


def _no_replay_warning():
    return warnings.catch_warnings(record=True)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_grad_replay_equals_unreplayed_on_new_inputs_without_rerunning_f(name):
    f = _counted(PROGRAMS[name])
    g_replay, g_plain = dr.grad(f, replay=True), dr.grad(PROGRAMS[name])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReplayWarning)  # none of these may be refused
        for _ in range(4):
            x = rng.standard_normal(6)  # signs change: masks must be recomputed
            np.testing.assert_array_equal(g_replay(x), g_plain(x))
    assert len(f.calls) == 1  # recorded once, then replayed


def test_mlp_with_a_dict_of_parameters_value_and_grad():
    params, x = _params(), rng.standard_normal((4, 5))
    vg_replay, vg_plain = dr.value_and_grad(mlp, replay=True), dr.value_and_grad(mlp)
    for _ in range(3):
        params = dr.tree_map(lambda p: p + 0.1 * rng.standard_normal(p.shape), params)
        (v1, g1), (v2, g2) = vg_replay(params, x), vg_plain(params, x)
        assert v1 == v2
        for a, b in zip(dr.tree_flatten(g1)[0], dr.tree_flatten(g2)[0]):
            np.testing.assert_array_equal(a, b)


def test_the_undifferentiated_arguments_are_part_of_the_signature():
    f = _counted(mlp)
    g = dr.grad(f, replay=True)
    params = _params()
    x1, x2 = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    for x in (x1, x2, x1, x2):  # a new x is a new program, never the other one's
        got, expected = dr.tree_flatten(g(params, x))[0], dr.tree_flatten(dr.grad(mlp)(params, x))[0]
        np.testing.assert_array_equal(got[0], expected[0])
    assert len(f.calls) == 2
    g(params, rng.standard_normal((7, 5)))  # a new shape: recorded again
    assert len(f.calls) == 3


def test_a_mask_is_recomputed_not_reused():
    f = lambda x: dnp.sum(dnp.where(x > 0, x, -3.0 * x))  # noqa: E731
    g = dr.grad(f, replay=True)
    np.testing.assert_array_equal(g(np.array([1.0, -1.0])), [1.0, -3.0])
    np.testing.assert_array_equal(g(np.array([-1.0, 1.0])), [-3.0, 1.0])  # the recorded mask would give [1, -3]


def test_a_branching_function_is_refused_with_one_warning_and_stays_correct():
    calls = []

    def branchy(x):
        calls.append(1)
        if dnp.sum(x) > 0:
            return dnp.sum(x**2)
        return dnp.sum(x**3)

    g = dr.grad(branchy, replay=True)
    with pytest.warns(ReplayWarning, match="read the value of a traced array.*branchy"):
        np.testing.assert_array_equal(g(np.ones(3)), [2.0, 2.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReplayWarning)  # warned once only
        np.testing.assert_array_equal(g(-np.ones(3)), [3.0, 3.0, 3.0])
        np.testing.assert_array_equal(g(np.ones(3)), [2.0, 2.0, 2.0])
    assert len(calls) == 4  # recording + the first run, then every call runs f


@pytest.mark.parametrize(
    "read",
    [
        lambda x: dnp.sum(x) * (2.0 if bool(dnp.sum(x) > 0) else 3.0),
        lambda x: dnp.sum(x) * int(dnp.argmax(x)),  # an index read as a Python int
        lambda x: dnp.sum(x[: int(dnp.argmax(x)) + 1]),  # a value-dependent shape
        lambda x: dnp.sum(dnp.take(x, dnp.argmax(x))),  # a traced index
        lambda x: dnp.sum(dnp.sort(x) * np.arange(4.0)),  # sort's permutation is read
    ],
)
def test_reads_of_traced_values_refuse_the_recording(read):
    g = dr.grad(read, replay=True)
    xs = [np.array([0.1, 2.0, -1.0, 0.5]), np.array([3.0, -2.0, 1.0, 0.2])]
    with pytest.warns(ReplayWarning, match="cannot be replayed"):
        g(xs[0])
    for x in xs:
        np.testing.assert_array_equal(g(x), dr.grad(read)(x))


def test_a_closure_over_an_enclosing_tracer_is_refused():
    def outer(x):
        inner = dr.grad(lambda y: dnp.sum(x * y**2), replay=True)
        return dnp.sum(inner(np.ones(3)))

    with pytest.warns(ReplayWarning, match="enclosing transformation"):
        g = dr.grad(outer)(np.arange(3.0))
    np.testing.assert_allclose(g, 2 * np.ones(3))


def test_replay_inside_another_transformation_runs_unreplayed():
    inner = dr.grad(lambda y: dnp.sum(dnp.sin(y) ** 2), replay=True)
    x = rng.standard_normal(3)
    with pytest.warns(ReplayWarning, match="inside another transformation"):
        h = dr.jacobian(inner)(x)
    np.testing.assert_allclose(h, dr.hessian(lambda y: dnp.sum(dnp.sin(y) ** 2))(x), rtol=1e-13)


def test_has_aux_is_recomputed():
    f = lambda x: (dnp.sum(x**2), {"max": dnp.max(x), "const": 3})  # noqa: E731
    g = dr.grad(f, has_aux=True, replay=True)
    for x in (rng.standard_normal(4), rng.standard_normal(4)):
        grad, aux = g(x)
        np.testing.assert_array_equal(grad, 2 * x)
        assert aux["max"] == np.max(x) and aux["const"] == 3


def test_jvp_vjp_hvp_jacobian_with_replay_equal_unreplayed():
    f = PROGRAMS["where_mask"]
    F = lambda x: dnp.tanh(x) * dnp.where(x > 0, x, 0.0)  # noqa: E731
    for _ in range(3):
        x, v = rng.standard_normal(5), rng.standard_normal(5)
        for a, b in zip(dr.jvp(F, (x,), (v,), replay=True), dr.jvp(F, (x,), (v,))):
            np.testing.assert_array_equal(a, b)
        out, pb = dr.vjp(F, x, replay=True)
        out0, pb0 = dr.vjp(F, x)
        np.testing.assert_array_equal(out, out0)
        np.testing.assert_array_equal(pb(v)[0], pb0(v)[0])
        np.testing.assert_array_equal(pb(np.eye(5), batched=True)[0], pb0(np.eye(5), batched=True)[0])
        np.testing.assert_allclose(dr.hvp(f, (x,), (v,), replay=True)[0], dr.hvp(f, (x,), (v,))[0], rtol=1e-15)
        for mode in ("forward", "reverse", "auto", "explicit"):
            np.testing.assert_allclose(
                dr.jacobian(F, mode=mode, replay=True)(x), dr.jacobian(F, mode=mode)(x), rtol=1e-15, atol=0
            )


def test_functions_that_differentiate_inside_are_replayed():
    def f(x):  # an inner gradient, recorded as ops on the outer program
        return dnp.sum(dr.grad(lambda y: dnp.sum(dnp.sin(y) * y))(x) ** 2)

    g = dr.grad(f, replay=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReplayWarning)
        for _ in range(2):
            x = rng.standard_normal(4)
            np.testing.assert_allclose(g(x), dr.grad(f)(x), rtol=1e-15)


def test_unkeyable_arguments_run_unreplayed():
    class Config:
        scale = 2.0

    f = lambda x, c: dnp.sum(x**2) * c.scale  # noqa: E731
    g = dr.grad(f, replay=True)
    with pytest.warns(ReplayWarning, match="type Config"):
        np.testing.assert_array_equal(g(np.ones(2), Config()), [4.0, 4.0])


def test_missing_rules_still_raise_naming_the_primitive():
    @dr.primitive
    def cube(x):
        return x**3

    dr.defjvp(cube, lambda t, ans, x: 3 * x**2 * t)  # no VJP rule
    g = dr.grad(lambda x: dnp.sum(cube(x)), replay=True)
    with pytest.raises(NotImplementedError, match="cube"):
        g(np.ones(2))
    np.testing.assert_array_equal(dr.jvp(lambda x: cube(x), (np.ones(2),), (np.ones(2),), replay=True)[1], [3, 3])


def test_programs_the_compiler_leaves_interpreted_replay_the_same():
    """Multiple results (eigh, slogdet) and user primitives (whose rule results
    are checked) take the interpreted replay; both agree with reverse mode."""

    @dr.primitive
    def cube(x):
        return x**3

    dr.defjvp(cube, lambda t, ans, x: 3 * x**2 * t)
    dr.defvjp(cube, lambda g, ans, x: 3 * x**2 * g)

    def f(a):
        w, v = dnp.linalg.eigh(a + a.T + 6 * np.eye(3))
        sign, logdet = dnp.linalg.slogdet(a @ a.T + np.eye(3))
        return dnp.sum(cube(w)) + dnp.sum(v[:, 0] ** 2) + logdet

    g = dr.grad(f, replay=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReplayWarning)
        for _ in range(3):
            a = rng.standard_normal((3, 3))
            np.testing.assert_array_equal(g(a), dr.grad(f)(a))
    (program,) = g.replayer.programs.values()
    assert program.compiled is False and program.reverse_plan is not None


def test_the_compiled_sweep_is_used_and_batched_cotangents_go_through_it():
    F = lambda x: dnp.tanh(x) * dnp.where(x > 0, x, 0.0) + dnp.sum(x**2)  # noqa: E731
    x = rng.standard_normal(4)
    _, pb = dr.vjp(F, x, replay=True)
    _, pb = dr.vjp(F, x, replay=True)  # the first replay compiles
    from dualrev.replay.cache import replayer_of

    (program,) = replayer_of(F, "vjp").programs.values()
    assert program.compiled and "def pull" in program.compiled.source
    _, pb0 = dr.vjp(F, x)
    u = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(pb(u, batched=True)[0], pb0(u, batched=True)[0])
    np.testing.assert_array_equal(pb(u[0])[0], pb0(u[0])[0])


def test_the_per_function_cache_does_not_keep_the_function_alive():
    import gc
    import weakref

    def f(x):
        return dnp.sum(dnp.sin(x) * x)

    for _ in range(2):
        dr.jvp(f, (np.ones(3),), (np.ones(3),), replay=True)
        dr.hvp(f, (np.ones(3),), (np.ones(3),), replay=True)
        dr.vjp(f, np.ones(3), replay=True)
    ref = weakref.ref(f)
    del f
    gc.collect()
    assert ref() is None


def test_hvp_replay_records_the_gradient_and_pushes_it_forward():
    f = lambda x, y: dnp.sum(dnp.tanh(x * y) ** 2) + dnp.sum(dnp.where(x > 0, x**3, 0.0))  # noqa: E731
    for _ in range(3):
        x, y, v, w = (rng.standard_normal(4) for _ in range(4))
        for mode in (("forward", "reverse"), ("reverse", "reverse"), ("forward", "forward")):
            got = dr.hvp(f, (x, y), (v, w), mode=mode, replay=True)
            expected = dr.hvp(f, (x, y), (v, w), mode=mode)
            for a, b in zip(got, expected):
                np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize(
    "f",
    [
        lambda x, scale=1.0: dnp.sum(dnp.tanh(x) * scale),  # keyword arguments are part of the signature
        lambda x, scale=1.0: dnp.sum(x) * 0.0 + 3.0 * scale,  # an output that only adds a constant
        lambda x, scale=1.0: dnp.sum(dr.checkpoint(lambda h: dnp.sin(h) * h)(x)) * scale,  # a multiple-result op
    ],
)
def test_keywords_float32_constants_and_checkpoints(f):
    g = dr.grad(f, replay=True)
    for dtype in (np.float64, np.float32, np.float64):
        for scale in (1.0, 2.0):
            x = rng.standard_normal(3).astype(dtype)
            got, expected = g(x, scale=scale), dr.grad(f)(x, scale=scale)
            assert got.dtype == expected.dtype == dtype
            np.testing.assert_array_equal(got, expected)


def test_identity_and_input_independent_outputs():
    for F in (lambda x: x, lambda x: (x, np.ones(2)), lambda x: dnp.where(x > 0, 1.0, 2.0)):
        for mode in ("forward", "reverse"):
            jac, jac0 = dr.jacobian(F, mode=mode, replay=True), dr.jacobian(F, mode=mode)
            for x in (np.array([1.0, -2.0]), np.array([-1.0, 2.0])):
                for a, b in zip(dr.tree_flatten(jac(x))[0], dr.tree_flatten(jac0(x))[0]):
                    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: dnp.sum(x) * float(np.packbits(x > 0)[0]),  # a NumPy function dualrev lacks, on a mask
        lambda x: (lambda m: (m.__setitem__(0, False), dnp.sum(dnp.where(m, x, 0.0)))[1])(x > 0),  # writes a mask
        lambda x: dnp.sum(dnp.reshape(x, (int(dnp.argmax(x) * 0 + 2), -1))),  # a shape computed from an index
    ],
)
def test_code_that_treats_masks_as_plain_arrays_runs_unreplayed(f):
    """Masks and indices are plain arrays in every other mode; a recording in
    which code relies on that (and fails) runs unreplayed, as it always would."""
    x = np.array([1.0, -2.0, 3.0, 4.0])
    g = dr.grad(f, replay=True)
    with pytest.warns(ReplayWarning, match="recording it raised"):
        np.testing.assert_array_equal(g(x), dr.grad(f)(x))
    np.testing.assert_array_equal(g(-x), dr.grad(f)(-x))


def test_an_error_of_the_function_itself_is_raised_as_without_replay():
    def broken(x):
        return dnp.sum(x @ np.ones((5, 2)))  # x has 4 entries

    with pytest.warns(ReplayWarning), pytest.raises(ValueError, match="matmul"):
        dr.grad(broken, replay=True)(np.ones(4))


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_explicit_jacobian_replay_writes_the_tape_without_rerunning_f(name):
    """The explicit mode's replay writes the tape the LinearizeTrace would record
    (every value, the JVP rules as parents) straight from the program, f's
    Python run once. Where the recording is the eager one (no value-dependent
    branch inside dualrev, which a program records branch-free, e.g. norm's
    safe sqrt as a where): the same elimination, figures and bits."""
    base = PROGRAMS[name]
    F = lambda x: dnp.tanh(x) * base(x)  # noqa: E731  (a vector output: a Jacobian, not a gradient)
    f = _counted(F)
    j_replay = dr.jacobian(f, mode="explicit", replay=True, return_cost=True)
    j_plain = dr.jacobian(F, mode="explicit", return_cost=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReplayWarning)
        for _ in range(3):
            x = rng.standard_normal(6)
            (a, cost_a), (b, cost_b) = j_replay(x), j_plain(x)
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
            if name in ("chain", "softmax", "stack_reshape", "relu", "clip_max"):
                np.testing.assert_array_equal(a, b)
                assert cost_a.multiply_adds == cost_b.multiply_adds and cost_a.explicit.plan == cost_b.explicit.plan
    assert len(f.calls) == 1


def test_explicit_replay_without_a_jvp_rule_names_the_primitive():
    cube = dr.primitive(lambda x: x**3)
    dr.defvjp(cube, lambda g, ans, x: 3 * x**2 * g)
    j = dr.jacobian(lambda x: cube(x) * 2.0, mode="explicit", replay=True)
    with pytest.raises(NotImplementedError, match="JVP rule.*The explicit mode builds local Jacobians from JVP rules"):
        j(np.ones(3))
