"""The GEMM ladder in machine code, without a GPU: `python tools/sass_check.py [--json PATH]`.

For each GEMM kernel (three rungs, the register rung in two tile settings, three products) and
dtype: PTX from
`numba.cuda.compile_ptx(..., cc=(9, 0))`, linked for sm_90 by nvJitLink (`cuda.bindings.nvjitlink`,
installed with numba-cuda[cu13]) with `-Xptxas=-v`, which reports registers and spills, then the
cubin disassembled by `nvdisasm` (PyPI `nvidia-cuda-nvdisasm`) into SASS, where the hottest loop is
found and its instructions counted.

The hottest loop: the SASS loops are the backward branches (a BRA to an earlier label); of the
loops that hold fused multiply-adds and no inner loop that does, the one with the most of them
(the k loop of a GEMM). Its instruction count includes both sides of any branch inside it, so
the FMA share is a lower bound of what a warp executes.

Needs the real CUDA target (NUMBA_ENABLE_CUDASIM unset or 0), not a GPU. Exit status 1 when a
float32 register-tiled kernel misses the Hopper budget: at most MAX_REGISTERS registers per
thread (two 256-thread blocks per SM), no spills, FFMA at least MIN_FMA_SHARE of its hottest loop.
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, when run as a script

from tools.kernel_cases import cases, compile_for  # noqa: E402

CC = (9, 0)
MAX_REGISTERS = 128
MIN_FMA_SHARE = 0.60
DTYPES = (np.float32, np.float64)
INSTRUCTION = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)*)(.*)")
LABEL = re.compile(r"^\s*(\.L_x_\d+):")
BRANCH_TARGET = re.compile(r"`\((\.L_x_\d+)\)")


def gemm_cases(dtype):
    """(name, source function, argument types) of every GEMM kernel (tools/kernel_cases.py)."""
    for name, fn, argtypes in cases(dtype):
        if name.startswith("gemm_"):
            yield name, fn, argtypes


def budgeted(name, dtype):
    """Whether the Hopper budget applies: the register-tiled kernels in float32."""
    return name.startswith("gemm_register") and np.dtype(dtype) == np.float32


def nvdisasm():
    """The path of nvdisasm: on PATH, or the nvidia-cuda-nvdisasm wheel's (found by cuda.pathfinder)."""
    import shutil

    path = shutil.which("nvdisasm")
    if path is None:
        try:
            from cuda.pathfinder import find_nvidia_binary_utility

            path = find_nvidia_binary_utility("nvdisasm")
        except ImportError:
            path = None
    if path is None:
        raise FileNotFoundError("nvdisasm not found: pip install nvidia-cuda-nvdisasm (requirements.txt)")
    return path


def link(ptx, cc=CC):
    """(cubin bytes, ptxas log) of one PTX module, linked for sm_XY by nvJitLink."""
    from cuda.bindings import nvjitlink

    handle = nvjitlink.create(2, [f"-arch=sm_{cc[0]}{cc[1]}", "-Xptxas=-v"])
    try:
        data = ptx.encode()
        nvjitlink.add_data(handle, nvjitlink.InputType.PTX, data, len(data), "kernel.ptx")
        nvjitlink.complete(handle)
        log = bytearray(nvjitlink.get_info_log_size(handle))
        nvjitlink.get_info_log(handle, log)
        cubin = bytearray(nvjitlink.get_linked_cubin_size(handle))
        nvjitlink.get_linked_cubin(handle, cubin)
    finally:
        nvjitlink.destroy(handle)
    return bytes(cubin), log.decode(errors="replace").rstrip("\x00")


def ptxas_figures(log):
    """Registers, spill stores and loads (bytes), stack frame (bytes) from ptxas -v."""
    def number(pattern):
        found = re.search(pattern, log)
        if found is None:
            raise ValueError(f"ptxas log has no {pattern!r}:\n{log}")
        return int(found.group(1))

    return {
        "registers": number(r"Used (\d+) registers"),
        "spill_stores": number(r"(\d+) bytes spill stores"),
        "spill_loads": number(r"(\d+) bytes spill loads"),
        "stack_frame": number(r"(\d+) bytes stack frame"),
    }


