"""bench/report.py renders a saved run: a hand-made pytest-benchmark JSON in, the table's
numbers (worked out by hand below) and the three PNGs out."""

import json

from bench import report as bench_report

MACHINE = {"cpu_model": "Test CPU", "cpu_cores": 2, "gpu": "no GPU", "threads": 2,
           "thread_counts": {"numpy_blas": 2, "numba": 2, "torch": 2},
           "cpu_peak_gflops": 100.0, "gpu_peak_gflops": None}


def bench(name, group, min_s, **extra):
    return {"name": name, "group": group, "extra_info": extra,
            "stats": {"min": min_s, "median": min_s, "rounds": 5}}


def saved_run(tmp_path):
    # one train_step of 2e6 FLOPs: 2 ms on the reference (1 GFLOP/s), 0.5 ms on cpu (4 GFLOP/s)
    step = dict(workload="net m=8", flops=2_000_000, layer_dims=[2, 3, 1], m=8, device="cpu",
                peak_gflops=100.0)
    benchmarks = [
        bench("sq-ref", "matmul: square float32", 0.001, path="reference", workload="square 256",
              size=256, flops=1e8, gflops=100.0, fraction_of_peak=1.0, device="cpu"),
        bench("sq-cpu", "matmul: square float32", 0.004, path="cpu", workload="square 256",
              size=256, flops=1e8, gflops=25.0, fraction_of_peak=0.25, device="cpu"),
        bench("step-ref", "train_step float32", 0.002, path="reference", gflops=1.0,
              fraction_of_peak=0.01, **step),
        bench("step-cpu", "train_step float32", 0.0005, path="cpu", gflops=4.0,
              fraction_of_peak=0.04, **step),
        bench("epoch-cpu", "minibatch epoch float32", 0.01, path="cpu", workload="net batch 4",
              flops=1e6, gflops=0.1, fraction_of_peak=0.001, samples=8, samples_per_second=800.0,
              batch_size=4, m=8, layer_dims=[2, 3, 1], device="cpu"),
        bench("test_compile_warm_cache", "", 0.25, path="cpu", cache="warm"),
    ]
    path = tmp_path / "0001_run.json"
    path.write_text(json.dumps({"machine_info": {"bench": MACHINE}, "benchmarks": benchmarks,
                                "commit_info": {"id": "abc", "dirty": False},
                                "datetime": "2026-01-01T00:00:00"}))
    return path


def test_report_table_and_plots(tmp_path):
    written = bench_report.render(saved_run(tmp_path), tmp_path / "out")
    assert sorted(p.name for p in written) == ["README-section.md", "gflops_vs_size.png",
                                               "minibatch_throughput.png", "results.md",
                                               "train_step_speedup.png"]
    assert all(p.stat().st_size > 0 for p in written)
    md = (tmp_path / "out" / "results.md").read_text()
    assert "Test CPU, 2 cores, 2 threads" in md and "GPU: no GPU" in md
    assert "| net m=8 | cpu | 500 us | 5 | 4.00 | 4% | 4.00x |" in md  # 2 ms / 0.5 ms
    assert "| square 256 | cpu | 4 ms | 5 | 25.00 | 25% | 0.25x |" in md
    assert "| net batch 4 | cpu | 10 ms | 5 | 0.10 | 800 | 0.1% |  |" in md
    assert "| test_compile_warm_cache | 250 ms | 5 | path cpu, cache warm |" in md
    section = (tmp_path / "out" / "README-section.md").read_text()
    assert "| net m=8 | cpu | 500 us | 5 | 4.00 | 4% | 4.00x |" in section
    assert "Test CPU" in section and "BENCH_" not in section  # every placeholder filled


def test_a_subset_run_never_overwrites_the_full_report(tmp_path, monkeypatch):
    """`invoke bench -k train_step`: only the groups it ran, into .benchmarks/subset/."""
    run = json.loads(saved_run(tmp_path).read_text())
    run["machine_info"]["bench"]["selection"] = "train_step"
    run["benchmarks"] = [b for b in run["benchmarks"] if b["name"].startswith("step-")]
    subset = tmp_path / "0002_subset.json"
    subset.write_text(json.dumps(run))
    monkeypatch.setattr(bench_report, "STORAGE", tmp_path / "storage")
    monkeypatch.setattr(bench_report, "OUT_DIR", tmp_path / "full")
    written = bench_report.render(subset)
    assert {p.parent for p in written} == {tmp_path / "storage" / "subset"}
    assert sorted(p.name for p in written) == ["results.md", "train_step_speedup.png"]
    assert not (tmp_path / "full").exists()


