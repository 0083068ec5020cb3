"""The one helper that pins our paths to torch.autograd (tinygrad's helper_test_op, cs231n's rel_error).

An expression is written once in our code and once in torch; `check_against_torch` runs the
torch twin in float64 on the same inputs, takes its value and its gradients with autograd, and
compares both with ours, with separate tolerances for values and gradients:

    relative error  max |a - b| / max(tiny, |a| + |b|)
    float64: 1e-10 for values, 1e-9 for gradients;   float32: 1e-4 for both

tiny is the dtype's smallest normal number (2.2e-308, 1.2e-38): the error stays relative down to
the smallest values the dtype holds with full precision, so a saturated sigmoid of 1e-30 that
should be 2e-30 fails. (cs231n's rel_error puts the floor at 1e-8, which turns the measure into
an absolute one below 1e-8; rel_error keeps that floor as its default for finite-difference
checks, whose error is absolute by nature: test_gradient_check.py.)
In float64 the measure is taken entry by entry (cs231n's rel_error), the strictest reading. In
float32 it is taken over the whole array, max|a - b| / max(tiny, max(|a| + |b|)): an entry that
a sum of m float32 terms cancels down to 1e-4 of the array's largest is only known to about
eps32 * (its terms) ~ 1e-4 of itself, in any float32 code (ours, torch's or a BLAS), so the
entry-by-entry reading would flag rounding, not bugs. A wrong formula moves the whole array.
Products of hundreds of terms and more (the engine's sizes, test_engine_thresholds.py) cancel
that far in float64 too: there an entry of 1.35e-11 summed from terms of 4e-4 in all came out
1.1e-10 off the exact sum in kernels.cpu and 2.5e-9 off in torch's own float64, so those tests
take the whole-array reading in float64 as well (entrywise=False).
"""

import numpy as np
import torch

TOLERANCES = {  # dtype -> (values, gradients)
    np.dtype(np.float64): (1e-10, 1e-9),
    np.dtype(np.float32): (1e-4, 1e-4),
}


def rel_error(a, b, entrywise=True, floor=1e-8):
    """max |a - b| / max(floor, |a| + |b|): entry by entry (cs231n's gradient-check measure), or
    with entrywise=False over the whole array (the denominator's |a| + |b| at its largest)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    diff, size = np.abs(a - b), np.abs(a) + np.abs(b)
    if not entrywise:
        return float(np.max(diff, initial=0.0) / max(floor, np.max(size, initial=0.0)))
    return float(np.max(diff / np.maximum(floor, size), initial=0.0))


def assert_close(name, ours, expected, tol, dtype=np.float64, entrywise=None):
    """Fail unless ours is within tol of expected, measured as the dtype's comparison says
    (entrywise: None for the dtype's reading, or as given), relative down to the dtype's
    smallest normal number."""
    dtype = np.dtype(dtype)
    entrywise = dtype == np.float64 if entrywise is None else entrywise
    err = rel_error(ours, expected, entrywise=entrywise, floor=float(np.finfo(dtype).tiny))
    assert err <= tol, f"{name}: relative error {err:.3g} > {tol:g}"


def torch_twin(torch_fn, inputs, wrt=(), upstream=None):
    """Run torch_fn(**inputs as float64 tensors); return (value, {name: d value / d input}).

    Gradients are taken for the names in `wrt`; a non-scalar value is back-propagated with
    `upstream` (dL/dvalue, the array our backward receives).
    """
    tensors = {
        k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=k in wrt)
        if isinstance(v, np.ndarray) else v
        for k, v in inputs.items()
    }
    value = torch_fn(**tensors)
    grads = {}
    if wrt:
        value.backward(None if upstream is None else torch.tensor(np.asarray(upstream, np.float64)))
        grads = {k: tensors[k].grad.numpy() for k in wrt}
    return value.detach().numpy(), grads


def check_against_torch(torch_fn, inputs, value=None, grads=None, upstream=None, dtype=None,
                        entrywise=None):
    """Compare our value and gradients with torch_fn's, computed in float64 from the same inputs.

    value: our result (or None to skip it); grads: {input name: our gradient}; upstream: the
    upstream gradient for a non-scalar value. The tolerance follows `dtype` (default: the dtype
    of our value, else of the first gradient); entrywise as assert_close.
    """
    grads = grads or {}
    ours = value if value is not None else next(iter(grads.values()))
    dtype = np.dtype(dtype or np.asarray(ours).dtype)
    value_tol, grad_tol = TOLERANCES[dtype]
    expected, expected_grads = torch_twin(torch_fn, inputs, tuple(grads), upstream)
    if value is not None:
        assert_close("value", value, expected, value_tol, dtype, entrywise)
    for name, grad in grads.items():
        assert np.asarray(grad).dtype == dtype, f"d{name} has dtype {np.asarray(grad).dtype}, not {dtype}"
        assert_close(f"d{name}", grad, expected_grads[name], grad_tol, dtype, entrywise)


# torch's own sigmoid and tanh backward compute y (1 - y) and 1 - y^2, which round to 0 where y
# rounds to +-1 (z > 37 in float64, 9 in float32) while the true slope is still a normal number
# there (down to 1e-308; expm1's backward, exp(x) = expm1(x) + 1, cancels the same way). These
# twins take their values from torch.sigmoid and torch.tanh and their gradients from autograd
# through forms whose derivative adds positive terms only, each on its own half-line (so that
# no branch overflows): both are right to a few ulp wherever the true values are normal floats.


def _value_with_the_slope_of(value, form):
    """value's numbers, with the gradient autograd takes through form (the same function)."""
    return value.detach() + (form - form.detach())


def _halves(Z, f):
    """f(Z) for Z >= 0 and -f(-Z) below: an odd function from its positive half."""
    return torch.where(Z >= 0, f(Z.clamp(min=0)), -f((-Z).clamp(min=0)))


def stable_sigmoid(Z):
    # 1/(1 + e^-z) = 1/2 + (1/2) (1 - e^-z) / (1 + e^-z): sigmoid - 1/2 is odd
    return _value_with_the_slope_of(torch.sigmoid(Z), 0.5 + 0.5 * _halves(Z, lambda x: (
        1 - torch.exp(-x)) / (1 + torch.exp(-x))))


def stable_tanh(Z):
    return _value_with_the_slope_of(torch.tanh(Z), _halves(Z, lambda x: (
        1 - torch.exp(-2 * x)) / (1 + torch.exp(-2 * x))))


def stable_relu(Z):
    return torch.relu(Z)


TORCH_ACTIVATIONS = {"sigmoid": stable_sigmoid, "tanh": stable_tanh, "relu": stable_relu}
