"""Grading: the neuron's backward and the activations' derivatives g' (slides "Artificial Neuron",
"Neuron's Activation Functions"), against torch.autograd in float64.

g' is checked where a wrong formula shows (moderate z, exact zeros, tiny z), in float32 (the dtype
kept), and where the activation saturates (|z| from 9.5 to 1e4): there the slope must stay finite
and near its true value next to the largest slope in the array, which a(1 - a) and 1 - a^2 are
(the guide's floating-point asides are optional: the grader does not ask for their forms).
"""

import numpy as np
import torch

from exercises.grading.support import Case, cases, expect, keep, run, torch_grads

MODERATE = np.array([[-4.0, -2.0, -0.5, -1e-7, 0.0, 1e-7, 0.3, 1.0, 2.0, 3.5]])
SATURATED = np.array([[-1e4, -1e3, -88.8, -50.0, -15.0, -9.5, 0.0, 9.5, 15.0, 50.0, 88.8, 1e3, 1e4]])
TORCH = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "linear": lambda z: z}
OVERFLOW = {
    "sigmoid": "e^-z overflows to inf for z below about -709 (-88 in float32) and inf/inf is NaN; "
               "the slope there is 0 to hundreds of digits, and training meets such z, so write it "
               "in a form that stays finite",
    "tanh": "e^-2z overflows to inf for z below about -354 (-44 in float32) and inf/inf is NaN; "
            "the slope there is 0 to hundreds of digits, so write it in a form that stays finite",
    "relu": "relu' is 0 or 1 everywhere",
}


def slope_cases(name):
    found = [
        Case("moderate z (float64)", {"Z": MODERATE, "measure": "entrywise"}),
        Case("z = 0 and tiny z (float64)", {"Z": np.array([[0.0, -0.0, 1e-300, -1e-300, 5e-324]]),
                                            "measure": "entrywise"}),
        Case("float32 in, float32 out", {"Z": MODERATE.astype(np.float32), "measure": "array"}),
        Case("saturated z up to |z| = 1e4 (float64)", {"Z": SATURATED, "measure": "array"}),
        Case("saturated z up to |z| = 1e4 (float32)", {"Z": SATURATED.astype(np.float32),
                                                       "measure": "array"}),
    ]
    return cases(*found)


def check_slope(student, name, case):
    Z = case.Z
    before = Z.copy()
    yours = run(getattr(student.activations, f"{name}_prime"), Z)
    keep("Z", before, Z)
    _, grads = torch_grads(lambda Z: TORCH[name](Z), {"Z": Z}, wrt=("Z",), upstream=np.ones_like(Z))
    tol = 1e-9 if Z.dtype == np.float64 else 1e-4
    kink = "at the kink z = 0 the slope is taken as 0 (torch's choice); z > 0 has slope 1"
    expect(f"{name}'(Z)", yours, grads["Z"], tol=tol, measure=case.measure, like=Z.dtype,
           labels=lambda i: f"z = {Z[i]:g}",
           hints={"nonfinite": OVERFLOW[name], "scale:-1": "the derivative of the slide's formula "
                  "has the opposite sign", **({"entries": kink} if name == "relu" else {})})


@slope_cases("sigmoid")
def test_sigmoid_prime(student, case):
    check_slope(student, "sigmoid", case)


@slope_cases("tanh")
def test_tanh_prime(student, case):
    check_slope(student, "tanh", case)


@slope_cases("relu")
def test_relu_prime(student, case):
    check_slope(student, "relu", case)


def neuron_case(activation, dtype=np.float64, n=3, m=5, seed=0):
    rng = np.random.default_rng(seed)
    data = {"X": rng.standard_normal((n, m)), "W": rng.standard_normal((n, 1)),
            "b": rng.standard_normal((1, 1)), "dY_hat": rng.standard_normal((1, m))}
    return Case(f"{activation} neuron, n = {n} features, m = {m} ({np.dtype(dtype).name})",
                {"activation": activation, **{k: v.astype(dtype) for k, v in data.items()}})


@cases(neuron_case("linear"), neuron_case("sigmoid"), neuron_case("tanh"), neuron_case("relu"),
       neuron_case("sigmoid", n=1, m=1), neuron_case("tanh", np.float32))
def test_neuron_backward(student, case):
    regression = student.regression
    X, W, b, dY_hat = case.X, case.W, case.b, case.dY_hat
    _, cache = regression.neuron_forward(X, W, b, case.activation)
    before = {"X": X.copy(), "W": W.copy(), "b": b.copy(), "dY_hat": dY_hat.copy()}
    result = run(regression.neuron_backward, dY_hat, cache)
    for name, array in (("X", X), ("W", W), ("b", b), ("dY_hat", dY_hat)):
        keep(name, before[name], array)
    if not isinstance(result, tuple) or len(result) != 3:
        from exercises.grading.support import fail

        fail(f"neuron_backward returned {type(result).__name__}; expected the tuple (dX, dW, db)")
    _, grads = torch_grads(lambda X, W, b: TORCH[case.activation](W.T @ X + b),
                           {"X": X, "W": W, "b": b}, wrt=("X", "W", "b"), upstream=dY_hat)
    tol = 1e-9 if X.dtype == np.float64 else 1e-4
    measure = "entrywise" if X.dtype == np.float64 else "array"
    slope = {"entries": "the linear neuron passed, so look at dZ = dY_hat * A'(Z)"} \
        if case.activation != "linear" else {}
    for name, yours in zip(("dX", "dW", "db"), result, strict=True):
        expect(name, yours, grads[name[1:]], tol=tol, measure=measure, like=X.dtype,
               scales={"m": X.shape[1]} if X.shape[1] > 1 else {}, hints=slope)
