"""The three matrix products of the network, on the engine (gemm.py), without materialised
transposes:

    forward     Z  = W A_prev        (n, k) x (k, m)      wa      Z += W A_prev
    backward    dW = dZ A_prev^T     (n, m) x (m, k)      dzat    dW = dZ (A_prev.T)
    backward    dA = W^T dZ          (k, n) x (n, m)      wtdz    dA = (W.T) dZ

n = n[l] units, k = n[l-1] inputs, m samples. The transposes are views (A_prev.T, W.T): the
engine's packing reads each operand along its contiguous dimension, so all three products run
the same packed, blocked, parallel code, chosen by size (gemm.product); small products (below
ENGINE_MIN_MACS, or an edge shorter than the micro-kernel's tile) run register tiles read
straight from the operands: W A and W^T dZ strips.py's strips (where strips.fits; on one
thread up to STRIPS_MAX_MACS, past ENGINE_MIN_MACS), else the small tiles below, 4 x 8 tiles
along rows; dZ A^T dots.py's tiles of dot products.

Each takes the packing buffers (Vbuf, Cbuf) = network_buffers(dims, m, dtype), so a training
step allocates nothing.
"""

import numba
import numpy as np
from numba import njit, prange
from numba.extending import overload

from kernels.cpu import config
from kernels.cpu.config import JIT, JIT_INLINE, JIT_PARALLEL, LINE
from kernels.cpu.dots import COLUMNS, dots
from kernels.cpu.gemm import (
    any_layout,
    buffers,
    direct,
    plan,
    product,
    product_out,
    scratch,
    zero_block,
)
from kernels.cpu.strips import fits, strips
from reference.checks import check_product_operands

# ---------------------------------------------------------------------------------------------
# Small products: register tiles straight from the operands, no packing, one thread. With
# fewer rows than MR or columns than NR, or below ENGINE_MIN_MACS multiply-adds, packing and the
# micro-kernel's padded tiles cost more than they save (but for the shapes small() sends to the
# engine all the same; docs/performance.md).

TILE_INPUTS = 8  # the inputs (columns of W) one row tile of W A and W^T dZ holds in registers


@njit(inline="always", **JIT)
def tile_4x8(w, i, p, V, q, C):
    """C[i:i+4] += w[i:i+4, p:p+8] V[q:q+8]: a 4 x 8 register tile.

    The 32 weights sit in registers; the inner loop over j loads 8 entries of V and 4 of C,
    does 32 multiply-adds and stores 4: 12 loads per 32 FMAs, so the FMA units, not the loads,
    set the pace (docs/performance.md has it measured). Indexing C and V as 2-D arrays (not as
    row views) matters: LLVM then sees two base pointers and vectorises after one run-time
    overlap check; 12 separate row pointers would need more checks than its limit (8) and the
    loop would stay scalar.
    """
    w00, w01, w02, w03 = w[i, p], w[i, p + 1], w[i, p + 2], w[i, p + 3]
    w04, w05, w06, w07 = w[i, p + 4], w[i, p + 5], w[i, p + 6], w[i, p + 7]
    w10, w11, w12, w13 = w[i + 1, p], w[i + 1, p + 1], w[i + 1, p + 2], w[i + 1, p + 3]
    w14, w15, w16, w17 = w[i + 1, p + 4], w[i + 1, p + 5], w[i + 1, p + 6], w[i + 1, p + 7]
    w20, w21, w22, w23 = w[i + 2, p], w[i + 2, p + 1], w[i + 2, p + 2], w[i + 2, p + 3]
    w24, w25, w26, w27 = w[i + 2, p + 4], w[i + 2, p + 5], w[i + 2, p + 6], w[i + 2, p + 7]
    w30, w31, w32, w33 = w[i + 3, p], w[i + 3, p + 1], w[i + 3, p + 2], w[i + 3, p + 3]
    w34, w35, w36, w37 = w[i + 3, p + 4], w[i + 3, p + 5], w[i + 3, p + 6], w[i + 3, p + 7]
    for j in range(C.shape[1]):
        v0, v1, v2, v3 = V[q, j], V[q + 1, j], V[q + 2, j], V[q + 3, j]
        v4, v5, v6, v7 = V[q + 4, j], V[q + 5, j], V[q + 6, j], V[q + 7, j]
        C[i, j] += ((w00 * v0 + w01 * v1) + (w02 * v2 + w03 * v3)
                    + ((w04 * v4 + w05 * v5) + (w06 * v6 + w07 * v7)))
        C[i + 1, j] += ((w10 * v0 + w11 * v1) + (w12 * v2 + w13 * v3)
                        + ((w14 * v4 + w15 * v5) + (w16 * v6 + w17 * v7)))
        C[i + 2, j] += ((w20 * v0 + w21 * v1) + (w22 * v2 + w23 * v3)
                        + ((w24 * v4 + w25 * v5) + (w26 * v6 + w27 * v7)))
        C[i + 3, j] += ((w30 * v0 + w31 * v1) + (w32 * v2 + w33 * v3)
                        + ((w34 * v4 + w35 * v5) + (w36 * v6 + w37 * v7)))


