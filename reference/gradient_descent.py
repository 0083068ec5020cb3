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
from numbers import Integral, Real

import numpy as np

from reference.checks import FLOAT_DTYPES, NonFiniteError


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


def _check_arguments(grad_f, alpha, criteria, max_iter):
    if not callable(grad_f):
        raise TypeError(f"grad_f must be a callable (x -> grad f(x)), got {type(grad_f).__name__}")
    for name, value in (("alpha", alpha), ("criteria", criteria)):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} = {value}; expected a finite number > 0")
    if isinstance(max_iter, bool) or not isinstance(max_iter, Integral):
        raise TypeError(f"max_iter must be an int, got {type(max_iter).__name__}")
    if max_iter < 1:
        raise ValueError(f"max_iter = {max_iter}; expected at least 1")


def _start_point(x_old):
    """x_old as a 1-D float array (a scalar start is R^1), a copy; float32 stays float32."""
    x = np.asarray(x_old)
    if x.dtype.kind not in "iuf" or x.dtype == np.float16:
        raise TypeError(f"x_old has dtype {x.dtype}; expected a number or a float32/float64 array")
    if x.dtype.type not in FLOAT_DTYPES:
        x = x.astype(np.float64)
    if x.ndim > 1:
        raise ValueError(f"x_old has shape {x.shape}; expected a scalar or a 1-D array (n,)")
    x = np.array(x.reshape(-1))  # own copy: the caller's array is never changed
    if x.size == 0:
        raise ValueError(f"x_old has shape {x.shape}; expected at least one coordinate")
    if not np.isfinite(x).all():
        raise NonFiniteError(f"x_old = {x} contains NaN or inf; the start point must be finite")
    return x


def _check_gradient(grad, x):
    """What grad_f returned: one entry per coordinate of x."""
    if grad.size != x.size or grad.ndim > 1:
        raise ValueError(f"grad_f(x) has shape {grad.shape}; expected {x.shape}, the shape of x")


def gradient_descent(grad_f, x_old, alpha, criteria=1e-8, max_iter=10_000):
    """Algorithm 1: x* = a local minimum of f, from x_old, with learning rate alpha.

    grad_f: callable, grad_f(x) -> grad f(x) with x's shape (n,) (a scalar is accepted for n = 1).
    x_old: the start point, a number or an array of shape (n,); float32 stays float32.
    alpha: the learning rate, > 0. criteria: CRITERIA of line 3, > 0. max_iter: cap on updates.
    Returns a GradientDescentResult (x, trajectory (k + 1, n), converged, diverged, iterations).
    """
    _check_arguments(grad_f, alpha, criteria, max_iter)
    x_old = _start_point(x_old)
    alpha = x_old.dtype.type(alpha)

    trajectory = [x_old]
    converged = diverged = False
    while len(trajectory) <= max_iter:  # while TRUE, capped at max_iter updates
        grad = np.asarray(grad_f(x_old.copy()), dtype=x_old.dtype)
        _check_gradient(grad, x_old)
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
