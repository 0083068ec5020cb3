"""The register-tiled dot-product micro-kernel shared by matmul and the dW = dZ A^T product.

Both compute entries C[i, j] = sum_k P[i, k] Q[j, k] where row i of P and row j of Q are
contiguous over k (the "NT" form: no stride anywhere in the inner loop). The micro-kernel takes
4 rows of P and 4 rows of Q and keeps the 4 x 4 sums in 16 local variables: every number loaded
is used 4 times, and LLVM vectorises the k loop (fastmath "reassoc" allows the partial sums), so
the 16 sums become 16 SIMD registers of 8 (ymm) or 16 (zmm) float32 lanes each.
"""

from numba import njit

from kernels.cpu.config import JIT


@njit(inline="always", **JIT)
def dot_4x4(p0, p1, p2, p3, q0, q1, q2, q3, C, i, j, kc, accumulate):
    """C[i:i+4, j:j+4] (+)= [p0..p3] . [q0..q3]^T over the first kc entries of each row."""
    z = C.dtype.type(0)
    c00 = c01 = c02 = c03 = z
    c10 = c11 = c12 = c13 = z
    c20 = c21 = c22 = c23 = z
    c30 = c31 = c32 = c33 = z
    for k in range(kc):
        a0, a1, a2, a3 = p0[k], p1[k], p2[k], p3[k]
        b0, b1, b2, b3 = q0[k], q1[k], q2[k], q3[k]
        c00 += a0 * b0
        c01 += a0 * b1
        c02 += a0 * b2
        c03 += a0 * b3
        c10 += a1 * b0
        c11 += a1 * b1
        c12 += a1 * b2
        c13 += a1 * b3
        c20 += a2 * b0
        c21 += a2 * b1
        c22 += a2 * b2
        c23 += a2 * b3
        c30 += a3 * b0
        c31 += a3 * b1
        c32 += a3 * b2
        c33 += a3 * b3
    if not accumulate:
        for r in range(4):
            for s in range(4):
                C[i + r, j + s] = z
    C[i, j] += c00
    C[i, j + 1] += c01
    C[i, j + 2] += c02
    C[i, j + 3] += c03
    C[i + 1, j] += c10
    C[i + 1, j + 1] += c11
    C[i + 1, j + 2] += c12
    C[i + 1, j + 3] += c13
    C[i + 2, j] += c20
    C[i + 2, j + 1] += c21
    C[i + 2, j + 2] += c22
    C[i + 2, j + 3] += c23
    C[i + 3, j] += c30
    C[i + 3, j + 1] += c31
    C[i + 3, j + 2] += c32
    C[i + 3, j + 3] += c33


@njit(inline="always", **JIT)
def dot_1x1(p, q, kc):
    """sum_k p[k] q[k] over the first kc entries (the edges a 4 x 4 tile does not cover)."""
    s = p.dtype.type(0)
    for k in range(kc):
        s += p[k] * q[k]
    return s
