"""The reference's public API on the GPU: NumPy arrays in, NumPy arrays out.

Each function validates its inputs with reference.checks (word-for-word the same errors as the
other paths; no bad input reaches a kernel, which has no bounds checks), copies the arrays to the
device, runs the kernels of kernels.cuda.step, and copies the result back. The copies make this
API slow for training; it exists so the torch-pinned tests and reference.training's loops run on
this path. To keep everything on the device use kernels.cuda.step (train_step on device arrays)
or kernels.cuda.training.minibatch_sgd_on_device.

Caches are this path's own: forward returns a list shaped like the reference's, one
LayerCache((A_prev, W, b), Z, activation) per layer, but holding device arrays, with the device
workspace attached so backward continues where forward stopped.
"""

import numpy as np
from numba import cuda

from kernels import scalar
from kernels.activations import activation_functions
from kernels.scalar import ACTIVATION_CODES, COST_CODES
from reference import checks
from reference.network import (
    LayerCache,
    LinearCache,
    initialize_parameters,  # noqa: F401  (host-side, same on every path)
)

from . import config, elementwise, reductions, step
from .ladder import RUNGS


def _to_device(a, dtype=None):
    return cuda.to_device(np.ascontiguousarray(a, dtype=dtype))


# ---------------------------------------------------------------------------------------------
# Layer pieces.


def linear_forward(A_prev, W, b):
    """Z[l] = W[l] A[l-1] + b[l].  A_prev: (n[l-1], m), W: (n[l], n[l-1]), b: (n[l], 1)
    -> Z: (n[l], m), cache = LinearCache(A_prev, W, b). One GEMM, then the bias kernel with a
    linear g."""
    checks.check_linear(A_prev, W, b)
    Z = step.matmul(_to_device(W), _to_device(A_prev))
    elementwise.bias_activation_forward(Z, _to_device(b), Z, scalar.LINEAR)
    return Z.copy_to_host(), LinearCache(A_prev, W, b)


def linear_backward(dZ, cache):
    """(dA_prev, dW, db) = (W^T dZ, dZ A_prev^T, sum over m of dZ), as reference.network."""
    checks.check_linear_backward(dZ, cache)
    A_prev, W, b = cache
    dZ_d, A_prev_d, W_d = _to_device(dZ), _to_device(A_prev), _to_device(W)
    dW = step.matmul(dZ_d, A_prev_d, trans_b=True)
    db = cuda.device_array(b.shape, W.dtype)
    reductions.bias_gradient(dZ_d, db)
    dA_prev = step.matmul(W_d, dZ_d, trans_a=True)
    return dA_prev.copy_to_host(), dW.copy_to_host(), db.copy_to_host()


def _activation(Z, name):
    checks.check_activation_input(Z)
    Z_d = _to_device(Z)
    A_d = cuda.device_array_like(Z_d)
    elementwise.activation(Z_d, A_d, ACTIVATION_CODES[name])
    return A_d.copy_to_host()


def _activation_backward(dA, Z, name):
    checks.check_activation_backward(dA, Z)
    Z_d = _to_device(Z)
    dZ_d = _to_device(dA)  # the checks: dA has Z's dtype
    elementwise.activation_backward(dZ_d, Z_d, dZ_d, ACTIVATION_CODES[name])
    return dZ_d.copy_to_host()


sigmoid, sigmoid_backward = activation_functions("sigmoid", _activation, _activation_backward, __name__)
tanh, tanh_backward = activation_functions("tanh", _activation, _activation_backward, __name__)
relu, relu_backward = activation_functions("relu", _activation, _activation_backward, __name__)


# ---------------------------------------------------------------------------------------------
# The whole network.


class DeviceCaches(list):
    """forward's caches: per layer LayerCache((A_prev, W, b), Z, activation) as device arrays,
    and the workspace and X_d that backward continues from."""

    def __init__(self, ws, X_d, hidden, output):
        L = len(ws.W) - 1
        super().__init__(
            LayerCache(LinearCache(X_d if l == 1 else ws.A[l - 1], ws.W[l], ws.b[l]), ws.Z[l],
                       hidden if l < L else output)
            for l in range(1, L + 1))
        self.workspace, self.X_d = ws, X_d


def forward(X, parameters, hidden="relu", output="sigmoid"):
    """A[0] = X, then Z[l] = W[l] A[l-1] + b[l], A[l] = g(Z[l]) on the device.

    X: (n[0], m) -> AL: (n[L], m) (host), caches (device; see DeviceCaches).
    """
    checks.check_forward(X, parameters, hidden, output)
    ws = step.Workspace(step.to_device(parameters), X.shape[1], hidden, output)
    X_d = _to_device(X)
    AL_d = step.forward(ws, X_d)
    return AL_d.copy_to_host(), DeviceCaches(ws, X_d, hidden, output)


