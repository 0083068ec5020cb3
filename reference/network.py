"""Slides: "Neural Network Definition", "Forward Propagation (and Inference as well)",
"Forward Propagation - Cost Function", "Backward Propagation - Parameter Updates".

The L-layer fully connected network in plain NumPy. Legend of the dimension letters:

    L      number of layers (A[0] = X is the input, layer L the output)
    n[l]   units in layer l; n[0] = features per sample
    m      samples in the batch, one per column
    W[l]   (n[l], n[l-1])     b[l]  (n[l], 1)     Z[l], A[l]  (n[l], m)

Forward, for l = 1..L:   Z[l] = W[l] A[l-1] + b[l],   A[l] = g[l](Z[l])
with g = ReLU for hidden layers and sigmoid at the output by default.

This module's public functions are the contract every path offers under the same names
(kernels/paths.py lists them). Each checks its inputs once (reference/checks.py), then calls
the plain math, which has no checks of its own.
"""

from typing import NamedTuple

import numpy as np

from reference import checks
from reference.activations import (  # noqa: F401  (re-exported: part of the path contract)
    ACTIVATIONS,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    tanh,
    tanh_backward,
)
from reference.losses import cross_entropy, cross_entropy_from_logits, mse


def initialize_parameters(layer_dims, seed=0, dtype=np.float64):
    """He initialisation: W[l] ~ N(0, 2 / n[l-1]), b[l] = 0.

    layer_dims: [n[0], ..., n[L]] -> {"W1": (n[1], n[0]), "b1": (n[1], 1), ..., "bL": (n[L], 1)}.
    Deterministic for a seed; the scale sqrt(2 / n[l-1]) keeps the variance of Z[l] steady
    through ReLU layers.
    """
    dims = checks.check_layer_dims(layer_dims)
    dtype = checks.check_dtype(dtype)
    rng = np.random.default_rng(seed)
    parameters = {}
    for l in range(1, len(dims)):
        W = rng.standard_normal((dims[l], dims[l - 1])) * np.sqrt(2.0 / dims[l - 1])
        parameters[f"W{l}"] = W.astype(dtype)
        parameters[f"b{l}"] = np.zeros((dims[l], 1), dtype=dtype)
    return parameters


# ---------------------------------------------------------------------------------------------
# The linear layer: Z = W A_prev + b and its backward.


class LinearCache(NamedTuple):
    """What the linear backward needs: the layer's input and parameters."""

    A_prev: object  # (n[l-1], m)
    W: object  # (n[l], n[l-1])
    b: object  # (n[l], 1)


class LayerCache(NamedTuple):
    """What a layer's forward keeps for its backward: `linear, Z, activation = cache` or `cache.Z`."""

    linear: LinearCache
    Z: object  # (n[l], m), before the activation
    activation: str


def linear_forward(A_prev, W, b):
    """Z[l] = W[l] A[l-1] + b[l]  (b broadcast over the m columns).

    A_prev: (n[l-1], m), W: (n[l], n[l-1]), b: (n[l], 1) -> Z: (n[l], m),
    cache = LinearCache(A_prev, W, b).
    """
    checks.check_linear(A_prev, W, b)
    return _linear_forward(A_prev, W, b)


def _linear_forward(A_prev, W, b):
    """linear_forward after its checks."""
    Z = W @ A_prev + b
    return Z, LinearCache(A_prev, W, b)


def linear_backward(dZ, cache):
    """Gradients of J through Z = W A_prev + b, given dZ = dJ/dZ: (n[l], m).  -> (dA_prev, dW, db).

    cache = (A_prev, W, b) from linear_forward: A_prev (n[l-1], m), W (n[l], n[l-1]), b (n[l], 1).
    Each gradient has the shape of what it differentiates: dA_prev (n[l-1], m), dW (n[l], n[l-1]),
    db (n[l], 1). Start from one entry, Z_ij = sum_k W_ik A_kj + b_i (i a unit of layer l, k one of
    layer l-1, j a sample), and sum the chain rule over every Z_ij a parameter appears in.

    Derivation:
        dJ/dW_ik = sum_j dZ_ij A_kj         ->  dW = dZ A_prev^T              (n[l], n[l-1])
        dJ/db_i  = sum_j dZ_ij              ->  db = sum over the m columns  (n[l], 1)
        dJ/dA_kj = sum_i W_ik dZ_ij         ->  dA_prev = W^T dZ             (n[l-1], m)
        b is added to every column, so each sample's dZ flows into db: that is why db sums over m.
        No 1/m here: it entered once, in dZ[L] (see output_gradient), and the sums carry it through.
    """
    checks.check_linear_backward(dZ, cache)
    return _linear_backward(dZ, cache)


