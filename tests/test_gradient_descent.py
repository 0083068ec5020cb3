"""reference/gradient_descent.py: the slides' Algorithm 1, against its torch.autograd twin and on
functions whose minima are known independently."""

import numpy as np
import pytest
import torch

from reference.gradient_descent import gradient_descent
from tests.torch_compare import TOLERANCES, assert_close

# A quadratic f(x) = (x - c)^T H (x - c) / 2 with H symmetric positive definite: minimum at x = c.
H = np.array([[3.0, 0.5, 0.0], [0.5, 2.0, -0.3], [0.0, -0.3, 1.0]])
C = np.array([1.0, -2.0, 0.5])


def quadratic(x):  # works on NumPy arrays and torch tensors alike
    d = x - (torch.from_numpy(C) if isinstance(x, torch.Tensor) else C)
    Hd = (torch.from_numpy(H) if isinstance(x, torch.Tensor) else H) @ d
    return d @ Hd / 2


def quadratic_grad(x):
    return H @ (x - C)


# A non-convex 1-D function: f(x) = x^4 - 3 x^2 + x, f'(x) = 4 x^3 - 6 x + 1, with a global
# minimum near -1.30, a local maximum near 0.17 and a local minimum near 1.13.
def nonconvex(x):
    return x**4 - 3 * x**2 + x


def nonconvex_grad(x):
    return 4 * x**3 - 6 * x + 1


def torch_algorithm_1(f, x_old, alpha, criteria, max_iter):
    """Algorithm 1 written in torch, with grad f from autograd: the trajectory of x_old."""
    x_old = torch.tensor(np.atleast_1d(np.asarray(x_old, np.float64)))
    trajectory = [x_old]
    for _ in range(max_iter):
        x = x_old.clone().requires_grad_()
        f(x if x.numel() > 1 else x[0]).backward()
        tmp_delta = x_old - alpha * x.grad
        if (torch.abs(tmp_delta - x_old) < criteria).all():
            break
        x_old = tmp_delta
        trajectory.append(x_old)
    return torch.stack(trajectory).numpy()


