"""What every grading test uses: run the student's code, compare, fail with one line.

    Case          one graded situation: an id (what the student reads) and its data
    run(f, ...)   call the student's function; an exception becomes one line naming it and where
    expect(...)   fail with diagnose.difference's line unless the result agrees
    keep(...)     fail when the student's function changed an input array
    torch_grads   torch.autograd's value and gradients, float64, of an expression (the oracle:
                  tests/torch_compare.py's torch_twin, the suite's own)
"""

import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from exercises.diagnose import changed_input, difference
from tests.torch_compare import torch_twin as torch_grads  # noqa: F401  (the suite's one torch helper)

EXERCISE_RAISE = re.compile(r"exercise (\d+): (.*)")


@dataclass
class Case:
    id: str
    data: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(name) from None


def cases(*items):
    """pytest.mark.parametrize over Cases, each shown by its id."""
    return pytest.mark.parametrize("case", items, ids=[case.id for case in items])


def fail(message):
    pytest.fail(" ".join(str(message).split()), pytrace=False)


def _where(error):
    """(file, line) of the last frame of the traceback inside the student's reference/."""
    folder = Path(sys.modules["reference"].__file__).parent
    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).parent == folder]
    return (f"reference/{Path(frames[-1].filename).name}", frames[-1].lineno) if frames else None


def run(function, *args, **kwargs):
    """function(*args, **kwargs); an exception from the student's code fails the test in one line."""
    try:
        return function(*args, **kwargs)
    except Exception as error:  # noqa: BLE001  (whatever the student's code raises is the message)
        name = getattr(function, "__qualname__", getattr(function, "__name__", "your function"))
        match = EXERCISE_RAISE.search(str(error)) if isinstance(error, NotImplementedError) else None
        if match:
            from exercises.catalog import EXERCISES

            number = int(match.group(1))
            mine = getattr(sys.modules[__name__], "current_exercise", None)
            if mine is not None and EXERCISES[number - 1] is not mine:
                fail(f"this check uses your exercise {number} ({match.group(2)}), which is not "
                     f"written yet")
            fail(f"not written yet (NotImplementedError: exercise {number})")
        where = _where(error)
        at = f" ({where[0]}, line {where[1]})" if where else ""
        first = str(error).splitlines()[0] if str(error).strip() else "(no message)"
        product = isinstance(error, ValueError) and re.search(r"matmul|shapes .* not aligned", first)
        shapes = ("; a product of arrays whose shapes do not fit: write each factor's shape, "
                  "(a, b) (b, c) -> (a, c), and see which one needs ^T" if product else "")
        fail(f"{name} raised {type(error).__name__}: {first}{at}{shapes}")


def expect(name, yours, expected, *, tol=1e-9, **options):
    message = difference(name, yours, expected, tol=tol, **options)
    if message:
        fail(message)


def keep(name, before, after, why=""):
    message = changed_input(name, before, after, why)
    if message:
        fail(message)


def copies(arrays):
    return {key: np.array(value, copy=True) for key, value in arrays.items()}
