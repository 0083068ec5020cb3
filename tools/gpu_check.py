"""kernels.cuda on a real GPU in one command, with a report that cannot come back empty.

    python tools/gpu_check.py [--report plots/bench/gpu/gpu_check.md]    (or: invoke gpu-check)
    python tools/gpu_check.py --dry-run --report FILE                     (any machine, no GPU)

Needs python3 with numba, numba-cuda, numpy, torch, pytest and pytest-benchmark, nothing else:
no test module that imports invoke, tqdm or matplotlib is collected (the files are named).

Pre-flight, written to the report first: the versions (python, numba, numba-cuda, numpy, torch
and its CUDA, pytest, pytest-benchmark, the driver), the device (name, compute capability, SMs,
clocks, memory), the simulator forced off, and one trivial kernel launched and its result
checked. If any of that fails the check stops there with one line saying why (exit status 2).

Then the phases (PHASES), each a subprocess with its own time budget, each appending its section
to the report as soon as it ends: a timeout or a crash loses only the phase in flight.
    a   the CUDA tests at hardware shapes: kernels, launches, and the torch-pinned tests on the
        cuda path
    b   every GEMM rung x three layouts x both dtypes at edge shapes, output pre-filled with NaN,
        run twice and compared bit for bit (tests/test_cuda_edges.py)
    c   SGEMM at 1024, 2048, 4096 against cuBLAS through torch, TF32 off and on, CUDA events
        (bench/gpu_gemm.py)
    d1  train_step of the four slide networks and [4096,1024,1024,1] m=1024 against torch CUDA
    d2  the device-resident training loop at batch sizes 1, 64 and the full set against torch
The budgets add up to under 6 minutes on an H100/H200. Written to OUT (plots/bench/gpu/): the
report, the phases' JSON (sgemm.json; pytest-benchmark's train_step.json and gpu_loop.json) and
README-part.md, the GPU part of README's Performance section (bench/gpu_report.py).
Exit status 0 only when every phase passed.

--dry-run runs the pre-flight that needs no GPU (versions, imports), collects every phase's tests
and benchmarks in the simulator without running any, writes the report and ends with
"gpu_check dry run: N tests and M benchmarks collected, 0 errors" (exit 0), or names what failed
to collect (exit 1).
"""

import argparse
import datetime
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository root, when run as a script
OUT = ROOT / "plots" / "bench" / "gpu"
PREFLIGHT_S = 15  # what the pre-flight may take, within the whole run's budget
TOTAL_S = 345  # the whole run: under 6 minutes
BENCH_TARGET_S = "0.25"  # seconds of timed rounds per pytest benchmark (bench/fixtures.py)
TEST_FILES = ("tests/test_cuda_kernels.py", "tests/test_cuda_launch.py", "tests/test_network.py",
              "tests/test_training.py", "tests/test_gradient_check.py", "tests/test_bad_input.py",
              "tests/test_activations.py")
PACKAGES = ("numba", "numba-cuda", "numpy", "torch", "pytest", "pytest-benchmark",
            "cuda-bindings", "nvidia-nvjitlink")


@dataclass
class Phase:
    """One part of the check: `argv` runs it (after `python`), `collect` lists what it would
    run (the dry run), `kind` says how its outputs are read: "pytest" (a JUnit file), "bench"
    (pytest-benchmark JSON and a JUnit file) or "sgemm" (bench/gpu_gemm.py's JSON)."""

    key: str
    title: str
    budget_s: float
    kind: str
    argv: list
    collect: list
    outputs: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)


