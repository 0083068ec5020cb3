"""The matrix-product engine of kernels.cpu: C (+)= A B in the structure of BLIS.

    A: (M, K), B: (K, N), any strides (W, W.T, A.T views: nothing is transposed in memory);
    C: (M, N) C-contiguous.

    for each slab of C (one per thread, prange)       rows or columns, whichever splits evenly
      for jc in steps of NC                            5th loop: a panel of B in L3
        for pc in steps of KC                          4th loop: pack B[pc:pc+KC, jc:jc+NC]
          for ic in steps of MC                        3rd loop: pack A[ic:ic+MC, pc:pc+KC] (L2)
            for jr in steps of NR                      2nd loop: a micro-panel of B in L1
              for ir in steps of MR                    1st loop: a micro-panel of A
                micro_kernel                           C[MR x NR] (+)= A-panel . B-panel

    micro_kernel   an MR x NR tile of C in vector registers (MR rows of NV vectors); per k it
                   loads NV vectors of packed B, broadcasts MR entries of A and issues MR x NV
                   vector FMAs. Written as LLVM IR (an @intrinsic), so the vector width is the
                   plan's (config.py), whatever width LLVM's vectoriser prefers on this machine.
    pack_a, pack_b copy a block into micro-panel order (zero-padded to MR rows / NR columns),
                   reading the source along its contiguous dimension.

The shape and the block sizes come from config.PLANS (derived from the machine). Small products
skip packing A (the micro-kernel then reads A with its strides) and run on one thread. What each
piece buys, measured, is in docs/performance.md.
"""

import threading

import llvmlite
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic, overload
from numba.np.arrayobj import populate_array

from kernels.cpu.config import JIT, JIT_PARALLEL, PLANS

# ---------------------------------------------------------------------------------------------
# The micro-kernel, as LLVM IR.


def _vector_fma(builder, vty):
    kind = "f32" if vty.element == ir.FloatType() else "f64"
    fnty = ir.FunctionType(vty, [vty, vty, vty])
    return cgutils.get_or_insert_function(builder.module, fnty, f"llvm.fma.v{vty.count}{kind}")


def _micro_kernel_function(module, T, MR, NV, LANES, packed_a):
    """The micro-kernel as one LLVM function of the module (defined once, called per tile):
    f(a, rsa, csa, b, c, rsc, kc, accumulate), pointers to the first entries of the A and B
    micro-panels and of the C tile; see micro_kernel below for what it computes."""
    name = f"micro_kernel_{MR}x{NV}x{LANES}_{T}_{'packed' if packed_a else 'strided'}"
    fn = module.globals.get(name)
    if fn is not None:
        return fn
    i64, i1 = ir.IntType(64), ir.IntType(1)
    P = T.as_pointer()
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [P, i64, i64, P, P, i64, i64, i1]), name)
    fn.linkage = "internal"
    a0, rsa, csa, b0, c0, rsc, kc, accumulate = fn.args
    builder = ir.IRBuilder(fn.append_basic_block("entry"))
    V = ir.VectorType(T, LANES)
    fma = _vector_fma(builder, V)
    const = lambda x: ir.Constant(i64, x)  # noqa: E731
    # where row i of the A micro-panel is: packed, i (then k steps by MR); else i * rsa
    rows = [const(i) if packed_a else builder.mul(const(i), rsa) for i in range(MR)]
    k_step = const(MR) if packed_a else csa
    splat = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)
    zero = ir.Constant(V, None)

    # prefetch the C tile (MR rows of NR entries) for writing: its lines arrive during the loop
    i8p = ir.IntType(8).as_pointer()
    prefetch = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [i8p] + [ir.IntType(32)] * 3),
        "llvm.prefetch.p0i8" if llvmlite.ir_layer_typed_pointers_enabled else "llvm.prefetch.p0")
    per_line = 64 // (4 if T == ir.FloatType() else 8)
    for i in range(MR):
        row = builder.gep(c0, [builder.mul(const(i), rsc)])
        for e in range(0, NV * LANES, per_line):
            p = builder.bitcast(builder.gep(row, [const(e)]), i8p)
            builder.call(prefetch, [p] + [ir.Constant(ir.IntType(32), x) for x in (1, 3, 1)])

    entry = builder.block
    loop = fn.append_basic_block("loop")
    done = fn.append_basic_block("done")
    builder.cbranch(builder.icmp_signed(">", kc, const(0)), loop, done)

    builder.position_at_end(loop)  # per k: NV loads of B, MR broadcasts of A, MR x NV FMAs
    k = builder.phi(i64)
    acc = [[builder.phi(V) for _ in range(NV)] for _ in range(MR)]
    b_k = builder.gep(b0, [builder.mul(k, const(NV * LANES))])  # packed B: NR entries per k
    b = [builder.load(builder.bitcast(builder.gep(b_k, [const(v * LANES)]), V.as_pointer()), align=4)
         for v in range(NV)]
    a_k = builder.gep(a0, [builder.mul(k, k_step)])
    new = []
    for i in range(MR):
        a = builder.insert_element(ir.Constant(V, ir.Undefined), builder.load(builder.gep(a_k, [rows[i]])),
                                   ir.Constant(ir.IntType(32), 0))
        a = builder.shuffle_vector(a, ir.Constant(V, ir.Undefined), splat)
        new.append([builder.call(fma, [a, b[v], acc[i][v]]) for v in range(NV)])
    k_next = builder.add(k, const(1))
    k.add_incoming(const(0), entry)
    k.add_incoming(k_next, loop)
    for i in range(MR):
        for v in range(NV):
            acc[i][v].add_incoming(zero, entry)
            acc[i][v].add_incoming(new[i][v], loop)
    builder.cbranch(builder.icmp_signed("<", k_next, kc), loop, done)

    builder.position_at_end(done)  # C (+)= the tile
    total = [[builder.phi(V) for _ in range(NV)] for _ in range(MR)]
    for i in range(MR):
        for v in range(NV):
            total[i][v].add_incoming(zero, entry)
            total[i][v].add_incoming(new[i][v], loop)
    for i in range(MR):
        row = builder.gep(c0, [builder.mul(const(i), rsc)])
        for v in range(NV):
            p = builder.bitcast(builder.gep(row, [const(v * LANES)]), V.as_pointer())
            old = builder.select(accumulate, builder.load(p, align=4), zero)
            builder.store(builder.fadd(old, total[i][v]), p, align=4)
    builder.ret_void()
    return fn


