"""The network on device arrays: everything stays on the GPU between calls.

Legend as in reference/network.py: L layers, n[l] units, m samples (columns); W[l] (n[l], n[l-1]),
b[l] (n[l], 1), Z[l], A[l] (n[l], m). Arrays here are numba device arrays (C-contiguous); lists
are indexed by the layer l, with entry 0 unused for W, b, Z (A[0] = X).

    to_device(parameters) / to_host(parameters_d, out)    the only host <-> device copies
    Workspace(layer_dims, m, dtype)                       Z[l], A[l], dZ[l], dW[l], db[l], cost
    forward_into, cost_into, backward_into, update        the steps, each a few kernel launches
    train_step(parameters_d, X_d, Y_d, ...)               forward, cost, backward, update

Kernel launches per train_step for L layers: forward 2L (GEMM, fused bias + activation),
cost 2 (only when asked), dZ[L] 1, backward 2L + 2(L - 1) (dW GEMM and db reduction per layer,
dA GEMM and activation backward below the top), update L (W and b in one kernel): 7L - 1,
plus 2 with the cost. The slides' 3-layer net: 20 launches per step, 22 with the cost.
Launches are asynchronous: train_step returns as soon as they are queued unless the cost is
asked for (copying one number back waits for the step); call `numba.cuda.synchronize()` to wait.
"""

import numpy as np
from numba import cuda

from kernels import scalar
from kernels.scalar import ACTIVATION_CODES as CODES
from reference import checks

from . import config, elementwise, reductions
from .ladder import gemm


def to_device(parameters):
    """{"W1": ..., "b1": ...} host arrays -> the same dict of device arrays (copies)."""
    return {key: cuda.to_device(np.ascontiguousarray(value)) for key, value in parameters.items()}


def copy_into(host, array_d):
    """host[...] = array_d, in place (straight into host when it is C-contiguous)."""
    if host.flags.c_contiguous:
        array_d.copy_to_host(host)
    else:
        host[...] = array_d.copy_to_host()
    return host


def to_host(parameters_d, out=None):
    """Device parameters -> host arrays; with `out` (a host dict), copied into its arrays in place."""
    if out is None:
        return {key: value.copy_to_host() for key, value in parameters_d.items()}
    for key, value in parameters_d.items():
        copy_into(out[key], value)
    return out


class Workspace:
    """Every intermediate of one train_step for a network `layer_dims` and a batch of m samples.

    Z[l], A[l], dZ[l]: (n[l], m) for l = 1..L (dZ[l] also holds dA[l] before g' is applied),
    dW[l], db[l]: the gradients, partials: the cost reduction's first pass, costs: where the cost
    of step k lands (costs[k]); `n_costs` slots, so a training loop keeps every step's cost on
    the device and copies them back once.
    """

    def __init__(self, layer_dims, m, dtype, n_costs=1):
        dtype = np.dtype(dtype)
        self.layer_dims, self.m, self.dtype = list(layer_dims), m, dtype
        L = len(layer_dims) - 1
        self.Z = [None] + [cuda.device_array((n, m), dtype) for n in layer_dims[1:]]
        self.A = [None] + [cuda.device_array((n, m), dtype) for n in layer_dims[1:]]
        self.dZ = [None] + [cuda.device_array((n, m), dtype) for n in layer_dims[1:]]
        self.dW = [None] + [
            cuda.device_array((layer_dims[l], layer_dims[l - 1]), dtype) for l in range(1, L + 1)
        ]
        self.db = [None] + [cuda.device_array((n, 1), dtype) for n in layer_dims[1:]]
        self.partials = cuda.device_array(config.COST_BLOCKS, dtype)
        self.costs = cuda.device_array(n_costs, dtype)

    def fits(self, layer_dims, m, dtype):
        return self.layer_dims == list(layer_dims) and self.m == m and self.dtype == np.dtype(dtype)


_workspaces = {}


def workspace_for(parameters_d, m):
    """A Workspace for these parameters and m samples, allocated once and then reused."""
    dims = checks.layer_dims_of(parameters_d)
    dtype = np.dtype(parameters_d["W1"].dtype)
    key = (tuple(dims), m, dtype)
    if key not in _workspaces:
        _workspaces[key] = Workspace(dims, m, dtype)
    return _workspaces[key]