def phases(out, work):
    """The five phases, writing their JSON to `out` and scratch files to `work`."""
    def pytest_phase(key, title, budget, files, k=None, bench_json=None):
        junit = work / f"{key}.xml"
        select = [*files, "-p", "no:cacheprovider"] + (["-k", k] if k else [])
        argv = ["-m", "pytest", *select, "-v", f"--junitxml={junit}"]
        outputs, env = {"junit": junit}, {}
        if bench_json:
            argv += ["-o", "addopts=-ra", "--benchmark-only", f"--benchmark-json={bench_json}"]
            outputs["json"] = bench_json
            env = {"BENCH_TARGET_S": BENCH_TARGET_S}
        collect = ["-m", "pytest", *select, "--collect-only", "-q", "-o", "addopts=-ra"]
        return Phase(key, title, budget, "bench" if bench_json else "pytest", argv, collect,
                     outputs, env)

    return [
        pytest_phase("a", "CUDA tests at hardware shapes", 110, TEST_FILES, k="cuda"),
        pytest_phase("b", "GEMM edge shapes, NaN-filled output, two runs bit for bit", 55,
                     ["tests/test_cuda_edges.py"]),
        Phase("c", "SGEMM against cuBLAS (CUDA events)", 45, "sgemm",
              ["-m", "bench.gpu_gemm", "--json", str(out / "sgemm.json")],
              ["-m", "bench.gpu_gemm", "--list"], {"json": out / "sgemm.json"}),
        pytest_phase("d1", "train_step against torch CUDA", 75,
                     ["tests/benchmarks/test_bench_train_step.py"], k="cuda",
                     bench_json=out / "train_step.json"),
        pytest_phase("d2", "device-resident training loop against torch CUDA", 45,
                     ["tests/benchmarks/test_bench_gpu_loop.py"], k="test_gpu_epoch",
                     bench_json=out / "gpu_loop.json"),
    ]


# ---------------------------------------------------------------------------------------------
# The report: a Markdown file that grows a section at a time


class Report:
    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")

    def add(self, lines):
        with self.path.open("a") as f:
            f.write("\n".join(lines) + "\n\n")


def _cell(text, width=160):
    return str(text).replace("|", "/").replace("\n", " ")[:width]


# ---------------------------------------------------------------------------------------------
# Pre-flight


class Stop(Exception):
    """A pre-flight failure: the check cannot go on."""


def versions():
    """{package: version} from the installed metadata (imports nothing)."""
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def _probe(facts, name, fn):
    """facts[name] = fn(), or the error; True when it worked."""
    try:
        facts[name] = fn()
        return True
    except Exception as error:  # noqa: BLE001  (every failure is reported)
        facts[name] = "FAILED: " + " ".join(f"{type(error).__name__}: {error}".split())  # one line
        return False


def _numba_config_module():
    try:
        from numba.cuda.core import config
        return config, "numba.cuda.core.config"
    except ImportError:
        from numba.core import config
        return config, "numba.core.config (older numba-cuda)"


def _nvidia_smi():
    query = "name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,memory.total,power.limit"
    run = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"],
                         capture_output=True, text=True, timeout=30)
    return run.stdout.strip() or run.stderr.strip()


def _device():
    from numba import cuda

    device = cuda.get_current_device()
    name = device.name.decode() if isinstance(device.name, bytes) else str(device.name)
    free, total = cuda.current_context().get_memory_info()
    return {
        "name": name,
        "compute_capability": ".".join(map(str, device.compute_capability)),
        "sms": device.MULTIPROCESSOR_COUNT,
        "sm_clock_mhz": device.CLOCK_RATE / 1000,
        "memory_clock_mhz": device.MEMORY_CLOCK_RATE / 1000,
        "memory_gib": round(total / 2**30, 1),
        "memory_free_gib": round(free / 2**30, 1),
    }


def _trivial_kernel():
    """One launch of a kernel that writes 2 i + 1: the driver runs this numba-cuda's code."""
    import numpy as np
    from numba import cuda

    @cuda.jit
    def odd(out):
        i = cuda.grid(1)
        if i < out.shape[0]:
            out[i] = 2 * i + 1

    out = cuda.device_array(1000, np.int64)
    odd[4, 256](out)
    got = out.copy_to_host()
    if not (got == 2 * np.arange(1000) + 1).all():
        raise AssertionError(f"trivial kernel wrote wrong values: {got[:5]}...")
    return "launched, 1000 values checked"


