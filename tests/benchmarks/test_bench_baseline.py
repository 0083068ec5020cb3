"""The baselines (bench/baseline.py) and the FMA peak (bench/peak.py): ordinary tests, not
benchmarks. The pin handling is tested by setting OPENBLAS_CORETYPE=Haswell for a child process
ourselves; this process's environment is left as it was found."""

import os
import subprocess
import sys

import numpy as np
import pytest

from bench import baseline, peak
from kernels.cpu import config

HASWELL = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "262144"}


def test_unpinned_environment_drops_the_pin_and_sets_the_threads():
    env = baseline.unpinned_environment(3, {**HASWELL, "HOME": "/h", "OPENBLAS_NUM_THREADS": "8"})
    assert "OPENBLAS_CORETYPE" not in env and "OPENBLAS_L2_SIZE" not in env
    assert env["HOME"] == "/h" and env["OPENBLAS_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "3"
    assert baseline.pins({**HASWELL, "HOME": "/h"}) == HASWELL
    assert baseline.pins({"HOME": "/h"}) == {}


def kernel_under(environ):
    """The kernel NumPy's OpenBLAS picks in a fresh process with this environment."""
    code = "import numpy, bench.baseline as b; print(b.openblas_info().get('kernel'))"
    out = subprocess.run([sys.executable, "-c", code], env=environ, cwd=baseline.ROOT,
                         capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_the_baseline_runs_without_a_pin_and_says_there_was_one():
    environ = dict(os.environ, **HASWELL, PYTHONPATH=str(baseline.ROOT))
    pinned = kernel_under(environ)
    result = baseline.run(1, target_seconds=0.0, select="layer", environ=environ)
    assert result["pins"] == HASWELL
    if pinned == "None":
        pytest.skip("NumPy has no OpenBLAS here")
    assert pinned == "Haswell"  # the pin takes effect in a process that keeps it ...
    unpinned = kernel_under(baseline.unpinned_environment(1, environ))
    assert result["openblas"]["kernel"] == unpinned  # ... and the baseline's process drops it
    text = baseline.describe(result)
    assert "OPENBLAS_CORETYPE=Haswell" in text and f"own kernel ({unpinned}" in text
    rows = result["results"][baseline.GROUP_LAYERS]
    assert len(rows) == 34 and all(g > 0 for libs in rows.values() for g in libs.values())


def test_the_server_times_a_workload_on_request():
    environ = dict(os.environ, **HASWELL, PYTHONPATH=str(baseline.ROOT))
    server = baseline.Server(1, environ)
    try:
        for _ in range(2):  # the first request warms up, the second reuses the operands
            reply = server.time(baseline.GROUP_LAYERS, "W A [30,16,8,1] m=569 l=2", seconds=0.0)
            assert set(reply) == set(baseline.LIBRARIES) and all(g > 0 for g in reply.values())
        with pytest.raises(KeyError, match="no baseline workload"):
            server.time(baseline.GROUP_LAYERS, "W A no such net l=1", seconds=0.0)
        assert server.process.poll() is None  # still serving
    finally:
        server.close()
    assert server.process.returncode == 0
    assert server.process.args[-3:] == ["--serve", "--threads", "1"]


def test_the_baseline_times_the_benchmarks_operands():
    """The same products as test_bench_products.py's reference row (W @ A, dZ @ A.T, W.T @ dZ)."""
    names = [w for w, _ in baseline.layer_products()]
    assert len(names) == 34 and names[0] == "W A [2,10,1] m=100 l=1"
    assert "W^T dZ [4096,1024,1024,1] m=1024 l=3" in names
    make = dict(baseline.layer_products())["W^T dZ [30,16,8,1] m=569 l=2"]
    A, B = make()
    assert A.shape == (16, 8) and B.shape == (8, 569) and A.dtype == np.float32


def peak_asm(dtype):
    from numba import njit

    fresh = njit(cache=False)(peak._one_core.py_func)
    fresh(1, np.ones(64, dtype))
    asm = fresh.inspect_asm(fresh.signatures[0])
    loop = [line.strip() for line in asm.splitlines()]
    return loop


@pytest.mark.skipif(config.vector_bits() != 512, reason="the zmm check needs an AVX-512 CPU")
def test_the_peak_loop_is_the_micro_kernels_fmas_on_registers(dtype):
    """MR x NV FMAs of the plan's width in the loop (or a whole number of times that, where LLVM
    unrolls it: 3 times on a Zen 4), and no memory operand among them."""
    p = config.PLANS[np.dtype(dtype)]
    suffix = "ps" if dtype == np.float32 else "pd"
    lines = peak_asm(dtype)
    fmas = [line for line in lines if line.startswith("vfmadd") and suffix in line.split()[0]]
    copies, rest = divmod(len(fmas), p.MR * p.NV)
    assert 1 <= copies <= 8 and rest == 0, len(fmas)
    assert all("%zmm" in f and "(" not in f for f in fmas), fmas


def test_the_peak_counts_the_flops_it_issues(dtype):
    p = config.PLANS[np.dtype(dtype)]
    assert peak.flops_per_iteration(dtype) == 2 * p.LANES * p.MR * p.NV
    gflops = peak.fma_peak_gflops(np.dtype(dtype), 1, repeats=1)
    assert np.isfinite(gflops) and gflops > 0


def test_the_threads_peak_is_timed_until_it_reaches_its_floor():
    """A slow moment (two threads at one core's speed) is timed again, up to the time limit."""
    times = iter([2.0] * 9 + [1.0] + [0.5] * 5)
    calls = []

    def time_one():
        calls.append(1)
        return next(times)

    assert peak._best_reaching(time_one, 3, lambda s: s <= 1.0, give_up_seconds=60) == 1.0
    assert len(calls) == 10  # three, then one at a time until the floor is reached
    never = peak._best_reaching(lambda: 2.0, 3, lambda s: False, give_up_seconds=0.0)
    assert never == 2.0  # past the time limit: the best there was
    fast = iter([0.5, 0.7, 0.6, 0.1])
    assert peak._best_reaching(lambda: next(fast), 3, lambda s: s <= 1.0, 60) == 0.5  # no more


def test_a_peak_below_what_the_others_imply_is_timed_again(monkeypatch):
    """A one-core float64 peak measured in a slow moment (113 GFLOP/s where float32's 245 says
    122.5) is timed again with a floor of FLOOR x 122.5, and the threads' floor follows the
    corrected one-core peak; a consistent one is not timed again."""
    asked = []
    first = {("float32", 1): 245.0, ("float64", 1): 113.0, ("float32", 2): 480.0,
             ("float64", 2): 240.0}

    def fake(dtype, threads=1, repeats=peak.REPEATS, floor=0.0):
        key = (np.dtype(dtype).name, threads)
        asked.append((key, floor))
        return first[key] if floor == 0.0 or threads > 1 else 123.0

    monkeypatch.setattr(peak, "fma_peak_gflops", fake)
    peak.peaks.cache_clear()
    try:
        out = peak.peaks(2)
    finally:
        peak.peaks.cache_clear()
    assert out == {"float32": {"1": 245.0, "2": 480.0}, "float64": {"1": 123.0, "2": 240.0}}
    floors = {key: floor for key, floor in asked if floor}
    assert floors == {("float64", 1): peak.FLOOR * 122.5, ("float32", 2): peak.FLOOR * 2 * 245.0,
                      ("float64", 2): peak.FLOOR * 2 * 123.0}
    assert [key for key, _ in asked].count(("float32", 1)) == 1


def test_every_percent_of_peak_takes_the_headers_peak(monkeypatch):
    """The rows' fraction of peak (machine.cpu_peak_gflops) and the header's peaks
    (machine.cpu_peaks) are one measurement, whatever spelling of the dtype asks."""
    import numba

    from bench import machine

    measured = []

    def fake(dtype, threads=1, repeats=peak.REPEATS, floor=0.0):  # float64 half of float32
        measured.append((np.dtype(dtype).name, threads))
        return 800.0 / np.dtype(dtype).itemsize * threads + len(measured)

    monkeypatch.setattr(peak, "fma_peak_gflops", fake)
    peak.peaks.cache_clear()
    try:
        threads = numba.get_num_threads()
        header = machine.cpu_peaks()["gflops"]
        for dtype in ("float32", np.float32, np.dtype("float64"), np.float64):
            name = np.dtype(dtype).name
            assert machine.cpu_peak_gflops(dtype) == header[name][str(threads)]
        assert len(measured) == len(set(measured)) == (2 if threads == 1 else 4)
    finally:
        peak.peaks.cache_clear()


def test_the_runs_peaks_are_the_higher_of_its_start_and_its_end(monkeypatch):
    """A start in a slow stretch for both dtypes (a one-thread run's 192.6 / 101.0 GFLOP/s,
    its products later at 229.9 / 113.5) is made good by the end's timing, entry by entry, and
    the end is timed once however often the header is asked for."""
    timings = iter([{"float32": {"1": 192.6, "2": 480.0}, "float64": {"1": 101.0, "2": 240.0}},
                    {"float32": {"1": 245.0, "2": 470.0}, "float64": {"1": 122.0, "2": 230.0}}])
    monkeypatch.setattr(peak, "measure", lambda threads: next(timings))
    peak.peaks.cache_clear()
    peak.peaks_at_end.cache_clear()
    try:
        assert peak.peaks(2)["float32"]["1"] == 192.6
        want = {"float32": {"1": 245.0, "2": 480.0}, "float64": {"1": 122.0, "2": 240.0}}
        assert peak.peaks_at_end(2) == want
        assert peak.peaks_at_end(2) == want  # no third timing (the iterator would be exhausted)
        assert peak.peaks(2)["float32"]["1"] == 192.6  # the start stays what it was
    finally:
        peak.peaks.cache_clear()
        peak.peaks_at_end.cache_clear()
