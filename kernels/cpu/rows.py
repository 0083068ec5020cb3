"""One row of a rank-one product at the plan's vector width (gemm.rank_one's rows):

    scale_row(a, b, b_off, c, c_off, n, accumulate)
        c[c_off + j] (+)= a b[b_off + j]    for j < n    (b, c: arrays, offsets in entries)

The loop numba compiled from Python (c[j] = a * b[j]) ran at the 256-bit width LLVM prefers on
this machine; a row of C is only written, and the write is the product's whole cost, so the
loop here stores whole vectors of the plan's LANES (512 bits with AVX-512), the last n % LANES
entries masked (docs/performance.md has it measured).
"""

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

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
    data_at,
    int64_args,
)
from kernels.cpu.strips import _lanes_below, _masked


def _row_function(module, T, LANES):
    """f(a, b, c, n, accumulate): c[j] (+)= a b[j] for j < n, as one LLVM function."""
    name = f"scale_row_{LANES}_{T}"
    P = T.as_pointer()
    fn, builder = _internal_function(module, name, [T, P, P, _i64, _i1])
    if builder is None:
        return fn
    a, b, c, n, accumulate = fn.args
    V = ir.VectorType(T, LANES)
    fma = _vector_fma(module, V)
    av, zero, align = _broadcast(builder, V, a), ir.Constant(V, None), ir.Constant(_i32, 4)
    whole = builder.mul(builder.sdiv(n, _const(LANES)), _const(LANES))

    def vector(p):
        return builder.bitcast(p, V.as_pointer())

    def one(k, load, store):  # c[k:k+LANES] (+)= a b[k:k+LANES]
        bv = load(vector(builder.gep(b, [k])))
        pc = vector(builder.gep(c, [k]))
        with builder.if_else(accumulate) as (add, assign):
            with add:
                store(builder.call(fma, [av, bv, load(pc)]), pc)
            with assign:
                store(builder.fmul(av, bv), pc)

    def body(k, acc):
        one(k, lambda p: builder.load(p, align=4), lambda v, p: builder.store(v, p, align=4))
        return acc

    _k_loop(builder, whole, LANES, [], body)
    rest = builder.sub(n, whole)
    tail, done = fn.append_basic_block("tail"), fn.append_basic_block("row_done")
    builder.cbranch(builder.icmp_signed(">", rest, _const(0)), tail, done)
    builder.position_at_end(tail)
    inside = _lanes_below(builder, LANES, rest)
    load, store = _masked(module, V, True), _masked(module, V, False)
    one(whole, lambda p: builder.call(load, [p, align, inside, zero]),
        lambda v, p: builder.call(store, [v, p, align, inside]))
    builder.branch(done)
    builder.position_at_end(done)
    builder.ret_void()
    return fn


@intrinsic
def scale_row(typingctx, a, b, b_off, c, c_off, n, accumulate):
    """c[c_off + j] (+)= a b[b_off + j] for j < n: b and c arrays of the same float type (any
    dimensions: the offsets count entries of their memory from the first), a a scalar."""
    sig = types.void(a, b, b_off, c, c_off, n, accumulate)

    def codegen(context, builder, sig, args):
        a, b, b_off, c, c_off, n, accumulate = int64_args(context, builder, args, sig.args)
        T = context.get_data_type(sig.args[3].dtype)
        a = context.cast(builder, a, sig.args[0], sig.args[3].dtype)
        accumulate = context.cast(builder, accumulate, sig.args[6], types.boolean)
        builder.call(_row_function(builder.module, T, _plan_of(sig.args[3]).LANES),
                     [a, data_at(context, builder, sig.args[1], b, b_off),
                      data_at(context, builder, sig.args[3], c, c_off), n, accumulate])
        return context.get_dummy_value()

    return sig, codegen