def _torch_cuda():
    import torch

    if not torch.cuda.is_available():
        raise RuntimeError(f"torch {torch.__version__} sees no CUDA device (built for CUDA "
                           f"{torch.version.cuda})")
    A = torch.ones((64, 64), device="cuda")
    if float((A @ A)[0, 0]) != 64.0:
        raise AssertionError("torch's 64 x 64 product of ones is not 64")
    return f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}"


def preflight(report, dry_run):
    """The pre-flight section; raises Stop (after writing it) when the check cannot go on."""
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1" if dry_run else "0"  # before numba is imported
    facts = {"versions": ", ".join(f"{k} {v}" for k, v in versions().items()),
             "host": f"{platform.node()}, {os.cpu_count()} CPU cores",
             "simulator": "on (dry run: nothing runs on a GPU)" if dry_run else
             "forced off (NUMBA_ENABLE_CUDASIM=0)"}
    if dry_run:
        probes = [("numba-cuda config", lambda: _numba_config_module()[1], True),
                  ("torch", lambda: __import__("torch").__version__, True),
                  ("pytest-benchmark", lambda: __import__("pytest_benchmark") and "imports", True)]
    else:
        probes = [("numba-cuda config", lambda: _numba_config_module()[1], True),
                  ("simulator check", _simulator_is_off, True),
                  ("nvidia-smi", _nvidia_smi, False),  # only reported: not every image has it
                  ("driver", _driver, True),
                  ("device", _device, True),
                  ("trivial kernel", _trivial_kernel, True),
                  ("torch CUDA", _torch_cuda, True)]
    probes.append(("kernels.cuda", _import_kernels, True))
    stop = None
    for name, fn, fatal in probes:
        if not _probe(facts, name, fn) and fatal:
            stop = f"gpu_check stopped at the pre-flight ({name}): {facts[name][len('FAILED: '):]}"
            break
    report.add(["## Pre-flight", ""] + [f"- {k}: {_cell(v, 400)}" for k, v in facts.items()]
               + (["", f"**{stop}**"] if stop else []))
    if stop:
        raise Stop(stop)
    return facts


def _simulator_is_off():
    config, _ = _numba_config_module()
    if config.ENABLE_CUDASIM:
        raise RuntimeError("numba's CUDA simulator is on: simulator timings are not GPU timings")
    return "off"


def _driver():
    from numba import cuda

    driver = ".".join(map(str, cuda.cudadrv.driver.driver.get_version()))
    runtime = ".".join(map(str, cuda.runtime.get_version()))
    return f"CUDA driver API {driver}, runtime {runtime}"


def _import_kernels():
    import kernels.cuda as kc

    return f"imported ({'simulator' if kc.SIMULATOR else 'GPU'}), GEMM rung {kc.config.GEMM_RUNG}"


# ---------------------------------------------------------------------------------------------
# Running a phase


@dataclass
class Outcome:
    status: str  # "ok", "failed (exit N)", "timed out after N s", "crashed (signal N)"
    seconds: float
    output: str


def run_command(argv, timeout, env=None):
    """Run `python argv` from the repository root in its own process group; on timeout the whole
    group (pytest and anything it started) is killed. Returns an Outcome."""
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": os.environ.get("NUMBA_ENABLE_CUDASIM", "0"),
           "NUMBA_CUDA_LOW_OCCUPANCY_WARNINGS": "0", **(env or {})}
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=max(1.0, timeout))
        code = process.returncode
        status = "ok" if code == 0 else (f"crashed (signal {-code})" if code < 0 else f"failed (exit {code})")
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        status = f"timed out after {timeout:.0f} s"
    return Outcome(status, time.perf_counter() - start, output or "")


def read_junit(path):
    """[(test id, outcome, seconds, message)] from a pytest --junitxml file ([] if none)."""
    if not Path(path).exists():
        return []
    rows = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                outcome = {"failure": "FAILED", "error": "ERROR", "skipped": "skipped"}[tag]
                message = ((element.get("message") or "").splitlines() or [""])[0]
        rows.append((f"{case.get('classname')}::{case.get('name')}", outcome,
                     float(case.get("time") or 0), message))
    return rows


