"""Grading: the numerical gradient, and the gradient check that uses it on the student's own
backward (reference/gradient_check.py).

numerical_gradient is compared with torch.autograd's gradient of the same J; a correct central
difference agrees to about 1e-9 here, a one-sided one only to about 1e-5 (recognised and named),
a quotient over h instead of 2h is 2x off. The gradient check runs as written in the student's
copy, with the student's forward, backward and numerical gradient: it must find them in agreement
on a network and must catch a backward that is wrong.
"""

import numpy as np
import torch.nn.functional as F

from exercises.diagnose import relative_error
from exercises.grading.support import Case, cases, copies, expect, fail, run, torch_grads
from exercises.grading.test_network import problem, torch_forward

TOL = 1e-7


def quadratic(parameters):
    c = {"W": 3.0, "b": 0.5}
    return lambda: sum(c[k] * float(np.sum(v**2)) / 2 for k, v in parameters.items())


def network_J(network, parameters, X, Y, hidden, output, cost):
    def J():
        AL, _ = network.forward(X, parameters, hidden=hidden, output=output)
        return network.compute_cost(AL, Y, cost=cost)
    return J


def torch_network_grads(parameters, X, Y, hidden, output, cost):
    L = len(parameters) // 2

    def J(**t):
        A = torch_forward(t, L, hidden, output)[-1][2]
        return F.mse_loss(A, t["Y"]) if cost == "mse" else F.binary_cross_entropy(A, t["Y"])

    return torch_grads(J, {"X": X, "Y": Y, **parameters}, wrt=tuple(parameters))[1]


def one_sided(J, parameters, h=1e-5):
    grads = {}
    for key, value in parameters.items():
        g = np.zeros_like(value)
        base = J()
        for i in np.ndindex(value.shape):
            saved = value[i]
            value[i] = saved + h
            g[i] = (J() - base) / h
            value[i] = saved
        grads["d" + key] = g
    return grads


@cases(Case("J = sum(3 W^2 + 0.5 b^2) / 2 (gradient 3 W, 0.5 b)", {"kind": "quadratic"}),
       Case("the cost of a [3, 4, 2] tanh network with a sigmoid output, m = 5",
            {"kind": "network", "dims": [3, 4, 2], "hidden": "tanh", "output": "sigmoid",
             "cost": "cross_entropy"}),
       Case("the cost of a [2, 3, 1] relu network with a linear output and mse, m = 4",
            {"kind": "network", "dims": [2, 3, 1], "hidden": "relu", "output": "linear", "cost": "mse"}))
def test_numerical_gradient(student, case):
    if case.kind == "quadratic":
        rng = np.random.default_rng(0)
        parameters = {"W": rng.standard_normal((2, 3)), "b": rng.standard_normal((2, 1))}
        J = quadratic(parameters)
        expected = {"dW": 3.0 * parameters["W"], "db": 0.5 * parameters["b"]}
    else:
        m = 5 if case.output == "sigmoid" else 4
        parameters, X, Y = problem(case.dims, m, cost=case.cost, seed=7)
        J = network_J(student.network, parameters, X, Y, case.hidden, case.output, case.cost)
        expected = {"d" + k: g for k, g in torch_network_grads(parameters, X, Y, case.hidden, case.output,
                                                               case.cost).items()}
    arrays = dict(parameters)
    before = copies(parameters)
    grads = run(student.gradient_check.numerical_gradient, J, parameters)
    for key in before:
        if parameters.get(key) is not arrays[key]:
            fail(f"parameters[{key!r}] is another array after the call: perturb the entries of the "
                 f"arrays in the dict (J reads them there) and put each back")
        if not np.array_equal(parameters[key], before[key]):
            count = int((parameters[key] != before[key]).sum())
            fail(f"{key} is not as it was after the call ({count} of {before[key].size} entries "
                 f"changed): put each entry back after its two evaluations of J")
    if not isinstance(grads, dict):
        fail(f"numerical_gradient returned {type(grads).__name__}; expected a dict {{'d' + key: array}}")
    if set(grads) != set(expected):
        fail(f"the keys are {sorted(grads)}; expected {sorted(expected)} (the names backward uses, "
             f"'d' + each parameter's key)")
    sided = one_sided(J, parameters)  # puts every entry back
    for key in expected:
        err = relative_error(grads[key], expected[key]) if np.shape(grads[key]) == expected[key].shape \
            else None
        if err is not None and err > TOL and relative_error(grads[key], sided[key]) < 1e-9:
            fail(f"{key} agrees with torch's only to {err:.1g} (relative): it is the one-sided "
                 f"(J(theta + h) - J(theta)) / h, whose error is O(h); the central difference's O(h) "
                 f"terms cancel, leaving O(h^2)")
        expect(key, grads[key], expected[key], tol=TOL, like=np.float64,
               hints={"scale:0.5": "the central difference spans 2h, from theta - h to theta + h, "
                                   "so the quotient is over 2h",
                      "scale:2": "the central difference spans 2h, from theta - h to theta + h, "
                                 "so the quotient is over 2h",
                      "zero": "J() did not see your perturbations: change the entry of the array "
                              "in the dict (J reads it there), not a copy"})


