"""Matrix products: square sizes 256..4096 in float32 and float64, and the networks' own W A,
dZ A^T, W^T dZ (float32).

Every path's product is first checked against the exact product (float64 `A @ B` of the same
float32 operands) at the float32 tolerance and measure of tests/torch_compare.py (1e-4, over
the whole array), then timed.
"""

from functools import cache

import numpy as np
import pytest
from torch_compare import TOLERANCES, assert_close

from bench.paths import MATMUL_PATHS, require
from bench.workloads import NETWORK_GEMMS, SQUARE_GEMMS

F32_TOL = TOLERANCES[np.dtype(np.float32)][0]


@cache
def exact_product(gemm, dtype=np.float32):
    A, B = gemm.operands(dtype)
    return A.astype(np.float64) @ B.astype(np.float64)


def check_then_time(bench, path_name, gemm, group, dtype=np.float32, **details):
    path = require(path_name, "matmul", gemm.flops)
    bench.skip_if_too_big_for_ci(gemm.flops)
    A, B = gemm.operands(dtype)
    run, result = path.matmul(gemm, A, B)

    def check():
        C = result()
        assert C.shape == (gemm.M, gemm.N), f"{path_name}: C has shape {C.shape}"
        assert C.dtype == dtype, f"{path_name}: C has dtype {C.dtype}, expected {np.dtype(dtype)}"
        assert_close(f"{path_name} {gemm.name}", C, exact_product(gemm, dtype),
                     TOLERANCES[np.dtype(dtype)][0], dtype)

    bench(run, check, group=group, path=path, workload=gemm.name, flops=gemm.flops,
          dtype=np.dtype(dtype).name, M=gemm.M, N=gemm.N, K=gemm.K, **details)


def ids(gemms):
    return [g.name.replace(" ", "-") for g in gemms]


@pytest.mark.parametrize("gemm", SQUARE_GEMMS, ids=ids(SQUARE_GEMMS))
@pytest.mark.parametrize("path_name", MATMUL_PATHS)
def test_matmul_square(bench, path_name, gemm):
    check_then_time(bench, path_name, gemm, "matmul: square float32", size=gemm.M)


@pytest.mark.parametrize("gemm", NETWORK_GEMMS, ids=ids(NETWORK_GEMMS))
@pytest.mark.parametrize("path_name", MATMUL_PATHS)
def test_matmul_network_shapes(bench, path_name, gemm):
    check_then_time(bench, path_name, gemm, "matmul: network shapes float32")


FLOAT64_PATHS = ["reference", "cpu", "torch-cpu"]


@pytest.mark.parametrize("gemm", SQUARE_GEMMS, ids=ids(SQUARE_GEMMS))
@pytest.mark.parametrize("path_name", FLOAT64_PATHS)
def test_matmul_square_float64(bench, path_name, gemm):
    check_then_time(bench, path_name, gemm, "matmul: square float64", dtype=np.float64,
                    size=gemm.M)
