"""Input checks of the CPU path's Python wrappers: nothing unchecked reaches a kernel.

The network functions call reference/checks.py (the same functions as the reference, so the
error messages are word for word the same); this module adds what only a kernel needs: the
operands of the matrix products, and C-contiguous memory (a non-contiguous or Fortran-ordered
input is copied, since the kernels index rows as contiguous runs).
"""

import numpy as np

from reference.checks import FLOAT_DTYPES


def contiguous(a):
    """a itself when it is C-contiguous, otherwise a C-contiguous copy."""
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _float_matrix(name, a):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(a).__name__}")
    if a.dtype.type not in FLOAT_DTYPES:
        raise TypeError(f"{name} has dtype {a.dtype}; expected float32 or float64")
    if a.ndim != 2:
        raise ValueError(f"{name} has shape {a.shape}; expected a 2-D array")


def product_operands(name_a, a, name_b, b, axes):
    """Two 2-D float arrays of one dtype whose dimensions a.shape[axes[0]] and b.shape[axes[1]]
    are summed over together; returns C-contiguous versions of both."""
    _float_matrix(name_a, a)
    _float_matrix(name_b, b)
    if a.dtype != b.dtype:
        raise TypeError(f"{name_a} has dtype {a.dtype} but {name_b} has dtype {b.dtype}")
    ia, ib = axes
    if a.shape[ia] != b.shape[ib]:
        expected = list(b.shape)
        expected[ib] = a.shape[ia]
        raise ValueError(
            f"{name_b} has shape {b.shape}; expected {tuple(expected)} to match {name_a} {a.shape}"
        )
    return contiguous(a), contiguous(b)


def matmul_operands(A, B):
    """A: (M, K), B: (K, N), float32 or float64, one dtype."""
    return product_operands("A", A, "B", B, (1, 0))
