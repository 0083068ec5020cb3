"""Slides "Training - Gradient Descent" and "Algorithm 1 Gradient Descent".

Find a (local) minimum x* of a differentiable f: R^n -> R from a start point x_old:

    1: while TRUE do
    2:     tmpDelta <- x_old - alpha * grad f(x_old)
    3:     if abs(tmpDelta - x_old) < CRITERIA then
    4:         break
    5:     end if
    6:     x_old <- tmpDelta
    7: end while

`gradient_descent` is that loop line for line, with two additions the slide leaves out: an
iteration cap (a too-large alpha never meets line 3) and a stop when the iterate stops being finite
(divergence). For x in R^n, line 3's abs() is read elementwise and the test must hold for every
component (the largest |change| is below CRITERIA). As on the slide, x* is the last x_old: the
final tmpDelta that passed the test is not taken.

Which minimum it finds depends on the start: gradient descent stops in the first local minimum it
reaches, with no guarantee that it is the global one (the slides' warning).
"""

from dataclasses import dataclass

import numpy as np

from reference import checks


@dataclass
class GradientDescentResult:
    """x: the minimiser found, shape (n,). trajectory: (k + 1, n), x_old after 0, 1, ..., k updates
    (trajectory[0] is the start, trajectory[-1] is x). converged: line 3's test passed.
    diverged: the next iterate was NaN or inf (not appended). iterations: k, the updates taken."""

    x: np.ndarray
    trajectory: np.ndarray
    converged: bool
    diverged: bool
    iterations: int



def gradient_descent(grad_f, x_old, alpha, criteria=1e-8, max_iter=10_000):
    """Algorithm 1: x* = a local minimum of f, from x_old, with learning rate alpha.

    grad_f: callable, grad_f(x) -> grad f(x) with x's shape (n,) (a scalar is accepted for n = 1).
    x_old: the start point, a number or an array of shape (n,); float32 stays float32.
    alpha: the learning rate, > 0. criteria: CRITERIA of line 3, > 0. max_iter: cap on updates.
    Returns a GradientDescentResult (x, trajectory (k + 1, n), converged, diverged, iterations).
    """
    checks.check_gradient_descent(grad_f, alpha, criteria, max_iter)
    x_old = checks.check_start_point(x_old)
    alpha = x_old.dtype.type(alpha)

    trajectory = [x_old]
    converged = diverged = False
    while len(trajectory) <= max_iter:  # while TRUE, capped at max_iter updates
        grad = np.asarray(grad_f(x_old.copy()), dtype=x_old.dtype)
        checks.check_gradient(grad, x_old)
        tmp_delta = x_old - alpha * grad.reshape(x_old.shape)  # line 2
        if not np.isfinite(tmp_delta).all():
            diverged = True
            break
        if (np.abs(tmp_delta - x_old) < criteria).all():  # line 3
            converged = True
            break  # line 4: x* = x_old
        x_old = tmp_delta  # line 6
        trajectory.append(x_old)
    return GradientDescentResult(
        x=x_old,
        trajectory=np.stack(trajectory),
        converged=converged,
        diverged=diverged,
        iterations=len(trajectory) - 1,
    )
