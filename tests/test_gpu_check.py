"""tools/gpu_check.py without a GPU: the dry run on the GPU image's packages only, a report that
survives a phase timing out or crashing, the stop at the pre-flight, and the GPU tables.

The GPU image has python3 with numba, numba-cuda, numpy, torch, pytest and pytest-benchmark, not
invoke, tqdm or matplotlib: the subprocesses here get a sitecustomize.py on PYTHONPATH whose
import hook makes importing those fail, in every process they start.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import gpu_report
from kernels import cuda_target
from tools import gpu_check

ROOT = Path(__file__).resolve().parents[1]
BLOCKER = '''
import sys

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if any(name == blocked or name.startswith(blocked + ".") for blocked in {names!r}):
            raise ImportError(f"{{name}} is not on the GPU image (blocked by the test)")
        return None

sys.meta_path.insert(0, Blocked())
'''


def blocked_env(tmp_path, names=("invoke", "tqdm", "matplotlib")):
    folder = tmp_path / "blocker"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(BLOCKER.format(names=set(names)))
    path = os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**os.environ, "PYTHONPATH": path}


def run_script(args, env, timeout=600):
    return subprocess.run([sys.executable, "tools/gpu_check.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_dry_run_collects_every_phase_without_invoke_tqdm_or_matplotlib(tmp_path):
    env = blocked_env(tmp_path)
    probe = subprocess.run([sys.executable, "-c", "import matplotlib"], env=env,
                           capture_output=True, text=True)
    assert probe.returncode != 0 and "blocked by the test" in probe.stderr  # the blocker works
    report = tmp_path / "dry.md"
    run = run_script(["--dry-run", "--report", str(report), "--out", str(tmp_path / "out")], env)
    assert run.returncode == 0, run.stdout + run.stderr
    last = run.stdout.strip().splitlines()[-1]
    found = re.fullmatch(r"gpu_check dry run: (\d+) tests and (\d+) benchmarks collected, 0 errors", last)
    assert found, last
    tests, benchmarks = map(int, found.groups())
    assert tests > 200 and benchmarks == 15 + 10 + 6  # sgemm cases, train_step, device loop
    text = report.read_text()
    assert "## Pre-flight" in text and "kernels.cuda: imported (simulator)" in text
    for phase in gpu_check.phases(tmp_path, tmp_path):
        assert f"## Phase {phase.key}: {phase.title}" in text
    assert last in text


def test_dry_run_names_the_phases_that_fail_to_collect(tmp_path):
    """With the tests' torch helper unimportable, every phase of tests fails to collect: the dry
    run says which and why, and exits 1."""
    env = blocked_env(tmp_path, names=("invoke", "tqdm", "matplotlib", "tests.torch_compare",
                                       "torch_compare"))
    run = run_script(["--dry-run", "--report", str(tmp_path / "dry.md"), "--out", str(tmp_path)], env)
    assert run.returncode == 1, run.stdout + run.stderr
    last = run.stdout.strip().splitlines()[-1]
    assert re.match(r"gpu_check dry run: \d+ tests and 15 benchmarks collected, 4 errors: phase a: ", last)
    assert "phase b:" in last and "phase d1:" in last and "phase d2:" in last and "phase c:" not in last


@pytest.mark.skipif(cuda_target.driver_present(), reason="tests the stop on a machine without a GPU")
def test_without_a_gpu_the_check_stops_in_one_line_after_writing_the_report(tmp_path):
    report = tmp_path / "report.md"
    run = run_script(["--report", str(report), "--out", str(tmp_path / "out")], blocked_env(tmp_path),
                     timeout=300)
    assert run.returncode == 2
    stop = run.stderr.strip().splitlines()
    assert len(stop) == 1 and stop[0].startswith("gpu_check stopped at the pre-flight"), run.stderr
    text = report.read_text()
    assert "- versions: python" in text and "numba-cuda" in text and stop[0] in text
    assert "## Phase" not in text  # nothing ran, no timings


def test_a_missing_numba_still_leaves_a_report(tmp_path):
    """An older or broken numba-cuda fails at import: the report, with the versions, is written
    before anything imports numba."""
    report = tmp_path / "report.md"
    run = run_script(["--report", str(report), "--out", str(tmp_path / "out")],
                     blocked_env(tmp_path, names=("invoke", "tqdm", "matplotlib", "numba")), timeout=300)
    assert run.returncode == 2, run.stdout + run.stderr
    text = report.read_text()
    assert "- versions: python" in text and "FAILED: ImportError" in text


# ---------------------------------------------------------------------------------------------
# Phases: each appends its section when it ends; a timeout or crash loses only that phase


def fake_phase(key, tmp_path, code, budget=30):
    out = tmp_path / f"{key}.json"
    return gpu_check.Phase(key, f"fake {key}", budget, "sgemm", ["-c", code.format(out=str(out))],
                           [], {"json": out})


WRITE_ROWS = ("import json; json.dump([{{'n': 8, 'kernel': 'cublas', 'seconds': 1e-3, "
              "'gflops': 1.0, 'of_cublas': 1.0}}], open({out!r}, 'w'))")


def test_a_phase_that_times_out_leaves_the_other_phases_sections(tmp_path):
    phases = [fake_phase("p1", tmp_path, WRITE_ROWS),
              fake_phase("p2", tmp_path, "import time; time.sleep(60)", budget=2),
              fake_phase("p3", tmp_path, "import os; os.abort()"),
              fake_phase("p4", tmp_path, WRITE_ROWS)]
    report = gpu_check.Report(tmp_path / "report.md")
    start = time.perf_counter()
    results = gpu_check.run_phases(phases, report, total_s=120)
    assert time.perf_counter() - start < 30  # the sleeping phase was killed at its budget
    assert results == {"p1": True, "p2": False, "p3": False, "p4": True}
    text = report.path.read_text()
    sections = text.split("## Phase ")[1:]
    assert [s.split(":")[0] for s in sections] == ["p1", "p2", "p3", "p4"]
    assert "timed out after 2 s" in sections[1] and "crashed (signal" in sections[2]
    for section in (sections[0], sections[3]):
        assert "passed: ok" in section and "| 8 | cublas | 1 ms | 1 |" in section


def test_a_spent_budget_marks_the_remaining_phases_not_run(tmp_path):
    report = gpu_check.Report(tmp_path / "report.md")
    results = gpu_check.run_phases([fake_phase("p1", tmp_path, WRITE_ROWS)], report, total_s=5)
    assert results == {"p1": False}
    assert "NOT RUN: the check's time budget was spent" in report.path.read_text()


def test_the_phases_fit_in_six_minutes_with_the_preflight():
    budgets = [p.budget_s for p in gpu_check.phases(Path("out"), Path("work"))]
    assert gpu_check.PREFLIGHT_S + sum(budgets) <= gpu_check.TOTAL_S <= 350


def test_no_phase_collects_a_module_that_needs_invoke_tqdm_or_matplotlib():
    for phase in gpu_check.phases(Path("out"), Path("work")):
        for arg in phase.collect:
            if arg.endswith(".py"):
                source = (ROOT / arg).read_text()
                assert not re.search(r"^\s*(import|from) (invoke|tqdm|matplotlib|plots)\b", source, re.M), arg


# ---------------------------------------------------------------------------------------------
# The tables (bench/gpu_report.py)


def test_readme_part_says_no_gpu_run_until_one_exists(tmp_path):
    assert gpu_report.readme_part(tmp_path) == gpu_report.NO_GPU_RUN


def test_readme_part_from_a_gpu_run(tmp_path):
    (tmp_path / "preflight.json").write_text(json.dumps({
        "device": {"name": "NVIDIA H200", "sms": 132, "compute_capability": "9.0"},
        "driver": "CUDA driver API 13.0"}))
    (tmp_path / "sgemm.json").write_text(json.dumps([
        {"n": 4096, "kernel": "cublas", "seconds": 0.0025, "gflops": 55_000.0, "of_cublas": 1.0},
        {"n": 4096, "kernel": "cuda", "seconds": 0.005, "gflops": 27_500.0, "of_cublas": 0.5},
        {"n": 4096, "kernel": "cuda-naive", "error": "relative error 1 > 0.0001: not timed"}]))

    def bench(path, workload, min_s, **extra):
        return {"name": workload, "stats": {"min": min_s, "median": min_s, "rounds": 5},
                "extra_info": {"path": path, "workload": workload, **extra}}

    (tmp_path / "train_step.json").write_text(json.dumps({"benchmarks": [
        bench("cuda", "[2,10,1] m=100", 100e-6), bench("torch-cuda", "[2,10,1] m=100", 250e-6)]}))
    (tmp_path / "gpu_loop.json").write_text(json.dumps({"benchmarks": [
        bench("cuda-device-loop", "net batch 1", 0.1, samples_per_second=5690.0),
        bench("torch-cuda-loop", "net batch 1", 0.2, samples_per_second=2845.0)]}))
    part = gpu_report.readme_part(tmp_path)
    assert "NVIDIA H200 (132 SMs, compute capability 9.0)" in part
    assert "| 4096 | 27,500 (50%) | 55,000 |" in part  # cuda, cublas; the failed naive row is left out
    assert "| [2,10,1] m=100 | 100 us | 250 us | 2.50x |" in part
    assert "| net batch 1 | 5,690 | 2,845 |" in part
    table = gpu_report.sgemm_table(json.loads((tmp_path / "sgemm.json").read_text()))
    assert "| 4096 | cuda-naive | relative error 1 > 0.0001: not timed |" in table