def disassemble(cubin):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kernel.cubin"
        path.write_bytes(cubin)
        run = subprocess.run([nvdisasm(), "-c", str(path)], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        raise RuntimeError(f"nvdisasm failed: {run.stderr}")
    return run.stdout


def parse_sass(sass):
    """[(address, opcode with modifiers, operands)] and {label: address of the next instruction}."""
    instructions, labels, pending = [], {}, []
    for line in sass.splitlines():
        label = LABEL.match(line)
        if label:
            pending.append(label.group(1))
            continue
        found = INSTRUCTION.search(line)
        if found:
            address = int(found.group(1), 16)
            for name in pending:
                labels[name] = address
            pending = []
            instructions.append((address, found.group(2), found.group(3)))
    return instructions, labels


def loops(instructions, labels):
    """[(first address, branch address)] of every backward branch."""
    found = []
    for address, opcode, operands in instructions:
        target = BRANCH_TARGET.search(operands)
        if opcode.startswith("BRA") and target and labels.get(target.group(1), address + 1) <= address:
            found.append((labels[target.group(1)], address))
    return found


def hottest_loop(sass, fma="FFMA"):
    """Counter of the opcodes (with modifiers) of the hottest loop (module docstring), or None."""
    instructions, labels = parse_sass(sass)

    def body(loop):
        return [op for address, op, _ in instructions if loop[0] <= address <= loop[1]]

    def fmas(loop):
        return sum(op.split(".")[0] == fma for op in body(loop))

    with_fma = [loop for loop in loops(instructions, labels) if fmas(loop)]
    innermost = [outer for outer in with_fma
                 if not any(inner != outer and outer[0] <= inner[0] and inner[1] <= outer[1]
                            for inner in with_fma)]
    if not innermost:
        return None
    return Counter(body(max(innermost, key=fmas)))


def mix(counts, fma):
    """The hottest loop in a few numbers: instructions, FMAs and their share, memory and barriers,
    and the rest (integer, address, predicate and control instructions)."""
    base = Counter()
    for op, n in counts.items():
        base[op.split(".")[0]] += n
    total = sum(counts.values())
    memory = base["LDS"] + base["LDG"] + base["STS"] + base["BAR"]
    return {
        "instructions": total,
        "fma": base[fma],
        "fma_share": base[fma] / total,
        "shared_loads": {op: n for op, n in counts.items() if op.split(".")[0] == "LDS"},
        "global_loads": base["LDG"],
        "shared_stores": base["STS"],
        "barriers": base["BAR"],
        "other": total - base[fma] - memory,
    }


def figures(fn, argtypes, dtype, cc=CC):
    """Registers, spills and the hottest loop's mix of one kernel compiled for sm_XY."""
    from numba import cuda

    with compile_for(cc):
        ptx, _ = cuda.compile_ptx(fn, argtypes, cc=cc)
    return ptx_figures(ptx, dtype, cc)


def ptx_figures(ptx, dtype, cc=CC):
    """figures() of a kernel already compiled to PTX (tools/ptx_check.py hands its PTX over)."""
    cubin, log = link(ptx, cc)
    fma = "FFMA" if np.dtype(dtype) == np.float32 else "DFMA"
    counts = hottest_loop(disassemble(cubin), fma)
    result = ptxas_figures(log)
    result["loop"] = None if counts is None else mix(counts, fma)
    return result


def within_budget(result):
    """The Hopper budget of a float32 kernel: [] when met, else what it misses."""
    misses = []
    if result["registers"] > MAX_REGISTERS:
        misses.append(f"{result['registers']} registers > {MAX_REGISTERS}")
    if result["spill_stores"] or result["spill_loads"]:
        misses.append(f"spills: {result['spill_stores']} B stored, {result['spill_loads']} B loaded")
    loop = result["loop"]
    if loop is None:
        misses.append("no loop with FFMA found in the SASS")
    elif loop["fma_share"] < MIN_FMA_SHARE:
        misses.append(f"FFMA {loop['fma_share']:.0%} of the hottest loop < {MIN_FMA_SHARE:.0%}")
    return misses


def summary(result):
    """One line: registers, spills, the hottest loop's FMA share (or the error)."""
    if "error" in result:
        return f"error: {result['error'][:100]}"
    loop = result["loop"]
    share = "no FMA loop" if loop is None else f"FMA {loop['fma_share']:.0%} of the hottest loop"
    return (f"{result['registers']} registers, spills {result['spill_stores']}/{result['spill_loads']} B, "
            f"{share}")


def run(dtypes=DTYPES):
    from numba.cuda.core import config as numba_config

    if numba_config.ENABLE_CUDASIM:
        raise SystemExit("sass_check needs the real CUDA target: run it with NUMBA_ENABLE_CUDASIM=0")
    results = []
    for dtype in dtypes:
        for name, fn, argtypes in gemm_cases(dtype):
            entry = {"kernel": name, "dtype": np.dtype(dtype).name, "cc": f"{CC[0]}.{CC[1]}"}
            try:
                entry.update(figures(fn, argtypes, dtype))
            except Exception as error:  # noqa: BLE001  (every failure is the report)
                entry["error"] = f"{type(error).__name__}: {error}"[:2000]
            results.append(entry)
    return results


def table(results):
    """A Markdown table of the results (docs/performance.md shows it)."""
    lines = ["| kernel | dtype | registers | spills (B) | hottest loop: FMA / instructions | share | "
             "shared loads | global loads | other |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['kernel']} | {r['dtype']} | error: {r['error'][:80]} ||||||")
            continue
        loop = r["loop"] or {}
        lds = ", ".join(f"{n} {op}" for op, n in sorted(loop.get("shared_loads", {}).items()))
        lines.append(
            f"| {r['kernel']} | {r['dtype']} | {r['registers']} | "
            f"{r['spill_stores']} / {r['spill_loads']} | "
            f"{loop.get('fma', 0)} / {loop.get('instructions', 0)} | "
            f"{loop.get('fma_share', 0):.0%} | {lds} | {loop.get('global_loads', 0)} | "
            f"{loop.get('other', 0)} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    results = run()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(table(results))
    bad = [r for r in results if "error" in r or (budgeted(r["kernel"], r["dtype"]) and within_budget(r))]
    for r in bad:
        print(f"FAIL {r['kernel']} {r['dtype']}: {r.get('error') or '; '.join(within_budget(r))}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
