"""One cache of compiled kernels, and the numba type names the kernels are specialised on.

Every kernel in this package is written by a *factory*: a plain Python function that takes the
settings fixed at compile time (the dtype, which operand is transposed, the tile sizes) and returns
the kernel's Python source function. Settings close over the kernel as constants, so a float32
kernel sees `ONE = float32(1)` and never mixes in a float64 literal, and a transposed operand is
a branch the compiler folds away. `kernel(factory, *settings)` compiles each combination once;
the PTX test compiles the same source functions with `numba.cuda.compile_ptx`.
"""

from functools import lru_cache

import numpy as np
from numba import cuda, types

from kernels import simulator

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


@lru_cache(maxsize=None)
def kernel(factory, *settings):
    """The compiled CUDA kernel `factory(*settings)`, built once per combination of settings.
    In the simulator, the first kernel built also makes its shared arrays thread-safe
    (kernels/simulator.py)."""
    if config.SIMULATOR:
        simulator.install_shared_array_fix()
    return cuda.jit(factory(*settings))
