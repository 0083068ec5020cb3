"""Grading: Algorithm 1 (slides "Training - Gradient Descent", "Algorithm 1 Gradient Descent").

The expected run is Algorithm 1 itself, written out here beside torch.autograd's gradient, and
compared step by step: the number of updates first (where a stopping rule shows), then every
iterate, x and the two flags. The situations: a quadratic in R^3; a step of exactly CRITERIA
(line 3 is a strict <); a step whose every coordinate is below CRITERIA while its length is not
(line 3 tests each coordinate); a start on a minimum; a rate too large to ever pass line 3 (the
cap); an overflowing run (divergence); a float32 start.
"""

import numpy as np
import torch

from exercises.grading.support import Case, cases, expect, fail, run

H = np.array([[3.0, 0.5, 0.0], [0.5, 2.0, -0.3], [0.0, -0.3, 1.0]])
C = np.array([1.0, -2.0, 0.5])


def quadratic(x):
    return (x - torch.from_numpy(C)) @ torch.from_numpy(H) @ (x - torch.from_numpy(C)) / 2


def half_square(x):
    return (x * x).sum() / 2


def quartic(x):
    return (x**4).sum()


def torch_gradient(f):
    def grad_f(x):
        t = torch.tensor(np.asarray(x, np.float64), requires_grad=True)
        f(t).backward()
        return t.grad.numpy().astype(np.asarray(x).dtype)
    return grad_f


def algorithm_1(grad_f, x_old, alpha, criteria, max_iter):
    """Lines 1-7, capped, stopping before a non-finite tmpDelta: (trajectory, converged, diverged)."""
    x_old = np.array(np.atleast_1d(x_old))
    alpha = x_old.dtype.type(alpha)
    trajectory, converged, diverged = [x_old], False, False
    while len(trajectory) <= max_iter:
        with np.errstate(over="ignore", invalid="ignore"):
            tmp_delta = x_old - alpha * grad_f(x_old)
        if not np.isfinite(tmp_delta).all():
            diverged = True
            break
        if (np.abs(tmp_delta - x_old) < criteria).all():
            converged = True
            break
        x_old = tmp_delta
        trajectory.append(x_old)
    return np.stack(trajectory), converged, diverged


GD_CASES = (
    Case("a quadratic in R^3 from [4, 3, -2], alpha = 0.3", {
        "f": quadratic, "x0": np.array([4.0, 3.0, -2.0]), "alpha": 0.3, "criteria": 1e-9, "max_iter": 2000}),
    Case("f = x^2/2 from x = 1, alpha = 0.5: a step of exactly CRITERIA = 2^-10", {
        "f": half_square, "x0": 1.0, "alpha": 0.5, "criteria": 2.0**-10, "max_iter": 100,
        "why": "there the step |tmpDelta - x_old| equals CRITERIA, and line 3 breaks only when it is "
               "< CRITERIA"}),
    Case("f = |x|^2/2 in R^2 from [1, 1], alpha = 0.5: each coordinate's step below CRITERIA, its "
         "length not", {
        "f": half_square, "x0": np.array([1.0, 1.0]), "alpha": 0.5, "criteria": 1.2 * 2.0**-10,
        "max_iter": 100, "why": "there every coordinate of the step is below CRITERIA (line 3 "
                                "tests abs(...) of each coordinate, not a length of the step)"}),
    Case("a start on the minimum (x = 0)", {"f": half_square, "x0": 0.0, "alpha": 0.1, "criteria": 1e-8,
                                            "max_iter": 100}),
    Case("alpha = 2 on f = x^2/2: x -> -x forever, capped at max_iter = 50", {
        "f": half_square, "x0": 1.0, "alpha": 2.0, "criteria": 1e-8, "max_iter": 50}),
    Case("f = x^4 from x = 10, alpha = 1: the iterates overflow", {
        "f": quartic, "x0": 10.0, "alpha": 1.0, "criteria": 1e-8, "max_iter": 100}),
    Case("float32 start, the quadratic", {
        "f": quadratic, "x0": np.array([4.0, 3.0, -2.0], np.float32), "alpha": 0.3, "criteria": 1e-5,
        "max_iter": 2000}),
)


