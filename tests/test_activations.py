"""Activations and their backward dZ = dA * g'(Z) against torch, on every path."""

import numpy as np
import pytest
import torch

from tests.torch_compare import TOLERANCES, TORCH_ACTIVATIONS, check_against_torch

TORCH = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
EXTREMES = [-1e4, -1e3, -88.8, -50.0, -1e-9, 0.0, 1e-9, 50.0, 88.8, 1e3, 1e4]


def inputs(shape, dtype, seed=0):
    """Random Z and upstream dA; Z includes exact zeros (ReLU's kink) and tiny values.

    |Z| stays below about 8: beyond that torch's own float64 tanh' = 1 - y^2 loses more than
    1e-9 of its relative precision to cancellation (the saturated test covers large |Z|).
    """
    rng = np.random.default_rng(seed)
    Z = (rng.standard_normal(shape) * 2).astype(dtype)
    Z.flat[::5] = 0.0
    Z.flat[1::7] *= 1e-7
    return Z, rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("name", list(TORCH))
def test_activation_and_backward_match_torch(path, dtype, name):
    shape = (3, 5) if path.small else (7, 37)
    Z, dA = inputs(shape, dtype)
    A = getattr(path, name)(Z)
    dZ = getattr(path, name + "_backward")(dA, Z)
    assert A.dtype == dtype and A.shape == Z.shape
    check_against_torch(lambda Z: TORCH[name](Z), {"Z": Z}, value=A, grads={"Z": dZ}, upstream=dA)


@pytest.mark.parametrize("name", list(TORCH))
def test_saturated_inputs_stay_finite_and_match_torch(path, dtype, name):
    """The twin is torch autograd through cancellation-free forms (torch_compare.py): torch's
    own sigmoid backward gives 0 at z = 88.8, where the slope is 2.9e-39, a normal float64."""
    Z = np.array([EXTREMES], dtype=dtype)
    dA = np.ones_like(Z)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        A = getattr(path, name)(Z)
        dZ = getattr(path, name + "_backward")(dA, Z)
    assert np.isfinite(A).all() and np.isfinite(dZ).all()
    check_against_torch(TORCH_ACTIVATIONS[name], {"Z": Z}, value=A, grads={"Z": dZ}, upstream=dA)


@pytest.mark.parametrize("name", list(TORCH))
def test_nan_goes_through_as_in_torch(path, dtype, name):
    """A NaN in Z comes out of g as NaN, as out of torch's g ("NaN in, NaN out",
    checks.check_activation_input): a layer whose Z went NaN is not hidden from the layers after
    it. The other entries are torch's. Backward at the NaN: sigmoid' and tanh' give NaN, as
    torch does; relu' gives 0 (Z > 0 is False there) where torch passes dA on (its backward
    tests Z <= 0): the one place the paths and torch part, chosen and written down here."""
    Z = np.array([[np.nan, -2.0, 0.0, 0.5], [3.0, np.nan, -0.25, 1.0]], dtype)
    dA = np.full_like(Z, 3.0)
    A = getattr(path, name)(Z)
    dZ = getattr(path, name + "_backward")(dA, Z)
    tZ = torch.from_numpy(Z.copy()).requires_grad_()
    tA = TORCH[name](tZ)
    tA.backward(torch.from_numpy(dA))
    expected_dZ = tZ.grad.numpy().copy()
    if name == "relu":
        expected_dZ[np.isnan(Z)] = 0
    value_tol, grad_tol = TOLERANCES[dtype]
    np.testing.assert_allclose(A, tA.detach().numpy(), rtol=value_tol, err_msg=f"{name}(Z)")
    np.testing.assert_allclose(dZ, expected_dZ, rtol=grad_tol, err_msg=f"{name}_backward(dA, Z)")


def test_relu_derivative_at_zero_is_zero(path, dtype):
    Z = np.zeros((2, 3), dtype=dtype)
    assert (path.relu_backward(np.ones_like(Z), Z) == 0).all()


def test_tanh_is_the_slides_formula(dtype):
    """The slides define tanh as 2 / (1 + e^(-2z)) - 1; ours is that function, rearranged."""
    from reference.activations import tanh

    Z = np.linspace(-5, 5, 101).astype(dtype)[None, :]
    slide = 2 / (1 + np.exp(-2 * Z)) - 1
    np.testing.assert_allclose(tanh(Z), slide, rtol=0, atol=10 * np.finfo(dtype).eps)


@pytest.mark.parametrize("name, exact", [
    ("sigmoid", lambda Z: 1 / (4 * np.cosh(Z / 2) ** 2)),  # sigmoid'(z) = 1 / (4 cosh^2(z/2))
    ("tanh", lambda Z: 1 / np.cosh(Z) ** 2),  # tanh'(z) = sech^2(z)
])
def test_derivatives_keep_their_digits_where_the_activation_saturates(path, dtype, name, exact):
    """Where |A| rounds to 1, 1 - A^2 (or 1 - A) would be 0 or noise; the slope is still there.

    The expected values come from cosh, a different formula with no cancellation, in float64."""
    Z = np.array([[-15.0, -9.5, -4.0, 4.0, 9.5, 15.0]], dtype=dtype)
    dZ = getattr(path, name + "_backward")(np.ones_like(Z), Z)
    rtol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(dZ, exact(Z.astype(np.float64)), rtol=rtol, atol=0)
