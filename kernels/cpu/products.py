"""The three matrix products of the network, as explicit loops without materialised transposes.

    forward     Z  = W A_prev        (n, k) x (k, m)      wa_into      Z[i, :] += W[i, p] A[p, :]
    backward    dW = dZ A_prev^T     (n, m) x (m, k)      dzat_into    dW[i, p] = dZ[i, :] . A[p, :]
    backward    dA = W^T dZ          (k, n) x (n, m)      wtdz_into    dA[p, :] += W[i, p] dZ[i, :]

n = n[l] units, k = n[l-1] inputs, m samples. Each loop order is chosen so that its inner loop
runs along rows (stride 1, vectorised by LLVM) of the arrays as they are stored:
- dW: row i of dZ and row p of A_prev are both contiguous over m, so each entry is a dot product
  and the 4 x 4 register tile of tiles.dot_4x4 applies as in matmul.
- Z and dA: the sum runs over the rows of A_prev (resp. dZ), so each output row is built as a
  sum of rows, eight input rows per pass over the output row (see _axpy8_rows).
Each comes serial and parallel (prange over output rows); wa, dzat and wtdz pick one by size.
"""

import numba
import numpy as np
from numba import njit, prange

from kernels.cpu.config import JIT, JIT_PARALLEL, PARALLEL_MIN_MACS
from kernels.cpu.tiles import dot_1x1, dot_4x4
from kernels.cpu.validate import product_operands


@njit(inline="always", **JIT)
def _axpy8_rows(W, A, Z, i):
    """Z[i, :] += sum_p W[i, p] A[p, :], eight rows of A per pass over Z[i, :].

    One output row and eight input rows per inner loop: every Z[i, j] loaded and stored feeds
    8 multiply-adds, and the loop has 9 pointers (LLVM vectorises it after 8 run-time overlap
    checks; four output rows at once would need 10, past LLVM's limit of 8, and not vectorise).
    """
    k = W.shape[1]
    m = A.shape[1]
    z = Z[i]
    k8 = k - k % 8
    for p in range(0, k8, 8):
        w0, w1, w2, w3 = W[i, p], W[i, p + 1], W[i, p + 2], W[i, p + 3]
        w4, w5, w6, w7 = W[i, p + 4], W[i, p + 5], W[i, p + 6], W[i, p + 7]
        a0, a1, a2, a3 = A[p], A[p + 1], A[p + 2], A[p + 3]
        a4, a5, a6, a7 = A[p + 4], A[p + 5], A[p + 6], A[p + 7]
        for j in range(m):
            z[j] += (w0 * a0[j] + w1 * a1[j] + w2 * a2[j] + w3 * a3[j]
                     + w4 * a4[j] + w5 * a5[j] + w6 * a6[j] + w7 * a7[j])
    for p in range(k8, k):
        w = W[i, p]
        a = A[p]
        for j in range(m):
            z[j] += w * a[j]


@njit(**JIT)
def wa_into(W, A, Z):
    """Z += W A.    W: (n, k), A: (k, m), Z: (n, m) (the caller sets Z to b or to 0 first)."""
    for i in range(W.shape[0]):
        _axpy8_rows(W, A, Z, i)


@njit(**JIT_PARALLEL)
def wa_into_parallel(W, A, Z):
    """wa_into with the rows of Z shared out over the cores (for large layers)."""
    for i in prange(W.shape[0]):
        _axpy8_rows(W, A, Z, i)


@njit(inline="always", **JIT)
def _dots_4rows(dZ, A, dW, i):
    """dW[i:i+4, :] = dZ[i:i+4, :] A^T: 4 x 4 register tiles, single dot products at the edge."""
    m = dZ.shape[1]
    k = A.shape[0]
    k4 = k - k % 4
    for p in range(0, k4, 4):
        dot_4x4(dZ[i], dZ[i + 1], dZ[i + 2], dZ[i + 3],
                A[p], A[p + 1], A[p + 2], A[p + 3], dW, i, p, m, False)
    for p in range(k4, k):
        for r in range(i, i + 4):
            dW[r, p] = dot_1x1(dZ[r], A[p], m)


@njit(inline="always", **JIT)
def _dots_row(dZ, A, dW, i):
    """dW[i, :] = dZ[i, :] A^T, one dot product per entry (rows left over by the 4-row tiles)."""
    for p in range(A.shape[0]):
        dW[i, p] = dot_1x1(dZ[i], A[p], dZ.shape[1])


@njit(**JIT)
def dzat_into(dZ, A, dW):
    """dW = dZ A^T.    dZ: (n, m), A: (k, m), dW: (n, k); dW[i, p] = sum_j dZ[i, j] A[p, j]."""
    n = dZ.shape[0]
    n4 = n - n % 4
    for i in range(0, n4, 4):
        _dots_4rows(dZ, A, dW, i)
    for i in range(n4, n):
        _dots_row(dZ, A, dW, i)


