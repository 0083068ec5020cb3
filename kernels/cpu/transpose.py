"""A square tile transposed in vector registers, written as LLVM IR: the packing of an operand
whose contiguous dimension is the other one than its packed micro-panels want (gemm.pack_b of
A_prev.T in dZ A^T).

    transpose_tile(src, s_off, s_stride, dst, d_off, d_stride)
        dst[d_off + k d_stride + j] = src[s_off + j s_stride + k]    for j, k < LANES

LANES vector loads (one per j, along k), then log2(LANES) rounds that interleave the low and the
high halves of vectors j and j + LANES/2 into vectors 2j and 2j + 1 (after the last round vector
k holds column k), then LANES vector stores: per entry a fraction of a shuffle instead of a
scalar load and store. LANES is the plan's vector width (config.py).
"""

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from kernels.cpu.config import PLANS

_i64, _i32 = ir.IntType(64), ir.IntType(32)


def _interleave(builder, a, b, high):
    """[a[h], b[h], a[h + 1], b[h + 1], ...] from the low (h = 0) or high (h = n/2) halves."""
    n = a.type.count
    h = n // 2 if high else 0
    mask = [x for i in range(n // 2) for x in (h + i, n + h + i)]
    return builder.shuffle_vector(a, b, ir.Constant(ir.VectorType(_i32, n), mask))


@intrinsic
def transpose_tile(typingctx, src, s_off, s_stride, dst, d_off, d_stride):
    sig = types.void(src, s_off, s_stride, dst, d_off, d_stride)

    def codegen(context, builder, sig, args):
        lanes = PLANS[np.dtype(str(sig.args[0].dtype))].LANES
        T = context.get_data_type(sig.args[0].dtype)
        V = ir.VectorType(T, lanes)
        src, s_off, s_stride, dst, d_off, d_stride = [
            context.cast(builder, v, t, types.int64) if isinstance(t, types.Integer) else v
            for v, t in zip(args, sig.args, strict=True)]
        s0 = builder.gep(context.make_array(sig.args[0])(context, builder, src).data, [s_off])
        d0 = builder.gep(context.make_array(sig.args[3])(context, builder, dst).data, [d_off])

        def at(base, i, stride):
            return builder.bitcast(builder.gep(base, [builder.mul(ir.Constant(_i64, i), stride)]),
                                   V.as_pointer())

        rows = [builder.load(at(s0, j, s_stride), align=4) for j in range(lanes)]
        for _ in range(lanes.bit_length() - 1):  # log2(lanes) rounds
            half = lanes // 2
            rows = [x for j in range(half)
                    for x in (_interleave(builder, rows[j], rows[j + half], False),
                              _interleave(builder, rows[j], rows[j + half], True))]
        for k in range(lanes):
            builder.store(rows[k], at(d0, k, d_stride), align=4)
        return context.get_dummy_value()

    return sig, codegen
