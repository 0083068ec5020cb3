"""The L-layer network on the CPU path: reference.network's public API over the numba kernels.

Legend as in reference/network.py: L layers, n[l] units in layer l, m samples (one per column);
W[l] (n[l], n[l-1]), b[l] (n[l], 1), Z[l], A[l] (n[l], m), A[0] = X.

forward, compute_cost, backward and update_parameters run one kernel per layer and step, from
Python, and return new arrays (forward's caches are this path's own: backward reads them).
train_step is one compiled call (step.py) over a workspace of its own per parameters dict and
batch shape, so steady-state training allocates nothing.
"""

import numpy as np

from kernels import scalar
from kernels.activations import activation_functions
from kernels.cpu import config, elementwise, reductions
from kernels.cpu.gemm import product_out
from kernels.cpu.products import dzat, network_scratch, wtdz
from kernels.cpu.step import train_step  # noqa: F401  (the fused step, see step.py)
from kernels.scalar import ACTIVATION_CODES, COST_CODES
from reference import checks
from reference.network import (  # noqa: F401  (initialize_parameters: the same weights on every path)
    LayerCache,
    LinearCache,
    initialize_parameters,
)


def _ready(*arrays, dtype=None):
    """The kernels' first-use set-up (config.ready), then the arrays C-contiguous (and of `dtype`
    when given): what every entry point does between its checks and its kernels."""
    config.ready()
    return [np.ascontiguousarray(a, dtype=dtype) for a in arrays]


# ---------------------------------------------------------------------------------------------
# Activations: A = g(Z) and dZ = dA * g'(Z), elementwise (kernels/scalar.py's g, g').


def _activation(Z, name):
    checks.check_activation_input(Z)
    (Z,) = _ready(Z)
    A = np.empty_like(Z)
    elementwise.activation(Z, A, ACTIVATION_CODES[name])
    return A


def _activation_backward(dA, Z, name):
    checks.check_activation_backward(dA, Z)
    Z, dA = _ready(Z, dA)
    dZ = np.empty_like(Z)
    elementwise.activation_backward(dA, Z, dZ, ACTIVATION_CODES[name])
    return dZ


sigmoid, sigmoid_backward = activation_functions("sigmoid", _activation, _activation_backward, __name__)
tanh, tanh_backward = activation_functions("tanh", _activation, _activation_backward, __name__)
relu, relu_backward = activation_functions("relu", _activation, _activation_backward, __name__)


# ---------------------------------------------------------------------------------------------
# The linear layer.


def _linear_activation_forward(A_prev, W, b, act):
    Z = product_out(W.shape[0], W.shape[1], A_prev.shape[1], W.dtype)
    A = np.empty_like(Z)
    buffers = network_scratch([W.shape[1], W.shape[0]], A_prev.shape[1], W.dtype)
    elementwise.linear_activation_forward(A_prev, W, b, Z, A, act, *buffers)
    return Z, A


def linear_forward(A_prev, W, b):
    """Z = W A_prev + b.  A_prev: (k, m), W: (n, k), b: (n, 1) -> Z: (n, m), LinearCache(A_prev, W, b)."""
    checks.check_linear(A_prev, W, b)
    A_prev, W, b = _ready(A_prev, W, b)
    Z, _ = _linear_activation_forward(A_prev, W, b, scalar.LINEAR)
    return Z, LinearCache(A_prev, W, b)


def _linear_backward(dZ, A_prev, W, need_dA=True):
    n, k, m = W.shape[0], W.shape[1], dZ.shape[1]
    dW = product_out(n, m, k, W.dtype)
    db = np.empty((n, 1), W.dtype)
    # W as the second layer of a 2-layer net: the buffers cover both its dZ A^T and W^T dZ
    buffers = network_scratch([1, W.shape[1], W.shape[0]], dZ.shape[1], W.dtype)
    dzat(dZ, A_prev, dW, *buffers)
    reductions.bias_gradient(dZ, db)
    dA_prev = None
    if need_dA:
        dA_prev = product_out(k, n, m, W.dtype)
        wtdz(W, dZ, dA_prev, *buffers)
    return dA_prev, dW, db


