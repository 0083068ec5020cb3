"""Grade a student copy: the project's torch-pinned tests of each exercise, run against the copy.

One pytest run in a subprocess whose working folder is the student's folder, so that `import
reference` finds the copy before the project's own `reference/` (Python puts the working folder
first on sys.path for `python -m`; the project follows on PYTHONPATH for `tests.torch_compare`).
Only the exercises' test functions run, and only their reference-path cases (`-k`). pytest
writes a JUnit XML report; each test case is assigned to the exercises whose checks it matches,
and an exercise passes when all of its cases ran and passed.
"""

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from exercises.catalog import EXERCISES

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 600


class GradeError(ValueError):
    """The folder cannot be graded; the message says why."""


@dataclass
class Result:
    exercise: object
    cases: int  # test cases that ran for this exercise
    failure: str  # "" when every case passed: else the first failing case and its message


ERROR_LINE = re.compile(r"^\s*(?:E\s+)?(\w+(?:Error|Exception)\b.*)$")
WHERE = re.compile(r'File "([^"]+)", line (\d+)')


def _first_line(text):
    """What went wrong, in one line: the message's first line; for an error raised while importing
    (a syntax error in the copy), its last 'XxxError: ...' line and where it points."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return "(no message)"
    errors = [match.group(1).rstrip('"') for line in lines if (match := ERROR_LINE.match(line))]
    if errors and not ERROR_LINE.match(lines[0]):
        where = WHERE.findall(text)
        return errors[-1] + (f" ({where[-1][0]}, line {where[-1][1]})" if where else "")
    return lines[0]


def run_pytest(folder, exercises=EXERCISES, timeout=TIMEOUT_S):
    """Run the exercises' tests against folder/reference; returns (cases, collection errors, output).

    cases: [(file, test name with its [id], failure message or "")]; errors: {file: message}.
    """
    tests = sorted({(check.file, check.test) for exercise in exercises for check in exercise.checks})
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        # files and a -k expression rather than node ids: a node id in a module that fails to
        # import would stop the whole run ("found no collectors"), hiding the other exercises
        select = " or ".join(sorted({test for _, test in tests}))
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
                   "-c", str(ROOT / "pyproject.toml"), "-k", f"({select}) and not cpu and not cuda",
                   "--continue-on-collection-errors", f"--junitxml={report}",
                   *sorted({str(ROOT / file) for file, _ in tests})]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)]),
               "OPENBLAS_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise GradeError(f"the tests did not finish in {timeout} s (an endless loop?)") from None
        if not report.exists():
            raise GradeError(f"pytest wrote no report:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        suite = ET.parse(report).getroot()
    cases, errors = [], {}
    for case in suite.iter("testcase"):
        module = case.get("classname", "")
        if not module:  # a module that could not be collected (an import or syntax error)
            failure = case.find("error")
            errors[case.get("name", "").replace(".", "/") + ".py"] = _first_line(
                failure.text if failure is not None else "")
            continue
        file = module.replace(".", "/") + ".py"
        bad = next((child for child in case if child.tag in ("failure", "error")), None)
        skipped = case.find("skipped")
        if bad is not None:
            message = _first_line(bad.get("message") or bad.text)
        elif skipped is not None:
            message = f"skipped: {_first_line(skipped.get('message'))}"
        else:
            message = ""
        cases.append((file, case.get("name", ""), message))
    return cases, errors, done.stdout


def _matches(check, file, name):
    test, _, params = name.partition("[")
    return (file == check.file and test == check.test
            and (not check.params or re.search(check.params, params.rstrip("]")) is not None))


def grade(folder, exercises=EXERCISES):
    """[Result per exercise], in the catalog's (the slides') order."""
    folder = Path(folder).resolve()
    if not (folder / "reference" / "__init__.py").exists():
        raise GradeError(f"{folder} holds no reference/ package; write the student copy first with "
                         f"invoke exercises --folder {folder}")
    cases, errors, _ = run_pytest(folder, exercises)
    results = []
    for exercise in exercises:
        mine = [(order, file, name, message) for file, name, message in cases
                for order, check in enumerate(exercise.checks) if _matches(check, file, name)]
        mine.sort(key=lambda case: case[0])  # the first failing check in the catalog's order
        broken = [f"{file} does not import: {errors[file]}" for file in
                  sorted({check.file for check in exercise.checks}) if file in errors]
        failing = [f"{name}: {message}" for _, _, name, message in mine if message]
        if broken or failing:
            failure = (broken or failing)[0]
        elif not mine:
            failure = "no test ran (the catalog's checks match no test)"
        else:
            failure = ""
        results.append(Result(exercise, len(mine), failure))
    return results


def report(results):
    """One line per exercise, then the summary line `K/N exercises pass`."""
    width = max(len(result.exercise.name) for result in results)
    lines = []
    for number, result in enumerate(results, start=1):
        status = f"pass ({result.cases} checks)" if not result.failure else f"FAIL {result.failure}"
        lines.append(f"{number:2d}. {result.exercise.name:<{width}}  {status}")
    passed = sum(not result.failure for result in results)
    lines.append(f"{passed}/{len(results)} exercises pass")
    return "\n".join(lines)
