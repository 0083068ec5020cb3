"""kernels/cpu/vmath.py's exp, expm1, log, log1p against NumPy, in ULPs of each dtype.

The oracle is NumPy's function in extended precision (np.longdouble) on the same inputs, rounded
to the dtype; the error of a result is |ours - exact| in units of the dtype's spacing at the
exact value. The inputs cover each function's whole domain (log-uniform over every binade
from the smallest subnormal to the largest float where the function is finite, and past it,
where it saturates to 0, inf or -inf), the points where the algorithms switch branch, and
0, -0, inf, -inf, nan. The functions run inside a loop compiled with the kernels' own flags
(config.JIT: fast-math "reassoc" and "contract" included), as the activations and costs use them.
"""

import numpy as np
import pytest
from numba import njit

from kernels.cpu import vmath
from kernels.cpu.config import JIT

# The bounds the CPU path promises (docs/performance.md): the C library's are about 1 ULP.
ULP_BOUND = {"exp": 2.0, "expm1": 2.0, "log": 2.0, "log1p": 4.0}
ORACLE = {"exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p}


@njit(**JIT)
def _apply(x, out, which):
    """The functions in a loop, as the kernels call them (vectorised by LLVM)."""
    if which == 0:
        for i in range(x.size):
            out[i] = vmath.exp(x[i])
    elif which == 1:
        for i in range(x.size):
            out[i] = vmath.expm1(x[i])
    elif which == 2:
        for i in range(x.size):
            out[i] = vmath.log(x[i])
    else:
        for i in range(x.size):
            out[i] = vmath.log1p(x[i])


def inputs(name, dtype, n=100_000, seed=0):
    rng = np.random.default_rng(seed)
    fi = np.finfo(dtype)
    both = lambda a: np.concatenate([a, -a])  # noqa: E731
    magnitudes = np.exp(rng.uniform(np.log(float(fi.smallest_subnormal)), np.log(float(fi.max)), n))
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, fi.max, -fi.max, fi.tiny, fi.smallest_subnormal]
    if name in ("exp", "expm1"):
        top = np.log(float(fi.max))  # e^x overflows past it; underflows past -log(2^(bits))
        grid = [both(magnitudes[magnitudes < 2 * top]), np.linspace(-1.2 * top, 1.2 * top, n),
                np.linspace(-2, 2, n), [top, -top, 0.5, -0.5, 1, -1]]
    else:  # log: x > 0 and below (nan); log1p: x > -1 and below
        grid = [magnitudes, -magnitudes, np.linspace(0, 4, n), [0.5, 1, 2, np.sqrt(0.5), np.sqrt(2)]]
        if name == "log1p":
            grid += [-1 + magnitudes[magnitudes < 1], np.linspace(-1, 1, n), [-1.0, np.sqrt(0.5) - 1,
                     np.sqrt(2) - 1]]
    x = np.concatenate([np.asarray(g, np.float64) for g in grid] + [special])
    with np.errstate(over="ignore"):
        return x.astype(dtype)


def ulp_errors(ours, exact, dtype):
    """|ours - exact| in units of the dtype's spacing at exact (0 where both are the same
    non-finite value; inf where only one is)."""
    with np.errstate(all="ignore"):
        return _ulp_errors(ours, exact, dtype)


def _ulp_errors(ours, exact, dtype):
    rounded = exact.astype(dtype)
    finite = np.isfinite(rounded) & np.isfinite(ours)
    spacing = np.spacing(np.abs(rounded)).astype(np.longdouble)
    err = np.abs(ours.astype(np.longdouble) - exact) / spacing
    same = (ours == rounded) | (np.isnan(ours) & np.isnan(rounded))
    return np.where(finite, err, np.where(same, 0.0, np.inf))


@pytest.mark.parametrize("name", list(ORACLE))
def test_within_the_ulp_bound_of_numpy_over_the_whole_range(name, dtype):
    x = inputs(name, dtype)
    ours = np.empty_like(x)
    _apply(x, ours, list(ORACLE).index(name))
    with np.errstate(all="ignore"):
        exact = ORACLE[name](x.astype(np.longdouble))
    err = ulp_errors(ours, exact, dtype)
    worst = int(np.argmax(err))
    assert err[worst] <= ULP_BOUND[name], (
        f"{name}({x[worst]!r}) = {ours[worst]!r}, NumPy (extended precision) "
        f"{exact[worst]!r}: {err[worst]:.2f} ULP > {ULP_BOUND[name]}")


def test_saturated_inputs_give_the_limits(dtype):
    big = np.array([1e4, -1e4, np.inf, -np.inf, np.nan], dtype)
    out = np.empty_like(big)
    _apply(big, out, 0)
    np.testing.assert_array_equal(out, [np.inf, 0, np.inf, 0, np.nan])
    _apply(big, out, 1)
    np.testing.assert_array_equal(out, [np.inf, -1, np.inf, -1, np.nan])
    edges = np.array([0, -0.0, -1, np.inf, np.nan], dtype)
    _apply(edges, out, 2)
    np.testing.assert_array_equal(out, [-np.inf, -np.inf, np.nan, np.inf, np.nan])
    _apply(edges, out, 3)
    np.testing.assert_array_equal(out, [0, 0, -np.inf, np.inf, np.nan])


def test_the_loops_are_vectorised():
    """What the module is for: the compiled loop holds vector instructions of the widest kind
    the plan uses, not calls into the C library."""
    from kernels.cpu import config

    fresh = njit(**dict(JIT, cache=False))(_apply.py_func)  # numba shows no cached assembly
    x = np.ones(64, np.float32)
    fresh(x, x.copy(), 0)
    asm = fresh.inspect_asm(fresh.signatures[0])
    register = {512: "zmm", 256: "ymm", 128: "xmm"}[config.vector_bits()]
    assert "expf" not in asm and "logf" not in asm
    assert f"%{register}" in asm
