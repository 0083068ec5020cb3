"""Slides "Linear Regression", "Loss Function", "Logistic regression", "Artificial Neuron".

One neuron, m samples at once. Legend:

    n      features per sample          X      (n, m)   one sample per column
    m      samples                      W      (n, 1)   the weights vector (the slides write W^T X)
                                        b      (1, 1)   the bias scalar
                                        Z, Y_hat, Y     (1, m)

    artificial neuron     Z = W^T X + b,   Y_hat = A(Z)
    linear regression     Y_hat = W^T X + b                       (A = identity)
    logistic regression   Y_hat = 1 / (1 + e^-Z),  Z = W^T X + b   (A = sigmoid)

The neuron is one unit of the network's fully connected layer, with W[l] = W^T (1 x n), so its
forward and backward are the network's `linear_activation_forward` / `linear_activation_backward`
with W transposed (reference/network.py derives them).

Fitting is gradient descent (slides: W <- W - alpha dJ/dW, b <- b - alpha dJ/db) on the cost
J = L / m, the mean of the per-sample losses, as the slides' cross-entropy cost is a mean. For
linear regression L is the slides' L1 = sum |y - f(x)| or L2 = sum (y - f(x))^2; dividing by m
moves no minimum and keeps a good learning rate independent of m. Everything keeps the input's
dtype (float32 or float64); costs come back as Python floats.
"""

import numpy as np

from reference import checks
from reference.activations import sigmoid
from reference.losses import (
    cross_entropy_from_logits,
    l1_loss,
    l1_loss_backward,
    l2_loss,
    l2_loss_backward,
)
from reference.network import linear_activation_backward, linear_activation_forward

NEURON_ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")
REGRESSION_LOSSES = {"l1": (l1_loss, l1_loss_backward), "l2": (l2_loss, l2_loss_backward)}


def _check_neuron_inputs(X, W, b):
    """X (n, m), W (n, 1), b (1, 1): float arrays of one dtype, finite, non-empty."""
    for name, a in (("X", X), ("W", W), ("b", b)):
        checks.check_float_array(name, a)
    n = X.shape[0]
    if W.shape != (n, 1):
        raise ValueError(f"W has shape {W.shape}; expected ({n}, 1) = (n, 1), n = X's rows")
    if b.shape != (1, 1):
        raise ValueError(f"b has shape {b.shape}; expected (1, 1), the bias scalar")
    for name, a in (("W", W), ("b", b)):
        if a.dtype != X.dtype:
            raise TypeError(f"{name} has dtype {a.dtype} but X has {X.dtype}")


def _check_targets(Y, X, labels=False):
    """Y (1, m) of X's dtype; labels=True: values in [0, 1] (for the cross-entropy)."""
    checks.check_float_array("Y", Y)
    if Y.shape != (1, X.shape[1]):
        raise ValueError(f"Y has shape {Y.shape}; expected (1, {X.shape[1]}) = (1, m), one per sample")
    if Y.dtype != X.dtype:
        raise TypeError(f"Y has dtype {Y.dtype} but X has {X.dtype}")
    if labels and ((Y < 0).any() or (Y > 1).any()):
        raise ValueError(f"Y has labels outside [0, 1] (min {Y.min()}, max {Y.max()}); cross-entropy "
                         "needs 0 <= y <= 1")


# ---------------------------------------------------------------------------------------------
# The artificial neuron.


def neuron_forward(X, W, b, activation="sigmoid"):
    """Z = W^T X + b,  Y_hat = A(Z).

    X: (n, m), W: (n, 1), b: (1, 1), activation in sigmoid/tanh/relu/linear
    -> Y_hat: (1, m), cache = LayerCache(linear cache, Z, activation) for neuron_backward.
    """
    _check_neuron_inputs(X, W, b)
    checks.check_activation(activation, NEURON_ACTIVATIONS, "neuron")
    return linear_activation_forward(X, W.T, b, activation)  # the layer with W[l] = W^T


def neuron_backward(dY_hat, cache):
    """Gradients through the neuron, given dY_hat = dJ/dY_hat: (1, m).  -> (dX, dW, db).

    cache = ((X, W^T, b), Z, activation) from neuron_forward: X (n, m), W^T (1, n), b (1, 1),
    Z (1, m). Each gradient has the shape of what it differentiates: dX (n, m), dW (n, 1),
    db (1, 1). Start from Y_hat = A(Z) and Z = W^T X + b: the layer Z = W[l] A[l-1] + b of the
    network with W[l] = W^T and A[l-1] = X (reference/network.py's linear_activation_backward
    computes that layer's backward).

    Derivation:
        dZ = dY_hat * A'(Z); the layer's backward gives dW[l] = dZ X^T (1, n), db = sum over m of
        dZ (1, 1), dX = W[l]^T dZ = W dZ (n, m); so dW = dW[l]^T = X dZ^T: (n, 1).
    """
    checks.check_like("dY_hat", dY_hat, "Z", cache.Z.shape, cache.Z.dtype)
    dX, dW_row, db = linear_activation_backward(dY_hat, cache)
    return dX, dW_row.T, db