class Doubled:
    """A path whose backward doubles dW1: a gradient check must report it."""

    def __init__(self, network):
        self.network = network

    def forward(self, *args, **kwargs):
        return self.network.forward(*args, **kwargs)

    def compute_cost(self, *args, **kwargs):
        return self.network.compute_cost(*args, **kwargs)

    def backward(self, *args, **kwargs):
        grads = self.network.backward(*args, **kwargs)
        return grads | {"dW1": 2 * grads["dW1"]}


CHECK = {"dims": [3, 4, 2, 1], "m": 5, "hidden": "relu", "output": "sigmoid", "cost": "cross_entropy"}


@cases(Case("your backward against your numerical gradient: [3, 4, 2, 1], relu, sigmoid, "
            "cross_entropy, m = 5", {"broken": False, **CHECK}),
       Case("[2, 3, 2], tanh hidden, linear output, mse, m = 4",
            {"broken": False, "dims": [2, 3, 2], "m": 4, "hidden": "tanh", "output": "linear",
             "cost": "mse"}),
       Case("a backward whose dW1 is twice the true one must be caught", {"broken": True, **CHECK}))
def test_gradient_check(student, case):
    network = student.network
    parameters, X, Y = problem(case.dims, case.m, cost=case.cost, seed=8)
    options = {"hidden": case.hidden, "output": case.output, "cost": case.cost}
    path = Doubled(network) if case.broken else network
    errors = run(student.gradient_check.gradient_check, path, parameters, X, Y, **options)
    if not isinstance(errors, dict) or set(errors) != {"d" + k for k in parameters}:
        got = sorted(errors) if isinstance(errors, dict) else type(errors).__name__
        fail(f"gradient_check returned {got}; expected {{'dW1': error, 'db1': error, ...}}, one "
             f"relative error per gradient")
    if case.broken:
        if not errors["dW1"] > 0.1:
            fail(f"for a backward whose dW1 is twice the true one your check reports dW1: "
                 f"{errors['dW1']:.2g}; the relative error max|a - b| / max(1e-8, |a| + |b|) of a "
                 f"doubled gradient is 1/3")
        return
    worst = max(errors, key=errors.get)
    if errors[worst] <= TOL:
        return
    # Whose is it: the student's backward, or the student's numerical gradient? Ask torch.
    expected = torch_network_grads(parameters, X, Y, **options)
    AL, caches = network.forward(X, parameters, **{k: options[k] for k in ("hidden", "output")})
    grads = network.backward(AL, Y, caches, cost=case.cost)
    numerical = student.gradient_check.numerical_gradient(
        network_J(network, parameters, X, Y, **options), parameters)
    key = worst[1:]
    wrong_backward = relative_error(grads[worst], expected[key]) > TOL
    wrong_numerical = relative_error(numerical[worst], expected[key]) > TOL
    whose = ("your backward's " + worst + " is off (grade exercises 2-4 and 8-11 to see which part)"
             if wrong_backward else "your numerical gradient is off (exercise 15)" if wrong_numerical
             else "both agree with torch's, so look at how your check compares them")
    fail(f"your gradient check reports {worst}: {errors[worst]:.2g} (> {TOL:g}); {whose}")
