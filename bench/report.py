"""Render a saved pytest-benchmark run into plots/bench/: a markdown table and three PNG plots.

    python -m bench.report [RUN.json ...] [--out FOLDER]

RUN.json defaults to the newest run under .benchmarks/ (pytest-benchmark's storage, where
`invoke bench` autosaves); given several runs (`python -m bench.runs` makes them), the last is
rendered and the spread of all is added. Everything comes from the JSON: timings from `stats`,
the path, workload, FLOPs, GFLOP/s and fraction of peak from each benchmark's `extra_info`, the
machine (CPU model, cores, threads, GPU, the FMA peaks, the BLAS baselines and the kernel
OpenBLAS ran) from `machine_info["bench"]` (bench/fixtures.py writes them). Written:

    results.md                 one table per workload group, the headline ratios, the machine
    README-section.md          README's Performance section: README-section.template.md with
                               this run's machine, headlines and train_step table filled in, and
                               the GPU part from the latest GPU check (bench/gpu_report.py)
    gflops_vs_size.png         square float32 matrix products: GFLOP/s against size, per path
    train_step_speedup.png     one train_step of each network: speed-up over the NumPy reference
    minibatch_throughput.png   one epoch of mini-batch SGD: samples/second against batch size
"""

import argparse
import json
from pathlib import Path

from bench import baseline, gpu_report
from bench.gpu_report import format_time
from plots.style import PATH_COLORS, new_figure, save_figure

ROOT = Path(__file__).resolve().parent.parent
STORAGE = ROOT / ".benchmarks"
OUT_DIR = ROOT / "plots" / "bench"
TEMPLATE = OUT_DIR / "README-section.template.md"

PATH_ORDER = ["reference", "reference-unchecked", "cpu", "cpu-ikj", "cpu-naive", "cuda", "cuda-tiled",
              "cuda-naive",
              "torch-cpu", "torch-cuda", "torch-cuda-tf32"]
PATH_LABELS = {
    "reference": "reference (NumPy; matmul: OpenBLAS A @ B)",
    "reference-unchecked": "reference, checks off (its unchecked cores)",
    "cpu": "kernels.cpu (numba)",
    "cpu-ikj": "kernels.cpu matmul, ikj rung",
    "cpu-naive": "kernels.cpu matmul, naive rung",
    "cuda": "kernels.cuda (numba.cuda)",
    "cuda-tiled": "kernels.cuda GEMM, tiled rung",
    "cuda-naive": "kernels.cuda GEMM, naive rung",
    "torch-cpu": "torch eager, CPU",
    "torch-cuda": "torch eager, CUDA (TF32 off)",
    "torch-cuda-tf32": "torch, CUDA, TF32 on",
}
COLORS = {**PATH_COLORS, "reference-unchecked": "lightsteelblue",
          "cpu-ikj": "tab:brown", "cpu-naive": "tab:gray", "cuda-tiled": "tab:olive",
          "cuda-naive": "tab:cyan", "torch-cpu": "tab:red", "torch-cuda": "tab:purple",
          "torch-cuda-tf32": "tab:pink"}
GROUP_SQUARE = "matmul: square float32"
GROUP_SQUARE64 = "matmul: square float64"
GROUP_LAYERS = "layer products float32"
GROUP_SHAPES = "matmul: network shapes float32"
GROUP_STEP = "train_step float32"
GROUP_EPOCH = "minibatch epoch float32"
GROUP_ORDER = [GROUP_SQUARE, GROUP_SQUARE64, GROUP_SHAPES, GROUP_LAYERS, GROUP_STEP, GROUP_EPOCH]
BLAS_PATHS = ("reference", "torch-cpu")  # the libraries' rows timed in the benchmark's own process
GOAL_BLAS, GOAL_PEAK = 0.90, 0.85  # issue 16: of the best BLAS; of the FMA peak from n = 1024