# ---------------------------------------------------------------------------------------------
# Linear regression.


def linear_regression_predict(X, W, b):
    """Inference: Y_hat = W^T X + b.    X: (n, m), W: (n, 1), b: (1, 1) -> Y_hat: (1, m)."""
    Y_hat, _ = neuron_forward(X, W, b, "linear")
    return Y_hat


def linear_regression_cost(X, Y, W, b, loss="l2"):
    """J = L / m with L the slides' L1 = sum |y - f(x)| or L2 = sum (y - f(x))^2.

    X: (n, m), Y: (1, m), W: (n, 1), b: (1, 1) -> (J as float, dW: (n, 1), db: (1, 1)).
    dJ/dY_hat = (1/m) dL/dY_hat: for L2, 2 (Y_hat - Y) / m; for L1, sign(Y_hat - Y) / m (0 where
    they are equal, as torch). The neuron is linear, so dZ = dY_hat, then dW = X dZ^T, db = sum dZ.
    """
    if loss not in REGRESSION_LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {tuple(REGRESSION_LOSSES)}")
    _check_neuron_inputs(X, W, b)
    _check_targets(Y, X)
    Y_hat, cache = linear_activation_forward(X, W.T, b, "linear")
    loss_fn, loss_backward = REGRESSION_LOSSES[loss]
    m = X.shape[1]
    J = loss_fn(Y_hat, Y) / m
    _, dW_row, db = linear_activation_backward(loss_backward(Y_hat, Y) / m, cache)
    return float(J), dW_row.T, db


def _fit(cost_and_gradients, X, W, b, learning_rate, num_iterations):
    """Gradient descent: W <- W - alpha dW, b <- b - alpha db, num_iterations times.

    Starts from W = 0, b = 0 unless given (copies; the caller's arrays are not changed).
    Returns (W, b, costs) with costs[k] = J before update k.
    """
    checks.check_learning_rate(learning_rate)
    checks.check_count("num_iterations", num_iterations)
    W = np.zeros((X.shape[0], 1), X.dtype) if W is None else np.array(W)
    b = np.zeros((1, 1), X.dtype) if b is None else np.array(b)
    costs = []
    for _ in range(int(num_iterations)):
        J, dW, db = cost_and_gradients(W, b)
        costs.append(J)
        W -= learning_rate * dW
        b -= learning_rate * db
    return W, b, costs


def fit_linear_regression(X, Y, loss="l2", learning_rate=0.01, num_iterations=1000, W=None, b=None):
    """Training: gradient descent on J = L1/m or L2/m (see linear_regression_cost).

    X: (n, m), Y: (1, m) -> (W: (n, 1), b: (1, 1), costs: list of num_iterations floats).
    """
    cost_and_gradients = lambda W, b: linear_regression_cost(X, Y, W, b, loss)  # noqa: E731
    return _fit(cost_and_gradients, X, W, b, learning_rate, num_iterations)


# ---------------------------------------------------------------------------------------------
# Logistic regression.


def logistic_regression_predict_proba(X, W, b):
    """Inference: Y_hat = 1 / (1 + e^-Z), Z = W^T X + b, the probability that y = 1.

    X: (n, m), W: (n, 1), b: (1, 1) -> Y_hat: (1, m) in [0, 1].
    """
    Y_hat, _ = neuron_forward(X, W, b, "sigmoid")
    return Y_hat


def logistic_regression_predict(X, W, b, threshold=0.5):
    """Inference: the class, 1 where Y_hat >= threshold, else 0.  -> (1, m) of X's dtype."""
    Y_hat = logistic_regression_predict_proba(X, W, b)
    return (Y_hat >= threshold).astype(X.dtype)


def logistic_regression_cost(X, Y, W, b):
    """J = -(1/m) sum [y log y_hat + (1 - y) log(1 - y_hat)], computed from the logits Z.

    X: (n, m), Y: (1, m) labels in [0, 1], W: (n, 1), b: (1, 1) -> (J, dW: (n, 1), db: (1, 1)).
    dJ/dy_hat = (y_hat - y) / (y_hat (1 - y_hat) m) and dy_hat/dz = y_hat (1 - y_hat), so
    dZ = (Y_hat - Y) / m (no division, finite when saturated); then dW = X dZ^T, db = sum dZ.
    """
    _check_neuron_inputs(X, W, b)
    _check_targets(Y, X, labels=True)
    Z = W.T @ X + b
    dZ = (sigmoid(Z) - Y) / X.shape[1]
    dW = X @ dZ.T
    db = dZ.sum(axis=1, keepdims=True)
    return float(cross_entropy_from_logits(Z, Y)), dW, db


def fit_logistic_regression(X, Y, learning_rate=0.1, num_iterations=1000, W=None, b=None):
    """Training: gradient descent on the cross-entropy cost (see logistic_regression_cost).

    X: (n, m), Y: (1, m) labels in [0, 1] -> (W: (n, 1), b: (1, 1), costs: list of floats).
    """
    return _fit(
        lambda W, b: logistic_regression_cost(X, Y, W, b), X, W, b, learning_rate, num_iterations
    )
