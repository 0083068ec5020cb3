"""C = A B for 2-D float32/float64 arrays: a kernel ladder from the readable loop to the fast one.

    A: (M, K)    B: (K, N)    C: (M, N)        C[i, j] = sum_k A[i, k] B[k, j]

Rung 1  matmul_naive   the definition: for i, for j, sum over k. The inner loop walks down a
                       column of B (stride N), one cache line per multiply-add.
Rung 2  matmul_ikj     the same sums, loops reordered i, k, j: the inner loop runs along a row
                       of B and a row of C (stride 1), so LLVM vectorises it; every multiply-add
                       still loads and stores C.
Rung 3  matmul         the engine the network uses (gemm.py), BLIS-style: packed panels of A
                       and B in micro-kernel order, an MR x NR register tile of vector FMAs
                       (microkernel.py), K blocked for L1, M for L2, N for L3, one slab of C
                       per thread. It reads a transposed operand (A.T of a C-ordered array,
                       or a Fortran-ordered one) where it lies, as the layer products do.

What each rung buys, measured, is in docs/performance.md.
"""

import numpy as np
from numba import njit

from kernels.cpu import config
from kernels.cpu.config import JIT
from kernels.cpu.gemm import any_layout, plan, product, product_out, scratch
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
def matmul_fast_kernel(A, a_transposed, B, b_transposed, C, Vbuf, Cbuf):
    """Rung 3: C = op(A) op(B) on the engine: packed, blocked, one slab per core (gemm.product);
    op(X) = X.T where x_transposed, else X. A, B C-ordered: one compile for every layout."""
    a = any_layout(A.T) if a_transposed else any_layout(A)
    b = any_layout(B.T) if b_transposed else any_layout(B)
    product(a, b, C, False, Vbuf, Cbuf, plan(C))


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


def _stored(X):
    """(S, transposed): a C-ordered S with X = S.T where transposed, else X = S (a copy where X
    is neither C- nor Fortran-ordered, e.g. every other row)."""
    if X.flags.c_contiguous:
        return X, False
    if X.flags.f_contiguous:
        return X.T, True
    return np.ascontiguousarray(X), False


def matmul(A, B):
    """C = A B with the fast kernel (rung 3). A: (M, K), B: (K, N), float32 or float64 -> (M, N).
    A transposed or Fortran-ordered operand is read in place, not copied. From PARALLEL_MIN_MACS
    multiply-adds, where the engine shares a product among its threads (on one thread too), C
    starts on a cache line (gemm.product_out), so that no two threads' slabs of it share one;
    below that it takes NumPy's C (the alignment costs about 0.7 us)."""
    check_matmul_operands(A, B)
    config.ready()
    M, K, N = A.shape[0], A.shape[1], B.shape[1]
    C = product_out(M, K, N, A.dtype)
    matmul_fast_kernel(*_stored(A), *_stored(B), C, *scratch([(M, K, N)], A.dtype))
    return C