def forward_into(X_d, parameters_d, ws, hidden="relu", output="sigmoid", rung=None):
    """Z[l] = W[l] A[l-1] + b[l], A[l] = g(Z[l]) into the workspace; returns A[L] (device)."""
    L = len(ws.layer_dims) - 1
    A_prev = X_d
    for l in range(1, L + 1):
        code = CODES[hidden if l < L else output]
        gemm(parameters_d[f"W{l}"], A_prev, ws.Z[l], rung=rung)
        elementwise.bias_activation_forward(ws.Z[l], parameters_d[f"b{l}"], ws.A[l], code)
        A_prev = ws.A[l]
    return ws.A[L]


def cost_into(Y_d, ws, cost="cross_entropy", k=0):
    """costs[k] = J of the last forward: cross-entropy from the logits Z[L], or the mse."""
    L = len(ws.layer_dims) - 1
    if cost == "cross_entropy":
        reductions.cost(ws.Z[L], Y_d, scalar.LOGITS_TERM, ws.partials, ws.costs, k)
    else:
        reductions.cost(ws.A[L], Y_d, scalar.SQUARED_TERM, ws.partials, ws.costs, k)
    return ws.costs


def backward_into(X_d, Y_d, parameters_d, ws, hidden="relu", output="sigmoid",
                  cost="cross_entropy", AL_d=None, rung=None):
    """dW[l], db[l] into the workspace, from the Z[l], A[l] of the last forward_into.

    dZ[L] from the cost, then for l = L..1:
        dW[l] = dZ[l] A[l-1]^T,  db[l] = sum over m of dZ[l],
        dA[l-1] = W[l]^T dZ[l],  dZ[l-1] = dA[l-1] * g'(Z[l-1])   (in place in dZ[l-1])
    AL_d replaces A[L] in dZ[L] when given (the NumPy backward passes the caller's AL).
    """
    L = len(ws.layer_dims) - 1
    AL = ws.A[L] if AL_d is None else AL_d
    elementwise.output_gradient(AL, Y_d, ws.Z[L], ws.dZ[L], cost, CODES[output])
    for l in range(L, 0, -1):
        A_prev = X_d if l == 1 else ws.A[l - 1]
        gemm(ws.dZ[l], A_prev, ws.dW[l], trans_b=True, rung=rung)
        reductions.bias_gradient(ws.dZ[l], ws.db[l])
        if l > 1:
            gemm(parameters_d[f"W{l}"], ws.dZ[l], ws.dZ[l - 1], trans_a=True, rung=rung)
            elementwise.activation_backward(ws.dZ[l - 1], ws.Z[l - 1], ws.dZ[l - 1], CODES[hidden])


def update(parameters_d, ws, learning_rate):
    """W[l] -= alpha dW[l], b[l] -= alpha db[l] for every layer, in place on the device."""
    for l in range(1, len(ws.layer_dims)):
        elementwise.update(parameters_d[f"W{l}"], ws.dW[l], parameters_d[f"b{l}"], ws.db[l],
                           learning_rate)


def train_step(parameters_d, X_d, Y_d, learning_rate, hidden="relu", output="sigmoid",
               cost="cross_entropy", workspace=None, return_cost=True, cost_slot=None, rung=None):
    """One training step on device arrays; parameters_d is updated in place on the device.

    No validation here (the NumPy wrappers and the training loop validate once, on the host).
    return_cost=True: returns J before the update as a float (a one-number copy, which waits for
    the step to finish). return_cost=False: copies nothing and returns None at once; with
    cost_slot=k, J stays on the device in workspace.costs[k] (a training loop's record of every
    step), without it the cost is not computed at all (two launches fewer: the bare step).
    """
    ws = workspace_for(parameters_d, X_d.shape[1]) if workspace is None else workspace
    forward_into(X_d, parameters_d, ws, hidden, output, rung)
    slot = 0 if cost_slot is None else cost_slot
    if return_cost or cost_slot is not None:
        cost_into(Y_d, ws, cost, slot)
    backward_into(X_d, Y_d, parameters_d, ws, hidden, output, cost, rung=rung)
    update(parameters_d, ws, learning_rate)
    if return_cost:
        return float(ws.costs[slot : slot + 1].copy_to_host()[0])
    return None


def matmul(A_d, B_d, out=None, trans_a=False, trans_b=False, rung=None):
    """C = op(A) op(B) on device arrays (no checks: the NumPy matmul validates); returns C."""
    M = A_d.shape[1] if trans_a else A_d.shape[0]
    N = B_d.shape[0] if trans_b else B_d.shape[1]
    C = cuda.device_array((M, N), A_d.dtype) if out is None else out
    return gemm(A_d, B_d, C, trans_a, trans_b, rung)
