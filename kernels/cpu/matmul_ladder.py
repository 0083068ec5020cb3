"""C = A B for 2-D float32/float64 arrays: a kernel ladder from the readable loop to the fast one.

    A: (M, K)    B: (K, N)    C: (M, N)        C[i, j] = sum_k A[i, k] B[k, j]

Rung 1  matmul_naive    the definition: for i, for j, sum over k. The inner loop walks down a
                        column of B (stride N), one cache line per multiply-add.
Rung 2  matmul_ikj      the same sums, loops reordered i, k, j: the inner loop now runs along a
                        row of B and a row of C (stride 1) and LLVM vectorises it. Every
                        multiply-add still loads and stores C.
Rung 3  matmul_packed   dot-product register tiles + packing + cache blocking:
                        - B is copied once per k-slice as B^T ("packing"), so that both operands
                          of every dot product are contiguous over k;
                        - a 4 x 4 block of C is summed in 16 registers (tiles.dot_4x4): each
                          loaded number is used 4 times and C is touched once per k-slice;
                        - k is cut into slices of KC (config.py), so the 8 rows a micro-kernel
                          reads stay in L1, and packed rows get PAD extra elements so that rows
                          whose stride is a power of two do not fall into one cache set;
                        - row blocks of MC rows of A are packed per thread, prange over cores.
Rung 4  matmul          (the fast one) outer-product register tiles, the network's own tile:
                        - a 4 x 8 tile (tiles.tile_4x8): 32 entries of A in registers, the inner
                          loop along 8 rows of B and 4 rows of C, 12 loads per 32 FMAs; its 8
                          products summed as a tree (3 dependent FMAs, not 8);
                        - B in blocks of TILE_KC x TILE_NC copied per thread with PAD extra
                          columns (no cache-set conflicts at power-of-two N; no column offsets,
                          which would stop the vectoriser), C summed in a per-thread panel;
                          skipped while B fits in half of L2 (UNBLOCKED_MAX_BYTES);
                        - prange over SHARES contiguous shares of C's rows.

Measured on this machine (shared 2-core Xeon, AVX-512 at 2.6 GHz, float32, GFLOP/s = 2 n^3 /
best time of 5-30 calls; the host is shared with other jobs, so single runs vary by 2x and more;
ad-hoc scripts, the pytest-benchmark numbers are in tests/benchmarks). What each trick buys:

    n = 1024, GFLOP/s                       1 core    2 cores   vs OpenBLAS (2 threads, 320-360)
    rung 1 naive                               0.3              B's column at a 4 KiB stride
    rung 2 ikj (vectorised inner loop)          15              48x: stride 1, SIMD
    rung 4 tile, one row at a time (ikj-like)  ~50              load + store of C per 8 FMAs
    rung 4 tile 4 x 8, summed as a chain        85   160 - 170  1.7x: 32 FMAs per 16 loads/stores
    rung 4 tile 4 x 8, summed as a tree       88-94  170 - 190  ~10 %: shorter FMA chains
    rung 4 without blocking (at n = 1024)              ~105     blocking + PAD: 1.6x at n = 1024
    rung 4, all n: 256 / 512 / 1024 / 2048      ~95  188 / 197 / 173 / 128-180
                                                     = 0.70 / 0.65 / 0.49-0.55 / 0.55-0.58 of BLAS
    rung 4 with zmm (NUMBA_CPU_FEATURES=-prefer-256-bit, see config.py): 1 core 105-118,
        2 cores 170 / 237 / 209 / 197 at n = 256 / 512 / 1024 / 2048, 0.63-0.78 of BLAS
    rung 3 (packed 4 x 4 dot tiles)          90-103  157 - 191  about rung 4's speed
"""

import numpy as np
from numba import njit, prange

from kernels.cpu.config import (
    JIT,
    JIT_PARALLEL,
    KC,
    MC,
    NC,
    PAD,
    SHARES,
    TILE_KC,
    TILE_NC,
    UNBLOCKED_MAX_BYTES,
)
from kernels.cpu.tiles import accumulate_rows, dot_1x1, dot_4x4
from kernels.cpu.validate import matmul_operands


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


