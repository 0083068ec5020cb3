"""Benchmark set-up: the `bench` fixture that checks a result, then times it, and the machine
description saved with every run.

Timing rules, the same for every path:
- the first call compiles (numba JIT, CUDA kernels) and its result is checked against the
  reference before anything is timed;
- then `benchmark.pedantic` with one more warm-up round and as many rounds as fit in about
  BENCH_TARGET_S seconds (MIN_ROUNDS to MAX_ROUNDS); a round is one call, or several where one
  call is shorter than bench/baseline.py's ROUND_SECONDS (`calls_per_round`, the baselines' rule
  too; pytest-benchmark's `iterations`), and its time over its calls is a call's; a GPU call
  synchronizes inside (paths.py);
- every benchmark process keeps the memory it frees (machine.keep_freed_memory), so that no
  round's result lands on pages the host has to fault in again;
- GFLOP/s and samples/s use the fastest round (the least disturbed by other processes), the
  median is saved beside it; both go into `benchmark.extra_info`, with the fraction of the
  measured peak of the path's device (machine.py: for the CPU the FMA peak of the workload's
  dtype on the run's threads, the higher of its timings at the run's start and end);
- the engine's matrix products (INTERLEAVED_PATHS, in the baselines' groups) have the BLAS
  baselines timed between their rounds, BASELINE_BURSTS bursts spread over them and one after
  (bench/baseline.py's Server: its own process, no pin; a burst runs after the round it
  follows, as pytest-benchmark's `teardown`): extra_info's `baseline_interleaved`
  holds each library's fastest call over those bursts, and the report takes the engine's ratio
  against them, timed in the same seconds as the engine.

The saved machine description also holds the FMA peaks (timed at the run's start and again at
its end, the higher kept: every row's fraction of peak is taken against those) and, when the
run timed matrix products, the BLAS baselines measured in a process of their own
(bench/baseline.py).

With --benchmark-disable (the CI correctness run) each benchmark calls its workload once and
checks it; workloads over CI_MAX_FLOPS are skipped there (the same code runs at smaller sizes).
"""

import math
import os
import time
from functools import cache

import pytest

from bench import baseline, machine

DEFAULT_TARGET_SECONDS = 1.0
TARGET_SECONDS = float(os.environ.get("BENCH_TARGET_S") or DEFAULT_TARGET_SECONDS)
MIN_ROUNDS, MAX_ROUNDS = 5, 50_000  # 50,000 rounds of ROUND_SECONDS: 1 s
INTERLEAVED_PATHS = ("cpu",)
BASELINE_BURSTS = 4
CI_MAX_FLOPS = 2 * 1024**3  # a 1024 x 1024 x 1024 product: well under a second on any path here


def pytest_benchmark_update_machine_info(config, machine_info):
    """Saved in the JSON's machine_info, read back by bench/report.py."""
    info = machine.describe()
    info["thread_counts"] = machine.set_threads()
    info["freed_memory_kept"] = machine.keep_freed_memory()
    info["cpu_peaks"] = machine.cpu_peaks(at_end=True)
    info["cpu_peak_gflops"] = machine.cpu_peak_gflops("float32", at_end=True)
    info["gpu_peak_gflops"] = machine.gpu_peak_gflops()
    if _ran_a_baseline_group(config):
        info["baseline"] = _baseline()
    # a -k or -m selection, or named test files, make a subset (bench/report.py keeps it apart)
    selection = [config.getoption("keyword"), config.getoption("markexpr")]
    selection += [arg for arg in config.args if arg.rstrip("/") != "tests/benchmarks"]
    info["selection"] = " ".join(filter(None, selection))
    machine_info["bench"] = info


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """Every CPU row's "% of peak" against the saved header's peak (the higher of the run's start
    and end: machine.cpu_peaks), not the start's alone that it was first taken against."""
    for b in output_json.get("benchmarks", []):
        info = b.get("extra_info", {})
        if info.get("device") == "cpu" and info.get("peak_gflops") and info.get("gflops"):
            info["peak_gflops"] = machine.cpu_peak_gflops(info.get("dtype", "float32"), at_end=True)
            info["fraction_of_peak"] = info["gflops"] / info["peak_gflops"]


@cache
def _baseline():
    """The BLAS baselines, once per session (pytest-benchmark asks for the machine's description
    again when it compares runs)."""
    return baseline.run(machine.BENCH_THREADS)


