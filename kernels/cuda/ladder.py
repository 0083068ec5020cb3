"""GEMM ladder: C = op(A) op(B), where op(X) is X or X^T, three rungs from naive to fast.

Legend: C is M x N, op(A) is M x K, op(B) is K x N; every array is C-contiguous (row-major), so
the fastest-changing index is the column and a warp should walk along columns.

The network needs three products, none of which may copy a transpose:
    forward      Z[l]       = W[l] A[l-1]      op(A) = A,    op(B) = B     (trans_a=False, trans_b=False)
    backward     dW[l]      = dZ[l] A[l-1]^T   op(A) = A,    op(B) = B^T   (trans_b=True)
    backward     dA[l-1]    = W[l]^T dZ[l]     op(A) = A^T,  op(B) = B     (trans_a=True)
A transposed operand is read as X[k, i] instead of X[i, k]; the flag is a compile-time constant.

Rungs (each kernel computes exactly the same sums, so all rungs agree with NumPy):
1. naive: one thread per C[i, j], threads of a warp take consecutive j, so B[k, j] and C[i, j]
   are coalesced and A[i, k] is one broadcast value per warp (W^T dZ reads A[k, i]: a broadcast
   too). For dZ A^T, B is read as B[j, k]: the warp's 32 reads are K apart, and no mapping of
   threads can fix that, since both operands run along k in memory; the tiled rung's staging
   does. Every operand value is read from global memory once per use: 2K loads per output.
2. tiled: a block stages TILE x TILE tiles of op(A) and op(B) in shared memory (each global load
   coalesced, whichever operand is transposed), then every thread reads TILE products from shared
   memory: global traffic drops by a factor TILE.
3. register: a block stages BM x BK of op(A) and BK x BN of op(B); each thread keeps a TM x TN
   block of C in registers and, per k, reads TM values of op(A) and TN of op(B) from shared memory
   for TM * TN fused multiply-adds, so shared-memory traffic drops by another factor ~TM.
   Two tile settings (config.py): 128 x 128 blocks with 8 x 8 per thread, and 64 x 64 with 4 x 4
   for products too small to give every SM a 128 x 128 block (register_setting).
"""

import math

import numpy as np
from numba import cuda

from . import config
from .compile import kernel, matrix_type


def _naive(dtype, trans_a, trans_b):
    ZERO = np.dtype(dtype).type(0)

    def gemm_naive(A, B, C):
        M, N = C.shape
        K = A.shape[0] if trans_a else A.shape[1]
        j, i = cuda.grid(2)  # x walks columns j: coalesced B and C
        if i < M and j < N:
            acc = ZERO
            for k in range(K):
                a = A[k, i] if trans_a else A[i, k]
                b = B[j, k] if trans_b else B[k, j]
                acc += a * b
            C[i, j] = acc

    return gemm_naive


def _tiled(dtype, trans_a, trans_b, TILE):
    ZERO = np.dtype(dtype).type(0)
    nb_dtype = matrix_type(dtype).dtype
    PADDED = TILE + 1  # shared-array shapes must be compile-time constants

    def gemm_tiled(A, B, C):
        M, N = C.shape
        K = A.shape[0] if trans_a else A.shape[1]
        # sA[r, c] = op(A)[row0 + r, k0 + c], sB[r, c] = op(B)[k0 + r, col0 + c]; the +1 column
        # keeps the transposing stores free of shared-memory bank conflicts
        sA = cuda.shared.array((TILE, PADDED), nb_dtype)
        sB = cuda.shared.array((TILE, PADDED), nb_dtype)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        row0 = cuda.blockIdx.y * TILE
        col0 = cuda.blockIdx.x * TILE
        acc = ZERO
        for k0 in range(0, K, TILE):
            # a warp always loads along the stored array's last index (coalesced)
            if trans_a:  # A is K x M: load A[k0 + ty, row0 + tx] into sA[tx, ty]
                k = k0 + ty
                i = row0 + tx
                sA[tx, ty] = A[k, i] if (i < M and k < K) else ZERO
            else:  # A is M x K: load A[row0 + ty, k0 + tx] into sA[ty, tx]
                i = row0 + ty
                k = k0 + tx
                sA[ty, tx] = A[i, k] if (i < M and k < K) else ZERO
            if trans_b:  # B is N x K: load B[col0 + ty, k0 + tx] into sB[tx, ty]
                j = col0 + ty
                k = k0 + tx
                sB[tx, ty] = B[j, k] if (j < N and k < K) else ZERO
            else:  # B is K x N: load B[k0 + ty, col0 + tx] into sB[ty, tx]
                k = k0 + ty
                j = col0 + tx
                sB[ty, tx] = B[k, j] if (k < K and j < N) else ZERO
            cuda.syncthreads()
            for kk in range(TILE):
                acc += sA[ty, kk] * sB[kk, tx]
            cuda.syncthreads()
        i = row0 + ty
        j = col0 + tx
        if i < M and j < N:
            C[i, j] = acc

    return gemm_tiled


