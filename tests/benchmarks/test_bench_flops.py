"""The FLOP counts of workloads.py against counts made without it: by hand, and by torch's
FlopCounterMode, which counts the matrix products autograd actually runs (on meta tensors: no
arithmetic is done, so the large network costs nothing)."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from bench import torch_network
from bench.workloads import (
    NETWORKS,
    Network,
    epoch_flops,
    gemm_flops,
    train_step_flops,
    train_step_gemm_flops,
)


def test_gemm_flops_by_hand():
    assert gemm_flops(2, 3, 4) == 48  # 6 outputs, each 4 multiplies and 4 adds


def test_train_step_flops_by_hand():
    # [2, 10, 1], m = 100. Layer 1 (n=10, n_prev=2): W A 4000, + b and relu 2000, dZ 2000,
    # dW 4000, db 1000, no dA[0], update 2 (20 + 10) = 60 -> 13060. Layer 2 (n=1, n_prev=10):
    # W A 2000, + b and sigmoid 200, dZ 200, dW 2000, db 100, dA[1] 2000, update 22 -> 6522.
    assert train_step_flops((2, 10, 1), 100) == 13060 + 6522


def test_epoch_flops_counts_the_leftover_batch():
    net = Network("m=569", (30, 16, 8, 1), 569)  # 569 = 2 * 256 + 57
    expected = 2 * train_step_flops(net.layer_dims, 256) + train_step_flops(net.layer_dims, 57)
    assert epoch_flops(net, 256) == expected


@pytest.mark.parametrize("net", NETWORKS, ids=[n.name.replace(" ", "-") for n in NETWORKS])
def test_train_step_gemm_flops_match_torch(net):
    """torch's autograd skips dA[0] (X needs no gradient) as our count does."""
    params = {}
    for l in range(1, len(net.layer_dims)):
        n, n_prev = net.layer_dims[l], net.layer_dims[l - 1]
        params[f"W{l}"] = torch.empty((n, n_prev), device="meta", requires_grad=True)
        params[f"b{l}"] = torch.empty((n, 1), device="meta", requires_grad=True)
    X = torch.empty((net.layer_dims[0], net.m), device="meta")
    Y = torch.empty((net.layer_dims[-1], net.m), device="meta")
    with FlopCounterMode(display=False) as counter:
        A = X
        L = len(net.layer_dims) - 1
        for l in range(1, L + 1):
            Z = params[f"W{l}"] @ A + params[f"b{l}"]
            A = torch_network.ACTIVATIONS["relu" if l < L else "sigmoid"](Z)
        J = torch.nn.functional.binary_cross_entropy_with_logits(Z, Y)
        torch.autograd.grad(J, list(params.values()))
    assert counter.get_total_flops() == train_step_gemm_flops(net.layer_dims, net.m)
