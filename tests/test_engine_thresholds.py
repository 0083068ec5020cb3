"""Network-level parity with torch across every size at which kernels.cpu's products change
course (issue 18, item 2): the engine's threshold in multiply-adds, its micro-tile's rows and
columns, its block sizes, its packing and threading thresholds, and the small tiles' edges below
it. For each threshold and each side of it, hypothesis draws a network in which one of a layer's
three products (W A, dZ A^T or W^T dZ) lands just there, with nonzero biases, any activation and
cost, float32 or float64; forward, cost, backward and the fused train_step must equal torch's.

The sizes are read from the code by engine_thresholds() alone, so the cases follow the plan on
any machine and after the engine changes.
"""

import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.cpu import config, dots, gemm, products, strips
from tests.conftest import apart, examples, load_path
from tests.test_network import COMBOS, assert_step_is_torchs, make_problem, torch_cost, torch_forward
from tests.torch_compare import TOLERANCES, assert_close, check_against_torch


def engine_thresholds(dtype):
    """name -> (size, the dimension of a product C (M, N) = A (M, K) B (K, N) it bounds: "MACS"
    for M K N, or "M", "K", "N"), every size at which kernels.cpu's products change course for
    dtype. The one place that knows the engine's names; on main:

        config.PLANS[dtype]   ENGINE_MIN_MACS (small tiles below, the engine from there on;
                              below it too from 2 MR rows, where the small tiles would pass
                              over C more often: dZ A^T at any K, W A and W^T dZ when K leaves
                              inputs over past one tile; with K = 1 gemm.rank_one, which
                              packs nothing),
                              MR, NR (the micro-tile; fewer rows or columns: small tiles),
                              KC, MC, NB, NC (the blocks of K, M, N), PACK_A_MIN_MACS (A packed from
                              there on, with at least PACK_A_MIN_N columns per thread: threads x
                              PACK_A_MIN_N on every thread), PARALLEL_MIN_MACS (every thread
                              from there on)
        products.tile_4x8, dots.dots   the small tiles: 4 rows x TILE_INPUTS = 8 inputs
                              (W A, W^T dZ), tiles of dots.COLUMNS = 4 dot products (dZ A^T)
        strips.fits           W A and W^T dZ below the engine's size (fewer rows than MR or
                              multiply-adds than ENGINE_MIN_MACS) on strips instead of the
                              small tiles or the engine: from MIN_ROWS rows, K past 1 (W A on
                              fewer rows than MR; W^T dZ from K = 1), K N within
                              DIRECT_B_MAX_ENTRIES, rows not one L1 way (L1_WAY) apart;
                              on one thread up to STRIPS_MAX_MACS multiply-adds, from MR rows
    """
    P = config.PLANS[np.dtype(dtype)]
    tile_rows, tile_inputs = 4, products.TILE_INPUTS
    assert callable(products.tile_4x8) and callable(dots.dots), "the small tiles were renamed"
    return {
        "ENGINE_MIN_MACS": (P.ENGINE_MIN_MACS, "MACS"),
        "PARALLEL_MIN_MACS": (P.PARALLEL_MIN_MACS, "MACS"),
        "PACK_A_MIN_MACS": (P.PACK_A_MIN_MACS, "MACS"),
        "PACK_A_MIN_N": (P.PACK_A_MIN_N, "N"),
        "PACK_A_MIN_N on every thread": (numba.get_num_threads() * P.PACK_A_MIN_N, "N"),
        "MR": (P.MR, "M"),
        "dot rows below ENGINE_MIN_MACS": (2 * P.MR, "M"),
        "tile rows below ENGINE_MIN_MACS": (2 * P.MR, "M"),
        "tile inputs left over at 2 MR rows": (tile_inputs, "K"),
        "one tile of inputs at 2 MR rows": (tile_inputs, "K"),
        "K past rank one": (2, "K"),
        "NR": (P.NR, "N"),
        "KC": (P.KC, "K"),
        "MC": (P.MC, "M"),
        "NC": (P.NC, "N"),
        "NB": (P.NB, "N"),
        "small tile rows": (tile_rows, "M"),
        "small tile inputs": (tile_inputs, "K"),
        "small dot columns": (dots.COLUMNS, "N"),
        "strips: fewest rows": (strips.MIN_ROWS, "M"),
        "strips: ENGINE_MIN_MACS": (P.ENGINE_MIN_MACS, "MACS"),
        "strips: STRIPS_MAX_MACS on one thread": (P.STRIPS_MAX_MACS, "MACS"),
        "strips: W A's K past 1": (2, "K"),
        "strips: B within DIRECT_B_MAX_ENTRIES": (P.DIRECT_B_MAX_ENTRIES, "KN"),
        "strips: rows one L1 way apart": (P.L1_WAY // np.dtype(dtype).itemsize, "N"),
    }


def shared_by_threads(M, K, N, t):
    """Whether a W A of this size would be shared among threads (products.shared_out): fewer
    rows than MR and PARALLEL_MIN_MACS multiply-adds."""
    return M < t["MR"][0] and M * K * N >= t["PARALLEL_MIN_MACS"][0]


def takes_the_engine(M, K, N, dtype, kind, threads):
    """Whether kernels.cpu runs C (M, N) = A (M, K) B (K, N), a product of `kind`, on the engine
    (else its small tiles), and on a second thread too: the rule of products.small and
    gemm.product, from the sizes above. A W A with fewer rows than MR and at least
    PARALLEL_MIN_MACS multiply-adds is shared among the threads instead (products.shared_out:
    wa_inputs, each thread summing into its own row of Vbuf; dZ A^T's dots_columns use no
    buffer), which the buffers show as the engine on every thread."""
    t = engine_thresholds(dtype)
    macs, MR, NR = M * K * N, t["MR"][0], t["NR"][0]
    if kind == "W A" and threads > 1 and shared_by_threads(M, K, N, t):
        return True, True
    if K < t["K past rank one"][0]:  # gemm.rank_one, or the small tiles: no buffers either way
        return False, False
    inputs = t["small tile inputs"][0]
    if kind == "dZ A^T":
        rows = t["dot rows below ENGINE_MIN_MACS"][0]
    else:  # the 4 x 8 tiles pass over C once more per input left over past one tile
        rows = t["tile rows below ENGINE_MIN_MACS"][0] if K > inputs and K % inputs else math.inf
    engine = M >= MR and N >= NR and (macs >= t["ENGINE_MIN_MACS"][0] or M >= rows)
    two_tiles = M > MR or N > NR  # a product of one micro-tile leaves a second thread nothing
    return engine, engine and macs >= t["PARALLEL_MIN_MACS"][0] and two_tiles


SMALL = ("small tile rows", "small tile inputs", "small dot columns")
# below ENGINE_MIN_MACS, from two micro-panels of rows on: the engine where the small tiles pass
# over C more often
SMALL_ON_THE_ENGINE = ("dot rows below ENGINE_MIN_MACS", "tile rows below ENGINE_MIN_MACS",
                       "tile inputs left over at 2 MR rows", "one tile of inputs at 2 MR rows")
# below the engine's size, strips for W A and W^T dZ (strips.fits): the sizes at which they start
# and stop; "below" is the side on which the size is one short (or, for the L1 way, one off), or
# within ENGINE_MIN_MACS or DIRECT_B_MAX_ENTRIES
STRIPS = ("strips: fewest rows", "strips: ENGINE_MIN_MACS", "strips: STRIPS_MAX_MACS on one thread",
          "strips: W A's K past 1", "strips: B within DIRECT_B_MAX_ENTRIES", "strips: rows one L1 way apart")
# thresholds that only one thread sees: the networks across them run with numba on one thread
ONE_THREAD = ("strips: STRIPS_MAX_MACS on one thread",)
# the product each small-tile edge belongs to
SMALL_KINDS = {"small tile rows": ("W A", "dZ A^T", "W^T dZ"), "small tile inputs": ("W A", "W^T dZ"),
               "dot rows below ENGINE_MIN_MACS": ("dZ A^T",),
               "tile rows below ENGINE_MIN_MACS": ("W A", "W^T dZ"),
               "tile inputs left over at 2 MR rows": ("W A", "W^T dZ"),
               "one tile of inputs at 2 MR rows": ("W A", "W^T dZ"),
               "small dot columns": ("dZ A^T",),
               **{name: ("W A", "W^T dZ") for name in STRIPS},
               "strips: W A's K past 1": ("W A",)}
KINDS = ("W A", "dZ A^T", "W^T dZ")


def exactly_at(size):
    """Whether a product of M K N = size exactly can be drawn with M, N past the micro-tile: a
    power of two, as every multiply-add threshold of the plan is."""
    return size & (size - 1) == 0 and size >= 1 << 16


@st.composite
def product_at(draw, name, side, dtype):
    """(M, K, N) of a product on `side` ("below" or "at") of the threshold `name`: a size of one
    less or just enough (multiply-adds, micro-tile), exactly one block or one entry more (KC,
    MC, NC), an edge left over or none (the small tiles); past every other reason to skip the
    engine, but for the small tiles', which lie below it."""
    t = engine_thresholds(dtype)
    size, dim = t[name]
    E = t["ENGINE_MIN_MACS"][0]
    MR, NR = t["MR"][0], t["NR"][0]
    if name in SMALL:  # below the engine: small sizes, with or without an edge
        q = draw(st.integers(1, 3))
        edge = size * q + draw(st.integers(1, size - 1)) if side == "below" else size * q
        M, K, N = (draw(st.integers(1, 13)) for _ in range(3))
        M, K, N = {"M": (edge, K, N), "K": (M, edge, N), "N": (M, K, edge)}[dim]
        assert M * K * N < E
        return M, K, N
    if name in STRIPS:  # past the strips' other conditions (ENGINE_MIN_MACS too: its B must stay
        return draw(strips_at(name, side, dtype))  # within DIRECT_B_MAX_ENTRIES, a quarter of L2)
    if dim == "MACS" and side == "below" and size <= E:  # a threshold at or below the engine's
        # (PARALLEL_MIN_MACS = ENGINE_MIN_MACS): one on the engine all the same, 2 MR rows or
        # more and K leaving inputs over past one tile (every kind takes the engine there)
        inputs = t["small tile inputs"][0]
        M, N = draw(st.integers(2 * MR, 3 * MR)), draw(st.integers(NR, 2 * NR))
        K = (size - 1) // (M * N)
        K -= K % inputs == 0
        assert K > inputs and K % inputs, (M, K, N)
        return M, K, N
    if dim == "MACS":  # M, N at least the micro-tile's; K brings M K N to just below or to size
        if side == "at" and exactly_at(size):  # powers of two: M K N = size exactly, where
            least_m, least_n = (MR, NR) if size < (1 << 24) else (512, 512)  # >= and > differ
            M = (1 << math.ceil(math.log2(least_m))) << draw(st.integers(0, 1))
            N = (1 << math.ceil(math.log2(least_n))) << draw(st.integers(0, 1))
            return M, size // (M * N), N
        M = draw(st.integers(MR, 2 * MR)) if size < (1 << 24) else draw(st.integers(600, 700))
        N = draw(st.integers(NR, 2 * NR)) if size < (1 << 24) else draw(st.integers(600, 700))
        K = (size - 1) // (M * N) if side == "below" else math.ceil(size / (M * N))
        return M, K, N
    if name in SMALL_ON_THE_ENGINE:  # small products a row short of 2 MR or not; or at 2 MR,
        inputs = t["small tile inputs"][0]  # K in whole tiles (or in one) or not
        whole = inputs * draw(st.integers(1, 3))
        left_over = inputs * draw(st.integers(1, 3)) + draw(st.integers(1, inputs - 1))
        if name == "tile inputs left over at 2 MR rows":
            M, K = 2 * MR, whole if side == "below" else left_over
        elif name == "one tile of inputs at 2 MR rows":
            M, K = 2 * MR, draw(st.integers(1, inputs)) if side == "below" else inputs + (
                draw(st.integers(1, inputs - 1)))
        else:  # dZ A^T's K: one the 4 x 8 tiles would keep, so only the dot rule moves it
            M = size - 1 if side == "below" else size
            K = whole if name.startswith("dot") else left_over
        N = draw(st.integers(NR, 2 * NR))
        assert M * K * N < E
        return M, K, N
    if name == "K past rank one":  # K = 1 or 2, past the engine's other thresholds
        M, N = draw(st.integers(725, 1100)), draw(st.integers(725, 1100))  # M N >= 2^19; threads or not
        return M, size - 1 if side == "below" else size, N
    if name.startswith("PACK_A_MIN_N"):  # columns one short of packing A, or just enough, past its MACS
        N = size - 1 if side == "below" else size
        M = draw(st.integers(600, 700))
        return M, math.ceil(t["PACK_A_MIN_MACS"][0] / (M * N)) + draw(st.integers(0, 3)), N
    if name in ("MR", "NR"):  # the micro-tile's rows or columns: one short, or just enough
        at = size - 1 if side == "below" else size
    else:  # a block (KC, MC, NC): exactly one, or one entry into a second
        at = size if side == "below" else size + 1
    M = at if dim == "M" else draw(st.integers(MR, 2 * MR))
    N = at if dim == "N" else draw(st.integers(NR, 2 * NR))
    K = at if dim == "K" else max(2, math.ceil(E / (M * N))) + draw(st.integers(0, 3))
    N = max(N, math.ceil(E / (M * K)))  # the engine by multiply-adds, whatever the other sizes
    return M, K, N


@st.composite
def strips_at(draw, name, side, dtype):
    """(M, K, N) on `side` of one of the strips' conditions, within all the others."""
    t = engine_thresholds(dtype)
    size, _ = t[name]
    MR, LANES = t["MR"][0], config.PLANS[np.dtype(dtype)].LANES
    fewest, way = t["strips: fewest rows"][0], t["strips: rows one L1 way apart"][0]
    M = draw(st.integers(fewest, 4 * MR))
    K, N = draw(st.integers(2, 30)), draw(st.integers(1, 3 * LANES))
    if name == "strips: fewest rows":
        M = size - 1 if side == "below" else size
    elif name == "strips: W A's K past 1":  # on fewer rows than MR (from MR rows at any K)
        M, K = draw(st.integers(fewest, MR - 1)), size - 1 if side == "below" else size
    elif name in ("strips: ENGINE_MIN_MACS", "strips: STRIPS_MAX_MACS on one thread"):
        # M K N one column short of it, or exactly it
        K, N = 16, 256 - (side == "below")
        M = size // (K * 256)
        assert M >= MR and M * K * 256 == size and K * N <= t["strips: B within DIRECT_B_MAX_ENTRIES"][0]
    else:  # B's size, or a row of C one L1 way long: fewer rows than MR (below the engine) and
        if name == "strips: rows one L1 way apart":  # than threads would take, where it can
            N = way + draw(st.sampled_from([-1, 1])) if side == "below" else way
            K = draw(st.integers(2, t["strips: B within DIRECT_B_MAX_ENTRIES"][0] // N))
        else:
            N = draw(st.integers(300, way - 1))
            K = size // N + (0 if side == "below" else 1)
        below_threads = (t["PARALLEL_MIN_MACS"][0] - 1) // (K * N)  # rows within it
        M = draw(st.integers(fewest, max(fewest, min(7, MR - 1, below_threads))))
    return M, K, N


@st.composite
def network_with(draw, name, side, dtype):
    """(layer widths, m, the product's kind, its layer) for a network one of whose products is
    product_at(name, side)."""
    M, K, N = draw(product_at(name, side, dtype))
    kinds = SMALL_KINDS.get(name, KINDS)
    if name in STRIPS and shared_by_threads(M, K, N, engine_thresholds(dtype)):
        # B's size limit on a machine whose fewest strip rows times it reach PARALLEL_MIN_MACS
        # (L2 of 2 MiB, float32): a W A there goes to threads; the other kinds still test it
        kinds = ("dZ A^T", "W^T dZ")
    kind = draw(st.sampled_from(kinds))
    depth = draw(st.integers(2 if kind == "W^T dZ" else 1, 3))
    layer = draw(st.integers(2 if kind == "W^T dZ" else 1, depth))
    n, k, m = {"W A": (M, K, N), "dZ A^T": (M, N, K), "W^T dZ": (K, M, N)}[kind]
    widths = [draw(st.integers(1, 6)) for _ in range(depth + 1)]
    widths[layer], widths[layer - 1] = n, k
    return widths, m, kind, layer


CASES = [(name, side) for name in engine_thresholds(np.float64) for side in ("below", "at")]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name, side", CASES, ids=[f"{n}-{s}" for n, s in CASES])
def test_a_network_across_each_threshold_matches_torch(name, side, dtype):
    cpu = load_path("cpu")
    dtype = np.dtype(dtype)

    @settings(max_examples=examples(1))
    @given(network_with(name, side, dtype), st.sampled_from(COMBOS), st.integers(0, 2**16))
    def run(net, combo, seed):
        threads = numba.get_num_threads()
        if name in ONE_THREAD:
            numba.set_num_threads(1)
        try:
            across(net, combo, seed)
        finally:
            numba.set_num_threads(threads)

    def across(net, combo, seed):
        dims, m, _, _ = net
        hidden, output, cost = combo
        parameters, X, Y = make_problem(dims, m, dtype, cost, seed=seed)
        L = len(dims) - 1
        inputs = {"X": X, "Y": Y, **parameters}
        AL, caches = cpu.forward(X, parameters, hidden=hidden, output=output)
        # over the whole array in float64 too: sums of this length cancel below torch's own
        # float64 rounding (torch_compare.py)
        check_against_torch(lambda L=L, **t: torch_forward(t, L, hidden, output)[0], inputs, value=AL,
                            entrywise=False)
        J = cpu.compute_cost(AL, Y, cost=cost)
        grads = cpu.backward(AL, Y, caches, cost=cost)
        check_against_torch(lambda L=L, **t: torch_cost(t, L, hidden, output, cost, from_logits=False),
                            inputs, value=np.array(J), grads={k: grads["d" + k] for k in parameters},
                            dtype=dtype, entrywise=False)
        before = {k: v.copy() for k, v in parameters.items()}
        J = cpu.train_step(parameters, X, Y, 0.1, hidden=hidden, output=output, cost=cost)
        assert_step_is_torchs(J, parameters, before, X, Y, 0.1, combo, dtype, entrywise=False)

    run()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name, side", CASES, ids=[f"{n}-{s}" for n, s in CASES])
def test_the_drawn_product_lands_on_its_side(name, side, dtype):
    """The generator's own check: the product it draws lies on the side of the threshold it
    names, and past every other reason to skip the engine (the small tiles' below it)."""
    t = engine_thresholds(dtype)
    size, dim = t[name]

    @settings(max_examples=examples(3))
    @given(product_at(name, side, dtype))
    def run(shape):
        M, K, N = shape
        value = {"MACS": M * K * N, "M": M, "K": K, "N": N, "KN": K * N}[dim]
        if name in STRIPS:
            if dim in ("KN", "MACS"):
                assert (value <= size if dim == "KN" else value < size) == (side == "below"), shape
            elif dim == "N":
                assert (N == size) == (side == "at"), shape
            else:
                assert value == (size - 1 if side == "below" else size), shape
            way = t["strips: rows one L1 way apart"][0]
            direct = t["strips: B within DIRECT_B_MAX_ENTRIES"][0]
            others = {"M": M >= t["strips: fewest rows"][0], "K": K >= 2, "KN": K * N <= direct,
                      "N": N % way != 0, "MACS": M < t["MR"][0] or M * K * N < t["ENGINE_MIN_MACS"][0]}
            others.pop(dim)
            assert all(others.values()), (shape, others)
            if shared_by_threads(M, K, N, t):  # only where even the fewest rows reach it
                assert name == "strips: B within DIRECT_B_MAX_ENTRIES", shape
                assert M == t["strips: fewest rows"][0], shape
            if name == "strips: W A's K past 1":
                assert M < t["MR"][0], shape
            return
        if name in SMALL:
            assert (value % size != 0) == (side == "below")
            assert M * K * N < t["ENGINE_MIN_MACS"][0]
            return
        if name in SMALL_ON_THE_ENGINE:
            inputs = t["small tile inputs"][0]
            assert M * K * N < t["ENGINE_MIN_MACS"][0] and N >= t["NR"][0], shape
            left_over = K > inputs and K % inputs != 0
            if "at 2 MR rows" in name:
                assert M == t["tile rows below ENGINE_MIN_MACS"][0], shape
                assert left_over == (side == "at"), shape
            else:
                assert value == (size - 1 if side == "below" else size)
                assert left_over == name.startswith("tile"), shape
            return
        if dim == "MACS":
            assert (value < size) == (side == "below")
            if side == "at" and exactly_at(size):  # the threshold itself, where >= and > differ
                assert value == size, (shape, size)
        elif name in ("MR", "NR", "PACK_A_MIN_N", "PACK_A_MIN_N on every thread", "K past rank one"):
            assert value == (size - 1 if side == "below" else size)
            if name.startswith("PACK_A_MIN_N"):
                assert M * K * N >= t["PACK_A_MIN_MACS"][0]
        else:
            assert value == (size if side == "below" else size + 1)
        inputs = t["small tile inputs"][0]  # below ENGINE_MIN_MACS, the engine from 2 MR rows
        engine_below = M >= t["tile rows below ENGINE_MIN_MACS"][0] and K > inputs and K % inputs
        others = {"M": M >= t["MR"][0], "N": N >= t["NR"][0],
                  "MACS": M * K * N >= t["ENGINE_MIN_MACS"][0] or engine_below}
        others.pop({"MR": "M", "NR": "N", "ENGINE_MIN_MACS": "MACS"}.get(name), None)
        assert all(others.values()), (shape, others)

    run()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name, side", CASES, ids=[f"{n}-{s}" for n, s in CASES])
def test_each_product_takes_the_branch_its_size_names(name, side, dtype):
    """The branches compute the same numbers, so parity alone cannot see a threshold moved or
    flipped; their buffers can. The engine packs B, or A, into the packing buffers (each thread
    its own row of Vbuf or Cbuf), the small tiles read the operands in place: a product's
    buffers, filled with NaN, show which branch ran, and on how many threads. (The engine reads
    a small B with contiguous rows in place, gemm.reads_b_in_place, and then may leave no
    trace: so B is given here as a view with a column stride of 2, which it always packs.)"""
    import numba

    from kernels.cpu import products

    dtype = np.dtype(dtype)
    threads = numba.get_num_threads()

    @settings(max_examples=examples(1))
    @given(network_with(name, side, dtype), st.integers(0, 2**16))
    def run(net, seed):
        dims, m, kind, layer = net
        rng = np.random.default_rng(seed)
        n, k = dims[layer], dims[layer - 1]
        W, A_prev = rng.standard_normal((n, k)).astype(dtype), rng.standard_normal((k, m)).astype(dtype)
        dZ = rng.standard_normal((n, m)).astype(dtype)
        # B with its entries apart along rows: A_prev for W A, dZ for W^T dZ (dZ A^T's B,
        # A_prev.T, already is, but for m = 1, where K = 1 packs nothing: A_prev as the step
        # passes it, its rows contiguous, as dots wants them)
        A_cols, dZ_cols = apart(A_prev), apart(dZ)
        call, shape, expected = {
            "W A": (lambda V, C: products.wa(W, A_cols, np.zeros((n, m), dtype), V, C), (n, k, m),
                    lambda: W @ A_prev),
            "dZ A^T": (lambda V, C: products.dzat(dZ, A_prev, out, V, C), (n, m, k),
                       lambda: dZ @ A_prev.T),
            "W^T dZ": (lambda V, C: products.wtdz(W, dZ_cols, out, V, C), (k, n, m), lambda: W.T @ dZ),
        }[kind]
        out = np.empty({"dZ A^T": (n, k), "W^T dZ": (k, m)}.get(kind, (n, m)), dtype)
        Vbuf, Cbuf = gemm.buffers([shape], dtype, slabs=max(threads, 1))
        Vbuf[...], Cbuf[...] = np.nan, np.nan
        call(Vbuf, Cbuf)
        engine, parallel = takes_the_engine(*shape, dtype, kind, threads)

        def used(s):
            return not (np.isnan(Vbuf[s]).all() and np.isnan(Cbuf[s]).all())

        assert used(0) == engine, f"{kind} {shape}: engine {engine} expected"
        if threads > 1:
            assert used(1) == parallel, f"{kind} {shape}: threads {parallel} expected"
        if kind != "W A":
            assert_close(kind, out, expected(), TOLERANCES[dtype][0], dtype, entrywise=False)

    run()