def _linear_backward(dZ, cache):
    """linear_backward's math, on inputs it has checked: (dA_prev, dW, db) from dZ and the cache."""
    A_prev, W, b = cache
    dW = dZ @ A_prev.T
    db = dZ.sum(axis=1, keepdims=True)
    dA_prev = W.T @ dZ
    return dA_prev, dW, db


def linear_activation_forward(A_prev, W, b, activation):
    """A[l] = g(W[l] A[l-1] + b[l]), unchecked (its callers check their inputs).

    -> A: (n[l], m), cache = LayerCache((A_prev, W, b), Z, activation)."""
    Z, linear_cache = _linear_forward(A_prev, W, b)
    g, _ = ACTIVATIONS[activation]
    return g(Z), LayerCache(linear_cache, Z, activation)


def linear_activation_backward(dA, cache):
    """dZ = dA * g'(Z), then the linear backward, unchecked.  dA: (n[l], m) -> (dA_prev, dW, db)."""
    linear_cache, Z, activation = cache
    _, g_prime = ACTIVATIONS[activation]
    return _linear_backward(dA * g_prime(Z), linear_cache)


# ---------------------------------------------------------------------------------------------
# The whole network. Each public function checks its inputs, then calls the math (the _ function
# below it).


def forward(X, parameters, hidden="relu", output="sigmoid"):
    """Forward propagation (also inference): A[0] = X, then Z[l], A[l] for l = 1..L.

    X: (n[0], m) -> AL = A[L]: (n[L], m), caches: one LayerCache((A[l-1], W[l], b[l]), Z[l],
    activation) per layer.
    """
    L = checks.check_forward(X, parameters, hidden, output)
    return _forward(X, parameters, L, hidden, output)


def _forward(X, parameters, L, hidden, output):
    """The L-layer loop of forward propagation (on checked inputs).  -> (AL, caches).

    A[0] = X; for l = 1..L: Z[l] = W[l] A[l-1] + b[l], A[l] = g[l](Z[l]), with g[l] = hidden for
    l < L and output for l = L. linear_activation_forward computes one layer and returns its cache;
    caches holds one per layer, in the order l = 1..L, for backward.
    """
    A = X
    caches = []
    for l in range(1, L + 1):
        activation = hidden if l < L else output
        A, cache = linear_activation_forward(A, parameters[f"W{l}"], parameters[f"b{l}"], activation)
        caches.append(cache)
    return A, caches


def compute_cost(AL, Y, cost="cross_entropy", logits=None):
    """The cost J over the batch.  AL, Y: (n[L], m) -> float.

    cross_entropy: J = -(1/N) sum [y log a + (1 - y) log(1 - a)] over all N = n[L] m entries (with
                   one output, n[L] = 1, the slides' 1/m), from the logits Z[L] when they are given
                   (stable for saturated outputs), otherwise from AL (logs clamped at -100)
    mse:           J = (1/N) sum (a - y)^2 over all N = n[L] m entries
    """
    checks.check_cost(AL, Y, cost, logits)
    return _cost(AL, Y, cost, logits)


def _cost(AL, Y, cost, logits):
    if cost == "mse":
        return float(mse(AL, Y))
    if logits is not None:
        return float(cross_entropy_from_logits(logits, Y))
    return float(cross_entropy(AL, Y))


