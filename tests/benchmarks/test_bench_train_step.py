"""One train_step (forward, cost, backward, SGD update), float32, of each slide network and a
large one, on every path.

Before timing, the path's first step is checked against reference.network.train_step run in
float64 from the same float32 parameters and data: the cost it returns and every updated W[l],
b[l] must agree at the float32 tolerance and measure of tests/torch_compare.py (1e-4, over the
whole array). Parameters and X, Y stay where the path keeps them (device memory on a GPU;
paths.py), so the step is timed without copies.
"""

from functools import cache

import numpy as np
import pytest
from torch_compare import TOLERANCES, assert_close

from bench.paths import STEP_PATHS, require
from bench.workloads import LEARNING_RATE, NETWORKS
from reference import network as ref

F32_TOL = TOLERANCES[np.dtype(np.float32)][0]


def float64(arrays):
    return {k: v.astype(np.float64) for k, v in arrays.items()}


@cache
def expected_step(net):
    """(cost, updated parameters) of one float64 reference step from the float32 start."""
    X, Y = net.data(np.float32)
    parameters = float64(ref.initialize_parameters(net.layer_dims, seed=0, dtype=np.float32))
    cost = ref.train_step(parameters, X.astype(np.float64), Y.astype(np.float64), LEARNING_RATE,
                          net.hidden, net.output, net.cost)
    return cost, parameters


KINK_BAND = 1e-5  # about the float32 rounding of a long sum, relative to the array's largest


@cache
def kink_note(net):
    """Where the check can fail without a bug: ReLU's derivative jumps at Z = 0, so a float32
    pre-activation that rounds to the other side of 0 than the float64 one sends its sample's
    dZ through (or not) and moves that row of dW and db by a whole term (cs231n's "kinks")."""
    if net.hidden != "relu":
        return ""
    X, _ = net.data(np.float32)
    parameters = float64(ref.initialize_parameters(net.layer_dims, seed=0, dtype=np.float32))
    _, caches = ref.forward(X.astype(np.float64), parameters, net.hidden, net.output)
    notes = []
    for l, (_, Z, _) in enumerate(caches[:-1], start=1):
        near = np.abs(Z) < KINK_BAND * np.abs(Z).max()
        if near.any():
            notes.append(f"layer {l}: {near.sum()} of {Z.size} pre-activations within "
                         f"{KINK_BAND:g} max|Z| of ReLU's kink (smallest |Z| {np.abs(Z).min():.2g})")
    if not notes:
        return ""
    return ("float64 reference: " + "; ".join(notes) + ". A float32 rounding across 0 there "
            "changes that sample's gradient: a failure here can be the kink, not a bug.")


def check_parameters(path_name, ours, expected):
    for key, value in expected.items():
        assert ours[key].dtype == np.float32, f"{path_name}: {key} has dtype {ours[key].dtype}"
        assert_close(f"{path_name} updated {key}", ours[key], value, F32_TOL, np.float32)


@pytest.mark.parametrize("net", NETWORKS, ids=[n.name.replace(" ", "-") for n in NETWORKS])
@pytest.mark.parametrize("path_name", STEP_PATHS)
def test_train_step(bench, path_name, net):
    path = require(path_name, "train_step")
    bench.skip_if_too_big_for_ci(net.flops)
    X, Y = path.data(*net.data(np.float32))
    parameters = path.load(ref.initialize_parameters(net.layer_dims, seed=0, dtype=np.float32))
    costs = []
    train_step = path.train_step  # looked up once (a module import per call): the step is timed

    def run():
        costs.append(train_step(parameters, X, Y, LEARNING_RATE, net.hidden, net.output, net.cost))

    def check():
        expected_cost, expected_parameters = expected_step(net)
        assert isinstance(costs[0], float), f"{path_name}: cost is a {type(costs[0]).__name__}"
        try:
            assert_close(f"{path_name} cost", costs[0], expected_cost, F32_TOL, np.float32)
            check_parameters(path_name, path.unload(parameters), expected_parameters)
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n{kink_note(net)}") from None

    bench(run, check, group="train_step float32", path=path, workload=net.name, flops=net.flops,
          layer_dims=list(net.layer_dims), m=net.m)
