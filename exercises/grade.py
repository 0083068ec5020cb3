"""Grade a student copy: the grading tests of exercises/grading/, run against the copy.

One pytest run in a subprocess whose working folder is the student's folder, so that `import
reference` finds the copy (Python puts the working folder first on sys.path for `python -m`; the
project follows on PYTHONPATH, for `exercises` and `tests.torch_compare`). Each exercise is graded
with the project's versions of the other exercises (exercises/isolate.py), so a line speaks of
one exercise only; the gradient check is the exception, on purpose: it runs the student's own
backward against the student's own numerical gradient.

Every test case writes its outcome and one-line message to a JSON file (the grading conftest);
an exercise passes when all of its cases ran and passed, and its line shows the first failing
case: the situation, the quantity that differs, how far, and the likely mistake.
"""

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from exercises.catalog import BY_NAME, EXERCISES

ROOT = Path(__file__).resolve().parent.parent
GRADING = ROOT / "exercises" / "grading"
TIMEOUT_S = 600


class GradeError(ValueError):
    """The folder cannot be graded; the message says why."""


@dataclass
class Result:
    number: int  # the exercise's number in the catalog (the slides' order)
    exercise: object
    cases: int  # test cases that ran for this exercise
    failure: str  # "" when every case passed: else the first failing case and its message


def select(names):
    """The exercises named (by name or number, as `invoke grade --exercise` takes them)."""
    if not names:
        return list(EXERCISES)
    chosen = []
    for name in names:
        if name.isdigit() and 1 <= int(name) <= len(EXERCISES):
            chosen.append(EXERCISES[int(name) - 1])
        elif name in BY_NAME:
            chosen.append(BY_NAME[name])
        else:
            known = ", ".join(exercise.name for exercise in EXERCISES)
            raise GradeError(f"no exercise {name!r}; expected a number 1-{len(EXERCISES)} or one of: {known}")
    return chosen


def run_pytest(folder, exercises=EXERCISES, timeout=TIMEOUT_S):
    """Run the exercises' grading tests against folder/reference; returns (results, pytest's output).

    results: [{"nodeid", "outcome", "message"}] in the order the tests ran.
    """
    tests = [test for exercise in exercises for test in exercise.tests]
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.json"
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(GRADING),
                   "-c", os.devnull, "--import-mode=importlib", "-q", "-rN", "-k", " or ".join(tests),
                   str(GRADING)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)]),
               "GRADE_FOLDER": str(folder), "GRADE_RESULTS": str(results),
               "OPENBLAS_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise GradeError(f"the grading did not finish in {timeout} s (an endless loop?)") from None
        if not results.exists():
            raise GradeError(f"pytest wrote no results:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        return json.loads(results.read_text()), done.stdout + done.stderr


def _test_of(nodeid):
    name = nodeid.split("::")[-1]
    test, _, case = name.partition("[")
    return test, case.rstrip("]")


def grade(folder, exercises=EXERCISES):
    """([Result per exercise] in the catalog's (the slides') order, pytest's full output)."""
    folder = Path(folder).resolve()
    if not (folder / "reference" / "__init__.py").exists():
        raise GradeError(f"{folder} holds no reference/ package; write the student copy first with "
                         f"invoke exercises --folder {folder}")
    records, output = run_pytest(folder, exercises)
    results = []
    for exercise in exercises:
        mine = [(exercise.tests.index(test), case, record) for record in records
                for test, case in [_test_of(record["nodeid"])] if test in exercise.tests]
        mine.sort(key=lambda item: item[0])  # stable: the cases keep their order within a test
        failing = [f"{case}: {record['message']}" if case else record["message"]
                   for _, case, record in mine if record["outcome"] != "passed"]
        ran = {exercise.tests[index] for index, _, _ in mine}
        missing = [test for test in exercise.tests if test not in ran]
        if not mine:
            failure = "no test ran for it (run invoke grade --verbose to see pytest's output)"
        elif failing:
            failure = failing[0]
        elif missing:  # a grading test that was not collected checks nothing: not a pass
            failure = (f"{missing[0]} did not run (not collected; run invoke grade --verbose to see "
                       f"pytest's output)")
        else:
            failure = ""
        results.append(Result(EXERCISES.index(exercise) + 1, exercise, len(mine), failure))
    return results, output


def report(results):
    """One line per exercise, then the summary line `K/N exercises pass`."""
    width = max(len(result.exercise.name) for result in results)
    lines = []
    for result in results:
        status = f"pass ({result.cases} checks)" if not result.failure else f"FAIL {result.failure}"
        lines.append(f"{result.number:2d}. {result.exercise.name:<{width}}  {status}")
    passed = sum(not result.failure for result in results)
    lines.append(f"{passed}/{len(results)} exercises pass")
    return "\n".join(lines)
