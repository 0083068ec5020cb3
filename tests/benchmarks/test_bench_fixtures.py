"""The `bench` fixture's timing rules (bench/fixtures.py), with pytest-benchmark and the
baseline server replaced by recorders: ordinary tests, not benchmarks."""

import subprocess
import sys
from types import SimpleNamespace

import pytest

from bench import baseline, fixtures
from bench.paths import PATHS


class Recorder:
    """A stand-in for pytest-benchmark's fixture: pedantic() runs each round's calls, then its
    teardown (the warm-up rounds first), and with several calls a round one more call and
    teardown after the rounds, as pytest-benchmark 5 does; the calls log the order of events."""

    def __init__(self, log):
        self.log, self.disabled, self.extra_info, self.group = log, False, {}, None

    def pedantic(self, target, teardown=None, rounds=1, warmup_rounds=0, iterations=1):
        self.iterations = iterations
        for calls in [iterations] * (warmup_rounds + rounds) + ([1] if iterations > 1 else []):
            for _ in range(calls):
                target()
            if teardown is not None:
                teardown()
        self.stats = SimpleNamespace(stats=SimpleNamespace(min=1e-3, median=2e-3))


class Server:
    def __init__(self, log):
        self.log = log

    def time(self, group, workload):
        self.log.append("burst")
        return {"openblas": 1.0 + self.log.count("burst"), "torch": 1.5}


def timed(path_name, group, monkeypatch, rounds=12, call_seconds=None):
    log = []
    seconds = call_seconds or fixtures.TARGET_SECONDS / rounds
    monkeypatch.setattr(baseline, "probe_seconds", lambda run: seconds)
    monkeypatch.setattr(fixtures.machine, "cpu_peak_gflops", lambda dtype: 100.0)
    recorder = Recorder(log)
    bench = fixtures.Bench(recorder, {"numba": 2}, lambda: Server(log))
    bench(lambda: log.append("call"), lambda: None, group=group, path=PATHS[path_name],
          workload="square 256", flops=2e6)
    return log, recorder.extra_info, recorder


def test_the_engines_products_have_the_baselines_timed_between_their_rounds(monkeypatch):
    log, info, _ = timed("cpu", baseline.GROUP_SQUARE["float32"], monkeypatch)
    # the checked call (the probes are replaced here), the warm-up round and a burst after it,
    # then a burst after timed rounds 3, 6, 9 and 12 (BASELINE_BURSTS = 4; the last round's)
    assert fixtures.BASELINE_BURSTS == 4
    assert log == ["call", "call", "burst"] + (["call"] * 3 + ["burst"]) * 4
    # each library's fastest burst: openblas 1 + (bursts so far), at most 1 + 5 = 6 GFLOP/s
    assert info["baseline_interleaved"] == {"openblas": 6.0, "torch": 1.5}
    assert info["gflops"] == pytest.approx(2.0)  # 2e6 FLOPs in the fastest round's 1 ms


@pytest.mark.parametrize("path_name, group", [("reference", "matmul: square float32"),
                                               ("cpu", "train_step float32")])
def test_other_paths_and_groups_are_timed_alone(monkeypatch, path_name, group):
    log, info, _ = timed(path_name, group, monkeypatch)
    assert "burst" not in log and "baseline_interleaved" not in info
    assert log.count("call") == 1 + 1 + 12  # checked, warm-up, rounds


def test_short_calls_are_timed_several_to_a_round(monkeypatch):
    call = baseline.ROUND_SECONDS / 4  # four calls make a round
    monkeypatch.setattr(fixtures, "TARGET_SECONDS", 12 * baseline.ROUND_SECONDS)
    log, info, recorder = timed("cpu", baseline.GROUP_SQUARE["float32"], monkeypatch,
                                call_seconds=call)
    assert recorder.iterations == 4
    every = 12 // fixtures.BASELINE_BURSTS  # 12 rounds of four calls fill TARGET_SECONDS
    # checked call, warm-up round, burst, then `every` rounds of 4 and a burst, four times, and
    # pytest-benchmark's extra call after the rounds: the last round was followed by a burst
    assert log == ["call"] + ["call"] * 4 + ["burst"] + (["call"] * 4 * every + ["burst"]) * 4 + ["call"]
    assert info["gflops"] == pytest.approx(2.0)  # the Recorder's 1 ms is already per call


