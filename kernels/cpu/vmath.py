"""exp, expm1, log and log1p as straight-line float arithmetic that LLVM vectorises.

math.exp and friends are calls into the C library, one entry at a time (about 10 ns each); a loop
over these forms runs in SIMD registers. kernels.cpu's activations and costs use them (the
scalar forms of kernels/scalar.py built over them, elementwise.py); kernels.cuda keeps the CUDA
library's. Each has a float32 and a float64 version, picked by the argument's type:

    exp(x)     x = n ln2 + r, |r| <= ln2/2 (Cody-Waite: ln2 in two parts), e^r by a polynomial,
               2^n added to the exponent bits (subnormal results: via 2^-64, rounded once)
    expm1(x)   |x| < 1 (float64: 1/2): its Taylor polynomial (no cancellation); else exp(x) - 1
    log(x)     x = 2^e f, f in [sqrt(1/2), sqrt(2)); log f = 2 atanh(s), s = (f-1)/(f+1)
    log1p(x)   1 + x in [sqrt(1/2), sqrt(2)): log's series on x itself; else on log's reduction
               of 1 + x (one series either way)

Inputs past the range saturate as the C library's do (0, inf, -inf), NaN stays NaN. Accuracy,
measured against NumPy over the whole range, is pinned in tests/test_vmath.py (ULP bounds) and
listed in docs/performance.md. LLVM inlines them into the kernels (forceinline, below), and they
take the kernels' fast-math flags, except the steps whose rounding they rely on (the two-part
ln2, the correction of log1p), written as single LLVM instructions without flags or as fma,
which "reassoc" may not undo.
"""

import math

import numpy as np
from llvmlite import ir
from numba import float32, float64, njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from kernels import scalar
from kernels.cpu.config import JIT

# Each function here (and each scalar form over them) is compiled once per dtype as a function of
# its own and marked for LLVM to inline wherever it is called (alwaysinline): the loops that call
# them vectorise as before, and numba types each of them once, instead of once per call site.
INLINE = dict(JIT, cache=False, forceinline=True)

# ---------------------------------------------------------------------------------------------
# Bit casts between a float and the integer of the same width.


@intrinsic
def _float_bits(typingctx, x):
    """The IEEE bits of float x as an integer of its width."""
    out = types.int32 if x == types.float32 else types.int64
    return out(x), lambda context, builder, sig, args: builder.bitcast(
        args[0], context.get_value_type(sig.return_type))


@intrinsic
def _bits_float(typingctx, bits, like):
    """The float (of like's type) whose IEEE bits are the integer `bits`."""
    return like(bits, like), lambda context, builder, sig, args: builder.bitcast(
        context.cast(builder, args[0], sig.args[0], types.int32 if like == types.float32
                     else types.int64), context.get_value_type(sig.return_type))


@intrinsic
def _fma(typingctx, a, b, c):
    """a b + c rounded once (llvm.fma)."""
    def codegen(context, builder, sig, args):
        t = args[0].type
        name = "llvm.fma.f32" if t == ir.FloatType() else "llvm.fma.f64"
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(t, [t, t, t]), name)
        return builder.call(fn, args)
    return a(a, b, c), codegen


# ---------------------------------------------------------------------------------------------
# Constants. float32: Cephes' minimax polynomials (expf, logf); float64: Taylor series of e^r
# to r^13 (|r| <= ln2/2: the next term is below 5e-18) and of atanh to s^21.

LOG2E = 1.4426950408889634
LN2_HI_32, LN2_LO_32 = 0.693359375, -2.12194440e-4
LN2_HI_64, LN2_LO_64 = 6.93145751953125e-1, 1.42860682030941723212e-6
EXP_POLY_32 = (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
               1.6666665459e-1, 5.0000001201e-1)  # e^r = 1 + r + r^2 P(r)
EXP_TAYLOR_64 = tuple(1.0 / math.factorial(k) for k in range(13, 1, -1))  # 1/13! .. 1/2!
EXPM1_TAYLOR_32 = tuple(1.0 / math.factorial(k) for k in range(11, 1, -1))
EXPM1_TAYLOR_64 = tuple(1.0 / math.factorial(k) for k in range(15, 1, -1))  # |x| < 1/2
ATANH_32 = tuple(2.0 / k for k in range(11, 1, -2))  # 2 atanh(s) = 2 s + s (2/3 s^2 + 2/5 s^4 ...)
ATANH_64 = tuple(2.0 / k for k in range(23, 1, -2))
SQRT_HALF = 0.7071067811865476


