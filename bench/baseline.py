"""The BLAS baselines, each library on its own best kernel, timed in a process of their own.

    python -m bench.baseline [--threads N] [--json OUT]      measure and print (or save) them

Some machines' environment pins NumPy's OpenBLAS to an older kernel (OPENBLAS_CORETYPE, with
OPENBLAS_L2_SIZE): every process started there, the benchmarks' included, inherits the pin.
So the baseline runs in a child process whose environment is the user's less those variables,
with the benchmark's thread count, and reports which kernel OpenBLAS ran there (threadpoolctl)
and which pin, if any, the benchmark's own process has. Two libraries are timed on the same
operands: NumPy's `@` (OpenBLAS) and torch.matmul (MKL / oneDNN); the best BLAS of a workload
is the faster of them (bench/report.py). The environment of the tests and of CI is left as it is.

Workloads (bench/workloads.py): the square products in float32 and float64 and the three layer
products of every benchmark network in float32, each timed as the fastest of as many rounds as
fit in about TARGET_SECONDS (at least MIN_ROUNDS) after one warm-up call. A round is one call, or
several where one call is shorter than ROUND_SECONDS (calls_per_round: the rule bench/fixtures.py
applies to every path, so that a call of a microsecond is timed the same way on both sides).

Server: the same child process kept open, timing one workload per request in a short burst, so
that the benchmark can time the baselines between the engine's own rounds (bench/fixtures.py):
on a shared machine (a virtual machine's two cores are not always two free cores) the speed of
two threads changes from second to second, and a ratio is only fair between timings taken in
the same seconds. docs/performance.md has it measured.
"""

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PIN_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
TARGET_SECONDS = 0.3
MIN_ROUNDS = 3
ROUND_SECONDS = 20e-6  # the shortest timed round; shorter calls are timed several to a round
MAX_CALLS_PER_ROUND = 1000
BURST_SECONDS = 0.2  # one library's burst between the engine's rounds (Server): with the
# fixture's five bursts, each library is timed for about as long as the engine's 1 s
SETTLE_SECONDS = 0.25  # after a burst: OpenBLAS's idle workers spin ~0.1 s before they sleep
REPLY = "baseline: "  # the server's reply lines start with this (a library may print too)
LIBRARIES = ("openblas", "torch")

GROUP_SQUARE = {"float32": "matmul: square float32", "float64": "matmul: square float64"}
GROUP_LAYERS = "layer products float32"
GROUPS = {*GROUP_SQUARE.values(), GROUP_LAYERS}


def pins(environ=None):
    """The variables of `environ` (default: this process's) that pin OpenBLAS's kernel."""
    environ = os.environ if environ is None else environ
    return {k: environ[k] for k in PIN_VARIABLES if k in environ}


def unpinned_environment(threads, environ=None):
    """`environ` less the pins, every BLAS on `threads` threads."""
    environ = dict(os.environ if environ is None else environ)
    for k in PIN_VARIABLES:
        environ.pop(k, None)
    environ.update({k: str(threads) for k in THREAD_VARIABLES})
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environ.get("PYTHONPATH")]))
    return environ


def openblas_info():
    """{kernel, version, threads, threading} of NumPy's OpenBLAS in this process (threadpoolctl),
    or {} where NumPy has no OpenBLAS."""
    from threadpoolctl import threadpool_info

    for lib in threadpool_info():
        if lib.get("internal_api") == "openblas":
            return {"kernel": lib.get("architecture"), "version": lib.get("version"),
                    "threads": lib.get("num_threads"), "threading": lib.get("threading_layer")}
    return {}


