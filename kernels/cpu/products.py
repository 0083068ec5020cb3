"""The three matrix products of the network, as explicit loops without materialised transposes.

    forward     Z  = W A_prev        (n, k) x (k, m)      wa_into      Z[i, :] += W[i, p] A[p, :]
    backward    dW = dZ A_prev^T     (n, m) x (m, k)      dzat_into    dW[i, p] = dZ[i, :] . A[p, :]
    backward    dA = W^T dZ          (k, n) x (n, m)      wtdz_into    dA[p, :] += W[i, p] dZ[i, :]

n = n[l] units, k = n[l-1] inputs, m samples. Each loop order is chosen so that its inner loop
runs along rows (stride 1, vectorised by LLVM) of the arrays as they are stored:
- dW: row i of dZ and row p of A_prev are both contiguous over m, so each entry is a dot product
  and the 4 x 4 register tile of tiles.dot_4x4 applies as in matmul.
- Z and dA: the sum runs over the rows of A_prev (resp. dZ), so 4 output rows are built at
  once from 8 input rows (the 4 x 8 register tile of _tile_4x8): Z[i:i+4, :] += W[i:i+4, p:p+8]
  A_prev[p:p+8, :]. dA uses the same tiles with the weights W.T, a transposed view of W.

Each product comes serial and parallel (the output rows split into SHARES contiguous shares,
which numba deals out to the threads in contiguous runs); wa, dzat and wtdz pick one by size
(PARALLEL_MIN_MACS).
"""

import numba
import numpy as np
from numba import njit, prange

from kernels.cpu.config import JIT, JIT_PARALLEL, PARALLEL_MIN_MACS, SHARES
from kernels.cpu.tiles import dot_1x1, dot_4x4
from kernels.cpu.validate import product_operands


@njit(inline="always", **JIT)
def _tile_4x8(w, V, C, i, p):
    """C[i:i+4, :] += w[i:i+4, p:p+8] V[p:p+8, :]: a 4 x 8 register tile.

    The 32 weights sit in registers; the inner loop over j loads 8 entries of V and 4 of C,
    does 32 multiply-adds and stores 4: 12 loads per 32 FMAs, so the FMA units, not the loads,
    set the pace. Indexing C and V as 2-D arrays (not as row views) matters: LLVM then sees two
    base pointers and vectorises after one run-time overlap check; 12 separate row pointers
    would need more checks than its limit and the loop would stay scalar.
    """
    w00, w01, w02, w03 = w[i, p], w[i, p + 1], w[i, p + 2], w[i, p + 3]
    w04, w05, w06, w07 = w[i, p + 4], w[i, p + 5], w[i, p + 6], w[i, p + 7]
    w10, w11, w12, w13 = w[i + 1, p], w[i + 1, p + 1], w[i + 1, p + 2], w[i + 1, p + 3]
    w14, w15, w16, w17 = w[i + 1, p + 4], w[i + 1, p + 5], w[i + 1, p + 6], w[i + 1, p + 7]
    w20, w21, w22, w23 = w[i + 2, p], w[i + 2, p + 1], w[i + 2, p + 2], w[i + 2, p + 3]
    w24, w25, w26, w27 = w[i + 2, p + 4], w[i + 2, p + 5], w[i + 2, p + 6], w[i + 2, p + 7]
    w30, w31, w32, w33 = w[i + 3, p], w[i + 3, p + 1], w[i + 3, p + 2], w[i + 3, p + 3]
    w34, w35, w36, w37 = w[i + 3, p + 4], w[i + 3, p + 5], w[i + 3, p + 6], w[i + 3, p + 7]
    for j in range(V.shape[1]):
        v0, v1, v2, v3 = V[p, j], V[p + 1, j], V[p + 2, j], V[p + 3, j]
        v4, v5, v6, v7 = V[p + 4, j], V[p + 5, j], V[p + 6, j], V[p + 7, j]
        C[i, j] += (w00 * v0 + w01 * v1 + w02 * v2 + w03 * v3
                    + w04 * v4 + w05 * v5 + w06 * v6 + w07 * v7)
        C[i + 1, j] += (w10 * v0 + w11 * v1 + w12 * v2 + w13 * v3
                        + w14 * v4 + w15 * v5 + w16 * v6 + w17 * v7)
        C[i + 2, j] += (w20 * v0 + w21 * v1 + w22 * v2 + w23 * v3
                        + w24 * v4 + w25 * v5 + w26 * v6 + w27 * v7)
        C[i + 3, j] += (w30 * v0 + w31 * v1 + w32 * v2 + w33 * v3
                        + w34 * v4 + w35 * v5 + w36 * v6 + w37 * v7)


@njit(inline="always", **JIT)
def _tile_1x8(w, V, C, i, p):
    """C[i, :] += w[i, p:p+8] V[p:p+8, :] (the rows a 4-row tile leaves over)."""
    w0, w1, w2, w3 = w[i, p], w[i, p + 1], w[i, p + 2], w[i, p + 3]
    w4, w5, w6, w7 = w[i, p + 4], w[i, p + 5], w[i, p + 6], w[i, p + 7]
    for j in range(V.shape[1]):
        C[i, j] += (w0 * V[p, j] + w1 * V[p + 1, j] + w2 * V[p + 2, j] + w3 * V[p + 3, j]
                    + w4 * V[p + 4, j] + w5 * V[p + 5, j] + w6 * V[p + 6, j]
                    + w7 * V[p + 7, j])


