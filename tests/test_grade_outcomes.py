"""The grader reads a pytest run: each outcome a test can have reaches the student's line.

Two halves: the grading conftest's hook, in a real pytest run of tests that pass, fail, error in
their set-up, skip and fail without a message, writes each outcome and its one-line message; and
grade() turns every combination of those records (and a test that never ran) into pass or FAIL
with the message of the first case that did not pass.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import exercises.grade as grade_module
from exercises.catalog import BY_NAME
from exercises.grade import grade

ROOT = Path(__file__).resolve().parent.parent

OUTCOMES = '''
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("the fixture broke")

def test_passes():
    assert 1 + 1 == 2

def test_fails():
    assert 0.5 == 1.0, "dW1: yours is 0.5 x torch's"

def test_errors(broken):
    pass

def test_skips():
    pytest.skip("no GPU here")

def test_fails_bare():
    assert False

@pytest.mark.parametrize("z", [1.0, -1.0])
def test_cases(z):
    assert z > 0, f"g'(z) wrong at z = {z}"
'''


def test_the_grading_hook_records_each_outcome_with_its_message(tmp_path):
    (tmp_path / "test_outcomes.py").write_text(textwrap.dedent(OUTCOMES))
    results = tmp_path / "results.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRADE_RESULTS": str(results),
           "GRADE_FOLDER": str(tmp_path)}
    subprocess.run([sys.executable, "-m", "pytest", "-p", "exercises.grading.conftest", "-p",
                    "no:cacheprovider", "-c", os.devnull, "--rootdir", str(tmp_path), "-q",
                    str(tmp_path / "test_outcomes.py")], cwd=tmp_path, env=env, capture_output=True,
                   check=False, timeout=120)
    records = {r["nodeid"].split("::")[-1]: r for r in json.loads(results.read_text())}
    assert set(records) == {"test_passes", "test_fails", "test_errors", "test_skips",
                            "test_fails_bare", "test_cases[1.0]", "test_cases[-1.0]"}
    assert (records["test_passes"]["outcome"], records["test_passes"]["message"]) == ("passed", "")
    assert records["test_fails"]["outcome"] == "failed"
    assert "dW1: yours is 0.5 x torch's" in records["test_fails"]["message"]
    errored = records["test_errors"]
    assert (errored["outcome"], errored["when"]) == ("failed", "setup")
    assert "RuntimeError: the fixture broke" in errored["message"]
    assert records["test_skips"]["outcome"] == "skipped"
    assert "no GPU here" in records["test_skips"]["message"]
    assert records["test_fails_bare"]["outcome"] == "failed"
    assert records["test_fails_bare"]["message"].strip(), "a bare assert must still say something"
    assert records["test_cases[1.0]"]["outcome"] == "passed"
    assert "g'(z) wrong at z = -1.0" in records["test_cases[-1.0]"]["message"]


def record(case, outcome, message="", when="call"):
    """A grading test's record; case None for a test without parameters."""
    nodeid = "exercises/grading/test_activations.py::test_sigmoid_prime" + (f"[{case}]" if case else "")
    return {"nodeid": nodeid, "when": when, "outcome": outcome, "message": message}


@pytest.mark.parametrize("records, expected", [
    ([record("a", "passed"), record("b", "passed")], ""),
    ([record("a", "passed"), record("b", "failed", "value: yours is 2 x torch's")],
     "b: value: yours is 2 x torch's"),
    ([record("a", "failed", "RuntimeError: broke", when="setup"), record("b", "passed")],
     "a: RuntimeError: broke"),
    ([record("a", "passed"), record("b", "skipped", "skipped: no GPU here")], "b: skipped: no GPU here"),
    ([record("a", "failed", "first"), record("b", "failed", "second")], "a: first"),
    ([], "no test ran for it (run invoke grade --verbose to see pytest's output)"),
    ([record(None, "failed", "value: yours is 2 x torch's")], "value: yours is 2 x torch's"),
    ([record("X", "failed", "X changed in place")], "X: X changed in place"),
], ids=["passed", "failed", "errored", "skipped", "first-of-two", "not-collected", "no-parameters",
        "case-X"])
def test_grade_reads_each_outcome(tmp_path, monkeypatch, records, expected):
    """Only an exercise all of whose cases ran and passed passes; else the first other case."""
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "__init__.py").write_text("")
    exercise = BY_NAME["sigmoid_prime"]
    monkeypatch.setattr(grade_module, "run_pytest", lambda folder, exercises: (records, ""))
    [result], _ = grade(tmp_path, [exercise])
    assert result.failure == expected
    assert result.cases == len(records)


def test_an_exercise_one_of_whose_tests_did_not_run_does_not_pass(tmp_path, monkeypatch):
    """An exercise graded by two tests, one of them not collected, has checked only half."""
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "__init__.py").write_text("")
    exercise = BY_NAME["sigmoid_prime"]
    two = type(exercise)(**{**exercise.__dict__, "tests": exercise.tests + ("test_sigmoid_prime_more",)})
    monkeypatch.setattr(grade_module, "EXERCISES", [two])
    monkeypatch.setattr(grade_module, "run_pytest",
                        lambda folder, exercises: ([record("a", "passed")], ""))
    [result], _ = grade(tmp_path, [two])
    assert result.failure.startswith("test_sigmoid_prime_more did not run (not collected")
