"""dZ A^T below the engine's size: register tiles of dot products along m, at the plan's vector
width.

    dots(X, Y, C)    C (M, N) = X (M, K) Y (N, K)^T, C[i, j] = sum_k X[i, k] Y[j, k]; the rows of
                     X, Y and C contiguous (the caller checks: products.on_dots)

A tile of `height` rows of X (4, 2 or 1: the tallest at or below the rows left) by COLUMNS = 4
rows of Y holds height x 4 vector sums. Per LANES entries of k it loads height + 4 vectors and
issues height x 4 FMAs; the last K % LANES entries are read with masked loads (lanes past K
read as 0). After the k loop a tree of shuffles and adds turns the height x 4 vectors into their
sums (_sums), and each row of the tile is stored as one masked vector of 4 entries: columns past
`cols` (the last rows of Y) are neither stored nor read (their lanes read Y's last row again).

The 4 x 4 tile this replaces was scalar code that LLVM vectorised at 8 lanes (256-bit) on this
machine, where the plan's vectors hold 16: written as IR (like the micro-kernel and the strips)
the tile runs at the plan's width. The loops over C are IR too: Y's rows outer where X fits in
L1 (config.L1_BYTES; X is then re-read from L1 for each tile of Y), X's rows outer otherwise.
Measured in docs/performance.md.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from kernels.cpu.config import L1_BYTES
from kernels.cpu.microkernel import (
    _const,
    _i32,
    _i64,
    _internal_function,
    _itemsize,
    _k_loop,
    _plan_of,
    _vector_fma,
)
from kernels.cpu.strips import _lanes_below, _masked

HEIGHTS = (4, 2, 1)  # rows of X per tile, tallest first
COLUMNS = 4  # rows of Y per tile


def _shuffle(builder, a, b, lanes):
    return builder.shuffle_vector(a, b, ir.Constant(ir.VectorType(_i32, len(lanes)), lanes))


def _sums(builder, vectors):
    """The sum of the entries of each of the vectors (a power of two of them), in order: as
    len(vectors) / LANES vectors of LANES sums, or one vector of len(vectors) sums if fewer.

    A vector holds S sources (vectors whose sums are due) of G partial sums each, source s in
    lanes s G ... s G + G - 1 (at first S = 1, G = LANES). Each round halves G: two vectors of
    S sources become one of 2 S (the first halves of each source's partials added to the second
    halves, a's sources then b's), or, when one vector is left, it becomes one of half the
    width."""
    lanes = vectors[0].type.count
    S, G = 1, lanes
    while G > 1:
        half = G // 2
        first = [s * G + t for s in range(S) for t in range(half)]
        if len(vectors) > 1:
            first = first + [lanes + x for x in first]
            second = [x + half for x in first]
            vectors = [builder.fadd(_shuffle(builder, a, b, first), _shuffle(builder, a, b, second))
                       for a, b in zip(vectors[::2], vectors[1::2], strict=True)]
            S *= 2
        else:
            (a,) = vectors
            second = [x + half for x in first]
            vectors = [builder.fadd(_shuffle(builder, a, a, first), _shuffle(builder, a, a, second))]
            lanes //= 2
        G = half
    return vectors


def _tile_function(module, T, LANES, height):
    """The tile as one LLVM function of the module, f(x, rsx, y, rsy, cols, K, c, rsc) (x, y, c:
    pointers to the tile's first row of X, of Y and to its first entry of C):
        c[i rsc + j] = sum_{k < K} x[i rsx + k] y[j rsy + k]    for i < height, j < cols <= 4."""
    name = f"dots_{height}x{COLUMNS}x{LANES}_{T}"
    P = T.as_pointer()
    fn, builder = _internal_function(module, name, [P, _i64, P, _i64, _i64, _i64, P, _i64])
    if builder is None:
        return fn
    x0, rsx, y0, rsy, cols, K, c0, rsc = fn.args
    V = ir.VectorType(T, LANES)
    fma = _vector_fma(module, V)
    zero, align = ir.Constant(V, None), ir.Constant(_i32, 4)
    last = builder.sub(cols, _const(1))  # rows of Y past `cols` read its last row (not stored)
    xs = [builder.gep(x0, [builder.mul(_const(i), rsx)]) for i in range(height)]
    ys = [builder.gep(y0, [builder.mul(builder.select(builder.icmp_signed("<", _const(j), cols),
                                                      _const(j), last), rsy)])
          for j in range(COLUMNS)]
    whole = builder.mul(builder.sdiv(K, _const(LANES)), _const(LANES))  # k in whole vectors

    def step(acc, read, k):  # acc[i COLUMNS + j] + x_i[k:k+LANES] y_j[k:k+LANES]
        xv = [read(builder.bitcast(builder.gep(x, [k]), V.as_pointer())) for x in xs]
        yv = [read(builder.bitcast(builder.gep(y, [k]), V.as_pointer())) for y in ys]
        return [builder.call(fma, [xv[i], yv[j], acc[i * COLUMNS + j]])
                for i in range(height) for j in range(COLUMNS)]

    # k over whole vectors, then the last K % LANES entries, masked
    sums = _k_loop(builder, whole, LANES, [zero] * (height * COLUMNS),
                   lambda k, acc: step(acc, lambda p: builder.load(p, align=4), k))
    after = builder.block
    tail, summed = fn.append_basic_block("tail"), fn.append_basic_block("summed")
    rest = builder.sub(K, whole)
    builder.cbranch(builder.icmp_signed(">", rest, _const(0)), tail, summed)
    builder.position_at_end(tail)
    load = _masked(module, V, True)
    inside = _lanes_below(builder, LANES, rest)
    ended = step(sums, lambda p: builder.call(load, [p, align, inside, zero]), whole)
    builder.branch(summed)

    builder.position_at_end(summed)  # the sums, row by row into C
    totals = [builder.phi(V) for _ in sums]
    for t, s, e in zip(totals, sums, ended, strict=True):
        t.add_incoming(s, after)
        t.add_incoming(e, tail)
    out = _sums(builder, totals)
    width = out[0].type.count  # a multiple of COLUMNS: each row of the tile in one vector
    W = ir.VectorType(T, COLUMNS)
    store = _masked(module, W, False)
    stored = _lanes_below(builder, COLUMNS, cols)
    for i in range(height):
        v, lane = divmod(i * COLUMNS, width)
        row = _shuffle(builder, out[v], out[v], list(range(lane, lane + COLUMNS)))
        p = builder.bitcast(builder.gep(c0, [builder.mul(_const(i), rsc)]), W.as_pointer())
        builder.call(store, [row, p, align, stored])
    builder.ret_void()
    return fn


def _product_function(module, T, P):
    """C = X Y^T as one LLVM function of the module: f(x, rsx, M, K, y, rsy, N, c, rsc), tiles
    of the tallest height first (4 rows at a time, then 2, then 1 for the rows left), COLUMNS
    rows of Y at a time; over Y's rows outside X's where X fits in L1, else the other way."""
    name = f"dots_{T}_{P.LANES}"
    Tp = T.as_pointer()
    fn, builder = _internal_function(module, name, [Tp, _i64, _i64, _i64, Tp, _i64, _i64, Tp, _i64])
    if builder is None:
        return fn
    x0, rsx, M, K, y0, rsy, N, c0, rsc = fn.args
    C4 = _const(COLUMNS)

    def tile(height, i, j):
        left = builder.sub(N, j)
        cols = builder.select(builder.icmp_signed("<", left, C4), left, C4)
        builder.call(_tile_function(module, T, P.LANES, height),
                     [builder.gep(x0, [builder.mul(i, rsx)]), rsx,
                      builder.gep(y0, [builder.mul(j, rsy)]), rsy, cols, K,
                      builder.gep(c0, [builder.add(builder.mul(i, rsc), j)]), rsc])

    def over_rows(body):  # body(height, i) for each tile of rows, tallest first
        start = _const(0)
        for height in HEIGHTS:
            h = _const(height)
            end = builder.add(start, builder.mul(builder.sdiv(builder.sub(M, start), h), h))
            with cgutils.for_range_slice(builder, start, end, h) as (i, _):
                body(height, i)
            start = end

    def over_columns(body):  # body(j) for each tile of COLUMNS rows of Y
        with cgutils.for_range_slice(builder, _const(0), N, C4) as (j, _):
            body(j)

    # X re-read for each tile of Y's rows where X fits in L1, else Y for each tile of X's rows
    x_bytes = builder.mul(builder.mul(M, K), _const(_itemsize(T)))
    with builder.if_else(builder.icmp_signed("<=", x_bytes, _const(L1_BYTES))) as (x_in_l1, y_again):
        with x_in_l1:
            over_columns(lambda j: over_rows(lambda height, i: tile(height, i, j)))
        with y_again:
            over_rows(lambda height, i: over_columns(lambda j: tile(height, i, j)))
    builder.ret_void()
    return fn


@intrinsic
def dots(typingctx, X, Y, C):
    """C = X Y^T.    X: (M, K), Y: (N, K), C: (M, N), rows contiguous (the caller checks).
    Row strides are read in elements; the arrays' own types (layouts) compile to the same call."""
    sig = types.void(X, Y, C)

    def codegen(context, builder, sig, args):
        P = _plan_of(sig.args[2])
        T = context.get_data_type(sig.args[2].dtype)
        size = _const(context.get_abi_sizeof(T))
        arrays = [context.make_array(t)(context, builder, a) for t, a in zip(sig.args, args, strict=True)]
        (M, K), (N, _), _ = (cgutils.unpack_tuple(builder, a.shape, 2) for a in arrays)
        rsx, rsy, rsc = (builder.sdiv(cgutils.unpack_tuple(builder, a.strides, 2)[0], size)
                         for a in arrays)
        x, y, c = (a.data for a in arrays)
        builder.call(_product_function(builder.module, T, P), [x, rsx, M, K, y, rsy, N, c, rsc])
        return context.get_dummy_value()

    return sig, codegen
