"""The grading tests' set-up: the student's copy, one exercise at a time, and the results file.

The grader (exercises/grade.py) runs pytest in the student's folder with GRADE_FOLDER set to it and
GRADE_RESULTS to a JSON file: `import reference` finds the copy, each test gets the `student`
fixture (the copy's modules, every other exercise replaced by the project's version; see
exercises/isolate.py), and every test's outcome and one-line message go to the file.
"""

import importlib
import json
import os
import re
from pathlib import Path

import pytest

from exercises.catalog import EXERCISE_OF_TEST
from exercises.grading import support
from exercises.isolate import isolate

FOLDER = Path(os.environ.get("GRADE_FOLDER", Path(__file__).resolve().parents[2])).resolve()
RESULTS = []


class Student:
    """The student's reference modules by name: student.network, student.graph, ..."""

    def __init__(self, modules):
        for module in modules:
            setattr(self, module.__name__.split(".")[-1], module)


def _import_error_line(error):
    where = re.findall(r'File "([^"]+)", line (\d+)', "".join(
        __import__("traceback").format_exception(error)))
    inside = [(f, n) for f, n in where if Path(f).resolve().is_relative_to(FOLDER)]
    at = f" ({Path(inside[-1][0]).relative_to(FOLDER)}, line {inside[-1][1]})" if inside else ""
    if isinstance(error, SyntaxError) and error.filename:
        at = f" ({Path(error.filename).name}, line {error.lineno})"
    return f"your copy does not import: {type(error).__name__}: {str(error).splitlines()[0]}{at}"


@pytest.fixture
def student(request, monkeypatch):
    exercise = EXERCISE_OF_TEST[request.function.__name__]
    support.current_exercise = exercise
    try:
        reference = importlib.import_module("reference")
        assert Path(reference.__file__).resolve().is_relative_to(FOLDER), (
            f"reference is {reference.__file__}, not the copy in {FOLDER}")
        modules = (isolate(exercise, FOLDER, monkeypatch) if exercise.isolated else
                   [importlib.import_module(f"reference.{p.stem}")
                    for p in sorted((FOLDER / "reference").glob("*.py")) if p.stem != "__init__"])
    except (ImportError, SyntaxError, NameError, AttributeError, TypeError, ValueError) as error:
        support.fail(_import_error_line(error))
    return Student(modules)


def pytest_runtest_logreport(report):
    """Record each test's outcome: its call, or a set-up that failed or skipped."""
    if report.when == "call" or report.outcome != "passed":
        message = ""
        if report.failed:
            longrepr = report.longrepr
            crash = getattr(longrepr, "reprcrash", None)
            message = crash.message if crash is not None else str(longrepr)
            message = " ".join(message.split()).removeprefix("Failed: ") or "failed (no message)"
        elif report.skipped:
            message = "skipped: " + " ".join(str(report.longrepr[-1] if isinstance(report.longrepr, tuple)
                                                 else report.longrepr).split())
        RESULTS.append({"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
                        "message": message})


def pytest_sessionfinish(session):
    path = os.environ.get("GRADE_RESULTS")
    if path:
        Path(path).write_text(json.dumps(RESULTS))
