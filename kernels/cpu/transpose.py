"""Tiles transposed in vector registers, written as LLVM IR: the packing of an operand whose
contiguous dimension is the other one than its packed micro-panels want.

    transpose_tile(src, s_off, s_stride, dst, d_off, d_stride)
        dst[d_off + k d_stride + j] = src[s_off + j s_stride + k]    for j, k < LANES
        (gemm.pack_b of A_prev.T in dZ A^T)
    pack_rows_tile(src, s_off, s_stride, dst, d_off)
        dst[d_off + k MR + i] = src[s_off + i s_stride + k]          for i < MR, k < LANES
        (gemm.pack_a of a row-major W or dZ: LANES k's of one micro-panel of A)

Both load one vector per row along k, then run log2(LANES) rounds that interleave the low and
the high halves of vectors j and j + LANES/2 into vectors 2j and 2j + 1 (after the last round
vector k holds column k): per entry a fraction of a shuffle instead of a scalar load and store.
transpose_tile stores the LANES columns; pack_rows_tile transposes its MR rows in groups of
LANES (the last group padded with zero vectors), and since the MR x LANES entries it writes are
contiguous, it gathers them into MR whole vectors (each from the two or three columns it spans)
and stores those. LANES is the plan's vector width, MR its micro-kernel's rows (config.py).
"""

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from kernels.cpu.config import PLANS
from kernels.cpu.microkernel import data_at, int64_args

_i64, _i32 = ir.IntType(64), ir.IntType(32)


def _interleave(builder, a, b, high):
    """[a[h], b[h], a[h + 1], b[h + 1], ...] from the low (h = 0) or high (h = n/2) halves."""
    n = a.type.count
    h = n // 2 if high else 0
    mask = [x for i in range(n // 2) for x in (h + i, n + h + i)]
    return builder.shuffle_vector(a, b, ir.Constant(ir.VectorType(_i32, n), mask))


def _transpose(builder, rows):
    """The LANES vectors of a LANES x LANES tile's columns, from those of its rows."""
    lanes = len(rows)
    for _ in range(lanes.bit_length() - 1):  # log2(lanes) rounds
        half = lanes // 2
        rows = [x for j in range(half)
                for x in (_interleave(builder, rows[j], rows[j + half], False),
                          _interleave(builder, rows[j], rows[j + half], True))]
    return rows


def _gather(builder, sources, picks):
    """A vector whose entry t is sources[s][lane] for (s, lane) = picks[t]: one shuffle of two
    sources, then one more per further source."""
    n = len(picks)
    order = list(dict.fromkeys(s for s, _ in picks))
    first = order[0]
    second = order[1] if len(order) > 1 else None
    mask = [lane if s == first else n + lane if s == second else 0 for s, lane in picks]
    out = builder.shuffle_vector(sources[first], sources[second] if second is not None
                                 else ir.Constant(sources[first].type, ir.Undefined),
                                 ir.Constant(ir.VectorType(_i32, n), mask))
    for s in order[2:]:
        mask = [n + lane if src == s else t for t, (src, lane) in enumerate(picks)]
        out = builder.shuffle_vector(out, sources[s], ir.Constant(ir.VectorType(_i32, n), mask))
    return out


def _operands(context, builder, sig, args):
    """(vector type, pointer to src[s_off], s_stride, pointer to dst[d_off], the rest)."""
    lanes = PLANS[np.dtype(str(sig.args[0].dtype))].LANES
    V = ir.VectorType(context.get_data_type(sig.args[0].dtype), lanes)
    src, s_off, s_stride, dst, d_off, *rest = int64_args(context, builder, args, sig.args)
    s0 = data_at(context, builder, sig.args[0], src, s_off)
    d0 = data_at(context, builder, sig.args[3], dst, d_off)
    return V, s0, s_stride, d0, rest


def _at(builder, V, base, i, stride):
    return builder.bitcast(builder.gep(base, [builder.mul(ir.Constant(_i64, i), stride)]),
                           V.as_pointer())


@intrinsic
def transpose_tile(typingctx, src, s_off, s_stride, dst, d_off, d_stride):
    sig = types.void(src, s_off, s_stride, dst, d_off, d_stride)

    def codegen(context, builder, sig, args):
        V, s0, s_stride, d0, (d_stride,) = _operands(context, builder, sig, args)
        rows = [builder.load(_at(builder, V, s0, j, s_stride), align=4) for j in range(V.count)]
        for k, column in enumerate(_transpose(builder, rows)):
            builder.store(column, _at(builder, V, d0, k, d_stride), align=4)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def pack_rows_tile(typingctx, src, s_off, s_stride, dst, d_off):
    sig = types.void(src, s_off, s_stride, dst, d_off)

    def codegen(context, builder, sig, args):
        V, s0, s_stride, d0, _ = _operands(context, builder, sig, args)
        lanes, mr = V.count, PLANS[np.dtype(str(sig.args[0].dtype))].MR
        rows = [builder.load(_at(builder, V, s0, i, s_stride), align=4) for i in range(mr)]
        rows += [ir.Constant(V, [0.0] * lanes)] * (-mr % lanes)
        # columns[g lanes + k]: rows g lanes ... (g + 1) lanes - 1 of column k
        columns = [c for g in range(0, len(rows), lanes) for c in _transpose(builder, rows[g:g + lanes])]
        one = ir.Constant(_i64, 1)
        for v in range(mr):  # output entry e = k mr + i: row i of column k
            picks = [((e % mr) // lanes * lanes + e // mr, e % mr % lanes)
                     for e in range(v * lanes, (v + 1) * lanes)]
            builder.store(_gather(builder, columns, picks), _at(builder, V, d0, v * lanes, one),
                          align=4)
        return context.get_dummy_value()

    return sig, codegen