def _ran_a_baseline_group(config):
    session = getattr(config, "_benchmarksession", None)
    groups = {b.group for b in getattr(session, "benchmarks", [])}
    return bool(groups & baseline.GROUPS) or session is None


@pytest.fixture(scope="session")
def thread_counts():
    machine.keep_freed_memory()  # before any benchmark allocates
    counts = machine.set_threads()
    machine.cpu_peaks()  # measured before any benchmark runs, with the run's threads
    return counts


class Bench:
    """Check once, then time: `bench(run, check, path=..., workload=..., flops=...)`."""

    def __init__(self, benchmark, thread_counts, baseline_server):
        self.benchmark = benchmark
        self.thread_counts = thread_counts
        self.baseline_server = baseline_server

    def skip_if_too_big_for_ci(self, flops):
        if self.benchmark.disabled and flops > CI_MAX_FLOPS:
            pytest.skip(
                f"--benchmark-disable: {flops / 1e9:.1f} GFLOP is over the CI limit of "
                f"{CI_MAX_FLOPS / 1e9:.1f} GFLOP (the same code is checked at smaller sizes)"
            )

    def __call__(self, run, check, *, group, path, workload, flops, samples=None, dtype="float32",
                 **details):
        """details (size, layer_dims, m, batch_size) go into extra_info for the report's axes;
        dtype picks the peak a CPU path is measured against (the FMA peak of that dtype)."""
        benchmark = self.benchmark
        benchmark.group = group
        if benchmark.disabled:  # one call, checked: nothing is timed
            benchmark.pedantic(run, rounds=1)
            check()
            return
        run()  # compiles, warms caches; this is the call whose result is checked
        check()
        if path.device == "cpu":  # the check's NumPy products leave OpenBLAS's workers spinning
            time.sleep(baseline.SETTLE_SECONDS)  # on the cores the timed calls need
        seconds = baseline.probe_seconds(run)
        calls = baseline.calls_per_round(seconds)
        rounds = math.ceil(TARGET_SECONDS / max(seconds * calls, 1e-9))
        rounds = max(MIN_ROUNDS, min(MAX_ROUNDS, rounds))
        interleaved = {}
        teardown = None
        if path.name in INTERLEAVED_PATHS and group in baseline.GROUPS:
            server, every = self.baseline_server(), -(-rounds // BASELINE_BURSTS)
            done = [-1]  # rounds done; the warm-up round is round 0

            def burst():
                for lib, gflops in server.time(group, workload).items():
                    interleaved[lib] = max(interleaved.get(lib, 0.0), gflops)

            def teardown():  # after the warm-up round, then after every `every` rounds (not
                done[0] += 1  # after the call pytest-benchmark adds past several a round)
                if done[0] <= rounds and done[0] % every == 0:
                    burst()

        benchmark.pedantic(run, teardown=teardown, rounds=rounds, warmup_rounds=1, iterations=calls)
        if interleaved and rounds % every:
            burst()  # and one after the last round, unless the last round's teardown ran one
        stats = benchmark.stats.stats
        peak = machine.cpu_peak_gflops(dtype) if path.device == "cpu" else machine.gpu_peak_gflops()
        gflops = flops / stats.min / 1e9
        info = {
            "path": path.name,
            "device": path.device,
            "workload": workload,
            "dtype": dtype,
            "flops": flops,
            "gflops": gflops,
            "gflops_median": flops / stats.median / 1e9,
            "peak_gflops": peak,
            "fraction_of_peak": None if peak is None else gflops / peak,
            "threads": self.thread_counts,
            **details,
        }
        if interleaved:
            info["baseline_interleaved"] = interleaved
        if samples is not None:
            info["samples"] = samples
            info["samples_per_second"] = samples / stats.min
        benchmark.extra_info.update(info)


@pytest.fixture(scope="session")
def baseline_server():
    """bench/baseline.py's Server on the run's threads, started on first use."""
    started = []

    def get():
        if not started:
            started.append(baseline.Server(machine.BENCH_THREADS))
        return started[0]

    yield get
    for server in started:
        server.close()


@pytest.fixture
def bench(benchmark, thread_counts, baseline_server):
    """Requested after `benchmark`, so an ordinary (--benchmark-skip) run skips before any set-up."""
    return Bench(benchmark, thread_counts, baseline_server)
