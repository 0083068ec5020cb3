"""Reductions as deterministic tree reductions: no atomics, so a result repeats bit for bit.

Each thread first sums a fixed, strided set of entries (consecutive threads read consecutive
addresses), then the block halves the partial sums in shared memory, s = T/2, T/4, ..., 1:
    partial[t] += partial[t + s]   for t < s
The order of every addition depends only on the shapes and the launch settings, never on timing.

    bias_gradient   db[i] = sum over the m columns of dZ[i, :]     one block per row i (rows on
                    grid y, then z past 65,535: compile.grid)
    cost            J = (1/N) sum of a loss term over all N = n m entries, in two passes:
                    COST_BLOCKS blocks write partial sums, then one block adds those
The loss terms are kernels/scalar.py's loss_term (shared with kernels.cpu).
"""

import numpy as np
from numba import cuda

from kernels import scalar

from . import config
from .compile import grid, kernel, numba_type


@cuda.jit(device=True)
def tree_sum(partial, t, threads):
    """partial[0] = the sum of partial[0:threads] (a power of two), thread t of the block adding
    partial[t] += partial[t + s] for s = threads/2, threads/4, ..., 1, a barrier between steps."""
    cuda.syncthreads()
    s = threads // 2
    while s > 0:
        if t < s:
            partial[t] += partial[t + s]
        cuda.syncthreads()
        s //= 2


def bias_gradient_kernel(dtype, THREADS):
    ZERO = np.dtype(dtype).type(0)
    nb_dtype = numba_type(dtype)

    def bias_gradient(dZ, db):
        partial = cuda.shared.array(THREADS, nb_dtype)
        i = cuda.blockIdx.z * cuda.gridDim.y + cuda.blockIdx.y
        if i >= dZ.shape[0]:  # the whole block: past the last row
            return
        t = cuda.threadIdx.x
        m = dZ.shape[1]
        acc = ZERO
        for j in range(t, m, THREADS):
            acc += dZ[i, j]
        partial[t] = acc
        tree_sum(partial, t, THREADS)
        if t == 0:
            db[i, 0] = partial[0]

    return bias_gradient


def cost_partials_kernel(dtype, THREADS):
    ZERO = np.dtype(dtype).type(0)
    ONE = np.dtype(dtype).type(1)
    LOG_FLOOR = np.dtype(dtype).type(scalar.LOG_FLOOR)
    nb_dtype = numba_type(dtype)

    def cost_partials(P, Y, partials, term):
        # P holds the logits Z[L] (scalar.LOGITS_TERM) or the outputs A[L] (the other terms)
        partial = cuda.shared.array(THREADS, nb_dtype)
        t = cuda.threadIdx.x
        m = P.shape[1]
        N = P.shape[0] * m
        acc = ZERO
        for e in range(cuda.grid(1), N, cuda.gridsize(1)):
            i = e // m
            j = e - i * m
            acc += scalar.loss_term(P[i, j], Y[i, j], term, ONE, LOG_FLOOR)
        partial[t] = acc
        tree_sum(partial, t, THREADS)
        if t == 0:
            partials[cuda.blockIdx.x] = partial[0]

    return cost_partials


def cost_total_kernel(dtype, THREADS):
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
        tree_sum(partial, t, THREADS)
        if t == 0:
            out[k] = partial[0] * inv_N

    return cost_total


def bias_gradient_launch(n):
    """(grid, block) of the bias gradient of n >= 1 rows: one block of REDUCE_THREADS per row."""
    return grid(n, 1, 1, 1), config.REDUCE_THREADS


def bias_gradient(dZ, db, stream=0):
    """db[i, 0] = sum_j dZ[i, j] on device arrays dZ: (n, m), db: (n, 1) (0 where m = 0)."""
    if dZ.shape[0]:
        grid_, T = bias_gradient_launch(dZ.shape[0])
        kernel(bias_gradient_kernel, np.dtype(dZ.dtype), T)[grid_, T, stream](dZ, db)


def cost(P, Y, term, partials, out, k=0, stream=0):
    """out[k] = the cost of P against Y (device arrays); `partials` is a device vector of
    config.COST_BLOCKS entries. term: scalar.LOGITS_TERM, PROBABILITY_TERM or SQUARED_TERM.
    Two launches of fixed grids (each thread strides over the entries); nothing comes back to the
    host. An empty P gives NaN, the mean of nothing (as NumPy's)."""
    dtype = np.dtype(P.dtype)
    T = config.REDUCE_THREADS
    kernel(cost_partials_kernel, dtype, T)[partials.shape[0], T, stream](P, Y, partials, term)
    inv_N = dtype.type(1.0 / P.size if P.size else np.nan)
    kernel(cost_total_kernel, dtype, T)[1, T, stream](partials, inv_N, out, k)
