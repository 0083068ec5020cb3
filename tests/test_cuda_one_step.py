"""kernels.cuda's three ways to take a step are one computation: the layer-by-layer NumPy API
(forward, compute_cost from the logits, backward, update_parameters), the host train_step and
the device train_step give the same cost and parameters, bit for bit, for every cost; inputs
of the other float dtype are converted to the network's first; the rung asked for is the rung
that runs; backward reads the AL it is given.

In numba's simulator a kernel handed a float64 array beside float32 ones computes in float64,
so a missed conversion changes the last bits, which the bit-for-bit comparisons see.
"""

import numpy as np
import pytest

from reference import network as ref
from tests.conftest import load_path
from tests.torch_compare import TOLERANCES, assert_close

COMBOS = [("tanh", "sigmoid", "cross_entropy"), ("relu", "linear", "mse"), ("tanh", "sigmoid", "mse")]


@pytest.fixture
def kc():
    return load_path("cuda").module


def problem(dtype, dims=(3, 4, 2), m=5):
    """A tiny network with nonzero biases, a batch and 0/1 labels."""
    rng = np.random.default_rng(3)
    parameters = ref.initialize_parameters(list(dims), seed=3, dtype=dtype)
    for l in range(1, len(dims)):
        parameters[f"b{l}"] += rng.standard_normal((dims[l], 1)).astype(dtype) / 4
    X = rng.standard_normal((dims[0], m)).astype(dtype)
    Y = rng.integers(0, 2, (dims[-1], m)).astype(dtype)
    return parameters, X, Y


def copies(parameters):
    return {key: value.copy() for key, value in parameters.items()}


