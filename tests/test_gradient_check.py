"""Finite-difference gradient check of whole networks (cs231n's gradient_check), every path.

J(theta + h) - J(theta - h) / 2h approximates dJ/dtheta to O(h^2); in float64 with h = 1e-5
a correct backward agrees to about 1e-10, a wrong one to 1e-2 (cs231n's readings).
"""

import numpy as np
import pytest

from tests.test_network import make_problem
from tests.torch_compare import rel_error

H = 1e-5


def numerical_gradient(J, parameters):
    grads = {}
    for key, value in parameters.items():
        g = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            saved = value[i]
            value[i] = saved + H
            plus = J()
            value[i] = saved - H
            minus = J()
            value[i] = saved
            g[i] = (plus - minus) / (2 * H)
        grads["d" + key] = g
    return grads


@pytest.mark.parametrize("hidden, output, cost", [
    ("tanh", "sigmoid", "cross_entropy"),
    ("sigmoid", "sigmoid", "mse"),
    ("relu", "linear", "mse"),
    ("relu", "sigmoid", "cross_entropy"),
])
def test_backward_matches_finite_differences(path, hidden, output, cost):
    layer_dims, m = ([3, 4, 2], 5) if path.small else ([4, 5, 3, 2], 7)
    parameters, X, Y = make_problem(layer_dims, m, np.float64, cost, seed=5)

    def J():
        AL, _ = path.forward(X, parameters, hidden=hidden, output=output)
        return path.compute_cost(AL, Y, cost=cost)

    AL, caches = path.forward(X, parameters, hidden=hidden, output=output)
    grads = path.backward(AL, Y, caches, cost=cost)
    numerical = numerical_gradient(J, parameters)
    for key in grads:
        err = rel_error(grads[key], numerical[key])
        assert err < 1e-7, f"{key}: relative error {err:.2e} against finite differences"