def _polynomial(coefficients, F):
    """x -> c[0] x^(n-1) + ... + c[n-1] in Horner's form, written out (no loop, no tuple index:
    straight-line code the vectoriser takes), the coefficients rounded to the dtype F."""
    names = {f"c{i}": F(c) for i, c in enumerate(coefficients)}
    body = "c0"
    for i in range(1, len(coefficients)):
        body = f"({body} * x + c{i})"
    scope = dict(names)
    exec(f"def polynomial(x):\n    return {body}\n", scope)  # noqa: S102
    return njit(**INLINE)(scope["polynomial"])


def _exp_impl(bits32):
    if bits32:
        lo_x, hi_x, mant, bias, ln2_hi, ln2_lo = -104.0, 89.0, 23, 127, LN2_HI_32, LN2_LO_32
    else:
        lo_x, hi_x, mant, bias, ln2_hi, ln2_lo = -746.0, 710.0, 52, 1023, LN2_HI_64, LN2_LO_64
    F = float32 if bits32 else float64
    c_lo, c_hi, c_log2e = F(lo_x), F(hi_x), F(LOG2E)
    c_ln2_hi, c_ln2_lo, c_half, c_one = F(ln2_hi), F(ln2_lo), F(0.5), F(1.0)
    poly = _polynomial(EXP_POLY_32 if bits32 else EXP_TAYLOR_64, F)
    c_2m64, c_inf = F(2.0 ** -64), F(math.inf)
    c_max = F(88.72283935546875 if bits32 else 709.782712893384)  # log of the largest float

    def impl(x):
        y = min(max(x, c_lo), c_hi)  # past these e^x is 0 or inf in this dtype
        n = np.floor(y * c_log2e + c_half)  # a float (math.floor gives an int)
        r = _fma(-n, c_ln2_lo, _fma(-n, c_ln2_hi, y))  # exact to ~ulp(r)
        if bits32:
            e = (poly(r) * (r * r) + r) + c_one
        else:
            e = ((poly(r) * r + c_one) * r) + c_one
        # e 2^n: n added to e's exponent bits (an integer add LLVM cannot reorder); where the
        # result is subnormal, n + 64 added and the float times 2^-64 (rounded once, at the end)
        k = int(n)
        low = k < 2 - bias  # e < 1 may take one more from the exponent
        bits = _float_bits(e) + ((k + 64 if low else k) << mant)
        out = _bits_float(bits, c_one)
        out = out * c_2m64 if low else out
        out = c_inf if (x > c_max) | (out != out) else out  # overflow (also into the nan bits)
        return out if x == x else x

    return impl


def _expm1_impl(bits32):
    F = float32 if bits32 else float64
    taylor = _polynomial(EXPM1_TAYLOR_32 if bits32 else EXPM1_TAYLOR_64, F)
    c_one = F(1.0)
    c_small = F(1.0 if bits32 else 0.5)  # the polynomial's range (float64: 15 terms)
    exp_ = njit(**INLINE)(_exp_impl(bits32))

    def impl(x):
        small = (taylor(x) * x + c_one) * x  # x + x^2/2! + ... : no cancellation
        large = exp_(x) - c_one
        return small if abs(x) < c_small else large

    return impl


def _log_parts(bits32):
    """(f1, e) -> e ln2 + log(1 + f1) for 1 + f1 in [sqrt(1/2), sqrt(2)), in fdlibm's order:
    s = f1 / (2 + f1), log(1 + f1) = 2 atanh(s) = f1 - f1^2/2 + s (f1^2/2 + R(s^2))."""
    F = float32 if bits32 else float64
    c_ln2_hi, c_ln2_lo = (F(LN2_HI_32), F(LN2_LO_32)) if bits32 else (F(LN2_HI_64), F(LN2_LO_64))
    c_two, c_half = F(2.0), F(0.5)
    atanh = _polynomial(ATANH_32 if bits32 else ATANH_64, F)

    def parts(f1, ef):
        s = f1 / (c_two + f1)
        z = s * s
        R = atanh(z) * z
        hfsq = c_half * f1 * f1
        return ef * c_ln2_hi - ((hfsq - (s * (hfsq + R) + ef * c_ln2_lo)) - f1)

    return njit(**INLINE)(parts)