@pytest.mark.parametrize("hidden, output, cost", COMBOS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_cuda_layer_by_layer_host_and_device_steps_agree_bit_for_bit(kc, dtype, hidden, output, cost):
    from numba import cuda

    parameters, X, Y = problem(dtype)
    other = np.float64 if dtype == np.float32 else np.float32
    Y_other = Y.astype(other)  # labels of the other dtype: converted to the network's
    host, device = copies(parameters), kc.step.to_device(parameters)

    AL, caches = kc.forward(X, parameters, hidden, output)
    logits = caches[-1].Z if cost == "cross_entropy" else None
    J = kc.compute_cost(AL, Y_other, cost, logits=logits)
    grads = kc.backward(AL, Y_other, caches, cost)
    # float64 gradients (exact copies of float32 ones) are converted to the network's dtype
    kc.update_parameters(parameters, {key: g.astype(np.float64) for key, g in grads.items()}, 0.1)

    J_host = kc.train_step(host, X, Y_other, 0.1, hidden, output, cost)
    J_device = kc.step.train_step(device, cuda.to_device(X), cuda.to_device(Y), 0.1,
                                  hidden, output, cost)
    assert J == J_host == J_device, (J, J_host, J_device)
    for key, value in kc.step.to_host(device).items():
        assert value.dtype == dtype, f"{key} is {value.dtype}"
        np.testing.assert_array_equal(parameters[key], host[key], err_msg=f"{key}: host step")
        np.testing.assert_array_equal(parameters[key], value, err_msg=f"{key}: device step")


def test_cuda_device_step_leaves_its_cost_in_the_slot_asked_for(kc):
    from numba import cuda

    parameters, X, Y = problem(np.float64)
    expected = ref.compute_cost(ref.forward(X, parameters)[0], Y)
    device = kc.step.to_device(parameters)
    assert kc.step.train_step(device, cuda.to_device(X), cuda.to_device(Y), 0.1,
                              return_cost=False, cost_slot=0) is None
    ws = kc.step.workspace_for(device, X.shape[1])
    assert_close("costs[0]", ws.costs.copy_to_host()[:1], np.array([expected]),
                 TOLERANCES[np.dtype(np.float64)][0])


@pytest.mark.parametrize("rung", ["naive", "tiled"])
def test_cuda_the_rung_asked_for_is_the_rung_that_runs(kc, monkeypatch, rung):
    """The ladder's rungs compute the same product; only which kernel ran tells them apart."""
    from numba import cuda

    from kernels.cuda import ladder

    ran = []
    factory = ladder.factory
    monkeypatch.setattr(ladder, "factory", lambda r, *a, **k: ran.append(r) or factory(r, *a, **k))
    parameters, X, Y = problem(np.float64)
    kc.matmul(X.T, X, rung=rung)
    kc.step.train_step(kc.step.to_device(parameters), cuda.to_device(X), cuda.to_device(Y), 0.1,
                       rung=rung)
    assert ran and set(ran) == {rung}, f"asked for {rung}, ran {sorted(set(ran))}"


def test_cuda_matmul_writes_into_the_array_it_is_given(kc):
    from numba import cuda

    A = np.arange(6.0).reshape(2, 3)
    out = cuda.device_array((2, 2))
    assert kc.step.matmul(cuda.to_device(A), cuda.to_device(A.T), out=out) is out
    np.testing.assert_array_equal(out.copy_to_host(), A @ A.T)


@pytest.mark.parametrize("path_name", ["reference", "cpu", "cuda"])
def test_backward_reads_the_AL_it_is_given(path_name):
    """dZ[L] comes from the AL passed in (the slides' dA[L] = -(Y/AL - (1-Y)/(1-AL))), not from
    forward's own A[L]: an AL moved toward Y gives the reference's gradients for that AL."""
    path = load_path(path_name).module
    parameters, X, Y = problem(np.float64)
    for cost in ("cross_entropy", "mse"):
        AL, caches = path.forward(X, parameters, "tanh", "sigmoid")
        moved = (AL + Y) / 2
        _, ref_caches = ref.forward(X, parameters, "tanh", "sigmoid")
        expected = ref.backward(moved, Y, ref_caches, cost)
        grads = path.backward(moved, Y, caches, cost)
        for key in expected:
            assert_close(key, grads[key], expected[key], TOLERANCES[np.dtype(np.float64)][1])
        assert not np.allclose(expected["dW2"], ref.backward(AL, Y, ref_caches, cost)["dW2"])


@pytest.mark.parametrize("cost, from_logits", [("mse", False), ("cross_entropy", False),
                                               ("cross_entropy", True)])
def test_cuda_compute_cost_converts_labels_to_the_networks_dtype(kc, cost, from_logits):
    """float64 labels beside a float32 network cost what the float32 labels cost, bit for bit.
    The labels sit within 1e-3 of the outputs, so the mse's a - y is small and the float32
    rounding of y is a large part of it: a missed conversion (a - y in float64) changes the
    last bits in numba's simulator. The cross-entropy's terms hide it there (the simulator's
    log returns a float64 either way); on a GPU the unconverted labels compile a second kernel."""
    parameters, X, _ = problem(np.float32, m=8)
    AL, caches = kc.forward(X, parameters, "tanh", "sigmoid")
    Y = np.clip(AL + np.random.default_rng(5).uniform(-1e-3, 1e-3, AL.shape), 0, 1)
    logits = caches[-1].Z if from_logits else None
    J = kc.compute_cost(AL, Y, cost, logits)
    assert J == kc.compute_cost(AL, Y.astype(np.float32), cost, logits), cost


def test_cuda_compute_cost_copies_host_logits_once_and_device_logits_never(kc, monkeypatch):
    from tests.test_cuda_kernels import Copies

    parameters, X, Y = problem(np.float64)
    AL, caches = kc.forward(X, parameters)
    Z_device = caches[-1].Z
    Z_host = Z_device.copy_to_host()
    counts = []
    for logits in (Z_host, Z_device):
        copies = Copies(monkeypatch)
        counts.append((kc.compute_cost(AL, Y, logits=logits), copies.to_device))
    assert counts[0][0] == counts[1][0]
    assert [n for _, n in counts] == [2, 1], "copies to the device: Y and host logits, then Y alone"


def test_cuda_each_network_keeps_its_own_workspace(kc):
    """Two networks stepped in turn each find their workspace again (no allocation per step)."""
    from numba import cuda

    parameters, X, Y = problem(np.float64)
    first, second = kc.step.to_device(parameters), kc.step.to_device(copies(parameters))
    mine = kc.step.workspace_for(first, X.shape[1])
    assert kc.step.workspace_for(second, X.shape[1]) is not mine
    kc.step.train_step(second, cuda.to_device(X), cuda.to_device(Y), 0.1)
    assert kc.step.workspace_for(first, X.shape[1]) is mine


@pytest.mark.parametrize("key", ["W1", "b1", "W2", "b2", "W3", "b3"])
def test_cuda_device_step_uses_an_array_put_in_place_of_one_it_held(kc, key):
    """The device step's workspace memo (Workspace.holds) must notice any one W[l] or b[l]
    replaced in the dict, first layer to last, and step the new array."""
    from numba import cuda

    parameters, X, Y = problem(np.float64, dims=(3, 4, 2, 2))
    device = kc.step.to_device(parameters)
    X_d, Y_d = cuda.to_device(X), cuda.to_device(Y)
    kc.step.train_step(device, X_d, Y_d, 0.1)
    parameters = kc.step.to_host(device)
    parameters[key] = parameters[key] + 0.5
    device[key] = cuda.to_device(parameters[key])
    J = kc.step.train_step(device, X_d, Y_d, 0.1)
    assert_close("J", J, ref.train_step(parameters, X, Y, 0.1), TOLERANCES[np.dtype(np.float64)][0])
    for name, value in kc.step.to_host(device).items():
        assert_close(name, value, parameters[name], TOLERANCES[np.dtype(np.float64)][0])