def latest_run(storage=STORAGE):
    """The newest saved run: pytest-benchmark names them NNNN_*.json under a per-machine folder."""
    runs = sorted(Path(storage).glob("*/[0-9][0-9][0-9][0-9]_*.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise FileNotFoundError(f"no saved benchmark run under {storage}; run `invoke bench` first")
    return runs[-1]


def load(path):
    """(machine, rows, others, run): rows are the workload benchmarks (they carry GFLOP/s), with
    the fields the tables and plots need; others are any other benchmark in the run (such as
    kernels.cpu's JIT compile times), listed with their time and extra_info as saved."""
    data = json.loads(Path(path).read_text())
    machine = data["machine_info"].get("bench", {})
    rows, others = [], []
    for b in data["benchmarks"]:
        info = b.get("extra_info", {})
        row = {**info, "group": b.get("group") or "", "name": b["name"], "min_s": b["stats"]["min"],
               "median_s": b["stats"]["median"], "rounds": b["stats"]["rounds"]}
        (rows if "gflops" in info and "workload" in info else others).append(row)
    run = {"datetime": data.get("datetime", "?"), "commit": data.get("commit_info", {}).get("id", "?"),
           "dirty": data.get("commit_info", {}).get("dirty"), "file": Path(path).name}
    return machine, rows, others, run


def cpu_peak_text(machine):
    """The CPU's ceiling as the header states it: the FMA peaks (or, for a run saved before they
    were measured, the NumPy GEMM it then used)."""
    peaks = machine.get("cpu_peaks")
    if not peaks:
        return f"CPU {_num(machine.get('cpu_peak_gflops'))} GFLOP/s (NumPy float32 GEMM 4096, OpenBLAS)"
    parts = []
    for dtype, by_threads in peaks["gflops"].items():
        cells = [f"{g:,.0f} on {'one core' if t == '1' else f'{t} threads'}" for t, g in by_threads.items()]
        parts.append(f"{dtype} " + ", ".join(cells))
    return f"CPU FMA peak ({peaks['kernel']}), GFLOP/s: " + "; ".join(parts)


def machine_line(machine):
    threads = machine.get("thread_counts", {})
    counts = ", ".join(f"{k} {v}" for k, v in threads.items())
    gpu_peak = machine.get("gpu_peak_gflops")
    gpu = ("none measured" if gpu_peak is None
           else f"{gpu_peak:,.1f} GFLOP/s (cuBLAS float32 GEMM 4096 through torch, TF32 off)")
    return (
        f"CPU: {machine.get('cpu_model', '?')}, {machine.get('cpu_cores', '?')} cores, "
        f"{machine.get('threads', '?')} thread{'' if machine.get('threads') == 1 else 's'} for "
        f"every CPU path ({counts}); "
        f"GPU: {machine.get('gpu', '?')}. "
        + (f"kernels.cpu engine: {machine['cpu_engine']}. " if machine.get("cpu_engine") else "")
        + f"Measured peaks: {cpu_peak_text(machine)}; GPU {gpu}"
        + (f". Baselines: {baseline.describe(machine['baseline'])}" if machine.get("baseline") else "")
    )


def best_blas(machine, rows):
    """{(group, workload): (GFLOP/s, which)}: the fastest BLAS measured for each workload. Where
    the engine's row carries the baselines timed between its rounds (`baseline_interleaved`,
    bench/fixtures.py), the fastest of those, and nothing else: a library timed in other
    seconds would be a sample the engine did not get. Otherwise (runs saved before), the
    fastest of the baseline's libraries (own process, no pin) and the BLAS rows of the run."""
    best = {}
    interleaved = {(r["group"], r["workload"]): r["baseline_interleaved"] for r in rows
                   if r["path"] == "cpu" and r.get("baseline_interleaved")}
    for key, libs in interleaved.items():
        lib = max(libs, key=libs.get)
        best[key] = (libs[lib], f"{lib}, between the engine's rounds")

    def offer(key, gflops, which):
        if gflops and key not in interleaved and (key not in best or gflops > best[key][0]):
            best[key] = (gflops, which)

    results = machine.get("baseline", {}).get("results", {})
    for group, workloads in results.items():
        for workload, libs in workloads.items():
            for lib, gflops in libs.items():
                offer((group, workload), gflops, lib)
    for r in rows:
        if r["path"] in BLAS_PATHS and r["group"] in (GROUP_SQUARE, GROUP_SQUARE64, GROUP_LAYERS):
            offer((r["group"], r["workload"]), r["gflops"],
                  "openblas, this process" if r["path"] == "reference" else "torch, this process")
    return best


def _num(x, digits=1):
    return "n/a" if x is None else f"{x:,.{digits}f}"


def _ordered(rows):
    return sorted(rows, key=lambda r: (PATH_ORDER.index(r["path"]) if r["path"] in PATH_ORDER
                                       else len(PATH_ORDER)))


def _by_workload(rows):
    workloads = {}
    for r in rows:
        workloads.setdefault(r["workload"], []).append(r)
    return workloads


def speedups(rows):
    """{workload: {path: reference time / path time}} for the workloads the reference ran."""
    out = {}
    for workload, group in _by_workload(rows).items():
        ref = next((r for r in group if r["path"] == "reference"), None)
        if ref is not None:
            out[workload] = {r["path"]: ref["min_s"] / r["min_s"] for r in group}
    return out


def table(group, rows, best=None):
    epoch = group == GROUP_EPOCH
    ups = speedups(rows)
    head = ["workload", "path", "time (min)", "rounds", "GFLOP/s", "% of peak", "vs reference"]
    if epoch:
        head.insert(5, "samples/s")
    best = {k: v for k, v in (best or {}).items() if k[0] == group}
    if best:
        head.append("vs best BLAS")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for workload, group_rows in _by_workload(rows).items():
        for r in _ordered(group_rows):
            frac = r.get("fraction_of_peak")
            up = ups.get(workload, {}).get(r["path"])
            cells = [workload, r["path"], format_time(r["min_s"]), str(r["rounds"]), _num(r["gflops"], 2),
                     "n/a" if frac is None else f"{100 * frac:.3g}%",
                     "" if up is None else f"{up:.2f}x"]
            if epoch:
                cells.insert(5, f"{r['samples_per_second']:,.0f}")
            if best:
                b = best.get((group, workload))
                cells.append("" if b is None else f"{r['gflops'] / b[0]:.2f}")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def headlines(rows):
    """A few sentences: the fastest GEMM per path, and each path's speed-up on the networks."""
    lines = []
    square = [r for r in rows if r["group"] == GROUP_SQUARE]
    for path in PATH_ORDER:
        mine = [r for r in square if r["path"] == path]
        if mine:
            best = max(mine, key=lambda r: r["gflops"])
            frac = best.get("fraction_of_peak")
            lines.append(f"- {PATH_LABELS[path]}: best square GEMM {best['gflops']:.1f} GFLOP/s at "
                         f"{best['size']}" + ("" if frac is None else f" ({100 * frac:.0f}% of peak)"))
    steps = [r for r in rows if r["group"] == GROUP_STEP]
    for path in PATH_ORDER:
        if path == "reference":
            continue
        ratios = [f"{w} {ups[path]:.2f}x" for w, ups in speedups(steps).items() if path in ups]
        if ratios:
            lines.append(f"- train_step, {PATH_LABELS[path]} over the reference: " + ", ".join(ratios))
    epoch = [r for r in rows if r["group"] == GROUP_EPOCH]
    for path in PATH_ORDER:
        mine = sorted((r for r in epoch if r["path"] == path), key=lambda r: r["batch_size"])
        if len(mine) > 1:
            lines.append(f"- one epoch, {PATH_LABELS[path]}: {mine[0]['samples_per_second']:,.0f} "
                         f"samples/s at batch {mine[0]['batch_size']}, "
                         f"{mine[-1]['samples_per_second']:,.0f} at the full batch "
                         f"({mine[-1]['samples_per_second'] / mine[0]['samples_per_second']:.0f}x)")
    return "\n".join(lines)


def _size(r):
    return r.get("size") or r.get("M")


def _peak(machine, group):
    """The header's FMA peak for a group's dtype (its name's last word) on the run's threads."""
    peaks = (machine.get("cpu_peaks") or {}).get("gflops", {})
    return peaks.get(group.rsplit(" ", 1)[-1], {}).get(str(machine.get("threads", 1)))


def engine_against_best(machine, rows):
    """kernels.cpu against the best BLAS and the FMA peak: per size of the square products,
    and the layer products' ratios (issue 16's goals)."""
    best = best_blas(machine, rows)
    lines = []
    for group in (GROUP_SQUARE, GROUP_SQUARE64):
        mine = sorted((r for r in rows if r["group"] == group and r["path"] == "cpu"), key=_size)
        if not mine:
            continue
        peak = _peak(machine, group)
        lines += ["", f"{group}, kernels.cpu (goals: >= {GOAL_BLAS:.2f} of the best BLAS; >= "
                  f"{100 * GOAL_PEAK:.0f}% of the FMA peak from n = 1024):", "",
                  "| n | kernels.cpu GFLOP/s | best BLAS GFLOP/s (which) | vs best BLAS | % of FMA peak |",
                  "|---|---|---|---|---|"]
        for r in mine:
            b = best.get((group, r["workload"]))
            lines.append(f"| {_size(r)} | {r['gflops']:,.1f} | "
                         + ("n/a | " if b is None else f"{b[0]:,.1f} ({b[1]}) | {r['gflops'] / b[0]:.2f} | ")
                         + ("n/a |" if not peak else f"{100 * r['gflops'] / peak:.0f}% |"))
    layers = [r for r in rows if r["group"] == GROUP_LAYERS and r["path"] == "cpu"]
    ratios = [(r["workload"], r["gflops"] / best[(GROUP_LAYERS, r["workload"])][0]) for r in layers
              if (GROUP_LAYERS, r["workload"]) in best]
    if ratios:
        short = [f"{w} {x:.2f}" for w, x in ratios if x < GOAL_BLAS]
        lines += ["", f"Layer products: {len(ratios) - len(short)} of {len(ratios)} at >= "
                  f"{GOAL_BLAS:.2f} of the best BLAS" + (f"; below: {'; '.join(short)}." if short else ".")]
    return "\n".join(lines).strip()


def spread(runs):
    """The spread of kernels.cpu over several runs (each a load() result): per workload of the
    square and layer products, the range of GFLOP/s, of the ratio to the best BLAS and of the
    fraction of the FMA peak (each run's against its own header's)."""
    by_workload = {}
    for machine, rows, _, _ in runs:
        best = best_blas(machine, rows)
        for r in rows:
            if r["path"] == "cpu" and r["group"] in (GROUP_SQUARE, GROUP_SQUARE64, GROUP_LAYERS):
                b = best.get((r["group"], r["workload"]))
                peak = _peak(machine, r["group"])
                by_workload.setdefault((r["group"], r["workload"]), []).append(
                    (r["gflops"], None if b is None else r["gflops"] / b[0],
                     r["gflops"] / peak if peak else None))
    lines = [f"| group | workload | kernels.cpu GFLOP/s, {len(runs)} runs | vs best BLAS | % of FMA peak |",
             "|---|---|---|---|---|"]
    for (group, workload), values in by_workload.items():
        g = [v for v, _, _ in values]
        x = [v for _, v, _ in values if v is not None]
        f = [v for _, _, v in values if v is not None]
        lines.append(f"| {group} | {workload} | {min(g):,.1f} - {max(g):,.1f} | "
                     + (f"{min(x):.2f} - {max(x):.2f} | " if x else "n/a | ")
                     + (f"{100 * min(f):.0f}% - {100 * max(f):.0f}% |" if f else "n/a |"))
    return "\n".join(lines)


def other_table(others):
    """Benchmarks that are not workloads (no FLOP count): time and whatever they saved."""
    skip = ("group", "name", "min_s", "median_s", "rounds")
    lines = ["| benchmark | time (min) | rounds | extra_info |", "|---|---|---|---|"]
    for r in others:
        extra = [f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                 for k, v in r.items() if k not in skip]
        lines.append(f"| {r['name']} | {format_time(r['min_s'])} | {r['rounds']} | {', '.join(extra)} |")
    return "\n".join(lines)


def markdown(machine, rows, run, others=(), runs=()):
    parts = [
        "# Benchmark results",
        "",
        f"Machine: {machine_line(machine)}.",
        "",
        f"Run {run['file']} ({run['datetime']}, commit {str(run['commit'])[:10]}"
        f"{' with uncommitted changes' if run['dirty'] else ''}). Times are a call's time in the "
        "fastest of `rounds` rounds after warm-up (a round of several calls where a call is "
        f"under {baseline.ROUND_SECONDS * 1e6:.0f} us); GFLOP/s use that time and the FLOP counts of "
        "bench/workloads.py; % of peak is against the device's measured peak above (for the CPU "
        "the FMA peak of the workload's dtype on the run's threads); `vs reference` is the NumPy "
        "reference's time over the path's time (higher is faster); `vs best BLAS` is the path's "
        "GFLOP/s over the fastest BLAS measured for the workload (the baselines above; for "
        "kernels.cpu's products, the fastest of those timed in bursts between its own rounds, in "
        "the same seconds).",
        "",
        "## Headlines",
        "",
        headlines(rows) or "(no results)",
    ]
    against = engine_against_best(machine, rows)
    if against:
        parts += ["", "## kernels.cpu against the machine's best", "", against]
    if len(runs) > 1:
        parts += ["", f"## Spread over {len(runs)} runs", "",
                  "Runs: " + ", ".join(r[3]["file"] for r in runs) + ".", "", spread(runs)]
    best = best_blas(machine, rows)
    for group in GROUP_ORDER + sorted({r["group"] for r in rows} - set(GROUP_ORDER)):
        group_rows = [r for r in rows if r["group"] == group]
        if group_rows:
            parts += ["", f"## {group}", "", table(group, group_rows, best)]
    if others:
        parts += ["", "## Other benchmarks", "", other_table(others)]
    return "\n".join(parts) + "\n"


def readme_section(machine, rows, run, template, gpu_dir=OUT_DIR / "gpu"):
    """The template with BENCH_RUN, BENCH_MACHINE, BENCH_HEADLINES, BENCH_TRAIN_STEP_TABLE filled,
    and BENCH_GPU with the GPU check's part (gpu_dir: plots/bench/gpu/)."""
    steps = [r for r in rows if r["group"] == GROUP_STEP]
    fills = {
        "BENCH_RUN": f"{run['datetime'][:16].replace('T', ' ')} UTC, commit {str(run['commit'])[:10]}",
        "BENCH_MACHINE": machine_line(machine),
        "BENCH_HEADLINES": headlines(rows) or "(no results)",
        "BENCH_AGAINST_BEST": engine_against_best(machine, rows) or "(no matrix products in this run)",
        "BENCH_TRAIN_STEP_TABLE": table(GROUP_STEP, steps) if steps else "(no train_step results)",
        "BENCH_GPU": gpu_report.readme_part(gpu_dir),
    }
    for key, value in fills.items():
        template = template.replace(key, value)
    return template


def _by_path(rows):
    out = {}
    for r in _ordered(rows):
        out.setdefault(r["path"], []).append(r)
    return out


def plot_gflops_vs_size(rows, machine):
    fig, (ax,) = new_figure(title="float32 GEMM: GFLOP/s against size")
    for path, mine in _by_path([r for r in rows if r["group"] == GROUP_SQUARE]).items():
        mine.sort(key=lambda r: r["size"])
        ax.plot([r["size"] for r in mine], [r["gflops"] for r in mine], "o-",
                color=COLORS.get(path), label=PATH_LABELS.get(path, path))
    cpu_label = "CPU FMA peak, float32" if machine.get("cpu_peaks") else "CPU peak (NumPy 4096)"
    peaks = (("cpu_peak_gflops", cpu_label), ("gpu_peak_gflops", "GPU peak (cuBLAS 4096)"))
    for key, label in peaks:
        if machine.get(key):
            ax.axhline(machine[key], color="gray", ls="--" if key.startswith("cpu") else ":", lw=1,
                       label=f"{label} {machine[key]:,.0f}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("n (C = A B, all n x n)")
    ax.set_ylabel("GFLOP/s (fastest round)")
    ax.legend(fontsize=7)
    _caption(fig, machine)
    return fig


def plot_speedup(rows, machine):
    steps = [r for r in rows if r["group"] == GROUP_STEP]
    ups = speedups(steps)
    workloads = list(ups)
    paths = [p for p in PATH_ORDER if any(p in u for u in ups.values())]
    fig, (ax,) = new_figure(title="one train_step: speed-up over the NumPy reference")
    fig.set_size_inches(max(6.0, 1.6 * len(workloads)), 4.2)
    width = 0.8 / max(1, len(paths))
    for i, path in enumerate(paths):
        xs = [j + (i - (len(paths) - 1) / 2) * width for j in range(len(workloads))]
        bars = ax.bar(xs, [ups[w].get(path, float("nan")) for w in workloads], width,
                      color=COLORS.get(path), label=PATH_LABELS.get(path, path))
        ax.bar_label(bars, fmt="%.2g", fontsize=6)
    ax.axhline(1.0, color="gray", lw=1)
    ax.set_xticks(range(len(workloads)), [w.replace(" m=", "\nm=") for w in workloads], fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("reference time / path time")
    ax.legend(fontsize=7)
    _caption(fig, machine)
    return fig


def plot_throughput(rows, machine):
    fig, (ax,) = new_figure(title="one epoch of mini-batch SGD: samples/second")
    epoch = [r for r in rows if r["group"] == GROUP_EPOCH]
    for path, mine in _by_path(epoch).items():
        mine.sort(key=lambda r: r["batch_size"])
        ax.plot([r["batch_size"] for r in mine], [r["samples_per_second"] for r in mine], "o-",
                color=COLORS.get(path), label=PATH_LABELS.get(path, path))
    ax.set_xscale("log")
    ax.set_yscale("log")
    if epoch:
        sizes = sorted({r["batch_size"] for r in epoch})
        ax.set_xticks(sizes, [str(b) for b in sizes])
        ax.set_xlabel(f"batch size (the largest is the full batch, m = {epoch[0]['m']}; "
                      f"network {epoch[0]['layer_dims']})")
    ax.set_ylabel("samples / second (fastest epoch)")
    ax.legend(fontsize=7)
    _caption(fig, machine)
    return fig


def _caption(fig, machine):
    fig.text(0.0, -0.02, machine_line(machine), fontsize=6, wrap=True, va="top")


PLOTS = (("gflops_vs_size.png", plot_gflops_vs_size, GROUP_SQUARE),
         ("train_step_speedup.png", plot_speedup, GROUP_STEP),
         ("minibatch_throughput.png", plot_throughput, GROUP_EPOCH))


def is_full_run(machine, rows):
    """Whether the run was the whole benchmark suite, not a subset such as `invoke bench -k ...`
    (bench/fixtures.py records the selection; a run saved before that: every plotted group)."""
    if "selection" in machine:
        return not machine["selection"]
    return {r["group"] for r in rows} >= {group for _, _, group in PLOTS}


def render(json_path=None, out_dir=None, spread_over=()):
    """Write results.md and the plots for one saved run; returns the written paths.

    A full run on all cores goes to plots/bench/ (what README shows), with README's Performance
    section; a full run on fewer threads (`invoke bench --threads 1`) to plots/bench/threads-N/,
    beside it; a subset to .benchmarks/subset/, with only the plots of the groups it ran, so it
    never overwrites a full report with less. out_dir overrides the folder. spread_over: other
    runs of the same benchmarks, whose spread with this one is added to results.md."""
    json_path = Path(json_path) if json_path else latest_run()
    machine, rows, others, run = load(json_path)
    runs = [load(p) for p in spread_over] + [(machine, rows, others, run)] if spread_over else []
    full = is_full_run(machine, rows)
    if out_dir is None:
        threads, cores = machine.get("threads"), machine.get("cpu_cores")
        if not full:
            out_dir = STORAGE / "subset"
        elif threads and cores and threads < cores:
            out_dir = OUT_DIR / f"threads-{threads}"
        else:
            out_dir = OUT_DIR
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "results.md"]
    written[0].write_text(markdown(machine, rows, run, others, runs))
    if full:
        template = out_dir / "README-section.template.md"
        if not template.exists():
            template = TEMPLATE
        written.append(out_dir / "README-section.md")
        written[-1].write_text(readme_section(machine, rows, run, template.read_text(),
                                              out_dir / "gpu"))
    groups = {r["group"] for r in rows}
    for name, plot, group in PLOTS:
        if group in groups:
            written.append(save_figure(plot(rows, machine), out_dir / name))
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="*", help="saved runs (default: the newest under .benchmarks/); "
                                                "the last is rendered, with the spread of all")
    parser.add_argument("--out", help="output folder (default: plots/bench for a full run, "
                                      ".benchmarks/subset for a subset)")
    args = parser.parse_args(argv)
    *others, last = args.json or [None]
    for path in render(last, args.out, others):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
