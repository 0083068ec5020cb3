"""One cache of compiled kernels, and the numba type names the kernels are specialised on.

Every kernel in this package is written by a *factory* (`*_kernel`, e.g. elementwise.update_kernel):
a plain Python function that takes the settings fixed at compile time (the dtype, which operand is
transposed, the tile sizes) and returns the kernel's Python source function. Settings close over
the kernel as constants, so a float32 kernel sees `ONE = float32(1)` and never mixes in a float64
literal, and a transposed operand is a branch the compiler folds away. `kernel(factory,
*settings)` compiles each combination once; the PTX test compiles the same source functions with
`numba.cuda.compile_ptx` (tools/kernel_cases.py lists them).
"""

from functools import lru_cache

import numpy as np
from numba import cuda, types

from kernels import cuda_target

from . import config

NUMBA_TYPES = {np.dtype(np.float32): types.float32, np.dtype(np.float64): types.float64}


def numba_type(dtype):
    """The numba scalar type of a NumPy float dtype (float32 or float64)."""
    return NUMBA_TYPES[np.dtype(dtype)]


def matrix_type(dtype):
    """The numba type of a C-contiguous 2-D array of `dtype` (what every kernel takes)."""
    return types.Array(numba_type(dtype), 2, "C")


def vector_type(dtype):
    """The numba type of a C-contiguous 1-D array of `dtype`."""
    return types.Array(numba_type(dtype), 1, "C")


def device_function(fn):
    """A device function that the compiler inlines into every kernel calling it (LLVM's
    alwaysinline), so that the local arrays a kernel passes it stay in registers. In the
    simulator, a plain device function."""
    if config.SIMULATOR:
        return cuda.jit(device=True)(fn)
    return cuda.jit(device=True, forceinline=True)(fn)


def grid(rows, columns, rows_per_block, columns_per_block):
    """The grid (x, y, z) for `rows` x `columns` items: columns on x, rows on y and, past CUDA's
    65,535 blocks along y (config.GRID_Y_LIMIT), on z too; a kernel finds its block of rows at
    blockIdx.z * gridDim.y + blockIdx.y, and a block past the last row has nothing to do.
    Both counts must be positive: a launch of zero blocks is an error on a GPU, so the launchers
    skip empty arrays."""
    if rows <= 0 or columns <= 0:
        raise ValueError(f"no grid for {rows} x {columns} items: an empty array needs no launch")
    x = -(-columns // columns_per_block)
    row_blocks = -(-rows // rows_per_block)
    y = min(row_blocks, config.GRID_Y_LIMIT)
    z = -(-row_blocks // y)
    if x > config.MAX_GRID[0] or z > config.MAX_GRID[2]:  # more data than any GPU's memory
        raise ValueError(f"{rows} x {columns} items need more blocks than a CUDA grid has")
    return x, y, z


@device_function
def cell():
    """(i, j) of this thread in a 2-D launch on `grid`'s layout: j along x, i along y, then z."""
    j = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
    i = (cuda.blockIdx.z * cuda.gridDim.y + cuda.blockIdx.y) * cuda.blockDim.y + cuda.threadIdx.y
    return i, j


@lru_cache(maxsize=None)
def kernel(factory, *settings):
    """The compiled CUDA kernel `factory(*settings)`, built once per combination of settings.
    In the simulator, the first kernel built also makes its shared arrays thread-safe
    (kernels/cuda_target.py)."""
    if config.SIMULATOR:
        cuda_target.install_shared_array_fix()
    return cuda.jit(factory(*settings))
