"""reference/regression.py: the artificial neuron, linear and logistic regression against torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from reference.regression import (
    fit_linear_regression,
    fit_logistic_regression,
    linear_regression_cost,
    linear_regression_predict,
    logistic_regression_cost,
    logistic_regression_predict,
    logistic_regression_predict_proba,
    neuron_backward,
    neuron_forward,
)
from tests.torch_compare import TOLERANCES, assert_close, check_against_torch

SHAPES = [(1, 1), (1, 7), (3, 1), (4, 9), (13, 33)]  # (n, m): one feature, one sample, odd sizes
TORCH_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "linear": lambda Z: Z,
}


def make(n, m, dtype, seed=0):
    """X (n, m), W (n, 1), b (1, 1), Y (1, m) with values in (0, 1) (valid labels and targets).

    W ~ N(0, 1/n) keeps |Z| = |W^T X + b| below about 6: beyond 8 torch's own float64
    tanh' = 1 - y^2 loses more than 1e-9 of its relative precision to cancellation (ours is
    computed without it), so the oracle, not ours, would fail the tolerance there. The saturated
    test below covers large |Z| with the stable torch form.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, m)).astype(dtype)
    W = (rng.standard_normal((n, 1)) / np.sqrt(n)).astype(dtype)
    b = rng.standard_normal((1, 1)).astype(dtype)
    Y = rng.uniform(size=(1, m)).astype(dtype)
    return X, W, b, Y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("activation", list(TORCH_ACTIVATIONS))
