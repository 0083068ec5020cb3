"""The GPU check's results as Markdown: its report's tables and README's GPU part.

    python -m bench.gpu_report [plots/bench/gpu]      print README's GPU part

Reads what tools/gpu_check.py leaves in plots/bench/gpu/: preflight.json (the device and the
phases' results), sgemm.json (bench/gpu_gemm.py's rows), train_step.json and gpu_loop.json
(pytest-benchmark runs). Standard library only: it also runs on the GPU machine, where matplotlib
may be missing. bench/report.py puts readme_part() into README-section.md (BENCH_GPU); until a GPU
run has left its files, that part says so.
"""

import json
import sys
from pathlib import Path

GPU_DIR = Path(__file__).resolve().parent.parent / "plots" / "bench" / "gpu"
NO_GPU_RUN = (
    "No GPU run yet: the machines this project runs on so far have no GPU, so the `cuda` and "
    "`torch-cuda` rows are skipped here (numba's simulator runs the kernels.cuda tests, and its "
    "timings are never reported). On a GPU machine `python tools/gpu_check.py` (or "
    "`invoke gpu-check`) runs the CUDA tests and the GPU benchmarks in under 6 minutes and "
    "writes its report and this part to [`plots/bench/gpu/`](plots/bench/gpu/)."
)


def format_time(seconds):
    """A duration in s, ms, us or ns, 3 significant digits (both reports' tables)."""
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def _load(path):
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else None


def sgemm_table(rows):
    """bench/gpu_gemm.py's rows: one line per n and kernel."""
    lines = ["| n | kernel | time | GFLOP/s | % of cuBLAS (TF32 off) | registers | setting |",
             "|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["n"], r["kernel"])):
        if "gflops" not in r:
            lines.append(f"| {r['n']} | {r['kernel']} | {r.get('error', 'not timed')} |||||")
            continue
        share = r.get("of_cublas")
        lines.append(
            f"| {r['n']} | {r['kernel']} | {format_time(r['seconds'])} | {r['gflops']:,.0f} | "
            f"{'' if share is None else f'{100 * share:.0f}%'} | {r.get('registers', '')} | "
            f"{r.get('register_setting', '')} |")
    return "\n".join(lines)


def benchmark_rows(data):
    """The workload rows of a pytest-benchmark JSON: path, workload, times, GFLOP/s, samples/s."""
    rows = []
    for b in (data or {}).get("benchmarks", []):
        info = b.get("extra_info", {})
        rows.append({"path": info.get("path", "?"), "workload": info.get("workload", b["name"]),
                     "min_s": b["stats"]["min"], "median_s": b["stats"]["median"],
                     "rounds": b["stats"]["rounds"], "gflops": info.get("gflops"),
                     "samples_per_second": info.get("samples_per_second"),
                     "batch_size": info.get("batch_size")})
    return rows


def benchmark_table(data):
    lines = ["| workload | path | time (min) | median | rounds | GFLOP/s | samples/s |",
             "|---|---|---|---|---|---|---|"]
    for r in benchmark_rows(data):
        gflops, sps = r["gflops"], r["samples_per_second"]
        lines.append(f"| {r['workload']} | {r['path']} | {format_time(r['min_s'])} | "
                     f"{format_time(r['median_s'])} | "
                     f"{r['rounds']} | {'' if gflops is None else f'{gflops:,.1f}'} | "
                     f"{'' if sps is None else f'{sps:,.0f}'} |")
    return "\n".join(lines)


def _versus(rows, ours, theirs, value):
    """{workload: (ours, theirs)} of one value for two paths."""
    table = {}
    for r in rows:
        if r["path"] in (ours, theirs) and r.get(value) is not None:
            table.setdefault(r["workload"], {})[r["path"]] = r[value]
    return {w: (v.get(ours), v.get(theirs)) for w, v in table.items()}


def readme_part(gpu_dir=GPU_DIR):
    """README's GPU part: the headline tables of the latest GPU check, or NO_GPU_RUN."""
    gpu_dir = Path(gpu_dir)
    preflight = _load(gpu_dir / "preflight.json")
    sgemm = _load(gpu_dir / "sgemm.json") or []
    steps = benchmark_rows(_load(gpu_dir / "train_step.json"))
    loop = benchmark_rows(_load(gpu_dir / "gpu_loop.json"))
    if preflight is None or not (sgemm or steps or loop):
        return NO_GPU_RUN
    device = preflight.get("device", {})
    parts = [f"**On a GPU**: {device.get('name', '?')} ({device.get('sms', '?')} SMs, compute "
             f"capability {device.get('compute_capability', '?')}), {preflight.get('driver', '?')}; "
             f"tools/gpu_check.py, report [`plots/bench/gpu/gpu_check.md`](plots/bench/gpu/gpu_check.md)."]
    timed = [r for r in sgemm if "gflops" in r]
    if timed:
        kernels = [k for k in ("cuda", "cuda-tiled", "cuda-naive", "cublas", "cublas-tf32")
                   if any(r["kernel"] == k for r in timed)]
        parts += ["", "float32 GEMM, n x n x n, GFLOP/s (CUDA events; % of cuBLAS with TF32 off):", "",
                  "| n | " + " | ".join(kernels) + " |", "|---|" + "---|" * len(kernels)]
        for n in sorted({r["n"] for r in timed}):
            cells = []
            for k in kernels:
                r = next((r for r in timed if r["n"] == n and r["kernel"] == k), None)
                share = None if r is None else r.get("of_cublas")
                cells.append("" if r is None else f"{r['gflops']:,.0f}"
                             + ("" if share is None or k == "cublas" else f" ({100 * share:.0f}%)"))
            parts.append(f"| {n} | " + " | ".join(cells) + " |")
    pairs = _versus(steps, "cuda", "torch-cuda", "min_s")
    if pairs:
        parts += ["", "One train_step, float32:", "",
                  "| network | kernels.cuda | torch CUDA | torch time / kernels.cuda time |",
                  "|---|---|---|---|"]
        for workload, (ours, theirs) in pairs.items():
            ratio = "" if ours is None or theirs is None else f"{theirs / ours:.2f}x"
            parts.append(f"| {workload} | {'' if ours is None else format_time(ours)} | "
                         f"{'' if theirs is None else format_time(theirs)} | {ratio} |")
    pairs = _versus(loop, "cuda-device-loop", "torch-cuda-loop", "samples_per_second")
    if pairs:
        parts += ["", "One epoch of mini-batch SGD, samples/s:", "",
                  "| workload | kernels.cuda device loop | torch CUDA loop |", "|---|---|---|"]
        for workload, (ours, theirs) in pairs.items():
            parts.append(f"| {workload} | {'' if ours is None else f'{ours:,.0f}'} | "
                         f"{'' if theirs is None else f'{theirs:,.0f}'} |")
    return "\n".join(parts)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    print(readme_part(argv[0] if argv else GPU_DIR))


if __name__ == "__main__":
    main()
