"""The benchmark's path adapters (paths.py) give the reference's answers: an ordinary test, not a
benchmark, so the code that only a GPU machine times is still run on every machine.

kernels.cuda runs here in numba's CUDA simulator where there is no GPU (tests/conftest.py), at
tiny shapes; torch-cuda needs a CUDA build of torch and is skipped without one.
"""

import numpy as np
import pytest
from torch_compare import TOLERANCES, assert_close

from bench.paths import PATHS, CudaKernelsPath
from bench.workloads import Gemm, Network, layer_gemms
from reference import network as ref

F32_TOL = TOLERANCES[np.dtype(np.float32)][0]
TINY_NET = Network("tiny", (3, 4, 2), 5)
TINY_GEMMS = [Gemm("tiny", 3, 5, 4)] + layer_gemms(TINY_NET.layer_dims, TINY_NET.m, 2)


def usable(name, kind):
    """The path, or a skip: a CUDA path also runs in the simulator here (never timed)."""
    path = PATHS[name]
    reason = path.skip_reason(kind)
    if reason and isinstance(path, CudaKernelsPath) and "simulator" in reason:
        reason = None  # tests/conftest.py switched the simulator on: tiny shapes run
    if reason:
        pytest.skip(f"{name}: {reason}")
    return path


@pytest.mark.parametrize("gemm", TINY_GEMMS, ids=lambda g: g.name.replace(" ", "-"))
@pytest.mark.parametrize("name", list(PATHS))
def test_matmul_adapter(name, gemm):
    path = usable(name, "matmul")
    A, B = gemm.operands(np.float32)
    run, result = path.matmul(gemm, A, B)
    run()
    assert_close(f"{name} {gemm.name}", result(), A.astype(np.float64) @ B.astype(np.float64),
                 F32_TOL, np.float32)


@pytest.mark.parametrize("name", ["cpu", "cuda", "torch-cpu", "torch-cuda"])
def test_train_step_adapter(name):
    path = usable(name, "train_step")
    X, Y = TINY_NET.data(np.float32)
    start = ref.initialize_parameters(TINY_NET.layer_dims, seed=0, dtype=np.float32)
    expected = {k: v.copy() for k, v in start.items()}
    expected_costs = [ref.train_step(expected, X, Y, 0.1) for _ in range(2)]
    parameters = path.load(start)
    costs = [path.train_step(parameters, *path.data(X, Y), 0.1),  # the single-step benchmark's way
             path.train_step(parameters, X, Y, 0.1)]  # the epoch's: a NumPy batch
    assert_close(f"{name} costs", costs, expected_costs, F32_TOL, np.float32)
    ours = path.unload(parameters)
    for key, value in expected.items():
        assert_close(f"{name} {key}", ours[key], value, F32_TOL, np.float32)
