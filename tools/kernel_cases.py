"""Every kernel of kernels.cuda with the argument types it is compiled for, and a way to compile
for a compute capability without a GPU: what tools/ptx_check.py and tools/sass_check.py share.

    cases(dtype)      (name, source function, argument types) of every kernel, at the GPU settings
    compile_for(cc)   numba-cuda compiles device functions for `cc` inside this context
"""

import types as pytypes
from contextlib import contextmanager

import numpy as np

CCS = ((8, 0), (9, 0))


def cases(dtype):
    """Every kernel of kernels.cuda as (name, source function, argument types), at the GPU settings."""
    from numba import types

    from kernels.cuda import config, elementwise, ladder, reductions
    from kernels.cuda.compile import matrix_type, numba_type, vector_type

    mat, vec, s, code = matrix_type(dtype), vector_type(dtype), numba_type(dtype), types.int64
    dt = np.dtype(dtype)
    for ta, tb, label in ((False, False, "W A"), (False, True, "dZ A^T"), (True, False, "W^T dZ")):
        yield f"gemm_naive[{label}]", ladder.naive_kernel(dt, ta, tb), (mat, mat, mat)
        yield f"gemm_tiled[{label}]", ladder.tiled_kernel(dt, ta, tb, config.GPU_GEMM_TILE), (mat, mat, mat)
        register = ladder.register_kernel(dt, ta, tb, *config.GPU_GEMM_REGISTER)
        yield f"gemm_register[{label}]", register, (mat, mat, mat)
        small = ladder.register_kernel(dt, ta, tb, *config.GPU_GEMM_REGISTER_SMALL)
        yield f"gemm_register_small[{label}]", small, (mat, mat, mat)
    yield "activation", elementwise.activation_kernel(dt), (mat, mat, code)
    yield "bias_activation_forward", elementwise.bias_activation_forward_kernel(dt), (mat, mat, mat, code)
    yield "activation_backward", elementwise.activation_backward_kernel(dt), (mat, mat, mat, code)
    yield "output_gradient", elementwise.output_gradient_kernel(dt), (mat, mat, mat, mat, code, code, s)
    yield "update", elementwise.update_kernel(dt), (mat, mat, mat, mat, s)
    order = types.Array(types.int64, 1, "C")
    yield "gather_columns", elementwise.gather_columns_kernel(dt), (mat, order, types.int64, mat)
    T = config.GPU_REDUCE_THREADS
    yield "bias_gradient", reductions.bias_gradient_kernel(dt, T), (mat, mat)
    yield "cost_partials", reductions.cost_partials_kernel(dt, T), (mat, mat, vec, types.int64)
    yield "cost_total", reductions.cost_total_kernel(dt, T), (vec, s, vec, types.int64)


@contextmanager
def compile_for(cc):
    """numba-cuda compiles the activations' device functions for the current device's compute
    capability; with no device here, this tells it the capability being compiled for."""
    import numba.cuda.dispatcher as dispatcher

    saved = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: pytypes.SimpleNamespace(compute_capability=cc)
    try:
        yield
    finally:
        dispatcher.get_current_device = saved