def test_neuron_forward_backward(activation, shape, dtype):
    """Z = W^T X + b, Y_hat = A(Z); dX, dW, db from an upstream dY_hat."""
    X, W, b, _ = make(*shape, dtype)
    Y_hat, cache = neuron_forward(X, W, b, activation)
    dY_hat = np.random.default_rng(1).standard_normal(Y_hat.shape).astype(dtype)
    dX, dW, db = neuron_backward(dY_hat, cache)
    assert Y_hat.shape == (1, shape[1]) and dW.shape == W.shape and db.shape == (1, 1)
    assert dX.shape == X.shape and Y_hat.dtype == dtype
    check_against_torch(
        lambda X, W, b: TORCH_ACTIVATIONS[activation](W.T @ X + b),
        {"X": X, "W": W, "b": b},
        value=Y_hat,
        grads={"X": dX, "W": dW, "b": db},
        upstream=dY_hat,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
def test_linear_regression_predict(shape, dtype):
    X, W, b, _ = make(*shape, dtype)
    Y_hat = linear_regression_predict(X, W, b)
    assert Y_hat.dtype == dtype
    check_against_torch(lambda X, W, b: W.T @ X + b, {"X": X, "W": W, "b": b}, value=Y_hat)


TORCH_LOSSES = {  # the slides' L1 and L2, divided by m
    "l1": lambda Y_hat, Y: (Y - Y_hat).abs().sum() / Y.shape[1],
    "l2": lambda Y_hat, Y: ((Y - Y_hat) ** 2).sum() / Y.shape[1],
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("loss", ["l1", "l2"])
def test_linear_regression_cost(loss, shape, dtype):
    """J = L1/m or L2/m and dJ/dW, dJ/db."""
    X, W, b, Y = make(*shape, dtype)
    J, dW, db = linear_regression_cost(X, Y, W, b, loss)
    assert isinstance(J, float) and dW.shape == W.shape and db.shape == (1, 1)
    check_against_torch(
        lambda X, Y, W, b: TORCH_LOSSES[loss](W.T @ X + b, Y),
        {"X": X, "Y": Y, "W": W, "b": b},
        value=J,
        grads={"W": dW, "b": db},
        dtype=dtype,
    )


def test_l1_gradient_is_zero_where_the_fit_is_exact_as_in_torch():
    """|y - y_hat| has no derivative at y = y_hat; both take 0 there (sign(0) = 0)."""
    X = np.array([[1.0, 2.0, 3.0]])
    W, b = np.array([[2.0]]), np.array([[1.0]])
    Y = np.array([[3.0, 4.0, 8.0]])  # exact at the first sample, below and above at the others
    J, dW, db = linear_regression_cost(X, Y, W, b, "l1")
    check_against_torch(
        lambda X, Y, W, b: TORCH_LOSSES["l1"](W.T @ X + b, Y),
        {"X": X, "Y": Y, "W": W, "b": b},
        value=J,
        grads={"W": dW, "b": db},
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
def test_logistic_regression_cost_is_the_slides_cross_entropy(shape, dtype):
    """J = -(1/m) sum [y log y_hat + (1 - y) log(1 - y_hat)], written in torch as on the slide."""
    X, W, b, Y = make(*shape, dtype)

    def slide_cost(X, Y, W, b):
        Y_hat = 1 / (1 + torch.exp(-(W.T @ X + b)))
        return -(Y * torch.log(Y_hat) + (1 - Y) * torch.log(1 - Y_hat)).mean()

    J, dW, db = logistic_regression_cost(X, Y, W, b)
    check_against_torch(
        slide_cost, {"X": X, "Y": Y, "W": W, "b": b}, value=J, grads={"W": dW, "b": db}, dtype=dtype
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logistic_regression_saturated_outputs_stay_finite(dtype):
    """Logits of about +-1000 (sigmoid is exactly 0 or 1): finite cost and gradients equal to
    torch's stable binary_cross_entropy_with_logits."""
    X = np.array([[1.0, -1.0, 1.0, -1.0, 0.5]], dtype)
    W, b = np.array([[1000.0]], dtype), np.array([[0.0]], dtype)
    Y = np.array([[1.0, 0.0, 0.0, 1.0, 0.3]], dtype)  # two right, two confidently wrong
    J, dW, db = logistic_regression_cost(X, Y, W, b)
    assert np.isfinite(J) and np.isfinite(dW).all() and np.isfinite(db).all()
    check_against_torch(
        lambda X, Y, W, b: F.binary_cross_entropy_with_logits(W.T @ X + b, Y),
        {"X": X, "Y": Y, "W": W, "b": b},
        value=J,
        grads={"W": dW, "b": db},
        dtype=dtype,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
def test_logistic_regression_predict(shape, dtype):
    X, W, b, _ = make(*shape, dtype)
    proba = logistic_regression_predict_proba(X, W, b)
    check_against_torch(lambda X, W, b: torch.sigmoid(W.T @ X + b), {"X": X, "W": W, "b": b},
                        value=proba)
    labels = logistic_regression_predict(X, W, b)
    expected = (torch.sigmoid(torch.tensor(W.T @ X + b, dtype=torch.float64)) >= 0.5).numpy()
    assert labels.dtype == dtype
    np.testing.assert_array_equal(labels, expected.astype(dtype))



def test_predict_gives_1_where_y_hat_is_exactly_the_threshold():
    """Z = 0 gives Y_hat = sigmoid(0) = 0.5 exactly: the class is 1 (Y_hat >= 0.5)."""
    X = np.array([[0.0, 1.0, -1.0]])
    W, b = np.array([[1.0]]), np.array([[0.0]])
    assert logistic_regression_predict_proba(X, W, b).tolist() == [[0.5, 1 / (1 + np.exp(-1.0)),
                                                                     1 / (1 + np.exp(1.0))]]
    assert logistic_regression_predict(X, W, b).tolist() == [[1.0, 1.0, 0.0]]


def test_the_neurons_default_activation_is_the_sigmoid():
    X, W, b, _ = make(3, 5, np.float64)
    Y_hat, cache = neuron_forward(X, W, b)
    assert cache.activation == "sigmoid"
    check_against_torch(lambda X, W, b: torch.sigmoid(W.T @ X + b), {"X": X, "W": W, "b": b},
                        value=Y_hat)


def test_neuron_backward_names_dY_hat_and_Z_in_its_messages():
    X, W, b, _ = make(3, 4, np.float64)
    _, cache = neuron_forward(X, W, b)
    with pytest.raises(ValueError, match=r"^dY_hat has shape \(1, 3\); expected \(1, 4\), the shape of Z$"):
        neuron_backward(np.ones((1, 3)), cache)
    with pytest.raises(TypeError, match=r"^dY_hat has dtype float32 but Z has dtype float64$"):
        neuron_backward(np.ones((1, 4), np.float32), cache)

def torch_gradient_descent(cost, X, Y, learning_rate, num_iterations, W=None, b=None):
    """The slides' update W <- W - alpha dJ/dW, b <- b - alpha dJ/db with autograd, from zeros
    (or from the W, b given)."""
    X, Y = torch.tensor(X, dtype=torch.float64), torch.tensor(Y, dtype=torch.float64)
    W = torch.zeros((X.shape[0], 1), dtype=torch.float64) if W is None else torch.tensor(W)
    b = torch.zeros((1, 1), dtype=torch.float64) if b is None else torch.tensor(b)
    W.requires_grad_()
    b.requires_grad_()
    costs = []
    for _ in range(num_iterations):
        J = cost(W.T @ X + b, Y)
        costs.append(J.item())
        J.backward()
        with torch.no_grad():
            W -= learning_rate * W.grad
            b -= learning_rate * b.grad
            W.grad.zero_()
            b.grad.zero_()
    return costs, W.detach().numpy(), b.detach().numpy()


TORCH_COSTS = TORCH_LOSSES | {
    "cross_entropy": lambda Z, Y: F.binary_cross_entropy_with_logits(Z, Y),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cost", ["l1", "l2", "cross_entropy"])
def test_fit_follows_torch_step_for_step(cost, dtype):
    """Every cost of 60 gradient-descent steps, and the final W, b, match the torch loop."""
    X, _, _, Y = make(3, 40, dtype, seed=5)
    if cost == "cross_entropy":
        Y = (Y > 0.5).astype(dtype)
        W, b, costs = fit_logistic_regression(X, Y, learning_rate=0.5, num_iterations=60)
    else:
        W, b, costs = fit_linear_regression(X, Y, cost, learning_rate=0.05, num_iterations=60)
    expected_costs, expected_W, expected_b = torch_gradient_descent(
        TORCH_COSTS[cost], X, Y, learning_rate=0.5 if cost == "cross_entropy" else 0.05,
        num_iterations=60,
    )
    tol = 1e-8 if dtype == np.float64 else TOLERANCES[np.dtype(dtype)][0]
    assert W.dtype == dtype and b.dtype == dtype and len(costs) == 60
    assert_close("costs", costs, expected_costs, tol, dtype)
    assert_close("W", W, expected_W, tol, dtype)
    assert_close("b", b, expected_b, tol, dtype)



@pytest.mark.parametrize("cost", ["l2", "cross_entropy"])
def test_fit_starts_from_the_W_and_b_given(cost):
    """W=, b=: gradient descent starts there (torch's loop from the same start), not from zeros."""
    X, W0, b0, Y = make(3, 40, np.float64, seed=7)
    if cost == "cross_entropy":
        Y = (Y > 0.5).astype(np.float64)
        W, b, costs = fit_logistic_regression(X, Y, learning_rate=0.5, num_iterations=5, W=W0, b=b0)
    else:
        W, b, costs = fit_linear_regression(X, Y, cost, learning_rate=0.05, num_iterations=5, W=W0,
                                            b=b0)
    expected_costs, expected_W, expected_b = torch_gradient_descent(
        TORCH_COSTS[cost], X, Y, 0.5 if cost == "cross_entropy" else 0.05, 5, W0, b0)
    assert_close("costs", costs, expected_costs, 1e-12)
    assert_close("W", W, expected_W, 1e-12)
    assert_close("b", b, expected_b, 1e-12)


def test_a_fit_started_at_the_exact_line_stays_there():
    """y = 2x + 1 fitted exactly by W = 2, b = 1: J = 0 and zero gradients, so nothing moves (from
    zeros J would be (3^2 + 5^2) / 2 = 17; from W = 2, b = 0 it would be (1 + 1) / 2 = 1)."""
    X, Y = np.array([[1.0, 2.0]]), np.array([[3.0, 5.0]])
    W, b, costs = fit_linear_regression(X, Y, num_iterations=3, W=np.array([[2.0]]),
                                        b=np.array([[1.0]]))
    assert costs == [0.0, 0.0, 0.0]
    assert W.tolist() == [[2.0]] and b.tolist() == [[1.0]]


@pytest.mark.parametrize("fit, cost, learning_rate", [
    (fit_linear_regression, "l2", 0.01),
    (fit_logistic_regression, "cross_entropy", 0.1),
])
def test_the_fits_defaults(fit, cost, learning_rate):
    """The signatures' defaults: L2 for the linear fit, 1000 steps at learning rate 0.01 (linear)
    or 0.1 (logistic), from W = 0, b = 0: the first costs are torch's loop's with those settings
    (its first three steps: a thousand torch steps would take seconds)."""
    X, _, _, Y = make(2, 20, np.float64, seed=8)
    if cost == "cross_entropy":
        Y = (Y > 0.5).astype(np.float64)
    _, _, costs = fit(X, Y)
    expected_costs, _, _ = torch_gradient_descent(TORCH_COSTS[cost], X, Y, learning_rate, 3)
    assert len(costs) == 1000
    assert_close("costs", costs[:3], expected_costs, 1e-12)

def test_l2_fit_reaches_the_least_squares_solution():
    """Gradient descent on L2 ends where the normal equations put it (np.linalg.lstsq)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3, 200))
    Y = np.array([[1.5, -2.0, 0.5]]) @ X + 0.7 + 0.1 * rng.standard_normal((1, 200))
    W, b, costs = fit_linear_regression(X, Y, "l2", learning_rate=0.2, num_iterations=2000)
    solution = np.linalg.lstsq(np.vstack([X, np.ones((1, 200))]).T, Y[0], rcond=None)[0]
    np.testing.assert_allclose(np.append(W, b), solution, atol=1e-10)
    assert (np.diff(costs) <= 1e-15 * costs[0]).all()  # never up (beyond rounding at the end)


def test_l1_fit_resists_outliers_that_pull_l2():
    """y = 2x + 1 with 10% of the targets shifted by +20: L1 keeps the line, L2 is dragged up."""
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, size=(1, 200))
    Y = 2 * X + 1 + 0.01 * rng.standard_normal((1, 200))
    Y[0, ::10] += 20
    W1, b1, _ = fit_linear_regression(X, Y, "l1", learning_rate=0.05, num_iterations=4000)
    W2, b2, _ = fit_linear_regression(X, Y, "l2", learning_rate=0.2, num_iterations=2000)
    assert abs(W1[0, 0] - 2) < 0.1 and abs(b1[0, 0] - 1) < 0.1
    assert b2[0, 0] > 2.5  # the mean of the targets moved up by 20 / 10 = 2


def test_logistic_fit_separates_two_blobs():
    rng = np.random.default_rng(6)
    X = np.hstack([rng.normal(-1.5, 1.0, (2, 100)), rng.normal(1.5, 1.0, (2, 100))])
    Y = np.hstack([np.zeros((1, 100)), np.ones((1, 100))])
    W, b, costs = fit_logistic_regression(X, Y, learning_rate=0.5, num_iterations=300)
    assert costs[-1] < 0.5 * costs[0]
    assert (logistic_regression_predict(X, W, b) == Y).mean() > 0.9


def test_fit_does_not_change_the_start_arrays():
    X, W, b, Y = make(2, 10, np.float64)
    W0, b0 = W.copy(), b.copy()
    fit_linear_regression(X, Y, W=W, b=b, num_iterations=5)
    np.testing.assert_array_equal(W, W0)
    np.testing.assert_array_equal(b, b0)


def good_inputs():
    X, W, b, Y = make(3, 5, np.float64)
    return {"X": X, "W": W, "b": b, "Y": Y}


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"X": np.ones(3)}, ValueError, r"^X has shape \(3,\); expected a 2-D array"),
        ({"X": np.ones((3, 0))}, ValueError, r"^X has shape \(3, 0\); expected at least one"),
        ({"X": np.full((3, 5), np.nan)}, ValueError, "^X contains NaN or inf"),
        ({"X": np.ones((3, 5), np.int64)}, TypeError, "^X has dtype int64"),
        ({"W": np.ones((3, 1), np.int64)}, TypeError, "^W has dtype int64; expected float32 or float64$"),
        ({"W": np.ones((2, 1))}, ValueError, r"^W has shape \(2, 1\); expected \(3, 1\)"),
        ({"W": np.ones((1, 3))}, ValueError, r"^W has shape \(1, 3\); expected \(3, 1\)"),
        ({"b": np.full((1, 1), np.inf)}, ValueError, r"^b contains NaN or inf \(b has shape \(1, 1\)\)$"),
        ({"b": np.ones((3, 1))}, ValueError, r"^b has shape \(3, 1\); expected \(1, 1\)"),
        ({"W": np.ones((3, 1), np.float32)}, TypeError, "^W has dtype float32 but X has float64$"),
        ({"b": np.ones((1, 1), np.float32)}, TypeError, "^b has dtype float32 but X has float64$"),
        ({"Y": np.ones((1, 5), np.int64)}, TypeError, "^Y has dtype int64; expected float32 or float64$"),
        ({"Y": np.ones((2, 5))}, ValueError, r"^Y has shape \(2, 5\); expected \(1, 5\)"),
        ({"Y": np.ones((1, 4))}, ValueError, r"^Y has shape \(1, 4\); expected \(1, 5\)"),
        ({"Y": np.ones((1, 5), np.float32)}, TypeError, "^Y has dtype float32 but X has float64$"),
        ({"Y": np.full((1, 5), 2.0)}, ValueError,
         r"^Y has labels outside \[0, 1\] \(min 2.0, max 2.0\); cross-entropy needs 0 <= y <= 1$"),
    ],
)
def test_bad_input(change, error, message):
    inputs = good_inputs() | change
    labels_only = "labels" in message
    with pytest.raises(error, match=message):
        logistic_regression_cost(**inputs)
    if not labels_only:  # every other input error is also caught on the linear-regression path
        with pytest.raises(error, match=message):
            linear_regression_cost(**inputs)


def test_bad_names_and_settings():
    inputs = good_inputs()
    with pytest.raises(ValueError, match="unknown loss 'l3'"):
        linear_regression_cost(**inputs, loss="l3")
    with pytest.raises(ValueError, match="unknown neuron activation 'step'"):
        neuron_forward(inputs["X"], inputs["W"], inputs["b"], "step")
    with pytest.raises(ValueError, match="learning_rate = 0"):
        fit_linear_regression(inputs["X"], inputs["Y"], learning_rate=0)
    with pytest.raises(ValueError, match="num_iterations = 0"):
        fit_logistic_regression(inputs["X"], inputs["Y"], num_iterations=0)
