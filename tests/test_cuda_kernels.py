"""The CUDA path's own kernels: the GEMM ladder, the deterministic reductions, the device-resident
training loop and what it copies and launches.

Without a GPU these run in numba's CUDA simulator (tests/conftest.py), at tiny shapes that are
still not multiples of the (simulator's) block sizes, so every kernel's edge guards are exercised.
The tests marked `gpu` repeat the checks at realistic shapes on a real device.
The network itself is pinned to torch by the shared tests (test_network.py and friends), which run
on this path through the `path` fixture.
"""

import numpy as np
import pytest

from reference import network as ref
from reference.activations import ACTIVATIONS
from reference.training import minibatch_sgd
from tests.conftest import SIMULATED, load_path
from tests.torch_compare import TOLERANCES, assert_close, rel_error

LAYOUTS = {  # name -> (trans_a, trans_b): the three products the network needs
    "W A": (False, False),
    "dZ A^T": (False, True),
    "W^T dZ": (True, False),
}
RUNGS = ("naive", "tiled", "register", "register-small")  # register-small: the small tile setting
GEMM_TOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}


@pytest.fixture
def kc():
    """kernels.cuda, or a skip saying why it cannot run here."""
    return load_path("cuda").module


@pytest.fixture
def gpu(kc):
    if SIMULATED:
        pytest.skip("needs a real GPU: these shapes would take hours in the simulator")
    return kc


