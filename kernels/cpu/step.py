"""train_step fused: forward, cost, backward and update in one compiled call.

    train_step_kernel(arrays, L, X, Y, alpha, hidden, output, cost) -> (J, status)

The kernel writes Z[l], A[l], dZ[l], dA[l], dW[l], db[l] into a workspace that the wrapper
allocates once per (layer widths, m, dtype) and keeps (Workspace below), so a steady-state step
allocates no memory at all (tests/test_cpu_kernels.py counts numba's allocations).

The parameters and the workspace travel in one numba typed List, not a tuple: a tuple of L arrays is a
different type for every depth L, so each depth would compile the whole step again; a typed List
of 2-D arrays is one type per dtype, so train_step compiles twice in all (float32, float64).

Validation. The wrapper's first call for a given parameters dict, batch shape and options runs
every check of reference/checks.py, word for word as the reference (in the reference's order).
Later calls with the very same parameter arrays (same objects, shapes, dtype) and an X, Y of the
same shape and dtype skip the Python checks, which cost 13-27 us per step here (the whole fused
step of the slides' [2, 10, 1] net takes ~7 us); the kernel then checks the values itself (all
finite, labels in [0, 1] for cross-entropy) before it writes anything, and if any check fails the
wrapper runs the reference checks, which raise the same error as on the reference path.
"""

from collections import OrderedDict

import numpy as np
from numba import njit
from numba.typed import List

from kernels import scalar
from kernels.cpu import config, elementwise, reductions
from kernels.cpu.config import JIT
from kernels.cpu.products import dzat, network_buffers, wtdz
from kernels.scalar import ACTIVATION_CODES, COST_CODES, CROSS_ENTROPY, MSE
from reference import checks

OK, BAD_VALUES = 0, 1


# The kinds of workspace array, in their order in the List after the 2 L parameters.
Z_, A_, DZ, DA, DW, DB, BUFFERS = range(7)


@njit(inline="always", **JIT)
def _at(kind, L, l):
    """Index in the kernel's List of the workspace array of this kind for layer l + 1."""
    return 2 * L + kind * L + l


@njit(**JIT)
def train_step_kernel(arrays, L, X, Y, alpha, hidden, output, cost):
    """One gradient-descent step. X: (n[0], m), Y: (n[L], m).
    arrays = [W1, b1, ..., WL, bL] + the workspace, in one typed List (each List argument costs
    the call ~0.65 us to unbox): the workspace array of kind k (Z_, A_, DZ, DA: (n[l], m);
    DW: (n[l], n[l-1]); DB: (n[l], 1)) for layer l is arrays[_at(k, L, l - 1)].
    Returns (J before the update, OK), or (nan, BAD_VALUES) having written nothing.
    """
    Vbuf, Cbuf = arrays[_at(BUFFERS, L, 0)], arrays[_at(BUFFERS, L, 1)]  # blocked products
    # Values (the wrapper has checked shapes, dtypes and layout).
    ok = reductions.all_finite(X) and reductions.all_finite(Y)
    if cost == CROSS_ENTROPY:
        ok = ok and reductions.labels_in_unit_interval(Y)
    for q in range(2 * L):
        ok = ok and reductions.all_finite(arrays[q])
    if not ok:
        return np.nan, BAD_VALUES

    # Forward: Z[l] = W[l] A[l-1] + b[l], A[l] = g(Z[l]).
    A_prev = X
    for l in range(L):
        act = hidden if l < L - 1 else output
        W, b = arrays[2 * l], arrays[2 * l + 1]
        Z, A = arrays[_at(Z_, L, l)], arrays[_at(A_, L, l)]
        elementwise.linear_activation_forward_into(A_prev, W, b, Z, A, act, Vbuf, Cbuf)
        A_prev = A

    # Cost before the update (cross-entropy from the logits Z[L]).
    AL, ZL = arrays[_at(A_, L, L - 1)], arrays[_at(Z_, L, L - 1)]
    if cost == MSE:
        J = reductions.cost(AL, Y, scalar.SQUARED_TERM)
    else:
        J = reductions.cost(ZL, Y, scalar.LOGITS_TERM)

    # Backward: dZ[L], then dW[l] = dZ[l] A[l-1]^T, db[l] = sum_m dZ[l],
    # dZ[l-1] = (W[l]^T dZ[l]) * g'(Z[l-1]). dA[0] is never needed, so never computed.
    elementwise.output_gradient_into(AL, Y, ZL, arrays[_at(DZ, L, L - 1)], output, cost)
    for l in range(L - 1, -1, -1):
        A_prev = X if l == 0 else arrays[_at(A_, L, l - 1)]
        dZ = arrays[_at(DZ, L, l)]
        dzat(dZ, A_prev, arrays[_at(DW, L, l)], Vbuf, Cbuf)
        reductions.bias_gradient_into(dZ, arrays[_at(DB, L, l)])
        if l > 0:
            dA_prev, Z_prev = arrays[_at(DA, L, l - 1)], arrays[_at(Z_, L, l - 1)]
            wtdz(arrays[2 * l], dZ, dA_prev, Vbuf, Cbuf)
            elementwise.activation_backward_into(dA_prev, Z_prev, arrays[_at(DZ, L, l - 1)], hidden)

    # Update: W <- W - alpha dW, b <- b - alpha db.
    for l in range(L):
        elementwise.update_into(arrays[2 * l], arrays[_at(DW, L, l)], alpha)
        elementwise.update_into(arrays[2 * l + 1], arrays[_at(DB, L, l)], alpha)
    return J, OK


