"""The machine under test: one thread count for every CPU path, its description, measured peaks
(the CPU's FMA peak: bench/peak.py; the BLAS baselines: bench/baseline.py).

Thread count: BENCH_THREADS from the environment, else every core. It is set for all three CPU
runtimes and read back, so the report shows what was in effect, not what was asked for:
- NumPy's OpenBLAS: OPENBLAS_NUM_THREADS must be set before NumPy loads (`invoke bench` does),
  and we also set it at run time through OpenBLAS's own `*_set_num_threads` (what threadpoolctl
  does), so a plain `pytest --benchmark-only` gets the same count;
- numba: `numba.set_num_threads` (parallel kernels; it cannot exceed NUMBA_NUM_THREADS);
- torch: `torch.set_num_threads`.
"""

import ctypes
import glob
import os
import platform
import time
from functools import cache

import numpy as np

from kernels import cuda_target

BENCH_THREADS = int(os.environ.get("BENCH_THREADS") or os.cpu_count())


def _openblas():
    """NumPy's bundled OpenBLAS (numpy.libs/libscipy_openblas*.so) as (get, set), or None."""
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "*openblas*"))
    for path in libs:
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "")):
            getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            if getter is not None and setter is not None:
                return getter, setter
    return None


def set_threads(n=BENCH_THREADS):
    """Use n threads in NumPy's BLAS, numba and torch; return the counts each reports back."""
    import numba
    import torch

    counts = {}
    blas = _openblas()
    if blas is not None:
        get, set_ = blas
        set_(n)
        counts["numpy_blas"] = int(get())
    else:  # an unknown BLAS: only the environment variable can have set it
        counts["numpy_blas"] = os.environ.get("OPENBLAS_NUM_THREADS", "unknown")
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    counts["numba"] = numba.get_num_threads()
    torch.set_num_threads(n)
    counts["torch"] = torch.get_num_threads()
    return counts


# glibc's mallopt parameters (malloc.h): free never gives the top of the heap back to the kernel
# below M_TRIM_THRESHOLD bytes, and M_MMAP_MAX = 0 serves every block from the heap
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
TRIM_THRESHOLD = 2**31 - 1  # mallopt takes an int


def keep_freed_memory():
    """Keep the memory this process frees (glibc's malloc: every block from the heap, the heap
    never trimmed), so that a benchmark's next call reuses pages it has touched. Returns whether
    it could (False off glibc: nothing changes).

    Why: glibc serves a block over its mmap threshold (128 KiB, raised by each such block freed,
    to at most 32 MiB) with an mmap of its own (a square product's result from n = 2048 in
    float64, n = 4096 in float32); free unmaps it, and the next call's result is fresh pages. On a
    virtual machine whose balloon reports free pages to the host (virtio-balloon's free page
    reporting, about 2 s after they are freed), those pages are handed back and a later first
    touch faults them in from the host again: a cost in the rounds that follow a pause (the
    interleaved baselines' bursts) and in none of the baselines' own back-to-back calls
    (docs/performance.md has it measured). Every benchmark process, the baseline's child and
    server included, calls this, so no path pays for fresh pages and none for the kernel's
    zeroing of them."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and bool(mallopt(M_MMAP_MAX, 0))


def cpu_model(cpuinfo="/proc/cpuinfo"):
    """The CPU's marketing name from /proc/cpuinfo (platform.processor() is often empty), with its
    family, model and stepping: a virtual machine's "Intel(R) Xeon(R) Processor" names several
    generations, and these tell them apart."""
    fields = {}
    try:
        with open(cpuinfo) as f:
            for line in f:
                if not line.strip():
                    break  # the first processor's block is enough
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or "unknown CPU"
    ids = [f"{label} {fields[key]}" for key, label in
           (("cpu family", "family"), ("model", "model"), ("stepping", "stepping")) if fields.get(key)]
    return f"{name} ({', '.join(ids)})" if ids else name


@cache
def real_gpu():
    """True only for a real CUDA device: numba's simulator (tests/conftest.py turns it on where
    there is no driver) is never timed."""
    return not cuda_target.simulator_on() and cuda_target.unavailable_reason() is None


@cache
def torch_cuda():
    import torch

    return torch.cuda.is_available()


def gpu_name():
    if torch_cuda():
        import torch

        return torch.cuda.get_device_name(0)
    if real_gpu():
        from numba import cuda

        name = cuda.get_current_device().name
        return name.decode() if isinstance(name, bytes) else str(name)
    return "no GPU"


def describe():
    """The machine as the report prints it."""
    return {
        "cpu_model": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "gpu": gpu_name(),
        "threads": BENCH_THREADS,
        "cpu_engine": cpu_engine(),
    }


def cpu_engine():
    """kernels.cpu's plan for this CPU: vector width, cache sizes, micro-kernel and block sizes."""
    from kernels.cpu import config

    return config.describe()


# ---------------------------------------------------------------------------------------------
# Measured peaks. The CPU's: the FMA peak of the engine's micro-kernel (bench/peak.py), one core
# and every thread of the run; the GPU's: the best GEMM a vendor library reaches.

PEAK_SIZE = 4096
PEAK_RUNS = 5


def _best_seconds(fn, runs):
    fn()  # warm-up: first-touch of the pages, BLAS thread start-up
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _cpu_peaks(threads, at_end):
    """bench/peak.py's peaks on `threads` threads: timed at the run's start, or (at_end) the
    higher of that and a timing at its end."""
    from bench import peak

    return peak.peaks_at_end(threads) if at_end else peak.peaks(threads)


def cpu_peak_gflops(dtype="float32", threads=None, at_end=False):
    """The FMA peak in `dtype` on `threads` threads (default: numba's count in this run): the
    value cpu_peaks() reports, timed at the run's start, or (at_end) the higher of that and a
    timing at its end: what the saved run's header and every "% of peak" in it take
    (fixtures.pytest_benchmark_update_json)."""
    import numba

    threads = threads or numba.get_num_threads()
    return _cpu_peaks(threads, at_end)[np.dtype(dtype).name][str(threads)]


def cpu_peaks(at_end=False):
    """{dtype: {threads: GFLOP/s}} for one core and for this run's threads, and what was timed:
    at the run's start, or (at_end) the higher of that and a timing at its end (bench/peak.py)."""
    import numba

    from bench import peak

    return {"kernel": peak.describe_kernel(), "gflops": _cpu_peaks(numba.get_num_threads(), at_end)}


@cache
def gpu_peak_gflops(n=PEAK_SIZE):
    """cuBLAS float32 GEMM through torch (TF32 off) at n x n x n: the GPU's measured peak.
    None where torch has no CUDA device (numba-cuda alone has no cuBLAS to measure)."""
    if not torch_cuda():
        return None
    import torch

    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        A = torch.rand((n, n), device="cuda", dtype=torch.float32)
        B = torch.rand((n, n), device="cuda", dtype=torch.float32)

        def gemm():
            torch.matmul(A, B)
            torch.cuda.synchronize()

        return 2 * n**3 / _best_seconds(gemm, PEAK_RUNS) / 1e9
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous
