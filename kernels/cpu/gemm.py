"""The matrix-product engine the network and the fast matmul use: register tiles and cache blocking.

    dot_4x4      C[i:i+4, j:j+4] = P[i:i+4] . Q[j:j+4]^T, rows contiguous over k (dW = dZ A^T)
    tile_4x8     C[i:i+4, :] += w[i:i+4, p:p+8] V[q:q+8, :], the inner loop along rows (W A, W^T dZ)
    accumulate_rows     a block of C += w V in 4 x 8 tiles and their edges
    unblocked_product   C += w V, prange over shares of C's rows, straight from V
    blocked_product     C (+)= w V over per-thread packed blocks of V, for large products

What each piece buys, measured, is in docs/performance.md.
"""

import numpy as np
from numba import njit, prange

from kernels.cpu.config import JIT, JIT_PARALLEL, PAD, SHARES, TILE_KC, TILE_NC


@njit(inline="always", **JIT)
def dot_4x4(p0, p1, p2, p3, q0, q1, q2, q3, C, i, j, kc, accumulate):
    """C[i:i+4, j:j+4] (+)= [p0..p3] . [q0..q3]^T over the first kc entries of each row."""
    z = C.dtype.type(0)
    c00 = c01 = c02 = c03 = z
    c10 = c11 = c12 = c13 = z
    c20 = c21 = c22 = c23 = z
    c30 = c31 = c32 = c33 = z
    for k in range(kc):
        a0, a1, a2, a3 = p0[k], p1[k], p2[k], p3[k]
        b0, b1, b2, b3 = q0[k], q1[k], q2[k], q3[k]
        c00 += a0 * b0
        c01 += a0 * b1
        c02 += a0 * b2
        c03 += a0 * b3
        c10 += a1 * b0
        c11 += a1 * b1
        c12 += a1 * b2
        c13 += a1 * b3
        c20 += a2 * b0
        c21 += a2 * b1
        c22 += a2 * b2
        c23 += a2 * b3
        c30 += a3 * b0
        c31 += a3 * b1
        c32 += a3 * b2
        c33 += a3 * b3
    if not accumulate:
        for r in range(4):
            for s in range(4):
                C[i + r, j + s] = z
    C[i, j] += c00
    C[i, j + 1] += c01
    C[i, j + 2] += c02
    C[i, j + 3] += c03
    C[i + 1, j] += c10
    C[i + 1, j + 1] += c11
    C[i + 1, j + 2] += c12
    C[i + 1, j + 3] += c13
    C[i + 2, j] += c20
    C[i + 2, j + 1] += c21
    C[i + 2, j + 2] += c22
    C[i + 2, j + 3] += c23
    C[i + 3, j] += c30
    C[i + 3, j + 1] += c31
    C[i + 3, j + 2] += c32
    C[i + 3, j + 3] += c33


@njit(inline="always", **JIT)
def dot_1x1(p, q, kc):
    """sum_k p[k] q[k] over the first kc entries (the edges a 4 x 4 tile does not cover)."""
    s = p.dtype.type(0)
    for k in range(kc):
        s += p[k] * q[k]
    return s


