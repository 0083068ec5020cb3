"""The three matrix products of the network, on the engine (gemm.py), without materialised
transposes:

    forward     Z  = W A_prev        (n, k) x (k, m)      wa      Z += W A_prev
    backward    dW = dZ A_prev^T     (n, m) x (m, k)      dzat    dW = dZ (A_prev.T)
    backward    dA = W^T dZ          (k, n) x (n, m)      wtdz    dA = (W.T) dZ

n = n[l] units, k = n[l-1] inputs, m samples. The transposes are views (A_prev.T, W.T): the
engine's packing reads each operand along its contiguous dimension, so all three products run
the same packed, blocked, parallel code, chosen by size (gemm.product); small products (below
ENGINE_MIN_MACS, or an edge shorter than the micro-kernel's tile) run gemm.py's small tiles:
4 x 8 tiles along rows for W A and W^T dZ, 4 x 4 dot products for dZ A^T.

Each takes the packing buffers (Vbuf, Cbuf) = network_buffers(dims, m, dtype), so a training
step allocates nothing.
"""

import numpy as np
from numba import njit

from kernels.cpu import config
from kernels.cpu.config import JIT
from kernels.cpu.gemm import buffers, dzat_into, plan, product, scratch, wa_into, wtdz_into
from reference.checks import check_product_operands


@njit(inline="always", **JIT)
def small(M, K, N, P):
    """Whether C (M, N) = A (M, K) B (K, N) is below the engine: too few multiply-adds, or an
    edge of C shorter than the micro-kernel's tile."""
    return M * K * N < P[9] or M < P[1] or N < P[3]


@njit(**JIT)
def wa(W, A, Z, Vbuf, Cbuf):
    """Z += W A.    W: (n, k), A: (k, m), Z: (n, m) (the caller sets Z to b or to 0 first)."""
    P = plan(Z)
    if small(W.shape[0], W.shape[1], A.shape[1], P):
        wa_into(W, A, Z)
    else:
        product(W, A, Z, True, Vbuf, Cbuf, P)


@njit(**JIT)
def dzat(dZ, A, dW, Vbuf, Cbuf):
    """dW = dZ A^T.    dZ: (n, m), A: (k, m), dW: (n, k)."""
    P = plan(dW)
    if small(dZ.shape[0], dZ.shape[1], A.shape[0], P):
        dzat_into(dZ, A, dW)
    else:
        product(dZ, A.T, dW, False, Vbuf, Cbuf, P)


@njit(**JIT)
def wtdz(W, dZ, dA, Vbuf, Cbuf):
    """dA = W^T dZ.    W: (n, k), dZ: (n, m), dA: (k, m)."""
    P = plan(dA)
    if small(W.shape[1], W.shape[0], dZ.shape[1], P):
        wtdz_into(W, dZ, dA)
    else:
        product(W.T, dZ, dA, False, Vbuf, Cbuf, P)


def product_shapes(dims, m):
    """The (M, K, N) of every product of a network of widths dims on m samples."""
    shapes = []
    for l in range(1, len(dims)):
        n, k = dims[l], dims[l - 1]
        shapes += [(n, k, m), (n, m, k)] + ([(k, n, m)] if l > 1 else [])  # W A, dZ A^T, W^T dZ
    return shapes


def network_buffers(dims, m, dtype):
    """(Vbuf, Cbuf): the packing buffers that wa, dzat and wtdz take, large enough for every
    product of a network of layer widths dims = [n[0], ..., n[L]] on batches of m samples
    (gemm.buffers: one row per thread)."""
    return buffers(product_shapes(dims, m), dtype)


# Python entry points (for tests and benchmarks): validate, allocate the result, run the kernel.


def w_a(W, A):
    """Z = W A.  W: (n, k), A: (k, m) -> (n, m)."""
    check_product_operands("W", W, "A", A, (1, 0))
    config.ready()
    Z = np.zeros((W.shape[0], A.shape[1]), W.dtype)
    wa(W, A, Z, *scratch([(W.shape[0], W.shape[1], A.shape[1])], W.dtype))
    return Z


def dz_at(dZ, A):
    """dW = dZ A^T.  dZ: (n, m), A: (k, m) -> (n, k)."""
    check_product_operands("dZ", dZ, "A", A, (1, 1))
    config.ready()
    dW = np.empty((dZ.shape[0], A.shape[0]), dZ.dtype)
    dzat(dZ, A, dW, *scratch([(dZ.shape[0], dZ.shape[1], A.shape[0])], dZ.dtype))
    return dW


def wt_dz(W, dZ):
    """dA = W^T dZ.  W: (n, k), dZ: (n, m) -> (k, m)."""
    check_product_operands("W", W, "dZ", dZ, (0, 0))
    config.ready()
    dA = np.empty((W.shape[1], dZ.shape[1]), W.dtype)
    wtdz(W, dZ, dA, *scratch([(W.shape[1], W.shape[0], dZ.shape[1])], W.dtype))
    return dA