def test_a_full_run_goes_where_readme_looks(tmp_path, monkeypatch):
    run = json.loads(saved_run(tmp_path).read_text())
    run["machine_info"]["bench"]["selection"] = ""
    full = tmp_path / "0003_full.json"
    full.write_text(json.dumps(run))
    monkeypatch.setattr(bench_report, "OUT_DIR", tmp_path / "full")
    written = bench_report.render(full)
    assert {p.parent for p in written} == {tmp_path / "full"}
    assert "README-section.md" in {p.name for p in written}


def test_a_one_thread_run_goes_beside_the_full_report(tmp_path, monkeypatch):
    run = json.loads(saved_run(tmp_path).read_text())
    run["machine_info"]["bench"].update(selection="", threads=1)  # MACHINE has 2 cores
    one = tmp_path / "0004_one_thread.json"
    one.write_text(json.dumps(run))
    monkeypatch.setattr(bench_report, "OUT_DIR", tmp_path / "full")
    written = bench_report.render(one)
    assert {p.parent for p in written} == {tmp_path / "full" / "threads-1"}
    assert "1 thread for every CPU path" in (tmp_path / "full" / "threads-1" / "results.md").read_text()


# ---------------------------------------------------------------------------------------------
# Issue 16: the engine against the best BLAS (the baselines of bench/baseline.py) and the FMA peak.

BASELINE = {"threads": 2, "pins": {"OPENBLAS_CORETYPE": "Haswell"},
            "openblas": {"kernel": "SkylakeX", "version": "0.3.31"},
            "openblas_here": {"kernel": "Haswell"},
            "torch": {"version": "2.13.0", "blas": "mkl", "cpu_capability": "AVX512"},
            "results": {"matmul: square float32": {"square 256": {"openblas": 50.0, "torch": 40.0}},
                        "layer products float32": {"W A net l=1": {"openblas": 10.0, "torch": 20.0}}}}
PEAKS = {"kernel": "14 x 2 FMAs", "gflops": {"float32": {"1": 60.0, "2": 120.0},
                                             "float64": {"1": 30.0, "2": 60.0}}}


def baseline_run(tmp_path, name="0005_best.json", engine_gflops=(25.0, 18.0)):
    run = json.loads(saved_run(tmp_path).read_text())
    run["machine_info"]["bench"].update(baseline=BASELINE, cpu_peaks=PEAKS)
    sq, layer = engine_gflops
    run["benchmarks"] += [
        bench("sq-torch", "matmul: square float32", 0.002, path="torch-cpu", workload="square 256",
              size=256, flops=1e8, gflops=50.0, device="cpu"),  # 1e8 / 0.002 / 1e9
        bench("wa-cpu", "layer products float32", 1e-4, path="cpu", workload="W A net l=1",
              flops=layer * 1e5, gflops=layer, device="cpu", M=4),
    ]
    run["benchmarks"][1]["extra_info"]["gflops"] = sq  # the engine's square 256
    path = tmp_path / name
    path.write_text(json.dumps(run))
    return path


def test_best_blas_is_the_fastest_library_per_workload(tmp_path):
    machine, rows, _, _ = bench_report.load(baseline_run(tmp_path))
    best = bench_report.best_blas(machine, rows)
    # square 256: reference 100 (this process) beats the baseline's 50 and torch's 50
    assert best[("matmul: square float32", "square 256")] == (100.0, "openblas, this process")
    assert best[("layer products float32", "W A net l=1")] == (20.0, "torch")


def test_best_blas_between_the_engines_rounds_is_the_only_one_for_its_workload(tmp_path):
    run = json.loads(baseline_run(tmp_path).read_text())
    engine = next(b for b in run["benchmarks"] if b["name"] == "wa-cpu")
    engine["extra_info"]["baseline_interleaved"] = {"openblas": 12.0, "torch": 15.0}
    path = tmp_path / "0008_interleaved.json"
    path.write_text(json.dumps(run))
    machine, rows, _, _ = bench_report.load(path)
    best = bench_report.best_blas(machine, rows)
    # torch's 20 from the baseline's own process ran in other seconds: not taken for this one
    assert best[("layer products float32", "W A net l=1")] == (15.0, "torch, between the engine's rounds")
    assert best[("matmul: square float32", "square 256")] == (100.0, "openblas, this process")
    bench_report.render(path, tmp_path / "out")
    assert "Layer products: 1 of 1 at >= 0.90" in (tmp_path / "out" / "results.md").read_text()  # 18 / 15


