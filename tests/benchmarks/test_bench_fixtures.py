"""The `bench` fixture's timing rules (bench/fixtures.py), with pytest-benchmark and the
baseline server replaced by recorders: ordinary tests, not benchmarks."""

from types import SimpleNamespace

import pytest

from bench import baseline, fixtures
from bench.paths import PATHS


class Recorder:
    """A stand-in for pytest-benchmark's fixture: pedantic() runs setup and the target per round
    (the warm-up rounds first) and logs the order of events."""

    def __init__(self, log):
        self.log, self.disabled, self.extra_info, self.group = log, False, {}, None

    def pedantic(self, target, setup=None, rounds=1, warmup_rounds=0, iterations=1):
        for _ in range(warmup_rounds + rounds):
            if setup is not None:
                setup()
            target()
        self.stats = SimpleNamespace(stats=SimpleNamespace(min=1e-3, median=2e-3))


class Server:
    def __init__(self, log):
        self.log = log

    def time(self, group, workload):
        self.log.append("burst")
        return {"openblas": 1.0 + self.log.count("burst"), "torch": 1.5}


def timed(path_name, group, monkeypatch, rounds=12):
    log = []
    monkeypatch.setattr(fixtures, "_probe_seconds", lambda run: fixtures.TARGET_SECONDS / rounds)
    monkeypatch.setattr(fixtures.machine, "cpu_peak_gflops", lambda dtype: 100.0)
    recorder = Recorder(log)
    bench = fixtures.Bench(recorder, {"numba": 2}, lambda: Server(log))
    bench(lambda: log.append("call"), lambda: None, group=group, path=PATHS[path_name],
          workload="square 256", flops=2e6)
    return log, recorder.extra_info


def test_the_engines_products_have_the_baselines_timed_between_their_rounds(monkeypatch):
    log, info = timed("cpu", baseline.GROUP_SQUARE["float32"], monkeypatch)
    # the checked call (the probes are replaced here), then a burst before the warm-up round,
    # before timed rounds 3, 6 and 9 of 0..11 (BASELINE_BURSTS = 4), and one after the last
    assert fixtures.BASELINE_BURSTS == 4
    assert log == ["call", "burst"] + ["call"] * 4 + (["burst"] + ["call"] * 3) * 3 + ["burst"]
    # each library's fastest burst: openblas 1 + (bursts so far), at most 1 + 5 = 6 GFLOP/s
    assert info["baseline_interleaved"] == {"openblas": 6.0, "torch": 1.5}
    assert info["gflops"] == pytest.approx(2.0)  # 2e6 FLOPs in the fastest round's 1 ms


@pytest.mark.parametrize("path_name, group", [("reference", "matmul: square float32"),
                                               ("cpu", "train_step float32")])
def test_other_paths_and_groups_are_timed_alone(monkeypatch, path_name, group):
    log, info = timed(path_name, group, monkeypatch)
    assert "burst" not in log and "baseline_interleaved" not in info
    assert log.count("call") == 1 + 1 + 12  # checked, warm-up, rounds
