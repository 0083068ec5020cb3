"""The scalar math of both fast paths, written once: g(z), g'(z) and the cost terms.

Slides: "Neuron's Activation Functions", "Forward Propagation - Cost Function". These are plain
`numba.njit` functions: an @njit kernel of kernels.cpu inlines them, and numba-cuda compiles
them as device functions when a @cuda.jit kernel of kernels.cuda calls them (numba-cuda's
`test_cpu_gpu_compat.py`). The NumPy forms for reading stay in reference/activations.py and
reference/losses.py; the tests pin these to those.

Each function takes `one`, 1 in the arrays' dtype, and builds every other constant from it
(zero is `one - one`): numba types `z * 0` for a float32 z as float64, so a bare literal would
turn float32 arithmetic into float64. Forms that never overflow (t = e^-|z| or e^-2|z| lies in (0, 1]):

    sigmoid  1/(1+t) for z >= 0, t/(1+t) for z < 0     sigmoid' = a (1 - a) = t/(1+t)^2
    tanh     sign(z) (-em) / (2+em), em = expm1(-2|z|)  tanh'    = 1 - a^2   = 4t/(1+t)^2
    relu     0 if z <= 0 else z  (NaN stays NaN)       relu'    = 1 if z > 0 else 0
    linear   z                                         linear'  = 1

The derivatives use the t forms: near |a| = 1, 1 - a and 1 - a^2 cancel to few correct digits.
The forms are written once, over whichever exp/expm1/log/log1p a path gives them (forms()).
"""

import math

from numba import njit

# Activation codes: a kernel takes the activation as a small integer, not a string.
RELU, TANH, SIGMOID, LINEAR = 0, 1, 2, 3
ACTIVATION_CODES = {"relu": RELU, "tanh": TANH, "sigmoid": SIGMOID, "linear": LINEAR}

# Cost codes: the cost named by the user, and the three per-entry loss terms the reductions sum.
CROSS_ENTROPY, MSE = 0, 1
COST_CODES = {"cross_entropy": CROSS_ENTROPY, "mse": MSE}
LOGITS_TERM, PROBABILITY_TERM, SQUARED_TERM = 0, 1, 2
LOG_FLOOR = -100.0  # torch's binary_cross_entropy clamps each log here (reference/losses.py)


def forms(exp, expm1, log, log1p, jit=None):
    """(g, g_prime, loss_term, output_gradient) written over the given exp, expm1, log, log1p:
    the C library's (math.*, below: kernels.cuda, whose libdevice versions numba-cuda picks)
    or kernels.cpu's vectorisable ones (kernels/cpu/vmath.py). The forms are the same; `jit`
    compiles them (default njit(inline="always"); kernels.cpu: njit(forceinline=True), inlined
    by LLVM rather than by numba's typed inliner)."""
    jit = njit(inline="always") if jit is None else jit

    @jit
    def g(z, act, one):
        """A = g(Z) for one entry."""
        if act == RELU:
            return one - one if z <= 0 else z  # not z > 0: that test is False at NaN
        if act == SIGMOID:
            t = exp(-abs(z))
            return one / (one + t) if z >= 0 else t / (one + t)
        if act == TANH:
            em = expm1(-(abs(z) + abs(z)))  # e^-2|z| - 1, in (-1, 0]: 1 + e^-2|z| = 2 + em
            a = -em / (one + one + em)
            return a if z >= 0 else -a
        return z

    @jit
    def g_prime(z, act, one):
        """g'(z) for one entry, from the cached Z."""
        if act == RELU:
            return one if z > 0 else one - one
        if act == SIGMOID:
            t = exp(-abs(z))
            return t / ((one + t) * (one + t))
        if act == TANH:
            t = exp(-(abs(z) + abs(z)))
            return (t + t + t + t) / ((one + t) * (one + t))
        return one

    @jit
    def loss_term(p, y, term, one, floor):
        """One entry's share of the cost, before the mean over all n[L] m entries (floor:
        LOG_FLOOR in the arrays' dtype):
        LOGITS_TERM       p = z:  max(z, 0) - z y + log1p(e^-|z|)   (cross-entropy of sigmoid(z))
        PROBABILITY_TERM  p = a:  -(y max(log a, -100) + (1 - y) max(log(1 - a), -100))
        SQUARED_TERM      p = a:  (a - y)^2
        """
        if term == LOGITS_TERM:
            return max(p, one - one) - p * y + log1p(exp(-abs(p)))
        if term == PROBABILITY_TERM:
            log_a = max(log(p), floor) if p > 0 else floor
            log_1ma = max(log1p(-p), floor) if p < one else floor
            return -(y * log_a + (one - y) * log_1ma)
        d = p - y
        return d * d

    @jit
    def output_gradient(a, y, z, act, cost, inv_N, one):
        """dZ[L] for one entry (N = n[L] m):
        sigmoid + cross-entropy: (a - y) / N (the a (1 - a) of dJ/da and of sigmoid' cancel);
        mse: 2 (a - y) / N * g'(z)."""
        d = (a - y) * inv_N
        if cost == MSE:
            d = (d + d) * g_prime(z, act, one)
        return d

    return g, g_prime, loss_term, output_gradient


g, g_prime, loss_term, output_gradient = forms(math.exp, math.expm1, math.log, math.log1p)
