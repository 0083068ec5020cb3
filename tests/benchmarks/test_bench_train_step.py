"""One train_step (forward, cost, backward, SGD update), float32, of each slide network and a
large one, on every path.

Before timing, the path's first step is checked against reference.network.train_step run in
float64 from the same float32 parameters and data: the cost it returns and every updated W[l],
b[l] must agree at the float32 tolerance of tests/torch_compare.py. Parameters and X, Y stay
where the path keeps them (device memory on a GPU; paths.py), so the step is timed without copies.
"""

from functools import cache

import numpy as np
import pytest
from paths import NETWORK_PATHS, require
from torch_compare import TOLERANCES, assert_close
from workloads import LEARNING_RATE, NETWORKS

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


def check_parameters(path_name, ours, expected):
    for key, value in expected.items():
        assert ours[key].dtype == np.float32, f"{path_name}: {key} has dtype {ours[key].dtype}"
        assert_close(f"{path_name} updated {key}", ours[key], value, F32_TOL)


@pytest.mark.parametrize("net", NETWORKS, ids=[n.name.replace(" ", "-") for n in NETWORKS])
@pytest.mark.parametrize("path_name", NETWORK_PATHS)
def test_train_step(bench, path_name, net):
    path = require(path_name, "train_step")
    bench.skip_if_too_big_for_ci(net.flops)
    X, Y = path.data(*net.data(np.float32))
    parameters = path.load(ref.initialize_parameters(net.layer_dims, seed=0, dtype=np.float32))
    costs = []

    def run():
        costs.append(path.train_step(parameters, X, Y, LEARNING_RATE, net.hidden, net.output,
                                     net.cost))

    def check():
        expected_cost, expected_parameters = expected_step(net)
        assert isinstance(costs[0], float), f"{path_name}: cost is a {type(costs[0]).__name__}"
        assert_close(f"{path_name} cost", costs[0], expected_cost, F32_TOL)
        check_parameters(path_name, path.unload(parameters), expected_parameters)

    bench(run, check, group="train_step float32", path=path, workload=net.name, flops=net.flops,
          layer_dims=list(net.layer_dims), m=net.m)