def _micro_kernel_intrinsic(packed_a):
    def typer(typingctx, A, a_off, rsa, csa, B, b_off, C, c_off, rsc, kc, accumulate):
        sig = types.void(A, a_off, rsa, csa, B, b_off, C, c_off, rsc, kc, accumulate)

        def codegen(context, builder, sig, args):
            plan = PLANS[np.dtype(str(sig.args[0].dtype))]
            T = context.get_data_type(sig.args[0].dtype)
            fn = _micro_kernel_function(builder.module, T, plan.MR, plan.NV, plan.LANES, packed_a)
            A, a_off, rsa, csa, B, b_off, C, c_off, rsc, kc, accumulate = [
                context.cast(builder, v, t, types.int64) if isinstance(t, types.Integer) else v
                for v, t in zip(args, sig.args, strict=True)]
            data = lambda i, x: context.make_array(sig.args[i])(context, builder, x).data  # noqa: E731
            flag = context.cast(builder, accumulate, sig.args[10], types.boolean)
            builder.call(fn, [builder.gep(data(0, A), [a_off]), rsa, csa,
                              builder.gep(data(4, B), [b_off]), builder.gep(data(6, C), [c_off]),
                              rsc, kc, flag])
            return context.get_dummy_value()

        return sig, codegen
    return intrinsic(typer)


@intrinsic
def any_layout(typingctx, arr):
    """The same array typed with layout "A" (any strides): the engine compiles once per dtype,
    not once per combination of C-, F- and A-ordered operands."""
    sig = arr.copy(layout="A")(arr)

    def codegen(context, builder, sig, args):
        return impl_ret_borrowed(context, builder, sig.return_type, args[0])

    return sig, codegen


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


# micro_kernel(A, a_off, rsa, csa, B, b_off, C, c_off, rsc, kc, accumulate):
#     C[c_off + i rsc + j] (+)= sum_{k < kc} A[a_off + i rsa + k csa] B[b_off + k NR + j]
# for i < MR, j < NR (flat element offsets into the arrays' data; B packed, so NR per k).
# micro_kernel_packed: A packed too (rsa = 1, csa = MR as constants: the offsets are immediates).
micro_kernel = _micro_kernel_intrinsic(packed_a=False)
micro_kernel_packed = _micro_kernel_intrinsic(packed_a=True)