def operands(M, N, K, trans_a, trans_b, dtype, seed=0):
    """A, B as stored (A is K x M when transposed, B is N x K), and the NumPy product op(A) op(B)."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((K, M) if trans_a else (M, K)).astype(dtype)
    B = rng.standard_normal((N, K) if trans_b else (K, N)).astype(dtype)
    expected = (A.T if trans_a else A).astype(np.float64) @ (B.T if trans_b else B).astype(np.float64)
    return A, B, expected


def check_gemm(kc, rung, layout, dtype, M, N, K, monkeypatch):
    from numba import cuda

    if rung.startswith("register"):  # force the tile setting: the large one, or the small one
        monkeypatch.setattr(kc.config, "GEMM_MIN_BLOCKS", 10**9 if rung == "register-small" else 0)
        rung = "register"
    trans_a, trans_b = LAYOUTS[layout]
    A, B, expected = operands(M, N, K, trans_a, trans_b, dtype)
    C = kc.step.matmul(cuda.to_device(A), cuda.to_device(B), trans_a=trans_a, trans_b=trans_b,
                         rung=rung).copy_to_host()
    assert C.dtype == dtype and C.shape == (M, N)
    err = rel_error(C, expected, entrywise=False)
    assert err <= GEMM_TOL[np.dtype(dtype)], f"{rung} {layout} {dtype}: relative error {err:.3g}"


# ---------------------------------------------------------------------------------------------
# GEMM ladder


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("rung", RUNGS)
def test_gemm_rung_matches_numpy(kc, rung, layout, dtype, monkeypatch):
    # 7 x 11 output, K = 9: no dimension a multiple of the simulator's 4x4 blocks, 4x4 tiles or
    # 8x8x4 register tiles, and K spans three stages of the tiled loops
    check_gemm(kc, rung, layout, dtype, M=7, N=11, K=9, monkeypatch=monkeypatch)


@pytest.mark.parametrize("rung", RUNGS)
def test_gemm_of_a_single_row_and_column(kc, rung, monkeypatch):
    # a 1-unit output layer and m = 1
    check_gemm(kc, rung, "W A", np.float64, M=1, N=1, K=5, monkeypatch=monkeypatch)


@pytest.mark.parametrize("rung", RUNGS[:3])
def test_public_matmul_matches_numpy(kc, rung):
    A, B, expected = operands(5, 6, 3, False, False, np.float32, seed=3)
    assert_close("matmul", kc.matmul(A, B, rung=rung), expected, 1e-5, np.float32)


def test_public_matmul_rejects_mismatched_shapes(kc):
    with pytest.raises(ValueError, match=r"B has shape \(4, 2\); expected \(3, 2\) to match A \(2, 3\)"):
        kc.matmul(np.ones((2, 3)), np.ones((4, 2)))
    with pytest.raises(TypeError, match="float32"):
        kc.matmul(np.ones((2, 3)), np.ones((3, 2), np.float32))


# ---------------------------------------------------------------------------------------------
# Deterministic reductions


def tree_sum_rows(dZ, threads):
    """The bias-gradient kernel's exact order of additions, in dZ's dtype: thread t adds
    dZ[i, t], dZ[i, t + T], ... in turn, then the partial sums are halved pairwise."""
    zero = dZ.dtype.type(0)
    db = np.empty((dZ.shape[0], 1), dZ.dtype)
    for i, row in enumerate(dZ):
        partial = []
        for t in range(threads):
            acc = zero
            for value in row[t::threads]:
                acc = dZ.dtype.type(acc + value)
            partial.append(acc)
        s = threads // 2
        while s > 0:
            for t in range(s):
                partial[t] = dZ.dtype.type(partial[t] + partial[t + s])
            s //= 2
        db[i, 0] = partial[0]
    return db


def bias_gradient(kc, dZ):
    from numba import cuda

    from kernels.cuda import reductions

    db = cuda.device_array((dZ.shape[0], 1), dZ.dtype)
    reductions.bias_gradient(cuda.to_device(dZ), db)
    return db.copy_to_host()


def test_bias_gradient_is_a_fixed_tree_and_repeats_bit_for_bit(kc):
    rng = np.random.default_rng(0)
    dZ = (rng.standard_normal((3, 13)) * 10 ** rng.uniform(-3, 3, (3, 13))).astype(np.float32)
    first, second = bias_gradient(kc, dZ), bias_gradient(kc, dZ)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, tree_sum_rows(dZ, kc.config.REDUCE_THREADS))
    assert_close("db", first, dZ.astype(np.float64).sum(axis=1, keepdims=True), 1e-4, np.float32)


@pytest.mark.parametrize("cost", ["cross_entropy", "mse"])
def test_cost_repeats_bit_for_bit_and_matches_the_reference(kc, cost):
    rng = np.random.default_rng(1)
    AL = rng.uniform(0.01, 0.99, (2, 9))
    Y = (rng.random((2, 9)) > 0.5).astype(np.float64)
    logits = np.log(AL / (1 - AL))
    J = [kc.compute_cost(AL, Y, cost, logits=logits if cost == "cross_entropy" else None)
         for _ in range(2)]
    assert J[0] == J[1]
    assert_close("J", J[0], ref.compute_cost(AL, Y, cost, logits=logits), 1e-12)


def test_cross_entropy_from_saturated_outputs_is_clamped_like_torch(kc):
    AL = np.array([[0.0, 1.0, 0.5]])
    Y = np.array([[1.0, 0.0, 1.0]])
    assert_close("J", kc.compute_cost(AL, Y), ref.compute_cost(AL, Y), 1e-12)  # (100 + 100 + log 2) / 3


# ---------------------------------------------------------------------------------------------
# The shared scalar activations (the njit functions the kernels call) on the CPU


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "linear"])
def test_scalar_activation_helpers_match_the_reference(name, dtype):
    from kernels.scalar import ACTIVATION_CODES as CODES
    from kernels.scalar import g as activate
    from kernels.scalar import g_prime as derivative

    one = np.dtype(dtype).type(1)
    # |z| <= 7.5: further out g'(z) = a (1 - a) or 1 - a^2 cancels, and one ulp of a (exp's
    # last bit, which differs between libraries) moves g' by more than the 1e-9 tolerance
    Z = np.array([[-7.5, -2.5, -1e-6, 0.0, 1e-6, 0.7, 3.0, 7.5]], dtype)
    g, g_prime = ACTIVATIONS[name]
    ours = np.array([[activate(z, CODES[name], one) for z in Z[0]]])
    ours_prime = np.array([[derivative(z, CODES[name], one) for z in Z[0]]])
    value_tol, grad_tol = TOLERANCES[np.dtype(dtype)]
    assert_close(f"{name}", ours, g(Z), value_tol, dtype)
    assert_close(f"{name}'", ours_prime, g_prime(Z), grad_tol, dtype)


def test_train_step_updates_fortran_ordered_parameters_in_place(kc):
    dims, X, Y = tiny_problem()
    theirs = ref.initialize_parameters(dims)
    ours = {key: np.array(value, order="F") for key, value in theirs.items()}
    W1 = ours["W1"]
    assert_close("J", kc.train_step(ours, X, Y, 0.1), ref.train_step(theirs, X, Y, 0.1), 1e-10)
    assert ours["W1"] is W1
    for key in ours:
        assert_close(key, ours[key], theirs[key], 1e-10)


# ---------------------------------------------------------------------------------------------
# The device-resident training loop


def tiny_problem(dtype=np.float64, m=7):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((3, m)).astype(dtype)
    Y = (rng.random((1, m)) > 0.5).astype(dtype)
    return [3, 4, 1], X, Y


@pytest.mark.parametrize("cost", ["cross_entropy", "mse"])
@pytest.mark.parametrize("batch_size", [3, None], ids=["minibatch-3-of-7", "batch"])
def test_device_loop_follows_the_reference_loop(kc, batch_size, dtype, cost):
    dims, X, Y = tiny_problem(dtype)
    ours = ref.initialize_parameters(dims, seed=2, dtype=dtype)
    theirs = ref.initialize_parameters(dims, seed=2, dtype=dtype)
    kw = dict(learning_rate=0.5, epochs=2, batch_size=batch_size, seed=4, hidden="tanh", cost=cost)
    history = kc.minibatch_sgd_on_device(ours, X, Y, **kw)
    expected = minibatch_sgd(ref.train_step, theirs, X, Y, **kw)
    assert len(history.step_costs) == len(expected.step_costs) == (6 if batch_size else 2)
    tol = TOLERANCES[dtype][0]
    assert_close("step costs", history.step_costs, expected.step_costs, tol, dtype)
    assert_close("epoch costs", history.epoch_costs, expected.epoch_costs, tol, dtype)
    for key in ours:
        assert ours[key].dtype == dtype
        assert_close(key, ours[key], theirs[key], tol, dtype)


class Copies:
    """Counts host -> device and device -> host copies made through numba.cuda."""

    def __init__(self, monkeypatch):
        from numba import cuda

        self.to_device = self.to_host = 0
        to_device, array_type = cuda.to_device, type(cuda.device_array(1))
        copy_to_host = array_type.copy_to_host

        def counting_to_device(*args, **kwargs):
            self.to_device += 1
            return to_device(*args, **kwargs)

        def counting_copy_to_host(array, *args, **kwargs):
            self.to_host += 1
            return copy_to_host(array, *args, **kwargs)

        monkeypatch.setattr(cuda, "to_device", counting_to_device)
        monkeypatch.setattr(array_type, "copy_to_host", counting_copy_to_host)


def test_device_loop_copies_nothing_inside_the_loop(kc, monkeypatch):
    dims, X, Y = tiny_problem(m=4)
    counts = []
    for epochs in (1, 3):
        copies = Copies(monkeypatch)
        kc.minibatch_sgd_on_device(ref.initialize_parameters(dims), X, Y, 0.1, epochs, batch_size=2)
        counts.append((copies.to_device, copies.to_host))
    # in: W1, b1, W2, b2, X, Y, the epochs' sample orders; out: the step costs, W1, b1, W2, b2
    assert counts == [(7, 5), (7, 5)]


def test_device_train_step_copies_only_the_cost_it_is_asked_for(kc, monkeypatch):
    from numba import cuda

    dims, X, Y = tiny_problem()
    parameters_d = kc.step.to_device(ref.initialize_parameters(dims))
    X_d, Y_d = cuda.to_device(X), cuda.to_device(Y)
    copies = Copies(monkeypatch)
    assert kc.train_step_device(parameters_d, X_d, Y_d, 0.1, return_cost=False) is None
    assert (copies.to_device, copies.to_host) == (0, 0)
    J = kc.train_step_device(parameters_d, X_d, Y_d, 0.1)
    assert isinstance(J, float) and (copies.to_device, copies.to_host) == (0, 1)


def test_same_shaped_networks_get_workspaces_of_their_own_and_at_most_the_memos_size(kc):
    """Device train_steps of same-shaped networks in turn: each network steps on a workspace of its
    own (holding its own W[l], b[l]), so each trains as it would alone; and however many networks
    train, the memo keeps at most its size of workspaces (the oldest go, and come back when
    their network steps again)."""
    from numba import cuda

    dims, X, Y = tiny_problem()
    X_d, Y_d = cuda.to_device(X), cuda.to_device(Y)
    count = kc.step._WORKSPACES.size + 2
    networks = [ref.initialize_parameters(dims, seed=seed) for seed in range(count)]
    alone = []
    for parameters in networks:
        parameters_d = kc.step.to_device(parameters)
        alone.append(([kc.train_step_device(parameters_d, X_d, Y_d, 0.5) for _ in range(2)],
                      kc.step.to_host(parameters_d)))
    together = [kc.step.to_device(parameters) for parameters in networks]
    costs = [[] for _ in networks]
    for _ in range(2):
        for parameters_d, network_costs in zip(together, costs, strict=True):
            network_costs.append(kc.train_step_device(parameters_d, X_d, Y_d, 0.5))
    assert len(kc.step._WORKSPACES) <= kc.step._WORKSPACES.size
    first, second = (kc.step.workspace_for(parameters_d, X.shape[1]) for parameters_d in together[:2])
    assert first is not second
    assert first.W[1] is together[0]["W1"] and second.W[1] is together[1]["W1"]
    for parameters_d, network_costs, (expected_costs, expected) in zip(together, costs, alone,
                                                                        strict=True):
        assert network_costs == expected_costs
        for key, value in kc.step.to_host(parameters_d).items():
            np.testing.assert_array_equal(value, expected[key], key)


def test_backward_refuses_caches_it_did_not_make_and_matmul_an_unknown_rung(kc):
    dims, X, Y = tiny_problem()
    parameters = ref.initialize_parameters(dims)
    AL, caches = ref.forward(X, parameters)
    with pytest.raises(TypeError, match=r"^caches must come from kernels.cuda.forward \(each path"):
        kc.backward(AL, Y, caches)
    AL, caches = kc.forward(X, parameters)
    with pytest.raises(ValueError, match=r"AL has shape \(1, 6\); expected \(1, 7\), the shape of Z\[L\] in"):
        kc.backward(AL[:, :6], Y[:, :6], caches)
    with pytest.raises(ValueError, match=r"rung must be one of \('naive', 'tiled', 'register'\)"):
        kc.matmul(X, X.T, rung="fast")


class Launches:
    """Counts kernel launches made by the kernels.cuda launchers."""

    def __init__(self, monkeypatch):
        from kernels.cuda import elementwise, ladder, reductions

        self.count = 0
        for module in (elementwise, ladder, reductions):
            compiled = module.kernel

            def counting_kernel(*settings, compiled=compiled):
                configured = compiled(*settings)
                launches = self

                class Counting:
                    def __getitem__(self, launch_config):
                        launch = configured[launch_config]

                        def run(*args):
                            launches.count += 1
                            return launch(*args)

                        return run

                return Counting()

            monkeypatch.setattr(module, "kernel", counting_kernel)


@pytest.mark.parametrize("return_cost, launches", [(False, 7 * 3 - 1), (True, 7 * 3 + 1)])
def test_train_step_launches_7L_minus_1_kernels_and_2_more_for_the_cost(
        kc, monkeypatch, return_cost, launches):
    from numba import cuda

    parameters = ref.initialize_parameters([3, 4, 2, 1])  # L = 3
    _, X, Y = tiny_problem()
    parameters_d, X_d, Y_d = kc.step.to_device(parameters), cuda.to_device(X), cuda.to_device(Y)
    counter = Launches(monkeypatch)
    kc.train_step_device(parameters_d, X_d, Y_d, 0.1, return_cost=return_cost)
    assert counter.count == launches


# ---------------------------------------------------------------------------------------------
# Realistic shapes on a real GPU


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("rung", RUNGS)
def test_gpu_gemm_rung_matches_numpy_at_network_shapes(gpu, rung, layout, dtype, monkeypatch):
    check_gemm(gpu, rung, layout, dtype, M=517, N=1000, K=259, monkeypatch=monkeypatch)


@pytest.mark.gpu
def test_gpu_bias_gradient_repeats_bit_for_bit(gpu):
    dZ = np.random.default_rng(0).standard_normal((300, 4099)).astype(np.float32)
    first = bias_gradient(gpu, dZ)
    for _ in range(3):
        np.testing.assert_array_equal(bias_gradient(gpu, dZ), first)
    np.testing.assert_array_equal(first[:4], tree_sum_rows(dZ[:4], gpu.config.REDUCE_THREADS))


@pytest.mark.gpu
@pytest.mark.parametrize("rung", RUNGS[:3])
def test_gpu_train_step_matches_the_reference(gpu, rung, monkeypatch):
    monkeypatch.setattr(gpu.config, "GEMM_RUNG", rung)
    rng = np.random.default_rng(0)
    dims, m = [784, 256, 128, 1], 512
    X = rng.standard_normal((dims[0], m))
    Y = (rng.random((1, m)) > 0.5).astype(np.float64)
    ours, theirs = ref.initialize_parameters(dims), ref.initialize_parameters(dims)
    for _ in range(3):
        assert_close("J", gpu.train_step(ours, X, Y, 0.05), ref.train_step(theirs, X, Y, 0.05), 1e-10)
    for key in ours:
        assert_close(key, ours[key], theirs[key], 1e-10)


@pytest.mark.gpu
def test_gpu_float32_train_step_stays_within_float32_tolerance(gpu):
    rng = np.random.default_rng(1)
    dims, m = [784, 256, 128, 1], 512
    X = rng.standard_normal((dims[0], m))
    Y = (rng.random((1, m)) > 0.5).astype(np.float64)
    theirs = ref.initialize_parameters(dims)
    ours = {key: value.astype(np.float32) for key, value in theirs.items()}
    J = gpu.train_step(ours, X.astype(np.float32), Y.astype(np.float32), 0.05)
    assert_close("J", J, ref.train_step(theirs, X, Y, 0.05), 1e-4, np.float32)
    for key in ours:
        assert_close(key, ours[key], theirs[key], 1e-4, np.float32)


@pytest.mark.gpu
@pytest.mark.parametrize("cost", ["cross_entropy", "mse"])
def test_gpu_cost_repeats_bit_for_bit(gpu, cost):
    rng = np.random.default_rng(2)
    AL = rng.uniform(0.01, 0.99, (10, 100_003)).astype(np.float32)
    Y = (rng.random(AL.shape) > 0.5).astype(np.float32)
    J = [gpu.compute_cost(AL, Y, cost) for _ in range(4)]
    assert J.count(J[0]) == 4, J
    assert_close("J", J[0], ref.compute_cost(AL.astype(np.float64), Y.astype(np.float64), cost),
                 1e-4, np.float32)
