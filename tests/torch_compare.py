"""The one helper that pins our paths to torch.autograd (tinygrad's helper_test_op, cs231n's rel_error).

An expression is written once in our code and once in torch; `check_against_torch` runs the
torch twin in float64 on the same inputs, takes its value and its gradients with autograd, and
compares both with ours, with separate tolerances for values and gradients:

    relative error  max |a - b| / max(1e-8, |a| + |b|)
    float64: 1e-10 for values, 1e-9 for gradients;   float32: 1e-4 for both

In float64 the measure is taken entry by entry (cs231n's rel_error), the strictest reading. In
float32 it is taken over the whole array, max|a - b| / max(1e-8, max(|a| + |b|)): an entry that
a sum of m float32 terms cancels down to 1e-4 of the array's largest is only known to about
eps32 * (its terms) ~ 1e-4 of itself, in any float32 code (ours, torch's or a BLAS), so the
entry-by-entry reading would flag rounding, not bugs. A wrong formula moves the whole array.
"""

import numpy as np
import torch

TOLERANCES = {  # dtype -> (values, gradients)
    np.dtype(np.float64): (1e-10, 1e-9),
    np.dtype(np.float32): (1e-4, 1e-4),
}


def rel_error(a, b, entrywise=True):
    """max |a - b| / max(1e-8, |a| + |b|): entry by entry (cs231n's gradient-check measure), or
    with entrywise=False over the whole array (the denominator's |a| + |b| at its largest)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    diff, size = np.abs(a - b), np.abs(a) + np.abs(b)
    if not entrywise:
        return float(np.max(diff, initial=0.0) / max(1e-8, np.max(size, initial=0.0)))
    return float(np.max(diff / np.maximum(1e-8, size), initial=0.0))


def assert_close(name, ours, expected, tol, dtype=np.float64):
    """Fail unless ours is within tol of expected, measured as the dtype's comparison says."""
    err = rel_error(ours, expected, entrywise=np.dtype(dtype) == np.float64)
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


def check_against_torch(torch_fn, inputs, value=None, grads=None, upstream=None, dtype=None):
    """Compare our value and gradients with torch_fn's, computed in float64 from the same inputs.

    value: our result (or None to skip it); grads: {input name: our gradient}; upstream: the
    upstream gradient for a non-scalar value. The tolerance follows `dtype` (default: the dtype
    of our value, else of the first gradient).
    """
    grads = grads or {}
    ours = value if value is not None else next(iter(grads.values()))
    dtype = np.dtype(dtype or np.asarray(ours).dtype)
    value_tol, grad_tol = TOLERANCES[dtype]
    expected, expected_grads = torch_twin(torch_fn, inputs, tuple(grads), upstream)
    if value is not None:
        assert_close("value", value, expected, value_tol, dtype)
    for name, grad in grads.items():
        assert np.asarray(grad).dtype == dtype, f"d{name} has dtype {np.asarray(grad).dtype}, not {dtype}"
        assert_close(f"d{name}", grad, expected_grads[name], grad_tol, dtype)
