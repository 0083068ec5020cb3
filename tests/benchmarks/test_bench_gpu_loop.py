"""One epoch of the device-resident training loop, kernels.cuda against the same loop in torch
on CUDA, at batch sizes 1, 64 and the full set ([30,16,8,1], m = 569): what keeping the data on
the GPU buys at each batch size (tools/gpu_check.py's phase d).

    cuda-device-loop   kernels.cuda.minibatch_sgd_on_device, one epoch: X, Y and the parameters
                       copied in, every mini-batch gathered and trained on the device, the step
                       costs and parameters copied back once
    torch-cuda-loop    bench.torch_network.minibatch_epoch on tensors already on the GPU, the
                       same batches, nothing waiting for the device until the epoch's costs

Both follow reference.training.minibatch_sgd's schedule (seed SEED), and the first epoch of each
is checked against the float64 reference epoch before timing (every step cost and the final
parameters at the float32 tolerance, 1e-4 over the whole array). GPU only: skipped elsewhere;
the torch loop is also checked on the CPU, as an ordinary test.
"""

import numpy as np
import pytest
import torch
from test_bench_minibatch import expected_epoch
from test_bench_train_step import check_parameters
from torch_compare import TOLERANCES, assert_close

from bench import machine, torch_network
from bench.workloads import EPOCH_NETWORK, LEARNING_RATE, batch_label, epoch_flops
from reference import network as ref

F32_TOL = TOLERANCES[np.dtype(np.float32)][0]
NET = EPOCH_NETWORK
SEED = 0  # test_bench_minibatch.py's shuffle
BATCHES = (1, 64, None)


class LoopPath:
    device = "gpu"

    def __init__(self, name):
        self.name = name


def order_of(batch_size):
    """The epoch's sample order as reference.training.minibatch_sgd draws it for one epoch."""
    m = NET.m
    if batch_size is None or batch_size >= m:
        return None
    return np.random.default_rng(SEED).permutation(m)


def torch_epoch(device, batch_size):
    """(run, result): run() trains one epoch in torch on `device`; result() -> (costs, params)."""
    X, Y = NET.data(np.float32)
    start = ref.initialize_parameters(NET.layer_dims, seed=0, dtype=np.float32)
    parameters = torch_network.to_torch(start, device)
    X_t, Y_t = torch.from_numpy(X).to(device), torch.from_numpy(Y).to(device)
    order = order_of(batch_size)
    first = {}

    def run():
        costs = torch_network.minibatch_epoch(parameters, X_t, Y_t, LEARNING_RATE, batch_size, order,
                                              NET.hidden, NET.output, NET.cost)
        if device == "cuda":
            torch.cuda.synchronize()
        first.setdefault("costs", costs.cpu().numpy().tolist())
        first.setdefault("parameters", torch_network.to_numpy(parameters))

    return run, lambda: (first["costs"], first["parameters"])


def device_loop_epoch(batch_size):
    from kernels import cuda as kc

    X, Y = NET.data(np.float32)
    parameters = ref.initialize_parameters(NET.layer_dims, seed=0, dtype=np.float32)
    first = {}

    def run():
        history = kc.minibatch_sgd_on_device(parameters, X, Y, LEARNING_RATE, epochs=1,
                                             batch_size=batch_size, seed=SEED, hidden=NET.hidden,
                                             output=NET.output, cost=NET.cost)
        first.setdefault("costs", history.step_costs)
        first.setdefault("parameters", {k: v.copy() for k, v in parameters.items()})

    return run, lambda: (first["costs"], first["parameters"])


def check_epoch(name, result, batch_size):
    costs, parameters = result()
    expected_costs, expected_parameters = expected_epoch(batch_size)
    assert_close(f"{name} step costs", costs, expected_costs, F32_TOL, np.float32)
    check_parameters(name, parameters, expected_parameters)


@pytest.mark.parametrize("batch_size", BATCHES, ids=batch_label)
@pytest.mark.parametrize("name", ["cuda-device-loop", "torch-cuda-loop"])
def test_gpu_epoch(bench, name, batch_size):
    if name == "cuda-device-loop" and not machine.real_gpu():
        pytest.skip(f"{name}: no real CUDA GPU here (numba's simulator is never timed)")
    if name == "torch-cuda-loop" and not machine.torch_cuda():
        pytest.skip(f"{name}: torch has no CUDA device here (torch.cuda.is_available() is False)")
    from kernels.cuda import config

    config.low_occupancy_warnings(False)  # small grids on purpose; a warning per launch otherwise
    if name == "cuda-device-loop":
        run, result = device_loop_epoch(batch_size)
    else:
        run, result = torch_epoch("cuda", batch_size)
    bench(run, lambda: check_epoch(name, result, batch_size), group="gpu epoch float32",
          path=LoopPath(name), workload=f"{NET.name} batch {batch_label(batch_size)}",
          flops=epoch_flops(NET, batch_size), samples=NET.m, layer_dims=list(NET.layer_dims),
          m=NET.m, batch_size=NET.m if batch_size is None else batch_size)


@pytest.mark.parametrize("batch_size", BATCHES, ids=batch_label)
def test_torch_epoch_follows_the_reference_loop_on_the_cpu(batch_size):
    """The torch twin's schedule and step, checked where there is no GPU (not a benchmark)."""
    run, result = torch_epoch("cpu", batch_size)
    run()
    check_epoch("torch-cpu-loop", result, batch_size)