def _register(dtype, trans_a, trans_b, BM, BN, BK, TM, TN):
    ZERO = np.dtype(dtype).type(0)
    nb_dtype = matrix_type(dtype).dtype
    THREADS_X = BN // TN  # threads along the columns of the block's C tile
    THREADS_Y = BM // TM
    THREADS = THREADS_X * THREADS_Y
    A_LOADS = (BM * BK) // THREADS  # elements of each tile that one thread stages
    B_LOADS = (BK * BN) // THREADS

    def gemm_register(A, B, C):
        M, N = C.shape
        K = A.shape[0] if trans_a else A.shape[1]
        # both tiles are stored k-major, so the inner loop reads a row of each:
        # sA[k, r] = op(A)[row0 + r, k0 + k], sB[k, c] = op(B)[k0 + k, col0 + c]
        sA = cuda.shared.array((BK, BM), nb_dtype)
        sB = cuda.shared.array((BK, BN), nb_dtype)
        acc = cuda.local.array((TM, TN), nb_dtype)  # this thread's outputs, kept in registers
        a_reg = cuda.local.array(TM, nb_dtype)
        b_reg = cuda.local.array(TN, nb_dtype)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        tid = ty * THREADS_X + tx
        row0 = cuda.blockIdx.y * BM
        col0 = cuda.blockIdx.x * BN
        for r in range(TM):
            for c in range(TN):
                acc[r, c] = ZERO
        for k0 in range(0, K, BK):
            # stage the tiles; consecutive threads take consecutive addresses of the stored array
            for s in range(A_LOADS):
                e = tid + s * THREADS
                if trans_a:  # A is K x M, read along M
                    r = e % BM
                    k = e // BM
                    i = row0 + r
                    kg = k0 + k
                    sA[k, r] = A[kg, i] if (i < M and kg < K) else ZERO
                else:  # A is M x K, read along K
                    k = e % BK
                    r = e // BK
                    i = row0 + r
                    kg = k0 + k
                    sA[k, r] = A[i, kg] if (i < M and kg < K) else ZERO
            for s in range(B_LOADS):
                e = tid + s * THREADS
                if trans_b:  # B is N x K, read along K
                    k = e % BK
                    c = e // BK
                    j = col0 + c
                    kg = k0 + k
                    sB[k, c] = B[j, kg] if (j < N and kg < K) else ZERO
                else:  # B is K x N, read along N
                    c = e % BN
                    k = e // BN
                    j = col0 + c
                    kg = k0 + k
                    sB[k, c] = B[kg, j] if (kg < K and j < N) else ZERO
            cuda.syncthreads()
            for kk in range(BK):
                # thread (tx, ty) owns rows ty + r*THREADS_Y and columns tx + c*THREADS_X: a warp
                # reads consecutive columns of sB (no bank conflicts) and writes consecutive j
                for r in range(TM):
                    a_reg[r] = sA[kk, ty + r * THREADS_Y]
                for c in range(TN):
                    b_reg[c] = sB[kk, tx + c * THREADS_X]
                for r in range(TM):
                    for c in range(TN):
                        acc[r, c] += a_reg[r] * b_reg[c]
            cuda.syncthreads()
        for r in range(TM):
            i = row0 + ty + r * THREADS_Y
            for c in range(TN):
                j = col0 + tx + c * THREADS_X
                if i < M and j < N:
                    C[i, j] = acc[r, c]

    return gemm_register


RUNGS = ("naive", "tiled", "register")


def _check_register_setting(BM, BN, BK, TM, TN):
    threads = (BM // TM) * (BN // TN)
    if BM % TM or BN % TN or (BM * BK) % threads or (BK * BN) % threads:
        raise ValueError(
            f"GEMM_REGISTER {(BM, BN, BK, TM, TN)}: BM/TM and BN/TN must divide the tile sizes "
            f"and the {threads} threads must divide BM*BK and BK*BN"
        )


def register_setting(M, N):
    """(BM, BN, BK, TM, TN) for an M x N product: the large tile, unless that gives fewer blocks
    than config.GEMM_MIN_BLOCKS (default: the device's SMs), then the small one."""
    BM, BN = config.GEMM_REGISTER[:2]
    min_blocks = config.GEMM_MIN_BLOCKS
    if min_blocks is None:
        min_blocks = config.GEMM_MIN_BLOCKS = cuda.get_current_device().MULTIPROCESSOR_COUNT
    if math.ceil(M / BM) * math.ceil(N / BN) < min_blocks:
        return config.GEMM_REGISTER_SMALL
    return config.GEMM_REGISTER


def factory(rung, dtype, trans_a, trans_b, register=None):
    """(source factory, settings) of one rung with the current launch settings."""
    if rung == "naive":
        return _naive, (np.dtype(dtype), trans_a, trans_b)
    if rung == "tiled":
        return _tiled, (np.dtype(dtype), trans_a, trans_b, config.GEMM_TILE)
    if rung == "register":
        register = config.GEMM_REGISTER if register is None else register
        _check_register_setting(*register)
        return _register, (np.dtype(dtype), trans_a, trans_b, *register)
    raise ValueError(f"GEMM rung must be one of {RUNGS}, got {rung!r}")


def gemm(A, B, C, trans_a=False, trans_b=False, rung=None, stream=0):
    """Launch C = op(A) op(B) on device arrays (C is written, never read). Shapes are the caller's
    responsibility: op(A) M x K, op(B) K x N, C M x N, all C-contiguous and of one dtype."""
    rung = config.GEMM_RUNG if rung is None else rung
    M, N = C.shape
    register = None
    if rung == "naive":
        block = config.GEMM_NAIVE_BLOCK
        grid = (math.ceil(N / block[0]), math.ceil(M / block[1]))
    elif rung == "tiled":
        block = (config.GEMM_TILE, config.GEMM_TILE)
        grid = (math.ceil(N / config.GEMM_TILE), math.ceil(M / config.GEMM_TILE))
    else:
        register = register_setting(M, N)
        BM, BN, _, TM, TN = register
        block = (BN // TN, BM // TM)
        grid = (math.ceil(N / BN), math.ceil(M / BM))
    fn, settings = factory(rung, C.dtype, trans_a, trans_b, register)
    if M == 0 or N == 0:
        return C
    kernel(fn, *settings)[grid, block, stream](A, B, C)
    return C
