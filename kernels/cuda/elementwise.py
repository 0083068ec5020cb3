"""Elementwise kernels: one thread per entry (i, j) of an (n, m) array, x over the m columns,
y (then z, past 65,535 blocks: compile.grid) over the n rows. Names and argument order as
kernels.cpu's (outputs after inputs, the activation code `act` and the cost code `cost` last):

    activation(Z, A, act)                     A = g(Z)
    bias_activation_forward(Z, b, A, act)     Z = Z + b (broadcast over columns), A = g(Z): fused
    activation_backward(dA, Z, dZ, act)       dZ = dA * g'(Z)                     (may run in place)
    output_gradient(AL, Y, ZL, dZ, act, cost) dZ[L] from the cost (reference.network.output_gradient)
    update(W, dW, b, db, alpha)               W <- W - alpha dW and b <- b - alpha db: one launch
    gather_columns(X, order, first, Xb)       Xb[:, k] = X[:, order[first + k]]    mini-batch on device

Scalars that enter a kernel (1/N, alpha) are passed in the arrays' dtype, so float32 stays float32.
"""

import numpy as np

from kernels import scalar

from . import config
from .compile import cell, grid, kernel


def activation_kernel(dtype):
    ONE = np.dtype(dtype).type(1)

    def activation(Z, A, act):
        i, j = cell()
        if i < Z.shape[0] and j < Z.shape[1]:
            A[i, j] = scalar.g(Z[i, j], act, ONE)

    return activation


def bias_activation_forward_kernel(dtype):
    ONE = np.dtype(dtype).type(1)

    def bias_activation_forward(Z, b, A, act):
        # on entry Z holds W A_prev; afterwards Z = W A_prev + b (cached for backward), A = g(Z)
        i, j = cell()
        if i < Z.shape[0] and j < Z.shape[1]:
            z = Z[i, j] + b[i, 0]
            Z[i, j] = z
            A[i, j] = scalar.g(z, act, ONE)

    return bias_activation_forward


def activation_backward_kernel(dtype):
    ONE = np.dtype(dtype).type(1)

    def activation_backward(dA, Z, dZ, act):
        i, j = cell()
        if i < Z.shape[0] and j < Z.shape[1]:
            dZ[i, j] = dA[i, j] * scalar.g_prime(Z[i, j], act, ONE)

    return activation_backward


def output_gradient_kernel(dtype):
    ONE = np.dtype(dtype).type(1)

    def output_gradient(AL, Y, ZL, dZ, act, cost, inv_N):
        # scalar.output_gradient: (A - Y) / N for a sigmoid with cross-entropy, 2 (A - Y) / N g'(Z) for mse
        i, j = cell()
        if i < AL.shape[0] and j < AL.shape[1]:
            dZ[i, j] = scalar.output_gradient(AL[i, j], Y[i, j], ZL[i, j], act, cost, inv_N, ONE)

    return output_gradient


def update_kernel(dtype):
    def update(W, dW, b, db, alpha):
        # thread (i, j) updates W[i, j]; the threads of column 0 also update b[i] (launched over
        # at least one column, so b is updated even when W has none)
        i, j = cell()
        if i < W.shape[0]:
            if j < W.shape[1]:
                W[i, j] -= alpha * dW[i, j]
            if j == 0:
                b[i, 0] -= alpha * db[i, 0]

    return update


def gather_columns_kernel(dtype):
    def gather_columns(X, order, first, Xb):
        i, j = cell()
        if i < Xb.shape[0] and j < Xb.shape[1]:
            Xb[i, j] = X[i, order[first + j]]

    return gather_columns


def launch_config(shape, columns=None):
    """(grid, block) for one thread per entry of an (n, m) array (n, m >= 1): compile.grid's
    layout, `columns` threads across when given (the update launches at least one)."""
    bx, by = config.ELEMENTWISE_BLOCK
    n, m = shape
    return grid(n, m if columns is None else columns, by, bx), (bx, by)


def activation(Z, A, act, stream=0):
    """A = g(Z) on device arrays Z, A: (n, m); act: the activation's code (kernels/scalar.py)."""
    if Z.size:
        grid_, block = launch_config(Z.shape)
        kernel(activation_kernel, np.dtype(Z.dtype))[grid_, block, stream](Z, A, act)


def bias_activation_forward(Z, b, A, act, stream=0):
    """Z += b, A = g(Z) on device arrays Z, A: (n, m), b: (n, 1)."""
    if Z.size:
        grid_, block = launch_config(Z.shape)
        kernel(bias_activation_forward_kernel, np.dtype(Z.dtype))[grid_, block, stream](Z, b, A, act)


def activation_backward(dA, Z, dZ, act, stream=0):
    """dZ = dA * g'(Z) on device arrays of one shape (dZ may be dA)."""
    if Z.size:
        grid_, block = launch_config(Z.shape)
        kernel(activation_backward_kernel, np.dtype(Z.dtype))[grid_, block, stream](dA, Z, dZ, act)


def output_gradient(AL, Y, ZL, dZ, act, cost, stream=0):
    """dZ[L] for the output activation's code `act` and the cost's code `cost` (kernels/scalar.py)."""
    dtype = np.dtype(AL.dtype)
    if AL.size:
        inv_N = dtype.type(1.0 / AL.size)
        grid_, block = launch_config(AL.shape)
        kernel(output_gradient_kernel, dtype)[grid_, block, stream](AL, Y, ZL, dZ, act, cost, inv_N)


def update(W, dW, b, db, alpha, stream=0):
    """W -= alpha dW and b -= alpha db, in place on the device."""
    dtype = np.dtype(W.dtype)
    if W.shape[0]:
        grid_, block = launch_config(W.shape, columns=max(W.shape[1], 1))
        kernel(update_kernel, dtype)[grid_, block, stream](W, dW, b, db, dtype.type(alpha))


def gather_columns(X, order, first, Xb, stream=0):
    """Xb[:, k] = X[:, order[first + k]] for k < Xb.shape[1] (order: int64 device vector)."""
    if Xb.size:
        grid_, block = launch_config(Xb.shape)
        kernel(gather_columns_kernel, np.dtype(X.dtype))[grid_, block, stream](X, order, first, Xb)
