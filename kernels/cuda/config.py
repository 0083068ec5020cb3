"""Launch settings for the CUDA path, in one place.

On a real GPU the blocks are sized for throughput. In numba's CUDA simulator every CUDA thread
is a Python thread, so the same kernels run with tiny blocks there. Kernels are compiled per
setting and the launchers read these values at call time, so a test may change them.
"""

from numba.cuda.core import config as _numba_config

SIMULATOR = bool(_numba_config.ENABLE_CUDASIM)

# Settings for a real GPU (also what the PTX test compiles).
GPU_ELEMENTWISE_BLOCK = (32, 8)  # (threads over the m columns, threads over the n rows)
GPU_GEMM_NAIVE_BLOCK = (32, 8)
GPU_GEMM_TILE = 16  # shared-memory rung: TILE x TILE threads compute a TILE x TILE block of C
# register rung: a block computes BM x BN outputs, BK deep per stage, each thread TM x TN of them
GPU_GEMM_REGISTER = (128, 128, 8, 8, 8)  # (BM, BN, BK, TM, TN): 256 threads
# a product with fewer 128 x 128 tiles than the GPU has SMs (a 1024 x 1024 layer output has 64,
# an H100 132 SMs) would leave SMs idle: it uses 64 x 64 tiles, 4 x 4 per thread, instead
GPU_GEMM_REGISTER_SMALL = (64, 64, 8, 4, 4)  # 256 threads
GPU_GEMM_MIN_BLOCKS = None  # None: the device's number of SMs
GPU_REDUCE_THREADS = 256  # threads per block of the tree reductions (a power of two)
GPU_COST_BLOCKS = 64  # blocks of the first cost-reduction pass

# Settings for the simulator: a few Python threads per block.
SIM_ELEMENTWISE_BLOCK = (4, 4)
SIM_GEMM_NAIVE_BLOCK = (4, 4)
SIM_GEMM_TILE = 4
SIM_GEMM_REGISTER = (8, 8, 4, 2, 2)  # 16 threads
SIM_GEMM_REGISTER_SMALL = (4, 4, 2, 2, 2)  # 4 threads
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
