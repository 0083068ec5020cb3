"""Checking a backward pass with finite differences (cs231n's gradient check).

Not on the slides, but how every backward in this project can be checked without torch: the
derivative of J with respect to one parameter entry theta is the limit of a difference quotient,

    dJ/dtheta  ~  (J(theta + h) - J(theta - h)) / (2 h)        (central differences)

whose error is O(h^2) (the h and h^3 terms of the two Taylor series cancel); the one-sided
(J(theta + h) - J(theta)) / h has an O(h) error. With h = 1e-5 in float64 a correct backward agrees
with it to a relative error of about 1e-7 or better, a wrong one to about 1e-2 (cs231n's readings):

    relative error  max |a - b| / max(1e-8, |a| + |b|)

`numerical_gradient` perturbs one entry at a time, so it costs two evaluations of J per parameter
entry: a check for small networks, never a way to train.
"""

import numpy as np

H = 1e-5
TOLERANCE = 1e-7


def relative_error(a, b):
    """max |a - b| / max(1e-8, |a| + |b|) over the entries of two arrays of one shape."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)), initial=0.0))


def numerical_gradient(J, parameters, h=H):
    """dJ/dtheta for every entry of every array in parameters, by central differences.

    J: a function of no arguments that computes the cost from the arrays in `parameters` (it reads
    them from the dict each time it runs). parameters: {"W1": array, "b1": array, ...}, float64.
    -> {"dW1": array of W1's shape, "db1": ..., ...}, one entry per parameter entry. Each entry is
    perturbed in place and put back, so the parameters are as they were when it returns.
    """
    grads = {}
    for key, value in parameters.items():
        g = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            saved = value[i]
            value[i] = saved + h
            plus = J()
            value[i] = saved - h
            minus = J()
            value[i] = saved
            g[i] = (plus - minus) / (2 * h)
        grads["d" + key] = g
    return grads


def gradient_check(path, parameters, X, Y, hidden="relu", output="sigmoid", cost="cross_entropy", h=H):
    """The relative error of path's backward against numerical_gradient, per gradient.

    path: a module with forward, compute_cost and backward (reference.network, or kernels.cpu);
    parameters, X (n[0], m), Y (n[L], m): float64. -> {"dW1": error, "db1": error, ...}, each
    relative_error(backward's gradient, the numerical one); below TOLERANCE (1e-7) is right.
    """

    def J():
        AL, _ = path.forward(X, parameters, hidden=hidden, output=output)
        return path.compute_cost(AL, Y, cost=cost)

    AL, caches = path.forward(X, parameters, hidden=hidden, output=output)
    grads = path.backward(AL, Y, caches, cost=cost)
    numerical = numerical_gradient(J, parameters, h)
    return {key: relative_error(grads[key], numerical[key]) for key in numerical}
