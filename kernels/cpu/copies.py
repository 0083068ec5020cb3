"""Copies of a fixed count of entries, the micro-panels' rows and columns, for the packing
loops (gemm.pack_a, gemm.pack_b):

    copy_nr(src, s_off, dst, d_off)    dst[d_off + j] = src[s_off + j]    for j < NR
    copy_mr(src, s_off, dst, d_off)    dst[d_off + i] = src[s_off + i]    for i < MR

NR and MR are the plan's (config.py). Written as numba loops of that constant count, LLVM could
not tell that the source and the destination do not overlap and copied entry by entry (half
the speed of a copy with a count it only knows at run time, which it vectorises behind a
check); as llvm.memcpy of a constant size, which says they do not overlap, it copies in whole
vectors.
"""

import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from kernels.cpu.config import PLANS
from kernels.cpu.microkernel import data_at, int64_args


def _copy_of(field):
    @intrinsic
    def copy(typingctx, src, s_off, dst, d_off):
        sig = types.void(src, s_off, dst, d_off)

        def codegen(context, builder, sig, args):
            count = getattr(PLANS[np.dtype(str(sig.args[0].dtype))], field)
            src, s_off, dst, d_off = int64_args(context, builder, args, sig.args)
            s = data_at(context, builder, sig.args[0], src, s_off)
            d = data_at(context, builder, sig.args[2], dst, d_off)
            itemsize = context.get_abi_sizeof(context.get_data_type(sig.args[0].dtype))
            cgutils.raw_memcpy(builder, d, s, context.get_constant(types.intp, count), itemsize)
            return context.get_dummy_value()

        return sig, codegen

    return copy


copy_nr = _copy_of("NR")
copy_mr = _copy_of("MR")
