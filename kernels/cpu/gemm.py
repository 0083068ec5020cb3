"""The matrix-product engine of kernels.cpu: C (+)= A B in the structure of BLIS.

    A: (M, K), B: (K, N), any strides (W, W.T, A.T views: nothing is transposed in memory);
    C: (M, N) C-contiguous.

    for jc in steps of NC                              5th loop: a panel of B in L3
      for pc in steps of KC                            4th loop: pack B[pc:pc+KC, jc:jc+NC]
        for ic in steps of MC                          3rd loop: pack A[ic:ic+MC, pc:pc+KC] (L2)
          for jb in steps of NB                        a block of B's micro-panels (L2)
            for ir in steps of MR                      2nd loop: a micro-panel of A in L1
              for jr in steps of NR                    1st loop: the micro-panels of B
                micro_kernel                           C[MR x NR] (+)= A-panel . B-panel

The micro-kernel broadcasts A's entries and loads B's as vectors, so A's micro-panel is the one
kept in L1 (BLIS keeps the micro-panel of its broadcast operand there too) and B's stream past
it from L2: the two inner loops are BLIS's, exchanged, with a block of B (NB) held in L2.

    micro_kernel   microkernel.py: an MR x NR tile of C in vector registers, written as LLVM IR
    pack_a, pack_b copy a block into micro-panel order (zero-padded to MR rows / NR columns),
                   reading the source along its contiguous dimension.

Threads (gemm_parallel): one parallel region of slabs, rows or columns of C, one per thread,
each packing its own panels of B and (if A is packed) its own blocks of A: a slab cut along rows
packs the whole of B, one cut along columns the whole of A (_slabs chooses). BLIS and OpenBLAS
instead pack each panel of B once, all threads together, behind a barrier; on the shared virtual
machines measured here the barriers (one region's end per panel of B) cost more than packing an
operand twice (docs/performance.md). How the worker threads wait between regions is
config.ready()'s.

The shape and the block sizes come from config.PLANS (derived from the machine), read by field
name. What each piece buys, measured, is in docs/performance.md.
"""

import functools
import threading

import numba
import numpy as np
from numba import njit, prange, types
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic, overload
from numba.np.arrayobj import populate_array

from kernels.cpu.config import (
    DIRECT_B_ROW_BYTES,
    JIT,
    JIT_PARALLEL,
    LINE,
    PACK_B_ROWS,
    PARALLEL_MIN_MACS,
    PLANS,
    SLAB_ROWS_MARGIN,
    SLAB_ROWS_MAX_MACS,
)
from kernels.cpu.copies import copy_mr, copy_nr
from kernels.cpu.microkernel import micro_kernel, micro_kernel_packed, micro_kernel_packed_edge
from kernels.cpu.rows import scale_row
from kernels.cpu.transpose import pack_rows_tile, transpose_tile


@intrinsic
def any_layout(typingctx, arr):
    """The same array typed with layout "A" (any strides): the engine compiles once per dtype,
    not once per combination of C-, F- and A-ordered operands."""
    sig = arr.copy(layout="A")(arr)

    def codegen(context, builder, sig, args):
        return impl_ret_borrowed(context, builder, sig.return_type, args[0])

    return sig, codegen


@intrinsic
def nonliteral(typingctx, x):
    """x typed as a plain value, not as the constant it may be: numba compiles a jitted callee
    once per combination of literal arguments (a 0 or a True at one call site, a variable at
    another: two compiles), so constants passed to the engine's functions go through this."""
    sig = types.unliteral(x)(x)
    return sig, lambda context, builder, sig, args: args[0]


@intrinsic
def _flat(typingctx, arr, span):
    """The memory of a 2-D array as a 1-D C-contiguous array of `span` entries from its first."""
    sig = types.Array(arr.dtype, 1, "C")(arr, span)

    def codegen(context, builder, sig, args):
        src = context.make_array(sig.args[0])(context, builder, args[0])
        out = context.make_array(sig.return_type)(context, builder)
        n = context.cast(builder, args[1], sig.args[1], types.intp)
        populate_array(out, data=src.data, shape=[n], strides=[src.itemsize], itemsize=src.itemsize,
                       meminfo=src.meminfo, parent=src.parent)
        return impl_ret_borrowed(context, builder, sig.return_type, out._getvalue())

    return sig, codegen


