"""`invoke mutants`: the suite's mutation score, with mutmut, one group of modules at a time.

mutmut (3.x) writes every mutant of a module into one copy of it, behind a trampoline that picks
the mutant by an environment variable, runs the tests once to record which tests call which
function, and then runs, for each mutant, only the tests that call its function, in a forked
process, stopping at the first failure. A mutant is "killed" when a test fails, "survived" when
all pass, "no tests" when no test of the group calls its function. Functions with a decorator
(every numba @njit kernel) are not mutated: a mutated kernel would be recompiled for each mutant.

Each group runs in a scratch copy of the project, .mutants/<group>/ (kept, so a rerun only tests
what changed), with the group's modules mutated and the group's tests selected:

    reference   reference/ (the checks included)          the reference's tests, not on kernels.cuda
    cpu         kernels.cpu's network.py and step.py, kernels/memo.py, paths.py, activations.py
                                                          the network tests, not on kernels.cuda
    cuda        kernels.cuda's network.py and step.py     the network tests on kernels.cuda and the
                                                          device step's (their names say cuda or device)
    train       train/csv_data.py, train/cli.py            the CSV and invoke train tests
    exercises   exercises/'s grade, catalog, student_copy   the exercises' and the grader's tests
                (what runs in the test process)

Times and scores on the 2-core Xeon, shared with other work, are in docs/mutants.md, with every
surviving mutant and why it survives. Not part of CI: it runs for tens of minutes.

    python tools/mutants.py [GROUP ...] [--ref COMMIT] [--max-children N] [--again]

--again tests the last run's survivors once more (after tests were written for them); mutmut
itself tests again the mutants of every function whose code changed.
--ref takes the project's files (tests included) from a commit instead of the working tree (this
file always from the working tree): a score before a change of the tests.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = ROOT / ".mutants"

NOT_CUDA = ["-k", "not cuda"]
NETWORK_TESTS = ["tests/test_network.py", "tests/test_activations.py", "tests/test_bad_input.py",
                 "tests/test_validation.py", "tests/test_path_api.py", "tests/test_training.py",
                 "tests/test_gradient_check.py", "tests/test_cost_threshold.py"]

# group -> (files to mutate, the tests that may kill them: pytest's selection arguments)
GROUPS = {
    "reference": (["reference/*"],
                  NETWORK_TESTS + ["tests/test_losses.py", "tests/test_regression.py",
                                   "tests/test_gradient_descent.py", "tests/test_graph.py",
                                   "tests/test_graph_kinds.py", "tests/test_slide_examples.py",
                                   "tests/test_tensors.py", "tests/test_vjp.py",
                                   "tests/test_ml_basics.py"] + NOT_CUDA),
    "cpu": (["kernels/cpu/network.py", "kernels/cpu/step.py", "kernels/memo.py", "kernels/paths.py",
             "kernels/activations.py"],
            NETWORK_TESTS + ["tests/test_cpu_step.py"] + NOT_CUDA),
    "cuda": (["kernels/cuda/network.py", "kernels/cuda/step.py"],
             NETWORK_TESTS + ["tests/test_cuda_kernels.py", "tests/test_cuda_simulator.py",
                              "-k", "cuda or device"]),
    "train": (["train/csv_data.py", "train/cli.py"],
              ["tests/test_train_csv.py", "tests/test_train_task.py"]),
    # the grader's own side: its tests (exercises/grading/), diagnose.py and isolate.py run in
    # the child pytest it starts on a student's copy, where mutmut records no calls
    # (docs/mutants.md)
    "exercises": (["exercises/grade.py", "exercises/catalog.py", "exercises/student_copy.py"],
                  ["tests/test_exercises.py"]),
}
# Later tests join a group when they exist (a --ref commit may predate them).
LATER_TESTS = {
    "reference": ["tests/test_step_stateful.py", "tests/test_broadcasting.py",
                  "tests/test_precision.py", "tests/test_engine_thresholds.py"],
    "cpu": ["tests/test_step_stateful.py", "tests/test_broadcasting.py", "tests/test_precision.py",
            "tests/test_engine_thresholds.py", "tests/test_memo.py", "tests/test_cpu_dtypes.py"],
    "cuda": ["tests/test_step_stateful.py", "tests/test_broadcasting.py", "tests/test_precision.py",
             "tests/test_memo.py", "tests/test_cuda_one_step.py"],
    "train": ["tests/test_csv_property.py", "tests/test_train_outputs.py"],
    "exercises": ["tests/test_grade_outcomes.py"],
}
PACKAGES = ["reference", "kernels", "train", "exercises", "plots", "bench", "tools"]
ALSO_COPY = ["data", "docs", "tasks.py", "README.md", "requirements.txt"]


def project_files(ref):
    """The project's files: from a commit, or the working tree (tracked and not ignored)."""
    if ref:
        out = subprocess.run(["git", "ls-tree", "-r", "--name-only", ref], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
    else:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
    return [name for name in out.splitlines() if name and not name.startswith(".mutants/")]


def prepare(group, ref):
    """.mutants/<group>/: the project's files and a [tool.mutmut] section for the group."""
    where = SCRATCH / (group + (f"-{ref}" if ref else ""))
    mutate, selection = GROUPS[group]
    files = project_files(ref)
    for name in files:
        target = where / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if ref:
            blob = subprocess.run(["git", "show", f"{ref}:{name}"], cwd=ROOT, check=True,
                                  capture_output=True).stdout
            if not target.exists() or target.read_bytes() != blob:
                target.write_bytes(blob)
        elif (ROOT / name).is_file() and (not target.exists()
                                         or target.read_bytes() != (ROOT / name).read_bytes()):
            shutil.copy2(ROOT / name, target)
    later = [t for t in LATER_TESTS.get(group, []) if (where / t).exists()]
    test_files = [a for a in selection if a.startswith("tests/")] + later
    options = [a for a in selection if not a.startswith("tests/")]
    config = {
        "source_paths": PACKAGES,
        "only_mutate": mutate,
        "also_copy": ALSO_COPY,
        "pytest_add_cli_args_test_selection": test_files + options,
        # the project's addopts, without the benchmarks' flag the selection does not need
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-o", "addopts=-ra"] + (
            ["-p", "tools.mutmut_stats_plugin"] if group == "exercises" else []),
        "process_isolation": "forkserver",  # torch and numba's threads are not fork-safe
        "timeout_multiplier": 5.0,
        "use_git_change_detection": False,
    }
    pyproject = (where / "pyproject.toml").read_text().split("\n[tool.mutmut]")[0]
    lines = ["[tool.mutmut]"] + [f"{key} = {json.dumps(value)}" for key, value in config.items()]
    (where / "pyproject.toml").write_text(pyproject.rstrip() + "\n\n" + "\n".join(lines) + "\n")
    return where


