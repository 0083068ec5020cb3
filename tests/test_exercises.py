"""`invoke exercises` and `invoke grade`: the reference grades N/N, a fresh student copy 0/N, a copy
with one exercise solved 1/N; the copy keeps everything but the exercises' bodies."""

import ast
import importlib.util
import re
from pathlib import Path

import pytest
from invoke import MockContext
from invoke.exceptions import Exit

import tasks
from exercises.catalog import EXERCISES
from exercises.grade import grade, report
from exercises.student_copy import find_function, write_student_copy

ROOT = Path(__file__).resolve().parent.parent
N = len(EXERCISES)
# relu' written by hand here (not taken from the reference): 1 where Z > 0, else 0 (also at Z = 0).
RELU_SOLUTION = "return np.where(Z > 0, 1.0, 0.0).astype(Z.dtype)"


@pytest.fixture
def student(tmp_path):
    write_student_copy(tmp_path)
    return tmp_path


def solve(folder, number, body):
    """Replace exercise `number`'s raise line in the student copy with `body` (one line)."""
    path = folder / EXERCISES[number - 1].file
    text = path.read_text()
    pattern = rf'^( *)raise NotImplementedError\("exercise {number}: [^"]*"\)$'
    assert len(re.findall(pattern, text, re.M)) == 1
    path.write_text(re.sub(pattern, lambda m: m.group(1) + body, text, flags=re.M))


def summary(results):
    return report(results).splitlines()[-1]


def test_the_reference_grades_n_of_n_in_the_slides_order(capsys):
    tasks.grade(MockContext(), folder=str(ROOT))
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"{N}/{N} exercises pass"
    assert len(lines) == N + 1
    for number, (line, exercise) in enumerate(zip(lines, EXERCISES, strict=False), start=1):
        assert line.startswith(f"{number:2d}. {exercise.name} ") and "pass (" in line, line
    assert [exercise.function for exercise in EXERCISES] == [
        "sigmoid_prime", "tanh_prime", "relu_prime", "gradient_descent", "cross_entropy",
        "output_gradient", "_linear_backward", "_update", "Node.__add__.local_backward",
        "Node.__mul__.local_backward"]


def test_a_fresh_copy_grades_0_of_n_and_says_what_to_write(student):
    results = grade(student)
    assert summary(results) == f"0/{N} exercises pass"
    for number, result in enumerate(results, start=1):
        assert f"NotImplementedError: exercise {number}: {result.exercise.name}" in result.failure
        assert result.cases > 0


def test_one_solved_exercise_grades_1_of_n(student, capsys):
    solve(student, 3, RELU_SOLUTION)
    with pytest.raises(Exit) as raised:
        tasks.grade(MockContext(), folder=str(student))
    assert raised.value.code == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"1/{N} exercises pass"
    assert " 3. relu' " in lines[2] and "pass (" in lines[2]
    assert all("FAIL" in line for k, line in enumerate(lines[:-1]) if k != 2)


def test_a_wrong_answer_names_the_first_failing_check(student):
    solve(student, 3, "return np.ones_like(Z)")  # forgot the mask
    result = grade(student)[2]
    assert result.failure.startswith("test_activation_and_backward_match_torch[reference-f64-relu]: ")
    assert "dZ: relative error" in result.failure


def test_a_copy_that_does_not_import_fails_its_exercises_with_the_reason(student):
    path = student / "reference" / "activations.py"
    path.write_text(path.read_text() + "\ndef broken(:\n")
    results = grade(student)
    assert "SyntaxError: invalid syntax" in results[0].failure
    assert f"({student}/reference/activations.py, line " in results[0].failure
    assert results[5].failure.startswith("tests/test_network.py does not import: SyntaxError: invalid syntax")
    assert "NotImplementedError: exercise 5: cross_entropy" in results[4].failure  # the rest still ran


def test_the_copy_keeps_docstrings_checks_and_everything_else(student):
    exercises_by_file = {}
    for exercise in EXERCISES:
        exercises_by_file.setdefault(exercise.file, []).append(exercise.function)
    for path in sorted((ROOT / "reference").glob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        ours, theirs = ast.parse(path.read_text()), ast.parse((student / relative).read_text())
        blanked = exercises_by_file.get(relative, [])
        for name in blanked:
            mine, copy = find_function(ours, name), find_function(theirs, name)
            assert ast.get_docstring(copy) == ast.get_docstring(mine)
            assert isinstance(copy.body[-1], ast.Raise), name
            assert "NotImplementedError" in ast.unparse(copy.body[-1])
            kept = [ast.dump(s) for s in copy.body[:-1]]
            assert kept == [ast.dump(s) for s in mine.body[:len(kept)]], "the door is the original's"
        if not blanked:
            assert (student / relative).read_text() == path.read_text()
        top = {node.name for node in ours.body if isinstance(node, ast.FunctionDef | ast.ClassDef)}
        for name in top - {name.split(".")[0] for name in blanked}:
            assert ast.dump(find_function(theirs, name)) == ast.dump(find_function(ours, name)), name
    assert "invoke grade --folder" in (student / "EXERCISES.md").read_text()


def test_the_door_keeps_bad_input_messages(student):
    """gradient_descent's input checks stay in the copy: bad input gets the reference's message
    before the raise, good input reaches the exercise."""
    spec = importlib.util.spec_from_file_location(
        "student_gradient_descent", student / "reference" / "gradient_descent.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(ValueError, match=r"alpha = -1; expected a finite number > 0"):
        module.gradient_descent(lambda x: 2 * x, 1.0, alpha=-1)
    with pytest.raises(NotImplementedError, match="exercise 4"):
        module.gradient_descent(lambda x: 2 * x, 1.0, alpha=0.1)


def test_exercises_never_overwrite_a_copy_or_the_project(student):
    with pytest.raises(Exit) as raised:
        tasks.exercises(MockContext(), folder=str(student))
    assert raised.value.code == 2 and "exists already (your work?)" in raised.value.message
    with pytest.raises(Exit) as raised:
        tasks.exercises(MockContext(), folder=str(ROOT))
    assert "is the project itself" in raised.value.message


def test_grading_a_folder_without_a_copy_says_how_to_make_one(tmp_path):
    with pytest.raises(Exit) as raised:
        tasks.grade(MockContext(), folder=str(tmp_path))
    assert raised.value.code == 2
    assert "holds no reference/ package; write the student copy first with invoke exercises --folder" in (
        raised.value.message)