def linear_backward(dZ, cache):
    """dW = dZ A_prev^T, db = sum over m of dZ, dA_prev = W^T dZ.  -> (dA_prev, dW, db)."""
    checks.check_linear_backward(dZ, cache)
    A_prev, W, _ = cache
    A_prev, W, dZ = _ready(A_prev, W, dZ)
    return _linear_backward(dZ, A_prev, W)


# ---------------------------------------------------------------------------------------------
# The whole network, layer by layer.


def forward(X, parameters, hidden="relu", output="sigmoid"):
    """A[0] = X, then Z[l] = W[l] A[l-1] + b[l], A[l] = g(Z[l]).  X: (n[0], m) -> (A[L], caches).

    caches[l-1] = LayerCache((A[l-1], W[l], b[l]), Z[l], activation), as in the reference.
    """
    L = checks.check_forward(X, parameters, hidden, output)
    (A,) = _ready(X)
    caches = []
    for l in range(1, L + 1):
        activation = hidden if l < L else output
        W, b = _ready(parameters[f"W{l}"], parameters[f"b{l}"])
        Z, A_next = _linear_activation_forward(A, W, b, ACTIVATION_CODES[activation])
        caches.append(LayerCache(LinearCache(A, W, b), Z, activation))
        A = A_next
    return A, caches


def compute_cost(AL, Y, cost="cross_entropy", logits=None):
    """J over the batch: cross-entropy (from the logits Z[L] when given) or MSE.  AL, Y: (n[L], m)."""
    checks.check_cost(AL, Y, cost, logits)
    AL, Y = _ready(AL, Y, dtype=AL.dtype)
    if cost == "mse":
        return float(reductions.cost(AL, Y, scalar.SQUARED_TERM))
    if logits is not None:
        (logits,) = _ready(logits)
        return float(reductions.cost(logits, Y, scalar.LOGITS_TERM))
    return float(reductions.cost(AL, Y, scalar.PROBABILITY_TERM))


def backward(AL, Y, caches, cost="cross_entropy"):
    """dZ[L] from the cost, then for l = L..1: dW[l], db[l], and dZ[l-1] = W[l]^T dZ[l] * g'(Z[l-1]).

    AL, Y: (n[L], m), caches from this path's forward -> {"dW1": (n[1], n[0]), "db1": ..., ...}.
    """
    checks.check_backward(AL, Y, caches, cost)
    _, ZL, output = caches[-1]
    AL, Y = _ready(AL, Y, dtype=AL.dtype)
    L = len(caches)
    grads = {}
    dZ = np.empty_like(ZL)
    elementwise.output_gradient(AL, Y, ZL, dZ, ACTIVATION_CODES[output], COST_CODES[cost])
    for l in range(L, 0, -1):
        (A_prev, W, _), _, _ = caches[l - 1]
        dA_prev, grads[f"dW{l}"], grads[f"db{l}"] = _linear_backward(dZ, A_prev, W, need_dA=l > 1)
        if l > 1:
            _, Z_prev, activation = caches[l - 2]
            dZ = np.empty_like(dA_prev)
            elementwise.activation_backward(dA_prev, Z_prev, dZ, ACTIVATION_CODES[activation])
    return grads


def update_parameters(parameters, grads, learning_rate):
    """W[l] <- W[l] - alpha dW[l], b[l] <- b[l] - alpha db[l], in place; returns parameters."""
    L = checks.check_update(parameters, grads, learning_rate)
    for l in range(1, L + 1):
        W, b = parameters[f"W{l}"], parameters[f"b{l}"]
        Wc, bc = _ready(W, b)  # the arrays themselves when C-contiguous, else copies
        dW, db = _ready(grads[f"dW{l}"], grads[f"db{l}"], dtype=W.dtype)
        elementwise.update(Wc, dW, bc, db, learning_rate)
        for P, Pc in ((W, Wc), (b, bc)):
            if Pc is not P:  # a copy was updated: write it back, so the caller's array changes
                P[...] = Pc
    return parameters
