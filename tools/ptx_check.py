"""Compile every kernel of kernels.cuda to PTX, without a GPU: `python tools/ptx_check.py`.

The simulator runs Python that the CUDA compiler would reject (a non-constant shared-array
shape, a call with no device implementation, an accidental float64); this check is what catches
it. For each kernel, dtype (float32, float64) and compute capability (8.0, 9.0) it records
whether `numba.cuda.compile_ptx` succeeded and, for float32, every PTX line doing float64
arithmetic (`.f64`), which must be none; a canary kernel that does use float64 shows the
detector works. The GEMMs' PTX for 9.0 also goes through tools/sass_check.py
(linked for sm_90, disassembled: registers, spills, the hottest loop), saved as "sass".
Prints a summary (exit status 1 on any failure); `--json PATH` also writes
{"kernels": [...], "canary_f64_lines": [...]}.

Needs the real CUDA target (NUMBA_ENABLE_CUDASIM unset or 0) and NVVM, not a GPU. Device
functions (the activations) are compiled for the current device's compute capability; with no
device here, `kernel_cases.compile_for(cc)` tells numba-cuda the capability being compiled for
instead.
"""

import argparse
import json
import math
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, when run as a script

from tools import sass_check  # noqa: E402
from tools.kernel_cases import CCS, cases, compile_for  # noqa: E402

DTYPES = (np.float32, np.float64)
F64_INSTRUCTION = re.compile(r"^\s*[a-z][\w.]*\.f64\b|cvt\.\w*\.f64|\.reg \.f64")


def canary_f64_lines(cc=CCS[-1]):
    """f64_lines of a float32 kernel that does leak into float64 (a float64 literal, exp of a
    float64): must not be empty, or the check would pass every kernel without looking."""
    from numba import cuda

    from kernels.cuda.compile import matrix_type

    def canary(A):
        i = cuda.grid(1)
        if i < A.shape[1]:
            A[0, i] = A[0, i] * 0.1 + math.exp(A[0, i] - 1.0)

    ptx, _ = cuda.compile_ptx(canary, (matrix_type(np.float32),), cc=cc)
    return f64_lines(ptx)


def _sass(ptx, dtype):
    try:
        return sass_check.ptx_figures(ptx, dtype)
    except Exception as error:  # noqa: BLE001  (reported, and the SASS tests fail on it)
        return {"error": f"{type(error).__name__}: {error}"[:2000]}


def f64_lines(ptx):
    """PTX lines that declare float64 registers or do float64 arithmetic or conversion."""
    return [line.strip() for line in ptx.splitlines() if F64_INSTRUCTION.search(line)]


def run():
    from numba import cuda
    from numba.cuda.core import config as numba_config

    if numba_config.ENABLE_CUDASIM:
        raise SystemExit("ptx_check needs the real CUDA target: run it with NUMBA_ENABLE_CUDASIM=0")
    results = []
    for cc in CCS:
        for dtype in DTYPES:
            for name, fn, argtypes in cases(dtype):
                start = time.perf_counter()
                entry = {"kernel": name, "dtype": np.dtype(dtype).name, "cc": f"{cc[0]}.{cc[1]}"}
                try:
                    with compile_for(cc):
                        ptx, _ = cuda.compile_ptx(fn, argtypes, cc=cc)
                except Exception as error:  # noqa: BLE001  (every failure is the report)
                    entry.update(ok=False, error=f"{type(error).__name__}: {error}"[:2000])
                else:
                    entry.update(
                        ok=True,
                        f64_lines=f64_lines(ptx)[:20] if dtype == np.float32 else [],
                        local_memory=".local" in ptx,
                        target=f"sm_{cc[0]}{cc[1]}" in ptx,
                    )
                    if name.startswith("gemm_") and cc == sass_check.CC:
                        entry["sass"] = _sass(ptx, dtype)
                entry["seconds"] = round(time.perf_counter() - start, 3)
                results.append(entry)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    results = run()
    canary = canary_f64_lines()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"kernels": results, "canary_f64_lines": canary}, f, indent=1)
    bad = [r for r in results if not r["ok"] or r.get("f64_lines")]
    for r in results:
        status = "ok" if r["ok"] and not r.get("f64_lines") else "FAIL"
        sass = r.get("sass")
        mc = "" if sass is None else "  " + sass_check.summary(sass)
        print(f"{status:4} {r['kernel']:28} {r['dtype']:8} cc {r['cc']}  {r['seconds']:.2f} s{mc}")
    print(f"{len(results) - len(bad)} of {len(results)} compiled cleanly")
    print(f"canary (a float32 kernel with float64 inside): {len(canary)} float64 lines found")
    return 1 if bad or not canary else 0


if __name__ == "__main__":
    sys.exit(main())