def _reduction(bits32):
    """y -> (f - 1, e) with y = 2^e f, f in [sqrt(1/2), sqrt(2)), for a normal y > 0: the
    exponent bits read off, the mantissa set to [1, 2), then halved above sqrt(2) (exact, as is
    f - 1). log's and log1p's range reduction."""
    F = float32 if bits32 else float64
    mant, bias = (23, 127) if bits32 else (52, 1023)
    c_one, c_two, c_sqrt2 = F(1.0), F(2.0), F(2 * SQRT_HALF)
    mask = (1 << mant) - 1

    def reduce(y):
        b = _float_bits(y)
        e = ((b >> mant) & (2 * bias + 1)) - bias
        f = _bits_float((b & mask) | (bias << mant), c_one)  # in [1, 2)
        big = f > c_sqrt2
        f = f / c_two if big else f  # now in [sqrt(1/2), sqrt(2))
        return f - c_one, e + 1 if big else e

    return njit(**INLINE)(reduce)


def _log_impl(bits32):
    F = float32 if bits32 else float64
    c_zero = F(0.0)
    c_tiny = F(2.0 ** -126 if bits32 else 2.0 ** -1022)  # smallest normal
    c_scale = F(2.0 ** 24 if bits32 else 2.0 ** 54)
    scale_log = 24 if bits32 else 54
    c_inf = F(math.inf)
    parts, reduce = _log_parts(bits32), _reduction(bits32)

    def impl(x):
        """log(x) for x > 0 (also subnormal x), log(0) = -inf, log(x < 0) = nan."""
        sub = x < c_tiny
        f1, e = reduce(x * c_scale if sub else x)
        e = e - scale_log if sub else e
        out = parts(f1, F(e))
        out = out if x < c_inf else x  # inf and nan stay
        out = -c_inf if x == c_zero else out
        return out if x >= c_zero else (x - x) / (x - x)  # nan for x < 0

    return impl


def _log1p_impl(bits32):
    F = float32 if bits32 else float64
    c_one, c_zero, c_inf = F(1.0), F(0.0), F(math.inf)
    c_lo, c_hi = F(SQRT_HALF - 1.0), F(2 * SQRT_HALF - 1.0)
    parts, reduce = _log_parts(bits32), _reduction(bits32)

    def impl(x):
        """log(1 + x): near 0 the series in x itself (1 + x is never rounded), else log's
        reduction of 1 + x, where the rounding of 1 + x is small next to the result. One
        reduction and one series (picked, then evaluated: not both evaluated and one picked).
        1 + x is never subnormal (for x > -1 it is at least ulp(1) / 2)."""
        y = c_one + x
        f1, e = reduce(y)
        near = (x > c_lo) & (x < c_hi)
        out = parts(x if near else f1, c_zero if near else F(e))
        out = out if y < c_inf else y  # inf and nan stay
        out = -c_inf if y == c_zero else out
        return out if y >= c_zero else (y - y) / (y - y)  # nan for x < -1

    return impl


def exp(x):
    """e^x (vectorisable in @njit code; from Python the library's)."""
    return math.exp(x)


def expm1(x):
    return math.expm1(x)


def log(x):
    return math.log(x)


def log1p(x):
    return math.log1p(x)


def _register(stub, make):
    @overload(stub, jit_options=INLINE)
    def _overload(x):
        if x == types.float32:
            return make(True)
        if x == types.float64:
            return make(False)
        return None


_register(exp, _exp_impl)
_register(expm1, _expm1_impl)
_register(log, _log_impl)
_register(log1p, _log1p_impl)


# The activations' and costs' scalar forms (kernels/scalar.py) over these: what kernels.cpu uses.
g, g_prime, loss_term, output_gradient = scalar.forms(exp, expm1, log, log1p, njit(**INLINE))
