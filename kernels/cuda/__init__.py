"""The GPU path: numba.cuda kernels for every step of the network, in three layers.

    kernels.cuda.gemm, .elementwise, .reductions   the kernels and their launchers
    kernels.cuda.device                            the network on device arrays (no copies)
    kernels.cuda (this module)                     the reference's API, NumPy in / NumPy out
    kernels.cuda.training                          mini-batch SGD with everything on the device

Timing on a GPU (the benchmarks): keep the operands on the device and wait for the kernels,
    parameters_d = device.to_device(parameters); X_d, Y_d = cuda.to_device(X), cuda.to_device(Y)
    device.train_step(parameters_d, X_d, Y_d, alpha, return_cost=False); synchronize()
    device.matmul(A_d, B_d, out=C_d, trans_a=False, trans_b=False, rung="register"); synchronize()
Launches are asynchronous; only a returned cost (or copy_to_host) waits for the device.

Without a GPU it runs in numba's CUDA simulator when NUMBA_ENABLE_CUDASIM=1 is set before numba
is first imported (tests/conftest.py does that on machines without an NVIDIA driver).
"""

import numba.core.config

# numba reads NUMBA_ENABLE_CUDASIM when numba itself is first imported, and numba.cuda picks the
# simulator or the real target from it on its own first import. Something may import numba
# earlier (pytest resolving a numba warning class in its filterwarnings setting, before
# tests/conftest.py sets the variable), so re-read the environment before numba.cuda is imported.
numba.core.config.reload_config()

from numba.cuda import synchronize  # noqa: E402, F401  (wait for queued kernels, e.g. around timings)

from . import config, device  # noqa: E402, F401
from .device import train_step as train_step_device  # noqa: E402, F401
from .network import (  # noqa: E402, F401
    backward,
    compute_cost,
    forward,
    initialize_parameters,
    linear_backward,
    linear_forward,
    matmul,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    tanh,
    tanh_backward,
    train_step,
    update_parameters,
)
from .training import minibatch_sgd_on_device  # noqa: E402, F401

SIMULATOR = config.SIMULATOR
