"""One epoch of mini-batch SGD at batch sizes 1, 16, 64, 256 and full, in samples per second:
the slides' batch-size trade-off ("small mini-batch: more computation per epoch"), measured.

Every path trains through the same loop, reference/training.py's minibatch_sgd, with its own
train_step. Before timing, the first epoch is checked against the same epoch run by the float64
reference from the same float32 start and the same shuffle: every step's cost and the final
parameters must agree at the float32 tolerance and measure of tests/torch_compare.py (1e-4,
over the whole array).
"""

from functools import cache

import numpy as np
import pytest
from test_bench_train_step import check_parameters, float64
from torch_compare import TOLERANCES, assert_close

from bench.paths import NETWORK_PATHS, require
from bench.workloads import BATCH_SIZES, EPOCH_NETWORK, LEARNING_RATE, batch_label, epoch_flops
from reference import network as ref
from reference.training import minibatch_sgd

F32_TOL = TOLERANCES[np.dtype(np.float32)][0]
NET = EPOCH_NETWORK
SEED = 0  # the shuffle


def one_epoch(train_step, parameters, X, Y, batch_size):
    return minibatch_sgd(train_step, parameters, X, Y, LEARNING_RATE, epochs=1,
                         batch_size=batch_size, seed=SEED, hidden=NET.hidden, output=NET.output,
                         cost=NET.cost)


@cache
def expected_epoch(batch_size):
    """(step costs, final parameters) of the float64 reference epoch from the float32 start."""
    X, Y = NET.data(np.float32)
    parameters = float64(ref.initialize_parameters(NET.layer_dims, seed=0, dtype=np.float32))
    history = one_epoch(ref.train_step, parameters, X.astype(np.float64), Y.astype(np.float64),
                        batch_size)
    return history.step_costs, parameters


@pytest.mark.parametrize("batch_size", BATCH_SIZES, ids=batch_label)
@pytest.mark.parametrize("path_name", NETWORK_PATHS)
def test_minibatch_epoch(bench, path_name, batch_size):
    path = require(path_name, "train_step")
    X, Y = NET.data(np.float32)
    parameters = path.load(ref.initialize_parameters(NET.layer_dims, seed=0, dtype=np.float32))
    histories = []

    def run():
        histories.append(one_epoch(path.train_step, parameters, X, Y, batch_size))

    def check():
        expected_costs, expected_parameters = expected_epoch(batch_size)
        assert_close(f"{path_name} step costs", histories[0].step_costs, expected_costs, F32_TOL, np.float32)
        check_parameters(path_name, path.unload(parameters), expected_parameters)

    bench(run, check, group="minibatch epoch float32", path=path,
          workload=f"{NET.name} batch {batch_label(batch_size)}",
          flops=epoch_flops(NET, batch_size), samples=NET.m, layer_dims=list(NET.layer_dims),
          m=NET.m, batch_size=NET.m if batch_size is None else batch_size)
