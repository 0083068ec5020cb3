"""Slides: "Neuron's Activation Functions". The scalar g(z) and g'(z) that the kernels apply
elementwise, one definition for both targets.

They are plain `numba.njit` functions: numba-cuda compiles an njit function called from inside a
`@cuda.jit` kernel as a device function (numba-cuda's `test_cpu_gpu_compat.py`), and the same
function runs on the CPU, where the tests compare it with the reference. One set is built per
dtype so that every constant has the dtype of z: a float32 kernel never touches a float64 literal.

The activation is chosen at run time by a small integer code (a warp-uniform branch, far cheaper
than the memory traffic of the kernel around it). Forms as in reference/activations.py, written
so no exp() overflows:
    sigmoid  t = e^-|z|:  1/(1+t) for z >= 0, t/(1+t) for z < 0      sigmoid' = a (1 - a) = t/(1+t)^2
    tanh     t = e^-2|z|: sign(z) (-expm1(-2|z|)) / (1 + t)           tanh'    = 1 - a^2 = 4t/(1+t)^2
The derivatives use the t forms: where |a| is near 1, 1 - a and 1 - a^2 cancel (in float32
1 - a^2 is exactly 0 from |z| > 9 on, while the true slope is still 6e-8).
    relu     z if z > 0 else 0                                         relu'    = 1 if z > 0 else 0
    linear   z                                                         linear'  = 1
"""

import math
from functools import lru_cache

import numba
import numpy as np

RELU, TANH, SIGMOID, LINEAR = 0, 1, 2, 3
CODES = {"relu": RELU, "tanh": TANH, "sigmoid": SIGMOID, "linear": LINEAR}


@lru_cache(maxsize=None)
def scalar_activations(dtype):
    """(activate(z, code), derivative(z, code)) for scalars of `dtype` (float32 or float64)."""
    scalar = np.dtype(dtype).type
    ZERO, ONE, TWO, FOUR = scalar(0), scalar(1), scalar(2), scalar(4)

    @numba.njit
    def activate(z, code):
        """g(z) for the activation `code`."""
        if code == RELU:
            return z if z > ZERO else ZERO
        if code == SIGMOID:
            t = math.exp(-abs(z))
            return ONE / (ONE + t) if z >= ZERO else t / (ONE + t)
        if code == TANH:
            u = TWO * abs(z)
            a = -math.expm1(-u) / (ONE + math.exp(-u))
            return a if z >= ZERO else -a
        return z

    @numba.njit
    def derivative(z, code):
        """g'(z) for the activation `code`, recomputed from the cached Z."""
        if code == RELU:
            return ONE if z > ZERO else ZERO
        if code == SIGMOID:
            t = math.exp(-abs(z))
            return t / ((ONE + t) * (ONE + t))
        if code == TANH:
            t = math.exp(-TWO * abs(z))
            return FOUR * t / ((ONE + t) * (ONE + t))
        return ONE

    return activate, derivative
