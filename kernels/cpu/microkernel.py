"""The engine's micro-kernel, written as LLVM IR: an MR x NR tile of C in vector registers.

    micro_kernel(A, a_off, rsa, csa, B, b_off, rsb, C, c_off, rsc, kc, accumulate)
        C[c_off + i rsc + j] (+)= sum_{k < kc} A[a_off + i rsa + k csa] B[b_off + k rsb + j]
        for i < MR, j < NR (flat element offsets into the arrays' data; B's NR entries of each
        k contiguous: packed, rsb = NR, or rows of a row-major B read in place; B may be given
        by the address of its data, an integer, as gemm._macro_kernel does)
    micro_kernel_packed(...)   the same with A packed (rsa = 1, csa = MR as constants)
    micro_kernel_packed_edge(rows, ...)   the tile's first rows only (a few more than `rows`,
                               edge_rows), A packed, C = the tile: the last rows of C, via scratch
    fma_peak(n, x)             the same MR x NV vector FMAs n times on registers alone: the
                               machine's FMA ceiling, measured by bench/peak.py

Per k the tile loads NV vectors of packed B, broadcasts MR entries of A and issues MR x NV
vector FMAs (MR rows of NV vectors of LANES entries). As IR (an @intrinsic) the vector width is
the plan's (config.py), whatever width LLVM's vectoriser prefers on this machine. The loops
around it, and the packing, are gemm.py's: BLIS keeps its micro-kernels apart from its
framework in the same way.
"""

import llvmlite
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from kernels.cpu.config import LINE, PLANS

_i64, _i32, _i1 = ir.IntType(64), ir.IntType(32), ir.IntType(1)
# k's ahead that the micro-kernel asks for B's row (2 KiB of packed B in either dtype): the
# hardware's prefetchers alone left the micro-kernel 2-4% slower (docs/performance.md)
B_AHEAD = 16


def _vector_fma(module, V):
    kind = "f32" if V.element == ir.FloatType() else "f64"
    return cgutils.get_or_insert_function(module, ir.FunctionType(V, [V, V, V]),
                                          f"llvm.fma.v{V.count}{kind}")


def _const(x):
    return ir.Constant(_i64, x)


def _broadcast(builder, V, x):
    """A vector of V's width with every entry x."""
    one = builder.insert_element(ir.Constant(V, ir.Undefined), x, ir.Constant(_i32, 0))
    return builder.shuffle_vector(one, ir.Constant(V, ir.Undefined),
                                  ir.Constant(ir.VectorType(_i32, V.count), [0] * V.count))


def _prefetch(builder, p, write):
    """Ask for the cache line at pointer p into L1 (llvm.prefetch, locality 3: a hint, which
    cannot fault, so p may lie past the array's end)."""
    i8p = ir.IntType(8).as_pointer()
    prefetch = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [i8p] + [_i32] * 3),
        "llvm.prefetch.p0i8" if llvmlite.ir_layer_typed_pointers_enabled else "llvm.prefetch.p0")
    builder.call(prefetch, [builder.bitcast(p, i8p)] + [ir.Constant(_i32, x) for x in (int(write), 3, 1)])


def _itemsize(T):
    """Bytes per entry of the IR float type T (float32 or float64)."""
    return 4 if T == ir.FloatType() else 8


def _per_line(T):
    return LINE // _itemsize(T)


def _prefetch_for_writing(builder, c0, rsc, T, MR, width):
    """Ask for the C tile's lines (MR rows of `width` entries) now: they arrive during the loop."""
    for i in range(MR):
        row = builder.gep(c0, [builder.mul(_const(i), rsc)])
        for e in range(0, width, _per_line(T)):
            _prefetch(builder, builder.gep(row, [_const(e)]), write=True)


def _internal_function(module, name, arguments):
    """(The void function `name` of the module, None) where it is defined already; else (a new
    one, internal, taking `arguments`, and a builder at its entry block)."""
    fn = module.globals.get(name)
    if fn is not None:
        return fn, None
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), arguments), name)
    fn.linkage = "internal"
    return fn, ir.IRBuilder(fn.append_basic_block("entry"))


def _k_loop(builder, count, step, zeros, body):
    """The k loop of a register tile (the micro-kernel's, a strip's, a tile of dots): for k = 0,
    step, ... while k < count, acc = body(k, acc) from acc = zeros (a list of vectors), the
    sums as phi nodes of a block "loop". Returns the sums after it (zeros when count <= 0), the
    builder at the start of a block "done" that follows."""
    fn = builder.function
    entry = builder.block
    loop = fn.append_basic_block("loop")
    done = fn.append_basic_block("done")
    builder.cbranch(builder.icmp_signed(">", count, _const(0)), loop, done)

    builder.position_at_end(loop)
    k = builder.phi(_i64)
    acc = [builder.phi(z.type) for z in zeros]
    new = body(k, acc)
    latch = builder.block
    k_next = builder.add(k, _const(step))
    k.add_incoming(_const(0), entry)
    k.add_incoming(k_next, latch)
    for a, z, n in zip(acc, zeros, new, strict=True):
        a.add_incoming(z, entry)
        a.add_incoming(n, latch)
    builder.cbranch(builder.icmp_signed("<", k_next, count), loop, done)

    builder.position_at_end(done)
    sums = [builder.phi(z.type) for z in zeros]
    for t, z, n in zip(sums, zeros, new, strict=True):
        t.add_incoming(z, entry)
        t.add_incoming(n, latch)
    return sums