@cases(*GD_CASES)
def test_gradient_descent(student, case):
    grad_f = torch_gradient(case.f)
    x0 = np.array(case.x0, copy=True)
    with np.errstate(over="ignore", invalid="ignore"):
        result = run(student.gradient_descent.gradient_descent, grad_f, x0, case.alpha, case.criteria,
                     case.max_iter)
    if not np.array_equal(x0, case.x0):
        fail("your function changed the caller's start point x_old")
    trajectory, converged, diverged = algorithm_1(grad_f, case.x0, case.alpha, case.criteria, case.max_iter)
    for field in ("x", "trajectory", "converged", "diverged", "iterations"):
        if not hasattr(result, field):
            fail(f"the result has no {field!r}; return GradientDescentResult(x, trajectory, converged, "
                 f"diverged, iterations)")
    yours = np.asarray(result.trajectory)
    k, expected_k = int(result.iterations), len(trajectory) - 1
    if yours.ndim != 2 or len(yours) != k + 1:
        fail(f"trajectory has shape {yours.shape} for {k} updates; expected ({k + 1}, n): the start "
             f"and x_old after each update, one row each")
    if not np.isfinite(yours).all():
        fail("your trajectory holds inf or NaN: the run overflowed and went on; stop (diverged = True) "
             "before taking a tmpDelta that is not finite")
    if k != expected_k:
        at = trajectory[min(k, expected_k)]
        step = np.abs(case.alpha * grad_f(at))
        if k < expected_k and expected_k == case.max_iter:
            fail(f"stopped after {k} updates; line 3 never passes here, so Algorithm 1 runs until the "
                 f"cap: max_iter = {case.max_iter} updates")
        if k < expected_k:
            why = case.data.get("why", f"there max |tmpDelta - x_old| = {step.max():.4g}, "
                                       f"not below CRITERIA = {case.criteria:g}")
            fail(f"stopped after {k} updates, at x_old = {np.array2string(at, precision=6)}; Algorithm 1 "
                 f"takes {expected_k}: {why}")
        if expected_k == case.max_iter or not converged:
            why = f"the cap max_iter = {case.max_iter}" if expected_k == case.max_iter else "it stops there"
            fail(f"took {k} updates; Algorithm 1 takes {expected_k} here ({why})")
        why = case.data.get("why", f"there every |tmpDelta - x_old| is below CRITERIA = {case.criteria:g} "
                                   f"(the largest is {step.max():.4g})")
        fail(f"took {k} updates; Algorithm 1 stops after {expected_k}, at x_old = "
             f"{np.array2string(at, precision=6)}: {why}")
    dtype = np.asarray(case.x0).dtype if np.asarray(case.x0).dtype == np.float32 else np.float64
    tol, measure = (1e-12, "entrywise") if dtype == np.float64 else (1e-5, "array")
    expect("trajectory", yours, trajectory, tol=tol, measure=measure, like=dtype, oracle="Algorithm 1's",
           labels=lambda i: f"update {i[0]}, coordinate {i[1]}")
    x_expected = trajectory[-1]
    if np.asarray(result.x).shape == x_expected.shape and not np.allclose(result.x, x_expected, rtol=tol) \
            and converged:
        fail(f"x is {np.array2string(np.asarray(result.x), precision=6)}, the tmpDelta that passed line 3; "
             f"Algorithm 1's x* is x_old, the last iterate (line 4 breaks before line 6 takes tmpDelta)")
    expect("x", result.x, x_expected, tol=tol, measure=measure, like=dtype, oracle="Algorithm 1's")
    why = ("line 3 passed" if converged else "the next iterate was not finite" if diverged
           else "the cap stopped it")
    for flag, expected in (("converged", converged), ("diverged", diverged)):
        if bool(getattr(result, flag)) != expected:
            fail(f"{flag} is {bool(getattr(result, flag))}; expected {expected} ({why})")
