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
        yield f"gemm_naive[{label}]", ladder._naive(dt, ta, tb), (mat, mat, mat)
        yield f"gemm_tiled[{label}]", ladder._tiled(dt, ta, tb, config.GPU_GEMM_TILE), (mat, mat, mat)
        register = ladder._register(dt, ta, tb, *config.GPU_GEMM_REGISTER)
        yield f"gemm_register[{label}]", register, (mat, mat, mat)
        small = ladder._register(dt, ta, tb, *config.GPU_GEMM_REGISTER_SMALL)
        yield f"gemm_register_small[{label}]", small, (mat, mat, mat)
    yield "activation", elementwise._activation(dt), (mat, mat, code)
    yield "bias_activation_forward", elementwise._bias_activation_forward(dt), (mat, mat, mat, code)
    yield "activation_backward", elementwise._activation_backward(dt), (mat, mat, mat, code)
    yield "output_gradient", elementwise._output_gradient(dt), (mat, mat, mat, mat, code, code, s)
    yield "update", elementwise._update(dt), (mat, mat, mat, mat, s)
    order = types.Array(types.int64, 1, "C")
    yield "gather_columns", elementwise._gather_columns(dt), (mat, order, types.int64, mat)
    T = config.GPU_REDUCE_THREADS
    yield "bias_gradient", reductions._bias_gradient(dt, T), (mat, mat)
    yield "cost_partials", reductions._cost_partials(dt, T), (mat, mat, vec, types.int64)
    yield "cost_total", reductions._cost_total(dt, T), (vec, s, vec, types.int64)


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
