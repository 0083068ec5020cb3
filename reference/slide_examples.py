"""Slides "PyTorch Examples": "Autograd Example", "NN Example", "PyTorch Neural Network" (Net,
with its loss function and weight update) and "Linear Regression Example", re-done in NumPy.

Each example is a pair: `*_init(seed)` makes the data and the starting weights (the tests hand
the same arrays to the slide's torch code), and the example itself trains from them and returns
`(losses, weights)`: the loss of every step, taken before that step's update (what the slides'
`print(t, loss.item())` shows), and the trained weights. The caller's arrays are not changed.

Layouts. The autograd example keeps the slide's own layout, one sample per ROW (`x.mm(w1)`:
x (N, D_in), w1 (D_in, H)), so it reads line for line beside the slide. The three nn.Linear
examples use this project's layout, one sample per COLUMN: X (n[0], m), and W[l] (n[l], n[l-1]),
b[l] (n[l], 1) as in reference/network.py; nn.Linear computes x W^T + b on rows with its weight
stored (out, in), which is the same W[l], so the tests copy W[l] into `weight` unchanged and pass
X^T as the batch.
"""

import numpy as np

from reference import checks
from reference.activations import relu, relu_backward
from reference.losses import l2_loss, l2_loss_backward
from reference.network import linear_backward, linear_forward, train_step, update_parameters


def _check_shapes(arrays):
    """[(name, array, expected shape[, what the shape means])]: each array has its shape."""
    for name, a, shape, *meaning in arrays:
        if a.shape != shape:
            raise ValueError(f"{name} has shape {a.shape}; expected {shape}"
                             + "".join(f" = {what}" for what in meaning))


def linear_layers_init(layer_dims, seed=0, dtype=np.float64):
    """Weights distributed as nn.Linear's default: W[l], b[l] ~ U(-1/sqrt(n[l-1]), 1/sqrt(n[l-1])).

    (nn.Linear uses kaiming_uniform_ with a = sqrt(5), which is that uniform distribution.)
    layer_dims [n[0], ..., n[L]] -> {"W1": (n[1], n[0]), "b1": (n[1], 1), ...}.
    """
    dims = checks.check_layer_dims(layer_dims)
    dtype = checks.check_dtype(dtype)
    rng = np.random.default_rng(seed)
    parameters = {}
    for l in range(1, len(dims)):
        bound = 1 / np.sqrt(dims[l - 1])
        parameters[f"W{l}"] = rng.uniform(-bound, bound, (dims[l], dims[l - 1])).astype(dtype)
        parameters[f"b{l}"] = rng.uniform(-bound, bound, (dims[l], 1)).astype(dtype)
    return parameters


def _copy(parameters):
    return {key: np.array(value) for key, value in parameters.items()}


# ---------------------------------------------------------------------------------------------
# Autograd Example (1), (2): a two-layer network with hand-written backward, rows = samples.


def autograd_example_init(seed=0, N=64, D_in=1000, H=100, D_out=10, dtype=np.float64):
    """x (N, D_in), y (N, D_out), w1 (D_in, H), w2 (H, D_out), all standard normal (torch.randn)."""
    rng = np.random.default_rng(seed)
    dtype = checks.check_dtype(dtype)
    return {
        name: rng.standard_normal(shape).astype(dtype)
        for name, shape in (("x", (N, D_in)), ("y", (N, D_out)), ("w1", (D_in, H)), ("w2", (H, D_out)))
    }


def autograd_example(x, y, w1, w2, learning_rate=1e-6, steps=500):
    """y_pred = clamp(x w1, min=0) w2,  loss = sum (y_pred - y)^2,  w <- w - alpha dloss/dw.

    x (N, D_in), y (N, D_out), w1 (D_in, H), w2 (H, D_out) -> (losses: `steps` floats,
    {"w1", "w2"} trained). No biases, as on the slide. The slide lets autograd find the gradients;
    here they are the chain rule, one line per forward line, in reverse.
    """
    for name, a in (("x", x), ("y", y), ("w1", w1), ("w2", w2)):
        checks.check_float_array(name, a)
    N, D_in = x.shape
    H, D_out = w2.shape
    _check_shapes((("y", y, (N, D_out)), ("w1", w1, (D_in, H))))
    checks.check_learning_rate(learning_rate)
    checks.check_count("steps", steps)
    w1, w2 = np.array(w1), np.array(w2)
    losses = []
    for _ in range(steps):
        h = x @ w1  # (N, H)
        h_relu = np.maximum(h, 0)  # clamp(min=0)
        y_pred = h_relu @ w2  # (N, D_out)
        loss = np.square(y_pred - y).sum()
        losses.append(float(loss))
        # backward, each line the chain rule through the forward line above it:
        grad_y_pred = 2 * (y_pred - y)  # d sum (y_pred - y)^2 / d y_pred
        grad_w2 = h_relu.T @ grad_y_pred  # y_pred = h_relu w2: dw2 = h_relu^T dy_pred   (H, D_out)
        grad_h_relu = grad_y_pred @ w2.T  # dh_relu = dy_pred w2^T                       (N, H)
        # torch's clamp(min=0) passes the gradient where h >= 0, so at h = 0 exactly it passes
        # (unlike relu, whose derivative at 0 is 0): the mask is h >= 0 to follow the slide's code.
        grad_h = grad_h_relu * (h >= 0)
        grad_w1 = x.T @ grad_h  # h = x w1: dw1 = x^T dh                                   (D_in, H)
        w1 -= learning_rate * grad_w1
        w2 -= learning_rate * grad_w2
    return losses, {"w1": w1, "w2": w2}


