"""The machine's FMA peak: the ceiling that "% of peak" is taken against.

The engine's own micro-kernel FMAs (kernels/cpu/microkernel.py's fma_peak: its MR x NV vector
FMAs of the plan's width, as independent chains on registers, no load or store in the loop),
timed on one core and on every thread of the run at once, in GFLOP/s per dtype. No matrix
product can beat it on this CPU with these instructions, so it is a ceiling, unlike a library's
GEMM (which another library can pass).

    python -m bench.peak        prints the peaks of this machine
"""

import time
from functools import cache

import numpy as np
from numba import njit, prange

from kernels.cpu import config
from kernels.cpu.microkernel import fma_peak

TARGET_SECONDS = 0.05  # one timed call
REPEATS = 7  # the best of these
FLOOR = 0.97  # a peak is timed until it reaches this x what the other peaks say it is (peaks)
FLOOR_SECONDS = 5.0  # ... or for this long, keeping the best
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@njit(nogil=True)
def _one_core(n, x):
    fma_peak(n, x)


@njit(parallel=True, nogil=True)
def _every_thread(n, xs):
    for t in prange(xs.shape[0]):
        fma_peak(n, xs[t])


def flops_per_iteration(dtype):
    """2 FLOPs per lane of each of the micro-kernel's MR x NV vector FMAs."""
    p = config.PLANS[np.dtype(dtype)]
    return 2 * p.LANES * p.MR * p.NV


def _operands(dtype, threads):
    """Small values (no overflow, no subnormals over any run here): one row per thread."""
    return np.full((threads, 64), 1e-4, dtype)


def _seconds(call, n):
    """One timed call(n); the best of several is _best_reaching's."""
    t0 = time.perf_counter()
    call(n)
    return time.perf_counter() - t0


def _best_reaching(time_one, repeats, reaches, give_up_seconds):
    """The fastest of `repeats` timings (time_one() -> seconds), then of more, one at a time,
    while reaches(fastest) is false, for up to give_up_seconds."""
    best = min(time_one() for _ in range(repeats))
    give_up = time.perf_counter() + give_up_seconds
    while not reaches(best) and time.perf_counter() < give_up:
        best = min(best, time_one())
    return best


@cache
def fma_peak_gflops(dtype, threads=1, repeats=REPEATS, floor=0.0):
    """GFLOP/s of the micro-kernel's FMAs on `threads` threads at once (1: one core), best of
    `repeats` calls of about TARGET_SECONDS each, and of more while the best is under `floor`
    GFLOP/s, for up to FLOOR_SECONDS (see peaks)."""
    import numba

    config.ready()
    dtype = np.dtype(dtype)
    if threads > numba.get_num_threads():
        raise ValueError(f"threads={threads}: numba runs at most {numba.get_num_threads()} here")
    xs = _operands(dtype, threads)
    if threads == 1:
        call = lambda n: _one_core(n, xs[0])  # noqa: E731
    else:
        call = lambda n: _every_thread(n, xs)  # noqa: E731
    call(16)  # compiles; starts the workers
    n = 1 << 12
    while _seconds(call, n) < TARGET_SECONDS / 4:
        n *= 2
    n = int(n * TARGET_SECONDS / max(_seconds(call, n), 1e-9))
    flops = threads * n * flops_per_iteration(dtype)
    seconds = _best_reaching(lambda: _seconds(call, n), repeats,
                             lambda s: flops / s / 1e9 >= floor, FLOOR_SECONDS)
    return flops / seconds / 1e9


@cache
def peaks(threads):
    """The peaks timed at the start of a run: measure(threads), once."""
    return measure(threads)


@cache
def peaks_at_end(threads):
    """The peaks of the whole run: each the higher of its time at the start (peaks) and a second
    timing now, at the run's end. On a virtual machine a core's speed changes for minutes at a
    time, and one run's start can fall in a slow stretch for both dtypes at once (a one-thread
    run timed float32's peak at 192.6 GFLOP/s, float64's at 101.0, then its own products reached
    229.9 and 113.5: docs/performance.md), which no check within one timing can see."""
    start, end = peaks(threads), measure(threads)
    return {name: {t: max(g, end[name][t]) for t, g in by_threads.items()}
            for name, by_threads in start.items()}


def measure(threads):
    """{dtype name: {"1": one core, "N": N threads}} in GFLOP/s. A peak is a ceiling only if it
    is what the core reaches, not a moment when the virtual machine's host runs it slower (one
    run's float64 peak on two threads came out at 58.4 GFLOP/s, one core's 58.7; another's
    float64 one-core peak at 113, its float32 at 245: docs/performance.md). So each is checked
    against what the others imply and timed again until it reaches FLOOR x that, or for
    FLOOR_SECONDS, keeping the best: one core's in one dtype against the other's (a vector FMA
    takes the same time in either, on half as many float64 lanes: float64's GFLOP/s are half of
    float32's), the threads' against threads x one core's."""
    one = {dtype: fma_peak_gflops(dtype, 1) for dtype in DTYPES}
    for dtype, other in zip(DTYPES, reversed(DTYPES), strict=True):
        implied = one[other] * other.itemsize / dtype.itemsize
        if one[dtype] < FLOOR * implied:
            one[dtype] = max(one[dtype], fma_peak_gflops(dtype, 1, floor=FLOOR * implied))
    out = {}
    for dtype in DTYPES:
        out[dtype.name] = {"1": one[dtype]}
        if threads > 1:
            floor = FLOOR * threads * one[dtype]
            out[dtype.name][str(threads)] = fma_peak_gflops(dtype, threads, floor=floor)
    return out


def describe_kernel():
    """The instructions the peak counts, in words."""
    p = config.PLANS[np.dtype(np.float32)]
    return (f"{p.MR} x {p.NV} independent {config.vector_bits()}-bit vector FMAs per iteration, "
            "on registers (the engine's micro-kernel without its loads)")


def main():
    import numba

    threads = numba.get_num_threads()
    print(f"FMA peak, {describe_kernel()}:")
    for name, by_threads in peaks(threads).items():
        print(f"  {name}: " + ", ".join(f"{g:,.1f} GFLOP/s on {t} thread{'s' if t != '1' else ''}"
                                        for t, g in by_threads.items()))


if __name__ == "__main__":
    main()
