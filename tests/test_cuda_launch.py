"""kernels.cuda's launches: inside CUDA's grid limits at any size, none of zero blocks, and the
register-tiled GEMM's staging free of shared-memory bank conflicts.

The limits are tested on the launch configurations themselves (nothing is launched at those
sizes); the kernels' side of it (rows on grid y, then z) runs in the simulator with the y limit
lowered to 2 blocks.
"""

import numpy as np
import pytest

from tests.conftest import SIMULATED, load_path
from tests.test_cuda_kernels import LAYOUTS, Launches, operands

MAX_X, MAX_Y, MAX_Z = 2**31 - 1, 65535, 65535
SIZES = [1, 7, 524_280, 524_281, 8 * 65535 + 1, 10**9, 4 * 10**9]


@pytest.fixture
def kc():
    return load_path("cuda").module


@pytest.fixture
def gpu_settings(kc, monkeypatch):
    """The launch settings of a real GPU, whatever runs here (nothing is launched with them)."""
    config = kc.config
    for name in ("ELEMENTWISE_BLOCK", "GEMM_NAIVE_BLOCK", "GEMM_TILE", "GEMM_REGISTER",
                 "GEMM_REGISTER_SMALL", "REDUCE_THREADS", "COST_BLOCKS"):
        monkeypatch.setattr(config, name, getattr(config, f"GPU_{name}"))
    monkeypatch.setattr(config, "GEMM_MIN_BLOCKS", 132)  # an H100's SMs
    monkeypatch.setattr(config, "GRID_Y_LIMIT", MAX_Y)
    return config


