"""g and g' on every path to a relative error over the whole range where the true value is a
normal float: sigmoid down to z = ln(tiny) (-87.3 in float32, -708.4 in float64), its slope and
tanh's out to where they underflow, tanh and ReLU down to the smallest normal z.

Each path's A = g(Z) and dZ = g_backward(1, Z) are compared entry by entry with torch autograd
in float64 (torch_compare's cancellation-free twins) and with the reference, relative down to the
dtype's smallest normal number; entries whose true value is subnormal or zero in the dtype are
left out (there the dtype itself has no relative precision). The sweep covers the range on a
grid that is dense where the values leave the normal range; hypothesis adds random points.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import network as reference
from tests.conftest import examples
from tests.torch_compare import TOLERANCES, TORCH_ACTIVATIONS, rel_error

NAMES = ("sigmoid", "tanh", "relu")


def reach(dtype):
    """|z| past which sigmoid and the slopes leave the dtype's normal range: -ln(tiny), plus a
    margin so the sweep crosses it."""
    return float(-np.log(np.finfo(dtype).tiny)) + 2.0


def sweep(dtype, points, stride=1):
    """z over the whole range, both signs: powers of two (every stride-th) from the smallest
    normal number to reach(dtype), and `points` evenly spaced points up to it (denser near where
    values end)."""
    finfo = np.finfo(dtype)
    top = reach(dtype)
    powers = 2.0 ** np.arange(finfo.minexp, int(np.log2(top)) + 1)[::stride]
    even = np.linspace(0, top, points)
    ends = np.concatenate([np.linspace(e - 3, e + 1, points // 2) for e in (top - 2, (top - 2) / 2 + 1)])
    z = np.concatenate([powers, even, ends])
    return np.concatenate([-z[::-1], [0.0], z]).astype(dtype)


def oracle(name, Z):
    """(g(Z), g'(Z)) in float64 from torch autograd (the twins of torch_compare.py)."""
    t = torch.tensor(Z.astype(np.float64), requires_grad=True)
    value = TORCH_ACTIVATIONS[name](t)
    value.backward(torch.ones_like(t))
    return value.detach().numpy(), t.grad.numpy()


def normal_in(dtype, values):
    """Entries whose true value is a normal number of dtype."""
    return np.abs(values) >= np.finfo(dtype).tiny


def exact_zeros(name, Z):
    """Where g and g' are exactly 0 (not underflowed): ReLU's and its slope for z <= 0, tanh(0)."""
    if name == "relu":
        return Z <= 0, Z <= 0
    return (Z == 0) if name == "tanh" else np.zeros(Z.shape, bool), np.zeros(Z.shape, bool)


def check(path, name, Z):
    dtype = Z.dtype
    tol_value, tol_slope = TOLERANCES[dtype]
    Z2 = Z.reshape(1, -1)
    A = getattr(path, name)(Z2)
    dZ = getattr(path, name + "_backward")(np.ones_like(Z2), Z2)
    A_ref = getattr(reference, name)(Z2)
    dZ_ref = getattr(reference, name + "_backward")(np.ones_like(Z2), Z2)
    g, g_prime = oracle(name, Z)
    floor = float(np.finfo(dtype).tiny)
    zeros = exact_zeros(name, Z)
    for what, ours, ref, true, tol, zero in (("g", A, A_ref, g, tol_value, zeros[0]),
                                             ("g'", dZ, dZ_ref, g_prime, tol_slope, zeros[1])):
        assert ours.dtype == dtype and ours.shape == Z2.shape
        ours = ours.ravel()
        keep = normal_in(dtype, true) | zero
        for oracle_name, expected in (("torch", true), ("the reference", ref.ravel())):
            errors = np.abs(ours - expected) / np.maximum(floor, np.abs(ours) + np.abs(expected))
            errors = np.where(keep, errors, 0.0)
            worst = int(np.argmax(errors))
            assert errors[worst] <= tol, (
                f"{path.name} {name} {what} at z = {Z[worst]!r}: {ours[worst]!r}, "
                f"{oracle_name} {expected[worst]!r}: relative error {errors[worst]:.3g} > {tol:g}")
        assert rel_error(ours[keep], true[keep], floor=floor) <= tol


@pytest.mark.parametrize("name", NAMES)
def test_g_and_its_slope_are_relatively_exact_over_the_whole_normal_range(path, dtype, name):
    Z = sweep(dtype, 12, stride=32) if path.small else sweep(dtype, 400)  # the simulator: fewer
    check(path, name, Z)


def test_the_sweep_reaches_every_end_of_the_normal_range(dtype):
    """The sweep's own check: it holds z where sigmoid, sigmoid' and tanh' are the smallest
    normal numbers and where they are subnormal, and z = the smallest normal for tanh and ReLU."""
    Z = sweep(dtype, 24)
    for name in ("sigmoid", "tanh"):
        g, g_prime = oracle(name, Z)
        for values in ((g, g_prime) if name == "sigmoid" else (g_prime,)):
            assert (~normal_in(dtype, values)).any(), name  # past the end
            assert (np.abs(values[normal_in(dtype, values)]) < 1e3 * np.finfo(dtype).tiny).any(), name
    assert np.finfo(dtype).tiny in Z


@pytest.mark.parametrize("name", NAMES)
def test_random_points_of_the_normal_range(path, dtype, name):
    top = reach(dtype)
    width = 32 if dtype == np.float32 else 64
    points = st.floats(-top, top, width=width, allow_subnormal=False)

    @settings(max_examples=examples(2 if path.small else 10))
    @given(st.lists(points, min_size=1, max_size=4 if path.small else 64))
    def run(z):
        check(path, name, np.array(z, dtype=dtype))

    run()
