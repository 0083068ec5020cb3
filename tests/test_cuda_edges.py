"""Every GEMM rung at awkward shapes, twice: the output starts as NaN (so an entry no thread
writes shows), the two runs agree bit for bit, and both match the exact product.

On a GPU (tools/gpu_check.py's phase b) the shapes cross the real tile sizes: 1 x 1 x 1,
127 x 129 x 7 and 129 x 257 x 9 (one past and one short of 128-wide tiles, K short of a 16-deep
stage), 4097 x 65 x 33 (4097 rows: 33 row blocks of 128, the last holding one row). In the
simulator the like shapes at its tile sizes (16 x 16 x 4 register tiles), in float32.
"""

import numpy as np
import pytest

from tests.conftest import SIMULATED, load_path
from tests.test_cuda_kernels import GEMM_TOL, LAYOUTS, RUNGS, operands
from tests.torch_compare import rel_error

SHAPES = ([(1, 1, 1), (15, 17, 3), (33, 9, 5)] if SIMULATED else
          [(1, 1, 1), (127, 129, 7), (129, 257, 9), (4097, 65, 33)])
# the simulator runs float32 only (its float64 GEMMs: tests/test_cuda_kernels.py)
DTYPES = [np.float32] if SIMULATED else [np.float64, np.float32]


@pytest.fixture
def kc():
    return load_path("cuda").module


def run_twice(kc, A, B, M, N, trans_a, trans_b, rung):
    from numba import cuda

    A_d, B_d = cuda.to_device(A), cuda.to_device(B)
    results = []
    for _ in range(2):
        C = cuda.to_device(np.full((M, N), np.nan, A.dtype))
        kc.step.matmul(A_d, B_d, out=C, trans_a=trans_a, trans_b=trans_b, rung=rung)
        results.append(C.copy_to_host())
    return results


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("rung", RUNGS)
def test_gemm_edge_shape_fills_every_entry_and_repeats_bit_for_bit(kc, rung, layout, dtype, shape,
                                                                  monkeypatch):
    M, N, K = shape
    if rung.startswith("register"):  # force the tile setting: the large one, or the small one
        monkeypatch.setattr(kc.config, "GEMM_MIN_BLOCKS", 10**9 if rung == "register-small" else 0)
        rung = "register"
    trans_a, trans_b = LAYOUTS[layout]
    A, B, expected = operands(M, N, K, trans_a, trans_b, dtype, seed=M + N + K)
    first, second = run_twice(kc, A, B, M, N, trans_a, trans_b, rung)
    assert not np.isnan(first).any(), f"{np.isnan(first).sum()} entries of C never written"
    np.testing.assert_array_equal(first.view(np.uint8), second.view(np.uint8))
    err = rel_error(first, expected, entrywise=False)
    assert err <= GEMM_TOL[np.dtype(dtype)], f"{rung} {layout} {dtype}: relative error {err:.3g}"
