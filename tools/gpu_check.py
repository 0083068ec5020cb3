"""The CUDA path end to end on a real GPU, in one command and under 5 minutes:

    python tools/gpu_check.py [--report gpu_check_report.md]     (or: invoke gpu-check)

1. refuses to run unless numba sees a real CUDA device with the simulator off (simulator timings
   are never reported as GPU timings);
2. runs the CUDA tests on the device: tests/test_cuda_kernels.py (with the realistic-shape tests
   marked gpu), tests/test_cuda_ptx.py, and the shared torch-pinned tests on the cuda path;
3. runs the benchmarks of kernels.cuda and of torch on the same GPU (tests/benchmarks, -k cuda),
   one pytest run per benchmark file within what is left of the 285 s budget;
4. writes one Markdown report: device name, compute capability, driver and CUDA versions, every
   test's result and duration, every benchmark's timings.
The exit status is 0 only when every test passed and the benchmarks ran.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository root, when run as a script
BUDGET_S = 285  # the whole check, under 5 minutes
TEST_TIMEOUT_S = 140
# benchmark files in order of importance, each its own run (a timeout loses only that file)
BENCH_FILES = ("test_bench_train_step.py", "test_bench_matmul.py", "test_bench_minibatch.py")
BENCH_TARGET_S = "0.25"  # seconds of timed rounds per benchmark (tests/benchmarks/conftest.py)


def refuse_without_a_gpu():
    """None when a real GPU is usable, else the reason (the check then writes no timings)."""
    from kernels import simulator

    if simulator.simulator_on():
        return "numba.cuda is (or will be) the simulator: simulator timings are not GPU timings"
    return simulator.unavailable_reason()


def describe_device():
    from numba import cuda

    device = cuda.get_current_device()
    info = {
        "device": device.name.decode() if isinstance(device.name, bytes) else str(device.name),
        "compute_capability": ".".join(map(str, device.compute_capability)),
        "driver_cuda_version": ".".join(map(str, cuda.cudadrv.driver.driver.get_version())),
        "runtime_version": ".".join(map(str, cuda.runtime.get_version())),
        "host": platform.node(),
        "python": platform.python_version(),
    }
    try:
        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.max.sm",
             "--format=csv,noheader"], capture_output=True, text=True, timeout=30)
        info["nvidia_smi"] = smi.stdout.strip() or smi.stderr.strip()
    except (OSError, subprocess.TimeoutExpired) as error:
        info["nvidia_smi"] = f"not available ({error})"
    from importlib.metadata import version

    for package in ("numba", "numba-cuda", "numpy", "torch"):
        try:
            info[package] = version(package)
        except Exception:  # noqa: BLE001  (a missing package is just reported)
            info[package] = "not installed"
    return info


def _pytest(args, timeout):
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0", BENCH_TARGET_S=BENCH_TARGET_S)
    start = time.perf_counter()
    try:
        run = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=timeout)
        output, status = run.stdout + run.stderr, run.returncode
    except subprocess.TimeoutExpired as error:
        output = (error.stdout or b"").decode() if isinstance(error.stdout, bytes) else (error.stdout or "")
        status = f"timed out after {timeout} s"
    return status, output, time.perf_counter() - start


def read_junit(path):
    """[(test id, outcome, seconds, message)] from a pytest --junitxml file."""
    rows = []
    if not Path(path).exists():
        return rows
    for case in ET.parse(path).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                outcome = {"failure": "FAILED", "error": "ERROR", "skipped": "skipped"}[tag]
                message = ((element.get("message") or "").splitlines() or [""])[0][:160]
        rows.append((name, outcome, float(case.get("time") or 0), message))
    return rows


def read_benchmarks(path):
    if not Path(path).exists():
        return None, []
    data = json.loads(Path(path).read_text())
    return data.get("machine_info", {}), data.get("benchmarks", [])


def write_report(path, device, tests, test_status, test_seconds, machine_info, benchmarks,
                 bench_status, bench_seconds, total_seconds, gpu_ran):
    lines = [f"# kernels.cuda GPU check, {datetime.datetime.now().isoformat(timespec='seconds')}", ""]
    lines += [f"- {key}: {value}" for key, value in device.items()]
    lines += [f"- total wall time: {total_seconds:.0f} s", ""]
    counts = {}
    for _, outcome, _, _ in tests:
        counts[outcome] = counts.get(outcome, 0) + 1
    lines += [f"## Tests ({test_seconds:.0f} s, pytest exit status {test_status}): "
              + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())), ""]
    if not gpu_ran:
        lines += ["**The gpu-marked tests did not run: this was not a GPU run; no timings reported.**", ""]
    lines += ["| test | result | seconds | message |", "|---|---|---|---|"]
    lines += [f"| {name} | {outcome} | {seconds:.2f} | {message.replace('|', '/')} |"
              for name, outcome, seconds, message in tests]
    lines += ["", f"## Benchmarks ({bench_seconds:.0f} s, pytest exit status {bench_status})", ""]
    if gpu_ran and benchmarks:
        bench_info = (machine_info or {}).get("bench", {})
        lines += [f"- benchmark machine: {json.dumps(bench_info)}", ""]
        lines += ["| benchmark | min ms | median ms | rounds | GFLOP/s (min) | of peak | samples/s |",
                  "|---|---|---|---|---|---|---|"]
        for b in benchmarks:
            stats, extra = b["stats"], b.get("extra_info", {})
            gflops = extra.get("gflops")
            peak = extra.get("fraction_of_peak")
            sps = extra.get("samples_per_second")
            lines.append(
                f"| {b['fullname']} | {stats['min'] * 1e3:.3f} | {stats['median'] * 1e3:.3f} | "
                f"{stats['rounds']} | {'' if gflops is None else f'{gflops:.1f}'} | "
                f"{'' if peak is None else f'{peak:.0%}'} | {'' if sps is None else f'{sps:.3g}'} |")
    else:
        lines.append("No benchmark timings reported.")
    Path(path).write_text("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", default="gpu_check_report.md", help="the report file to write")
    args = parser.parse_args(argv)
    reason = refuse_without_a_gpu()
    if reason:
        print(f"gpu_check refused: {reason}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    device = describe_device()
    print(f"gpu_check on {device['device']} (cc {device['compute_capability']})", flush=True)
    work = Path(tempfile.mkdtemp(prefix="gpu_check-"))
    junit = work / "tests.xml"
    test_status, test_output, test_seconds = _pytest(
        ["tests", "-k", "cuda", "--ignore=tests/benchmarks", "-p", "no:cacheprovider", "-q",
         f"--junitxml={junit}"], TEST_TIMEOUT_S)
    print(test_output[-3000:], flush=True)
    tests = read_junit(junit)
    # the realistic-shape tests (marked gpu, named test_gpu_*) skip unless a real GPU runs them
    gpu_ran = any(name.split("::")[-1].startswith("test_gpu_") and outcome != "skipped"
                  for name, outcome, _, _ in tests)
    bench_status, bench_seconds, benchmarks, machine_info = 0, 0.0, [], {}
    for index, name in enumerate(BENCH_FILES):
        left = BUDGET_S - (time.perf_counter() - start)
        if left < 20:
            bench_status = f"{bench_status}; {name} not run (time budget spent)"
            continue
        out = work / f"bench-{index}.json"
        status, output, seconds = _pytest(
            [f"tests/benchmarks/{name}", "-k", "cuda", "-p", "no:cacheprovider", "-q",
             "--benchmark-only", f"--benchmark-json={out}"], left - 10)
        print(output[-2000:], flush=True)
        bench_seconds += seconds
        if status != 0:
            bench_status = f"{bench_status}; {name}: {status}"
        info, rows = read_benchmarks(out)
        machine_info = machine_info or info
        benchmarks += rows
    write_report(args.report, device, tests, test_status, test_seconds, machine_info, benchmarks,
                 bench_status, bench_seconds, time.perf_counter() - start, gpu_ran)
    print(f"report written to {args.report}")
    ok = test_status == 0 and bench_status == 0 and gpu_ran and tests and benchmarks
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