def test_the_baselines_time_short_calls_several_to_a_round(monkeypatch):
    calls = []
    monkeypatch.setattr(baseline, "probe_seconds", lambda call: baseline.ROUND_SECONDS / 5)
    baseline._fastest(lambda: calls.append(1), target_seconds=0.0, min_rounds=2)
    assert len(calls) == 1 + 2 * 5  # the warm-up call, then two rounds of five calls


@pytest.mark.parametrize("seconds, calls", [(1.0, 1), (20e-6, 1), (19e-6, 2), (1e-6, 20),
                                            (0.0, 1000)])
def test_calls_per_round(seconds, calls):
    assert baseline.ROUND_SECONDS == 20e-6
    assert baseline.calls_per_round(seconds) == calls


def test_a_microsecond_call_is_timed_for_the_whole_target():
    """The rounds cap leaves room for TARGET_SECONDS of the shortest rounds: a call of 1 us is
    sampled over as many seconds as a long call and as its baselines' bursts."""
    assert fixtures.MAX_ROUNDS * baseline.ROUND_SECONDS >= fixtures.DEFAULT_TARGET_SECONDS
    bursts = (fixtures.BASELINE_BURSTS + 1) * baseline.BURST_SECONDS
    assert bursts == pytest.approx(fixtures.DEFAULT_TARGET_SECONDS)


def test_the_baselines_count_a_long_calls_probe_as_a_round(monkeypatch):
    calls = []
    monkeypatch.setattr(baseline, "probe_seconds", lambda call: (calls.append(1), 1.0)[1])
    assert baseline._fastest(lambda: calls.append(1), target_seconds=0.5, min_rounds=1) == 1.0
    assert len(calls) == 2  # the warm-up call and the probe: one second is past the target


FREE_THEN_RSS = """
import sys, numpy as np
from bench import machine
kept = machine.keep_freed_memory() if sys.argv[1] == "keep" else None
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
before = rss()
C = np.ones((4096, 2048))  # 64 MiB: its own mmap under glibc's defaults
del C
print(kept, (rss() - before) >> 20)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc and /proc")
def test_the_benchmarks_keep_the_memory_they_free():
    """A 64 MiB result freed: unmapped under glibc's defaults (the next one is fresh pages),
    kept in the process after keep_freed_memory (the next one reuses them)."""
    out = {}
    for mode in ("default", "keep"):
        child = subprocess.run([sys.executable, "-c", FREE_THEN_RSS, mode], cwd=baseline.ROOT,
                               capture_output=True, text=True, check=True)
        out[mode] = child.stdout.split()
    assert out["default"] == ["None", "0"], f"glibc's default kept the freed block: {out}"
    assert out["keep"][0] == "True" and int(out["keep"][1]) >= 32, \
        f"keep_freed_memory: (applied, MiB still resident after the free) = {out['keep']}"


def test_the_saved_rows_percent_of_peak_takes_the_runs_final_peak(monkeypatch):
    """Rows timed against the start's peak are saved against the header's (the higher of the
    run's start and end), each in its own dtype; a GPU row keeps its own."""
    from bench import machine

    asked = []

    def final(dtype="float32", threads=None, at_end=False):
        asked.append(at_end)
        return {"float32": 250.0, "float64": 125.0}[str(dtype)]

    monkeypatch.setattr(machine, "cpu_peak_gflops", final)
    rows = [{"extra_info": {"device": "cpu", "dtype": "float32", "gflops": 225.0,
                            "peak_gflops": 200.0, "fraction_of_peak": 1.125}},
            {"extra_info": {"device": "cpu", "dtype": "float64", "gflops": 100.0,
                            "peak_gflops": 100.0, "fraction_of_peak": 1.0}},
            {"extra_info": {"device": "cuda", "dtype": "float32", "gflops": 30000.0,
                            "peak_gflops": 50000.0, "fraction_of_peak": 0.6}},
            {"extra_info": {"path": "cpu", "cache": "cold"}}]
    fixtures.pytest_benchmark_update_json(None, [], {"benchmarks": rows})
    assert [r["extra_info"].get("fraction_of_peak") for r in rows] == [0.9, 0.8, 0.6, None]
    assert [r["extra_info"].get("peak_gflops") for r in rows] == [250.0, 125.0, 50000.0, None]
    assert asked == [True, True]