def check_grid(grid, block, rows, columns, rows_per_block, columns_per_block):
    x, y, z = grid
    assert 1 <= x <= MAX_X and 1 <= y <= MAX_Y and 1 <= z <= MAX_Z, grid
    assert np.prod(block) <= 1024, block
    assert x * columns_per_block >= columns > (x - 1) * columns_per_block
    # every row block is reached (blockIdx.z * gridDim.y + blockIdx.y), at most one z layer extra
    row_blocks = -(-rows // rows_per_block)
    assert row_blocks <= y * z < row_blocks + y


@pytest.mark.parametrize("rows", SIZES)
@pytest.mark.parametrize("columns", [1, 1000, 10**9])
def test_elementwise_grid_stays_within_cuda_limits(kc, gpu_settings, rows, columns):
    from kernels.cuda import elementwise

    grid, block = elementwise.launch_config((rows, columns))
    check_grid(grid, block, rows, columns, block[1], block[0])


def test_524281_rows_no_longer_overflow_grid_y(kc, gpu_settings):
    """Before issue 9: 8 threads a block along y, so 524,281 rows asked for 65,536 blocks on y."""
    from kernels.cuda import elementwise, ladder

    assert elementwise.launch_config((524_281, 10))[0] == (1, 65535, 2)
    assert ladder.launch_config("naive", 524_281, 10)[0] == (1, 65535, 2)


@pytest.mark.parametrize("rows", SIZES)
@pytest.mark.parametrize("columns", [1, 1000, 10**9])
@pytest.mark.parametrize("rung", ["naive", "tiled", "register"])
def test_gemm_grid_stays_within_cuda_limits(kc, gpu_settings, rung, rows, columns):
    from kernels.cuda import ladder

    grid, block, register = ladder.launch_config(rung, rows, columns)
    if rung == "register":
        BM, BN, _, TM, TN = register
        assert block == (BN // TN, BM // TM)
        rows_per_block, columns_per_block = BM, BN
    else:
        rows_per_block, columns_per_block = block[1], block[0]
    check_grid(grid, block, rows, columns, rows_per_block, columns_per_block)


@pytest.mark.parametrize("rows", SIZES)
def test_bias_gradient_grid_stays_within_cuda_limits(kc, gpu_settings, rows):
    from kernels.cuda import reductions

    grid, threads = reductions.bias_gradient_launch(rows)
    check_grid(grid, (threads,), rows, 1, 1, 1)


def test_a_grid_for_nothing_is_refused(kc):
    from kernels.cuda import compile

    for rows, columns in ((0, 5), (5, 0), (0, 0)):
        with pytest.raises(ValueError, match="empty array needs no launch"):
            compile.grid(rows, columns, 8, 32)


# ---------------------------------------------------------------------------------------------
# The kernels reach rows past grid y (launched in the simulator, or on a GPU when there is one)


@pytest.fixture
def two_blocks_on_y(kc, monkeypatch):
    monkeypatch.setattr(kc.config, "GRID_Y_LIMIT", 2)
    return kc


@pytest.mark.parametrize("rung", ["naive", "tiled", "register", "register-small"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_gemm_reaches_rows_past_the_y_limit(two_blocks_on_y, monkeypatch, rung, layout):
    from numba import cuda

    kc = two_blocks_on_y
    if rung.startswith("register"):
        monkeypatch.setattr(kc.config, "GEMM_MIN_BLOCKS", 10**9 if rung == "register-small" else 0)
        rung = "register"
    # 5 row blocks of the largest simulator tile (16 rows): y = 2, z = 3, one block past the end
    M = 5 * (16 if SIMULATED else 128) - 3
    grid, _, _ = kc.ladder.launch_config(rung, M, 5)
    assert grid[1] == 2 and grid[2] >= 2
    trans_a, trans_b = LAYOUTS[layout]
    A, B, expected = operands(M, 5, 6, trans_a, trans_b, np.float64)
    C = kc.step.matmul(cuda.to_device(A), cuda.to_device(B), trans_a=trans_a, trans_b=trans_b,
                       rung=rung).copy_to_host()
    np.testing.assert_allclose(C, expected, rtol=1e-12, atol=1e-12)


def test_elementwise_and_bias_gradient_reach_rows_past_the_y_limit(two_blocks_on_y):
    from numba import cuda

    from kernels.cuda import elementwise, reductions
    from kernels.scalar import ACTIVATION_CODES

    kc = two_blocks_on_y
    n = 5 * kc.config.ELEMENTWISE_BLOCK[1] + 1  # 6 row blocks: y = 2, z = 3
    assert elementwise.launch_config((n, 3))[0][1:] == (2, 3)
    rng = np.random.default_rng(0)
    Z, b = rng.standard_normal((n, 3)), rng.standard_normal((n, 1))
    Z_d, A_d = cuda.to_device(Z), cuda.device_array((n, 3))
    elementwise.activation(Z_d, A_d, ACTIVATION_CODES["relu"])
    np.testing.assert_array_equal(A_d.copy_to_host(), np.maximum(Z, 0))
    elementwise.bias_activation_forward(Z_d, cuda.to_device(b), A_d, ACTIVATION_CODES["relu"])
    np.testing.assert_array_equal(A_d.copy_to_host(), np.maximum(Z + b, 0))
    db = cuda.device_array((n, 1))
    reductions.bias_gradient(cuda.to_device(Z), db)  # n blocks: y = 2, z = ceil(n / 2)
    np.testing.assert_allclose(db.copy_to_host(), Z.sum(axis=1, keepdims=True), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Empty arrays: nothing launched, and the results of an empty sum


def test_empty_arrays_launch_nothing(kc, monkeypatch):
    from numba import cuda

    from kernels.cuda import elementwise, reductions

    counter = Launches(monkeypatch)
    empty = cuda.device_array((0, 4))
    for rung in ("naive", "tiled", "register"):
        kc.step.matmul(cuda.device_array((0, 3)), cuda.device_array((3, 4)), rung=rung)
        kc.step.matmul(cuda.device_array((2, 3)), cuda.device_array((3, 0)), rung=rung)
    elementwise.activation(empty, empty, 0)
    elementwise.bias_activation_forward(empty, cuda.device_array((0, 1)), empty, 0)
    elementwise.activation_backward(empty, empty, empty, 0)
    elementwise.output_gradient(empty, empty, empty, empty, 2, 0)
    elementwise.update(empty, empty, cuda.device_array((0, 1)), cuda.device_array((0, 1)), 0.1)
    elementwise.gather_columns(empty, cuda.to_device(np.arange(3)), 0, cuda.device_array((2, 0)))
    reductions.bias_gradient(empty, cuda.device_array((0, 1)))
    assert counter.count == 0


def test_empty_sums_are_zero_and_an_empty_cost_is_nan(kc):
    from numba import cuda

    from kernels import scalar
    from kernels.cuda import config, elementwise, reductions

    for rung in ("naive", "tiled", "register"):  # K = 0: C = 0
        C = cuda.to_device(np.full((3, 5), np.nan))
        kc.ladder.gemm(cuda.device_array((3, 0)), cuda.device_array((0, 5)), C, rung=rung)
        np.testing.assert_array_equal(C.copy_to_host(), 0)
    db = cuda.to_device(np.full((2, 1), np.nan))
    reductions.bias_gradient(cuda.device_array((2, 0)), db)
    np.testing.assert_array_equal(db.copy_to_host(), 0)
    b = cuda.to_device(np.ones((2, 1)))  # a layer without inputs still updates b
    elementwise.update(cuda.device_array((2, 0)), cuda.device_array((2, 0)), b,
                       cuda.to_device(np.full((2, 1), 2.0)), 0.25)
    np.testing.assert_array_equal(b.copy_to_host(), 0.5)
    out = cuda.device_array(1)
    reductions.cost(cuda.device_array((1, 0)), cuda.device_array((1, 0)), scalar.SQUARED_TERM,
                    cuda.device_array(config.COST_BLOCKS), out)
    assert np.isnan(out.copy_to_host()[0])


# ---------------------------------------------------------------------------------------------
# The register rung stages its tiles without shared-memory bank conflicts


@pytest.mark.parametrize("setting", ["GPU_GEMM_REGISTER", "GPU_GEMM_REGISTER_SMALL"])
@pytest.mark.parametrize("operand", ["A", "B"])
@pytest.mark.parametrize("along_k", [True, False], ids=["read-along-k", "read-along-rows"])
def test_register_rung_stages_each_tile_once_and_without_bank_conflicts(kc, setting, operand,
                                                                         along_k):
    """tile_slot is the kernel's own mapping (an njit function it calls). Every element of the
    tile is staged once; at every slot a warp's 32 stores to tile[k * (rows + 4) + r] fall in 32
    different banks (4-byte words, 32 banks); read along k, a warp reads 32 / KC rows of KC
    consecutive k (KC floats: one 32-byte sector of a row)."""
    from kernels.cuda.ladder import tile_slot

    BM, BN, BK, TM, TN = getattr(kc.config, setting)
    threads = (BM // TM) * (BN // TN)
    rows, kc_ = (BM if operand == "A" else BN), min(8, BK)
    slots = rows * BK // threads
    seen = np.zeros((rows, BK), int)
    for s in range(slots):
        for warp in range(threads // 32):
            lanes = [tile_slot(t, s, rows, along_k, threads, kc_) for t in range(32 * warp, 32 * warp + 32)]
            for r, k in lanes:
                seen[r, k] += 1
            banks = {(k * (rows + 4) + r) % 32 for r, k in lanes}
            assert len(banks) == 32, (s, warp, sorted(banks))
            if along_k:
                assert len({r for r, _ in lanes}) == 32 // kc_
                for row in {r for r, _ in lanes}:
                    ks = sorted(k for r, k in lanes if r == row)
                    assert ks == list(range(ks[0], ks[0] + kc_)) and ks[0] % kc_ == 0
            else:
                assert len({k for _, k in lanes}) == 1
                assert sorted(r for r, _ in lanes) == list(range(lanes[0][0], lanes[0][0] + 32))
    assert (seen == 1).all()



# ---------------------------------------------------------------------------------------------
# numba-cuda's low-occupancy warning: off inside the benchmarks


def test_the_benchmarks_gpu_path_switches_low_occupancy_warnings_off(kc):
    from bench.paths import PATHS
    from reference import network as ref

    config = kc.config
    previous = config.low_occupancy_warnings(True)
    try:
        assert config.numba_config.CUDA_LOW_OCCUPANCY_WARNINGS == 1
        PATHS["cuda"].load(ref.initialize_parameters([2, 3, 1]))
        assert config.numba_config.CUDA_LOW_OCCUPANCY_WARNINGS == 0
    finally:
        config.low_occupancy_warnings(previous)


@pytest.mark.gpu
def test_gpu_a_small_launch_warns_only_while_warnings_are_on(kc, recwarn):
    if SIMULATED:
        pytest.skip("the simulator never warns about occupancy")
    from numba import cuda

    from kernels.cuda import reductions

    def warned():  # numba-cuda has its own NumbaPerformanceWarning class (numba.cuda.core.errors)
        return any(w.category.__name__ == "NumbaPerformanceWarning" for w in recwarn.list)

    db = cuda.device_array((1, 1))
    config = kc.config
    previous = config.low_occupancy_warnings(True)
    try:
        reductions.bias_gradient(cuda.to_device(np.ones((1, 3))), db)  # one block
        assert warned()
        recwarn.clear()
        config.low_occupancy_warnings(False)
        reductions.bias_gradient(cuda.to_device(np.ones((1, 3))), db)
        assert not warned()
    finally:
        config.low_occupancy_warnings(previous)