@njit(**JIT_PARALLEL)
def dzat_into_parallel(dZ, A, dW):
    """dzat_into with the 4-row blocks of dW shared out over the cores."""
    n = dZ.shape[0]
    n4 = n - n % 4
    for q in prange(n4 // 4):
        _dots_4rows(dZ, A, dW, 4 * q)
    for i in range(n4, n):
        _dots_row(dZ, A, dW, i)


@njit(inline="always", **JIT)
def _axpy8_cols(W, dZ, dA, p):
    """dA[p, :] = sum_i W[i, p] dZ[i, :], eight rows of dZ per pass (as _axpy8_rows)."""
    n = W.shape[0]
    m = dZ.shape[1]
    d = dA[p]
    for j in range(m):
        d[j] = 0
    n8 = n - n % 8
    for i in range(0, n8, 8):
        w0, w1, w2, w3 = W[i, p], W[i + 1, p], W[i + 2, p], W[i + 3, p]
        w4, w5, w6, w7 = W[i + 4, p], W[i + 5, p], W[i + 6, p], W[i + 7, p]
        g0, g1, g2, g3 = dZ[i], dZ[i + 1], dZ[i + 2], dZ[i + 3]
        g4, g5, g6, g7 = dZ[i + 4], dZ[i + 5], dZ[i + 6], dZ[i + 7]
        for j in range(m):
            d[j] += (w0 * g0[j] + w1 * g1[j] + w2 * g2[j] + w3 * g3[j]
                     + w4 * g4[j] + w5 * g5[j] + w6 * g6[j] + w7 * g7[j])
    for i in range(n8, n):
        w = W[i, p]
        g = dZ[i]
        for j in range(m):
            d[j] += w * g[j]


@njit(**JIT)
def wtdz_into(W, dZ, dA):
    """dA = W^T dZ.    W: (n, k), dZ: (n, m), dA: (k, m); dA[p, :] = sum_i W[i, p] dZ[i, :]."""
    for p in range(W.shape[1]):
        _axpy8_cols(W, dZ, dA, p)


@njit(**JIT_PARALLEL)
def wtdz_into_parallel(W, dZ, dA):
    """wtdz_into with the rows of dA shared out over the cores."""
    for p in prange(W.shape[1]):
        _axpy8_cols(W, dZ, dA, p)


# numba starts its worker threads when a parallel kernel is first called from Python; here the
# parallel kernels are called from other kernels (and loaded from the cache), which never starts
# them: the first parallel loop then crashes. get_num_threads() starts them, once, at import.
numba.get_num_threads()

# Serial or parallel by size: starting the worker threads costs a few microseconds per call,
# which only products of at least PARALLEL_MIN_MACS multiply-adds win back (measured: see
# config.py).


@njit(**JIT)
def wa(W, A, Z):
    """Z += W A, on all cores when the product is large."""
    if W.shape[0] * W.shape[1] * A.shape[1] >= PARALLEL_MIN_MACS:
        wa_into_parallel(W, A, Z)
    else:
        wa_into(W, A, Z)


@njit(**JIT)
def dzat(dZ, A, dW):
    """dW = dZ A^T, on all cores when the product is large."""
    if dZ.shape[0] * dZ.shape[1] * A.shape[0] >= PARALLEL_MIN_MACS:
        dzat_into_parallel(dZ, A, dW)
    else:
        dzat_into(dZ, A, dW)


@njit(**JIT)
def wtdz(W, dZ, dA):
    """dA = W^T dZ, on all cores when the product is large."""
    if W.shape[0] * W.shape[1] * dZ.shape[1] >= PARALLEL_MIN_MACS:
        wtdz_into_parallel(W, dZ, dA)
    else:
        wtdz_into(W, dZ, dA)


# Python entry points (for tests and benchmarks): validate, allocate the result, run the kernel.


def w_a(W, A):
    """Z = W A.  W: (n, k), A: (k, m) -> (n, m)."""
    W, A = product_operands("W", W, "A", A, (1, 0))
    Z = np.zeros((W.shape[0], A.shape[1]), W.dtype)
    wa(W, A, Z)
    return Z


def dz_at(dZ, A):
    """dW = dZ A^T.  dZ: (n, m), A: (k, m) -> (n, k)."""
    dZ, A = product_operands("dZ", dZ, "A", A, (1, 1))
    dW = np.empty((dZ.shape[0], A.shape[0]), dZ.dtype)
    dzat(dZ, A, dW)
    return dW


def wt_dz(W, dZ):
    """dA = W^T dZ.  W: (n, k), dZ: (n, m) -> (k, m)."""
    W, dZ = product_operands("W", W, "dZ", dZ, (0, 0))
    dA = np.empty((W.shape[1], dZ.shape[1]), W.dtype)
    wtdz(W, dZ, dA)
    return dA
