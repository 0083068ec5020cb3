"""Write the student copy: `reference/` with each exercise's body replaced by a hint and
`raise NotImplementedError`, under its docstring, and every docstring's "Derivation:" section
left out; everything else byte for byte as in the project.

What stays of an exercise's body are the leading statements that check the inputs (`check_*(...)`
calls, `if ...: raise ...` blocks), unpack a parameter (`A_prev, W, b = cache`) or normalise one
(`x_old = _start_point(x_old)`): bad input keeps its message, the math is the student's.

A docstring in reference/ keeps the equation to start from and the shapes above a line that reads
"Derivation:", and the result below it; the copy ends such a docstring before that line, so the
student starts where the derivation starts.
"""

import ast
import textwrap
from pathlib import Path

from exercises.catalog import EXERCISES

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference"


class CopyError(ValueError):
    """The student copy cannot be written; the message says why."""


def find_function(tree, qualname):
    """The FunctionDef for "name", "Class.method" or "Class.method.inner" in a parsed module."""
    node = tree
    for part in qualname.split("."):
        node = next((child for child in ast.iter_child_nodes(node)
                     if isinstance(child, (ast.FunctionDef, ast.ClassDef)) and child.name == part), None)
        if node is None:
            raise LookupError(f"{qualname} is not defined (no {part!r})")
    return node


def _callee(call):
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


DERIVATION = "Derivation:"


def _checks_inputs(statement, parameters):
    """True for a statement that checks, unpacks or normalises the inputs (kept in the copy)."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        return "check" in _callee(statement.value)
    if isinstance(statement, (ast.If, ast.For)):
        nodes = list(ast.walk(statement))
        return (any(isinstance(n, ast.Raise) for n in nodes)
                and not any(isinstance(n, (ast.Return, ast.Assign, ast.AugAssign)) for n in nodes))
    if isinstance(statement, ast.Assign):
        value = statement.value
        if isinstance(value, ast.Name):  # A_prev, W, b = cache
            return value.id in parameters
        if isinstance(value, ast.Call):
            if "check" in _callee(value):
                return True
            targets = statement.targets
            return (len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id in parameters
                    and any(isinstance(n, ast.Name) and n.id == targets[0].id for n in ast.walk(value)))
    return False


def _blank_body(lines, function, number, exercise):
    """Replace the function's body after its docstring and input checks with the hint and the raise."""
    body = list(function.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    parameters = {arg.arg for arg in function.args.args + function.args.kwonlyargs}
    kept = 0
    while kept < len(body) and _checks_inputs(body[kept], parameters):
        kept += 1
    math = body[kept:]
    if not math:
        raise LookupError(f"{exercise.function}: nothing left to write after its input checks")
    first, last = math[0].lineno - 1, math[-1].end_lineno  # 0-based, end exclusive
    # comments that explain the math go with it; the def line, the docstring's end or the last
    # check stops the walk (none of them is a comment)
    while lines[first - 1].strip().startswith("#"):
        first -= 1
    indent = " " * math[0].col_offset
    comment = textwrap.wrap(f"Exercise {number} (slide \"{exercise.slide}\"; derived in notebooks/"
                            f"{exercise.notebook}.ipynb): write this body. Hint: {exercise.hint} "
                            f"Then: invoke grade --folder <this folder> --exercise {exercise.name}",
                            width=96 - len(indent))
    lines[first:last] = [f"{indent}# {line}\n" for line in comment] + [
        f"{indent}raise NotImplementedError(\"exercise {number}: {exercise.title}\")\n"]


def _docstrings(tree):
    """The docstring nodes of a module and of every class and function in it."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                yield first


def _drop_derivations(lines, tree):
    """End each docstring before its "Derivation:" line (bottom-up, so line numbers stay put)."""
    for node in sorted(_docstrings(tree), key=lambda n: n.lineno, reverse=True):
        start, end = node.lineno - 1, node.end_lineno  # 0-based, end exclusive
        marks = [i for i in range(start + 1, end) if lines[i].strip() == DERIVATION]
        if not marks:
            continue
        cut = marks[0]
        while cut > start + 1 and not lines[cut - 1].strip():
            cut -= 1  # the blank lines before the section go with it
        quote = lines[end - 1].strip()[-3:]
        lines[cut:end] = [f"{' ' * node.col_offset}{quote}\n"]  # at the opening quotes' indent


def student_source(path, exercises=None):
    """The text of one reference file with its exercises blanked (bottom-up, so lines stay put)."""
    exercises = EXERCISES if exercises is None else exercises
    text = Path(path).read_text()
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    relative = Path(path).resolve().relative_to(ROOT).as_posix()
    mine = [(EXERCISES.index(exercise) + 1, exercise) for exercise in exercises
            if exercise.file == relative]
    mine.sort(key=lambda item: find_function(tree, item[1].function).lineno, reverse=True)
    for number, exercise in mine:
        _blank_body(lines, find_function(tree, exercise.function), number, exercise)
    blanked = "".join(lines)
    lines = blanked.splitlines(keepends=True)
    _drop_derivations(lines, ast.parse(blanked))
    source = "".join(lines)
    ast.parse(source)  # the copy must still be valid Python
    return source


def exercises_markdown(folder):
    rows = "\n".join(
        f"| {number} | {exercise.slide} | {exercise.title} | `{exercise.file}`, "
        f"`{exercise.function}` | `{exercise.name}` |" for number, exercise in enumerate(EXERCISES, start=1))
    return f"""# Exercises: ML and PyTorch Basics (HPML course)

Each function below has its docstring (the equation to start from, the shapes) and a hint, and a
body that raises `NotImplementedError`. The notebook named beside it derives the result; try it
yourself first. Write the body, then grade your copy from the project's folder:

    invoke grade --folder {folder}                       # every exercise, one line each
    invoke grade --folder {folder} --exercise NAME       # one (NAME or its number)
    invoke grade --folder {folder} --exercise NAME --verbose   # and pytest's full output

The grader checks each function on inputs where a wrong answer shows (a node used twice,
saturated outputs, a step of exactly CRITERIA, float32 inputs, inputs that must stay unchanged),
compares it with torch.autograd, and says what differs, by how much, and the likely mistake.
Each exercise is graded alone (the project's versions stand in for the others), except the last:
it runs your own backward against your own numerical gradient.

| # | slide | exercise | where | NAME |
|---|---|---|---|---|
{rows}
"""


def write_student_copy(folder, exercises=None):
    """Write folder/reference/ (the blanked copy) and folder/EXERCISES.md; return the files written.

    exercises: the ones to blank (default all; the tests blank a few to grade them against the
    project's versions of the rest)."""
    folder = Path(folder).resolve()
    target = folder / "reference"
    if target == REFERENCE:
        raise CopyError(f"{folder} is the project itself; choose another folder for the student copy")
    if target.exists():
        raise CopyError(f"{target} exists already (your work?); remove it or choose another folder")
    if folder.exists() and not folder.is_dir():
        raise CopyError(f"{folder} is a file; expected a folder")
    target.mkdir(parents=True)
    written = []
    for path in sorted(REFERENCE.glob("*.py")):
        written.append(target / path.name)
        written[-1].write_text(student_source(path, exercises))
    written.append(folder / "EXERCISES.md")
    written[-1].write_text(exercises_markdown(folder))
    return written