@njit(inline="always", **JIT)
def tile_1x8(w, i, p, V, q, C):
    """C[i] += w[i, p:p+8] V[q:q+8] (the rows a 4-row tile leaves over)."""
    w0, w1, w2, w3 = w[i, p], w[i, p + 1], w[i, p + 2], w[i, p + 3]
    w4, w5, w6, w7 = w[i, p + 4], w[i, p + 5], w[i, p + 6], w[i, p + 7]
    for j in range(C.shape[1]):
        C[i, j] += (w0 * V[q, j] + w1 * V[q + 1, j] + w2 * V[q + 2, j] + w3 * V[q + 3, j]
                    + w4 * V[q + 4, j] + w5 * V[q + 5, j] + w6 * V[q + 6, j] + w7 * V[q + 7, j])


@njit(inline="always", **JIT)
def tile_1x1(w, i, p, V, q, C):
    """C[i] += w[i, p] V[q] (the inputs an 8-wide tile leaves over)."""
    w0 = w[i, p]
    for j in range(C.shape[1]):
        C[i, j] += w0 * V[q, j]


@njit(**JIT_INLINE)
def accumulate_rows(w, V, C, i0, i1, p0, p1, q0):
    """C[i0:i1] += w[i0:i1, p0:p1] V[q0:q0+(p1-p0)], in 4 x 8 tiles and edges (whole rows of C
    and V: a tile with a run-time column offset ran 2x slower, docs/performance.md).
    w: weights (any strides); V and C: C-contiguous, of as many columns."""
    i4 = i0 + (i1 - i0) // 4 * 4
    p8 = p0 + (p1 - p0) // TILE_INPUTS * TILE_INPUTS
    for i in range(i0, i4, 4):
        for p in range(p0, p8, TILE_INPUTS):
            tile_4x8(w, i, p, V, q0 + p - p0, C)
        for r in range(i, i + 4):
            for p in range(p8, p1):
                tile_1x1(w, r, p, V, q0 + p - p0, C)
    for i in range(i4, i1):
        for p in range(p0, p8, TILE_INPUTS):
            tile_1x8(w, i, p, V, q0 + p - p0, C)
        for p in range(p8, p1):
            tile_1x1(w, i, p, V, q0 + p - p0, C)


@njit(**JIT)
def wa_into(W, A, Z):
    """Z += W A.    W: (n, k), A: (k, m), Z: (n, m) (the caller sets Z to b or to 0 first)."""
    accumulate_rows(any_layout(W), A, Z, 0, W.shape[0], 0, W.shape[1], 0)


@njit(inline="always", **JIT)
def _wtdz_rows(W, dZ, dA, p0, p1):
    """dA[p0:p1] = (W^T)[p0:p1] dZ: zero the rows, then accumulate with weights W.T, a view
    (W.T[p, i] = W[i, p]: nothing is copied)."""
    zero_block(dA, p0, p1, 0, dA.shape[1])
    accumulate_rows(any_layout(W.T), dZ, dA, p0, p1, 0, W.shape[0], 0)


@njit(**JIT)
def wtdz_into(W, dZ, dA):
    """dA = W^T dZ.    W: (n, k), dZ: (n, m), dA: (k, m); dA[p, :] = sum_i W[i, p] dZ[i, :]."""
    _wtdz_rows(W, dZ, dA, 0, W.shape[1])


# Products with fewer rows than the micro-kernel's (an output layer's n[L] = 1: a row of W
# times A, dZ times A^T), large enough for threads: each thread its own columns of the result,
# the small tiles on them (memory-bound: one pass over the large operand, shared out).


