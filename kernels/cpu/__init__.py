"""kernels.cpu: the network of the lecture as numba @njit CPU kernels (explicit loops, no BLAS).

The same public API as reference.network (initialize_parameters, forward, compute_cost,
backward, update_parameters, train_step, linear_forward / linear_backward, the activations and
their *_backward) plus the matmul ladder. Modules (the same as kernels.cuda's):

    config.py       compiler flags and block sizes, in one place; ready() before the first kernel
    ladder.py       C = A B, the teaching ladder: naive -> loop-reordered -> the engine
    gemm.py         the engine's framework: cache blocking, packing, the threads' shares
    microkernel.py  the engine's micro-kernel (LLVM IR: MR x NR FMAs on registers) and fma_peak
    transpose.py    tiles transposed in registers (LLVM IR), for packing a transposed B and
                    a row-major A
    copies.py       copies of a micro-panel's row or column (llvm.memcpy), for packing
    rows.py         a row of a rank-one product (K = 1) in whole vectors (LLVM IR)
    products.py     the layer's products W A, dZ A^T, W^T dZ on the engine, without transposes,
                    and the small register tiles used below the engine's size
    strips.py       W A and W^T dZ below the engine's size in one pass over C (LLVM IR: up
                    to 12 rows of C by two vectors on registers)
    dots.py         dZ A^T below the engine's size: tiles of dot products along m (LLVM IR,
                    at the plan's vector width)
    vmath.py        vectorisable exp, expm1, log, log1p under the activations and costs
    elementwise.py  activations, the fused linear + bias + activation forward, dZ[L], update
    reductions.py   db, the costs, the value checks of the fused step
    network.py      the public network API, layer by layer
    step.py         train_step: forward, cost, backward, update over a workspace, in one
                    compiled call
    layers.py       the workspace's arrays by layer, read from a table of addresses (step.py)

The scalar math (g, g', the loss terms) is kernels/scalar.py, shared with kernels.cuda; every
input check is reference/checks.py, shared with every path.
"""

from kernels.cpu import config

# Before any kernel is loaded from numba's cache, also where a caller (a test) reaches the
# package's internals without a public entry point's config.ready()
config.drop_stale_cache()

from kernels.cpu.ladder import matmul, matmul_ikj, matmul_naive  # noqa: E402
from kernels.cpu.network import (  # noqa: E402
    backward,
    compute_cost,
    forward,
    initialize_parameters,
    linear_backward,
    linear_forward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    tanh,
    tanh_backward,
    train_step,
    update_parameters,
)

__all__ = [
    "backward", "compute_cost", "forward", "initialize_parameters", "linear_backward",
    "linear_forward", "matmul", "matmul_ikj", "matmul_naive", "relu", "relu_backward", "sigmoid",
    "sigmoid_backward", "tanh", "tanh_backward", "train_step", "update_parameters",
]
