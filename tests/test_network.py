"""The L-layer network on every path against its torch.autograd twin.

Every combination of hidden activation, output activation and cost, over shapes that include
m = 1, n[l] = 1, primes and sizes that are not multiples of any kernel block size.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kernels.paths import to_host
from reference import network as reference
from tests.torch_compare import TOLERANCES, assert_close, check_against_torch

# (layer_dims, m). The first ones are tiny enough for the CUDA simulator.
CASES = [
    ([3, 1], 1),
    ([2, 3, 1], 7),
    ([5, 4, 3, 2], 5),
    ([1, 1], 1),
    ([2, 10, 1], 100),
    ([13, 1, 7], 37),
    ([17, 31, 11, 1], 67),
    ([30, 16, 8, 1], 97),
    ([70, 33, 65, 3], 129),
]
SMALL_CASES = CASES[:3]
# (hidden, output, cost): every valid combination (cross-entropy needs a sigmoid output).
COMBOS = [(h, o, c) for h in ("relu", "tanh", "sigmoid")
          for o, c in (("sigmoid", "cross_entropy"), ("sigmoid", "mse"), ("linear", "mse"))]
TORCH_G = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda z: z}


def cases_for(path):
    return SMALL_CASES if path.small else CASES


def make_problem(layer_dims, m, dtype, cost, seed=0):
    """Parameters (with non-zero biases, so b's role is tested), X and Y for one case."""
    rng = np.random.default_rng(seed)
    parameters = reference.initialize_parameters(layer_dims, seed=seed, dtype=dtype)
    for key in parameters:
        if key.startswith("b"):
            parameters[key] = (0.1 * rng.standard_normal(parameters[key].shape)).astype(dtype)
    X = rng.standard_normal((layer_dims[0], m)).astype(dtype)
    if cost == "cross_entropy":
        Y = rng.integers(0, 2, (layer_dims[-1], m)).astype(dtype)
    else:
        Y = rng.standard_normal((layer_dims[-1], m)).astype(dtype)
    return parameters, X, Y


def torch_forward(t, L, hidden, output):
    """Z[l] = W[l] A[l-1] + b[l], A[l] = g(Z[l]) in torch; returns (A[L], Z[L])."""
    A = t["X"]
    for l in range(1, L + 1):
        Z = t[f"W{l}"] @ A + t[f"b{l}"]
        A = TORCH_G[hidden if l < L else output](Z)
    return A, Z


def torch_cost(t, L, hidden, output, cost, from_logits=True):
    AL, ZL = torch_forward(t, L, hidden, output)
    if cost == "mse":
        return F.mse_loss(AL, t["Y"])
    if from_logits:
        return F.binary_cross_entropy_with_logits(ZL, t["Y"])
    return F.binary_cross_entropy(AL, t["Y"])


def case_ids(cases):
    return ["-".join(map(str, dims)) + f"_m{m}" for dims, m in cases]


@pytest.mark.parametrize("hidden, output, cost", COMBOS)
def test_forward_cost_backward_match_torch(path, dtype, hidden, output, cost):
    for layer_dims, m in cases_for(path):
        parameters, X, Y = make_problem(layer_dims, m, dtype, cost)
        L = len(layer_dims) - 1
        inputs = {"X": X, "Y": Y, **parameters}

        AL, caches = path.forward(X, parameters, hidden=hidden, output=output)
        assert AL.shape == (layer_dims[-1], m) and AL.dtype == dtype
        check_against_torch(lambda L=L, **t: torch_forward(t, L, hidden, output)[0], inputs, value=AL)

        J = path.compute_cost(AL, Y, cost=cost)
        grads = path.backward(AL, Y, caches, cost=cost)
        assert set(grads) == {"d" + k for k in parameters}
        for key, value in parameters.items():
            assert grads["d" + key].shape == value.shape, key
        check_against_torch(
            lambda L=L, **t: torch_cost(t, L, hidden, output, cost, from_logits=False),
            inputs, value=np.array(J), grads={k: grads["d" + k] for k in parameters}, dtype=dtype,
        )


@pytest.mark.parametrize("hidden, output, cost", COMBOS)
def test_train_step_matches_torch_sgd_step(path, dtype, hidden, output, cost):
    """The cost before the update, and W <- W - alpha dW for every parameter, as torch does it."""
    alpha = 0.1
    for layer_dims, m in cases_for(path):
        parameters, X, Y = make_problem(layer_dims, m, dtype, cost, seed=1)
        before = {k: v.copy() for k, v in parameters.items()}
        J = path.train_step(parameters, X, Y, alpha, hidden=hidden, output=output, cost=cost)
        assert isinstance(J, float)
        assert_step_is_torchs(J, parameters, before, X, Y, alpha, (hidden, output, cost), dtype)


def assert_step_is_torchs(J, parameters, before, X, Y, alpha, combo, dtype, entrywise=True):
    """J is torch's cost of the parameters `before` on (X, Y), and each parameter now holds
    before - alpha times torch's gradient, in the dtype it had (combo: hidden, output, cost)."""
    hidden, output, cost = combo
    L = len(before) // 2
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in before)
         for k, v in {"X": X, "Y": Y, **before}.items()}
    loss = torch_cost(t, L, hidden, output, cost)
    loss.backward()
    value_tol, _ = TOLERANCES[dtype]
    assert_close("cost", J, loss.item(), value_tol, dtype)
    for key in before:
        assert parameters[key].dtype == dtype
        expected = before[key] - alpha * t[key].grad.numpy()
        assert_close(key, parameters[key], expected, value_tol, dtype, entrywise=entrywise)


