"""The three matrix products of the network, as explicit loops without materialised transposes.

    forward     Z  = W A_prev        (n, k) x (k, m)      wa_into      Z[i, :] += W[i, p] A[p, :]
    backward    dW = dZ A_prev^T     (n, m) x (m, k)      dzat_into    dW[i, p] = dZ[i, :] . A[p, :]
    backward    dA = W^T dZ          (k, n) x (n, m)      wtdz_into    dA[p, :] += W[i, p] dZ[i, :]

n = n[l] units, k = n[l-1] inputs, m samples. Each loop order is chosen so that its inner loop
runs along rows (stride 1, vectorised by LLVM) of the arrays as they are stored:
- dW: row i of dZ and row p of A_prev are both contiguous over m, so each entry is a dot product
  and the 4 x 4 register tile gemm.dot_4x4 applies.
- Z and dA: the sum runs over the rows of A_prev (resp. dZ), so 4 output rows are built at
  once from 8 input rows (the 4 x 8 register tile gemm.tile_4x8): Z[i:i+4, :] += W[i:i+4, p:p+8]
  A_prev[p:p+8, :]. dA uses the same tiles with the weights W.T, a transposed view of W.

Each product comes serial and parallel (the output rows split into SHARES contiguous shares,
which numba deals out to the threads in contiguous runs), and W A, W^T dZ also cache-blocked
as the fast matmul (gemm.blocked_product: it packs blocks of the input rows, which pays only for
large products). wa, dzat and wtdz pick one by size (PARALLEL_MIN_MACS,
BLOCKED_MIN_MACS).
"""

import numpy as np
from numba import njit, prange

from kernels.cpu import config
from kernels.cpu.config import BLOCKED_MIN_MACS, JIT, JIT_PARALLEL, PARALLEL_MIN_MACS, SHARES
from kernels.cpu.gemm import (
    accumulate_rows,
    blocked_buffers,
    blocked_product,
    buffers_fit,
    dot_1x1,
    dot_4x4,
    rows_per_share_jit,
    unblocked_product,
)
from reference.checks import check_product_operands


@njit(**JIT)
def wa_into(W, A, Z):
    """Z += W A.    W: (n, k), A: (k, m), Z: (n, m) (the caller sets Z to b or to 0 first)."""
    accumulate_rows(W, A, Z, 0, W.shape[0], 0, W.shape[1], 0, 0, A.shape[1])


# wa_into with the rows of Z split into SHARES shares (multiples of 4), dealt to threads: the
# same loop as the matmul's unblocked rung, so the same compiled function.
wa_into_parallel = unblocked_product


@njit(inline="always", **JIT)
def _dzat_rows(dZ, A, dW, i0, i1):
    """dW[i0:i1] = dZ[i0:i1] A^T: 4 x 4 register tiles (gemm.dot_4x4), single dots at the edges."""
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
    share = rows_per_share_jit(n)
    for t in prange(SHARES):
        _dzat_rows(dZ, A, dW, min(n, t * share), min(n, (t + 1) * share))


@njit(inline="always", **JIT)
def _wtdz_rows(W, dZ, dA, p0, p1):
    """dA[p0:p1] = (W^T)[p0:p1] dZ: zero the rows, then accumulate with weights W.T, a view
    (W.T[p, i] = W[i, p]: nothing is copied)."""
    for p in range(p0, p1):
        for j in range(dZ.shape[1]):
            dA[p, j] = 0
    accumulate_rows(W.T, dZ, dA, p0, p1, 0, W.shape[0], 0, 0, dZ.shape[1])


@njit(**JIT)
def wtdz_into(W, dZ, dA):
    """dA = W^T dZ.    W: (n, k), dZ: (n, m), dA: (k, m); dA[p, :] = sum_i W[i, p] dZ[i, :]."""
    _wtdz_rows(W, dZ, dA, 0, W.shape[1])


@njit(**JIT_PARALLEL)
def wtdz_into_parallel(W, dZ, dA):
    """wtdz_into with the rows of dA split into SHARES shares (multiples of 4)."""
    k = W.shape[1]
    share = rows_per_share_jit(k)
    for t in prange(SHARES):
        _wtdz_rows(W, dZ, dA, min(k, t * share), min(k, (t + 1) * share))