@njit(inline="always", **JIT)
def _tile_1x1(w, V, C, i, p):
    """C[i, :] += w[i, p] V[p, :] (the inputs an 8-wide tile leaves over)."""
    w0 = w[i, p]
    for j in range(V.shape[1]):
        C[i, j] += w0 * V[p, j]


@njit(inline="always", **JIT)
def _accumulate_rows(w, V, C, i0, i1):
    """C[i0:i1, :] += w[i0:i1, :] V, in 4 x 8 tiles and their edges.
    w: (n, k) weights (any strides), V: (k, m) and C: (n, m) C-contiguous."""
    k = V.shape[0]
    i4 = i0 + (i1 - i0) // 4 * 4
    k8 = k - k % 8
    for i in range(i0, i4, 4):
        for p in range(0, k8, 8):
            _tile_4x8(w, V, C, i, p)
        for r in range(i, i + 4):
            for p in range(k8, k):
                _tile_1x1(w, V, C, r, p)
    for i in range(i4, i1):
        for p in range(0, k8, 8):
            _tile_1x8(w, V, C, i, p)
        for p in range(k8, k):
            _tile_1x1(w, V, C, i, p)


@njit(**JIT)
def wa_into(W, A, Z):
    """Z += W A.    W: (n, k), A: (k, m), Z: (n, m) (the caller sets Z to b or to 0 first)."""
    _accumulate_rows(W, A, Z, 0, W.shape[0])


@njit(**JIT_PARALLEL)
def wa_into_parallel(W, A, Z):
    """wa_into with the rows of Z split into SHARES shares (multiples of 4), dealt to threads."""
    n = W.shape[0]
    share = ((n + SHARES - 1) // SHARES + 3) // 4 * 4
    for t in prange(SHARES):
        _accumulate_rows(W, A, Z, min(n, t * share), min(n, (t + 1) * share))


@njit(inline="always", **JIT)
def _dzat_rows(dZ, A, dW, i0, i1):
    """dW[i0:i1] = dZ[i0:i1] A^T: 4 x 4 register tiles (tiles.dot_4x4), single dots at the edges."""
    m = dZ.shape[1]
    k = A.shape[0]
    i4 = i0 + (i1 - i0) // 4 * 4
    k4 = k - k % 4
    for i in range(i0, i4, 4):
        for p in range(0, k4, 4):
            dot_4x4(dZ[i], dZ[i + 1], dZ[i + 2], dZ[i + 3],
                    A[p], A[p + 1], A[p + 2], A[p + 3], dW, i, p, m, False)
        for p in range(k4, k):
            for r in range(i, i + 4):
                dW[r, p] = dot_1x1(dZ[r], A[p], m)
    for i in range(i4, i1):
        for p in range(k):
            dW[i, p] = dot_1x1(dZ[i], A[p], m)


@njit(**JIT)
def dzat_into(dZ, A, dW):
    """dW = dZ A^T.    dZ: (n, m), A: (k, m), dW: (n, k); dW[i, p] = sum_j dZ[i, j] A[p, j]."""
    _dzat_rows(dZ, A, dW, 0, dZ.shape[0])


@njit(**JIT_PARALLEL)
def dzat_into_parallel(dZ, A, dW):
    """dzat_into with the rows of dW split into SHARES shares of a multiple of 4 rows."""
    n = dZ.shape[0]
    share = ((n + SHARES - 1) // SHARES + 3) // 4 * 4
    for t in prange(SHARES):
        _dzat_rows(dZ, A, dW, min(n, t * share), min(n, (t + 1) * share))


@njit(inline="always", **JIT)
def _wtdz_rows(W, dZ, dA, p0, p1):
    """dA[p0:p1] = (W^T)[p0:p1] dZ: zero the rows, then accumulate with weights W.T, a view
    (W.T[p, i] = W[i, p]: nothing is copied)."""
    for p in range(p0, p1):
        for j in range(dZ.shape[1]):
            dA[p, j] = 0
    _accumulate_rows(W.T, dZ, dA, p0, p1)


@njit(**JIT)
def wtdz_into(W, dZ, dA):
    """dA = W^T dZ.    W: (n, k), dZ: (n, m), dA: (k, m); dA[p, :] = sum_i W[i, p] dZ[i, :]."""
    _wtdz_rows(W, dZ, dA, 0, W.shape[1])


@njit(**JIT_PARALLEL)
def wtdz_into_parallel(W, dZ, dA):
    """wtdz_into with the rows of dA split into SHARES shares (multiples of 4)."""
    k = W.shape[1]
    share = ((k + SHARES - 1) // SHARES + 3) // 4 * 4
    for t in prange(SHARES):
        _wtdz_rows(W, dZ, dA, min(k, t * share), min(k, (t + 1) * share))


# numba starts its worker threads when a parallel kernel is first called from Python; here the
# parallel kernels are called from other kernels (and loaded from the cache), which never starts
# them: the first parallel loop then crashes. get_num_threads() starts them, once, at import.
numba.get_num_threads()

# Serial or parallel by size: handing work to the other thread costs a few microseconds per
# call, which only products of at least PARALLEL_MIN_MACS multiply-adds win back.


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