@pytest.mark.parametrize(
    "f, grad_f, x0, alpha",
    [
        (quadratic, quadratic_grad, np.array([4.0, 3.0, -2.0]), 0.3),
        (nonconvex, nonconvex_grad, -2.0, 0.02),
        (nonconvex, nonconvex_grad, 2.0, 0.02),
        (nonconvex, nonconvex_grad, 0.1, 0.05),
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_trajectory_matches_torch_autograd(f, grad_f, x0, alpha, dtype):
    """Every iterate equals the torch twin's (grad f by autograd, float64), both dtypes."""
    criteria = 1e-9 if dtype == np.float64 else 1e-5
    ours = gradient_descent(grad_f, np.asarray(x0, dtype), alpha, criteria, max_iter=2000)
    expected = torch_algorithm_1(f, x0, alpha, criteria, max_iter=2000)
    assert ours.converged and not ours.diverged
    assert ours.trajectory.dtype == dtype and ours.x.dtype == dtype
    if dtype == np.float64:  # same iterations, every iterate equal to the twin's
        assert ours.trajectory.shape == expected.shape
        assert_close("trajectory", ours.trajectory, expected, 1e-9)
    else:  # float32 may stop a step earlier or later; compare the common part and the end
        k = min(len(ours.trajectory), len(expected))
        assert abs(len(ours.trajectory) - len(expected)) <= 2
        tol = TOLERANCES[np.dtype(dtype)][0]
        assert_close("trajectory", ours.trajectory[:k], expected[:k], tol, dtype)
        assert_close("x*", ours.x, expected[-1], tol, dtype)


def test_quadratic_reaches_its_known_minimum():
    result = gradient_descent(quadratic_grad, [4.0, 3.0, -2.0], alpha=0.3, criteria=1e-12)
    assert result.converged
    np.testing.assert_allclose(result.x, C, atol=1e-10)
    assert quadratic(result.x) < 1e-20


def test_stopping_rule_is_line_3():
    """Every step taken moved some coordinate by >= CRITERIA; the step refused moved all by less."""
    criteria = 1e-6
    result = gradient_descent(quadratic_grad, [4.0, 3.0, -2.0], alpha=0.3, criteria=criteria)
    steps = np.abs(np.diff(result.trajectory, axis=0))
    assert result.iterations == len(steps) > 0
    assert (steps.max(axis=1) >= criteria).all()
    assert (np.abs(0.3 * quadratic_grad(result.x)) < criteria).all()
    np.testing.assert_array_equal(result.x, result.trajectory[-1])


def test_nonconvex_start_point_decides_the_minimum():
    """The slides' warning: gradient descent stops in the first local minimum it meets."""
    roots = np.sort(np.roots([4.0, 0.0, -6.0, 1.0]).real)  # f'(x) = 0: min, max, min
    global_min, local_max, local_min = roots
    ends = {}
    for x0 in (-2.0, -0.5, 0.5, 2.0):
        result = gradient_descent(nonconvex_grad, x0, alpha=0.02, criteria=1e-10)
        assert result.converged
        ends[x0] = result.x[0]
    # starts left of the local maximum end in the global minimum, starts right of it in the other
    for x0, end in ends.items():
        expected = global_min if x0 < local_max else local_min
        assert abs(end - expected) < 1e-7, (x0, end, expected)
    assert nonconvex(global_min) < nonconvex(local_min)  # the right-hand runs are stuck


def test_a_start_on_a_stationary_point_stays_there():
    result = gradient_descent(lambda x: 2 * x, 0.0, alpha=0.1)
    assert result.converged and result.iterations == 0 and result.trajectory.shape == (1, 1)


def test_iteration_cap_and_divergence():
    oscillating = gradient_descent(lambda x: 2 * x, 1.0, alpha=1.0, max_iter=50)  # x -> -x forever
    assert oscillating.converged is False and oscillating.diverged is False  # bools, as documented
    assert oscillating.iterations == 50 and oscillating.trajectory.shape == (51, 1)

    with np.errstate(over="ignore"):  # grad f = 4 x^3 overflows to inf: the run must stop there
        exploding = gradient_descent(lambda x: 4 * x**3, 10.0, alpha=1.0, max_iter=100)
    assert exploding.diverged and not exploding.converged
    assert np.isfinite(exploding.trajectory).all() and exploding.iterations < 100



def test_max_iter_1_takes_exactly_one_update():
    result = gradient_descent(lambda x: 2 * x, 1.0, alpha=0.25, max_iter=1)  # x <- x - 0.5 x
    assert result.iterations == 1 and not result.converged
    np.testing.assert_array_equal(result.trajectory, [[1.0], [0.5]])


def test_line_3_is_strict_a_step_of_exactly_criteria_is_taken():
    """f(x) = x: grad f = 1, so every step moves x by alpha = 0.5 exactly. Line 3 asks
    |tmpDelta - x_old| < CRITERIA; with CRITERIA = 0.5 the test never passes and the cap stops."""
    result = gradient_descent(lambda x: np.ones_like(x), 0.0, alpha=0.5, criteria=0.5, max_iter=3)
    assert not result.converged and result.iterations == 3
    np.testing.assert_array_equal(result.trajectory, [[0.0], [-0.5], [-1.0], [-1.5]])


def test_the_defaults_criteria_1e_8_and_max_iter_10_000():
    """The signature's defaults: the quadratic's run stops once no coordinate moves by 1e-8, near
    its known minimum; a run that never converges stops after exactly 10,000 updates."""
    result = gradient_descent(quadratic_grad, [4.0, 3.0, -2.0], alpha=0.3)
    steps = np.abs(np.diff(result.trajectory, axis=0))
    assert result.converged and steps.max(axis=1).min() >= 1e-8
    assert (np.abs(0.3 * quadratic_grad(result.x)) < 1e-8).all()
    np.testing.assert_allclose(result.x, C, atol=1e-7)
    capped = gradient_descent(lambda x: 2 * x, 1.0, alpha=1.0)  # x -> -x forever
    assert not capped.converged and capped.iterations == 10_000


def test_an_integer_start_point_runs_in_float64():
    result = gradient_descent(quadratic_grad, np.array([4, 3, -2]), alpha=0.3, criteria=1e-6)
    expected = gradient_descent(quadratic_grad, np.array([4.0, 3.0, -2.0]), alpha=0.3, criteria=1e-6)
    assert result.x.dtype == result.trajectory.dtype == np.float64
    np.testing.assert_array_equal(result.trajectory, expected.trajectory)
    assert gradient_descent(lambda x: 2 * x, 3, alpha=0.25, max_iter=1).trajectory.tolist() == [[3.0], [1.5]]

def test_start_point_is_not_modified():
    x0 = np.array([4.0, 3.0, -2.0])
    gradient_descent(quadratic_grad, x0, alpha=0.3)
    np.testing.assert_array_equal(x0, [4.0, 3.0, -2.0])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"x_old": float("nan")}, ValueError, "x_old .* contains NaN or inf"),
        ({"x_old": [1.0, np.inf]}, ValueError, "x_old .* contains NaN or inf"),
        ({"x_old": [[1.0, 2.0]]}, ValueError, r"x_old has shape \(1, 2\)"),
        ({"x_old": []}, ValueError, r"x_old has shape \(0,\)"),
        ({"x_old": "1"}, TypeError, "x_old has dtype"),
        ({"alpha": 0.0}, ValueError, "alpha = 0.0; expected a finite number > 0"),
        ({"alpha": -0.1}, ValueError, "alpha = -0.1"),
        ({"alpha": float("inf")}, ValueError, "alpha = inf"),
        ({"alpha": "0.1"}, TypeError, "^alpha must be a real number, got str$"),
        ({"criteria": 0}, ValueError, "criteria = 0"),
        ({"max_iter": 0}, ValueError, "max_iter = 0"),
        ({"max_iter": 2.5}, TypeError, "^max_iter must be an int, got float$"),
        ({"grad_f": 3.0}, TypeError, r"^grad_f must be a callable \(x -> grad f\(x\)\), got float$"),
        ({"grad_f": lambda x: np.ones(3)}, ValueError, r"grad_f\(x\) has shape \(3,\).*\(2,\)"),
        # a column gradient (2, 1) for x of shape (2,): the right size, but not x's shape
        ({"grad_f": lambda x: x.reshape(-1, 1)}, ValueError,
         r"^grad_f\(x\) has shape \(2, 1\); expected \(2,\), the shape of x$"),
    ],
)
def test_bad_input(kwargs, error, message):
    call = {"grad_f": lambda x: 2 * x, "x_old": [1.0, 2.0], "alpha": 0.1} | kwargs
    with pytest.raises(error, match=message):
        gradient_descent(**call)
