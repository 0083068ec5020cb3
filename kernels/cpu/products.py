"""The three matrix products of the network, as explicit loops without materialised transposes.

    forward     Z  = W A_prev        (n, k) x (k, m)      wa_into      Z[i, :] += W[i, p] A[p, :]
    backward    dW = dZ A_prev^T     (n, m) x (m, k)      dzat_into    dW[i, p] = dZ[i, :] . A[p, :]
    backward    dA = W^T dZ          (k, n) x (n, m)      wtdz_into    dA[p, :] += W[i, p] dZ[i, :]

n = n[l] units, k = n[l-1] inputs, m samples. Each loop order is chosen so that its inner loop
runs along rows (stride 1, vectorised by LLVM) of the arrays as they are stored:
- dW: row i of dZ and row p of A_prev are both contiguous over m, so each entry is a dot product
  and the 4 x 4 register tile of tiles.dot_4x4 applies as in matmul.
- Z and dA: the sum runs over the rows of A_prev (resp. dZ), so they are built row by row,
  4 output rows at a time: each row of A_prev (dZ) loaded is used for 4 outputs.
The kernels are serial: in the network these products are small (a few MFLOP at most), where
starting threads would cost more than it saves.
"""

import numpy as np
from numba import njit

from kernels.cpu.config import JIT
from kernels.cpu.tiles import dot_1x1, dot_4x4
from kernels.cpu.validate import product_operands


@njit(**JIT)
def wa_into(W, A, Z):
    """Z += W A.    W: (n, k), A: (k, m), Z: (n, m) (the caller sets Z to b or to 0 first)."""
    n, k = W.shape
    m = A.shape[1]
    n4 = n - n % 4
    for i in range(0, n4, 4):
        z0, z1, z2, z3 = Z[i], Z[i + 1], Z[i + 2], Z[i + 3]
        for p in range(k):
            w0, w1, w2, w3 = W[i, p], W[i + 1, p], W[i + 2, p], W[i + 3, p]
            a = A[p]
            for j in range(m):
                z0[j] += w0 * a[j]
                z1[j] += w1 * a[j]
                z2[j] += w2 * a[j]
                z3[j] += w3 * a[j]
    for i in range(n4, n):
        z = Z[i]
        for p in range(k):
            w = W[i, p]
            a = A[p]
            for j in range(m):
                z[j] += w * a[j]


@njit(**JIT)
def dzat_into(dZ, A, dW):
    """dW = dZ A^T.    dZ: (n, m), A: (k, m), dW: (n, k); dW[i, p] = sum_j dZ[i, j] A[p, j]."""
    n, m = dZ.shape
    k = A.shape[0]
    n4 = n - n % 4
    k4 = k - k % 4
    for i in range(0, n4, 4):
        for p in range(0, k4, 4):
            dot_4x4(dZ[i], dZ[i + 1], dZ[i + 2], dZ[i + 3],
                    A[p], A[p + 1], A[p + 2], A[p + 3], dW, i, p, m, False)
        for p in range(k4, k):
            for r in range(i, i + 4):
                dW[r, p] = dot_1x1(dZ[r], A[p], m)
    for i in range(n4, n):
        for p in range(k):
            dW[i, p] = dot_1x1(dZ[i], A[p], m)


@njit(**JIT)
def wtdz_into(W, dZ, dA):
    """dA = W^T dZ.    W: (n, k), dZ: (n, m), dA: (k, m); dA[p, :] = sum_i W[i, p] dZ[i, :]."""
    n, k = W.shape
    m = dZ.shape[1]
    k4 = k - k % 4
    for p in range(0, k4, 4):
        d0, d1, d2, d3 = dA[p], dA[p + 1], dA[p + 2], dA[p + 3]
        for j in range(m):
            d0[j] = 0
            d1[j] = 0
            d2[j] = 0
            d3[j] = 0
        for i in range(n):
            w0, w1, w2, w3 = W[i, p], W[i, p + 1], W[i, p + 2], W[i, p + 3]
            g = dZ[i]
            for j in range(m):
                d0[j] += w0 * g[j]
                d1[j] += w1 * g[j]
                d2[j] += w2 * g[j]
                d3[j] += w3 * g[j]
    for p in range(k4, k):
        d = dA[p]
        for j in range(m):
            d[j] = 0
        for i in range(n):
            w = W[i, p]
            g = dZ[i]
            for j in range(m):
                d[j] += w * g[j]


# Python entry points (for tests and benchmarks): validate, allocate the result, run the kernel.


def w_a(W, A):
    """Z = W A.  W: (n, k), A: (k, m) -> (n, m)."""
    W, A = product_operands("W", W, "A", A, (1, 0))
    Z = np.zeros((W.shape[0], A.shape[1]), W.dtype)
    wa_into(W, A, Z)
    return Z


def dz_at(dZ, A):
    """dW = dZ A^T.  dZ: (n, m), A: (k, m) -> (n, k)."""
    dZ, A = product_operands("dZ", dZ, "A", A, (1, 1))
    dW = np.empty((dZ.shape[0], A.shape[0]), dZ.dtype)
    dzat_into(dZ, A, dW)
    return dW


def wt_dz(W, dZ):
    """dA = W^T dZ.  W: (n, k), dZ: (n, m) -> (k, m)."""
    W, dZ = product_operands("W", W, "dZ", dZ, (0, 0))
    dA = np.empty((W.shape[1], dZ.shape[1]), W.dtype)
    wtdz_into(W, dZ, dA)
    return dA
