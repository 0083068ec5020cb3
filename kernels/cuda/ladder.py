"""GEMM ladder: C = op(A) op(B), where op(X) is X or X^T, three rungs from naive to fast.

Legend: C is M x N, op(A) is M x K, op(B) is K x N; every array is C-contiguous (row-major), so
the fastest-changing index is the column and a warp should walk along columns.

The network needs three products, none of which may copy a transpose:
    forward      Z[l]       = W[l] A[l-1]      op(A) = A,    op(B) = B     (trans_a=False, trans_b=False)
    backward     dW[l]      = dZ[l] A[l-1]^T   op(A) = A,    op(B) = B^T   (trans_b=True)
    backward     dA[l-1]    = W[l]^T dZ[l]     op(A) = A^T,  op(B) = B     (trans_a=True)
A transposed operand is read as X[k, i] instead of X[i, k]; the flag is a compile-time constant.

Rungs (each computes the same sums, so all agree with NumPy; their machine code, measured, and
what each technique of the register rung buys are in docs/performance.md):
1. naive: one thread per C[i, j], every operand read from global memory at each use.
2. tiled: TILE x TILE tiles of op(A), op(B) staged in shared memory, each thread reads them there.
3. register: BM x BN of C per block, TM x TN per thread in registers, the next tiles prefetched.
The register rung has two tile settings (config.py): the small one for products too small to
give every SM a large block (register_setting).

Launches (launch_config): columns on grid x, rows on grid y and, past 65,535 blocks, z
(compile.grid): no size asks for more blocks than a CUDA grid has, and an empty C launches nothing.
"""

import math

import numpy as np
from numba import cuda, njit

from . import config
from .compile import device_function, grid, kernel, matrix_type


def naive_kernel(dtype, trans_a, trans_b):
    ZERO = np.dtype(dtype).type(0)

    def gemm_naive(A, B, C):
        M, N = C.shape
        K = A.shape[0] if trans_a else A.shape[1]
        j = cuda.grid(1)  # x walks columns j: coalesced B and C
        i = (cuda.blockIdx.z * cuda.gridDim.y + cuda.blockIdx.y) * cuda.blockDim.y + cuda.threadIdx.y
        if i < M and j < N:
            acc = ZERO
            for k in range(K):
                a = A[k, i] if trans_a else A[i, k]
                b = B[j, k] if trans_b else B[k, j]
                acc += a * b
            C[i, j] = acc

    return gemm_naive


def tiled_kernel(dtype, trans_a, trans_b, TILE):
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
        col0 = cuda.blockIdx.x * TILE
        row0 = (cuda.blockIdx.z * cuda.gridDim.y + cuda.blockIdx.y) * TILE  # compile.grid
        if row0 >= M:  # the whole block: past the last row
            return
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


