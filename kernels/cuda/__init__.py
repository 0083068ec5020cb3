"""The GPU path: numba.cuda kernels for every step of the network, in three layers.

    config.py       launch settings (GPU and simulator), in one place
    compile.py      one cache of compiled kernels, built from factories per dtype and setting
    ladder.py       C = op(A) op(B), the GEMM ladder: naive -> shared-memory tiled -> register-tiled
    elementwise.py  fused bias + activation, activation backward, dZ[L], update, column gather
    reductions.py   db and the cost as deterministic tree reductions
    step.py         the network on device arrays: workspace, forward, cost, backward, train_step
    network.py      the reference's API, NumPy in / NumPy out (this package's public names)
    training.py     mini-batch SGD with everything on the device

The same modules as kernels.cpu (plus compile.py and training.py); the scalar math (g, g', the
loss terms) is kernels/scalar.py, shared with kernels.cpu.

Timing on a GPU (the benchmarks): keep the operands on the device and wait for the kernels,
    parameters_d = step.to_device(parameters); X_d, Y_d = cuda.to_device(X), cuda.to_device(Y)
    step.train_step(parameters_d, X_d, Y_d, alpha, return_cost=False); synchronize()
    step.matmul(A_d, B_d, out=C_d, trans_a=False, trans_b=False, rung="register"); synchronize()
Launches are asynchronous; only a returned cost (or copy_to_host) waits for the device.

Without a GPU it runs in numba's CUDA simulator: call kernels.cuda_target.use_simulator() before
kernels.cuda is first imported (tests/conftest.py does that on machines without an NVIDIA driver).
"""

from numba.cuda import synchronize  # noqa: F401  (wait for queued kernels, e.g. around timings)

from . import config, step  # noqa: F401
from .network import (  # noqa: F401
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
from .step import train_step as train_step_device  # noqa: F401
from .training import minibatch_sgd_on_device  # noqa: F401

SIMULATOR = config.SIMULATOR
