"""Elementwise and reduction kernels of one layer: activations, the fused linear + bias +
activation forward, the activation backward, db, both costs, dZ[L] and the update.

Shapes as in the slides: W (n[l], n[l-1]), b (n[l], 1), Z, A, dZ, dA (n[l], m). Activations are
passed to kernels as small integer codes (one compiled kernel serves all of them):
"""

import numpy as np
from numba import njit

from kernels.cpu.config import JIT
from kernels.cpu.products import wa

RELU, TANH, SIGMOID, LINEAR = 0, 1, 2, 3
ACTIVATION_CODES = {"relu": RELU, "tanh": TANH, "sigmoid": SIGMOID, "linear": LINEAR}
CROSS_ENTROPY, MSE = 0, 1
COST_CODES = {"cross_entropy": CROSS_ENTROPY, "mse": MSE}
LOG_FLOOR = -100.0  # torch's binary_cross_entropy clamps each log here (reference/losses.py)


# ---------------------------------------------------------------------------------------------
# Activations, one number at a time (the same stable forms as reference/activations.py).


@njit(inline="always", **JIT)
def g(z, act, one):
    """A = g(Z) for one entry.  t = e^(-|z|) (sigmoid) or e^(-2|z|) (tanh) never overflows.
    `one` is 1 in the arrays' dtype: a bare 1 would turn float32 arithmetic into float64."""
    if act == RELU:
        return z if z > 0 else z * 0
    if act == SIGMOID:
        t = np.exp(-abs(z))
        return one / (one + t) if z >= 0 else t / (one + t)
    if act == TANH:
        u = -(abs(z) + abs(z))
        t = np.exp(u)
        a = -np.expm1(u) / (one + t)
        return a if z >= 0 else -a
    return z


@njit(inline="always", **JIT)
def g_prime(z, act, one):
    """g'(z): relu 1 for z > 0 else 0; sigmoid A(1-A) = t/(1+t)^2; tanh 1-A^2 = 4t/(1+t)^2."""
    if act == RELU:
        return one if z > 0 else z * 0
    if act == SIGMOID:
        t = np.exp(-abs(z))
        return t / ((one + t) * (one + t))
    if act == TANH:
        t = np.exp(-(abs(z) + abs(z)))
        return (t + t + t + t) / ((one + t) * (one + t))
    return one


# ---------------------------------------------------------------------------------------------
# Layer kernels.


@njit(inline="always", **JIT)
def _apply(Z, A, act, one):
    n, m = Z.shape
    for i in range(n):
        for j in range(m):
            A[i, j] = g(Z[i, j], act, one)


@njit(**JIT)
def activation_into(Z, A, act):
    """A = g(Z).  Z, A: (n, m).

    One loop per activation, with act a constant inside it: a loop that tests act for every
    entry is not vectorised (the sigmoid and tanh branches call exp), even when act is ReLU.
    The ReLU loop then vectorises: ~3.6 ns per entry -> well under 1 ns.
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
            dZ[i, j] = dA[i, j] * g_prime(Z[i, j], act, one)


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
def bias_gradient_into(dZ, db):
    """db = sum over the m columns of dZ.  dZ: (n, m) -> db: (n, 1)."""
    n, m = dZ.shape
    for i in range(n):
        s = dZ.dtype.type(0)
        for j in range(m):
            s += dZ[i, j]
        db[i, 0] = s


@njit(**JIT)
def update_into(P, dP, alpha):
    """P <- P - alpha dP, in place (any 2-D shape, C-contiguous)."""
    n, k = P.shape
    a = P.dtype.type(alpha)
    for i in range(n):
        for j in range(k):
            P[i, j] -= a * dP[i, j]


# ---------------------------------------------------------------------------------------------
# Costs and the output gradient. Sums run in the arrays' dtype, row by row; the mean is over all
# N = n[L] m entries, as in reference/losses.py.


@njit(**JIT)
def cross_entropy_from_logits(Z, Y):
    """J = mean( max(z, 0) - z y + log(1 + e^-|z|) ): binary cross-entropy of sigmoid(z)."""
    n, m = Z.shape
    s = Z.dtype.type(0)
    for i in range(n):
        for j in range(m):
            z = Z[i, j]
            s += max(z, z * 0) - z * Y[i, j] + np.log1p(np.exp(-abs(z)))
    return s / (n * m)


@njit(**JIT)
def cross_entropy_from_probabilities(AL, Y):
    """J = -mean( y log a + (1 - y) log(1 - a) ), each log clamped at -100 like torch."""
    n, m = AL.shape
    s = AL.dtype.type(0)
    floor = AL.dtype.type(LOG_FLOOR)
    for i in range(n):
        for j in range(m):
            a = AL[i, j]
            log_a = max(np.log(a), floor) if a > 0 else floor
            log_1ma = max(np.log1p(-a), floor) if a < 1 else floor
            s += Y[i, j] * log_a + (1 - Y[i, j]) * log_1ma
    return -s / (n * m)


@njit(**JIT)
def mean_squared_error(AL, Y):
    """J = mean( (a - y)^2 ) over all n[L] m entries."""
    n, m = AL.shape
    s = AL.dtype.type(0)
    for i in range(n):
        for j in range(m):
            d = AL[i, j] - Y[i, j]
            s += d * d
    return s / (n * m)


@njit(**JIT)
def output_gradient_into(AL, Y, ZL, dZ, act, cost):
    """dZ[L] = dJ/dZ[L] (N = n[L] m):
    sigmoid + cross-entropy: (A[L] - Y) / N (the a(1-a) of dJ/da and of sigmoid' cancel);
    mse: 2 (A[L] - Y) / N * g'(Z[L])."""
    n, m = AL.shape
    one = AL.dtype.type(1)
    inv_N = one / AL.dtype.type(n * m)
    for i in range(n):
        for j in range(m):
            d = (AL[i, j] - Y[i, j]) * inv_N
            if cost == MSE:
                d = (d + d) * g_prime(ZL[i, j], act, one)
            dZ[i, j] = d
