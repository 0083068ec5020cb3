"""The products below the engine's size, W A and W^T dZ, in one pass over C: a register strip of
up to 12 rows of C (the tallest of HEIGHTS that fits the registers) by the micro-kernel's NV
vectors of columns holds all of its sums while k runs over all of K.

    strips(A, B, C, accumulate)    C (M, N) (+)= A (M, K) B (K, N) by strips, B's rows read in
                                   place, nothing packed
    fits(M, K, N, accumulate, itemsize, P, S)    where products.py uses them on S threads (instead
                                   of the engine or its 4 x 8 tiles)

Per k a strip loads NV vectors of B's row k, broadcasts `rows` entries of A's column k and
issues NV x `rows` vector FMAs: NV + rows loads per NV x rows FMAs (one vector wide, a strip
of 12 rows ran at the loads' pace, 65% of the FMAs'). The 4 x 8 tiles pass over C once per 8
inputs and once more per input left over; the engine, below ENGINE_MIN_MACS, spends more on its
edges and calls than on its FMAs; a strip writes C once. It is compiled for the heights in
HEIGHTS (each a loop of its own, the one just at or above `rows` runs; rows past `rows` read
A's last row again and are not stored) and, for the columns past C's last whole NR (NV
vectors), one vector wide with masked loads and stores (lanes past `cols` are neither read nor
written). Measured in docs/performance.md.
"""

import llvmlite
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from kernels.cpu.config import JIT
from kernels.cpu.microkernel import (
    _broadcast,
    _const,
    _i1,
    _i32,
    _i64,
    _internal_function,
    _k_loop,
    _plan_of,
    _vector_fma,
)

HEIGHTS = (1, 2, 4, 8, 12, 16)
MIN_ROWS = 4  # below it the 4 x 8 and single-row tiles were as fast or faster (docs/performance.md)


def heights(P):
    """The tile heights whose NV x height sums fit the registers beside NV vectors of B and one
    broadcast of A: the micro-kernel's MR rows at most (config.plan_for)."""
    return tuple(h for h in HEIGHTS if h <= P.MR)


def _masked(module, V, load):
    """llvm.masked.load / llvm.masked.store for vectors V."""
    kind = f"v{V.count}{'f32' if V.element == ir.FloatType() else 'f64'}"
    pointer = f"p0{kind}" if llvmlite.ir_layer_typed_pointers_enabled else "p0"
    mask = ir.VectorType(_i1, V.count)
    if load:
        return cgutils.get_or_insert_function(module, ir.FunctionType(V, [V.as_pointer(), _i32, mask, V]),
                                              f"llvm.masked.load.{kind}.{pointer}")
    stored = ir.FunctionType(ir.VoidType(), [V, V.as_pointer(), _i32, mask])
    return cgutils.get_or_insert_function(module, stored, f"llvm.masked.store.{kind}.{pointer}")


def _lanes_below(builder, width, count):
    """The mask of a masked load or store of `width` lanes: lane t on where t < count (int64)."""
    I = ir.VectorType(_i64, width)
    return builder.icmp_signed("<", ir.Constant(I, list(range(width))), _broadcast(builder, I, count))


def _strip_function(module, T, LANES, height, NV, masked):
    """The strip as one LLVM function of the module, f(a, rsa, csa, rows, b, rsb, c, rsc, kc,
    cols, accumulate) (a, b, c: pointers to the tile's first entries of A, B and C):
        c[i rsc + j] (+)= sum_{k < kc} a[i rsa + k csa] b[k rsb + j]
        for i < rows <= height, j < NV LANES, or masked (NV = 1) j < cols <= LANES."""
    assert NV == 1 or not masked
    name = f"strip_{height}x{NV * LANES}_{T}_{'masked' if masked else 'full'}"
    P = T.as_pointer()
    fn, builder = _internal_function(module, name, [P, _i64, _i64, _i64, P, _i64, P, _i64, _i64, _i64, _i1])
    if builder is None:
        return fn
    a0, rsa, csa, rows, b0, rsb, c0, rsc, kc, cols, accumulate = fn.args
    V = ir.VectorType(T, LANES)
    fma = _vector_fma(module, V)
    zero, align = ir.Constant(V, None), ir.Constant(_i32, 4)
    last = builder.sub(rows, _const(1))  # rows past `rows` read A's last row (not stored)
    offsets = [builder.mul(builder.select(builder.icmp_signed("<", _const(i), rows), _const(i), last), rsa)
               for i in range(height)]
    if masked:
        load, store = _masked(module, V, True), _masked(module, V, False)
        lanes = _lanes_below(builder, LANES, cols)

    def read(p):
        return builder.call(load, [p, align, lanes, zero]) if masked else builder.load(p, align=4)

    def write(x, p):
        if masked:
            builder.call(store, [x, p, align, lanes])
        else:
            builder.store(x, p, align=4)

    def vector(p, v):  # the v-th vector of LANES entries from p
        return builder.bitcast(builder.gep(p, [_const(v * LANES)]), V.as_pointer())

    def fmas(k, acc):  # per k: NV vectors of B, `height` broadcasts of A, FMAs
        b_k = builder.gep(b0, [builder.mul(k, rsb)])
        b = [read(vector(b_k, v)) for v in range(NV)]
        a_k = builder.gep(a0, [builder.mul(k, csa)])
        a = [_broadcast(builder, V, builder.load(builder.gep(a_k, [offsets[i]]))) for i in range(height)]
        return [builder.call(fma, [a[i], b[v], acc[i * NV + v]]) for i in range(height) for v in range(NV)]

    totals = _k_loop(builder, kc, 1, [zero] * (height * NV), fmas)  # C (+)= the strip's first `rows` rows
    for iv, total in enumerate(totals):
        i, v = divmod(iv, NV)
        p = vector(builder.gep(c0, [builder.mul(_const(i), rsc)]), v)
        with builder.if_then(builder.icmp_signed("<", _const(i), rows)):
            with builder.if_else(accumulate) as (add, overwrite):
                with add:
                    write(builder.fadd(read(p), total), p)
                with overwrite:  # C = the tile: C is not read
                    write(total, p)
    builder.ret_void()
    return fn