@njit(inline="always", **JIT)
def _share(n, s, S, step):
    """Thread s of S's range [i0, i1) of n (columns of dW, rows of A), in whole runs of `step`."""
    per = ((n + S - 1) // S + step - 1) // step * step
    return min(n, s * per), min(n, (s + 1) * per)


@njit(inline="always", **JIT)
def _partial_sums(Vbuf, s, A, M, N, way):
    """Thread s's M x N partial sums in its row of Vbuf, starting half an L1 way (`way` bytes,
    Plan.L1_WAY) away from A's rows, on a cache line: with rows of A one way long (N = 1024 float32),
    the 8 rows a tile reads all fall in one set of L1, and sums in that set too evicted them
    (W A 1 x 1024 x 1024 ran 54 us instead of 31, docs/performance.md)."""
    row = Vbuf[s]
    apart = (A.ctypes.data + way // 2 - row.ctypes.data) % way // LINE * LINE
    start = apart // Vbuf.itemsize
    return row[start:start + M * N].reshape(M, N)


@njit(**JIT_PARALLEL)
def wa_inputs(W, A, Z, Vbuf):
    """Z += W A, the inputs (rows of A) shared out among the threads, one per row of Vbuf: each
    sums its share into its row of Vbuf, reading whole rows of A in order, then Z += the
    partial sums. (Shared by columns of Z, each thread read half of every row of A and two
    threads were no faster than one.)  Vbuf: (threads, >= M N + L1_WAY bytes)."""
    M, N = Z.shape
    S = Vbuf.shape[0]
    way = plan(Z).L1_WAY  # an int: the parallel loop's body takes no Plan
    for s in prange(S):
        p0, p1 = _share(A.shape[0], s, S, TILE_INPUTS)
        part = _partial_sums(Vbuf, s, A, M, N, way)
        zero_block(part, 0, M, 0, N)
        if p0 < p1:
            accumulate_rows(any_layout(W), A, part, 0, M, p0, p1, p0)
    for s in range(S):
        part = _partial_sums(Vbuf, s, A, M, N, way)
        for i in range(M):
            for j in range(N):
                Z[i, j] += part[i, j]


@njit(**JIT_PARALLEL)
def dots_columns(dZ, A, dW, S):
    """dW = dZ A^T by dots, the columns of dW (rows of A) shared out among S threads."""
    for s in prange(S):
        p0, p1 = _share(A.shape[0], s, S, COLUMNS)
        if p0 < p1:
            dots(dZ, A[p0:p1], dW[:, p0:p1])


def threads_of(Vbuf):
    """The number of threads a product may use with these buffers (see network_buffers)."""


@overload(threads_of, inline="always")
def _threads_of(Vbuf):
    if Vbuf.ndim == 2:
        return lambda Vbuf: Vbuf.shape[0]
    return lambda Vbuf: 1


ONE_THREAD = "a product shared out among threads needs 2-D buffers, one row per thread"


def wa_shared(W, A, Z, Vbuf):
    """wa_inputs on threads_of(Vbuf) threads (wa_into where Vbuf's rows cannot hold Z's partial
    sums). Over 1-D buffers (one thread) shared_out is False and this is never called: it
    raises, and nothing parallel is compiled (nor a second copy of wa_into, which a call of it
    here cost the first step's compile: docs/performance.md)."""


@overload(wa_shared, inline="always")
def _wa_shared(W, A, Z, Vbuf):
    if Vbuf.ndim == 2:
        def shared(W, A, Z, Vbuf):
            if Vbuf.shape[1] >= Z.size + plan(Z).L1_WAY // Z.itemsize:
                wa_inputs(W, A, Z, Vbuf)
            else:
                wa_into(W, A, Z)
        return shared

    def one_thread(W, A, Z, Vbuf):
        raise AssertionError(ONE_THREAD)
    return one_thread


def dots_shared(dZ, A, dW, Vbuf):
    """dots_columns on threads_of(Vbuf) threads; over 1-D buffers never called (as wa_shared)."""


@overload(dots_shared, inline="always")
def _dots_shared(dZ, A, dW, Vbuf):
    if Vbuf.ndim == 2:
        return lambda dZ, A, dW, Vbuf: dots_columns(dZ, A, dW, Vbuf.shape[0])

    def one_thread(dZ, A, dW, Vbuf):
        raise AssertionError(ONE_THREAD)
    return one_thread


def engine_product(A, B, C, accumulate, Vbuf, Cbuf, P):
    """gemm.product with 2-D buffers (one row per thread); with the 1-D buffers of a network
    none of whose products reaches the engine (network_buffers), the plain loop (gemm.direct):
    the engine is then never compiled for that network's step."""


@overload(engine_product)
def _engine_product(A, B, C, accumulate, Vbuf, Cbuf, P):
    if Vbuf.ndim == 2:
        return lambda A, B, C, accumulate, Vbuf, Cbuf, P: product(A, B, C, accumulate, Vbuf, Cbuf, P)
    return lambda A, B, C, accumulate, Vbuf, Cbuf, P: direct(A, B, C, accumulate)


# ---------------------------------------------------------------------------------------------
# The three products: the small tiles or the engine, by size.


@njit(inline="always", **JIT)
def small(M, K, N, P, dot):
    """Whether C (M, N) = A (M, K) B (K, N) runs on the small tiles rather than the engine: an
    edge of C shorter than the micro-kernel's tile; or too few multiply-adds, unless C holds
    two micro-panels of rows (M >= 2 MR) and the small tiles would pass over C more often than
    the engine: the dot tiles (dot: dZ A^T) at any K, the 4 x 8 tiles (W A, W^T dZ) when K is
    past one tile and leaves inputs over, one more pass over C per leftover input. With K = 1
    the engine writes C once, row by row (gemm.rank_one)."""
    if M < P.MR or N < P.NR:
        return True
    if M * K * N >= P.ENGINE_MIN_MACS or K == 1:
        return False
    return M < 2 * P.MR or not (dot or (K > TILE_INPUTS and K % TILE_INPUTS != 0))


@njit(inline="always", **JIT)
def shared_out(M, K, N, P, S):
    """Whether a small product is shared out among S threads (wa_inputs, dots_columns): fewer
    rows than MR, and at least PARALLEL_MIN_MACS multiply-adds."""
    return S > 1 and M < P.MR and M * K * N >= P.PARALLEL_MIN_MACS


@njit(inline="always", **JIT)
def on_strips(A, B, C, accumulate, P, S):
    """Whether C (+)= A B runs on strips on S threads: its sizes fit (strips.fits), and B's and
    C's rows are contiguous (strips reads them as vectors)."""
    M, K, N = A.shape[0], A.shape[1], B.shape[1]
    return (fits(M, K, N, accumulate, C.itemsize, P, S) and B.strides[1] == B.itemsize
            and C.strides[1] == C.itemsize)


@njit(inline="always", **JIT)
def wa(W, A, Z, Vbuf, Cbuf):
    """Z += W A.    W: (n, k), A: (k, m), Z: (n, m) (the caller sets Z to b or to 0 first)."""
    P = plan(Z)
    M, K, N = W.shape[0], W.shape[1], A.shape[1]
    S = threads_of(Vbuf)
    if shared_out(M, K, N, P, S):
        wa_shared(W, A, Z, Vbuf)
    elif on_strips(W, A, Z, True, P, S):
        strips(W, A, Z, True)
    elif not small(M, K, N, P, False):
        engine_product(any_layout(W), any_layout(A), Z, True, Vbuf, Cbuf, P)
    else:
        wa_into(W, A, Z)


@njit(inline="always", **JIT)
def on_dots(dZ, A, dW):
    """Whether the rows of dZ, A and dW are contiguous (dots reads them as vectors)."""
    size = dW.itemsize
    return dZ.strides[1] == size and A.strides[1] == size and dW.strides[1] == size


@njit(inline="always", **JIT)
def dzat(dZ, A, dW, Vbuf, Cbuf):
    """dW = dZ A^T.    dZ: (n, m), A: (k, m), dW: (n, k). Below the engine's size on dots (rows
    not contiguous: the engine, or over 1-D buffers gemm.direct, slower, still right)."""
    P = plan(dW)
    M, K, N = dZ.shape[0], dZ.shape[1], A.shape[0]
    if not small(M, K, N, P, True) or not on_dots(dZ, A, dW):
        engine_product(any_layout(dZ), any_layout(A.T), dW, False, Vbuf, Cbuf, P)
    elif shared_out(M, K, N, P, threads_of(Vbuf)):
        dots_shared(dZ, A, dW, Vbuf)
    else:
        dots(dZ, A, dW)


@njit(inline="always", **JIT)
def wtdz(W, dZ, dA, Vbuf, Cbuf):
    """dA = W^T dZ.    W: (n, k), dZ: (n, m), dA: (k, m)."""
    P = plan(dA)
    if on_strips(W.T, dZ, dA, False, P, threads_of(Vbuf)):
        strips(W.T, dZ, dA, False)
    elif not small(W.shape[1], W.shape[0], dZ.shape[1], P, False):
        engine_product(any_layout(W.T), any_layout(dZ), dA, False, Vbuf, Cbuf, P)
    else:
        wtdz_into(W, dZ, dA)


def layer_products(dims, m):
    """(kind, (M, K, N)) of every product of a network of widths dims on m samples: "W A",
    "dZ A^T" and "W^T dZ" of each layer."""
    out = []
    for l in range(1, len(dims)):
        n, k = dims[l], dims[l - 1]
        out += [("W A", (n, k, m)), ("dZ A^T", (n, m, k))] + ([("W^T dZ", (k, n, m))] if l > 1 else [])
    return out


def product_shapes(dims, m):
    """The (M, K, N) of every product of a network of widths dims on m samples."""
    return [shape for _, shape in layer_products(dims, m)]


def reaches_engine(dims, m, dtype):
    """Whether any product of the network runs on the engine or on threads. A product that
    strips.fits on numba's threads counts as off the engine (given operands whose rows are not
    contiguous, it may run on gemm.direct over the empty buffers instead: slower, still right)."""
    P, itemsize = config.PLANS[np.dtype(dtype)], np.dtype(dtype).itemsize
    S = numba.get_num_threads()  # the rows of the buffers (gemm.buffers): threads_of
    small_, fits_ = small.py_func, fits.py_func  # the same rules, in Python: nothing to compile

    def engine(kind, M, K, N):
        if kind == "dZ A^T":
            return not small_(M, K, N, P, True)
        return not small_(M, K, N, P, False) and not fits_(M, K, N, kind == "W A", itemsize, P, S)

    return any(engine(kind, M, K, N) or M * K * N >= P.PARALLEL_MIN_MACS
               for kind, (M, K, N) in layer_products(dims, m))


def network_buffers(dims, m, dtype, source=buffers):
    """(Vbuf, Cbuf): the packing buffers that wa, dzat and wtdz take, large enough for every
    product of a network of layer widths dims = [n[0], ..., n[L]] on batches of m samples
    (gemm.buffers: one row per thread; `source` gemm.scratch: kept per calling thread). Where no
    product reaches the engine or threads, two empty 1-D arrays: a step over them compiles
    neither (engine_product, threads_of)."""
    if not reaches_engine(dims, m, dtype):
        return np.zeros(0, dtype), np.zeros(0, dtype)
    return source(product_shapes(dims, m), dtype)


def network_scratch(dims, m, dtype):
    """network_buffers for the Python entry points that run one layer per call (network's
    linear_forward, linear_backward, forward, backward): the same choice, but buffers kept per
    calling thread (gemm.scratch) rather than allocated, and their pages touched, per call."""
    return network_buffers(dims, m, dtype, scratch)


# Python entry points (for tests and benchmarks): validate, allocate the result (gemm.product_out),
# run the kernel.


def w_a(W, A):
    """Z = W A.  W: (n, k), A: (k, m) -> (n, m)."""
    check_product_operands("W", W, "A", A, (1, 0))
    config.ready()
    Z = product_out(W.shape[0], W.shape[1], A.shape[1], W.dtype, np.zeros)
    wa(W, A, Z, *scratch([(W.shape[0], W.shape[1], A.shape[1])], W.dtype))
    return Z


def dz_at(dZ, A):
    """dW = dZ A^T.  dZ: (n, m), A: (k, m) -> (n, k)."""
    check_product_operands("dZ", dZ, "A", A, (1, 1))
    config.ready()
    dW = product_out(dZ.shape[0], dZ.shape[1], A.shape[0], dZ.dtype)
    dzat(dZ, A, dW, *scratch([(dZ.shape[0], dZ.shape[1], A.shape[0])], dZ.dtype))
    return dW


def wt_dz(W, dZ):
    """dA = W^T dZ.  W: (n, k), dZ: (n, m) -> (k, m)."""
    check_product_operands("W", W, "dZ", dZ, (0, 0))
    config.ready()
    dA = product_out(W.shape[1], W.shape[0], dZ.shape[1], W.dtype)
    wtdz(W, dZ, dA, *scratch([(W.shape[1], W.shape[0], dZ.shape[1])], W.dtype))
    return dA