def test_linear_forward_backward_match_torch(path, dtype):
    rng = np.random.default_rng(3)
    n_prev, n, m = (3, 2, 5) if path.small else (23, 17, 41)
    A_prev, W, b, dZ = (rng.standard_normal(s).astype(dtype)
                        for s in [(n_prev, m), (n, n_prev), (n, 1), (n, m)])
    Z, cache = path.linear_forward(A_prev, W, b)
    dA_prev, dW, db = path.linear_backward(dZ, cache)
    assert (dA_prev.shape, dW.shape, db.shape) == (A_prev.shape, W.shape, b.shape)
    check_against_torch(lambda A_prev, W, b: W @ A_prev + b, {"A_prev": A_prev, "W": W, "b": b},
                        value=Z, grads={"A_prev": dA_prev, "W": dW, "b": db}, upstream=dZ)


def test_saturated_outputs_give_finite_cost_and_torch_gradients(path, dtype):
    """Logits of +-1000: the cost from the logits is finite and the gradients equal torch's."""
    parameters = {"W1": np.array([[1000.0], [-1000.0], [1000.0], [-1000.0]], dtype=dtype),
                  "b1": np.zeros((4, 1), dtype=dtype)}
    X = np.ones((1, 1), dtype=dtype)
    Y = np.array([[1.0], [0.0], [0.0], [1.0]], dtype=dtype)
    before = {k: v.copy() for k, v in parameters.items()}
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        J = path.train_step(parameters, X, Y, 1.0, output="sigmoid", cost="cross_entropy")
    assert np.isfinite(J)
    for value in parameters.values():
        assert np.isfinite(value).all()
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in before)
         for k, v in {"X": X, "Y": Y, **before}.items()}
    loss = torch_cost(t, 1, "relu", "sigmoid", "cross_entropy")
    loss.backward()
    assert_close("cost", J, loss.item(), TOLERANCES[dtype][0], dtype)
    for key in before:  # alpha = 1, so the step is the gradient
        assert_close(f"d{key}", before[key] - parameters[key], t[key].grad.numpy(),
                     TOLERANCES[dtype][1], dtype)