# ---------------------------------------------------------------------------------------------
# NN Example (1), (2): nn.Sequential(Linear, ReLU, Linear), MSELoss(reduction='sum').


def nn_example_init(seed=0, N=64, D_in=1000, H=100, D_out=10, dtype=np.float64):
    """X (D_in, N), Y (D_out, N) standard normal; parameters as nn.Linear's default (W1, b1, W2, b2)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((D_in, N)).astype(dtype)
    Y = rng.standard_normal((D_out, N)).astype(dtype)
    return {"X": X, "Y": Y, "parameters": linear_layers_init([D_in, H, D_out], seed + 1, dtype)}


def nn_example(X, Y, parameters, learning_rate=1e-4, steps=500):
    """model = Linear(D_in, H) -> ReLU -> Linear(H, D_out), loss = sum (y_pred - y)^2.

    X (D_in, N), Y (D_out, N), parameters {"W1": (H, D_in), "b1": (H, 1), "W2": (D_out, H),
    "b2": (D_out, 1)} -> (losses, trained parameters). MSELoss(reduction='sum') is the slides'
    L2 loss, so losses.l2_loss computes it; the layers are reference.network's pieces.
    """
    checks.check_forward(X, parameters, "relu", "linear")
    checks.check_float_array("Y", Y)
    _check_shapes((("Y", Y, (parameters["W2"].shape[0], X.shape[1]), "(D_out, N)"),))
    checks.check_count("steps", steps)
    parameters = _copy(parameters)
    losses = []
    for _ in range(steps):
        Z1, cache1 = linear_forward(X, parameters["W1"], parameters["b1"])  # Linear(D_in, H)
        A1 = relu(Z1)  # ReLU
        Y_pred, cache2 = linear_forward(A1, parameters["W2"], parameters["b2"])  # Linear(H, D_out)
        losses.append(float(l2_loss(Y_pred, Y)))
        grads = {}
        dA1, grads["dW2"], grads["db2"] = linear_backward(l2_loss_backward(Y_pred, Y), cache2)
        _, grads["dW1"], grads["db1"] = linear_backward(relu_backward(dA1, Z1), cache1)
        update_parameters(parameters, grads, learning_rate)  # param -= learning_rate * param.grad
    return losses, parameters


# ---------------------------------------------------------------------------------------------
# PyTorch Neural Network: Net (256 -> 120 -> 84 -> 10), MSELoss, the manual SGD update.


def net_example_init(seed=0, m=1, dtype=np.float64):
    """The slide's dummy data: input = randn(256) (m = 1 column; more with m), target = 1..10.

    -> {"X": (256, m), "Y": (10, m), "parameters": Net's fc1, fc2, fc3 as W1..W3, b1..b3}.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((256, m)).astype(dtype)
    Y = np.repeat(np.arange(1, 11, dtype=dtype)[:, None], m, axis=1)
    return {"X": X, "Y": Y, "parameters": linear_layers_init([256, 120, 84, 10], seed + 1, dtype)}


def net_example(X, Y, parameters, learning_rate=0.01, steps=100):
    """x = relu(fc1(x)); x = relu(fc2(x)); x = fc3(x); loss = MSELoss (mean); f -= lr * f.grad.

    X (256, m), Y (10, m), parameters W1 (120, 256) ... b3 (10, 1) -> (losses, trained).
    The slide shows one step (zero_grad, backward, the update); `steps` repeats it. That step is
    exactly reference.network.train_step with ReLU hidden layers, a linear output and the mse cost
    (the mean over all entries, as MSELoss).
    """
    checks.check_count("steps", steps)
    parameters = _copy(parameters)
    losses = [
        train_step(parameters, X, Y, learning_rate, hidden="relu", output="linear", cost="mse")
        for _ in range(steps)
    ]
    return losses, parameters


# ---------------------------------------------------------------------------------------------
# Linear Regression Example (1)-(4): a 1-10-1 network fitting y = x^2 + 0.2 rand.


def regression_example_init(seed=0, dtype=np.float64):
    """x = linspace(-1, 1, 100), y = x^2 + 0.2 U[0, 1) as rows (1, 100); Net(1, 10, 1)'s weights.

    -> {"X": (1, 100), "Y": (1, 100), "parameters": W1 (10, 1), b1 (10, 1), W2 (1, 10), b2 (1, 1)}.
    """
    rng = np.random.default_rng(seed)
    X = np.linspace(-1, 1, 100)[None, :]
    Y = X**2 + 0.2 * rng.random(X.shape)
    parameters = linear_layers_init([1, 10, 1], seed + 1, dtype)
    return {"X": X.astype(dtype), "Y": Y.astype(dtype), "parameters": parameters}


def regression_example(X, Y, parameters, learning_rate=0.2, steps=200, callback=None):
    """prediction = predict(relu(hidden(x))), loss = MSELoss (mean), optimizer = SGD(lr=0.2).

    X, Y (1, m), parameters W1 (10, 1), b1 (10, 1), W2 (1, 10), b2 (1, 1) -> (losses, trained).
    optimizer.zero_grad(); loss.backward(); optimizer.step() is one train_step (plain SGD without
    momentum is W <- W - lr dW). callback(t, parameters), if given, runs after step t's update
    (for plotting the fit as it forms).
    """
    checks.check_count("steps", steps)
    parameters = _copy(parameters)
    losses = []
    for t in range(steps):
        losses.append(
            train_step(parameters, X, Y, learning_rate, hidden="relu", output="linear", cost="mse")
        )
        if callback is not None:
            callback(t, parameters)
    return losses, parameters