def _logits_on_device(logits):
    """The logits (checked) on the device: a device array as it is, a host array copied."""
    return logits if hasattr(logits, "copy_to_host") else _to_device(logits)  # of AL's dtype (checks)


def compute_cost(AL, Y, cost="cross_entropy", logits=None):
    """J over the batch, reduced on the device (deterministic tree).  AL, Y: (n[L], m) -> float.

    cross_entropy from the logits Z[L] when given (stable), otherwise from AL with each log
    clamped at -100 (torch's binary_cross_entropy); mse = mean of (AL - Y)^2 over all entries.
    """
    checks.check_cost(AL, Y, cost, logits)
    partials = cuda.device_array(config.COST_BLOCKS, AL.dtype)
    out = cuda.device_array(1, AL.dtype)
    Y_d = _to_device(Y, AL.dtype)
    if cost == "mse":
        reductions.cost(_to_device(AL), Y_d, scalar.SQUARED_TERM, partials, out)
    elif logits is not None:
        reductions.cost(_logits_on_device(logits), Y_d, scalar.LOGITS_TERM, partials, out)
    else:
        reductions.cost(_to_device(AL), Y_d, scalar.PROBABILITY_TERM, partials, out)
    return float(out.copy_to_host()[0])


def _check_caches(caches):
    """caches came from this path's forward (backward continues on its device workspace)."""
    if not isinstance(caches, DeviceCaches):
        raise TypeError("caches must come from kernels.cuda.forward (each path reads its own caches)")


def backward(AL, Y, caches, cost="cross_entropy"):
    """dZ[L] from the cost, then dW[l], db[l] for l = L..1 on the device.

    AL, Y: (n[L], m), caches from this path's forward -> {"dW1": (n[1], n[0]), "db1": ..., ...}.
    """
    checks.check_backward(AL, Y, caches, cost)
    _check_caches(caches)
    ws = caches.workspace
    ws.cost = COST_CODES[cost]  # forward did not know the cost; backward starts from it
    step.backward(ws, caches.X_d, _to_device(Y, ws.dtype), AL_d=_to_device(AL))  # AL: Z[L]'s dtype (checks)
    grads = {}
    for l in range(1, len(ws.W)):
        grads[f"dW{l}"] = ws.dW[l].copy_to_host()
        grads[f"db{l}"] = ws.db[l].copy_to_host()
    return grads


def update_parameters(parameters, grads, learning_rate):
    """W[l] <- W[l] - alpha dW[l], b[l] <- b[l] - alpha db[l] on the device; the host arrays are
    overwritten in place with the result and parameters is returned."""
    L = checks.check_update(parameters, grads, learning_rate)
    for l in range(1, L + 1):
        W, b = parameters[f"W{l}"], parameters[f"b{l}"]
        W_d, b_d = _to_device(W), _to_device(b)
        elementwise.update(W_d, _to_device(grads[f"dW{l}"], W.dtype), b_d,
                           _to_device(grads[f"db{l}"], b.dtype), learning_rate)
        step.copy_into(W, W_d)
        step.copy_into(b, b_d)
    return parameters


def train_step(parameters, X, Y, learning_rate, hidden="relu", output="sigmoid", cost="cross_entropy"):
    """One step on the batch (X, Y): forward, cost (from the logits), backward, update, on the GPU.

    Copies parameters, X, Y to the device and the new parameters back (in place); returns the
    cost before the update. kernels.cuda.step.train_step is the same step without the copies.
    """
    checks.check_step(parameters, X, Y, learning_rate, hidden, output, cost)
    parameters_d = step.to_device(parameters)
    ws = step.Workspace(parameters_d, X.shape[1], hidden, output, cost)
    J = step.train_step_on(ws, _to_device(X), _to_device(Y, X.dtype), learning_rate)
    step.to_host(parameters_d, out=parameters)
    return J


def matmul(A, B, rung=None):
    """C = A B on the GPU with the GEMM ladder's `rung` (default config.GEMM_RUNG).
    A: (M, K), B: (K, N), one float dtype -> C: (M, N)."""
    checks.check_matmul_operands(A, B)
    if rung is not None and rung not in RUNGS:
        raise ValueError(f"rung must be one of {RUNGS}, got {rung!r}")
    return step.matmul(_to_device(A), _to_device(B), rung=rung).copy_to_host()