# Serial or parallel by size: handing work to the other thread costs a few microseconds per
# call, which only products of at least PARALLEL_MIN_MACS multiply-adds win back.


@njit(**JIT)
def wa(W, A, Z, Vbuf, Cbuf):
    """Z += W A, on all cores when the product is large, cache-blocked when it is huge (and the
    packing buffers Vbuf, Cbuf are large enough; see network_buffers)."""
    macs = W.shape[0] * W.shape[1] * A.shape[1]
    if macs >= BLOCKED_MIN_MACS and buffers_fit(W.shape[0], Vbuf, Cbuf):
        blocked_product(W, A, Z, True, Vbuf, Cbuf)
    elif macs >= PARALLEL_MIN_MACS:
        wa_into_parallel(W, A, Z)
    else:
        wa_into(W, A, Z)


@njit(**JIT)
def dzat(dZ, A, dW, Vbuf, Cbuf):
    """dW = dZ A^T, on all cores when the product is large (Vbuf, Cbuf: unused so far; the
    three products take the same packing buffers)."""
    if dZ.shape[0] * dZ.shape[1] * A.shape[0] >= PARALLEL_MIN_MACS:
        dzat_into_parallel(dZ, A, dW)
    else:
        dzat_into(dZ, A, dW)


@njit(**JIT)
def wtdz(W, dZ, dA, Vbuf, Cbuf):
    """dA = W^T dZ, on all cores when the product is large, cache-blocked when it is huge."""
    macs = W.shape[0] * W.shape[1] * dZ.shape[1]
    if macs >= BLOCKED_MIN_MACS and buffers_fit(W.shape[1], Vbuf, Cbuf):
        blocked_product(W.T, dZ, dA, False, Vbuf, Cbuf)
    elif macs >= PARALLEL_MIN_MACS:
        wtdz_into_parallel(W, dZ, dA)
    else:
        wtdz_into(W, dZ, dA)


def network_buffers(dims, m, dtype):
    """(Vbuf, Cbuf): the packing buffers that wa, dzat and wtdz take, large enough for every
    product of a network of layer widths dims = [n[0], ..., n[L]] on batches of m samples
    (1 x 1 placeholders when no product is blocked; the products check buffers_fit)."""
    rows = []
    for l in range(1, len(dims)):
        macs = dims[l] * dims[l - 1] * m
        if macs >= BLOCKED_MIN_MACS:
            rows += [dims[l]] + ([dims[l - 1]] if l > 1 else [])  # W A; W^T dZ (never for l = 1)
    if not rows:
        return np.empty((1, 1), dtype), np.empty((1, 1), dtype)
    return blocked_buffers(max(rows), dtype)


# Python entry points (for tests and benchmarks): validate, allocate the result, run the kernel.


def w_a(W, A):
    """Z = W A.  W: (n, k), A: (k, m) -> (n, m)."""
    check_product_operands("W", W, "A", A, (1, 0))
    config.ready()
    W, A = np.ascontiguousarray(W), np.ascontiguousarray(A)
    Z = np.zeros((W.shape[0], A.shape[1]), W.dtype)
    wa(W, A, Z, *network_buffers([W.shape[1], W.shape[0]], A.shape[1], W.dtype))
    return Z


def dz_at(dZ, A):
    """dW = dZ A^T.  dZ: (n, m), A: (k, m) -> (n, k)."""
    check_product_operands("dZ", dZ, "A", A, (1, 1))
    config.ready()
    dZ, A = np.ascontiguousarray(dZ), np.ascontiguousarray(A)
    dW = np.empty((dZ.shape[0], A.shape[0]), dZ.dtype)
    dzat(dZ, A, dW, *network_buffers([A.shape[0], dZ.shape[0]], dZ.shape[1], dZ.dtype))
    return dW


def wt_dz(W, dZ):
    """dA = W^T dZ.  W: (n, k), dZ: (n, m) -> (k, m)."""
    check_product_operands("W", W, "dZ", dZ, (0, 0))
    config.ready()
    W, dZ = np.ascontiguousarray(W), np.ascontiguousarray(dZ)
    dA = np.empty((W.shape[1], dZ.shape[1]), W.dtype)
    wtdz(W, dZ, dA, *network_buffers([1, W.shape[1], W.shape[0]], dZ.shape[1], W.dtype))
    return dA
