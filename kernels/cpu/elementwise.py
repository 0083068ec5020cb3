"""Elementwise kernels of one layer: the activations, the fused linear + bias + activation
forward, the activation backward, dZ[L] and the update. Names and argument order as kernels.cuda's
(outputs after inputs, the activation code `act` and the cost code `cost` last):

    activation(Z, A, act)                                 A = g(Z)
    activation_backward(dA, Z, dZ, act)                   dZ = dA * g'(Z)
    linear_activation_forward(A_prev, W, b, Z, A, act, Vbuf, Cbuf)   Z = W A_prev + b, A = g(Z)
    output_gradient(AL, Y, ZL, dZ, act, cost)             dZ[L] from the cost
    update(W, dW, b, db, alpha)                           W -= alpha dW, b -= alpha db

Shapes as in the slides: W (n[l], n[l-1]), b (n[l], 1), Z, A, dZ, dA (n[l], m). The activation
is a small integer code (kernels/scalar.py); g, g' are scalar.py's forms over vmath.py's
vectorisable exp and expm1 (kernels.cuda uses the same forms over the CUDA library's).
"""

import numpy as np
from numba import njit

from kernels.cpu import vmath
from kernels.cpu.config import JIT
from kernels.cpu.products import wa
from kernels.scalar import LINEAR, RELU, SIGMOID, TANH


@njit(inline="always", **JIT)
def _apply(Z, A, act, one):
    code = np.int64(act)  # typed int64, not Literal[int](act): one g for every code (see below)
    n, m = Z.shape
    for i in range(n):
        for j in range(m):
            A[i, j] = vmath.g(Z[i, j], code, one)


@njit(**JIT)
def activation(Z, A, act):
    """A = g(Z).  Z, A: (n, m).

    One loop per activation, each with act a constant: a loop that tests act for every entry
    is not vectorised (the sigmoid and tanh branches call exp), even when act is ReLU. The
    constant reaches g as an int64 rather than as numba's literal type, so numba compiles g
    once for all four codes (not once per code); LLVM still folds it once g is inlined.
    """
    one = Z.dtype.type(1)
    if act == RELU:
        _apply(Z, A, RELU, one)
    elif act == SIGMOID:
        _apply(Z, A, SIGMOID, one)
    elif act == TANH:
        _apply(Z, A, TANH, one)
    else:
        _apply(Z, A, LINEAR, one)


@njit(inline="always", **JIT)
def _apply_backward(dA, Z, dZ, act, one):
    code = np.int64(act)  # as _apply's
    n, m = Z.shape
    for i in range(n):
        for j in range(m):
            dZ[i, j] = dA[i, j] * vmath.g_prime(Z[i, j], code, one)


@njit(**JIT)
def activation_backward(dA, Z, dZ, act):
    """dZ = dA * g'(Z).  dA, Z, dZ: (n, m). One loop per activation, as activation()."""
    one = Z.dtype.type(1)
    if act == RELU:
        _apply_backward(dA, Z, dZ, RELU, one)
    elif act == SIGMOID:
        _apply_backward(dA, Z, dZ, SIGMOID, one)
    elif act == TANH:
        _apply_backward(dA, Z, dZ, TANH, one)
    else:
        _apply_backward(dA, Z, dZ, LINEAR, one)


@njit(inline="always", **JIT)
def linear_activation_forward(A_prev, W, b, Z, A, act, Vbuf, Cbuf):
    """Z = W A_prev + b and A = g(Z), fused: each row of Z starts as b[i], the product adds
    W A_prev, and g is applied while the rows are still in cache.
    A_prev: (k, m), W: (n, k), b: (n, 1) -> Z, A: (n, m). Vbuf, Cbuf: see products.wa."""
    n, m = Z.shape
    for i in range(n):
        for j in range(m):
            Z[i, j] = b[i, 0]
    wa(W, A_prev, Z, Vbuf, Cbuf)
    activation(Z, A, act)


@njit(inline="always", **JIT)
def _descend(P, dP, a):
    n, k = P.shape
    for i in range(n):
        for j in range(k):
            P[i, j] -= a * dP[i, j]


@njit(**JIT)
def update(W, dW, b, db, alpha):
    """W <- W - alpha dW and b <- b - alpha db, in place.  W, dW: (n, k), b, db: (n, 1)."""
    a = W.dtype.type(alpha)
    _descend(W, dW, a)
    _descend(b, db, a)


@njit(**JIT)
def output_gradient(AL, Y, ZL, dZ, act, cost):
    """dZ[L] = dJ/dZ[L] entry by entry (scalar.output_gradient).  AL, Y, ZL, dZ: (n[L], m)."""
    n, m = AL.shape
    one = AL.dtype.type(1)
    inv_N = one / AL.dtype.type(n * m)
    for i in range(n):
        for j in range(m):
            dZ[i, j] = vmath.output_gradient(AL[i, j], Y[i, j], ZL[i, j], act, cost, inv_N, one)
