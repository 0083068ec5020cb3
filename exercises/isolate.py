"""Grade one exercise at a time: the other exercises of a student copy get the project's versions.

A student who has written `_backward` but not yet `_linear_backward` should hear about the loop,
not about the missing layer. So while one exercise is graded, every other exercise's function in
the student's modules is replaced by the project's own version of it, compiled from
reference/<file>.py into the student's module (its globals are the student's module, so it calls
whatever the student's module holds). For an exercise that is a closure inside a method
(`Node.__add__.local_backward`) the method is replaced. Every replacement goes through pytest's
monkeypatch, so it is undone after the test.

Names bound to an exercise function elsewhere (`ACTIVATIONS["sigmoid"] = (sigmoid, sigmoid_prime)`,
a `from reference.activations import ...`) are rebound too.
"""

import ast
import importlib
import textwrap
from pathlib import Path

from exercises.catalog import EXERCISES

ROOT = Path(__file__).resolve().parent.parent


def _definition(file, qualname):
    """(source, name) of the project's definition of `qualname` in `file` (a method's, for a closure)."""
    parts = qualname.split(".")[:2]  # a closure inside a method: the method
    tree = ast.parse((ROOT / file).read_text())
    node = tree
    for part in parts:
        node = next(child for child in ast.iter_child_nodes(node)
                    if isinstance(child, (ast.FunctionDef, ast.ClassDef)) and child.name == part)
    source = ast.get_source_segment((ROOT / file).read_text(), node)
    return textwrap.dedent(" " * node.col_offset + source), parts


def project_version(module, file, qualname):
    """The project's function for `qualname`, compiled with `module`'s globals."""
    source, parts = _definition(file, qualname)
    namespace = {}
    exec(compile(source, f"<project {file}>", "exec"), vars(module), namespace)  # noqa: S102
    return namespace[parts[-1]], parts


def _student_modules(folder):
    """The student's modules, imported (they are on sys.path first: the grader makes sure)."""
    modules = []
    for path in sorted((Path(folder) / "reference").glob("*.py")):
        if path.stem != "__init__":
            modules.append(importlib.import_module(f"reference.{path.stem}"))
    return modules


def _rebind(modules, old, new, monkeypatch):
    """Every module-level name and ACTIVATIONS-style tuple entry that holds `old` now holds `new`."""
    for module in modules:
        for name, value in list(vars(module).items()):
            if value is old:
                monkeypatch.setattr(module, name, new)
            elif isinstance(value, dict):
                for key, entry in list(value.items()):
                    if isinstance(entry, tuple) and any(item is old for item in entry):
                        monkeypatch.setitem(value, key, tuple(new if item is old else item for item in entry))


def isolate(graded, folder, monkeypatch, exercises=EXERCISES):
    """Replace every exercise but `graded` (an Exercise) in the student's modules by the project's."""
    modules = _student_modules(folder)
    for exercise in exercises:
        if exercise is graded:
            continue
        module = importlib.import_module("reference." + Path(exercise.file).stem)
        function, parts = project_version(module, exercise.file, exercise.function)
        if len(parts) == 1:
            old = getattr(module, parts[0])
            monkeypatch.setattr(module, parts[0], function)
            _rebind(modules, old, function, monkeypatch)
        else:
            monkeypatch.setattr(getattr(module, parts[0]), parts[1], function)
    return modules