@njit(**JIT_PARALLEL)
def matmul_packed_kernel(A, B, C):
    """Rung 3: packed B^T, 4 x 4 register tiles over contiguous k, K/M/N blocking, prange."""
    M, K = A.shape
    N = B.shape[1]
    for i in prange(M):
        for j in range(N):
            C[i, j] = 0
    Bt = np.empty((N, KC + PAD), A.dtype)  # B[kb:kb+kc, :]^T, one k-slice at a time
    n_jt = (N + 15) // 16
    n_ib = (M + MC - 1) // MC
    for kb in range(0, K, KC):
        kc = min(KC, K - kb)
        # Pack in 16 x 16 tiles: reading B's columns one at a time would touch kc cache lines
        # N apart (all in one cache set when N is a power of two) for every 16 values.
        for jt in prange(n_jt):
            j0 = jt * 16
            for k0 in range(0, kc, 16):
                for k in range(k0, min(k0 + 16, kc)):
                    for j in range(j0, min(j0 + 16, N)):
                        Bt[j, k] = B[kb + k, j]
        for ib in prange(n_ib):
            i0 = ib * MC
            mc = min(MC, M - i0)
            Ap = np.empty((MC, KC + PAD), A.dtype)  # this thread's block of A, padded rows
            for i in range(mc):
                for k in range(kc):
                    Ap[i, k] = A[i0 + i, kb + k]
            m4 = mc - mc % 4
            for jb in range(0, N, NC):
                je = min(jb + NC, N)
                n4 = jb + (je - jb) - (je - jb) % 4
                for j in range(jb, n4, 4):  # 4 rows of B^T stay in L1 while i sweeps the block
                    for i in range(0, m4, 4):
                        dot_4x4(Ap[i], Ap[i + 1], Ap[i + 2], Ap[i + 3],
                                Bt[j], Bt[j + 1], Bt[j + 2], Bt[j + 3], C, i0 + i, j, kc, True)
                    for i in range(m4, mc):
                        for jj in range(j, j + 4):
                            C[i0 + i, jj] += dot_1x1(Ap[i], Bt[jj], kc)
                for j in range(n4, je):  # the columns left over by the 4-wide tiles
                    for i in range(mc):
                        C[i0 + i, j] += dot_1x1(Ap[i], Bt[j], kc)


