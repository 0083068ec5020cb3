"""SGEMM on a GPU against cuBLAS, timed with CUDA events (tools/gpu_check.py's phase c).

    python -m bench.gpu_gemm --json OUT.json        a GPU with torch built for CUDA
    python -m bench.gpu_gemm --list                 the cases, one a line (no GPU needed)

For each n in SIZES: C = A B, all n x n float32, by each rung of kernels.cuda's GEMM ladder
(`cuda` is the register rung with the tile setting its launcher picks) and by cuBLAS through
torch.matmul, TF32 off and on. Each result is checked first against the float64 product of the
same operands (the benchmarks' float32 tolerance: 1e-4, over the whole array). Then WARMUP calls
are not timed (compilation, clocks ramping up), and the time is the best of ROUNDS batches, a batch
being as many calls as take about BATCH_S between two CUDA events, divided by their number.
GFLOP/s = 2 n^3 / time; % of cuBLAS is against cuBLAS with TF32 off at the same n.
The JSON (a list of rows) is rewritten after every row, so a timeout keeps the finished rows.
Needs numba, numba-cuda, numpy and torch only.
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

SIZES = (1024, 2048, 4096)
KERNELS = ("cuda", "cuda-tiled", "cuda-naive", "cublas", "cublas-tf32")
RUNGS = {"cuda": "register", "cuda-tiled": "tiled", "cuda-naive": "naive"}
WARMUP, ROUNDS, BATCH_S = 2, 5, 0.05
TOLERANCE = 1e-4


def cases(sizes=SIZES):
    return [(n, name) for n in sizes for name in KERNELS]


def _operands(n):
    rng = np.random.default_rng(n)
    return rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)


def numba_runner(name, A, B):
    """(run, result, details): run() queues one product on the default stream."""
    from numba import cuda

    from kernels.cuda import compile as compiled
    from kernels.cuda import ladder

    rung = RUNGS[name]
    n = A.shape[0]
    A_d, B_d = cuda.to_device(A), cuda.to_device(B)
    C_d = cuda.device_array((n, n), np.float32)

    def run():
        ladder.gemm(A_d, B_d, C_d, rung=rung)

    def details():
        _, block, register = ladder.launch_config(rung, n, n)
        fn, settings = ladder.factory(rung, np.float32, False, False, register)
        info = {"rung": rung, "block": list(block),
                "registers": compiled.kernel(fn, *settings).get_regs_per_thread()}
        if register is not None:
            info["register_setting"] = list(register)
        return info

    return run, C_d.copy_to_host, details


def torch_runner(name, A, B):
    import torch

    tA, tB = torch.from_numpy(A).cuda(), torch.from_numpy(B).cuda()
    out = {}

    def run():
        torch.backends.cuda.matmul.allow_tf32 = name == "cublas-tf32"
        out["C"] = torch.matmul(tA, tB)

    return run, lambda: out["C"].cpu().numpy(), lambda: {"tf32": name == "cublas-tf32"}


def event_seconds(run, calls, torch_events):
    """Seconds a call over `calls` back-to-back calls, between two CUDA events."""
    if torch_events:
        import torch

        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    else:
        from numba import cuda

        start, end = cuda.event(), cuda.event()
    start.record()
    for _ in range(calls):
        run()
    end.record()
    end.synchronize()
    milliseconds = start.elapsed_time(end)
    return milliseconds / 1e3 / calls


def measure(n, name):
    """One row: the check, then the timing."""
    import torch

    A, B = _operands(n)
    is_torch = name.startswith("cublas")
    run, result, details = (torch_runner if is_torch else numba_runner)(name, A, B)
    run()
    C = result()
    exact = (torch.from_numpy(A).cuda().double() @ torch.from_numpy(B).cuda().double()).cpu().numpy()
    error = float(np.abs(C - exact).max() / max(1e-8, np.abs(C).max() + np.abs(exact).max()))
    row = {"n": n, "kernel": name, "relative_error": error, "checked": error <= TOLERANCE}
    if not row["checked"]:
        row["error"] = f"relative error {error:.3g} > {TOLERANCE:g}: not timed"
        return row
    for _ in range(WARMUP):
        run()
    probe = event_seconds(run, 1, is_torch)
    calls = max(1, math.ceil(BATCH_S / max(probe, 1e-7)))
    seconds = min(event_seconds(run, calls, is_torch) for _ in range(ROUNDS))
    row.update(seconds=seconds, calls_per_round=calls, rounds=ROUNDS,
               gflops=2 * n**3 / seconds / 1e9, **details())
    return row


def with_shares(rows):
    """Adds % of cuBLAS (TF32 off) at the same n to every timed row."""
    cublas = {r["n"]: r["gflops"] for r in rows if r["kernel"] == "cublas" and "gflops" in r}
    for r in rows:
        if "gflops" in r and r["n"] in cublas:
            r["of_cublas"] = r["gflops"] / cublas[r["n"]]
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the rows here (after each row)")
    parser.add_argument("--list", action="store_true", help="print the cases and exit")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args(argv)
    if args.list:
        for n, name in cases(args.sizes):
            print(f"sgemm {n} {name}")
        return 0
    from kernels.cuda import config

    config.low_occupancy_warnings(False)
    rows = []
    order = sorted(cases(args.sizes), key=lambda c: (c[1] != "cublas", c[0]))  # cuBLAS first
    for n, name in order:
        start = time.perf_counter()
        try:
            row = measure(n, name)
        except Exception as error:  # noqa: BLE001  (the row says what failed; the others go on)
            row = {"n": n, "kernel": name, "error": f"{type(error).__name__}: {error}"[:500]}
        row["wall_s"] = time.perf_counter() - start
        rows.append(row)
        with_shares(rows)
        print(json.dumps(row), flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0 if all("gflops" in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