@njit
def tile_slot(tid, s, rows, along_k, threads, kc):
    """(r, k) of the s-th element that thread tid stages of a `rows` x BK tile stored k-major at
    k * (rows + 4) + r (rung 3). Read along rows (the stored operand runs along r), a warp takes 32
    consecutive r of one k; read along k, 32 / kc rows of kc consecutive k, whose stores, 4 words
    apart per k, then fall in 32 different banks. All sizes are powers of two, so slot s only
    adds constants to thread tid's (r, k): one address register serves every slot."""
    t, T = (tid // kc, threads // kc) if along_k else (tid, threads)
    r = t % rows + (s * T) % rows
    k = t // rows + (s * T) // rows
    if along_k:
        k = k * kc + tid % kc
    return r, k


def register_kernel(dtype, trans_a, trans_b, BM, BN, BK, TM, TN):
    ZERO = np.dtype(dtype).type(0)
    nb_dtype = matrix_type(dtype).dtype
    U = np.uint64  # every index is unsigned (docs/performance.md: signed ones wrap around)
    VEC = 4  # a thread owns TM / VEC groups of VEC consecutive rows (columns): one 16-byte load each
    TX, TY = BN // TN, BM // TM  # threads along the columns and the rows of the block's C tile
    THREADS = TX * TY
    PAD = 4  # sA and sB rows are BM + PAD, BN + PAD long (below)
    SA, SB = BM + PAD, BN + PAD
    SA_SIZE, SB_SIZE = BK * SA, BK * SB  # shared-array sizes must be compile-time constants
    A_LOADS, B_LOADS = BM * BK // THREADS, BK * BN // THREADS  # tile elements one thread stages
    KC = min(8, BK)  # a warp stages an along-k tile as 32 / KC rows x KC consecutive k
    ALIGN = None if config.SIMULATOR else 16  # (the simulator takes no alignment)
    uBK, uSA, uSB, uBM, uBN, uKC, uTHREADS, uVEC, uTX = map(
        U, (BK, SA, SB, BM, BN, KC, THREADS, VEC, TX))
    ROWS_APART, COLS_APART = U(TY * VEC), U(TX * VEC)  # between a thread's row (column) groups
    uGA, uGB = U(TM // VEC), U(TN // VEC)

    @device_function
    def slot(tid, s, R, along_k):
        return tile_slot(tid, s, R, along_k, uTHREADS, uKC)

    # Tile t holds the k from t * BK - lead: lead zeros before k = 0 put the last tile's end at K,
    # so only the first tile (first=True) has k outside [0, K). Rows past M (columns past N) are
    # read from row M - 1 (column N - 1): they reach only outputs that are never written.
    @device_function
    def load_a(A, M, row0, k0, lead, tid, regs, first):
        for s in range(U(A_LOADS)):
            r, k = slot(tid, s, uBM, not trans_a)
            i = min(row0 + r, M - U(1))
            if first and k < lead:
                regs[s] = ZERO
            elif trans_a:  # A is K x M
                regs[s] = A[k0 + k - lead, i]
            else:
                regs[s] = A[i, k0 + k - lead]

    @device_function
    def load_b(B, N, col0, k0, lead, tid, regs, first):
        for s in range(U(B_LOADS)):
            c, k = slot(tid, s, uBN, trans_b)
            j = min(col0 + c, N - U(1))
            if first and k < lead:
                regs[s] = ZERO
            elif trans_b:  # B is N x K
                regs[s] = B[j, k0 + k - lead]
            else:
                regs[s] = B[k0 + k - lead, j]

    @device_function
    def store(tile, S, R, along_k, tid, regs):
        # both tiles are stored k-major: tile[k * S + r] = op(X)[r, k0 + k]
        for s in range(U(regs.shape[0])):
            r, k = slot(tid, s, R, along_k)
            tile[k * S + r] = regs[s]

    @device_function
    def step(sA, sB, kk, tx, ty, acc, a_frag, b_frag):
        # one k: TM values of op(A) and TN of op(B) from shared memory, VEC consecutive ones at a
        # time, then the TM x TN outer product into the accumulators
        for g in range(uGA):
            for v in range(uVEC):
                a_frag[g * uVEC + v] = sA[kk * uSA + g * ROWS_APART + ty * uVEC + v]
        for g in range(uGB):
            for v in range(uVEC):
                b_frag[g * uVEC + v] = sB[kk * uSB + g * COLS_APART + tx * uVEC + v]
        for r in range(TM):
            for c in range(TN):
                acc[r, c] += a_frag[r] * b_frag[c]

    def unrolled(body, n):
        """body for kk, kk + 1, ..., kk + n - 1, written out (numba has no `#pragma unroll`):
        a device function calling two copies of the half as long one (n a power of two)."""
        if n == 1:
            return body
        half, H = unrolled(body, n // 2), U(n // 2)

        @device_function
        def twice(sA, sB, kk, tx, ty, acc, a_frag, b_frag):
            half(sA, sB, kk, tx, ty, acc, a_frag, b_frag)
            half(sA, sB, kk + H, tx, ty, acc, a_frag, b_frag)

        return twice

    all_steps = unrolled(step, BK)

    def gemm_register(A, B, C):
        M, N = U(C.shape[0]), U(C.shape[1])
        K = U(A.shape[0] if trans_a else A.shape[1])
        sA = cuda.shared.array(SA_SIZE, nb_dtype, ALIGN)  # sA[k * SA + r] = op(A)[row0 + r, k]
        sB = cuda.shared.array(SB_SIZE, nb_dtype, ALIGN)  # sB[k * SB + c] = op(B)[k, col0 + c]
        acc = cuda.local.array((TM, TN), nb_dtype)  # this thread's outputs, kept in registers
        a_frag = cuda.local.array(TM, nb_dtype)
        b_frag = cuda.local.array(TN, nb_dtype)
        a_next = cuda.local.array(A_LOADS, nb_dtype)  # the next tiles, fetched during the products
        b_next = cuda.local.array(B_LOADS, nb_dtype)
        tx = U(cuda.threadIdx.x)
        ty = U(cuda.threadIdx.y)
        tid = ty * uTX + tx
        col0 = U(cuda.blockIdx.x) * uBN
        lead = (uBK - K % uBK) % uBK
        tiles = (K + lead) // uBK
        row0 = (U(cuda.blockIdx.z) * U(cuda.gridDim.y) + U(cuda.blockIdx.y)) * uBM  # compile.grid
        if row0 >= M:  # the whole block: past the last row
            return
        for r in range(TM):
            for c in range(TN):
                acc[r, c] = ZERO
        if tiles > U(0):
            load_a(A, M, row0, U(0), lead, tid, a_next, True)
            load_b(B, N, col0, U(0), lead, tid, b_next, True)
        for t in range(tiles):
            store(sA, uSA, uBM, not trans_a, tid, a_next)
            store(sB, uSB, uBN, trans_b, tid, b_next)
            cuda.syncthreads()
            if t + U(1) < tiles:  # fetch the next tiles: in flight while this one is used
                load_a(A, M, row0, (t + U(1)) * uBK, lead, tid, a_next, False)
                load_b(B, N, col0, (t + U(1)) * uBK, lead, tid, b_next, False)
            all_steps(sA, sB, U(0), tx, ty, acc, a_frag, b_frag)
            cuda.syncthreads()
        # thread (tx, ty) owns rows g * TY * VEC + ty * VEC + v and the like columns
        for g in range(uGA):
            for v in range(uVEC):
                i = row0 + g * ROWS_APART + ty * uVEC + v
                for h in range(uGB):
                    for w in range(uVEC):
                        j = col0 + h * COLS_APART + tx * uVEC + w
                        if i < M and j < N:
                            C[i, j] = acc[g * uVEC + v, h * uVEC + w]

    return gemm_register


RUNGS = ("naive", "tiled", "register")


def _check_register_setting(BM, BN, BK, TM, TN):
    threads = (BM // TM) * (BN // TN)
    kc = min(8, BK)
    powers = all(n > 0 and n & (n - 1) == 0 for n in (BM, BN, BK, TM, TN))
    if not powers or TM % 4 or TN % 4 or BM % TM or BN % TN or BK < 4 or threads % kc \
            or (BM * BK) % threads or (BK * BN) % threads:
        raise ValueError(
            f"GEMM_REGISTER {(BM, BN, BK, TM, TN)}: powers of two, TM and TN multiples of 4, BK at "
            f"least 4, and the {threads} threads must divide BM*BK and BK*BN"
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
        return naive_kernel, (np.dtype(dtype), trans_a, trans_b)
    if rung == "tiled":
        return tiled_kernel, (np.dtype(dtype), trans_a, trans_b, config.GEMM_TILE)
    if rung == "register":
        register = config.GEMM_REGISTER if register is None else register
        _check_register_setting(*register)
        return register_kernel, (np.dtype(dtype), trans_a, trans_b, *register)
    raise ValueError(f"GEMM rung must be one of {RUNGS}, got {rung!r}")


def launch_config(rung, M, N):
    """(grid, block, register setting or None) of an M x N product (M, N >= 1); compile.grid puts
    the columns on grid x and the rows on y (and z, past 65,535 blocks)."""
    register = None
    if rung == "naive":
        block = config.GEMM_NAIVE_BLOCK
        rows, cols = block[1], block[0]
    elif rung == "tiled":
        block = (config.GEMM_TILE, config.GEMM_TILE)
        rows = cols = config.GEMM_TILE
    elif rung == "register":
        register = register_setting(M, N)
        BM, BN, _, TM, TN = register
        block = (BN // TN, BM // TM)
        rows, cols = BM, BN
    else:
        raise ValueError(f"GEMM rung must be one of {RUNGS}, got {rung!r}")
    return grid(M, N, rows, cols), block, register


def gemm(A, B, C, trans_a=False, trans_b=False, rung=None, stream=0):
    """Launch C = op(A) op(B) on device arrays (C is written, never read). Shapes are the caller's
    responsibility: op(A) M x K, op(B) K x N, C M x N, all C-contiguous and of one dtype.
    An empty C launches nothing; K = 0 gives C = 0."""
    rung = config.GEMM_RUNG if rung is None else rung
    M, N = C.shape
    if M == 0 or N == 0:
        factory(rung, C.dtype, trans_a, trans_b)  # still rejects an unknown rung
        return C
    grid, block, register = launch_config(rung, M, N)
    fn, settings = factory(rung, C.dtype, trans_a, trans_b, register)
    kernel(fn, *settings)[grid, block, stream](A, B, C)
    return C
