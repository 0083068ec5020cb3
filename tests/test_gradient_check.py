"""Finite-difference gradient check of whole networks (reference/gradient_check.py), every path.

(J(theta + h) - J(theta - h)) / 2h approximates dJ/dtheta to O(h^2); in float64 with h = 1e-5
a correct backward agrees to about 1e-10, a wrong one to 1e-2 (cs231n's readings).
"""

import numpy as np
import pytest

from reference.gradient_check import TOLERANCE, gradient_check, numerical_gradient, relative_error
from tests.test_network import make_problem


@pytest.mark.parametrize("hidden, output, cost", [
    ("tanh", "sigmoid", "cross_entropy"),
    ("sigmoid", "sigmoid", "mse"),
    ("relu", "linear", "mse"),
    ("relu", "sigmoid", "cross_entropy"),
])
def test_backward_matches_finite_differences(path, hidden, output, cost):
    layer_dims, m = ([3, 4, 2], 5) if path.small else ([4, 5, 3, 2], 7)
    parameters, X, Y = make_problem(layer_dims, m, np.float64, cost, seed=5)
    errors = gradient_check(path, parameters, X, Y, hidden=hidden, output=output, cost=cost)
    assert set(errors) == {"d" + key for key in parameters}
    for key, err in errors.items():
        assert err < TOLERANCE, f"{key}: relative error {err:.2e} against finite differences"


def test_numerical_gradient_of_a_quadratic_is_exact_and_leaves_the_parameters_as_they_were():
    """J = sum(c W^2) / 2 has gradient c W; central differences are exact for a quadratic up to
    rounding, and every perturbed entry is put back."""
    rng = np.random.default_rng(0)
    parameters = {"W": rng.standard_normal((2, 3)), "b": rng.standard_normal((2, 1))}
    c = {"W": 3.0, "b": 0.5}
    before = {key: value.copy() for key, value in parameters.items()}
    grads = numerical_gradient(lambda: sum(c[k] * np.sum(v**2) / 2 for k, v in parameters.items()),
                               parameters)
    for key in parameters:
        np.testing.assert_array_equal(parameters[key], before[key])
        assert relative_error(grads["d" + key], c[key] * before[key]) < 1e-9


def test_a_wrong_backward_is_caught():
    """A backward whose dW1 is doubled: its relative error is 1/3 (|2a - a| / (|2a| + |a|))."""
    from reference import network

    class Doubled:
        forward, compute_cost = staticmethod(network.forward), staticmethod(network.compute_cost)

        @staticmethod
        def backward(*args, **kwargs):
            grads = network.backward(*args, **kwargs)
            return grads | {"dW1": 2 * grads["dW1"]}

    parameters, X, Y = make_problem([3, 4, 1], 6, np.float64, "cross_entropy", seed=2)
    errors = gradient_check(Doubled, parameters, X, Y)
    assert abs(errors["dW1"] - 1 / 3) < 1e-6
    assert all(err < TOLERANCE for key, err in errors.items() if key != "dW1")


def test_the_step_h_is_the_one_asked_for():
    """J = w^3 at w = 1: central differences give ((1 + h)^3 - (1 - h)^3) / 2h = 3 + h^2 against
    dJ/dw = 3, a relative error of h^2 / (6 + h^2): 0.01 / 6.01 for h = 0.1."""

    class Cube:
        @staticmethod
        def forward(X, parameters, hidden, output):
            return parameters["W"], None

        @staticmethod
        def compute_cost(AL, Y, cost):
            return float(AL[0, 0] ** 3)

        @staticmethod
        def backward(AL, Y, caches, cost):
            return {"dW": 3 * AL**2}

    errors = gradient_check(Cube, {"W": np.ones((1, 1))}, None, None, h=0.1)
    assert errors == {"dW": pytest.approx(0.01 / 6.01, rel=1e-9)}


def test_the_relative_error_of_arrays_with_no_entries_is_0():
    assert relative_error(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0