def torch_info():
    import torch

    found = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    blas = found.group(1) if found else "unknown"
    return {"version": torch.__version__, "blas": blas, "threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}


def workloads():
    """(group, workload, dtype, A, B) builders, the operands exactly as the benchmarks make them."""
    from bench.workloads import SQUARE_GEMMS

    out = []
    for dtype in ("float32", "float64"):
        for g in SQUARE_GEMMS:
            out.append((GROUP_SQUARE[dtype], g.name, dtype, lambda g=g, d=dtype: g.operands(d)))
    for workload, make in layer_products():
        out.append((GROUP_LAYERS, workload, "float32", make))
    return out


def layer_products():
    """(workload, make) for the 34 layer products: make() -> (op(A), op(B)) as the reference
    multiplies them (W @ A, dZ @ A.T, W.T @ dZ), on the operands of test_bench_products.py."""
    from bench.workloads import NETWORKS

    out = []
    for net in NETWORKS:
        dims = net.layer_dims
        for l in range(1, len(dims)):
            n, k, m = dims[l], dims[l - 1], net.m

            def make(n=n, k=k, m=m, l=l):
                rng = np.random.default_rng(l)
                return tuple(rng.random(s, dtype=np.float32) for s in [(n, k), (k, m), (n, m)])

            products = [("W A", lambda make=make: (make()[0], make()[1])),
                        ("dZ A^T", lambda make=make: (make()[2], make()[1].T))]
            if l > 1:
                products.append(("W^T dZ", lambda make=make: (make()[0].T, make()[2])))
            for name, operands in products:
                out.append((f"{name} {net.name} l={l}", operands))
    return out


def probe_seconds(call, probes=3, long_call=0.2):
    """The time of one call, to size the rounds: the fastest of a few, so that one call slowed
    by another process does not cut the rounds short (a long call is probed once)."""
    best = float("inf")
    for _ in range(probes):
        t0 = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - t0)
        if best > long_call:
            break
    return best


def calls_per_round(seconds):
    """How many calls one timed round makes, for a call of `seconds`: enough for a round of
    ROUND_SECONDS, so that the timer's two reads and the round's own Python (a few tenths of a
    microsecond) are a small part of what a round times, as pytest-benchmark's calibration and
    timeit do. A round's time over its calls is the time of a call."""
    if seconds >= ROUND_SECONDS:
        return 1
    return min(MAX_CALLS_PER_ROUND, math.ceil(round(ROUND_SECONDS / max(seconds, 1e-9), 6)))


def _fastest(call, target_seconds, min_rounds=MIN_ROUNDS, warm_up=True):
    """The fastest call's seconds: rounds of calls_per_round calls, for about target_seconds."""
    if warm_up:
        call()  # first touch, thread start-up
    probe = probe_seconds(call)
    calls = range(calls_per_round(probe))
    # a probe of a long call is a round of one call: counted, not repeated
    best, spent, rounds = (probe, probe, 1) if len(calls) == 1 else (float("inf"), 0.0, 0)
    while rounds < min_rounds or spent < target_seconds:
        t0 = time.perf_counter()
        for _ in calls:
            call()
        t = time.perf_counter() - t0
        best, spent, rounds = min(best, t / len(calls)), spent + t, rounds + 1
    return best


def _library_calls(A, B):
    """({library: a call of its product A B}, the product's FLOPs)."""
    import torch

    tA, tB = torch.from_numpy(A), torch.from_numpy(B)
    calls = {"openblas": lambda: A @ B, "torch": lambda: torch.matmul(tA, tB)}
    return calls, 2 * A.shape[0] * A.shape[1] * B.shape[1]


def measure(threads, target_seconds=TARGET_SECONDS, select=None):
    """In this process: {group: {workload: {library: GFLOP/s}}} and the libraries' details."""
    import torch

    torch.set_num_threads(threads)
    results = {}
    for group, workload, _, make in workloads():
        if select and select not in group:
            continue
        calls, flops = _library_calls(*make())
        results.setdefault(group, {})[workload] = {
            lib: flops / _fastest(calls[lib], target_seconds) / 1e9 for lib in LIBRARIES}
    return {"openblas": openblas_info(), "torch": torch_info(), "results": results}


def run(threads, target_seconds=TARGET_SECONDS, select=None, environ=None, timeout=1200):
    """The baselines measured in a child process without the pins (see above), plus the pins of
    `environ` (default: this process's) and the kernel OpenBLAS runs under them here."""
    args = [sys.executable, "-m", "bench.baseline", "--child", "--threads", str(threads),
            "--target", str(target_seconds)] + (["--select", select] if select else [])
    child = subprocess.run(args, env=unpinned_environment(threads, environ), cwd=ROOT,
                           capture_output=True, text=True, timeout=timeout)
    if child.returncode != 0:
        raise RuntimeError(f"bench.baseline's child process failed:\n{child.stderr[-4000:]}")
    out = json.loads(child.stdout.strip().splitlines()[-1])
    out["threads"] = threads
    out["pins"] = pins(environ)
    out["openblas_here"] = openblas_info()  # the benchmark process's own, pinned or not
    return out