VERBOSE_LINE = re.compile(r"^(\S+::\S.*?) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)")


def finished_tests(output):
    """[(test id, outcome)] from pytest -v output: what finished before a timeout or crash."""
    return [(m.group(1), m.group(2)) for m in map(VERBOSE_LINE.match, output.splitlines()) if m]


def counts_line(outcomes):
    counts = {}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no test finished"


def pytest_lines(phase, outcome):
    tests = read_junit(phase.outputs["junit"])
    lines = []
    if tests:
        lines.append(f"Tests: {counts_line(t[1] for t in tests)}.")
        bad = [t for t in tests if t[1] != "passed"]
        if bad:
            lines += ["", "| test | result | seconds | message |", "|---|---|---|---|"]
            lines += [f"| {_cell(n)} | {o} | {s:.2f} | {_cell(m)} |" for n, o, s, m in bad]
        slow = sorted(tests, key=lambda t: -t[2])[:5]
        lines += ["", "Slowest: " + "; ".join(f"{n.split('::')[-1]} {s:.1f} s" for n, _, s, _ in slow)]
    else:
        finished = finished_tests(outcome.output)
        lines.append(f"No JUnit file (the run did not end): {counts_line(o for _, o in finished)} "
                     "before it stopped.")
        bad = [f"- {n}: {o}" for n, o in finished if o in ("FAILED", "ERROR")]
        lines += bad
    return lines


def bench_lines(phase, outcome):
    lines = pytest_lines(phase, outcome)
    path = phase.outputs["json"]
    if not Path(path).exists():
        return lines + ["", "No benchmark JSON was written: no timings from this phase."]
    from bench import gpu_report

    return lines + ["", gpu_report.benchmark_table(json.loads(Path(path).read_text()))]


def sgemm_lines(phase, outcome):
    path = phase.outputs["json"]
    if not Path(path).exists():
        return ["No rows were written."]
    from bench import gpu_report

    return [gpu_report.sgemm_table(json.loads(Path(path).read_text()))]


RENDER = {"pytest": pytest_lines, "bench": bench_lines, "sgemm": sgemm_lines}


def passed(phase, outcome):
    """A phase passed: its command exited 0 and it left what it was to leave."""
    if outcome.status != "ok":
        return False
    if "junit" in phase.outputs and not read_junit(phase.outputs["junit"]):
        return False
    return "json" not in phase.outputs or Path(phase.outputs["json"]).exists()


def run_phase(phase, report, budget):
    """Run one phase within `budget` seconds and append its section; returns whether it passed."""
    for path in phase.outputs.values():  # nothing stale from an earlier run is reported
        Path(path).unlink(missing_ok=True)
    print(f"gpu_check: phase {phase.key}, {phase.title} (budget {budget:.0f} s)", flush=True)
    outcome = run_command(phase.argv, budget, phase.env)
    ok = passed(phase, outcome)
    try:
        body = RENDER[phase.kind](phase, outcome)
    except Exception as error:  # noqa: BLE001  (a broken output file must not lose the section)
        body = [f"Could not read the phase's output: {type(error).__name__}: {error}"]
    tail = outcome.output.strip().splitlines()[-15:]
    report.add([f"## Phase {phase.key}: {phase.title}", "",
                f"{'passed' if ok else 'NOT PASSED'}: {outcome.status}, {outcome.seconds:.0f} s of a "
                f"{budget:.0f} s budget. Command: `python {' '.join(map(str, phase.argv))}`", ""]
               + body + ([] if ok else ["", "Last lines of its output:", "", "```", *tail, "```"]))
    print(f"gpu_check: phase {phase.key} {'passed' if ok else 'NOT PASSED'} ({outcome.status}, "
          f"{outcome.seconds:.0f} s)", flush=True)
    return ok


def run_phases(phase_list, report, total_s):
    """Every phase in turn within what is left of total_s; {key: passed}."""
    start = time.perf_counter()
    results = {}
    for phase in phase_list:
        left = total_s - (time.perf_counter() - start)
        if left < 10:
            report.add([f"## Phase {phase.key}: {phase.title}", "",
                        "NOT RUN: the check's time budget was spent."])
            results[phase.key] = False
            continue
        results[phase.key] = run_phase(phase, report, min(phase.budget_s, left))
    return results


