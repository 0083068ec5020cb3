"""The network on device arrays: everything stays on the GPU between calls.

Legend as in reference/network.py: L layers, n[l] units, m samples (columns); W[l] (n[l], n[l-1]),
b[l] (n[l], 1), Z[l], A[l] (n[l], m). Arrays here are numba device arrays (C-contiguous); lists
are indexed by the layer l, with entry 0 unused (A[0] = X).

    to_device(parameters) / to_host(parameters_d, out)    the only host <-> device copies
    Workspace(parameters_d, m, hidden, output, cost)      one network's W[l], b[l] and all a step writes
    forward, cost, backward, update (ws, ...)             the four steps (as kernels.cpu.step's)
    train_step_on(ws, X_d, Y_d, alpha)                    the four, a few kernel launches each
    train_step(parameters_d, X_d, Y_d, ...)               the same on the network's own workspace

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
from kernels.memo import Memo
from kernels.scalar import ACTIVATION_CODES, COST_CODES, MSE

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
    """One network's parameters on the device, W[l] and b[l] (the arrays of parameters_d, updated
    in place), and everything a step on batches of m samples writes, by the field names of
    kernels.cpu.step.Workspace: Z[l], A[l], dZ[l], dA[l], dW[l], db[l] for l = 1..L; the
    activation and cost codes hidden, output, cost. dA[l] is dZ[l]'s memory: W^T dZ lands there
    and g' is applied in place. This path adds `partials` (the cost reduction's first pass) and
    `costs` (costs[k]: where the cost of step k lands; one slot unless a training loop passes
    its own vector, so that every step's cost stays on the device until the loop ends).
    """

    def __init__(self, parameters_d, m, hidden, output, cost="cross_entropy", costs=None):
        L = sum(1 for key in parameters_d if key.startswith("W"))
        dtype = np.dtype(parameters_d["W1"].dtype)
        self.m, self.dtype = m, dtype
        self.W = [None] + [parameters_d[f"W{l}"] for l in range(1, L + 1)]
        self.b = [None] + [parameters_d[f"b{l}"] for l in range(1, L + 1)]
        dims = [self.W[1].shape[1]] + [W.shape[0] for W in self.W[1:]]  # n[0], n[1], ..., n[L]
        self.Z, self.A, self.dZ = ([None] + [cuda.device_array((n, m), dtype) for n in dims[1:]]
                                   for _ in range(3))
        self.dA = self.dZ
        self.dW = [None] + [cuda.device_array((dims[l], dims[l - 1]), dtype) for l in range(1, L + 1)]
        self.db = [None] + [cuda.device_array((n, 1), dtype) for n in dims[1:]]
        self.hidden, self.output = ACTIVATION_CODES[hidden], ACTIVATION_CODES[output]
        self.cost = COST_CODES[cost]
        self.partials = cuda.device_array(config.COST_BLOCKS, dtype)
        self.costs = cuda.device_array(1, dtype) if costs is None else costs

    def holds(self, parameters_d):
        """parameters_d holds this workspace's W[l], b[l] (the very same device arrays)."""
        L = len(self.W) - 1
        return len(parameters_d) == 2 * L and all(
            parameters_d.get(f"W{l}") is self.W[l] and parameters_d.get(f"b{l}") is self.b[l]
            for l in range(1, L + 1))


# ---------------------------------------------------------------------------------------------
# The step: forward, cost, backward, update.


def forward(ws, X_d, rung=None):
    """Z[l] = W[l] A[l-1] + b[l], A[l] = g(Z[l]) for l = 1..L, A[0] = X; returns A[L]."""
    L = len(ws.W) - 1
    for l in range(1, L + 1):
        A_prev = X_d if l == 1 else ws.A[l - 1]
        g = ws.hidden if l < L else ws.output
        gemm(ws.W[l], A_prev, ws.Z[l], rung=rung)
        elementwise.bias_activation_forward(ws.Z[l], ws.b[l], ws.A[l], g)
    return ws.A[L]


def cost(ws, Y_d, k):
    """costs[k] = J of the last forward: the cross-entropy from the logits Z[L], or the mse of
    A[L]. Stays on the device; returns ws.costs."""
    L = len(ws.W) - 1
    if ws.cost == MSE:
        reductions.cost(ws.A[L], Y_d, scalar.SQUARED_TERM, ws.partials, ws.costs, k)
    else:
        reductions.cost(ws.Z[L], Y_d, scalar.LOGITS_TERM, ws.partials, ws.costs, k)
    return ws.costs


def backward(ws, X_d, Y_d, AL_d=None, rung=None):
    """dZ[L] from the cost, then for l = L..1: dW[l] = dZ[l] A[l-1]^T, db[l] = sum over m of
    dZ[l], dA[l-1] = W[l]^T dZ[l], dZ[l-1] = dA[l-1] * g'(Z[l-1]) (in place: dA is dZ's memory).
    AL_d replaces A[L] in dZ[L] when given (the NumPy backward passes the caller's AL)."""
    L = len(ws.W) - 1
    AL = ws.A[L] if AL_d is None else AL_d
    elementwise.output_gradient(AL, Y_d, ws.Z[L], ws.dZ[L], ws.output, ws.cost)
    for l in range(L, 0, -1):
        A_prev = X_d if l == 1 else ws.A[l - 1]
        gemm(ws.dZ[l], A_prev, ws.dW[l], trans_b=True, rung=rung)
        reductions.bias_gradient(ws.dZ[l], ws.db[l])
        if l > 1:
            gemm(ws.W[l], ws.dZ[l], ws.dA[l - 1], trans_a=True, rung=rung)
            elementwise.activation_backward(ws.dA[l - 1], ws.Z[l - 1], ws.dZ[l - 1], ws.hidden)


def update(ws, alpha):
    """W[l] <- W[l] - alpha dW[l], b[l] <- b[l] - alpha db[l] for every layer, on the device."""
    for l in range(1, len(ws.W)):
        elementwise.update(ws.W[l], ws.dW[l], ws.b[l], ws.db[l], alpha)


def train_step_on(ws, X_d, Y_d, alpha, return_cost=True, cost_slot=None, rung=None):
    """One step of the network ws on the batch (X_d, Y_d): forward, cost, backward, update.

    No validation here (the NumPy wrappers and the training loop validate once, on the host).
    return_cost=True: returns J before the update as a float (a one-number copy, which waits for
    the step to finish). return_cost=False: copies nothing and returns None at once; with
    cost_slot=k, J stays on the device in ws.costs[k] (a training loop's record of every step),
    without it the cost is not computed at all (two launches fewer: the bare step).
    """
    k = 0 if cost_slot is None else cost_slot
    forward(ws, X_d, rung)
    if return_cost or cost_slot is not None:
        cost(ws, Y_d, k)
    backward(ws, X_d, Y_d, rung=rung)
    update(ws, alpha)
    if return_cost:
        return float(ws.costs[k : k + 1].copy_to_host()[0])
    return None


# The workspaces of train_step: (id(parameters_d), m, options) -> Workspace, one per network
# (two networks of one shape never share one), at most 8, the oldest dropped first.
_WORKSPACES = Memo(8)


def workspace_for(parameters_d, m, hidden="relu", output="sigmoid", cost="cross_entropy"):
    """The Workspace of this network (parameters_d's arrays) for batches of m samples."""
    key = (id(parameters_d), m, hidden, output, cost)
    ws = _WORKSPACES.get(key)
    if ws is None or not ws.holds(parameters_d):
        ws = _WORKSPACES.remember(key, Workspace(parameters_d, m, hidden, output, cost))
    return ws


def train_step(parameters_d, X_d, Y_d, learning_rate, hidden="relu", output="sigmoid",
               cost="cross_entropy", return_cost=True, cost_slot=None, rung=None):
    """One training step on device arrays; parameters_d is updated in place on the device.

    train_step_on over the network's own workspace (workspace_for); return_cost and cost_slot as
    there. No validation here (the NumPy wrappers validate once, on the host).
    """
    ws = workspace_for(parameters_d, X_d.shape[1], hidden, output, cost)
    return train_step_on(ws, X_d, Y_d, learning_rate, return_cost, cost_slot, rung)


def matmul(A_d, B_d, out=None, trans_a=False, trans_b=False, rung=None):
    """C = op(A) op(B) on device arrays (no checks: the NumPy matmul validates); returns C."""
    M = A_d.shape[1] if trans_a else A_d.shape[0]
    N = B_d.shape[0] if trans_b else B_d.shape[1]
    C = cuda.device_array((M, N), A_d.dtype) if out is None else out
    return gemm(A_d, B_d, C, trans_a, trans_b, rung)
