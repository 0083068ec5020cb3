"""The CPU path's own kernels against NumPy: every rung of the matmul ladder, the engine's every
size-chosen branch (packed or not, serial or parallel, rows or columns, blocked in K, M and N),
the network's three products, and the micro-kernel's machine code. The fused train_step has its
own file, test_cpu_step.py.

The network API itself (forward, backward, train_step, ... against torch) is tested on this path
by the parametrized tests in test_network.py, test_activations.py, test_bad_input.py and
test_training.py.

Operands are uniform in [0, 1): with no cancellation every entry of a product is a sum of K
positive terms, known to K eps of itself in any summation order, so the relative error of the
test harness applies entry by entry in float64 (and over the whole array in float32, as there).
"""

import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
from numba import njit

from kernels.cpu import config, dots, gemm, matmul, matmul_ikj, matmul_naive, products, strips
from tests.conftest import apart
from tests.torch_compare import TOLERANCES, assert_close

ROOT = Path(__file__).resolve().parents[1]
LADDER = {"naive": matmul_naive, "ikj": matmul_ikj, "tiled": matmul}

F32_PLAN = config.PLANS[np.dtype(np.float32)]
MR, NR = F32_PLAN.MR, F32_PLAN.NR  # the float32 micro-kernel's tile (float64's NR is half)

# (M, K, N): ones, primes, and sizes just past the micro-kernel's tile (edge tiles).
SHAPES = [(1, 1, 1), (1, 7, 1), (3, 5, 7), (4, 4, 4), (17, 131, 29), (5, 2, 3),
          (67, 525, 261), (MR + 1, 9, NR + 1)]
LARGE = [(129, 1025, 515), (256, 256, 256), (130, 2 * F32_PLAN.KC + 7, 33), (37, 700, 401)]