@njit(inline="always", **JIT)
def tile_4x8(w, i, p, V, q, C, c0, n):
    """C[i:i+4, c0:c0+n] += w[i:i+4, p:p+8] V[q:q+8, 0:n]: a 4 x 8 register tile.

    The 32 weights sit in registers; the inner loop over j loads 8 entries of V and 4 of C,
    does 32 multiply-adds and stores 4: 12 loads per 32 FMAs, so the FMA units, not the loads,
    set the pace (~85 GFLOP/s on one core here in float32, against ~50 for one output row at a
    time). Indexing C and V as 2-D arrays (not as row views) matters: LLVM then sees two base
    pointers and vectorises after one run-time overlap check; 12 separate row pointers would need
    more checks than its limit (8) and the loop would stay scalar.
    """
    w00, w01, w02, w03 = w[i, p], w[i, p + 1], w[i, p + 2], w[i, p + 3]
    w04, w05, w06, w07 = w[i, p + 4], w[i, p + 5], w[i, p + 6], w[i, p + 7]
    w10, w11, w12, w13 = w[i + 1, p], w[i + 1, p + 1], w[i + 1, p + 2], w[i + 1, p + 3]
    w14, w15, w16, w17 = w[i + 1, p + 4], w[i + 1, p + 5], w[i + 1, p + 6], w[i + 1, p + 7]
    w20, w21, w22, w23 = w[i + 2, p], w[i + 2, p + 1], w[i + 2, p + 2], w[i + 2, p + 3]
    w24, w25, w26, w27 = w[i + 2, p + 4], w[i + 2, p + 5], w[i + 2, p + 6], w[i + 2, p + 7]
    w30, w31, w32, w33 = w[i + 3, p], w[i + 3, p + 1], w[i + 3, p + 2], w[i + 3, p + 3]
    w34, w35, w36, w37 = w[i + 3, p + 4], w[i + 3, p + 5], w[i + 3, p + 6], w[i + 3, p + 7]
    for j in range(n):
        v0, v1, v2, v3 = V[q, j], V[q + 1, j], V[q + 2, j], V[q + 3, j]
        v4, v5, v6, v7 = V[q + 4, j], V[q + 5, j], V[q + 6, j], V[q + 7, j]
        C[i, c0 + j] += ((w00 * v0 + w01 * v1) + (w02 * v2 + w03 * v3)
                         + ((w04 * v4 + w05 * v5) + (w06 * v6 + w07 * v7)))
        C[i + 1, c0 + j] += ((w10 * v0 + w11 * v1) + (w12 * v2 + w13 * v3)
                             + ((w14 * v4 + w15 * v5) + (w16 * v6 + w17 * v7)))
        C[i + 2, c0 + j] += ((w20 * v0 + w21 * v1) + (w22 * v2 + w23 * v3)
                             + ((w24 * v4 + w25 * v5) + (w26 * v6 + w27 * v7)))
        C[i + 3, c0 + j] += ((w30 * v0 + w31 * v1) + (w32 * v2 + w33 * v3)
                             + ((w34 * v4 + w35 * v5) + (w36 * v6 + w37 * v7)))


@njit(inline="always", **JIT)
def tile_1x8(w, i, p, V, q, C, c0, n):
    """C[i, c0:c0+n] += w[i, p:p+8] V[q:q+8, 0:n] (the rows a 4-row tile leaves over)."""
    w0, w1, w2, w3 = w[i, p], w[i, p + 1], w[i, p + 2], w[i, p + 3]
    w4, w5, w6, w7 = w[i, p + 4], w[i, p + 5], w[i, p + 6], w[i, p + 7]
    for j in range(n):
        C[i, c0 + j] += (w0 * V[q, j] + w1 * V[q + 1, j] + w2 * V[q + 2, j] + w3 * V[q + 3, j]
                         + w4 * V[q + 4, j] + w5 * V[q + 5, j] + w6 * V[q + 6, j]
                         + w7 * V[q + 7, j])


@njit(inline="always", **JIT)
def tile_1x1(w, i, p, V, q, C, c0, n):
    """C[i, c0:c0+n] += w[i, p] V[q, 0:n] (the inputs an 8-wide tile leaves over)."""
    w0 = w[i, p]
    for j in range(n):
        C[i, c0 + j] += w0 * V[q, j]


@njit(inline="always", **JIT)
def accumulate_rows(w, V, C, i0, i1, p0, p1, q0, c0, n):
    """C[i0:i1, c0:c0+n] += w[i0:i1, p0:p1] V[q0:q0+(p1-p0), 0:n], in 4 x 8 tiles and edges.
    w: weights (any strides); V and C: C-contiguous."""
    i4 = i0 + (i1 - i0) // 4 * 4
    p8 = p0 + (p1 - p0) // 8 * 8
    for i in range(i0, i4, 4):
        for p in range(p0, p8, 8):
            tile_4x8(w, i, p, V, q0 + p - p0, C, c0, n)
        for r in range(i, i + 4):
            for p in range(p8, p1):
                tile_1x1(w, r, p, V, q0 + p - p0, C, c0, n)
    for i in range(i4, i1):
        for p in range(p0, p8, 8):
            tile_1x8(w, i, p, V, q0 + p - p0, C, c0, n)
        for p in range(p8, p1):
            tile_1x1(w, i, p, V, q0 + p - p0, C, c0, n)


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
