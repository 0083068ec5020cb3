"""Training loops (batch, stochastic, mini-batch): their meaning of step and epoch, and every
path training through the one loop the way the reference does."""

import numpy as np
import pytest

from reference import network as reference
from reference.training import batch_gd, minibatch_sgd, sgd
from tests.torch_compare import rel_error


def xor_like(m, seed=0, dtype=np.float64):
    """Two features, label 1 where they have the same sign: needs the hidden layer."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2, m)).astype(dtype)
    Y = (X[:1] * X[1:] > 0).astype(dtype)
    return X, Y


def counting_step(calls):
    """A train_step that records the batches it is given (and returns their size as the cost)."""
    def train_step(parameters, X, Y, learning_rate, **options):
        calls.append((X.copy(), Y.copy(), options))
        return float(X.shape[1])
    return train_step


@pytest.mark.parametrize("batch_size, steps_per_epoch", [(1, 10), (3, 4), (5, 2), (10, 1), (None, 1)])
def test_minibatch_steps_and_epochs(batch_size, steps_per_epoch):
    X, Y = xor_like(10)
    calls = []
    history = minibatch_sgd(counting_step(calls), {}, X, Y, 0.1, epochs=3, batch_size=batch_size,
                            hidden="tanh")
    assert len(calls) == len(history.step_costs) == 3 * steps_per_epoch
    assert len(history.epoch_costs) == len(history.epoch_times) == 3
    assert all(options == {"hidden": "tanh"} for *_, options in calls)
    epoch = calls[:steps_per_epoch]
    seen = np.concatenate([Xb for Xb, _, _ in epoch], axis=1)
    assert sorted(map(tuple, seen.T)) == sorted(map(tuple, X.T)), "an epoch sees every sample once"
    for Xb, Yb, _ in epoch:  # labels travel with their samples
        assert np.array_equal(Yb, (Xb[:1] * Xb[1:] > 0).astype(float))
    assert np.all(np.diff(history.epoch_times) >= 0)


def test_shuffle_changes_order_each_epoch_and_repeats_for_a_seed():
    X, Y = xor_like(12)
    runs = []
    for _ in range(2):
        calls = []
        minibatch_sgd(counting_step(calls), {}, X, Y, 0.1, epochs=2, batch_size=4, seed=3)
        runs.append([Xb for Xb, _, _ in calls])
    assert all(np.array_equal(a, b) for a, b in zip(*runs, strict=True)), "same seed, same batches"
    first, second = np.concatenate(runs[0][:3], axis=1), np.concatenate(runs[0][3:], axis=1)
    assert not np.array_equal(first, second), "each epoch is shuffled anew"


def test_batch_and_stochastic_are_the_two_ends():
    X, Y = xor_like(6)
    calls = []
    batch_gd(counting_step(calls), {}, X, Y, 0.1, epochs=2)
    assert [c[0].shape[1] for c in calls] == [6, 6]
    assert np.array_equal(calls[0][0], X), "batch gradient descent uses all samples, unshuffled"
    calls.clear()
    sgd(counting_step(calls), {}, X, Y, 0.1, epochs=1)
    assert [c[0].shape[1] for c in calls] == [1] * 6


def test_training_lowers_the_cost():
    X, Y = xor_like(200)
    parameters = reference.initialize_parameters([2, 8, 1], seed=1)
    history = minibatch_sgd(reference.train_step, parameters, X, Y, 0.5, epochs=40, batch_size=20)
    assert history.epoch_costs[-1] < 0.5 * history.epoch_costs[0]


@pytest.mark.parametrize("bad, message", [
    (dict(batch_size=0), r"batch_size = 0; expected an integer in \[1, m = 10\]"),
    (dict(batch_size=11), r"batch_size = 11"),
    (dict(batch_size=2, epochs=0), r"epochs = 0; expected an integer >= 1"),
    (dict(batch_size=2, epochs=2.5), r"epochs = 2.5; expected an integer >= 1"),
    (dict(batch_size=2, epochs=True), r"epochs = True; expected an integer >= 1"),  # a flag, not a count
])
def test_bad_loop_settings(bad, message):
    X, Y = xor_like(10)
    settings = dict(epochs=1) | bad
    with pytest.raises(ValueError, match=message):
        minibatch_sgd(reference.train_step, {}, X, Y, 0.1, **settings)


@pytest.mark.parametrize("change, error, message", [
    (lambda X, Y: (X.astype(np.int64), Y), TypeError, "^X has dtype int64; expected float32 or float64"),
    (lambda X, Y: (X[0], Y), ValueError, r"^X has shape \(10,\); expected a 2-D array"),
    (lambda X, Y: (X, Y[0]), ValueError, r"^Y has shape \(10,\); expected a 2-D array"),
    (lambda X, Y: (X, Y[:, :9]), ValueError,
     r"^Y has shape \(1, 9\); expected \(n\[L\], 10\), one column per sample of X"),
])
def test_the_loop_names_the_array_it_refuses(change, error, message):
    X, Y = change(*xor_like(10))
    with pytest.raises(error, match=message):
        minibatch_sgd(reference.train_step, {}, X, Y, 0.1, epochs=1, batch_size=2)


@pytest.mark.parametrize("batch_size", [1, 7, None])
def test_every_path_trains_through_the_loop_like_the_reference(path, batch_size):
    """float64: each step's cost on a fast path follows the reference's to 1e-9."""
    if path.name == "reference":
        pytest.skip("the reference is this test's oracle")
    m, dims, epochs = (9, [2, 3, 1], 2) if path.small else (50, [2, 10, 1], 5)
    X, Y = xor_like(m, seed=4)
    costs = {}
    for name, step in (("reference", reference.train_step), (path.name, path.train_step)):
        parameters = reference.initialize_parameters(dims, seed=2)
        costs[name] = minibatch_sgd(step, parameters, X, Y, 0.3, epochs, batch_size, seed=5,
                                    hidden="tanh").step_costs
    for k, (ours, ref) in enumerate(zip(costs[path.name], costs["reference"], strict=True)):
        assert rel_error(ours, ref) <= 1e-9, f"step {k}: {ours} vs reference {ref}"