def plan(C):
    """config.PLANS[C.dtype] as a tuple of ints, a compile-time constant inside a kernel."""
    return tuple(PLANS[C.dtype])


@overload(plan, inline="always")
def _plan_overload(C):
    constants = tuple(PLANS[np.dtype(str(C.dtype))])
    return lambda C: constants


# ---------------------------------------------------------------------------------------------
# Packing.


# The packing loops index slices from their start with range variables only: numba's check for
# negative indices then folds away and LLVM vectorises the copies (docs/performance.md).


@njit(**JIT)
def pack_a(A, i0, mc, p0, kc, Ap, base):
    """Ap[base + r kc MR + k MR + i] = A[i0 + r MR + i, p0 + k] for the mc x kc block, rows past
    mc zero: micro-panels of MR rows, each k's MR entries side by side."""
    MR = plan(Ap)[1]
    F, rs, cs = flat(A)
    for r in range((mc + MR - 1) // MR):
        panel = Ap[base + r * kc * MR:base + (r + 1) * kc * MR]
        rows = min(MR, mc - r * MR)
        corner = (i0 + r * MR) * rs + p0 * cs
        if cs == 1:
            for i in range(rows):
                src = F[corner + i * rs:corner + i * rs + kc]
                for k in range(kc):
                    panel[k * MR + i] = src[k]
        else:  # columns contiguous (W.T): read along i
            for k in range(kc):
                src = F[corner + k * cs:corner + k * cs + (rows - 1) * rs + 1]
                for i in range(rows):
                    panel[k * MR + i] = src[i * rs]
        for k in range(kc):
            for i in range(rows, MR):
                panel[k * MR + i] = 0


@njit(**JIT)
def pack_b(B, p0, kc, j0, nc, Bp, base, NR):
    """Bp[base + q kc NR + k NR + j] = B[p0 + k, j0 + q NR + j] for the kc x nc block, columns
    past nc zero: micro-panels of NR columns, each k's NR entries side by side."""
    F, rs, cs = flat(B)
    for q in range((nc + NR - 1) // NR):
        panel = Bp[base + q * kc * NR:base + (q + 1) * kc * NR]
        cols = min(NR, nc - q * NR)
        corner = p0 * rs + (j0 + q * NR) * cs
        if cs == 1:  # rows contiguous (A_prev, dZ): read along j
            for k in range(kc):
                src = F[corner + k * rs:corner + k * rs + cols]
                for j in range(cols):
                    panel[k * NR + j] = src[j]
        else:  # columns contiguous (A_prev.T in dZ A^T): read along k
            for j in range(cols):
                src = F[corner + j * cs:corner + j * cs + (kc - 1) * rs + 1]
                for k in range(kc):
                    panel[k * NR + j] = src[k * rs]
        for k in range(kc):
            for j in range(cols, NR):
                panel[k * NR + j] = 0


# ---------------------------------------------------------------------------------------------
# Small products: register tiles straight from the operands, no packing, one thread. Below
# ENGINE_MIN_MACS multiply-adds, or with fewer rows than MR or columns than NR, packing and the
# micro-kernel's padded tiles cost more than they save (docs/performance.md).

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


@njit(**JIT)
def wa_into(W, A, Z):
    """Z += W A.    W: (n, k), A: (k, m), Z: (n, m) (the caller sets Z to b or to 0 first)."""
    accumulate_rows(W, A, Z, 0, W.shape[0], 0, W.shape[1], 0, 0, A.shape[1])


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


# ---------------------------------------------------------------------------------------------
# The loops around the micro-kernel.


@njit(inline="always", **JIT)
def _edge(C, i, j, mr, nr, T, t0, NR, accumulate):
    """C[i:i+mr, j:j+nr] (+)= the first mr x nr of the tile T[t0 + r NR + s] (edge tiles)."""
    for r in range(mr):
        for s in range(nr):
            if accumulate:
                C[i + r, j + s] += T[t0 + r * NR + s]
            else:
                C[i + r, j + s] = T[t0 + r * NR + s]


@njit(**JIT)
def _macro_kernel(A, Ap, a_base, packed, i0, mc, p0, kc, Bp, b_base, j0, nc, C, accumulate,
                  T, t0, MR, NR):
    """C[i0:i0+mc, j0:j0+nc] (+)= the packed block of A (or A itself) times the packed panel of B."""
    ldc = C.shape[1]
    rsa = A.strides[0] // A.itemsize
    csa = A.strides[1] // A.itemsize
    for jr in range(0, nc, NR):
        nr = min(NR, nc - jr)
        b_off = b_base + jr * kc
        for ii in range(0, mc, MR):
            mr = min(MR, mc - ii)
            full = mr == MR and nr == NR
            c_off = (i0 + ii) * ldc + j0 + jr
            if packed or mr < MR:
                if not packed:  # an edge panel of unpacked A: pack just its rows (zero-padded)
                    pack_a(A, i0 + ii, mr, p0, kc, Ap, a_base)
                    a_off = a_base
                else:
                    a_off = a_base + ii * kc
                if full:
                    micro_kernel_packed(Ap, a_off, 1, MR, Bp, b_off, C, c_off, ldc, kc, accumulate)
                else:
                    micro_kernel_packed(Ap, a_off, 1, MR, Bp, b_off, T, t0, NR, kc, False)
            elif full:
                micro_kernel(A, (i0 + ii) * rsa + p0 * csa, rsa, csa, Bp, b_off, C, c_off, ldc,
                             kc, accumulate)
            else:
                micro_kernel(A, (i0 + ii) * rsa + p0 * csa, rsa, csa, Bp, b_off, T, t0, NR, kc,
                             False)
            if not full:
                _edge(C, i0 + ii, j0 + jr, mr, nr, T, t0, NR, accumulate)


@njit(**JIT)
def _slab(A, B, C, accumulate, Vbuf, Cbuf, s, i0, i1, j0, j1, packed, P):
    """C[i0:i1, j0:j1] (+)= A[i0:i1] B[:, j0:j1] with slab s's rows of the buffers."""
    MR, NR, KC, MC, NC = P[1], P[3], P[4], P[5], P[6]
    K = A.shape[1]
    Bp = Vbuf[s]
    Ap = Cbuf[s]
    t0 = Cbuf.shape[1] - MR * NR  # the edge tile: the last MR x NR of the slab's row of Cbuf
    if K == 0:
        if not accumulate:
            for i in range(i0, i1):
                for j in range(j0, j1):
                    C[i, j] = 0
        return
    for jc in range(j0, j1, NC):
        nc = min(NC, j1 - jc)
        for pc in range(0, K, KC):
            kc = min(KC, K - pc)
            pack_b(B, pc, kc, jc, nc, Bp, 0, NR)
            acc = accumulate or pc > 0
            for ic in range(i0, i1, MC):
                mc = min(MC, i1 - ic)
                if packed:
                    pack_a(A, ic, mc, pc, kc, Ap, 0)
                _macro_kernel(A, Ap, 0, packed, ic, mc, pc, kc, Bp, 0, jc, nc, C, acc, Ap, t0,
                              MR, NR)


@njit(inline="always", **JIT)
def _slabs(M, N, S, MR, NR, packed):
    """How to cut C into S slabs: (by_rows, step). Every slab packs the whole of the operand it
    does not split: B when C is cut into rows, A when cut into columns. Packing B is the cheaper
    copy (it runs along rows), so a product that packs A is cut into rows, one that does not
    into columns; unless the other side splits into S equal runs of micro-tiles with less idle."""
    tm, tn = (M + MR - 1) // MR, (N + NR - 1) // NR
    per_m, per_n = (tm + S - 1) // S, (tn + S - 1) // S
    # the busy share of S slabs: tm / (S per_m) along rows, tn / (S per_n) along columns
    busy_m, busy_n = tm * per_n, tn * per_m  # both over S per_m per_n
    by_rows = busy_m >= busy_n if packed else busy_m > busy_n
    if by_rows:
        return True, per_m * MR
    return False, per_n * NR


@njit(inline="always", **JIT)
def fits(A, B, C, Vbuf, Cbuf, packed, slabs, P):
    """Whether Vbuf, Cbuf (network_buffers) hold the packed blocks this product needs."""
    MR, NR, KC, MC, NC = P[1], P[3], P[4], P[5], P[6]
    M, K = A.shape
    N = B.shape[1]
    kc = min(KC, K)
    nc = (min(NC, N) + NR - 1) // NR * NR
    mc = (min(MC, M) + MR - 1) // MR * MR if packed else MR
    return (Vbuf.shape[0] >= slabs and Cbuf.shape[0] >= slabs and Vbuf.shape[1] >= kc * nc
            and Cbuf.shape[1] >= mc * kc + MR * NR)


@njit(**JIT)
def gemm_serial(A, B, C, accumulate, Vbuf, Cbuf, packed, P):
    """C (+)= A B on this thread (slab 0 of the buffers)."""
    _slab(A, B, C, accumulate, Vbuf, Cbuf, 0, 0, A.shape[0], 0, B.shape[1], packed, P)


@njit(**JIT_PARALLEL)
def gemm_parallel(A, B, C, accumulate, Vbuf, Cbuf, packed, P):
    """C (+)= A B in Vbuf.shape[0] slabs, one per thread, each with its own row of the buffers."""
    MR, NR = P[1], P[3]
    M, N = C.shape
    S = Vbuf.shape[0]
    by_rows, step = _slabs(M, N, S, MR, NR, packed)
    for s in prange(S):
        i0, i1 = (min(M, s * step), min(M, (s + 1) * step)) if by_rows else (0, M)
        j0, j1 = (0, N) if by_rows else (min(N, s * step), min(N, (s + 1) * step))
        if i0 < i1 and j0 < j1:
            _slab(A, B, C, accumulate, Vbuf, Cbuf, s, i0, i1, j0, j1, packed, P)


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
    """C (+)= A B, choosing by size (P: the plan, a tuple of config.Plan's fields): pack A from
    PACK_A_MIN_MACS multiply-adds on, use every slab of the buffers from PARALLEL_MIN_MACS on."""
    macs = A.shape[0] * A.shape[1] * B.shape[1]
    packed = macs >= P[7]
    a, b = any_layout(A), any_layout(B)
    if macs >= P[8] and Vbuf.shape[0] > 1 and fits(A, B, C, Vbuf, Cbuf, packed, Vbuf.shape[0], P):
        gemm_parallel(a, b, C, accumulate, Vbuf, Cbuf, packed, P)
    elif fits(A, B, C, Vbuf, Cbuf, packed, 1, P):
        gemm_serial(a, b, C, accumulate, Vbuf, Cbuf, packed, P)
    else:
        direct(A, B, C, accumulate)


def buffer_sizes(shapes, itemsize, P):
    """(Vbuf columns, Cbuf columns) for products of the given (M, K, N) shapes under plan P."""
    MR, NR, KC, MC, NC = P[1], P[3], P[4], P[5], P[6]
    v = c = 1
    for M, K, N in shapes:
        kc = min(KC, K)
        v = max(v, kc * (-(-min(NC, N) // NR) * NR))
        c = max(c, (-(-min(MC, M) // MR) * MR) * kc + MR * NR)
    return v, c


def buffers(shapes, dtype, P=None, slabs=None):
    """(Vbuf, Cbuf): one row per slab (numba's thread count unless given) for the packed panels
    of B (Vbuf) and the packed blocks of A plus an edge tile (Cbuf), for every (M, K, N)."""
    import numba

    dtype = np.dtype(dtype)
    P = tuple(PLANS[dtype]) if P is None else tuple(P)
    slabs = numba.get_num_threads() if slabs is None else slabs
    v, c = buffer_sizes(shapes, dtype.itemsize, P)
    return np.zeros((slabs, v), dtype), np.zeros((slabs, c), dtype)


_SCRATCH = threading.local()  # per thread: {(dtype, slabs): (Vbuf, Cbuf)} for the Python entry points


def scratch(shapes, dtype):
    """buffers(shapes, dtype), kept per calling thread and grown when too small, so that repeated
    calls of the Python entry points (matmul, products.w_a, ...) do not allocate and touch fresh
    pages for their packing buffers each time."""
    import numba

    dtype = np.dtype(dtype)
    slabs = numba.get_num_threads()
    v, c = buffer_sizes(shapes, dtype.itemsize, tuple(PLANS[dtype]))
    kept = getattr(_SCRATCH, "buffers", None)
    if kept is None:
        kept = _SCRATCH.buffers = {}
    have = kept.get((dtype, slabs))
    if have is None or have[0].shape[1] < v or have[1].shape[1] < c:
        v, c = (v, c) if have is None else (max(v, have[0].shape[1]), max(c, have[1].shape[1]))
        have = kept[(dtype, slabs)] = (np.zeros((slabs, v), dtype), np.zeros((slabs, c), dtype))
    return have
