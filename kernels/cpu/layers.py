"""Layers: a network's arrays of one kind (W, b, Z, A, ...), by layer, for the fused step.

    table                               int64, 1-D: per layer l = 0..L, (address, rows, cols) of
                                        one C-contiguous 2-D array, kind after kind (step.py)
    layers(table, start, count, like)   the `count` arrays described from table[start] on, of
                                        like's dtype
    arrays[l]                           layer l's (rows, cols) array: a view, nothing copied
    len(arrays)                         count (L + 1: index 0 is a placeholder, A[0] = X)

Why not a typed List of arrays: reading an item of one is a call into numba's list code and a
reference count up and down, and a step reads dozens of them (docs/performance.md has it
measured); a Layers read is three loads from the table. The views own nothing: whoever wrote
the table keeps the arrays alive for as long as a kernel may read them (step.PreparedStep
holds them).
"""

import operator

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, overload, register_model
from numba.np.arrayobj import populate_array

ENTRY = 3  # table entries per array: address, rows, cols


class LayersType(types.Type):
    """numba's type of Layers: one per dtype, whatever the number of layers."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.array = types.Array(dtype, 2, "C")
        super().__init__(name=f"Layers({dtype})")


@register_model(LayersType)
class _LayersModel(models.StructModel):
    def __init__(self, dmm, fe_type):
        members = [("entries", types.CPointer(types.int64)), ("count", types.intp)]
        super().__init__(dmm, fe_type, members)


@intrinsic
def layers(typingctx, table, start, count, like):
    """The `count` arrays of like's dtype whose entries start at table[start]."""
    if not (isinstance(table, types.Array) and table.dtype == types.int64 and table.ndim == 1
            and table.layout == "C"):
        return None
    sig = LayersType(like.dtype)(table, start, count, like)

    def codegen(context, builder, sig, args):
        t = context.make_array(sig.args[0])(context, builder, args[0])
        out = cgutils.create_struct_proxy(sig.return_type)(context, builder)
        out.entries = builder.gep(t.data, [context.cast(builder, args[1], sig.args[1], types.intp)])
        out.count = context.cast(builder, args[2], sig.args[2], types.intp)
        return out._getvalue()

    return sig, codegen


@intrinsic
def _layer(typingctx, arrays, l):
    sig = arrays.array(arrays, l)

    def codegen(context, builder, sig, args):
        s = cgutils.create_struct_proxy(sig.args[0])(context, builder, value=args[0])
        intp = context.get_value_type(types.intp)
        entry = builder.gep(s.entries, [builder.mul(context.cast(builder, args[1], sig.args[1],
                                                                 types.intp), intp(ENTRY))])
        address, rows, cols = (builder.load(builder.gep(entry, [intp(i)])) for i in range(ENTRY))
        out = context.make_array(sig.return_type)(context, builder)
        itemsize = context.get_abi_sizeof(context.get_data_type(sig.return_type.dtype))
        populate_array(out, data=builder.inttoptr(address, out.data.type), shape=[rows, cols],
                       strides=[builder.mul(cols, intp(itemsize)), intp(itemsize)],
                       itemsize=intp(itemsize), meminfo=None)
        return out._getvalue()

    return sig, codegen


@intrinsic
def _count(typingctx, arrays):
    sig = types.intp(arrays)

    def codegen(context, builder, sig, args):
        return cgutils.create_struct_proxy(sig.args[0])(context, builder, value=args[0]).count

    return sig, codegen


@overload(operator.getitem, inline="always")
def _getitem(arrays, l):
    if isinstance(arrays, LayersType) and isinstance(l, types.Integer):
        return lambda arrays, l: _layer(arrays, l)
    return None


@overload(len, inline="always")
def _len(arrays):
    if isinstance(arrays, LayersType):
        return lambda arrays: _count(arrays)
    return None