def output_gradient(AL, Y, ZL, output, cost):
    """dZ[L] = dJ/dZ[L], the start of backward propagation (unchecked).  -> (n[L], m).

    AL, Y, ZL: (n[L], m); output names g[L], cost the cost. The cost is a mean over all
    N = n[L] m entries (compute_cost): start from one entry's term of J, differentiate it with
    respect to a = A[L], then go through a = g(z) by the chain rule. The inputs stay as they are
    (AL is also the caller's A[L]).

    Derivation:
      sigmoid + cross_entropy: dJ/da = (a - y) / (a (1 - a) N) and da/dz = a (1 - a), so the two
          a (1 - a) cancel:  dZ[L] = (A[L] - Y) / N.  Nothing divides by a (1 - a), so saturated
          outputs give finite gradients (not exact ones: where a rounds to 1, a - y rounds to 0,
          e.g. 0 at z = 40, y = 1, m = 1, where the true value is -4.2e-18).
      mse: dJ/dA[L] = 2 (A[L] - Y) / N, then dZ[L] = dA[L] * g'(Z[L]) (g' = 1 for linear).
      This is where the 1/m enters, once.
    """
    N = Y.size
    if cost == "cross_entropy":
        return (AL - Y) / N
    _, g_prime = ACTIVATIONS[output]
    return 2 * (AL - Y) / N * g_prime(ZL)


def backward(AL, Y, caches, cost="cross_entropy"):
    """Backward propagation: dZ[L] from the cost, then for l = L..1 the layer backward.

    AL, Y: (n[L], m), caches from forward -> {"dW1": (n[1], n[0]), "db1": (n[1], 1), ...}.
    """
    checks.check_backward(AL, Y, caches, cost)
    return _backward(AL, Y, caches, cost)


def _backward(AL, Y, caches, cost):
    """The L-layer loop of backward propagation (on checked inputs).  -> grads.

    caches[l - 1] = ((A[l-1], W[l], b[l]), Z[l], g[l]) from forward. Start at the output with
    dZ[L] (output_gradient), then for l = L..1: the layer's backward gives dW[l], db[l] and
    dA[l-1], and layer l-1 needs dZ[l-1] = dA[l-1] * g'(Z[l-1]) (linear_activation_backward does
    both steps of a hidden layer). grads: {"dW1": (n[1], n[0]), "db1": (n[1], 1), ...}.
    """
    L = len(caches)
    *_, (linear_cache, ZL, output) = caches
    grads = {}
    dZ = output_gradient(AL, Y, ZL, output, cost)
    dA_prev, grads[f"dW{L}"], grads[f"db{L}"] = _linear_backward(dZ, linear_cache)
    for l in range(L - 1, 0, -1):
        dA_prev, grads[f"dW{l}"], grads[f"db{l}"] = linear_activation_backward(dA_prev, caches[l - 1])
    return grads


def update_parameters(parameters, grads, learning_rate):
    """Gradient descent step: W[l] <- W[l] - alpha dW[l],  b[l] <- b[l] - alpha db[l].

    Updates the arrays in place (so a caller's dict sees the new values) and returns parameters.
    """
    checks.check_update(parameters, grads, learning_rate)
    return _update(parameters, grads, learning_rate)


def _update(parameters, grads, learning_rate):
    """update_parameters' math (on checked inputs): every W[l], b[l] one step against its gradient,
    the arrays keeping their dtype, the caller's dict holding the new values; returns parameters."""
    for key, value in parameters.items():
        value -= learning_rate * grads["d" + key]
    return parameters


def train_step(parameters, X, Y, learning_rate, hidden="relu", output="sigmoid", cost="cross_entropy"):
    """One step of training on the batch (X, Y): forward, cost, backward, update.

    X: (n[0], m), Y: (n[L], m). Updates parameters in place; returns the cost before the update.
    The cross-entropy is computed from the logits Z[L], so saturated outputs stay finite.
    Every input is checked once, here; the steps it calls check nothing.
    """
    checks.check_step(parameters, X, Y, learning_rate, hidden, output, cost)
    return unchecked_train_step(parameters, X, Y, learning_rate, hidden, output, cost)


def unchecked_train_step(parameters, X, Y, learning_rate, hidden="relu", output="sigmoid",
                         cost="cross_entropy"):
    """train_step's four steps without its checks, for inputs checked before (the benchmarks
    time it beside train_step: what the checks cost)."""
    L = sum(1 for key in parameters if key.startswith("W"))
    AL, caches = _forward(X, parameters, L, hidden, output)
    J = _cost(AL, Y, cost, logits=caches[-1].Z)
    grads = _backward(AL, Y, caches, cost)
    _update(parameters, grads, learning_rate)
    return J
