"""The shared measurement package ``timing/``: the interleaved sampler, peak
memory and BLAS thread pinning. Deterministic: the sampler runs on a fake
clock, and no test reads or asserts a wall-clock time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import timing  # noqa: E402


class FakeClock:
    """A clock that advances only when an implementation runs: each call of
    ``implementation(cost)`` takes exactly ``cost`` seconds."""

    def __init__(self):
        self.now = 0.0
        self.calls = {}

    def __call__(self):
        return self.now

    def implementation(self, name, cost):
        def fn():
            self.now += cost
            self.calls[name] = self.calls.get(name, 0) + 1

        return fn


def test_sampler_calibrates_and_interleaves():
    clock = FakeClock()
    # binary fractions, so sample_seconds / cost is exact
    impls = {"fast": clock.implementation("fast", 0.125), "slow": clock.implementation("slow", 0.5)}
    protocol = timing.Protocol(repeats=4, sample_seconds=1.0)
    result = timing.sample_interleaved(impls, protocol, clock=clock)
    assert list(result) == ["fast", "slow"]
    assert result["fast"].inner == 8 and result["slow"].inner == 2
    for name, cost in (("fast", 0.125), ("slow", 0.5)):
        samples = result[name]
        assert samples.repeats == 4 and samples.seconds == (cost,) * 4
        assert samples.median == samples.min == samples.max == cost
        # one warm-up call, then `repeats` samples of `inner` calls each
        assert clock.calls[name] == 1 + protocol.repeats * samples.inner
    summary = result["fast"].summary()
    assert summary == {"median": 0.125, "min": 0.125, "max": 0.125, "repeats": 4, "inner": 8}


def test_sampler_takes_turns():
    order = []
    impls = {name: (lambda name=name: order.append(name)) for name in ("a", "b", "c")}
    clock = iter(range(10_000)).__next__  # every reading one second later
    timing.sample_interleaved(impls, timing.Protocol(repeats=3, sample_seconds=0.5), clock=clock)
    # warm-up of each, then round robin with one call per sample
    assert order == ["a", "b", "c"] + ["a", "b", "c"] * 3


def test_calibration_rounding_cap_and_warmup():
    clock = FakeClock()
    fn = clock.implementation("f", 0.25)
    up = timing.Protocol(repeats=1, sample_seconds=1.1)
    assert timing.calibrate(fn, up, clock=clock) == (5, 0.25)  # ceil: a sample lasts at least 1.1 s
    down = timing.Protocol(repeats=1, sample_seconds=1.1, round_up=False)
    assert timing.calibrate(fn, down, clock=clock) == (4, 0.25)  # floor: at most about 1.1 s
    capped = timing.Protocol(repeats=1, sample_seconds=100.0, max_inner=7)
    assert timing.calibrate(fn, capped, clock=clock)[0] == 7
    clock.calls.clear()
    long_warmup = timing.Protocol(repeats=1, sample_seconds=1.0, warmup_seconds=1.0, warmup_calls=2)
    timing.calibrate(fn, long_warmup, clock=clock)
    assert clock.calls["f"] == 4  # 4 × 0.25 s reaches the warm-up time


def test_slow_calls_get_fewer_samples():
    clock = FakeClock()
    impls = {"quick": clock.implementation("quick", 0.25), "slow": clock.implementation("slow", 2.0)}
    protocol = timing.Protocol(repeats=5, sample_seconds=1.0, slow_call_seconds=1.0, slow_call_repeats=2)
    result = timing.sample_interleaved(impls, protocol, clock=clock)
    assert result["quick"].repeats == 5 and result["slow"].repeats == 2
    assert result["slow"].inner == 1


def test_gc_paused_while_sampling_and_restored():
    import gc

    states = []
    impls = {"probe": lambda: states.append(gc.isenabled())}
    assert gc.isenabled()
    timing.sample_interleaved(impls, timing.Protocol(repeats=2, sample_seconds=0.0, pause_gc=True))
    assert states[0] and not any(states[1:])  # warm-up with gc on, samples with gc off
    assert gc.isenabled()
    states.clear()
    timing.sample_interleaved(impls, timing.Protocol(repeats=2, sample_seconds=0.0))
    assert all(states)


def test_peak_memory_of_a_1mb_array():
    nbytes = 1 << 20
    peak = timing.peak_memory(lambda: np.ones(nbytes // 8))
    assert nbytes <= peak < 2 * nbytes
    assert timing.peak_memory(lambda: None) < 64 * 1024


def test_peak_memory_warms_up_once():
    calls = []
    timing.peak_memory(lambda: calls.append(1))
    assert len(calls) == 2
    timing.peak_memory(lambda: calls.append(1), warmup=False)
    assert len(calls) == 3


def test_pin_blas_threads_records_what_it_did():
    assert timing.pin_blas_threads(0) == {"pinned": False}
    before = [pool.get("num_threads") for pool in timing.blas_threads()["pools"]]
    record = timing.pin_blas_threads(1)
    try:
        assert record["pinned"] == 1
        assert record["via"] in ("threadpoolctl", "openblas_set_num_threads (ctypes)")
        info = timing.blas_threads()
        assert set(info) == {"source", "pools"}
        if record["via"].startswith("openblas"):
            # every OpenBLAS that reports a thread count now reports the pinned one
            assert all(pool["num_threads"] == 1 for pool in info["pools"])
    finally:
        counts = [n for n in before if isinstance(n, int) and n > 0]
        if counts:
            timing.pin_blas_threads(max(counts))


def test_pin_threads_before_import_needs_numpy_unimported(monkeypatch):
    # numpy is imported in this process: nothing is set
    for name in timing.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    record = timing.pin_threads_before_import(3)
    assert record["pinned"] is False
    assert timing.thread_environment() == {}


def test_pin_threads_before_import_in_a_fresh_process():
    code = (
        "import sys, os, timing\n"
        "assert 'numpy' not in sys.modules, 'importing timing imported numpy'\n"
        "record = timing.pin_threads_before_import(2)\n"
        "assert record['pinned'] == 2, record\n"
        "assert timing.thread_environment() == {name: '2' for name in timing.THREAD_VARIABLES}\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in timing.THREAD_VARIABLES}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


def test_environment_pieces():
    assert isinstance(timing.cpu_model(), str) and timing.cpu_model()
    commit = timing.git_commit(ROOT)
    assert commit == "unknown" or commit.removesuffix("+dirty").isalnum()
    assert isinstance(timing.blas_build(), dict)


def test_thread_environment_lists_only_set_variables(monkeypatch):
    monkeypatch.delenv("TIMING_TEST_UNSET", raising=False)
    monkeypatch.setenv("TIMING_TEST_SET", "4")
    assert timing.thread_environment(("TIMING_TEST_UNSET", "TIMING_TEST_SET")) == {"TIMING_TEST_SET": "4"}
