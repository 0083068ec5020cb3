"""Elementwise kernels of one layer: the activations, the fused linear + bias + activation
forward, the activation backward, dZ[L] and the update.

Shapes as in the slides: W (n[l], n[l-1]), b (n[l], 1), Z, A, dZ, dA (n[l], m). The activation
is a small integer code (kernels/scalar.py), and g, g' are scalar.py's, shared with kernels.cuda.
"""

from numba import njit

from kernels import scalar
from kernels.cpu.config import JIT
from kernels.cpu.products import wa
from kernels.scalar import LINEAR, RELU, SIGMOID, TANH


@njit(inline="always", **JIT)
def _apply(Z, A, act, one):
    n, m = Z.shape
    for i in range(n):
        for j in range(m):
            A[i, j] = scalar.g(Z[i, j], act, one)


@njit(**JIT)
def activation_into(Z, A, act):
    """A = g(Z).  Z, A: (n, m).

    One loop per activation, each with act a constant: a loop that tests act for every entry
    is not vectorised (the sigmoid and tanh branches call exp), even when act is ReLU.
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
    n, m = Z.shape
    for i in range(n):
        for j in range(m):
            dZ[i, j] = dA[i, j] * scalar.g_prime(Z[i, j], act, one)


@njit(**JIT)
def activation_backward_into(dA, Z, dZ, act):
    """dZ = dA * g'(Z).  dA, Z, dZ: (n, m). One loop per activation, as activation_into."""
    one = Z.dtype.type(1)
    if act == RELU:
        _apply_backward(dA, Z, dZ, RELU, one)
    elif act == SIGMOID:
        _apply_backward(dA, Z, dZ, SIGMOID, one)
    elif act == TANH:
        _apply_backward(dA, Z, dZ, TANH, one)
    else:
        _apply_backward(dA, Z, dZ, LINEAR, one)


@njit(**JIT)
def linear_activation_forward_into(A_prev, W, b, Z, A, act, Vbuf, Cbuf):
    """Z = W A_prev + b and A = g(Z), fused: each row of Z starts as b[i], the product adds
    W A_prev, and g is applied while the rows are still in cache.
    A_prev: (k, m), W: (n, k), b: (n, 1) -> Z, A: (n, m). Vbuf, Cbuf: see products.wa."""
    n, m = Z.shape
    for i in range(n):
        for j in range(m):
            Z[i, j] = b[i, 0]
    wa(W, A_prev, Z, Vbuf, Cbuf)
    activation_into(Z, A, act)


@njit(**JIT)
def update_into(P, dP, alpha):
    """P <- P - alpha dP, in place (any 2-D shape, C-contiguous)."""
    n, k = P.shape
    a = P.dtype.type(alpha)
    for i in range(n):
        for j in range(k):
            P[i, j] -= a * dP[i, j]


@njit(**JIT)
def output_gradient_into(AL, Y, ZL, dZ, act, cost):
    """dZ[L] = dJ/dZ[L] entry by entry (scalar.output_gradient).  AL, Y, ZL, dZ: (n[L], m)."""
    n, m = AL.shape
    one = AL.dtype.type(1)
    inv_N = one / AL.dtype.type(n * m)
    for i in range(n):
        for j in range(m):
            dZ[i, j] = scalar.output_gradient(AL[i, j], Y[i, j], ZL[i, j], act, cost, inv_N, one)
