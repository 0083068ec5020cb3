"""Launch settings for the CUDA path, in one place.

On a real GPU the blocks are sized for throughput. In numba's CUDA simulator every CUDA thread
is a Python thread, so the same kernels run with tiny blocks there. Kernels are compiled per
setting and the launchers read these values at call time, so a test may change them.
"""

try:  # numba-cuda's own config (numba-cuda 0.2x and later)
    from numba.cuda.core import config as numba_config
except ImportError:  # an older numba-cuda reads numba's
    from numba.core import config as numba_config

SIMULATOR = bool(numba_config.ENABLE_CUDASIM)

# CUDA's limits on a grid (every GPU since compute capability 3.0): a launch with more blocks
# along an axis fails on a GPU (the simulator accepts it). Kernels whose rows may need more blocks
# than GRID_Y_LIMIT walk them with a stride of gridDim.y; a test may lower it to see them do so.
MAX_GRID = (2**31 - 1, 65535, 65535)
GRID_Y_LIMIT = MAX_GRID[1]

# Settings for a real GPU (also what the PTX and SASS checks compile).
GPU_ELEMENTWISE_BLOCK = (32, 8)  # (threads over the m columns, threads over the n rows)
GPU_GEMM_NAIVE_BLOCK = (32, 8)
GPU_GEMM_TILE = 16  # shared-memory rung: TILE x TILE threads compute a TILE x TILE block of C
# register rung: a block computes BM x BN outputs, BK deep per stage, each thread TM x TN of them
GPU_GEMM_REGISTER = (128, 128, 16, 8, 8)  # (BM, BN, BK, TM, TN): 256 threads
# a product with fewer 128 x 128 tiles than the GPU has SMs (a 1024 x 1024 layer output has 64,
# an H100 132 SMs) would leave SMs idle: it uses 64 x 64 tiles, 4 x 4 per thread, instead
GPU_GEMM_REGISTER_SMALL = (64, 64, 16, 4, 4)  # 256 threads
GPU_GEMM_MIN_BLOCKS = None  # None: the device's number of SMs
GPU_REDUCE_THREADS = 256  # threads per block of the tree reductions (a power of two)
GPU_COST_BLOCKS = 64  # blocks of the first cost-reduction pass

# Settings for the simulator: a few Python threads per block. The register rung's TM and TN are
# multiples of 4 (it reads 4 consecutive values at a time), BK at least 4.
SIM_ELEMENTWISE_BLOCK = (4, 4)
SIM_GEMM_NAIVE_BLOCK = (4, 4)
SIM_GEMM_TILE = 4
SIM_GEMM_REGISTER = (16, 16, 4, 8, 8)  # 4 threads, two 4-row and two 4-column groups each
SIM_GEMM_REGISTER_SMALL = (8, 8, 4, 4, 4)  # 4 threads
SIM_GEMM_MIN_BLOCKS = 2
SIM_REDUCE_THREADS = 4
SIM_COST_BLOCKS = 2

if SIMULATOR:
    ELEMENTWISE_BLOCK = SIM_ELEMENTWISE_BLOCK
    GEMM_NAIVE_BLOCK = SIM_GEMM_NAIVE_BLOCK
    GEMM_TILE = SIM_GEMM_TILE
    GEMM_REGISTER = SIM_GEMM_REGISTER
    GEMM_REGISTER_SMALL = SIM_GEMM_REGISTER_SMALL
    GEMM_MIN_BLOCKS = SIM_GEMM_MIN_BLOCKS
    REDUCE_THREADS = SIM_REDUCE_THREADS
    COST_BLOCKS = SIM_COST_BLOCKS
else:
    ELEMENTWISE_BLOCK = GPU_ELEMENTWISE_BLOCK
    GEMM_NAIVE_BLOCK = GPU_GEMM_NAIVE_BLOCK
    GEMM_TILE = GPU_GEMM_TILE
    GEMM_REGISTER = GPU_GEMM_REGISTER
    GEMM_REGISTER_SMALL = GPU_GEMM_REGISTER_SMALL
    GEMM_MIN_BLOCKS = GPU_GEMM_MIN_BLOCKS
    REDUCE_THREADS = GPU_REDUCE_THREADS
    COST_BLOCKS = GPU_COST_BLOCKS

# Which GEMM rung the network uses: "naive", "tiled" or "register".
GEMM_RUNG = "register"


def low_occupancy_warnings(enabled):
    """numba-cuda warns (NumbaPerformanceWarning) at every launch of fewer than 128 blocks; the
    benchmarks launch small grids on purpose and switch it off. Returns the previous setting."""
    previous = bool(numba_config.CUDA_LOW_OCCUPANCY_WARNINGS)
    numba_config.CUDA_LOW_OCCUPANCY_WARNINGS = int(enabled)
    return previous
