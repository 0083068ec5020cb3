"""The CPU path's own kernels against NumPy: every rung of the matmul ladder and the network's three
products (serial and parallel). The fused train_step has its own file, test_cpu_step.py.

The network API itself (forward, backward, train_step, ... against torch) is tested on this path
by the parametrized tests in test_network.py, test_activations.py, test_bad_input.py and
test_training.py.

Operands are uniform in [0, 1): with no cancellation every entry of a product is a sum of K
positive terms, known to K eps of itself in any summation order, so the relative error of the
test harness applies entry by entry in float64 (and over the whole array in float32, as there).
"""

import numpy as np
import pytest

from kernels.cpu import matmul, matmul_ikj, matmul_naive, products
from kernels.cpu.config import PARALLEL_MIN_MACS, TILE_KC, TILE_NC
from kernels.cpu.gemm import blocked_buffers
from tests.torch_compare import TOLERANCES, assert_close

LADDER = {"naive": matmul_naive, "ikj": matmul_ikj, "tiled": matmul}

# (M, K, N): ones, primes, and sizes just past the block sizes of the fast rung (K > TILE_KC:
# two k-blocks with a short one; N > TILE_NC: a partial column block).
SHAPES = [(1, 1, 1), (1, 7, 1), (3, 5, 7), (4, 4, 4), (17, 131, 29), (5, 2, 3),
          (67, 525, 261), (9, TILE_KC + 9, TILE_NC + 1)]
LARGE = [(129, 1025, 515), (256, 256, 256), (130, 2 * TILE_KC + 7, 33),
         (37, 700, 401)]  # the last one: B past UNBLOCKED_MAX_BYTES in float64 only


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


def test_matmul_copies_transposed_and_fortran_ordered_operands(dtype):
    A, B = operands((37, 19), (23, 37), dtype)  # A^T is (19, 37), B^T is (37, 23)
    expected = exact(A.T, B.T)
    assert_close("A^T B^T", matmul(A.T, B.T), expected, TOLERANCES[dtype][0], dtype)
    assert_close("Fortran", matmul(np.asfortranarray(A.T), np.asfortranarray(B.T)), expected,
                 TOLERANCES[dtype][0], dtype)
    assert_close("strided", matmul(A.T[::2], B.T), exact(A.T[::2], B.T), TOLERANCES[dtype][0],
                 dtype)


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


# ---------------------------------------------------------------------------------------------
# The network's three products: (n, k, m) as in W (n, k), A_prev (k, m), dZ (n, m).

PRODUCT_SHAPES = [(1, 1, 1), (1, 3, 1), (3, 1, 5), (4, 8, 4), (10, 2, 100), (7, 17, 13),
                  (31, 30, 569), (9, 1000, 64)]
BIG = (100, 1000, 64)  # 6.4e6 multiply-adds: past PARALLEL_MIN_MACS, so the prange kernels run


def product_operands(n, k, m, dtype):
    rng = np.random.default_rng(n * 10007 + k * 101 + m)
    return tuple(rng.random(s).astype(dtype) for s in [(n, k), (k, m), (n, m)])


@pytest.mark.parametrize("n, k, m", PRODUCT_SHAPES + [BIG])
def test_products_match_numpy(n, k, m, dtype):
    W, A, dZ = product_operands(n, k, m, dtype)
    tol = TOLERANCES[dtype][0]
    assert_close("W A", products.w_a(W, A), exact(W, A), tol, dtype)
    assert_close("dZ A^T", products.dz_at(dZ, A), exact(dZ, A.T), tol, dtype)
    assert_close("W^T dZ", products.wt_dz(W, dZ), exact(W.T, dZ), tol, dtype)


def blocked_wa(W, A, Z):
    products.blocked_product(W, A, Z, True, *blocked_buffers(W.shape[0], W.dtype))


def blocked_wtdz(W, dZ, dA):
    products.blocked_product(W.T, dZ, dA, False, *blocked_buffers(W.shape[1], W.dtype))


VARIANTS = {
    "serial": (products.wa_into, products.dzat_into, products.wtdz_into),
    "parallel": (products.wa_into_parallel, products.dzat_into_parallel,
                 products.wtdz_into_parallel),
    "blocked": (blocked_wa, products.dzat_into_parallel, blocked_wtdz),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("n, k, m", [(7, 17, 13), (33, 9, 70), (13, TILE_KC + 3, TILE_NC + 9)])
def test_serial_parallel_and_blocked_product_kernels_agree_with_numpy(variant, n, k, m, dtype):
    """Every variant on the same shapes (the size rule would pick another for most of them)."""
    W, A, dZ = product_operands(n, k, m, dtype)
    wa_into, dzat_into, wtdz_into = VARIANTS[variant]
    Z = np.full((n, m), 0.5, dtype)  # wa accumulates onto Z (it holds b in the network)
    wa_into(W, A, Z)
    dW = np.full((n, k), np.nan, dtype)  # dzat and wtdz overwrite every entry
    dzat_into(dZ, A, dW)
    dA = np.full((k, m), np.nan, dtype)
    wtdz_into(W, dZ, dA)
    tol = TOLERANCES[dtype][0]
    assert_close("W A + 0.5", Z, exact(W, A) + 0.5, tol, dtype)
    assert_close("dZ A^T", dW, exact(dZ, A.T), tol, dtype)
    assert_close("W^T dZ", dA, exact(W.T, dZ), tol, dtype)


def test_big_product_is_above_the_parallel_threshold():
    n, k, m = BIG
    assert n * k * m >= PARALLEL_MIN_MACS


def test_products_reject_mismatched_operands():
    with pytest.raises(ValueError, match=r"A has shape \(4, 2\); expected \(3, 2\) to match W \(5, 3\)"):
        products.w_a(np.ones((5, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"A has shape \(3, 4\); expected \(3, 2\) to match dZ \(5, 2\)"):
        products.dz_at(np.ones((5, 2)), np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"dZ has shape \(4, 2\); expected \(5, 2\) to match W \(5, 3\)"):
        products.wt_dz(np.ones((5, 3)), np.ones((4, 2)))