def _micro_kernel_function(module, T, MR, NV, LANES, packed_a, rows=None):
    """The micro-kernel as one LLVM function of the module (defined once, called per tile):
    f(a, rsa, csa, b, rsb, c, rsc, kc, accumulate), pointers to the first entries of the A and
    B micro-panels and of the C tile. With rows < MR, the tile's first `rows` rows only (an edge
    of C: its FMAs and stores scale with the rows; packed A keeps its MR entries per k)."""
    rows = MR if rows is None else rows
    name = f"micro_kernel_{rows}of{MR}x{NV}x{LANES}_{T}_{'packed' if packed_a else 'strided'}"
    P = T.as_pointer()
    fn, builder = _internal_function(module, name, [P, _i64, _i64, P, _i64, P, _i64, _i64, _i1])
    if builder is None:
        return fn
    a0, rsa, csa, b0, rsb, c0, rsc, kc, accumulate = fn.args
    V = ir.VectorType(T, LANES)
    fma = _vector_fma(builder.module, V)
    # where row i of the A micro-panel is: packed, i (then k steps by MR); else i * rsa
    offsets = [_const(i) if packed_a else builder.mul(_const(i), rsa) for i in range(rows)]
    k_step = _const(MR) if packed_a else csa
    zero = ir.Constant(V, None)
    _prefetch_for_writing(builder, c0, rsc, T, rows, NV * LANES)

    def fmas(k, acc):  # per k: NV loads of B, `rows` broadcasts of A, rows x NV FMAs
        b_k = builder.gep(b0, [builder.mul(k, rsb)])  # NR entries of B per k, rsb apart
        ahead = builder.gep(b0, [builder.mul(builder.add(k, _const(B_AHEAD)), rsb)])
        for e in range(0, NV * LANES, _per_line(T)):  # B's row B_AHEAD k's on, into L1
            _prefetch(builder, builder.gep(ahead, [_const(e)]), write=False)
        b = [builder.load(builder.bitcast(builder.gep(b_k, [_const(v * LANES)]), V.as_pointer()),
                          align=4) for v in range(NV)]
        a_k = builder.gep(a0, [builder.mul(k, k_step)])
        new = []
        for i in range(rows):
            a = _broadcast(builder, V, builder.load(builder.gep(a_k, [offsets[i]])))
            new += [builder.call(fma, [a, b[v], acc[i * NV + v]]) for v in range(NV)]
        return new

    sums = _k_loop(builder, kc, 1, [zero] * (rows * NV), fmas)  # C (+)= the tile, after it
    total = [sums[i * NV:(i + 1) * NV] for i in range(rows)]
    pointers = [[builder.bitcast(builder.gep(builder.gep(c0, [builder.mul(_const(i), rsc)]),
                                             [_const(v * LANES)]), V.as_pointer())
                 for v in range(NV)] for i in range(rows)]
    add = fn.append_basic_block("add")
    store = fn.append_basic_block("store")
    builder.cbranch(accumulate, add, store)
    builder.position_at_end(add)  # C += the tile
    for i in range(rows):
        for v in range(NV):
            p = pointers[i][v]
            builder.store(builder.fadd(builder.load(p, align=4), total[i][v]), p, align=4)
    builder.ret_void()
    builder.position_at_end(store)  # C = the tile: C is not read
    for i in range(rows):
        for v in range(NV):
            builder.store(total[i][v], pointers[i][v], align=4)
    builder.ret_void()
    return fn


def _plan_of(array_type):
    return PLANS[np.dtype(str(array_type.dtype))]


def int64_args(context, builder, values, types_):
    """An intrinsic's argument values, the integers among them cast to int64 (the intrinsics
    of the micro-kernel, transpose.py and copies.py take offsets and strides of any int type)."""
    return [context.cast(builder, v, t, types.int64) if isinstance(t, types.Integer) else v
            for v, t in zip(values, types_, strict=True)]


def data_at(context, builder, array_type, array, offset):
    """A pointer to entry `offset` (a flat element offset, int64) of an array's data."""
    return builder.gep(context.make_array(array_type)(context, builder, array).data, [offset])


def _tile_args(context, builder, sig, args, first):
    """The micro-kernel function's (a, rsa, csa, b, rsb, c, rsc, kc) from an intrinsic's
    A, a_off, rsa, csa, B, b_off, rsb, C, c_off, rsc, kc at args[first:]: each array's data
    pointer (or B's address) at its offset, the integers as int64."""
    types_ = sig.args[first:first + 11]
    A, a_off, rsa, csa, B, b_off, rsb, C, c_off, rsc, kc = int64_args(
        context, builder, args[first:first + 11], types_)

    def at(i, array, offset):
        if isinstance(types_[i], types.Integer):  # B by its address (gemm._macro_kernel)
            data = builder.inttoptr(array, context.get_data_type(types_[0].dtype).as_pointer())
            return builder.gep(data, [offset])
        return data_at(context, builder, types_[i], array, offset)

    return [at(0, A, a_off), rsa, csa, at(4, B, b_off), rsb, at(7, C, c_off), rsc, kc]


