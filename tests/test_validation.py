"""Validation where inputs enter: a public function checks each input once, the math it calls is
unchecked, and non-finite values raise NonFiniteError on every path."""

import sys
from pathlib import Path

import numpy as np
import pytest

from reference import checks
from reference import network as reference

CHECKS_FILE = str(Path(checks.__file__).resolve())
CHECK_FUNCTIONS = {name for name, value in vars(checks).items() if callable(value)}


def calls_into_checks(run):
    """How many calls `run()` makes to the functions of reference/checks.py (generator
    expressions inside them, resumed once per item, are not calls of a check)."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        code = frame.f_code
        if event == "call" and code.co_filename == CHECKS_FILE and code.co_name in CHECK_FUNCTIONS:
            count += 1

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return count


def network(dims, m, seed=0):
    rng = np.random.default_rng(seed)
    parameters = reference.initialize_parameters(dims, seed=seed)
    X = rng.standard_normal((dims[0], m))
    Y = (rng.random((dims[-1], m)) > 0.5).astype(np.float64)
    return parameters, X, Y


def test_a_reference_train_step_checks_each_input_once():
    parameters, X, Y = network([30, 16, 8, 1], 569)
    count = calls_into_checks(lambda: reference.train_step(parameters, X, Y, 0.01))
    assert count <= 20, count
    # the counter sees the checks at all: one per parameter array at the least
    assert count >= 2 * 3
    before = calls_into_checks(lambda: reference.forward(X, parameters))
    assert before >= 2 * 3 + 1  # forward alone: its checks, one per parameter at least


def test_counter_sees_repeated_checks():
    """The counter is not blind: checking a layer L times costs L more calls."""
    parameters, X, Y = network([30, 16, 8, 1], 569)
    once = calls_into_checks(lambda: checks.check_forward(X, parameters, "relu", "sigmoid"))
    twice = calls_into_checks(lambda: [checks.check_forward(X, parameters, "relu", "sigmoid")
                                       for _ in range(2)])
    assert twice == 2 * once > 0


@pytest.mark.parametrize("where", ["X", "W1", "b2"])
def test_non_finite_inputs_raise_non_finite_error_on_every_path(path, where):
    dims, m = ([3, 4, 1], 5)
    parameters, X, Y = network(dims, m)
    {"X": X}.get(where, parameters.get(where))[0, 0] = np.nan
    with pytest.raises(checks.NonFiniteError, match=f"{where} contains NaN or inf"):
        path.train_step(parameters, X, Y, 0.1)
    with pytest.raises(checks.NonFiniteError):
        path.forward(X, parameters)


def test_non_finite_error_is_a_value_error():
    assert issubclass(checks.NonFiniteError, ValueError)
