"""Reductions as deterministic tree reductions: no atomics, so a result repeats bit for bit.

Each thread first sums a fixed, strided set of entries (consecutive threads read consecutive
addresses), then the block halves the partial sums in shared memory, s = T/2, T/4, ..., 1:
    partial[t] += partial[t + s]   for t < s
The order of every addition depends only on the shapes and the launch settings, never on timing.

    bias_gradient   db[i] = sum over the m columns of dZ[i, :]     one block per row i
    cost            J = (1/N) sum of a loss term over all N = n m entries, in two passes:
                    COST_BLOCKS blocks write partial sums, then one block adds those
Loss terms (as reference.losses):
    cross-entropy from logits z:  max(z, 0) - z y + log1p(e^-|z|)
    cross-entropy from a:         -(y max(log a, -100) + (1 - y) max(log(1 - a), -100))
    mse:                          (a - y)^2
"""

import math

import numpy as np
from numba import cuda

from . import config
from .compile import kernel, matrix_type, numba_type, vector_type

LOGITS_CROSS_ENTROPY, CROSS_ENTROPY, MSE = 0, 1, 2


def _bias_gradient(dtype, THREADS):
    ZERO = np.dtype(dtype).type(0)
    nb_dtype = numba_type(dtype)

    def bias_gradient(dZ, db):
        partial = cuda.shared.array(THREADS, nb_dtype)
        i = cuda.blockIdx.x
        t = cuda.threadIdx.x
        m = dZ.shape[1]
        acc = ZERO
        for j in range(t, m, THREADS):
            acc += dZ[i, j]
        partial[t] = acc
        cuda.syncthreads()
        s = THREADS // 2
        while s > 0:
            if t < s:
                partial[t] += partial[t + s]
            cuda.syncthreads()
            s //= 2
        if t == 0:
            db[i, 0] = partial[0]

    return bias_gradient


def _cost_partials(dtype, THREADS):
    ZERO = np.dtype(dtype).type(0)
    ONE = np.dtype(dtype).type(1)
    LOG_FLOOR = np.dtype(dtype).type(-100)
    nb_dtype = numba_type(dtype)

    def cost_partials(P, Y, partials, kind):
        # P holds the logits Z[L] (kind 0) or the outputs A[L] (kinds 1, 2)
        partial = cuda.shared.array(THREADS, nb_dtype)
        t = cuda.threadIdx.x
        m = P.shape[1]
        N = P.shape[0] * m
        acc = ZERO
        for e in range(cuda.grid(1), N, cuda.gridsize(1)):
            i = e // m
            j = e - i * m
            p = P[i, j]
            y = Y[i, j]
            if kind == LOGITS_CROSS_ENTROPY:
                acc += max(p, ZERO) - p * y + math.log1p(math.exp(-abs(p)))
            elif kind == CROSS_ENTROPY:
                log_a = max(math.log(p), LOG_FLOOR) if p > ZERO else LOG_FLOOR
                log_1ma = max(math.log1p(-p), LOG_FLOOR) if p < ONE else LOG_FLOOR
                acc -= y * log_a + (ONE - y) * log_1ma
            else:
                acc += (p - y) * (p - y)
        partial[t] = acc
        cuda.syncthreads()
        s = THREADS // 2
        while s > 0:
            if t < s:
                partial[t] += partial[t + s]
            cuda.syncthreads()
            s //= 2
        if t == 0:
            partials[cuda.blockIdx.x] = partial[0]

    return cost_partials


def _cost_total(dtype, THREADS):
    ZERO = np.dtype(dtype).type(0)
    nb_dtype = numba_type(dtype)

    def cost_total(partials, inv_N, out, k):
        # one block: out[k] = (sum of partials) / N
        partial = cuda.shared.array(THREADS, nb_dtype)
        t = cuda.threadIdx.x
        acc = ZERO
        for e in range(t, partials.shape[0], THREADS):
            acc += partials[e]
        partial[t] = acc
        cuda.syncthreads()
        s = THREADS // 2
        while s > 0:
            if t < s:
                partial[t] += partial[t + s]
            cuda.syncthreads()
            s //= 2
        if t == 0:
            out[k] = partial[0] * inv_N

    return cost_total


def bias_gradient(dZ, db, stream=0):
    """db[i, 0] = sum_j dZ[i, j] on device arrays dZ: (n, m), db: (n, 1)."""
    T = config.REDUCE_THREADS
    kernel(_bias_gradient, np.dtype(dZ.dtype), T)[dZ.shape[0], T, stream](dZ, db)


def cost(P, Y, kind, partials, out, k=0, stream=0):
    """out[k] = the cost of P against Y (device arrays); `partials` is a device vector of
    config.COST_BLOCKS entries. kind: LOGITS_CROSS_ENTROPY, CROSS_ENTROPY or MSE. Two launches;
    nothing comes back to the host."""
    dtype = np.dtype(P.dtype)
    T = config.REDUCE_THREADS
    kernel(_cost_partials, dtype, T)[partials.shape[0], T, stream](P, Y, partials, kind)
    inv_N = dtype.type(1.0 / P.size)
    kernel(_cost_total, dtype, T)[1, T, stream](partials, inv_N, out, k)


def ptx_cases(dtype):
    """(name, source function, argument types) of every reduction kernel at the GPU settings."""
    from numba import types

    mat, vec, s, T = matrix_type(dtype), vector_type(dtype), numba_type(dtype), config.GPU_REDUCE_THREADS
    yield "bias_gradient", _bias_gradient(dtype, T), (mat, mat)
    yield "cost_partials", _cost_partials(dtype, T), (mat, mat, vec, types.int64)
    yield "cost_total", _cost_total(dtype, T), (vec, s, vec, types.int64)