def test_report_names_the_kernel_the_pin_and_the_peak(tmp_path):
    bench_report.render(baseline_run(tmp_path), tmp_path / "out")
    md = (tmp_path / "out" / "results.md").read_text()
    assert "OpenBLAS 0.3.31 on its own kernel (SkylakeX, threadpoolctl)" in md
    assert "OPENBLAS_CORETYPE=Haswell" in md and "ran the Haswell kernel" in md
    assert "float32 60 on one core, 120 on 2 threads" in md
    # the engine's square 256: 25 GFLOP/s, 0.25 of the best (100), 21% of the 2-thread peak
    assert "| 256 | 25.0 | 100.0 (openblas, this process) | 0.25 | 21% |" in md
    assert "below: W A net l=1 0.90" not in md  # 18 / 20 = 0.90 meets the goal
    assert "Layer products: 1 of 1 at >= 0.90" in md


def test_spread_over_runs(tmp_path):
    first = baseline_run(tmp_path, "0006_a.json", engine_gflops=(25.0, 10.0))
    second = baseline_run(tmp_path, "0007_b.json", engine_gflops=(50.0, 20.0))
    bench_report.render(second, tmp_path / "out", spread_over=[first])
    md = (tmp_path / "out" / "results.md").read_text()
    assert "## Spread over 2 runs" in md
    # each run against its own peak (120 GFLOP/s on 2 threads); one with no peaks gives none
    assert "| matmul: square float32 | square 256 | 25.0 - 50.0 | 0.25 - 0.50 | 21% - 42% |" in md
    assert "| layer products float32 | W A net l=1 | 10.0 - 20.0 | 0.50 - 1.00 | 8% - 17% |" in md
    run = json.loads(second.read_text())
    del run["machine_info"]["bench"]["cpu_peaks"]
    second.write_text(json.dumps(run))
    bench_report.render(second, tmp_path / "out", spread_over=[first])
    md = (tmp_path / "out" / "results.md").read_text()
    assert "| matmul: square float32 | square 256 | 25.0 - 50.0 | 0.25 - 0.50 | 21% - 21% |" in md


def test_runs_render_a_subset_with_its_spread_where_out_says(tmp_path, monkeypatch):
    """`python -m bench.runs --runs 2 --threads 1 -k ... --out DIR` (README's one-thread report):
    each run's `invoke bench` saves one JSON (stubbed here), and the last is rendered into DIR
    with the spread of both, not into .benchmarks/subset/."""
    from bench import runs

    saved = [baseline_run(tmp_path, "0008_a.json", engine_gflops=(25.0, 10.0)),
             baseline_run(tmp_path, "0009_b.json", engine_gflops=(50.0, 20.0))]
    for path in saved:  # a -k subset, as the one-thread runs are
        run = json.loads(path.read_text())
        run["machine_info"]["bench"]["selection"] = "matmul or layer_product"
        path.write_text(json.dumps(run))
    commands, newest = [], iter(saved)
    monkeypatch.setattr(runs.subprocess, "run", lambda command, check: commands.append(command))
    monkeypatch.setattr(runs.report, "latest_run", lambda: next(newest))
    monkeypatch.setattr(bench_report, "STORAGE", tmp_path / "storage")
    runs.main(["--runs", "2", "--threads", "1", "-k", "matmul or layer_product",
               "--out", str(tmp_path / "one")])
    assert commands == [["invoke", "bench", "--threads", "1", "-k", "matmul or layer_product"]] * 2
    md = (tmp_path / "one" / "results.md").read_text()
    assert "## Spread over 2 runs" in md and "| square 256 | 25.0 - 50.0 |" in md
    assert not (tmp_path / "storage").exists()


def test_cpu_model_names_family_model_and_stepping(tmp_path):
    """Two virtual machines both called "Intel(R) Xeon(R) Processor" were different generations
    (model 167 and model 207): the report's header must tell them apart."""
    from bench import machine

    cpuinfo = tmp_path / "cpuinfo"
    block = ("processor\t: {i}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: {model}\n"
             "model name\t: Intel(R) Xeon(R) Processor\nstepping\t: 2\n\n")
    cpuinfo.write_text(block.format(i=0, model=207) + block.format(i=1, model=143))
    assert machine.cpu_model(cpuinfo) == "Intel(R) Xeon(R) Processor (family 6, model 207, stepping 2)"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU\n")
    assert machine.cpu_model(cpuinfo) == "Some CPU"
