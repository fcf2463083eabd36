"""Every experiment's ``--smoke`` run: it writes a PNG and a JSON with the
promised schema, and its deterministic numbers (operation counts, memory
growth, agreement between methods) are right. Times are never asserted."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import experiments  # noqa: E402
from experiments import common  # noqa: E402

EXPLICIT_OK, EXPLICIT_MSG = common.explicit_mode_status()


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """Run each experiment once (``--smoke``) into a temporary directory."""
    out = tmp_path_factory.mktemp("experiments")
    cache = {}

    def get(name):
        if name not in cache:
            module = __import__(f"experiments.{name}", fromlist=["main"])
            record = module.main(["--smoke", "--out", str(out), "--quiet"])
            on_disk = json.loads((out / f"{name}.json").read_text())
            assert (out / f"{name}.png").stat().st_size > 10_000
            cache[name] = (record, on_disk)
        return cache[name][1]

    return get


def timing_ok(t):
    return {"median", "min", "max", "repeats", "inner"} <= set(t) and t["min"] <= t["median"] <= t["max"]


@pytest.mark.parametrize("name", experiments.EXPERIMENTS)
def test_common_schema(smoke, name):
    data = smoke(name)
    assert data["experiment"] == name and data["preset"] == "smoke"
    env = data["environment"]
    for key in ("python", "numpy", "scipy", "matplotlib", "cpu_count", "blas", "blas_threads", "blas_pinning"):
        assert key in env
    assert "median" in data["timing_protocol"]
    assert data["runtime_seconds"] >= 0


def test_chain_cost(smoke):
    data = smoke("chain_cost")
    sizes = data["sizes"]
    methods = ["vjp", "jvp", "forward_gradient"] + (["explicit_forward", "explicit_reverse"] if EXPLICIT_OK else [])
    fits = {(f["method"], f["vs"], f["measure"]): f for f in data["fits"]}
    for m in methods:
        for vs in ("D", "N"):
            for measure in ("seconds", "multiply_adds"):
                assert isinstance(fits[(m, vs, measure)]["slope"], float)
            for p in data["sweeps"][vs][m]:
                assert timing_ok(p["seconds"])
                assert p["max_abs_error"] < 1e-8
    # analytic counts
    N = sizes["N_fixed"]
    for p in data["sweeps"]["D"]["vjp"]:
        D = p["D"]
        assert p["multiply_adds"] == N * (D * D + D) + D
    for p in data["sweeps"]["D"]["forward_gradient"]:
        D = p["D"]
        assert p["multiply_adds"] == D * (N * (D * D + D) + D)
    D = sizes["D_fixed"]
    for p in data["sweeps"]["N"]["jvp"]:
        assert p["multiply_adds"] == p["N"] * (D * D + D) + D
    if not EXPLICIT_OK:
        assert set(data["skipped"]) == {"explicit_forward", "explicit_reverse"}
        return
    # the explicit mode's counts on a chain of 2N D×D local Jacobians and a 1×D sum:
    # forward order (2N−1)·D³ + D², reverse order 2N·D² (identity seeds free)
    for p in data["sweeps"]["D"]["explicit_forward"]:
        D = p["D"]
        assert p["multiply_adds"] == (2 * N - 1) * D**3 + D * D
        assert p["local_jacobians"] == 2 * N + 1
    for p in data["sweeps"]["D"]["explicit_reverse"]:
        assert p["multiply_adds"] == 2 * N * p["D"] ** 2
    assert fits[("explicit_reverse", "D", "multiply_adds")]["slope"] == pytest.approx(2.0, abs=1e-6)
    assert fits[("explicit_forward", "D", "multiply_adds")]["slope"] > 2.5


def test_io_shape(smoke):
    data = smoke("io_shape")
    hidden, fixed = data["sizes"]["hidden"], data["sizes"]["fixed"]
    for vs in ("n", "m"):
        for p in data["sweeps"][vs]:
            n, m = p["n"], p["m"]
            assert p["auto_choice"] == ("reverse" if m <= n else "forward")
            per_pass = hidden * n + hidden + m * hidden + m
            assert p["multiply_adds"] == {"forward": n * per_pass, "reverse": m * per_pass}
            assert p["passes_chunk1"] == {"forward": n, "reverse": m}
            assert all(timing_ok(t) for t in p["seconds"].values())
        assert data["crossover"][vs]["auto_switches_at"] == fixed
    passes = {(f["method"], f["vs"]): f["slope"] for f in data["fits"] if f["measure"] == "passes"}
    assert passes[("forward", "n")] == pytest.approx(1.0) and passes[("reverse", "m")] == pytest.approx(1.0)
    assert passes[("forward", "m")] == pytest.approx(0.0, abs=1e-9)


def test_local_jacobian(smoke):
    data = smoke("local_jacobian")
    res = data["results"]
    assert set(res) == {"relu", "sigmoid", "linear_W", "linear_h"}
    for op in ("relu", "sigmoid"):
        for p in res[op]["materialised"]:
            assert p["jacobian_entries"] == p["D"] ** 2
            if "explicit_local_jacobian_entries" in p:
                assert p["explicit_local_jacobian_entries"] == p["D"] ** 2
        for p in res[op]["vjp"]:
            assert p["vjp_multiply_adds"] == p["D"]
    for p in res["linear_W"]["materialised"]:
        assert p["jacobian_entries"] == p["D"] ** 3
    slopes = {(f["op"], f["method"], f["measure"]): f["slope"] for f in data["fits"]}
    assert slopes[("relu", "vjp", "multiply_adds")] == pytest.approx(1.0)
    assert slopes[("relu", "materialised", "jacobian_entries")] == pytest.approx(2.0)
    assert slopes[("linear_W", "materialised", "jacobian_entries")] == pytest.approx(3.0)


def test_memory(smoke):
    data = smoke("memory")
    D = data["D"]
    fits = {f["method"]: f["bytes_per_layer"] for f in data["fits"]}
    # reverse keeps at least one D-vector of float64 per layer; forward and plain keep none
    assert fits["reverse"] > 0.9 * 8 * D
    assert fits["forward"] < 0.25 * 8 * D and fits["plain"] < 0.25 * 8 * D
    rev = data["results"]["reverse"]
    assert rev[-1]["peak_bytes"] > rev[0]["peak_bytes"]


def test_paths(smoke):
    data = smoke("paths")
    assert data["max_relative_difference"] < 1e-12
    for p in data["results"]["path_sum"]:
        k = p["k"]
        assert p["paths"] == 2**k and p["multiplications"] == 2**k * (2 * k - 1)
    for p in data["results"]["backprop"]:
        assert p["multiplications"] == 4 * p["k"]


def test_bracketing(smoke):
    data = smoke("bracketing")
    if not EXPLICIT_OK:
        assert "skipped" in data
        return
    assert data["summary"]["all_independent_checks_pass"]
    assert data["summary"]["optimal_never_worse"]
    by_name = {c["name"]: c for c in data["chains"]}
    hourglass = by_name["hourglass"]["multiply_adds"]
    assert hourglass["optimal"] < min(hourglass["forward"], hourglass["reverse"])
    assert by_name["expanding"]["multiply_adds"]["forward"] < by_name["expanding"]["multiply_adds"]["reverse"]
    assert by_name["contracting"]["multiply_adds"]["reverse"] < by_name["contracting"]["multiply_adds"]["forward"]


def test_runner_smoke_subset(tmp_path, capsys):
    from experiments.__main__ import main

    assert main(["--smoke", "--out", str(tmp_path), "--only", "paths", "--quiet"]) == 0
    assert (tmp_path / "paths.png").exists() and (tmp_path / "paths.json").exists()
    assert "paths.png" in capsys.readouterr().out


def test_explicit_parts_skip_cleanly(tmp_path, monkeypatch):
    """Without the explicit mode, chain_cost drops its explicit methods and
    bracketing writes a figure saying why, instead of failing."""
    from experiments import bracketing, chain_cost

    monkeypatch.setattr(common, "explicit_mode_status", lambda: (False, "explicit mode unavailable (test)"))
    record = chain_cost.main(["--smoke", "--out", str(tmp_path), "--quiet"])
    assert record["skipped"] == ["explicit_forward", "explicit_reverse"]
    assert {f["method"] for f in record["fits"]} == {"vjp", "jvp", "forward_gradient"}
    record = bracketing.main(["--smoke", "--out", str(tmp_path), "--quiet"])
    assert record["skipped"] == "explicit mode unavailable (test)" and record["chains"] == []
    assert (tmp_path / "bracketing.png").exists()


def test_structure(smoke):
    data = smoke("structure")
    if not EXPLICIT_OK:
        assert "skipped" in data
        return
    assert data["summary"]["structured_elementwise_is_(N-1)*D_in_every_order"]
    assert data["summary"]["dense_counts_match_dense_runs"]
    assert data["summary"]["largest_max_abs_error"] < 1e-8
    for vs in ("D", "N"):
        for p in data["sweeps"]["elementwise"][vs]:
            D, N = p["D"], p["N"]
            for order in ("forward", "reverse", "optimal"):
                # N − 1 diagonal·diagonal products of D multiplications; the sum's 0-1 row is a copy
                assert p["orders"][order]["multiply_adds"] == (N - 1) * D
                assert p["orders"][order]["local_jacobian_entries"] == N * D
                assert p["orders"][order]["dense_local_jacobian_entries"] == N * D * D + D
            # dense: D×D diagonals multiplied matrix–matrix (forward) or by a 1×D row (reverse)
            assert p["counts"]["explicit_dense_forward"] == (N - 1) * D**3 + D * D
            assert p["counts"]["explicit_dense_reverse"] == N * D * D
            assert p["counts"]["reverse"] == N * D + D and p["counts"]["forward"] == D * (N * D + D)
            assert all(timing_ok(t) for t in p["seconds"].values())
        for p in data["sweeps"]["layers"][vs]:
            D, N = p["D"], p["N"]
            # dense: the seed's counts; structured reverse: backprop's row through each layer
            assert p["counts"]["explicit_dense_forward"] == (2 * N - 1) * D**3 + D * D
            assert p["counts"]["explicit_dense_reverse"] == 2 * N * D * D
            assert p["counts"]["explicit_structured_reverse"] == N * D * D + (N - 1) * D
            # structured forward: W₁ is its own local Jacobian (∂(W₁x)/∂x = W₁, nothing formed), then
            # D columns through each later W and every tanh′ — forward mode's gradient less its first W·I
            assert p["counts"]["explicit_structured_forward"] == (N - 1) * D**3 + N * D * D
            assert p["orders"]["reverse"]["local_jacobian_entries"] == N * D  # tanh′ diagonals; W is not stored
            assert p["counts"]["explicit_structured_optimal"] <= p["counts"]["explicit_structured_reverse"]
    fits = {(f["program"], f["vs"], f["method"], f["measure"]): f["slope"] for f in data["fits"]}
    assert fits[("elementwise", "D", "explicit_structured_forward", "multiply_adds")] == pytest.approx(1.0)
    assert fits[("elementwise", "D", "explicit_dense_forward", "multiply_adds")] > 2.9
    assert fits[("elementwise", "D", "explicit_dense_reverse", "multiply_adds")] == pytest.approx(2.0)
    assert fits[("layers", "D", "explicit_dense_reverse", "multiply_adds")] == pytest.approx(2.0, abs=1e-6)


def test_cross_country(smoke):
    data = smoke("cross_country")
    if not EXPLICIT_OK:
        assert "skipped" in data
        return
    summary = data["summary"]
    assert summary["dags"] == data["sizes"]["dags"] == len(data["dags"])
    assert summary["optimal_is_cheapest_candidate"]
    # the library's exact search is exact on both cost models: no candidate beats it
    assert summary["exact_beaten"] == [] and summary["exact_never_above_a_candidate"]
    beaten: set = set()
    for e in data["dags"]:
        for structure in ("structured", "dense"):
            c = e[structure]["candidates"]
            assert {"forward", "reverse", "markowitz", "exact"} <= set(c)
            assert e[structure]["folds_run"] == {"forward": c["forward"], "reverse": c["reverse"]}
            assert e[structure]["optimal"] == min(c.values())
            assert 1 <= e[structure]["intermediates"] <= 8
            if (e["index"], structure) not in beaten:
                assert all(c["exact"] <= v for v in c.values())
                assert all(g >= 0 for g in e[structure]["gaps"].values())
                assert e[structure]["optimal"] == c["exact"]
        assert e["structured"]["optimal"] <= e["dense"]["optimal"]
    for structure, stats in summary["gap_statistics"].items():
        for name, s in stats.items():
            if s["graphs"]:
                assert 0 <= s["share_optimal"] <= 1 and 0 <= s["median"] <= s["max"]
    for e in data.get("large_dags", []):  # the branch and bound on 10-20 intermediates: proven, or bounded
        for structure in ("structured", "dense"):
            r = e[structure]
            assert 0 <= r["lower_bound"] <= r["best"] <= min(r["candidates"].values())
            assert not r["proven"] or r["lower_bound"] == r["best"]
            for low, high in r["gaps"].values():
                assert 0 <= low <= high and (low == high or not r["proven"])
    for vs in ("n", "w"):
        for p in data["waist"][vs]:
            n, w = p["n"], p["w"]
            assert p["multiply_adds"]["forward"] == p["multiply_adds"]["reverse"] == n * (2 * n * w + n + w)
            assert p["multiply_adds"]["explicit_optimal"] == min(p["candidates"].values())
            assert all(timing_ok(t) for t in p["seconds"].values())
