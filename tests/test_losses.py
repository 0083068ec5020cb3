"""Slides' losses (L1, L2, MSE, cross-entropy) and their gradients against torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from reference import losses
from tests.torch_compare import check_against_torch

SHAPES = [(1, 1), (1, 7), (3, 13)]


def data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    Y_hat = rng.standard_normal(shape).astype(dtype)
    Y = rng.standard_normal(shape).astype(dtype)
    return Y_hat, Y


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "loss, backward, torch_fn",
    [
        (losses.l1_loss, losses.l1_loss_backward, lambda Y_hat, Y: (Y - Y_hat).abs().sum()),
        (losses.l2_loss, losses.l2_loss_backward, lambda Y_hat, Y: (Y - Y_hat).pow(2).sum()),
        (losses.mse, losses.mse_backward, lambda Y_hat, Y: F.mse_loss(Y_hat, Y)),
    ],
    ids=["l1", "l2", "mse"],
)
def test_regression_losses_match_torch(loss, backward, torch_fn, shape, dtype):
    Y_hat, Y = data(shape, dtype)
    value = loss(Y_hat, Y)
    assert value.dtype == dtype
    check_against_torch(torch_fn, {"Y_hat": Y_hat, "Y": Y}, value=value,
                        grads={"Y_hat": backward(Y_hat, Y)})


@pytest.mark.parametrize("shape", SHAPES)
def test_cross_entropy_matches_torch(shape, dtype):
    rng = np.random.default_rng(1)
    AL = rng.uniform(0.01, 0.99, shape).astype(dtype)
    Y = rng.integers(0, 2, shape).astype(dtype)
    check_against_torch(F.binary_cross_entropy, {"input": AL, "target": Y},
                        value=losses.cross_entropy(AL, Y),
                        grads={"input": losses.cross_entropy_backward(AL, Y)})


@pytest.mark.parametrize("shape", SHAPES)
def test_cross_entropy_from_logits_matches_torch(shape, dtype):
    rng = np.random.default_rng(2)
    Z = (rng.standard_normal(shape) * 4).astype(dtype)
    Y = rng.uniform(0, 1, shape).astype(dtype)  # soft labels are allowed too
    check_against_torch(F.binary_cross_entropy_with_logits, {"input": Z, "target": Y},
                        value=losses.cross_entropy_from_logits(Z, Y))


def test_cross_entropy_is_the_slides_formula():
    rng = np.random.default_rng(3)
    AL = rng.uniform(0.05, 0.95, (1, 9))
    Y = rng.integers(0, 2, (1, 9)).astype(float)
    m = Y.shape[1]
    J = -(1 / m) * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    assert losses.cross_entropy(AL, Y) == pytest.approx(J, rel=1e-14)
    assert losses.cross_entropy_from_logits(np.log(AL / (1 - AL)), Y) == pytest.approx(J, rel=1e-12)


def test_saturated_logits_give_finite_cost_equal_to_torch(dtype):
    Z = np.array([[-1000.0, -1000.0, 1000.0, 1000.0, 0.0]], dtype=dtype)
    Y = np.array([[0.0, 1.0, 0.0, 1.0, 1.0]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        J = losses.cross_entropy_from_logits(Z, Y)
    assert np.isfinite(J)
    check_against_torch(F.binary_cross_entropy_with_logits, {"input": Z, "target": Y}, value=J)


def test_outputs_of_exactly_0_and_1_are_clamped_like_torch(dtype):
    """log 0 is never taken (no divide-by-zero warning): the clamp's -100 stands in for it."""
    AL = np.array([[0.0, 0.0, 1.0, 1.0]], dtype=dtype)
    Y = np.array([[0.0, 1.0, 0.0, 1.0]], dtype=dtype)
    with np.errstate(divide="raise", invalid="raise"):
        J = losses.cross_entropy(AL, Y)
    expected = F.binary_cross_entropy(torch.tensor(AL, dtype=torch.float64),
                                      torch.tensor(Y, dtype=torch.float64))
    assert J == pytest.approx(expected.item(), rel=1e-6) and J == pytest.approx(50.0)
