"""C = A B for 2-D float32/float64 arrays: a kernel ladder from the readable loop to the fast one.

    A: (M, K)    B: (K, N)    C: (M, N)        C[i, j] = sum_k A[i, k] B[k, j]

Rung 1  matmul_naive   the definition: for i, for j, sum over k. The inner loop walks down a
                       column of B (stride N), one cache line per multiply-add.
Rung 2  matmul_ikj     the same sums, loops reordered i, k, j: the inner loop runs along a row
                       of B and a row of C (stride 1), so LLVM vectorises it; every multiply-add
                       still loads and stores C.
Rung 3  matmul         the fast one, the network's engine (gemm.py): 4 x 8 register tiles (32
                       entries of A in registers, 12 loads per 32 FMAs), cache-blocked over
                       packed blocks of B once B no longer fits in half of L2, prange over
                       shares of C's rows.

What each rung buys, measured, is in docs/performance.md.
"""

import numpy as np
from numba import njit

from kernels.cpu import config
from kernels.cpu.config import JIT, UNBLOCKED_MAX_BYTES
from kernels.cpu.gemm import blocked_buffers, blocked_product, unblocked_product
from reference.checks import check_matmul_operands


@njit(**JIT)
def matmul_naive_kernel(A, B, C):
    """Rung 1: C[i, j] = sum_k A[i, k] B[k, j], straight from the definition."""
    M, K = A.shape
    N = B.shape[1]
    for i in range(M):
        for j in range(N):
            s = C.dtype.type(0)
            for k in range(K):
                s += A[i, k] * B[k, j]
            C[i, j] = s


@njit(**JIT)
def matmul_ikj_kernel(A, B, C):
    """Rung 2: C[i, :] += A[i, k] B[k, :] for each k: stride-1 inner loop over j."""
    M, K = A.shape
    N = B.shape[1]
    for i in range(M):
        for j in range(N):
            C[i, j] = 0
        for k in range(K):
            a = A[i, k]
            for j in range(N):
                C[i, j] += a * B[k, j]


@njit(**JIT)
def matmul_tiled_kernel(A, B, C, Vbuf, Cbuf):
    """Rung 3: C = A B in 4 x 8 register tiles; cache-blocked over packed blocks of B once B no
    longer fits in half of L2 (below that, packing costs more than it saves)."""
    if B.size * B.itemsize <= UNBLOCKED_MAX_BYTES:
        for i in range(C.shape[0]):
            for j in range(C.shape[1]):
                C[i, j] = 0
        unblocked_product(A, B, C)
    else:
        blocked_product(A, B, C, False, Vbuf, Cbuf)


def _operands(A, B):
    check_matmul_operands(A, B)
    config.ready()
    return np.ascontiguousarray(A), np.ascontiguousarray(B)


def _run(kernel, A, B):
    A, B = _operands(A, B)
    C = np.empty((A.shape[0], B.shape[1]), dtype=A.dtype)
    kernel(A, B, C)
    return C


def matmul_naive(A, B):
    """C = A B with rung 1 (the readable loop). A: (M, K), B: (K, N) -> C: (M, N)."""
    return _run(matmul_naive_kernel, A, B)


def matmul_ikj(A, B):
    """C = A B with rung 2 (loop order i, k, j). A: (M, K), B: (K, N) -> C: (M, N)."""
    return _run(matmul_ikj_kernel, A, B)


def matmul(A, B):
    """C = A B with the fast kernel (rung 3). A: (M, K), B: (K, N), float32 or float64 -> (M, N)."""
    A, B = _operands(A, B)
    C = np.empty((A.shape[0], B.shape[1]), dtype=A.dtype)
    matmul_tiled_kernel(A, B, C, *blocked_buffers(A.shape[0], A.dtype))
    return C