class Server:
    """The baselines timed on request in a child process without the pins (as run()):
    `time(group, workload)` -> {library: GFLOP/s of its fastest call in a burst of about
    BURST_SECONDS}; the reply comes once the child's BLAS threads are asleep again
    (SETTLE_SECONDS), so that they do not spin on a core the caller's next timing needs."""

    def __init__(self, threads, environ=None):
        args = [sys.executable, "-m", "bench.baseline", "--serve", "--threads", str(threads)]
        self.process = subprocess.Popen(args, env=unpinned_environment(threads, environ), cwd=ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def time(self, group, workload, seconds=BURST_SECONDS):
        request = {"group": group, "workload": workload, "seconds": seconds}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        for line in self.process.stdout:
            if line.startswith(REPLY):
                reply = json.loads(line[len(REPLY):])
                if "error" in reply:
                    raise KeyError(reply["error"])
                return reply
        raise RuntimeError(f"bench.baseline's server exited ({self.process.wait()}) on {request}")

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=60)


def serve(threads, lines=sys.stdin):
    """The server's side: one JSON request per line, one reply line each (REPLY + JSON)."""
    import torch

    torch.set_num_threads(threads)
    makers = {(group, workload): make for group, workload, _, make in workloads()}
    current = None  # (key, calls, flops): only the last workload's operands are kept
    for line in lines:
        request = json.loads(line)
        key = (request["group"], request["workload"])
        if key not in makers:
            print(REPLY + json.dumps({"error": f"no baseline workload {key}"}), flush=True)
            continue
        fresh = current is None or current[0] != key
        if fresh:
            current = (key, *_library_calls(*makers[key]()))
        _, calls, flops = current
        reply = {lib: flops / _fastest(calls[lib], request["seconds"], min_rounds=1, warm_up=fresh) / 1e9
                 for lib in LIBRARIES}
        time.sleep(SETTLE_SECONDS)
        print(REPLY + json.dumps(reply), flush=True)


def describe(baseline):
    """One sentence for the report's header: the kernels that ran and the pin."""
    ob, here = baseline.get("openblas", {}), baseline.get("openblas_here", {})
    tinfo = baseline.get("torch", {})
    text = (f"best BLAS = the faster of NumPy's OpenBLAS {ob.get('version', '?')} on its own "
            f"kernel ({ob.get('kernel', '?')}, threadpoolctl) and torch {tinfo.get('version', '?')}"
            f"'s matmul ({tinfo.get('blas', '?')}, {tinfo.get('cpu_capability', '?')}), each "
            f"timed in a process of its own on {baseline.get('threads', '?')} "
            f"thread{'s' if baseline.get('threads') != 1 else ''}")
    pinned = baseline.get("pins") or {}
    if pinned:
        setting = ", ".join(f"{k}={v}" for k, v in pinned.items())
        text += (f"; this environment pins OpenBLAS ({setting}): the benchmark process's own "
                 f"NumPy ran the {here.get('kernel', '?')} kernel, the baseline ran without the pin")
    else:
        text += f"; no OpenBLAS pin set (the benchmark process's NumPy ran {here.get('kernel', '?')} too)"
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int,
                        default=int(os.environ.get("BENCH_THREADS") or os.cpu_count()))
    parser.add_argument("--target", type=float, default=TARGET_SECONDS,
                        help="seconds per workload and library")
    parser.add_argument("--select", help="only groups whose name holds this text")
    parser.add_argument("--json", help="write the result here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve or args.child:
        from bench import machine

        machine.keep_freed_memory()  # as the benchmark's own process (bench/fixtures.py)
    if args.serve:  # already in the unpinned environment (Server)
        serve(args.threads)
        return
    if args.child:  # already in the unpinned environment
        print(json.dumps(measure(args.threads, args.target, args.select)))
        return
    result = run(args.threads, args.target, args.select)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    print(describe(result))
    for group, rows in result["results"].items():
        print(f"\n{group}")
        for workload, libs in rows.items():
            print(f"  {workload}: " + ", ".join(f"{lib} {g:,.1f}" for lib, g in libs.items()) + " GFLOP/s")


if __name__ == "__main__":
    main()