def rows_per_share(M):
    """Rows per share: SHARES shares of a multiple of 4 rows cover M rows."""
    return ((M + SHARES - 1) // SHARES + 3) // 4 * 4


rows_per_share_jit = njit(inline="always", **JIT)(rows_per_share)


def blocked_buffers(M, dtype):
    """The packing buffers blocked_product needs for a product with M output rows: per thread
    share, a block of V (TILE_KC rows) and a panel of C, stacked as 2-D arrays."""
    return (np.empty((SHARES * TILE_KC, TILE_NC + PAD), dtype),
            np.empty((SHARES * rows_per_share(M), TILE_NC + PAD), dtype))


@njit(inline="always", **JIT)
def buffers_fit(M, Vbuf, Cbuf):
    """Whether Vbuf, Cbuf (from blocked_buffers) are large enough for M output rows."""
    return (Vbuf.shape[0] >= SHARES * TILE_KC and Cbuf.shape[0] >= SHARES * rows_per_share_jit(M)
            and Vbuf.shape[1] >= TILE_NC and Cbuf.shape[1] >= TILE_NC)


@njit(**JIT_PARALLEL)
def blocked_product(w, V, C, accumulate, Vbuf, Cbuf):
    """C = w V (accumulate False) or C += w V (True): rung 4, also the network's large products.

    w: (M, K) weights, any strides (A, W or the view W.T); V: (K, N), C: (M, N) C-contiguous;
    Vbuf, Cbuf: packing buffers from blocked_buffers(M) (callers check buffers_fit), passed in
    so that a training step allocates nothing.
    Each thread takes contiguous shares of C's rows. For each strip of TILE_NC columns it sums
    into its own panel Cp, and for each block V[kb:kb+TILE_KC, strip] it first copies the block
    into its own Vp: rows TILE_NC + PAD apart, so the 8 rows a tile reads never share a cache set
    whatever N is, and both Cp and Vp start at column 0 (a column offset inside the tile's inner
    loop makes numba check it for negative indices, which stops LLVM from vectorising). The tiles
    (tiles.tile_4x8) then read the block from L2 and 8 rows of Vp and 4 of Cp from L1.
    """
    M, K = w.shape
    N = V.shape[1]
    share = rows_per_share_jit(M)
    for t in prange(SHARES):
        i0, i1 = min(M, t * share), min(M, (t + 1) * share)
        if i0 == i1:
            continue
        w_share = w[i0:i1]
        Vp = Vbuf[t * TILE_KC:(t + 1) * TILE_KC]
        Cp = Cbuf[t * share:t * share + (i1 - i0)]
        for jb in range(0, N, TILE_NC):
            nc = min(TILE_NC, N - jb)
            for r in range(i1 - i0):
                for j in range(nc):
                    Cp[r, j] = C[i0 + r, jb + j] if accumulate else 0
            for kb in range(0, K, TILE_KC):
                kc = min(TILE_KC, K - kb)
                for q in range(kc):
                    for j in range(nc):
                        Vp[q, j] = V[kb + q, jb + j]
                accumulate_rows(w_share, Vp, Cp, 0, i1 - i0, kb, kb + kc, 0, 0, nc)
            for r in range(i1 - i0):
                for j in range(nc):
                    C[i0 + r, jb + j] = Cp[r, j]


@njit(**JIT_PARALLEL)
def unblocked_product(w, V, C):
    """C += w V in 4 x 8 tiles straight from V, prange over row shares (no packing)."""
    M = w.shape[0]
    share = rows_per_share_jit(M)
    for t in prange(SHARES):
        accumulate_rows(w, V, C, min(M, t * share), min(M, (t + 1) * share), 0, w.shape[1], 0, 0,
                        V.shape[1])


@njit(**JIT)
def matmul_tiled_kernel(A, B, C, Vbuf, Cbuf):
    """Rung 4: C = A B in 4 x 8 register tiles; cache-blocked over packed blocks of B once B no
    longer fits in half of L2 (below that, packing costs more than it saves: n = 512 here,
    ~230 GFLOP/s unblocked against ~185 blocked; n = 1024: ~105 against ~170)."""
    if B.size * B.itemsize <= UNBLOCKED_MAX_BYTES:
        for i in range(C.shape[0]):
            for j in range(C.shape[1]):
                C[i, j] = 0
        unblocked_product(A, B, C)
    else:
        blocked_product(A, B, C, False, Vbuf, Cbuf)


def _run(kernel, A, B):
    A, B = matmul_operands(A, B)
    C = np.empty((A.shape[0], B.shape[1]), dtype=A.dtype)
    kernel(A, B, C)
    return C


def matmul_naive(A, B):
    """C = A B with rung 1 (the readable loop). A: (M, K), B: (K, N) -> C: (M, N)."""
    return _run(matmul_naive_kernel, A, B)


def matmul_ikj(A, B):
    """C = A B with rung 2 (loop order i, k, j). A: (M, K), B: (K, N) -> C: (M, N)."""
    return _run(matmul_ikj_kernel, A, B)


def matmul_packed(A, B):
    """C = A B with rung 3 (packed dot-product tiles). A: (M, K), B: (K, N) -> C: (M, N)."""
    return _run(matmul_packed_kernel, A, B)


def matmul(A, B):
    """C = A B with the fast kernel (rung 4). A: (M, K), B: (K, N), float32 or float64 -> (M, N)."""
    A, B = matmul_operands(A, B)
    C = np.empty((A.shape[0], B.shape[1]), dtype=A.dtype)
    matmul_tiled_kernel(A, B, C, *blocked_buffers(A.shape[0], A.dtype))
    return C