def _typed_list(arrays):
    out = List()
    for a in arrays:
        out.append(a)
    return out


class Workspace:
    """Everything the kernel writes, for one (layer widths, m, dtype), in the order Z[1..L],
    A[1..L], dZ[1..L], dA[1..L], dW[1..L], db[1..L] (see train_step_kernel), then the two packing
    buffers of the blocked products (products.network_buffers)."""

    def __init__(self, dims, m, dtype):
        L = len(dims) - 1
        shapes = [(dims[l], m) for l in range(1, L + 1)] * 4
        shapes += [(dims[l], dims[l - 1]) for l in range(1, L + 1)]
        shapes += [(dims[l], 1) for l in range(1, L + 1)]
        self.arrays = [np.zeros(s, dtype) for s in shapes]
        self.arrays += list(network_buffers(dims, m, dtype))


_WORKSPACES = OrderedDict()  # (dims, m, dtype) -> Workspace; the most recent few are kept
_MAX_WORKSPACES = 8


def workspace(dims, m, dtype):
    key = (tuple(dims), m, np.dtype(dtype))
    ws = _WORKSPACES.get(key)
    if ws is None:
        ws = _WORKSPACES[key] = Workspace(dims, m, dtype)
        if len(_WORKSPACES) > _MAX_WORKSPACES:
            _WORKSPACES.popitem(last=False)
    else:
        _WORKSPACES.move_to_end(key)
    return ws


# The fast path's memory of validated calls: (id(parameters), X and Y shapes and dtypes, options)
# -> ((name, array, shape) of every parameter, typed List of parameters + workspace, L, codes).
# Kept small: one entry per live training loop.
_VALIDATED = OrderedDict()


_PLAIN_NUMBERS = (float, int, np.floating)


def train_step(parameters, X, Y, learning_rate, hidden="relu", output="sigmoid",
               cost="cross_entropy"):
    """One step of training on the batch (X, Y): forward, cost, backward, update, fused.

    X: (n[0], m), Y: (n[L], m). Updates parameters in place; returns the cost before the update.
    """
    # Fast path: the same parameter arrays, batch shape and options as a validated call
    # (~1.5 us of Python here, against 13-27 us for the full checks).
    if type(X) is np.ndarray and type(Y) is np.ndarray:
        entry = _VALIDATED.get((id(parameters), X.shape, Y.shape, X.dtype, Y.dtype, hidden,
                                output, cost))
        if (entry is not None and isinstance(learning_rate, _PLAIN_NUMBERS)
                and 0 < learning_rate < np.inf and X.flags.c_contiguous
                and Y.flags.c_contiguous and len(parameters) == len(entry[0])):
            pairs, arrays, L, codes = entry
            for key, a, shape in pairs:
                if parameters[key] is not a or a.shape != shape or a.dtype != X.dtype:
                    break
            else:
                J, status = train_step_kernel(arrays, L, X, Y, learning_rate, *codes)
                if status == OK:
                    return float(J)
                # A value is NaN/inf or a label is outside [0, 1]: nothing was written; the
                # reference's checks below raise the reference's error.

    L = checks.check_step(parameters, X, Y, learning_rate, hidden, output, cost)
    config.ready()
    dtype = X.dtype
    dims = [X.shape[0]] + [parameters[f"W{l}"].shape[0] for l in range(1, L + 1)]
    ws = workspace(dims, X.shape[1], dtype)
    names = [f"{p}{l}" for l in range(1, L + 1) for p in "Wb"]
    work = [np.ascontiguousarray(parameters[k]) for k in names]  # non-contiguous: updated via a copy
    arrays = _typed_list(work + ws.arrays)
    codes = (ACTIVATION_CODES[hidden], ACTIVATION_CODES[output], COST_CODES[cost])
    key = (id(parameters), X.shape, Y.shape, X.dtype, Y.dtype, hidden, output, cost)
    X = np.ascontiguousarray(X)
    Y = np.ascontiguousarray(Y.astype(dtype, copy=False))
    J, status = train_step_kernel(arrays, L, X, Y, learning_rate, *codes)
    if status != OK:  # the checks above passed, so this cannot happen; never return garbage
        raise RuntimeError("train_step kernel rejected inputs that passed the checks")
    originals = [parameters[k] for k in names]
    for a, w in zip(originals, work, strict=True):
        if w is not a:
            a[...] = w
    if all(w is a for a, w in zip(originals, work, strict=True)) and len(parameters) == len(names):
        pairs = tuple(zip(names, originals, [a.shape for a in originals], strict=True))
        _VALIDATED[key] = (pairs, arrays, L, codes)
        if len(_VALIDATED) > _MAX_WORKSPACES:
            _VALIDATED.popitem(last=False)
    return float(J)
