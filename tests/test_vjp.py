"""reference/vjp.py: backward(v) of a non-scalar z is the vector-Jacobian product v^T J, as in torch."""

import numpy as np
import pytest
import torch

from reference.vjp import as_nodes, jacobian, vector_jacobian_product
from tests.torch_compare import check_against_torch

SLIDE = lambda x: 2 * (x * x) + 5 * x  # noqa: E731  the slide's z, on Nodes and tensors alike
PRODUCT = lambda x: x @ x  # noqa: E731  a matrix product: every z_k depends on several x_i
CUBE = lambda x: (x * x) * x / 3 + x * 0.7  # noqa: E731  dz/dx = x^2 + 0.7, rounded on the way


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
    with pytest.raises(ValueError, match=r"^z has shape \(2, 2\): backward needs v = dL/dz of that shape "
                                         r"\(reverse mode differentiates one scalar, L = sum\(v \* z\)\)$"):
        vector_jacobian_product(SLIDE, np.full((2, 2), 2.0))
    with pytest.raises(ValueError, match=r"v has shape \(3,\); expected z's shape \(2, 2\)"):
        vector_jacobian_product(SLIDE, np.full((2, 2), 2.0), np.ones(3))


def test_a_scalar_z_needs_no_v():
    z, grad = vector_jacobian_product(lambda x: (SLIDE(x)).sum(), np.full((2, 2), 2.0))
    assert z == 72.0
    np.testing.assert_array_equal(grad, np.full((2, 2), 13.0))


@pytest.mark.parametrize("v", [3.0, np.array([3.0])], ids=["scalar", "shape-1"])
def test_a_scalar_z_takes_a_scalar_v_as_torch(v):
    """z.backward(3.0) for a scalar z: x.grad = 3 dz/dx = 3 (4 x + 5) = 39 at x = 2."""
    x = np.full((2, 2), 2.0)
    z, grad = vector_jacobian_product(lambda x: SLIDE(x).sum(), x, v)
    check_against_torch(lambda x: SLIDE(x).sum(), {"x": x}, value=z, grads={"x": grad},
                        upstream=np.float64(3.0))
    np.testing.assert_array_equal(grad, np.full((2, 2), 39.0))


def test_a_scalar_z_refuses_a_v_of_several_entries():
    with pytest.raises(ValueError, match=r"^v has shape \(2,\); z is a scalar, so v must be one too$"):
        vector_jacobian_product(lambda x: SLIDE(x).sum(), np.full((2, 2), 2.0), np.ones(2))


def test_float32_is_computed_in_float32():
    """dtype=float32 makes float32 Nodes, so z is torch's float32 forward bit for bit; the same
    numbers worked in float64 and rounded once at the end differ in some entry."""
    x = np.random.default_rng(0).standard_normal((3, 3)).astype(np.float32)
    nodes = as_nodes(x, np.float32)
    assert {node.dtype for node in nodes.flat} == {np.dtype(np.float32)}
    np.testing.assert_array_equal(np.array([node.value for node in nodes.flat]).reshape(3, 3), x)
    z, grad = vector_jacobian_product(SLIDE, x, np.ones((3, 3), np.float32), np.float32)
    assert z.dtype == grad.dtype == np.float32
    np.testing.assert_array_equal(z, SLIDE(torch.from_numpy(x)).numpy())
    assert (z != SLIDE(x.astype(np.float64)).astype(np.float32)).any(), "the example must tell"


def test_a_float32_jacobians_rows_are_float32_backward_passes():
    """J[k] = v^T J with v = e_k, one backward pass in the dtype asked for; CUBE's derivative
    rounds differently in float64, so a pass in the wrong dtype shows."""
    x = np.random.default_rng(0).standard_normal((3, 3)).astype(np.float32)
    J = jacobian(CUBE, x, np.float32)
    assert J.dtype == np.float32 and J.shape == (9, 9)
    for k in range(9):
        e_k = np.zeros(9, np.float32)
        e_k[k] = 1
        row = vector_jacobian_product(CUBE, x, e_k.reshape(3, 3), np.float32)[1]
        np.testing.assert_array_equal(J[k], row.ravel())
    torch_J = torch.autograd.functional.jacobian(CUBE, torch.from_numpy(x)).reshape(9, 9).numpy()
    np.testing.assert_allclose(J, torch_J, rtol=1e-6, atol=1e-6)


def test_as_nodes_of_an_empty_x_is_an_empty_object_array_and_checks_the_dtype_anyway():
    nodes = as_nodes(np.zeros((0, 2)))
    assert nodes.dtype == object and nodes.shape == (0, 2)
    with pytest.raises(TypeError, match=r"^dtype int64 is not supported; expected float32 or float64$"):
        as_nodes(np.zeros((0, 2)), np.int64)


def test_the_jacobian_of_an_empty_z_or_x_is_an_empty_matrix():
    """J is (z.size, x.size) even when one of them is 0: a map R^4 -> R^0 has a 0 x 4 Jacobian
    (torch's jacobian refuses an empty output: "stack expects a non-empty TensorList")."""
    J = jacobian(lambda x: x[:0], np.ones((2, 2), np.float32), np.float32)
    assert J.shape == (0, 4) and J.dtype == np.float32
    assert jacobian(SLIDE, np.zeros(0)).shape == (0, 0)


def test_an_empty_z_gives_x_a_zero_gradient_as_torch():
    """L = sum of no terms is 0: torch's z.backward(empty v) leaves x.grad = 0 (it crashed here)."""
    x = np.array([1.0, 2.0, 3.0])
    z, grad = vector_jacobian_product(lambda X: 2 * X[:0], x, np.ones(0))
    xt = torch.tensor(x, requires_grad=True)
    (2 * xt[:0]).backward(torch.ones(0, dtype=torch.float64))
    assert z.shape == (0,)
    np.testing.assert_array_equal(grad, xt.grad.numpy())


def test_a_constant_f_gives_z_in_the_dtype_asked_for_and_a_zero_gradient():
    """f ignores x and builds float64 Nodes of its own: z still comes back in the dtype asked
    for (every other f inherits it from x's Nodes), and x.grad = 0."""
    from reference.graph import Node

    for f in (lambda X: np.array([Node(1.5), Node(2.5)], dtype=object), lambda X: Node(1.5)):
        v = np.ones(2) if not isinstance(f(None), Node) else None
        z, grad = vector_jacobian_product(f, np.array([1.0, 2.0]), v, dtype=np.float32)
        assert z.dtype == np.float32 and grad.dtype == np.float32, (z.dtype, grad.dtype)
        np.testing.assert_array_equal(grad, np.zeros(2, np.float32))