# ---------------------------------------------------------------------------------------------
# The dry run: collect, run nothing


def collect(phase):
    """(items, error or None) of one phase's collection in the simulator."""
    outcome = run_command(phase.collect, 120, {"NUMBA_ENABLE_CUDASIM": "1"})
    if phase.kind == "sgemm":
        items = [line for line in outcome.output.splitlines() if line.startswith("sgemm ")]
    else:
        items = [line for line in outcome.output.splitlines()
                 if line.startswith("tests/") and "::" in line]
    if outcome.status != "ok" or not items:
        errors = [line for line in outcome.output.splitlines()
                  if "Error" in line or line.startswith(("ERROR", "E "))]
        why = "; ".join(errors[:5]) or outcome.output.strip().splitlines()[-1:] or ["no output"]
        return items, f"phase {phase.key}: {outcome.status}, {len(items)} collected: {_cell(why, 300)}"
    return items, None


def dry_run(report, phase_list):
    tests = benchmarks = 0
    errors = []
    for phase in phase_list:
        items, error = collect(phase)
        is_bench = phase.kind in ("bench", "sgemm")
        if is_bench:
            benchmarks += len(items)
        else:
            tests += len(items)
        if error:
            errors.append(error)
        report.add([f"## Phase {phase.key}: {phase.title} (budget {phase.budget_s:.0f} s)", "",
                    f"{'ERROR: ' + error if error else 'collected'}: {len(items)} "
                    f"{'benchmarks' if is_bench else 'tests'}, `python {' '.join(map(str, phase.collect))}`"])
    line = (f"gpu_check dry run: {tests} tests and {benchmarks} benchmarks collected, "
            f"{len(errors)} errors" + (": " + " | ".join(errors) if errors else ""))
    report.add(["## Result", "", line])
    return line, not errors


# ---------------------------------------------------------------------------------------------


def _commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def header(report, dry_run, argv):
    commit = _commit()
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    kind = " (DRY RUN: collected, nothing run, no timings)" if dry_run else ""
    report.add([f"# kernels.cuda GPU check{kind}",
                "", f"Started {now}, commit {commit}: `python tools/gpu_check.py "
                f"{' '.join(argv)}`. Written by tools/gpu_check.py, a section as each part ends."])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", default=str(OUT / "gpu_check.md"), help="the Markdown report")
    parser.add_argument("--out", default=str(OUT), help="where the phases' JSON goes")
    parser.add_argument("--dry-run", action="store_true", help="collect everything, run nothing")
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    report = Report(args.report)  # written first: whatever fails later, the report exists
    header(report, args.dry_run, argv)
    work = Path(tempfile.mkdtemp(prefix="gpu_check-"))  # the phases' JUnit files
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    phase_list = phases(out, work)
    start = time.perf_counter()
    try:
        facts = preflight(report, args.dry_run)
    except Stop as stop:
        print(stop, file=sys.stderr)
        return 2
    if args.dry_run:
        line, ok = dry_run(report, phase_list)
        print(line)
        return 0 if ok else 1
    results = run_phases(phase_list, report, TOTAL_S - (time.perf_counter() - start))
    total = time.perf_counter() - start
    (out / "preflight.json").write_text(json.dumps({**facts, "seconds": total,
                                                    "results": results}, indent=1))
    from bench import gpu_report

    (out / "README-part.md").write_text(gpu_report.readme_part(out) + "\n")
    verdict = ("all phases passed" if all(results.values()) else
               "NOT PASSED: " + ", ".join(k for k, ok in results.items() if not ok))
    report.add(["## Result", "", f"gpu_check: {verdict} in {total:.0f} s; README's GPU part: "
                f"{out / 'README-part.md'}"])
    print(f"gpu_check: {verdict} in {total:.0f} s; report {args.report}")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
