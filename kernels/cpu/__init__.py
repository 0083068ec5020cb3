"""kernels.cpu: the network of the lecture as numba @njit CPU kernels (explicit loops, no BLAS).

The same public API as reference.network (initialize_parameters, forward, compute_cost,
backward, update_parameters, train_step, linear_forward / linear_backward, the activations and
their *_backward) plus the matmul ladder. Files:

    config.py     compiler flags and block sizes, in one place
    validate.py   wrapper-side input checks (with reference/checks.py): nothing unchecked reaches a kernel
    tiles.py      the register tiles: 4 x 4 dot products, 4 x 8 outer products
    matmul_ladder.py  C = A B: naive -> loop-reordered -> packed dot tiles -> blocked 4 x 8 tiles
    products.py   W A, dZ A^T, W^T dZ without transposes
    layers.py     activations, fused linear+bias+activation, db, costs, dZ[L], update
    network.py    the public network API, layer by layer
    step.py       train_step fused into one compiled call over a cached workspace
"""

from kernels.cpu.matmul_ladder import matmul, matmul_ikj, matmul_naive
from kernels.cpu.network import (
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
