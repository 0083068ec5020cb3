"""reference/vjp.py: backward(v) of a non-scalar z is the vector-Jacobian product v^T J, as in torch."""

import numpy as np
import pytest
import torch

from reference.vjp import jacobian, vector_jacobian_product
from tests.torch_compare import check_against_torch

SLIDE = lambda x: 2 * (x * x) + 5 * x  # noqa: E731  the slide's z, on Nodes and tensors alike
PRODUCT = lambda x: x @ x  # noqa: E731  a matrix product: every z_k depends on several x_i


def test_backward_with_ones_gives_the_slides_13():
    x = np.full((2, 2), 2.0)
    z, grad = vector_jacobian_product(SLIDE, x, np.ones((2, 2)))
    np.testing.assert_array_equal(z, np.full((2, 2), 18.0))
    np.testing.assert_array_equal(grad, np.full((2, 2), 13.0))


@pytest.mark.parametrize("f", [SLIDE, PRODUCT], ids=["slide", "matmul"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_vector_jacobian_product_is_torchs_backward_v(f, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2)).astype(dtype)
    v = rng.standard_normal((2, 2)).astype(dtype)
    z, grad = vector_jacobian_product(f, x, v, dtype)
    check_against_torch(f, {"x": x}, value=z, grads={"x": grad}, upstream=v)


@pytest.mark.parametrize("f", [SLIDE, PRODUCT], ids=["slide", "matmul"])
def test_jacobian_is_torchs_and_v_J_is_the_backward(f):
    rng = np.random.default_rng(1)
    x, v = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    J = jacobian(f, x)
    expected = torch.autograd.functional.jacobian(f, torch.tensor(x)).reshape(4, 4).numpy()
    np.testing.assert_allclose(J, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(v.ravel() @ J, vector_jacobian_product(f, x, v)[1].ravel(), rtol=1e-12)


def test_the_slides_jacobian_is_diagonal_4x_plus_5():
    x = np.array([[2.0, -1.0], [0.5, 3.0]])
    np.testing.assert_array_equal(jacobian(SLIDE, x), np.diag(4 * x.ravel() + 5))


def test_a_non_scalar_z_needs_v_as_in_torch():
    x = torch.full((2, 2), 2.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        SLIDE(x).backward()
    with pytest.raises(ValueError, match=r"z has shape \(2, 2\): backward needs v = dL/dz"):
        vector_jacobian_product(SLIDE, np.full((2, 2), 2.0))
    with pytest.raises(ValueError, match=r"v has shape \(3,\); expected z's shape \(2, 2\)"):
        vector_jacobian_product(SLIDE, np.full((2, 2), 2.0), np.ones(3))


def test_a_scalar_z_needs_no_v():
    z, grad = vector_jacobian_product(lambda x: (SLIDE(x)).sum(), np.full((2, 2), 2.0))
    assert z == 72.0
    np.testing.assert_array_equal(grad, np.full((2, 2), 13.0))
