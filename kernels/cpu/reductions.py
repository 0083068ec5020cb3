"""Reductions of one layer and the step: db, the cost, and the value checks of the fused step.

    bias_gradient        db = sum over the m columns of dZ          (n, m) -> (n, 1)
    cost                 J = (1/N) sum of a loss term over all N = n[L] m entries
    all_finite           no entry is NaN or inf
    labels_in_unit_interval   every y lies in [0, 1] (cross-entropy's labels)

Sums run in the arrays' dtype over blocks of BLOCK entries of a row (each block a slice indexed
from 0, as the packing loops are: indexed from the block's start they ran slower, see
docs/performance.md), and the block sums add up in float64: in one float32 running total, a
cost over 14 x 500,000 entries was off by 2e-4 (relative) from float64's, past the float32
tolerance the tests hold against torch. The loss terms are kernels/scalar.py's forms
over vmath.py's vectorisable exp, log and log1p.
"""

import numpy as np
from numba import njit

from kernels import scalar
from kernels.cpu import vmath
from kernels.cpu.config import JIT

BLOCK = 4096  # entries of a row summed in the arrays' dtype before the float64 total takes them


@njit(**JIT)
def bias_gradient(dZ, db):
    """db = sum over the m columns of dZ.  dZ: (n, m) -> db: (n, 1)."""
    n, m = dZ.shape
    for i in range(n):
        total = 0.0
        for j0 in range(0, m, BLOCK):
            block = dZ[i, j0:j0 + BLOCK]
            s = dZ.dtype.type(0)
            for j in range(block.shape[0]):
                s += block[j]
            total += s
        db[i, 0] = total


@njit(**JIT)
def cost(P, Y, term):
    """J = mean over all n m entries of scalar.loss_term(P, Y, term): P holds the logits Z[L]
    (LOGITS_TERM) or the outputs A[L] (PROBABILITY_TERM, SQUARED_TERM).  P, Y: (n, m)."""
    n, m = P.shape
    one = P.dtype.type(1)
    floor = P.dtype.type(scalar.LOG_FLOOR)
    total = 0.0
    for i in range(n):
        for j0 in range(0, m, BLOCK):
            p, y = P[i, j0:j0 + BLOCK], Y[i, j0:j0 + BLOCK]
            s = P.dtype.type(0)
            for j in range(p.shape[0]):
                s += vmath.loss_term(p[j], y[j], term, one, floor)
            total += s
    return P.dtype.type(total / (n * m))


@njit(**JIT)
def all_finite(a):
    """True when no entry of the 2-D array a is NaN or inf. No early exit, so the loop vectorises
    (the fastmath flags leave out "nnan"/"ninf", see config.py, or isfinite would fold to True)."""
    ok = True
    n, m = a.shape
    for i in range(n):
        for j in range(m):
            ok &= np.isfinite(a[i, j])
    return ok


@njit(**JIT)
def labels_in_unit_interval(Y):
    """True when every entry of Y lies in [0, 1]."""
    ok = True
    n, m = Y.shape
    for i in range(n):
        for j in range(m):
            ok &= (Y[i, j] >= 0) & (Y[i, j] <= 1)
    return ok