def test_initialize_parameters_is_he_scaled_and_deterministic(path, dtype):
    dims = [400, 300, 1]
    p = path.initialize_parameters(dims, seed=7, dtype=dtype)
    assert {k: v.shape for k, v in p.items()} == {"W1": (300, 400), "b1": (300, 1),
                                                 "W2": (1, 300), "b2": (1, 1)}
    assert all(v.dtype == dtype for v in p.values())
    assert not p["b1"].any() and not p["b2"].any()
    assert p["W1"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    again = path.initialize_parameters(dims, seed=7, dtype=dtype)
    other = path.initialize_parameters(dims, seed=8, dtype=dtype)
    assert all(np.array_equal(p[k], again[k]) for k in p)
    assert not np.array_equal(p["W1"], other["W1"])
    ref = reference.initialize_parameters(dims, seed=7, dtype=dtype)
    assert all(np.array_equal(p[k], ref[k]) for k in p), "every path starts from the same weights"


def test_update_parameters_is_gradient_descent(path, dtype):
    parameters, _, _ = make_problem([3, 2, 1], 1, dtype, "mse")
    grads = {"d" + k: np.full_like(v, 0.5) for k, v in parameters.items()}
    expected = {k: v - dtype.type(0.1) * dtype.type(0.5) for k, v in parameters.items()}
    result = path.update_parameters(parameters, grads, 0.1)
    for key in expected:
        np.testing.assert_allclose(result[key], expected[key], rtol=TOLERANCES[dtype][0])
        np.testing.assert_allclose(parameters[key], expected[key], rtol=TOLERANCES[dtype][0])


@pytest.mark.parametrize("output, cost", [("sigmoid", "cross_entropy"), ("sigmoid", "mse"),
                                          ("linear", "mse")])
def test_output_gradient_is_torchs_dJ_dZL(dtype, output, cost):
    """dZ[L] = dJ/dZ[L], where backward starts, with n[L] = 3 outputs (the mean over N = n[L] m)."""
    rng = np.random.default_rng(4)
    ZL = (2 * rng.standard_normal((3, 11))).astype(dtype)
    if cost == "cross_entropy":
        Y = rng.integers(0, 2, ZL.shape).astype(dtype)
    else:
        Y = rng.standard_normal(ZL.shape).astype(dtype)
    AL = (1 / (1 + np.exp(-ZL))).astype(dtype) if output == "sigmoid" else ZL.copy()
    dZL = reference.output_gradient(AL, Y, ZL, output, cost)

    def torch_cost(ZL, Y):
        AL = TORCH_G[output](ZL)
        return F.binary_cross_entropy(AL, Y) if cost == "cross_entropy" else F.mse_loss(AL, Y)

    check_against_torch(torch_cost, {"ZL": ZL, "Y": Y}, grads={"ZL": dZL})


def test_the_cost_from_the_logits_is_torchs(path, dtype):
    """compute_cost(AL, Y, logits=Z[L]): the stable cross-entropy, from the logits forward kept."""
    for layer_dims, m in cases_for(path):
        parameters, X, Y = make_problem(layer_dims, m, dtype, "cross_entropy", seed=2)
        L = len(layer_dims) - 1
        AL, caches = path.forward(X, parameters)
        ZL = reference.forward(X, parameters)[1][-1].Z
        for logits in (ZL, caches[-1].Z):  # a host array, or this path's own
            J = path.compute_cost(AL, Y, cost="cross_entropy", logits=logits)
            check_against_torch(lambda L=L, **t: torch_cost(t, L, "relu", "sigmoid", "cross_entropy"),
                                {"X": X, "Y": Y, **parameters}, value=np.array(J), dtype=dtype)


def test_the_cost_of_saturated_outputs_comes_from_the_logits(path, dtype):
    """z = 40 with y = 0 and z = -40 with y = 1 cost log(1 + e^40) each, and z = 0 costs log 2:
    J = (2 log(1 + e^40) + log 2) / 3. From AL alone, sigmoid(40) rounds to 1 and the first
    term would be clamped at 100 (torch's binary_cross_entropy), not 40."""
    Z = np.array([[40.0, -40.0, 0.0]], dtype)
    AL, Y = 1 / (1 + np.exp(-Z)), np.array([[0.0, 1.0, 1.0]], dtype)
    assert AL[0, 0] == 1.0
    expected = (2 * (40 + np.log1p(np.exp(-40.0))) + np.log(2)) / 3
    J = path.compute_cost(AL, Y, cost="cross_entropy", logits=Z)
    assert J == pytest.approx(expected, rel=TOLERANCES[dtype][0])


def test_the_unchecked_step_has_train_steps_defaults(dtype):
    """unchecked_train_step(parameters, X, Y, alpha) is a relu, sigmoid, cross-entropy step, as
    train_step's defaults say (the benchmarks time it beside train_step)."""
    parameters, X, Y = make_problem([3, 4, 1], 5, dtype, "cross_entropy", seed=1)
    before = {k: v.copy() for k, v in parameters.items()}
    J = reference.unchecked_train_step(parameters, X, Y, 0.1)
    assert_step_is_torchs(J, parameters, before, X, Y, 0.1, ("relu", "sigmoid", "cross_entropy"), dtype)


def test_forward_keeps_the_references_caches(path, dtype):
    """caches[l-1] = LayerCache((A[l-1], W[l], b[l]), Z[l], activation), as the reference's."""
    layer_dims, m = cases_for(path)[-1]
    parameters, X, Y = make_problem(layer_dims, m, dtype, "mse", seed=3)
    _, ours = path.forward(X, parameters, hidden="tanh", output="linear")
    _, theirs = reference.forward(X, parameters, hidden="tanh", output="linear")
    assert len(ours) == len(theirs)
    for l, (mine, ref_cache) in enumerate(zip(ours, theirs, strict=True), start=1):
        assert mine.activation == ref_cache.activation
        for name in ("A_prev", "W", "b"):
            assert_close(f"caches[{l - 1}].{name}", to_host(getattr(mine.linear, name)),
                         getattr(ref_cache.linear, name), TOLERANCES[dtype][0], dtype)
        assert_close(f"caches[{l - 1}].Z", to_host(mine.Z), ref_cache.Z, TOLERANCES[dtype][0], dtype)


def test_update_parameters_writes_into_parameters_of_any_layout(path, dtype):
    """A Fortran-ordered W or a strided view of b is updated in place, as the reference's
    W -= alpha dW does, even where a path computes on a contiguous copy."""
    parameters, _, _ = make_problem([3, 4, 2], 1, dtype, "mse")
    wide = np.zeros((4, 2), dtype)
    wide[:, ::2] = parameters["b1"]
    parameters["W1"], parameters["b1"] = np.asfortranarray(parameters["W1"]), wide[:, ::2]
    rng = np.random.default_rng(5)
    grads = {"d" + k: rng.standard_normal(v.shape).astype(dtype) for k, v in parameters.items()}
    expected = {k: v - dtype.type(0.1) * grads["d" + k] for k, v in parameters.items()}
    originals = dict(parameters)
    path.update_parameters(parameters, grads, 0.1)
    for key in expected:
        assert parameters[key] is originals[key]
        assert_close(key, parameters[key], expected[key], TOLERANCES[dtype][0], dtype)
    np.testing.assert_array_equal(wide[:, 1::2], 0)  # the view's neighbours are untouched