def _micro_kernel_intrinsic(packed_a):
    def typer(typingctx, A, a_off, rsa, csa, B, b_off, rsb, C, c_off, rsc, kc, accumulate):
        sig = types.void(A, a_off, rsa, csa, B, b_off, rsb, C, c_off, rsc, kc, accumulate)

        def codegen(context, builder, sig, args):
            plan = _plan_of(sig.args[0])
            T = context.get_data_type(sig.args[0].dtype)
            fn = _micro_kernel_function(builder.module, T, plan.MR, plan.NV, plan.LANES, packed_a)
            flag = context.cast(builder, args[11], sig.args[11], types.boolean)
            builder.call(fn, _tile_args(context, builder, sig, args, 0) + [flag])
            return context.get_dummy_value()

        return sig, codegen
    return intrinsic(typer)


micro_kernel = _micro_kernel_intrinsic(packed_a=False)
micro_kernel_packed = _micro_kernel_intrinsic(packed_a=True)


@intrinsic
def fma_peak(typingctx, n, x):
    """x[0:NV+1 vectors] in, then n times the micro-kernel's MR x NV vector FMAs on registers
    (acc[i][v] = a b[v] + acc[i][v]: MR x NV independent chains, one broadcast a and NV vectors
    b held in registers, no load or store in the loop); the sum of the accumulators is stored to
    x's first vector, so the loop cannot be dropped. 2 x LANES x MR x NV x n floating-point
    operations."""
    sig = types.void(n, x)

    def codegen(context, builder, sig, args):
        plan = _plan_of(sig.args[1])
        T = context.get_data_type(sig.args[1].dtype)
        V = ir.VectorType(T, plan.LANES)
        fma = _vector_fma(builder.module, V)
        count = context.cast(builder, args[0], sig.args[0], types.int64)
        p = builder.bitcast(context.make_array(sig.args[1])(context, builder, args[1]).data,
                            V.as_pointer())
        a = _broadcast(builder, V, builder.extract_element(builder.load(p, align=4),
                                                           ir.Constant(_i32, 0)))
        b = [builder.load(builder.gep(p, [_const(1 + v)]), align=4) for v in range(plan.NV)]
        chains = plan.MR * plan.NV
        total = _k_loop(builder, count, 1, [ir.Constant(V, None)] * chains,
                        lambda k, acc: [builder.call(fma, [a, b[j % plan.NV], acc[j]])
                                        for j in range(chains)])
        s = total[0]
        for t in total[1:]:
            s = builder.fadd(s, t)
        builder.store(s, p, align=4)
        return context.get_dummy_value()

    return sig, codegen


def edge_rows(MR):
    """The row counts of the edge micro-kernels: a quarter, a half and three quarters of MR (3,
    7 and 10 for MR = 14). An edge of mr < MR rows runs the least of them >= mr (or MR): a few
    functions: one per row count would add seconds to the engine's first compile
    (docs/performance.md)."""
    return sorted({r for r in (MR // 4, MR // 2, 3 * MR // 4) if 0 < r < MR})


@intrinsic
def micro_kernel_packed_edge(typingctx, rows, A, a_off, rsa, csa, B, b_off, rsb, C, c_off, rsc, kc):
    """C[c_off + i rsc + j] = the tile's row i, for i below the least of edge_rows(MR) (or MR)
    that is >= rows (1 <= rows < MR), with A packed: the rows past `rows` are the packed
    panel's zero padding, so C here is a tile of scratch (gemm._macro_kernel's T), not C."""
    sig = types.void(rows, A, a_off, rsa, csa, B, b_off, rsb, C, c_off, rsc, kc)

    def codegen(context, builder, sig, args):
        plan = _plan_of(sig.args[1])
        T = context.get_data_type(sig.args[1].dtype)
        rows = context.cast(builder, args[0], sig.args[0], types.int64)
        call_args = _tile_args(context, builder, sig, args, 1) + [ir.Constant(_i1, 0)]
        done = builder.append_basic_block("edge_done")
        switch = builder.switch(rows, done)
        variants = edge_rows(plan.MR) + [plan.MR]
        for r in variants:
            block = builder.append_basic_block(f"edge_{r}")
            low = max([0] + [v for v in variants if v < r])  # rows low + 1 ... r run this one
            for mr in range(low + 1, r + 1):
                switch.add_case(_const(mr), block)
            builder.position_at_end(block)
            fn = _micro_kernel_function(builder.module, T, plan.MR, plan.NV, plan.LANES, True, r)
            builder.call(fn, call_args)
            builder.branch(done)
        builder.position_at_end(done)
        return context.get_dummy_value()

    return sig, codegen