def _product_function(module, T, P):
    """C (+)= A B as one LLVM function of the module: f(a, rsa, csa, M, K, b, rsb, N, c, rsc,
    accumulate), strips over C's rows (the tallest height at a time) and its columns (NR, then
    past C's last whole NR, LANES at a time, masked), each run by the strip of the lowest height
    at or above its rows."""
    name = f"strips_{T}_{P.LANES}"
    Tp = T.as_pointer()
    arguments = [Tp, _i64, _i64, _i64, _i64, Tp, _i64, _i64, Tp, _i64, _i1]
    fn, builder = _internal_function(module, name, arguments)
    if builder is None:
        return fn
    a0, rsa, csa, M, K, b0, rsb, N, c0, rsc, accumulate = fn.args
    hs = heights(P)
    H, L, NR = _const(hs[-1]), _const(P.LANES), _const(P.NR)
    whole = builder.mul(builder.sdiv(N, NR), NR)  # C's columns in whole NR

    def least(x, y):
        return builder.select(builder.icmp_signed("<", x, y), x, y)

    with cgutils.for_range_slice(builder, _const(0), M, H) as (i, _):
        rows = least(builder.sub(M, i), H)
        a, c_i = builder.gep(a0, [builder.mul(i, rsa)]), builder.gep(c0, [builder.mul(i, rsc)])

        def run(hs, j, cols, NV, masked):  # the lowest height >= rows
            if len(hs) > 1:
                with builder.if_else(builder.icmp_signed("<=", rows, _const(hs[0]))) as (here, higher):
                    with here:
                        run(hs[:1], j, cols, NV, masked)
                    with higher:
                        run(hs[1:], j, cols, NV, masked)
                return
            args = [a, rsa, csa, rows, builder.gep(b0, [j]), rsb, builder.gep(c_i, [j]), rsc, K,
                    cols, accumulate]
            builder.call(_strip_function(module, T, P.LANES, hs[0], NV, masked), args)

        with cgutils.for_range_slice(builder, _const(0), whole, NR) as (j, _):
            run(hs, j, NR, P.NV, False)
        with cgutils.for_range_slice(builder, whole, N, L) as (j, _):
            run(hs, j, least(builder.sub(N, j), L), 1, True)
    builder.ret_void()
    return fn


@intrinsic
def strips(typingctx, A, B, C, accumulate):
    """C (+)= A B.    A: (M, K), any strides; B: (K, N) and C: (M, N), rows contiguous (the
    caller checks: products.on_strips). Strides are read in elements; the arrays' own types
    (layouts) compile to the same call."""
    sig = types.void(A, B, C, accumulate)

    def codegen(context, builder, sig, args):
        P = _plan_of(sig.args[2])
        T = context.get_data_type(sig.args[2].dtype)
        size = _const(context.get_abi_sizeof(T))
        arrays = [context.make_array(t)(context, builder, x)
                  for t, x in zip(sig.args[:3], args[:3], strict=True)]
        (M, K), (_, N), _ = (cgutils.unpack_tuple(builder, x.shape, 2) for x in arrays)
        strides = (cgutils.unpack_tuple(builder, x.strides, 2) for x in arrays)
        (rsa, csa), (rsb, _), (rsc, _) = ([builder.sdiv(s, size) for s in x] for x in strides)
        flag = context.cast(builder, args[3], sig.args[3], types.boolean)
        a, b, c = (x.data for x in arrays)
        builder.call(_product_function(builder.module, T, P),
                     [a, rsa, csa, M, K, b, rsb, N, c, rsc, flag])
        return context.get_dummy_value()

    return sig, codegen


@njit(inline="always", **JIT)
def fits(M, K, N, accumulate, itemsize, P, S):
    """Whether C (M, N) (+)= A (M, K) B (K, N) runs on strips, given S threads: below the
    engine's size (fewer rows than MR, or fewer multiply-adds than ENGINE_MIN_MACS; on one
    thread, where the engine would not share the product out, STRIPS_MAX_MACS), from MIN_ROWS
    rows, K past 1 or C overwritten or MR rows or more (C += one input's products on fewer
    rows: the small tiles' single pass over C was faster), B within a quarter of L2 (its rows
    are read down k for every vector of columns), and rows of B and C not a whole number of L1
    ways apart (they would all fall in one set of L1)."""
    most = P.ENGINE_MIN_MACS if S > 1 else P.STRIPS_MAX_MACS
    return ((M < P.MR or M * K * N < most) and M >= MIN_ROWS
            and (K > 1 or not accumulate or M >= P.MR)
            and K * N <= P.DIRECT_B_MAX_ENTRIES and (N * itemsize) % P.L1_WAY != 0)