def forget_survivors(where):
    """Mark the group's surviving mutants (and those no test called) as not run yet, so that the
    next run tests them with the tests written since; mutmut keeps every other result. Its record
    of which tests call which function goes too: mutmut records it again only for tests with new
    names, so a test that was changed to call one more function would not be run for it."""
    (where / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    for meta in (where / "mutants").rglob("*.meta"):
        data = json.loads(meta.read_text())
        codes = data["exit_code_by_key"]
        for name, code in codes.items():
            if code in (0, 33):  # mutmut's exit codes: 0 survived, 33 no tests
                codes[name] = None
        meta.write_text(json.dumps(data))


def summary(where):
    """{status: count} and the surviving mutants' names, from mutmut's own records."""
    subprocess.run([sys.executable, "-m", "mutmut", "export-cicd-stats"], cwd=where, check=True,
                   capture_output=True)
    stats = json.loads((where / "mutants" / "mutmut-cicd-stats.json").read_text())
    results = subprocess.run([sys.executable, "-m", "mutmut", "results"], cwd=where, check=True,
                             capture_output=True, text=True).stdout
    left = [line.strip() for line in results.splitlines() if line.strip()]
    return stats, left


def score(stats):
    """Killed (a test failed, or the mutant hung or crashed) over every mutant, with those no
    test of the group calls counted as surviving."""
    detected = stats["killed"] + stats["timeout"] + stats["segfault"]
    return detected / max(1, stats["total"] - stats["skipped"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", default=list(GROUPS), help=f"of {list(GROUPS)}")
    parser.add_argument("--ref", default="", help="take the project's files from this commit")
    parser.add_argument("--max-children", type=int, default=1, help="mutants tested at once")
    parser.add_argument("--again", action="store_true",
                        help="test the last run's survivors again (after new tests)")
    args = parser.parse_args(argv)
    unknown = [g for g in args.groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group {unknown[0]!r}; expected one of {list(GROUPS)}")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    for group in args.groups:
        where = prepare(group, args.ref)
        if args.again:
            forget_survivors(where)
        start = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children",
                              str(args.max_children)], cwd=where, env=env)
        minutes = (time.monotonic() - start) / 60
        if run.returncode:
            print(f"mutants {group}: mutmut exited with {run.returncode} after {minutes:.1f} min")
            return run.returncode
        stats, left = summary(where)
        line = (f"mutants {group}: {score(stats):.1%} killed ({stats['killed']} killed, "
                f"{stats['timeout']} timed out, {stats['survived']} survived, {stats['no_tests']} "
                f"without a test, of {stats['total']}) in {minutes:.1f} min")
        print(line)
        (where / "summary.txt").write_text(line + "\n" + "\n".join(left) + "\n")
        for name in left:
            print("   ", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