def operands(shape_a, shape_b, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random(shape_a).astype(dtype), rng.random(shape_b).astype(dtype)


def exact(A, B):
    """The product in float64 from the same (rounded) inputs: the value every path should reach."""
    return A.astype(np.float64) @ B.astype(np.float64)


@pytest.mark.parametrize("rung", list(LADDER))
@pytest.mark.parametrize("M, K, N", SHAPES)
def test_every_rung_of_the_matmul_ladder_matches_numpy(rung, M, K, N, dtype):
    A, B = operands((M, K), (K, N), dtype)
    C = LADDER[rung](A, B)
    assert C.shape == (M, N) and C.dtype == dtype
    assert_close(f"{rung} C", C, exact(A, B), TOLERANCES[dtype][0], dtype)


@pytest.mark.parametrize("rung", ["tiled"])
@pytest.mark.parametrize("M, K, N", LARGE)
def test_fast_rungs_on_large_shapes(rung, M, K, N, dtype):
    A, B = operands((M, K), (K, N), dtype)
    assert_close("C", LADDER[rung](A, B), exact(A, B), TOLERANCES[dtype][0], dtype)


@pytest.mark.parametrize("M, K, N", [(19, 37, 23), (300, 260, 400)])  # small; threads, A packed
def test_matmul_reads_transposed_and_fortran_ordered_operands(M, K, N, dtype):
    """Each operand C-ordered, transposed (read in place) or neither (copied): the same product."""
    A, B = operands((K, M), (N, K), dtype)  # stored transposed: A.T is (M, K), B.T is (K, N)
    expected = exact(A.T, B.T)
    tol = TOLERANCES[dtype][0]
    for name, a in [("A^T", A.T), ("C-ordered", np.ascontiguousarray(A.T))]:
        for name_b, b in [("B^T", B.T), ("C-ordered", np.ascontiguousarray(B.T)),
                          ("Fortran", np.asfortranarray(B.T))]:
            assert_close(f"{name} {name_b}", matmul(a, b), expected, tol, dtype)
    assert_close("strided", matmul(A.T[::2], B.T), exact(A.T[::2], B.T), tol, dtype)
    assert_close("strided B", matmul(A.T[:, ::2], B.T[::2]), exact(A.T[:, ::2], B.T[::2]), tol, dtype)


def test_matmul_rejects_bad_operands():
    A = np.ones((3, 4))
    with pytest.raises(ValueError, match=r"B has shape \(5, 2\); expected \(4, 2\) to match A \(3, 4\)"):
        matmul(A, np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"A has shape \(4,\); expected a 2-D array"):
        matmul(np.ones(4), A)
    with pytest.raises(TypeError, match="A has dtype float64 but B has dtype float32"):
        matmul(A, np.ones((4, 2), np.float32))
    with pytest.raises(TypeError, match="A has dtype int64; expected float32 or float64"):
        matmul(np.ones((3, 4), np.int64), A.T)
    with pytest.raises(TypeError, match="B must be a NumPy array, got list"):
        matmul(A, [[1.0]] * 4)


ODD_SHAPES = [(r, c) for r in (0, 1, 3, 64, 129) for c in (1, 7, 33, 256)]


@pytest.mark.parametrize("allocate", ["product_out empty", "product_out zeros", "aligned_zeros"])
def test_aligned_arrays_start_on_a_cache_line(allocate, dtype):
    """Sixteen arrays of odd shapes each start on a line (NumPy's own start 16-byte aligned: one
    in four on a line by chance), with exactly the shape asked for (zeros: whole_rows False);
    four empty ones have the shape asked for (no first entry to place). product_out's are for
    a product of PARALLEL_MIN_MACS multiply-adds or more (K large enough)."""
    keep = []
    for rows, columns in ODD_SHAPES:
        if allocate == "aligned_zeros":
            X = gemm.aligned_zeros(rows, columns, dtype, whole_rows=False)
        else:
            fill = np.zeros if allocate.endswith("zeros") else np.empty
            X = gemm.product_out(rows, config.PARALLEL_MIN_MACS, columns, dtype, fill)
        keep.append(X)  # alive, so the next one is allocated elsewhere
        assert X.shape == (rows, columns) and X.dtype == dtype and X.flags.c_contiguous
        off = X.ctypes.data % config.LINE
        assert rows == 0 or off == 0, f"{allocate}({rows}, {columns}) starts {off} bytes past a line"
        if allocate.endswith("zeros"):
            assert not X.any()


def test_product_out_below_the_threshold_is_numpys(dtype):
    """Below PARALLEL_MIN_MACS one thread runs the product: product_out gives NumPy's own array
    (zeros when asked), of the shape asked for."""
    for rows, columns in ODD_SHAPES:
        K = max(1, (config.PARALLEL_MIN_MACS - 1) // max(1, rows * columns))
        Z = gemm.product_out(rows, K, columns, dtype, np.zeros)
        assert Z.shape == (rows, columns) and Z.dtype == dtype and Z.flags.c_contiguous
        assert Z.base is None and not Z.any(), (rows, K, columns)


def _entry_points():
    """{name: f(X, Y) -> X Y} for every Python entry point whose product may run on threads,
    X (M, K) and Y (K, N) stored C-ordered, passed in the layout each entry point takes."""
    from kernels.cpu import network

    def forward(W, A):
        return network.linear_forward(A, W, np.zeros((W.shape[0], 1), W.dtype))[0]

    def dw(dZ, At):
        return network.linear_backward(dZ, (At.T.copy(), np.ones((dZ.shape[0], At.shape[1]), dZ.dtype),
                                            np.zeros((dZ.shape[0], 1), dZ.dtype)))[1]

    def da(Wt, dZ):
        W = Wt.T.copy()
        return network.linear_backward(dZ, (np.ones((W.shape[1], dZ.shape[1]), W.dtype), W,
                                            np.zeros((W.shape[0], 1), W.dtype)))[0]

    return {"matmul": matmul,
            "w_a": products.w_a,
            "dz_at": lambda dZ, At: products.dz_at(dZ, At.T.copy()),
            "wt_dz": lambda Wt, dZ: products.wt_dz(Wt.T.copy(), dZ),
            "linear_forward": forward,
            "linear_backward dW": dw,
            "linear_backward dA_prev": da}


ENTRY_POINTS = list(_entry_points())


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_products_return_c_on_a_cache_line_where_threads_share_it(name, dtype):
    """Cut among threads into slabs of columns, a C off a line has one line per row that two
    threads write (gemm.shares_lines): matmul's C, the three products' and the linear layer's
    results start on one from PARALLEL_MIN_MACS (gemm.product_out), each the exact product."""
    f = _entry_points()[name]
    n = int(np.ceil(config.PARALLEL_MIN_MACS ** (1 / 3)))
    keep = []
    for M, K, N in [(n, n, n), (n + 1, n + 3, n + 5), (2 * n, n, n + 1), (n + 9, 2 * n, n + 2)]:
        X, Y = operands((M, K), (K, N), dtype)
        C = f(X, Y)
        keep.append(C)
        assert C.ctypes.data % config.LINE == 0, (name, M, K, N, C.ctypes.data % config.LINE)
        assert_close(f"{name} {M}x{K}x{N}", C, exact(X, Y), TOLERANCES[dtype][0], dtype)


# ---------------------------------------------------------------------------------------------
# The network's three products: (n, k, m) as in W (n, k), A_prev (k, m), dZ (n, m).

PRODUCT_SHAPES = [(1, 1, 1), (1, 3, 1), (3, 1, 5), (4, 8, 4), (10, 2, 100), (7, 17, 13),
                  (31, 30, 569), (9, 1000, 64)]
BIG = (100, 1000, 64)  # 6.4e6 multiply-adds: past ENGINE_MIN_MACS and PARALLEL_MIN_MACS
SKINNY = (1, 1100, 1000)  # 1.1e6: W A and dZ A^T have one row (small tiles), W^T dZ has K = 1


def product_operands(n, k, m, dtype):
    rng = np.random.default_rng(n * 10007 + k * 101 + m)
    return tuple(rng.random(s).astype(dtype) for s in [(n, k), (k, m), (n, m)])


@pytest.mark.parametrize("n, k, m", PRODUCT_SHAPES + [BIG, SKINNY])
def test_products_match_numpy(n, k, m, dtype):
    W, A, dZ = product_operands(n, k, m, dtype)
    tol = TOLERANCES[dtype][0]
    assert_close("W A", products.w_a(W, A), exact(W, A), tol, dtype)
    assert_close("dZ A^T", products.dz_at(dZ, A), exact(dZ, A.T), tol, dtype)
    assert_close("W^T dZ", products.wt_dz(W, dZ), exact(W.T, dZ), tol, dtype)


def test_big_product_is_above_the_parallel_threshold():
    n, k, m = BIG
    assert n * k * m >= max(config.PARALLEL_MIN_MACS, config.ENGINE_MIN_MACS)


# ---------------------------------------------------------------------------------------------
# The engine's branches at small shapes: a plan with tiny blocks and the size thresholds set so
# that each branch is taken (gemm.product reads them from the plan it is given), in both dtypes.


def tiny_plan(dtype, pack_a, parallel, b_in_place=True):
    p = config.PLANS[np.dtype(dtype)]
    return p._replace(KC=16, MC=2 * p.MR, NC=2 * p.NR, PACK_A_MIN_MACS=0 if pack_a else 1 << 62,
                      PACK_A_MIN_N=0, PARALLEL_MIN_MACS=0 if parallel else 1 << 62,
                      DIRECT_B_MAX_ENTRIES=1 << 62 if b_in_place else 0)


def engine_shapes(dtype):
    """(M, K, N): several blocks of MC, KC and NC with short last ones, edge tiles in both
    directions; tall (cut into rows) and wide (cut into columns)."""
    p = config.PLANS[np.dtype(dtype)]
    return [(5 * p.MR + 3, 3 * 16 + 5, 3 * p.NR + 7), (p.MR - 1, 2 * 16 + 1, 7 * p.NR + 1),
            (9 * p.MR, 16, p.NR), (1, 40, 3), (2 * p.MR + 1, 1, 5 * p.NR - 3)]


LAYOUTS = {  # how each product hands its operands to the engine: op(A) op(B)
    "W A": (False, False), "dZ A^T": (False, True), "W^T dZ": (True, False),
    "A^T B^T": (True, True)}


BRANCHES = [(False, False, False), (False, False, True), (False, True, False),
            (False, True, True), (True, False, False), (True, True, False)]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("pack_a, parallel, b_in_place", BRANCHES,
                         ids=["-".join(n for n, on in zip(("A-packed", "parallel", "B-in-place"), b,
                                                          strict=True) if on) or "serial"
                              for b in BRANCHES])
def test_every_engine_branch_matches_numpy(pack_a, parallel, b_in_place, layout, dtype):
    """B read in place applies where A is not packed and B's rows are contiguous."""
    P = tiny_plan(dtype, pack_a, parallel, b_in_place)
    ta, tb = LAYOUTS[layout]
    tol = TOLERANCES[dtype][0]
    for i, (M, K, N) in enumerate(engine_shapes(dtype)):
        rng = np.random.default_rng(i)
        A = rng.random((K, M) if ta else (M, K)).astype(dtype)
        B = rng.random((N, K) if tb else (K, N)).astype(dtype)
        A, B = (A.T if ta else A), (B.T if tb else B)
        Vbuf, Cbuf = gemm.buffers([(M, K, N)], dtype, P, slabs=2)
        C = np.full((M, N), 0.5, dtype)
        gemm.product(A, B, C, True, Vbuf, Cbuf, P)  # C += A B
        assert_close(f"{layout} {M}x{K}x{N} accumulated", C, exact(A, B) + 0.5, tol, dtype)
        C = np.full((M, N), np.nan, dtype)
        gemm.product(A, B, C, False, Vbuf, Cbuf, P)  # C = A B: every entry written
        assert_close(f"{layout} {M}x{K}x{N}", C, exact(A, B), tol, dtype)


def test_b_is_read_in_place_only_with_rows_less_than_2_kib_apart(dtype):
    """gemm.reads_b_in_place: a small B, its rows contiguous, A not packed; read in place where
    its rows are less than config.DIRECT_B_ROW_BYTES apart, packed from there on (by the distance
    between rows, not the columns a view reads), and packed wherever A is."""
    P, size = config.PLANS[np.dtype(dtype)], np.dtype(dtype).itemsize
    apart = config.DIRECT_B_ROW_BYTES // size  # entries
    assert 16 * apart <= P.DIRECT_B_MAX_ENTRIES  # within the size rule: only the rows' distance counts
    near, far = np.zeros((16, apart - 1), dtype), np.zeros((16, apart), dtype)
    assert gemm.reads_b_in_place(near, False, P)
    assert not gemm.reads_b_in_place(far, False, P)
    assert not gemm.reads_b_in_place(far[:, :P.NR], False, P)
    assert not gemm.reads_b_in_place(near, True, P)


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize("b_row", ["contiguous", "strided"])
def test_rank_one_products_match_numpy(parallel, b_row, dtype):
    """K = 1 (gemm.rank_one): C (+)= A B row by row, on one thread or in slabs of rows, with B's
    one row contiguous or strided (read in place), A a column view of W (W.T's layout)."""
    P = tiny_plan(dtype, False, parallel)
    tol = TOLERANCES[dtype][0]
    lanes = config.PLANS[dtype].LANES  # rows.scale_row's vectors: whole ones and a masked rest
    for M, N in [(1, 1), (7, 3), (2 * P.MR + 1, 5 * P.NR - 3), (3, 2 * lanes), (5, 3 * lanes - 1)]:
        rng = np.random.default_rng(M)
        A = rng.random((1, M)).astype(dtype).T
        B = rng.random((1, 2 * N)).astype(dtype)
        B = B[:, :N] if b_row == "contiguous" else B[:, ::2]
        Vbuf, Cbuf = gemm.buffers([(M, 1, N)], dtype, P, slabs=2)
        C = np.full((M, N), 0.5, dtype)
        gemm.product(A, B, C, True, Vbuf, Cbuf, P)
        assert_close(f"{M}x1x{N} accumulated", C, exact(A, B) + 0.5, tol, dtype)
        C = np.full((M, N), np.nan, dtype)
        gemm.product(A, B, C, False, Vbuf, Cbuf, P)
        assert_close(f"{M}x1x{N}", C, exact(A, B), tol, dtype)
    views = {"C-contiguous": lambda X: X[:, :N], "rows apart": lambda X: X[:, N + 1:],
             "columns apart": lambda X: X[:, ::2]}
    for name, view in views.items():  # C a view of a wider array: nothing outside it written
        for accumulate in (True, False):  # one slab of C (gemm._slab's cut): the rest untouched
            wide = np.full((M, 2 * N + 1), 0.5, dtype)
            expected = wide.copy()
            view(expected)[1:M - 1, 2:N - 1] = (exact(A[1:M - 1], B[:, 2:N - 1])
                                                + (0.5 if accumulate else 0))
            C = np.ascontiguousarray(wide[:, :N]) if name == "C-contiguous" else view(wide)
            gemm.rank_one(A, B, C, accumulate, 1, M - 1, 2, N - 1)
            if name == "C-contiguous":
                wide[:, :N] = C
            assert_close(f"rows 1:{M - 1}, columns 2:{N - 1} of a C {name}", wide, expected, tol,
                         dtype)


@njit
def _strips(A, B, C, accumulate):
    strips.strips(A, B, C, accumulate)


def test_strips_match_numpy(dtype):
    """strips.strips over every number of rows from 1 to two tallest strips and one (a last
    block of each height), C's columns in whole strips of NR, in vectors and with a masked last
    one, K = 1, 3 and 17, A a view of W.T; B and C views into wider arrays: C's entries past its
    rows and columns (and those of B's) are neither written nor, with accumulate False, read."""
    P = config.PLANS[np.dtype(dtype)]
    L, tallest = P.LANES, strips.heights(P)[-1]
    tol = TOLERANCES[dtype][0]
    for M in range(1, 2 * tallest + 2):
        for N in (1, L - 1, L, L + 1, P.NR, P.NR + L, P.NR + L + 3):
            for K in (1, 3, 17):
                rng = np.random.default_rng(M * 10_000 + N * 100 + K)
                A = rng.random((K, M)).astype(dtype).T
                B = rng.random((K, N + L)).astype(dtype)
                B[:, N:] = np.nan
                for accumulate in (True, False):
                    wide = np.full((M + 1, N + L), 7.0, dtype)
                    C = wide[:M, :N]
                    C[...] = 0.5 if accumulate else np.nan
                    _strips(A, B[:, :N], C, accumulate)
                    expected = np.full_like(wide, 7.0)
                    expected[:M, :N] = exact(A, B[:, :N]) + (0.5 if accumulate else 0)
                    assert_close(f"{M}x{K}x{N}, accumulate {accumulate}", wide, expected, tol, dtype)


@njit
def _dots(X, Y, C):
    dots.dots(X, Y, C)


def test_dots_match_numpy(dtype):
    """dots.dots over every number of rows from 0 to 9 (tiles of 4, 2 and 1 rows), of columns
    from 1 to 9 (a last tile of each width), K from 0 to past three vectors (whole vectors, a
    masked last one, none); X and Y views into wider arrays whose entries past K are NaN (the
    masked lanes must not read them), C a view into a wider array whose entries past its rows
    and columns must keep their sentinel."""
    L = config.PLANS[np.dtype(dtype)].LANES
    tol = TOLERANCES[dtype][0]
    for M in range(10):
        for N in range(1, 10):
            for K in (0, 1, L - 1, L, L + 1, 3 * L + 5):
                rng = np.random.default_rng(M * 10_000 + N * 100 + K)
                X = np.full((M, K + L), np.nan, dtype)
                Y = np.full((N, K + L), np.nan, dtype)
                X[:, :K], Y[:, :K] = rng.random((M, K)), rng.random((N, K))
                wide = np.full((M + 1, N + L), 7.0, dtype)
                wide[:M, :N] = np.nan  # C is written, never read
                _dots(X[:, :K], Y[:, :K], wide[:M, :N])
                expected = np.full_like(wide, 7.0)
                expected[:M, :N] = exact(X[:, :K], Y[:, :K].T)
                assert_close(f"{M}x{K}x{N}", wide, expected, tol, dtype)


@pytest.mark.parametrize("side", ["within", "past"])
def test_dots_match_numpy_with_x_within_l1_and_past_it(side, dtype):
    """dots runs its tiles in one of two orders: Y's rows outer (X re-read from L1) where X
    (M x K) fits in config.L1_BYTES, X's rows outer past that. X of 9 rows (tiles of 4, 4 and
    1) just within L1 or just past it, Y of 7 rows (a last tile of 3), C a view of a wider array
    whose other entries keep their sentinel."""
    size = np.dtype(dtype).itemsize
    M, N = 9, 7
    K = config.L1_BYTES // (size * M) + (1 if side == "past" else 0)
    assert (M * K * size <= config.L1_BYTES) == (side == "within")
    rng = np.random.default_rng(K)
    X, Y = rng.random((M, K)).astype(dtype), rng.random((N, K)).astype(dtype)
    wide = np.full((M + 1, N + 5), 7.0, dtype)
    _dots(X, Y, wide[:M, :N])
    expected = np.full_like(wide, 7.0)
    expected[:M, :N] = exact(X, Y.T)
    assert_close(f"{M}x{K}x{N}", wide, expected, TOLERANCES[dtype][0], dtype)


@pytest.mark.parametrize("lanes", [4, 8, 16])
def test_dots_at_every_vector_width(lanes, dtype, monkeypatch):
    """dots compiled for vectors of 4, 8 and 16 entries (AVX2's float64 and float32, AVX-512's),
    whatever this machine's plan: each width reduces its tile's sums in a tree of its own
    shape (dots._sums: one vector or several at the end, rows at other lanes)."""
    P = config.PLANS[np.dtype(dtype)]
    if lanes * np.dtype(dtype).itemsize > 64:
        pytest.skip("wider than AVX-512")
    monkeypatch.setattr(dots, "_plan_of", lambda array_type: P._replace(LANES=lanes))

    @njit
    def fresh(X, Y, C):  # compiled here, with the patched plan
        dots.dots(X, Y, C)

    tol = TOLERANCES[dtype][0]
    for M in (1, 2, 3, 4, 7):
        for N in (1, 4, 6):
            for K in (1, lanes - 1, lanes, 2 * lanes + 3):
                rng = np.random.default_rng(M * 10_000 + N * 100 + K)
                X, Y = rng.random((M, K)).astype(dtype), rng.random((N, K)).astype(dtype)
                C = np.full((M, N), np.nan, dtype)
                fresh(X, Y, C)
                assert_close(f"{lanes} lanes, {M}x{K}x{N}", C, exact(X, Y.T), tol, dtype)


@pytest.mark.parametrize("K, N", [(16, 32), (37, 70), (5, 64), (64, 1000)])
def test_packing_a_transposed_view_is_packing_its_copy(K, N, dtype):
    """pack_b of B = A_prev.T (columns contiguous: whole tiles transposed in registers, the k's
    short of a tile one by one) writes what pack_b of the same B, C-contiguous, writes."""
    P = config.PLANS[np.dtype(dtype)]
    B = np.random.default_rng(K).random((N, K)).astype(dtype).T
    size = K * (N + P.NR)
    view, copy = np.full(size, np.nan, dtype), np.full(size, np.nan, dtype)
    gemm.pack_b(B, 0, K, 0, N, view, 0)
    gemm.pack_b(np.ascontiguousarray(B), 0, K, 0, N, copy, 0)
    np.testing.assert_array_equal(view, copy)


def stored(shape, layout, dtype, seed):
    """An operand of `shape` held C-ordered, as the transpose of a C-ordered array (columns
    contiguous), or with no stride 1 (conftest.apart)."""
    rng = np.random.default_rng(seed)
    if layout == "columns":
        return rng.random(shape[::-1]).astype(dtype).T
    X = rng.random(shape).astype(dtype)
    return X if layout == "rows" else apart(X)


# (rows, cols, first row, rows packed, first column, columns packed): whole and partial tiles of
# LANES k's, a last micro-panel short of MR rows or NR columns, blocks that start inside
PACKED_BLOCKS = [(40, 50, 3, 30, 5, 37), (31, 70, 0, 31, 0, 64), (29, 17, 1, 28, 0, 17),
                 (14, 16, 0, 14, 0, 16), (90, 100, 2, 57, 3, 96)]


@pytest.mark.parametrize("layout", ["rows", "columns", "strided"])
def test_packing_writes_the_micro_panels_it_defines_and_nothing_else(layout, dtype):
    """pack_a: Ap[base + r kc MR + k MR + i] = A[i0 + r MR + i, p0 + k] (rows past mc zero);
    pack_b: Bp[base + q kc NR + k NR + j] = B[p0 + k, j0 + q NR + j] (columns past nc zero);
    the entries before base and after the last micro-panel untouched. Row-major A goes through
    the register transposes (transpose.pack_rows_tile), row-major B and A.T through the
    fixed-size copies (copies.py)."""
    P = config.PLANS[np.dtype(dtype)]
    for seed, (rows, cols, r0, n_r, c0, n_c) in enumerate(PACKED_BLOCKS):
        A = stored((rows, cols), layout, dtype, seed)
        panels = -(-n_r // P.MR)
        Ap = np.full(panels * n_c * P.MR + 10, -1, dtype)
        gemm.pack_a(A, r0, n_r, c0, n_c, Ap, 3)
        want = np.zeros((panels * P.MR, n_c), dtype)
        want[:n_r] = A[r0:r0 + n_r, c0:c0 + n_c]
        want = want.reshape(panels, P.MR, n_c).transpose(0, 2, 1).ravel()
        np.testing.assert_array_equal(Ap[3:-7], want, err_msg=f"pack_a {layout} {rows}x{cols}")
        assert (Ap[:3] == -1).all() and (Ap[-7:] == -1).all(), f"pack_a wrote outside {rows}x{cols}"

        B = stored((cols, rows), layout, dtype, seed)
        panels = -(-n_r // P.NR)
        Bp = np.full(panels * n_c * P.NR + 10, -1, dtype)
        gemm.pack_b(B, c0, n_c, r0, n_r, Bp, 3)
        want = np.zeros((n_c, panels * P.NR), dtype)
        want[:, :n_r] = B[c0:c0 + n_c, r0:r0 + n_r]
        want = want.reshape(n_c, panels, P.NR).transpose(1, 0, 2).ravel()
        np.testing.assert_array_equal(Bp[3:-7], want, err_msg=f"pack_b {layout} {cols}x{rows}")
        assert (Bp[:3] == -1).all() and (Bp[-7:] == -1).all(), f"pack_b wrote outside {cols}x{rows}"


@pytest.mark.parametrize("pack_a", [False, True], ids=["A-in-place", "A-packed"])
def test_every_edge_row_count_matches_numpy(pack_a, dtype):
    """A last micro-panel of mr = 1 ... MR - 1 rows runs one of a few edge micro-kernels
    (microkernel.edge_rows: the least row count >= mr): every mr, beside a whole micro-panel
    and a last micro-panel of B narrower than NR, C = A B and C += A B."""
    P = tiny_plan(dtype, pack_a, parallel=False, b_in_place=False)
    tol = TOLERANCES[dtype][0]
    for mr in range(1, P.MR):
        M, K, N = P.MR + mr, 19, P.NR + 5
        A, B = operands((M, K), (K, N), dtype)
        Vbuf, Cbuf = gemm.buffers([(M, K, N)], dtype, P, slabs=1)
        C = np.full((M, N), np.nan, dtype)
        gemm.product(A, B, C, False, Vbuf, Cbuf, P)
        assert_close(f"mr = {mr}: {M}x{K}x{N}", C, exact(A, B), tol, dtype)
        C = np.full((M, N), 0.5, dtype)
        gemm.product(A, B, C, True, Vbuf, Cbuf, P)
        assert_close(f"mr = {mr}: {M}x{K}x{N} accumulated", C, exact(A, B) + 0.5, tol, dtype)


@pytest.mark.parametrize("M, N, packed, by_rows", [
    (100 * MR, NR, True, True), (100 * MR, NR, False, True),  # one column of tiles: rows
    (MR, 100 * NR, True, False), (MR, 100 * NR, False, False),  # one row of tiles: columns
    # a tie: by what a slab packs (A packed: the smaller operand twice; else nothing twice)
    (20 * MR, 2 * NR, True, True), (2 * MR, 20 * NR, True, False), (2 * MR, 2 * NR, False, False),
    (3 * MR, 4 * NR, True, False),  # 3 row tiles leave a slab half idle; 4 columns split evenly
])
def test_slabs_cut_the_side_that_splits_evenly(M, N, packed, by_rows):
    rows, step = gemm._slabs(M, N, 2, MR, NR, packed, False)
    assert rows == by_rows
    assert rows or (step % NR == 0 and 2 * step >= N)


@pytest.mark.parametrize("M, N, by_rows", [
    (8 * MR + 8, 2 * NR, True),  # W^T dZ of [256,120,84,10]: rows 56 and 64 against columns 32
    (2 * MR, 2 * NR, True),  # the tie
    (MR, 100 * NR, False),  # one row of micro-panels: columns all the same
    (2 * MR + 6, 20 * NR, False),  # rows 28 and 6: one slab idle most of the time
])
def test_slabs_of_columns_that_would_share_lines_of_c_give_way_to_rows(M, N, by_rows):
    rows, _ = gemm._slabs(M, N, 2, MR, NR, False, True)
    assert rows == by_rows


def test_row_cuts_cover_every_row_once_in_nearly_even_whole_micro_panels():
    for S in (1, 2, 3, 4):
        for mr in (1, 6, MR):
            for M in range(0, 12 * mr + 3):
                cuts = [gemm._row_cut(M, s, S, mr) for s in range(S + 1)]
                assert cuts[0] == 0 and cuts[-1] == M, (M, S, mr, cuts)
                assert cuts == sorted(cuts), (M, S, mr, cuts)
                for s, c in enumerate(cuts[1:-1], 1):
                    assert (c % mr == 0 or c == M) and abs(c - s * M / S) <= mr / 2, (M, S, mr, cuts)


def line_offset(shape, dtype, entries):
    """A zeroed array of `shape` that starts `entries` entries past a cache line, and the guard
    entries around it (filled with 7) in the array it is a view of."""
    size, line = int(np.prod(shape)), config.LINE // np.dtype(dtype).itemsize  # entries per line
    whole = gemm.aligned_zeros(1, size + 4 * line, dtype)[0]
    whole[:] = 7
    X = whole[line + entries:line + entries + size].reshape(shape)
    X[:] = 0
    return X, whole


def test_shares_lines_knows_where_c_starts_and_how_long_its_rows_are():
    for dtype in (np.float32, np.float64):
        p = config.PLANS[np.dtype(dtype)]
        assert not gemm.shares_lines(line_offset((3, 64), dtype, 0)[0], p.NR)
        assert gemm.shares_lines(line_offset((3, 64), dtype, 2)[0], p.NR)
        assert gemm.shares_lines(line_offset((3, 60), dtype, 0)[0], p.NR)


def test_shared_lines_count_where_a_slab_does_little_per_row():
    """Below SLAB_ROWS_MAX_MACS multiply-adds per row of C and panel of B (K up to KC) in each
    of two slabs: N = 2048, K just under SLAB_ROWS_MAX_MACS / 1024."""
    p = config.PLANS[np.dtype(np.float32)]
    k = config.SLAB_ROWS_MAX_MACS // 1024
    off, on = line_offset((4, 2048), np.float32, 1)[0], line_offset((4, 2048), np.float32, 0)[0]
    assert gemm.lines_cost(off, k - 1, 2, p.NR, p.KC) and not gemm.lines_cost(off, k, 2, p.NR, p.KC)
    assert not gemm.lines_cost(on, k - 1, 2, p.NR, p.KC)
    assert not gemm.lines_cost(off, 10 * p.KC, 2, p.NR, p.KC)  # K counts up to KC, a panel of B


@pytest.mark.parametrize("entries", [0, 1, 4], ids=["on-a-line", "1-entry-off", "4-entries-off"])
def test_two_slabs_write_c_wherever_it_starts(entries, dtype):
    """W^T dZ of [256,120,84,10] (past PARALLEL_MIN_MACS) on two slabs: columns where C starts on
    a cache line, rows elsewhere (gemm._slabs). Every entry of C right, nothing around it written."""
    P = config.PLANS[np.dtype(dtype)]
    M, K, N = 8 * P.MR + 8, 84, 4 * P.NR if P.NR < 32 else 2 * P.NR
    assert M * K * N >= P.PARALLEL_MIN_MACS
    rng = np.random.default_rng(entries)
    A, B = rng.random((K, M)).astype(dtype).T, rng.random((K, N)).astype(dtype)
    C, whole = line_offset((M, N), dtype, entries)
    rows, _ = gemm._slabs(M, N, 2, P.MR, P.NR, False, gemm.lines_cost(C, K, 2, P.NR, P.KC))
    assert rows == (entries != 0)
    Vbuf, Cbuf = gemm.buffers([(M, K, N)], dtype, P, slabs=2)
    for accumulate in (False, True):
        gemm.product(A, B, C, accumulate, Vbuf, Cbuf, P)
        assert_close(f"{'rows' if rows else 'columns'}, accumulate={accumulate}", C,
                     exact(A, B) * (2 if accumulate else 1), TOLERANCES[dtype][0], dtype)
    outside = np.ones(whole.shape, bool)
    first = (C.ctypes.data - whole.ctypes.data) // C.itemsize
    outside[first:first + M * N] = False
    assert (whole[outside] == 7).all()


@pytest.mark.parametrize("layout", ["rows", "W.T"])
def test_an_edge_panel_read_in_place_from_the_rows_above_it(layout, dtype):
    """A read in place (not packed), its last micro-panel short by fewer than half of MR rows:
    the whole micro-kernel runs over the MR rows that end with it and keeps the last mr
    (gemm._macro_kernel's `back`); shorter edges, and one with no MR rows above it, are packed.
    Every row count around those, C = A B and C += A B, against the exact product."""
    P = config.PLANS[np.dtype(dtype)]
    K, N = 37, 2 * P.NR + 3
    Vbuf, Cbuf = gemm.buffers([(3 * P.MR, K, N)], dtype, P, slabs=1)
    rng = np.random.default_rng(5)
    for M in [P.MR // 2, P.MR // 2 + 1, P.MR - 1, 2 * P.MR - 1, 2 * P.MR + P.MR // 2,
              2 * P.MR + P.MR // 2 + 1, 3 * P.MR - 1]:
        A = rng.random((M, K)).astype(dtype) if layout == "rows" else rng.random((K, M)).astype(dtype).T
        B = rng.random((K, N)).astype(dtype)
        C0 = rng.random((M, N)).astype(dtype)
        for accumulate in (False, True):
            C = C0.copy()
            gemm.gemm_serial(A, B, C, accumulate, Vbuf, Cbuf, False, P)
            expected = exact(A, B) + (C0 if accumulate else 0)
            assert_close(f"M={M} accumulate={accumulate}", C, expected, TOLERANCES[dtype][0], dtype)


GUARDED_EDGE_SCRIPT = """
import ctypes, mmap, sys
import numpy as np
from kernels.cpu import config, gemm

dtype, layout = np.dtype(sys.argv[1]), sys.argv[2]
P = config.PLANS[dtype]
M, K, N = P.MR - 1, 37, P.NR + 3  # one edge panel of more than MR / 2 rows, no rows above it
page = mmap.PAGESIZE
raw = mmap.mmap(-1, 4 * page)
base = ctypes.addressof(ctypes.c_char.from_buffer(raw))
libc = ctypes.CDLL(None)
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
assert libc.mprotect(base, page, 0) == 0  # the page before A: any read of it faults
X = np.frombuffer(raw, dtype, count=M * K, offset=page)
A = X.reshape(M, K) if layout == "rows" else X.reshape(K, M).T
A[...] = 1
B = np.ones((K, N), dtype)
C = np.zeros((M, N), dtype)
Vbuf, Cbuf = gemm.buffers([(M, K, N)], dtype, P, slabs=1)
gemm.gemm_serial(A, B, C, False, Vbuf, Cbuf, False, P)
assert (C == K).all()
print("ok")
"""


@pytest.mark.parametrize("layout", ["rows", "W.T"])
def test_an_edge_panel_with_no_rows_above_reads_nothing_before_a(layout, dtype):
    """The edge panel read from the rows above it (the test above) must not reach above row 0:
    A starts right after a page that any read faults on, in a process of its own."""
    result = subprocess.run([sys.executable, "-c", GUARDED_EDGE_SCRIPT, np.dtype(dtype).name, layout],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and result.stdout.strip() == "ok", \
        f"exit {result.returncode} (a fault is -11): {result.stderr[-2000:]}"


def test_engine_with_an_empty_sum_and_with_buffers_too_small(dtype):
    P = config.PLANS[np.dtype(dtype)]
    Vbuf, Cbuf = gemm.buffers([(3, 1, 4)], dtype, P, slabs=1)
    C = np.full((3, 4), np.nan, dtype)
    gemm.product(np.ones((3, 0), dtype), np.ones((0, 4), dtype), C, False, Vbuf, Cbuf, P)
    np.testing.assert_array_equal(C, 0)
    # buffers too small to pack into: the unpacked loop, still no allocation
    A, B = operands((7, 11), (11, 5), dtype)
    small = np.zeros((1, 1), dtype)
    C = np.full((7, 5), 1.0, dtype)
    gemm.product(A, B, C, True, small, small, P)
    assert_close("C += A B", C, exact(A, B) + 1, TOLERANCES[dtype][0], dtype)


def test_plan_fits_the_registers_and_caches():
    """The plan's arithmetic, for this machine and for an AVX2-only one (16 registers)."""
    cache = config.caches()
    for bits, registers in [(config.vector_bits(), config.vector_registers()), (256, 16), (128, 16)]:
        for itemsize in (4, 8):
            p = config.plan_for(itemsize, bits, registers, cache)
            assert p.NR == p.NV * bits // (8 * itemsize)
            assert p.MR * p.NV + p.NV + 1 <= registers < (p.MR + 1) * p.NV + p.NV + 1
            assert p.MC % p.MR == 0 and p.NC % p.NR == 0 and p.NB % p.NR == 0
            assert p.MC * p.KC * itemsize <= cache[2].size // 8
            assert p.NB * p.KC * itemsize <= cache[2].size // 4
            assert p.KC * p.NC * itemsize <= cache[3].size


def test_products_reject_mismatched_operands():
    with pytest.raises(ValueError, match=r"A has shape \(4, 2\); expected \(3, 2\) to match W \(5, 3\)"):
        products.w_a(np.ones((5, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"A has shape \(3, 4\); expected \(3, 2\) to match dZ \(5, 2\)"):
        products.dz_at(np.ones((5, 2)), np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"dZ has shape \(4, 2\); expected \(5, 2\) to match W \(5, 3\)"):
        products.wt_dz(np.ones((5, 3)), np.ones((4, 2)))


# ---------------------------------------------------------------------------------------------
# The micro-kernel's machine code: the vector FMAs of the plan's width, MR x NV of them per k.


def micro_kernel_asm(dtype):
    """The assembly of the packed micro-kernel, as compiled into the serial engine (compiled
    afresh: numba cannot show the assembly of code loaded from its cache)."""
    P = config.PLANS[np.dtype(dtype)]
    fresh = njit(**dict(config.JIT, cache=False))(gemm._macro_kernel.py_func)
    Ap, T = np.zeros(2 * P.MR * P.NR, dtype), np.zeros(P.MR * P.NR, dtype)
    C = np.zeros((P.MR, P.NR), dtype)
    fresh(C, Ap, 0, True, 0, P.MR, 0, 1, C, Ap, 0, False, 0, P.NR, C, False, T, 0, P.MR, P.NR, P.NB)
    asm = fresh.inspect_asm(fresh.signatures[0])
    start = asm.index("\nmicro_kernel_") + 1
    body = asm[start:]
    return body[:body.index(".Lfunc_end")]


@pytest.mark.skipif(config.vector_bits() != 512,
                    reason=f"no AVX-512 here ({config.vector_bits()}-bit vectors): the 512-bit FMA "
                           "check needs an AVX-512 CPU")
def test_micro_kernel_uses_512_bit_fmas(dtype):
    p = config.PLANS[np.dtype(dtype)]
    suffix = "ps" if dtype == np.float32 else "pd"
    body = micro_kernel_asm(dtype)
    zmm_fmas = [line for line in body.splitlines() if f"vfmadd231{suffix}" in line and "%zmm" in line]
    assert len(zmm_fmas) >= p.MR * p.NV, body[:2000]
    assert not any(f"vfmadd231{suffix}" in line and "%ymm" in line for line in body.splitlines())


@pytest.mark.skipif(config.vector_bits() != 256, reason="the AVX2 fallback is checked on AVX2 CPUs")
def test_micro_kernel_uses_256_bit_fmas_without_avx512(dtype):
    p = config.PLANS[np.dtype(dtype)]
    suffix = "ps" if dtype == np.float32 else "pd"
    body = micro_kernel_asm(dtype)
    assert sum(f"vfmadd231{suffix}" in line and "%ymm" in line for line in body.splitlines()) >= p.MR * p.NV


PREFER_256_SCRIPT = """
import numpy as np
from tests.test_cpu_kernels import micro_kernel_asm
body = micro_kernel_asm(np.float32)
print(sum("vfmadd231ps" in line and "%zmm" in line for line in body.splitlines()))
"""


@pytest.mark.skipif(config.vector_bits() != 512, reason="no AVX-512 here: nothing to prefer over")
def test_micro_kernel_keeps_512_bits_when_llvm_prefers_256(tmp_path):
    """On CPUs whose LLVM tuning prefers 256-bit vectors (Intel's AVX-512 Xeons), or when another
    module set NUMBA_CPU_FEATURES first, the micro-kernel's vectors are still the plan's."""
    import llvmlite.binding as llvm

    features = llvm.get_host_cpu_features().flatten() + ",+prefer-256-bit"
    env = dict(os.environ, NUMBA_CPU_FEATURES=features, NUMBA_CACHE_DIR=str(tmp_path),
               PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", PREFER_256_SCRIPT], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    p = config.PLANS[np.dtype(np.float32)]
    assert int(result.stdout.split()[-1]) >= p.MR * p.NV


# ---------------------------------------------------------------------------------------------
# Products with one row (an output layer): shared out among threads (W A by inputs, dZ A^T by
# columns); networks whose products are all small get 1-D buffers, over which the engine is
# never compiled.


@pytest.mark.parametrize("n, k, m", [(1, 1100, 1000), (1, 1024, 1024), (3, 700, 1003),
                                     (2, 5, 200_003)])
def test_one_row_products_are_shared_among_threads(n, k, m, dtype):
    P = config.PLANS[np.dtype(dtype)]
    assert products.shared_out(n, k, m, P, 2) and products.shared_out(n, m, k, P, 2)
    assert not products.shared_out(n, k, m, P, 1)
    W, A, dZ = product_operands(n, k, m, dtype)
    Vbuf, Cbuf = gemm.buffers(products.product_shapes([k, n], m), dtype, slabs=2)
    tol = TOLERANCES[dtype][0]
    Z = np.full((n, m), 0.5, dtype)
    Vbuf[...] = np.nan  # what an earlier product left there (the partial sums start from zero)
    products.wa(W, A, Z, Vbuf, Cbuf)
    assert_close("W A + 0.5, shared by inputs", Z, exact(W, A) + 0.5, tol, dtype)
    Z = np.full((n, m), 0.5, dtype)  # rows of Vbuf one entry short of Z's partial sums: one thread
    products.wa(W, A, Z, np.zeros((2, n * m - 1), dtype), Cbuf)
    assert_close("W A + 0.5, on one thread", Z, exact(W, A) + 0.5, tol, dtype)
    dW = np.full((n, k), np.nan, dtype)
    products.dzat(dZ, A, dW, Vbuf, Cbuf)
    assert_close("dZ A^T, shared by columns", dW, exact(dZ, A.T), tol, dtype)
    # over a small network's 1-D buffers (one thread): never shared out (wa_shared and
    # dots_shared raise there), the same products on one thread
    empty = np.zeros(0, dtype)
    Z = np.full((n, m), 0.5, dtype)
    products.wa(W, A, Z, empty, empty)
    assert_close("W A + 0.5, over 1-D buffers", Z, exact(W, A) + 0.5, tol, dtype)
    dW = np.full((n, k), np.nan, dtype)
    products.dzat(dZ, A, dW, empty, empty)
    assert_close("dZ A^T, over 1-D buffers", dW, exact(dZ, A.T), tol, dtype)


def test_small_networks_get_buffers_without_the_engine(dtype):
    Vbuf, Cbuf = products.network_buffers([30, 16, 8, 1], 569, dtype)
    assert Vbuf.ndim == Cbuf.ndim == 1
    Vbuf2, _ = products.network_buffers([1000, 100, 10], 64, dtype)
    assert Vbuf2.ndim == 2 and Vbuf2.shape[0] == numba.get_num_threads()
    # a product past the engine's threshold, over 1-D buffers: the plain loop, still right
    W, A, dZ = product_operands(*BIG, dtype)
    tol = TOLERANCES[dtype][0]
    Z = np.zeros((BIG[0], BIG[2]), dtype)
    products.wa(W, A, Z, Vbuf, Cbuf)
    assert_close("W A over 1-D buffers", Z, exact(W, A), tol, dtype)
    dW = np.empty((BIG[0], BIG[1]), dtype)
    products.dzat(dZ, A, dW, Vbuf, Cbuf)
    assert_close("dZ A^T over 1-D buffers", dW, exact(dZ, A.T), tol, dtype)
    dA = np.empty((BIG[1], BIG[2]), dtype)
    products.wtdz(W, dZ, dA, Vbuf, Cbuf)
    assert_close("W^T dZ over 1-D buffers", dA, exact(W.T, dZ), tol, dtype)


# ---------------------------------------------------------------------------------------------
# The cache stamps: editing one file drops the cached kernels of exactly the modules that hold
# its code (itself and the modules that import it, transitively).


def test_editing_one_file_drops_only_its_dependents_caches(tmp_path, monkeypatch):
    import shutil

    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    package = tmp_path / "kernels" / "cpu"
    shutil.copytree(ROOT / "kernels" / "cpu", package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "kernels" / "scalar.py", tmp_path / "kernels" / "scalar.py")
    cache = package / "__pycache__"
    stems = sorted(config.kernel_sources(package))

    def fill():
        cache.mkdir(exist_ok=True)
        for stem in stems:
            (cache / f"{stem}.kernel-1.py311.nbi").write_text("index")
            (cache / f"{stem}.kernel-1.py311.1.nbc").write_text("code")

    def kept():
        return {stem for stem in stems if (cache / f"{stem}.kernel-1.py311.nbi").exists()}

    config.drop_stale_cache(package)  # first use: every module stamped
    fill()
    config.drop_stale_cache(package)
    assert kept() == set(stems)  # nothing changed: nothing dropped
    (package / "vmath.py").write_text((package / "vmath.py").read_text() + "\n# edited\n")
    config.drop_stale_cache(package)
    assert set(stems) - kept() == {"vmath", "elementwise", "reductions", "step", "network", "__init__"}
    fill()
    (package / "gemm.py").write_text((package / "gemm.py").read_text() + "\n# edited\n")
    config.drop_stale_cache(package)
    assert set(stems) - kept() == {"gemm", "products", "ladder", "elementwise", "step", "network",
                                   "__init__"}
    fill()
    (tmp_path / "kernels" / "scalar.py").write_text("# edited\n")
    config.drop_stale_cache(package)
    assert set(stems) - kept() == {"vmath", "elementwise", "reductions", "step", "network",
                                   "__init__", "scalar"}


def test_another_l1_size_changes_every_stamp(monkeypatch):
    """config.L1_BYTES is frozen into dots' machine code as the plan is: a machine with another
    L1 (the same plan) must not load kernels compiled for the first one."""
    before = config.source_stamps()
    monkeypatch.setattr(config, "L1_BYTES", 2 * config.L1_BYTES)
    after = config.source_stamps()
    assert before.keys() == after.keys() and all(before[s] != after[s] for s in before)


def test_packing_buffers_start_their_rows_on_cache_lines(dtype):
    Vbuf, Cbuf = gemm.buffers([(100, 1000, 64), (129, 1025, 515)], dtype, slabs=3)
    for buf in (Vbuf, Cbuf):
        assert buf.flags.c_contiguous and buf.shape[0] == 3
        assert all(buf[s].ctypes.data % config.LINE == 0 for s in range(3))
    v, c = gemm.buffer_sizes([(100, 1000, 64), (129, 1025, 515)], config.PLANS[np.dtype(dtype)])
    assert Vbuf.shape[1] >= v and Cbuf.shape[1] >= c


# ---------------------------------------------------------------------------------------------
# numba's OpenMP workers spin briefly, then sleep, between parallel regions unless the user chose
# otherwise; imported after torch, numba's pool shares torch's runtime; the environment is left as
# it was found (config.start_workers).

WAIT_POLICY_SCRIPT = """
import ctypes, os, sys
if sys.argv[1] == "torch first":
    import torch  # brings its own libgomp, read at this import
from kernels.cpu import config
config.ready()
import numba
print("layer", numba.threading_layer(), "left", os.environ.get("OMP_WAIT_POLICY"),
      os.environ.get("GOMP_SPINCOUNT"), flush=True)
# the runtime numba's pool called: the dynamic linker's record of its bindings (LD_DEBUG)
bindings = open(os.environ["LD_DEBUG_OUTPUT"] + "." + str(os.getpid())).read().splitlines()
runtime = [line.split(" to ")[1].split(" [")[0] for line in bindings
           if "omppool" in line and "`GOMP_parallel'" in line]
print("runtime", runtime, flush=True)
gomp = ctypes.CDLL(runtime[0]) if runtime else None
if hasattr(gomp, "omp_display_env"):
    gomp.omp_display_env(1)  # its settings, on stderr
"""


@pytest.mark.parametrize("users, order", [(None, "kernels first"), (None, "torch first"),
                                          ("ACTIVE", "kernels first")])
def test_openmp_workers_spin_briefly_then_sleep_unless_the_user_or_torch_says(users, order, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "NUMBA_THREADING_LAYER")}
    env.update(PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=str(tmp_path), LD_DEBUG="bindings",
               LD_DEBUG_OUTPUT=str(tmp_path / "ld"))
    if users:
        env["OMP_WAIT_POLICY"] = users
    result = subprocess.run([sys.executable, "-c", WAIT_POLICY_SCRIPT, order], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    if "layer omp" not in result.stdout:
        pytest.skip(f"numba's threading layer here is not OpenMP: {result.stdout.strip()}")
    if "runtime []" in result.stdout:
        pytest.skip("the dynamic linker did not record numba's bindings (LD_DEBUG: glibc only)")
    assert f"left {users} None" in result.stdout  # the environment as it was found
    runtime = result.stdout.split("runtime")[1]
    if order == "torch first":  # one set of workers for both libraries, none spinning beside
        assert "torch" in runtime, result.stdout  # the other's
        return
    assert "torch" not in runtime, result.stdout  # the libgomp numba was built against
    if users:
        assert f"OMP_WAIT_POLICY = '{users}'" in result.stderr, result.stderr
    else:  # libgomp shows PASSIVE when unset too; the spin count tells the settings apart
        assert "OMP_WAIT_POLICY = 'PASSIVE'" in result.stderr, result.stderr
        assert f"GOMP_SPINCOUNT = '{config.SPIN_COUNT}'" in result.stderr, result.stderr


# ---------------------------------------------------------------------------------------------
# Long sums: the cost and db over many columns.


def test_float32_cost_and_db_over_long_rows_match_torch():
    """A float32 sum of 14 x 500,000 terms in one running total was 2e-4 off (relative), past
    the float32 tolerance; the reductions add blocks of the row in float64 (reductions.py)."""
    from kernels.cpu import network as cpu
    from tests.torch_compare import check_against_torch

    rng = np.random.default_rng(5)
    n, m = 14, 500_000
    AL = rng.uniform(0.05, 0.95, (n, m)).astype(np.float32)
    Y = (rng.random((n, m)) < 0.5).astype(np.float32)
    J = cpu.compute_cost(AL, Y, "cross_entropy")
    check_against_torch(lambda AL, Y: -(Y * AL.log() + (1 - Y) * (1 - AL).log()).mean(),
                        {"AL": AL, "Y": Y}, value=np.float32(J), dtype=np.float32)
    A_prev, W, b = (rng.standard_normal(s).astype(np.float32) for s in [(1, m), (n, 1), (n, 1)])
    dZ = rng.standard_normal((n, m)).astype(np.float32) + 0.5
    _, _, db = cpu.linear_backward(dZ, (A_prev, W, b))
    check_against_torch(lambda dZ: dZ.sum(dim=1, keepdim=True), {"dZ": dZ}, value=db)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_row_partial_sums_lie_half_an_l1_way_from_the_rows_they_sum(dtype):
    """wa_inputs' partial sums (products._partial_sums) start on a cache line half an L1 way from
    A's rows, wherever the buffer lies: with rows of A one way apart, a tile's 8 rows share one
    set of L1, and sums in that set evicted them."""
    from kernels.cpu.products import _partial_sums

    way = config.PLANS[np.dtype(dtype)].L1_WAY
    A = np.zeros((8, way // np.dtype(dtype).itemsize), dtype)
    for shift in (0, 1, 16, 100):
        raw = np.zeros(2 * (A.shape[1] + way) + shift, dtype)
        Vbuf = raw[shift:].reshape(2, -1)
        for s in range(2):
            part = _partial_sums(Vbuf, s, A, 1, A.shape[1], way)
            start, row = part.ctypes.data, Vbuf[s].ctypes.data
            assert row <= start and start + part.nbytes <= row + Vbuf[s].nbytes
            assert start % config.LINE == row % config.LINE  # whole lines into the row
            assert abs((start - A.ctypes.data) % way - way // 2) < config.LINE, (shift, s)