@njit(inline="always", **JIT)
def flat(X):
    """(X's memory as a 1-D array, row stride, column stride), strides in elements (not bytes):
    entry (i, j) is at i rs + j cs. Indexing it with a stride known to be 1 vectorises."""
    rs, cs = X.strides[0] // X.itemsize, X.strides[1] // X.itemsize
    span = 1 + (X.shape[0] - 1) * rs + (X.shape[1] - 1) * cs if X.size > 0 else 0
    return _flat(X, span), rs, cs


def plan(C):
    """config.PLANS[C.dtype] (a config.Plan, read by field name), a compile-time constant inside
    a kernel."""
    return PLANS[np.dtype(C.dtype)]


@overload(plan, inline="always")
def _plan_overload(C):
    constants = PLANS[np.dtype(str(C.dtype))]
    return lambda C: constants


# ---------------------------------------------------------------------------------------------
# Packing.


# The packing loops index slices from their start with range variables only: numba's check for
# negative indices then folds away and LLVM vectorises the copies (docs/performance.md).


@njit(**JIT)
def pack_a(A, i0, mc, p0, kc, Ap, base):
    """Ap[base + r kc MR + k MR + i] = A[i0 + r MR + i, p0 + k] for the mc x kc block, rows past
    mc zero: micro-panels of MR rows, each k's MR entries side by side."""
    MR = plan(Ap).MR
    F, rs, cs = flat(A)
    # columns contiguous (W.T): the whole micro-panels k by k, each k's mc entries read once in
    # order (micro-panel by micro-panel, the MR entries of one k lie a cache line or more apart)
    by_k = mc // MR if rs == 1 and cs != 1 else 0
    for k in range(kc if by_k > 0 else 0):
        for r in range(by_k):
            copy_mr(F, i0 + (p0 + k) * cs + r * MR, Ap, base + r * kc * MR + k * MR)
    for r in range(by_k, (mc + MR - 1) // MR):
        panel = Ap[base + r * kc * MR:base + (r + 1) * kc * MR]
        rows = min(MR, mc - r * MR)
        corner = (i0 + r * MR) * rs + p0 * cs
        if rows < MR:  # an edge panel: zeroed whole first (one run: vectorised), then its rows
            for e in range(kc * MR):
                panel[e] = 0
        if cs == 1 and rows == MR:  # rows contiguous (W, dZ): LANES k's at a time transposed in
            LANES = plan(Ap).LANES  # registers, then the k's short of a whole tile one by one
            tiled = kc // LANES * LANES
            for k0 in range(0, tiled, LANES):
                pack_rows_tile(F, corner + k0, rs, Ap, base + r * kc * MR + k0 * MR)
            block = F[corner:corner + (MR - 1) * rs + kc]
            for k in range(tiled, kc):
                for i in range(MR):
                    panel[k * MR + i] = block[i * rs + k]
        elif cs == 1:
            for i in range(rows):
                src = F[corner + i * rs:corner + i * rs + kc]
                for k in range(kc):
                    panel[k * MR + i] = src[k]
        else:  # any other strides (and the last panel of W.T's): read along i
            block = F[corner:corner + (kc - 1) * cs + (rows - 1) * rs + 1]
            for k in range(kc):
                for i in range(rows):
                    panel[k * MR + i] = block[k * cs + i * rs]


@njit(**JIT)
def pack_b(B, p0, kc, j0, nc, Bp, base):
    """Bp[base + q kc NR + k NR + j] = B[p0 + k, j0 + q NR + j] for the kc x nc block, columns
    past nc zero: micro-panels of NR columns, each k's NR entries side by side."""
    NR = plan(Bp).NR
    F, rs, cs = flat(B)
    full = nc // NR  # whole micro-panels
    if cs == 1:  # rows contiguous (A_prev, dZ): PACK_B_ROWS rows at a time, micro-panel by
        for k0 in range(0, kc, PACK_B_ROWS):  # micro-panel, each one's run written in order
            k1 = min(k0 + PACK_B_ROWS, kc)
            for q in range(full):
                for k in range(k0, k1):
                    copy_nr(F, (p0 + k) * rs + j0 + q * NR, Bp, base + q * kc * NR + k * NR)
    elif rs == 1:  # columns contiguous (A_prev.T in dZ A^T): LANES x LANES tiles transposed
        LANES = plan(Bp).LANES  # in registers, then the k's short of a whole tile one by one
        tiled = kc // LANES * LANES
        for q in range(full):
            corner = p0 + (j0 + q * NR) * cs
            for k0 in range(0, tiled, LANES):
                for v in range(0, NR, LANES):
                    transpose_tile(F, corner + v * cs + k0, cs, Bp, base + q * kc * NR + k0 * NR + v, NR)
            panel = Bp[base + q * kc * NR:base + (q + 1) * kc * NR]
            block = F[corner:corner + (NR - 1) * cs + kc]
            for k in range(tiled, kc):
                for j in range(NR):
                    panel[k * NR + j] = block[j * cs + k]
    else:  # any other strides
        for q in range(full):
            panel = Bp[base + q * kc * NR:base + (q + 1) * kc * NR]
            for j in range(NR):
                corner = p0 * rs + (j0 + q * NR + j) * cs
                src = F[corner:corner + (kc - 1) * rs + 1]
                for k in range(kc):
                    panel[k * NR + j] = src[k * rs]
    if full * NR < nc:  # the last, partial micro-panel, zero-padded
        q = full
        panel = Bp[base + q * kc * NR:base + (q + 1) * kc * NR]
        cols = nc - q * NR
        for k in range(kc):
            if cs == 1:
                src = F[(p0 + k) * rs + j0 + q * NR:(p0 + k) * rs + j0 + q * NR + cols]
                for j in range(cols):
                    panel[k * NR + j] = src[j]
            else:
                for j in range(cols):
                    panel[k * NR + j] = F[(p0 + k) * rs + (j0 + q * NR + j) * cs]
            for j in range(cols, NR):
                panel[k * NR + j] = 0


# ---------------------------------------------------------------------------------------------
# The loops around the micro-kernel.


@njit(inline="always", **JIT)
def _edge(C, i, j, mr, nr, T, t0, NR, accumulate):
    """C[i:i+mr, j:j+nr] (+)= the first mr x nr of the tile T[t0 + r NR + s] (edge tiles). Row
    views, the test outside the loops: LLVM vectorises the copy (indexed C[i + r, j + s] with
    the test inside, it stayed scalar; docs/performance.md)."""
    for r in range(mr):
        c, t = C[i + r, j:j + nr], T[t0 + r * NR:t0 + r * NR + nr]
        if accumulate:
            for s in range(nr):
                c[s] += t[s]
        else:
            for s in range(nr):
                c[s] = t[s]


@njit(**JIT)
def _macro_kernel(A, Ap, a_base, packed, i0, mc, p0, kc, B, Bp, b_base, direct_b, j0, nc, C,
                  accumulate, T, t0, MR, NR, NB):
    """C[i0:i0+mc, j0:j0+nc] (+)= the packed block of A (or A itself) times the packed panel of B
    (or, direct_b, B's rows read in place; its last micro-panel, if narrower than NR, packed):
    per block of NB columns of B, each micro-panel of A (in L1) passes over its micro-panels.
    The edges go through the tile T: a last micro-panel of A with mr < MR rows (packed, zero-
    padded) runs an edge micro-kernel of a few more rows than mr, not MR (microkernel.edge_rows);
    a last one of B narrower than NR runs with B's zero padding."""
    ldc = C.shape[1]
    rsa = A.strides[0] // A.itemsize
    csa = A.strides[1] // A.itemsize
    Fb, rsb, _ = flat(B)
    # B's micro-panels by address: an array chosen per tile would be reference-counted per tile
    fb, bp = Fb.ctypes.data, Bp.ctypes.data
    whole = nc // NR * NR  # the columns of whole micro-panels
    if direct_b and whole < nc:  # the last micro-panel: packed once, zero-padded
        pack_b(B, p0, kc, j0 + whole, nc - whole, Bp, b_base)
    for jb in range(0, nc, NB):
        for ii in range(0, mc, MR):
            mr = min(MR, mc - ii)
            # an edge panel of unpacked A, more than half a micro-panel, with MR rows of A above
            # its end: the whole micro-kernel over the MR rows that end with it, read in place
            # into the tile, its last mr rows kept (no packing; the edge micro-kernel for so many
            # rows is 3/4 of MR or all of it)
            back = MR - mr if not packed and MR // 2 < mr < MR and i0 + ii + mr >= MR else 0
            from_ap = packed or (mr < MR and back == 0)  # A's micro-panel read from Ap (MR rows)
            if packed:
                a_off = a_base + ii * kc
            elif from_ap:  # any other edge panel of unpacked A: pack just its rows (zero-padded)
                pack_a(A, i0 + ii, mr, p0, kc, Ap, a_base)
                a_off = a_base
            else:  # A's own rows, read in place (an edge panel: from `back` rows above it)
                a_off = (i0 + ii - back) * rsa + p0 * csa
            for jr in range(jb, min(jb + NB, nc), NR):
                nr = min(NR, nc - jr)
                full = mr == MR and nr == NR
                if direct_b and nr == NR:
                    Bk, b_off, b_step = fb, p0 * rsb + j0 + jr, rsb
                elif direct_b:
                    Bk, b_off, b_step = bp, b_base, NR
                else:
                    Bk, b_off, b_step = bp, b_base + jr * kc, NR
                c_off = (i0 + ii) * ldc + j0 + jr
                if from_ap and full:
                    micro_kernel_packed(Ap, a_off, 1, MR, Bk, b_off, b_step, C, c_off, ldc, kc,
                                        accumulate)
                elif from_ap and mr < MR:
                    micro_kernel_packed_edge(mr, Ap, a_off, 1, MR, Bk, b_off, b_step, T, t0, NR, kc)
                elif from_ap:
                    micro_kernel_packed(Ap, a_off, 1, MR, Bk, b_off, b_step, T, t0, NR, kc, False)
                elif full:
                    micro_kernel(A, a_off, rsa, csa, Bk, b_off, b_step, C, c_off, ldc, kc,
                                 accumulate)
                else:
                    micro_kernel(A, a_off, rsa, csa, Bk, b_off, b_step, T, t0, NR, kc, False)
                if not full:
                    _edge(C, i0 + ii, j0 + jr, mr, nr, T, t0 + back * NR, NR, accumulate)


@njit(inline="always", **JIT)
def zero_block(C, i0, i1, j0, j1):
    """C[i0:i1, j0:j1] = 0."""
    for i in range(i0, i1):
        for j in range(j0, j1):
            C[i, j] = 0


@njit(inline="always", **JIT)
def _row_blocks(A, C, accumulate, Ap, i0, i1, pc, kc, B, Bp, direct_b, jc, nc, packed, P):
    """The 3rd loop over C[i0:i1, jc:jc+nc], with a packed panel of B (Bp; or B read in place,
    direct_b) and slab s's row of Cbuf (Ap) for the blocks of A; the edge tile is the last
    MR x NR of that row."""
    t0 = Ap.shape[0] - P.MR * P.NR
    for ic in range(i0, i1, P.MC):
        mc = min(P.MC, i1 - ic)
        zero = nonliteral(0)
        if packed:
            pack_a(A, ic, mc, pc, kc, Ap, zero)
        _macro_kernel(A, Ap, zero, packed, ic, mc, pc, kc, B, Bp, zero, direct_b, jc, nc, C,
                      accumulate, Ap, t0, P.MR, P.NR, P.NB)


@njit(inline="always", **JIT)
def reads_b_in_place(B, packed, P):
    """Whether B's micro-panels are read where they are, unpacked: when A is not packed either,
    B's rows are contiguous and less than DIRECT_B_ROW_BYTES apart, and the rows of B the
    product reads span at most P.DIRECT_B_MAX_ENTRIES (a share of L2: no conflicts, and kept
    there between micro-panels of A). Packing such a B costs as much as the product saves by it
    at the networks' sizes."""
    rs, cs = B.strides[0] // B.itemsize, B.strides[1] // B.itemsize
    return (not packed and cs == 1 and B.strides[0] < DIRECT_B_ROW_BYTES
            and B.shape[0] * rs <= P.DIRECT_B_MAX_ENTRIES)


@njit(inline="always", **JIT)
def rank_one(A, B, C, accumulate, i0, i1, j0, j1):
    """C[i0:i1, j0:j1] (+)= A[i0:i1] B[:, j0:j1] with K = 1: C[i, j] (+)= A[i, 0] B[0, j], each
    row of C written once, in order, in whole vectors (rows.scale_row). (The micro-kernel would
    write C in MR x NR tiles, a call per tile with one multiply-add in it: half the speed at
    which C can be written.)"""
    F, _, cs = flat(B)
    rs = C.strides[0] // C.itemsize
    vectors = cs == 1 and C.strides[1] == C.itemsize  # B's row and C's rows contiguous
    n = j1 - j0
    zero = C.dtype.type(0)
    for i in range(i0, i1):
        a = A[i, 0]
        if not vectors:  # a strided view of B: read in place
            c = C[i, j0:j1]
            for j in range(n):
                c[j] = (c[j] if accumulate else zero) + a * F[(j0 + j) * cs]
        else:
            scale_row(a, F, j0, C, i * rs + j0, n, accumulate)


@njit(**JIT)
def _slab(A, B, C, accumulate, Vbuf, Cbuf, s, i0, i1, j0, j1, packed, P):
    """C[i0:i1, j0:j1] (+)= A[i0:i1] B[:, j0:j1] on this thread, with slab s's rows of the
    buffers (it packs its own panels of B, unless it reads them in place; with K = 1 nothing,
    rank_one)."""
    K = A.shape[1]
    if K == 0:
        if not accumulate:
            zero_block(C, i0, i1, j0, j1)
        return
    if K == 1:
        rank_one(A, B, C, accumulate, i0, i1, j0, j1)
        return
    direct_b = reads_b_in_place(B, packed, P)
    for jc in range(j0, j1, P.NC):
        nc = min(P.NC, j1 - jc)
        for pc in range(0, K, P.KC):
            kc = min(P.KC, K - pc)
            if not direct_b:
                pack_b(B, pc, kc, jc, nc, Vbuf[s], nonliteral(0))
            _row_blocks(A, C, accumulate or pc > 0, Cbuf[s], i0, i1, pc, kc, B, Vbuf[s], direct_b,
                        jc, nc, packed, P)


@njit(inline="always", **JIT)
def _row_cut(M, s, S, MR):
    """The row where slab s of S starts when C is cut along rows (s = S: M): s M / S rounded to
    the nearest whole micro-panel of MR rows, each cut within half a micro-panel of even (the
    last slab's edge panel, M % MR rows, runs in about its rows' time: microkernel.edge_rows).
    Before, slabs of ceil(tiles / S) micro-panels: at M = 256, 140 rows and 116."""
    if s >= S:
        return M
    return min(M, (2 * s * M + S * MR) // (2 * S * MR) * MR)


@njit(inline="always", **JIT)
def _most_rows(M, S, MR):
    """The rows of the largest of S slabs cut at _row_cut: the first or the last, or one in
    between (each of those whole micro-panels, ceil(M / (S MR)) at most). Without a loop over
    the slabs, which cost the first compile 0.2 s."""
    first, last = _row_cut(M, 1, S, MR), M - _row_cut(M, S - 1, S, MR)
    middle = (M + S * MR - 1) // (S * MR) * MR if S > 2 else 0
    return max(first, last, middle)


@njit(inline="always", **JIT)
def shares_lines(C, NR):
    """Whether slabs of C cut along columns, in runs of whole micro-panels (NR columns), would
    share cache lines at their cuts: C's rows or its micro-panels not whole lines, or C not
    starting on one (NumPy aligns its arrays to 16 bytes only)."""
    return (C.ctypes.data % LINE != 0 or C.strides[0] % LINE != 0
            or NR * C.itemsize % LINE != 0)


@njit(inline="always", **JIT)
def lines_cost(C, K, S, NR, KC):
    """Whether slabs of columns of C would share its cache lines (shares_lines) at a cost: fewer
    than SLAB_ROWS_MAX_MACS multiply-adds per row of C and panel of B (K up to KC) in each."""
    return C.shape[1] // S * min(K, KC) < SLAB_ROWS_MAX_MACS and shares_lines(C, NR)


@njit(inline="always", **JIT)
def _slabs(M, N, S, MR, NR, packed, shared):
    """How to cut C into S slabs of one region: (by_rows, step). Slabs of rows cut at
    _row_cut; slabs of columns in runs of `step` columns, whole micro-panels of B. Each side's
    busiest slab is counted in rows of C times micro-panels of B, and the less busy side is
    chosen. Where both are as busy, by what each slab packs: a slab of rows packs the whole of
    B (K x N), one of columns its own columns of B and, if A is packed, the whole of A (M x K).
    So a product that does not pack A is cut into columns (nothing packed twice), one that does
    along its longer side (the smaller operand packed twice: rows where M >= N).
    Where slabs of columns would share cache lines of C at a cost (`shared`: lines_cost), rows
    are chosen unless columns leave the busiest slab SLAB_ROWS_MARGIN less to do: with two
    cores writing one line of C at every cut of every row, W^T dZ of [256,120,84,10] (120 x 84
    x 64) took 41-64% longer, 256^3 6-8% (docs/performance.md, "Slabs of rows")."""
    tn = (N + NR - 1) // NR
    per_n = (tn + S - 1) // S
    busy_rows, busy_columns = _most_rows(M, S, MR) * tn, M * per_n
    if shared:
        by_rows = busy_rows * SLAB_ROWS_MARGIN[0] <= busy_columns * SLAB_ROWS_MARGIN[1]
    else:
        by_rows = busy_rows < busy_columns or (busy_rows == busy_columns and packed and M >= N)
    return by_rows, per_n * NR


@njit(inline="always", **JIT)
def _round_up(x, step):
    return (x + step - 1) // step * step


@njit(**JIT)
def buffer_columns(M, K, N, packed, P):
    """(Vbuf columns, Cbuf columns) that one slab needs for C (M, N) = A (M, K) B (K, N): a packed
    KC x NC panel of B, or, for a product of fewer than MR rows, the M x N partial sums of one
    thread (products.wa_inputs, which may start them up to one L1 way in); a packed MC x KC
    block of A (MR rows when A is not packed: its edge panels) and an MR x NR edge tile. The one
    sizing formula of the engine's buffers."""
    kc = min(P.KC, K)
    nc = _round_up(min(P.NC, N), P.NR)
    mc = _round_up(min(P.MC, M), P.MR) if packed else P.MR
    partial = M * N + P.L1_WAY if M < P.MR else 0  # L1_WAY bytes: at least as many entries
    return max(kc * nc, partial), mc * kc + P.MR * P.NR


@njit(inline="always", **JIT)
def fits(A, B, Vbuf, Cbuf, packed, slabs, P):
    """Whether Vbuf, Cbuf (network_buffers) hold the packed blocks of `slabs` slabs."""
    v, c = buffer_columns(A.shape[0], A.shape[1], B.shape[1], packed, P)
    return (Vbuf.shape[0] >= slabs and Cbuf.shape[0] >= slabs and Vbuf.shape[1] >= v
            and Cbuf.shape[1] >= c)


@njit(inline="always", **JIT)
def gemm_serial(A, B, C, accumulate, Vbuf, Cbuf, packed, P):
    """C (+)= A B on this thread (slab 0 of the buffers)."""
    zero = nonliteral(0)
    _slab(A, B, C, accumulate, Vbuf, Cbuf, zero, zero, A.shape[0], zero, B.shape[1], packed, P)


@njit(**JIT)
def _cuts(C, K, S, packed, MR, NR, KC):
    """(by_rows, step, mr): how _slabs_parallel cuts C (_slabs; with K = 1, rank_one's whole
    rows of C, each written in order: in columns 3x slower). A function of its own, of C and
    plain integers rather than the plan: inlined where the engine is (matmul, each product), it
    cost the first compile 0.4 s."""
    if K == 1:
        return True, 0, 1
    by_rows, step = _slabs(C.shape[0], C.shape[1], S, MR, NR, packed, lines_cost(C, K, S, NR, KC))
    return by_rows, step, MR


@njit(**JIT_PARALLEL)
def _slabs_parallel(A, B, C, accumulate, Vbuf, Cbuf, packed, P, by_rows, step, mr):
    """One region: C in Vbuf.shape[0] slabs (_cuts), one per thread, each packing its own
    panels of B into its own row of the buffers: slabs of rows cut at _row_cut (micro-panels
    of mr rows), or of `step` columns."""
    M, N = C.shape
    S = Vbuf.shape[0]
    for s in prange(S):
        i0, i1 = (_row_cut(M, s, S, mr), _row_cut(M, s + 1, S, mr)) if by_rows else (0, M)
        j0, j1 = (0, N) if by_rows else (min(N, s * step), min(N, (s + 1) * step))
        if i0 < i1 and j0 < j1:
            _slab(A, B, C, accumulate, Vbuf, Cbuf, np.int64(s), i0, i1, j0, j1, packed, P)  # s: unsigned


@njit(inline="always", **JIT)
def gemm_parallel(A, B, C, accumulate, Vbuf, Cbuf, packed, P):
    """C (+)= A B on Vbuf.shape[0] threads, each with its own row of the buffers: one region
    of slabs (_slabs_parallel), no barrier inside the product (docs/performance.md)."""
    by_rows, step, mr = _cuts(C, A.shape[1], Vbuf.shape[0], packed, P.MR, P.NR, P.KC)
    _slabs_parallel(A, B, C, accumulate, Vbuf, Cbuf, packed, P, by_rows, step, mr)


@njit(inline="always", **JIT)
def direct(A, B, C, accumulate):
    """C (+)= A B in loop order i, k, j, without packing: only for buffers too small to pack
    into (the engine never allocates)."""
    M, K = A.shape
    for i in range(M):
        if not accumulate:
            for j in range(C.shape[1]):
                C[i, j] = 0
        for k in range(K):
            a = A[i, k]
            for j in range(C.shape[1]):
                C[i, j] += a * B[k, j]


@njit(inline="always", **JIT)
def product(A, B, C, accumulate, Vbuf, Cbuf, P):
    """C (+)= A B, choosing by size (P: the plan, a config.Plan): pack A from P.PACK_A_MIN_MACS
    multiply-adds and P.PACK_A_MIN_N columns of B per thread on (a packed block of A is paid
    once and used by every micro-panel of B its thread runs it against: on S threads, a slab
    of columns holds 1 / S of them), use every slab of the buffers from P.PARALLEL_MIN_MACS on
    (with K = 1, slabs of rank_one, packing nothing)."""
    macs = A.shape[0] * A.shape[1] * B.shape[1]
    pack = macs >= P.PACK_A_MIN_MACS and A.shape[1] > 1
    accumulate = nonliteral(accumulate)  # one compile for C += A B and C = A B
    a, b = any_layout(A), any_layout(B)
    S = Vbuf.shape[0]
    packed_s = pack and B.shape[1] >= S * P.PACK_A_MIN_N
    packed_1 = pack and B.shape[1] >= P.PACK_A_MIN_N
    if macs >= P.PARALLEL_MIN_MACS and S > 1 and fits(A, B, Vbuf, Cbuf, packed_s, S, P):
        gemm_parallel(a, b, C, accumulate, Vbuf, Cbuf, packed_s, P)
    elif fits(A, B, Vbuf, Cbuf, packed_1, 1, P):
        gemm_serial(a, b, C, accumulate, Vbuf, Cbuf, packed_1, P)
    else:
        direct(A, B, C, accumulate)


def buffer_sizes(shapes, P):
    """(Vbuf columns, Cbuf columns) for products of the given (M, K, N) shapes under plan P."""
    sizes = [buffer_columns(M, K, N, True, P) for M, K, N in shapes]
    return max([1] + [v for v, _ in sizes]), max([1] + [c for _, c in sizes])


def buffers(shapes, dtype, P=None, slabs=None):
    """(Vbuf, Cbuf): one row per slab (numba's thread count unless given) for the packed panels
    of B (Vbuf) and the packed blocks of A plus an edge tile (Cbuf), for every (M, K, N)."""
    dtype = np.dtype(dtype)
    P = PLANS[dtype] if P is None else P
    slabs = numba.get_num_threads() if slabs is None else slabs
    v, c = buffer_sizes(shapes, P)
    return aligned_zeros(slabs, v, dtype), aligned_zeros(slabs, c, dtype)


@njit(**JIT)
def _to_line(raw):
    """How many entries past raw's first one its first cache line starts (0 .. LINE/itemsize - 1):
    jitted, as Python's routes to an array's address (.ctypes, __array_interface__) cost about a
    microsecond."""
    return (-raw.ctypes.data % LINE) // raw.itemsize


def _on_line(rows, columns, dtype, allocate):
    """A (rows, columns) view of `allocate`'s array, its first entry on a cache line."""
    dtype = np.dtype(dtype)
    raw = allocate(rows * columns + LINE // dtype.itemsize, dtype)
    start = _to_line(raw)
    return raw[start:start + rows * columns].reshape(rows, columns)


def product_out(M, K, N, dtype, allocate=np.empty):
    """The (M, N) array for the C of a product of M K N multiply-adds, from `allocate` (np.empty
    or np.zeros): on a cache line from PARALLEL_MIN_MACS on, where gemm.product may share C among
    its threads (on one thread too): NumPy aligns its arrays to 16 bytes only, and a C on a line,
    cut into slabs of columns at whole micro-panels, shares no line between two threads
    (shares_lines). NumPy's own array below it, where one thread runs the product and the
    placement's 0.7 us would be a small product's sixth. Every Python entry point whose kernel
    may run on threads allocates its result here."""
    if M * K * N >= PARALLEL_MIN_MACS:
        return _on_line(M, N, dtype, allocate)
    return allocate((M, N), dtype)


def aligned_zeros(rows, columns, dtype, whole_rows=True):
    """A C-contiguous (rows, columns or a little more) array of zeros whose rows start on cache
    lines: packed panels then start on lines, and no vector load of the micro-kernel straddles
    two. With whole_rows False, exactly (rows, columns): its first row starts on a line, the
    others wherever `columns` entries put them."""
    dtype = np.dtype(dtype)
    if whole_rows:
        per = LINE // dtype.itemsize
        columns = -(-columns // per) * per
    return _on_line(rows, columns, dtype, np.zeros)


_SCRATCH = threading.local()  # per thread: {(dtype, slabs): (Vbuf, Cbuf)} for the Python entry points


@functools.lru_cache(maxsize=256)
def _scratch_sizes(dtype, shapes):
    """buffer_sizes for scratch, remembered: each jitted buffer_columns call from Python costs a
    microsecond or more (its plan argument is typed anew), as much as a small product."""
    return buffer_sizes(shapes, PLANS[dtype])


def scratch(shapes, dtype):
    """buffers(shapes, dtype), kept per calling thread and grown when too small, so that repeated
    calls of the Python entry points (matmul, products.w_a, ...) do not allocate and touch fresh
    pages for their packing buffers each time."""
    dtype = np.dtype(dtype)
    slabs = numba.get_num_threads()
    v, c = _scratch_sizes(dtype, tuple(shapes))
    kept = getattr(_SCRATCH, "buffers", None)
    if kept is None:
        kept = _SCRATCH.buffers = {}
    have = kept.get((dtype, slabs))
    if have is None or have[0].shape[1] < v or have[1].shape[1] < c:
        v, c = (v, c) if have is None else (max(v, have[0].shape[1]), max(c, have[1].shape[1]))
        have = kept[(dtype, slabs)] = (aligned_zeros(slabs, v, dtype), aligned_zeros(slabs, c, dtype))
    return have
