"""Training loops (batch, stochastic, mini-batch): their meaning of step and epoch, and every
path training through the one loop the way the reference does."""

import numpy as np
import pytest

from reference import network as reference
from reference import training
from reference.training import batch_gd, epoch_orders, minibatch_sgd, sgd
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



def permutations(seed, m, epochs):
    """The slides' shuffle, one fresh permutation of the m columns per epoch from one generator."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(m) for _ in range(epochs)]


def seen_orders(calls, m, epochs):
    """Each epoch's column order as the train_step saw it (X's first row holds the column index)."""
    order = np.concatenate([Xb[0] for Xb, _, _ in calls]).astype(int)
    return order.reshape(epochs, m).tolist()


def indexed(m):
    """X whose first row is the column index, so the batches tell which samples they hold."""
    return np.vstack([np.arange(m, dtype=float), np.ones(m)]), np.zeros((1, m))


def test_epoch_orders_is_one_generator_seeded_once():
    """Defaults seed=0, shuffle=True; no permutation when shuffle is off or one batch holds all."""
    expected = permutations(0, 5, 3)
    assert [order.tolist() for order in epoch_orders(5, 2, 3)] == [p.tolist() for p in expected]
    assert list(epoch_orders(5, 5, 2)) == [None, None]
    assert list(epoch_orders(5, 2, 2, shuffle=False)) == [None, None]


@pytest.mark.parametrize("loop, kwargs, seed, batch_size", [
    (minibatch_sgd, {"batch_size": 2}, 0, 2),
    (minibatch_sgd, {"batch_size": 2, "seed": 4}, 4, 2),
    (minibatch_sgd, {"batch_size": 2, "shuffle": False}, None, 2),
    (minibatch_sgd, {"batch_size": None}, None, 5),
    (minibatch_sgd, {"batch_size": 5}, None, 5),
    (sgd, {}, 0, 1),
    (sgd, {"seed": 4}, 4, 1),
], ids=["minibatch", "minibatch-seed4", "no-shuffle", "all-m", "batch-m", "sgd", "sgd-seed4"])
def test_each_epoch_visits_the_columns_in_the_seeds_order(loop, kwargs, seed, batch_size):
    """seed=None in the table: in their order (shuffle off, or one batch holds all m)."""
    m, epochs = 5, 2
    X, Y = indexed(m)
    calls = []
    loop(counting_step(calls), {}, X, Y, 0.1, epochs=epochs, **kwargs)
    assert all(Xb.shape[1] <= batch_size for Xb, _, _ in calls)
    expected = ([list(range(m))] * epochs if seed is None
                else [p.tolist() for p in permutations(seed, m, epochs)])
    assert seen_orders(calls, m, epochs) == expected


LOOPS = {
    "minibatch": lambda step, **kw: minibatch_sgd(step, *kw.pop("args"), batch_size=2, **kw),
    "sgd": lambda step, **kw: sgd(step, *kw.pop("args"), **kw),
    "batch": lambda step, **kw: batch_gd(step, *kw.pop("args"), **kw),
    "batch-threshold": lambda step, **kw: batch_gd(step, *kw.pop("args"), threshold=1e-3, **kw),
}


@pytest.mark.parametrize("loop", list(LOOPS))
def test_every_loop_hands_train_step_the_parameters_rate_and_options(loop):
    X, Y = xor_like(4)
    parameters, seen = {"W1": np.ones((1, 2))}, []

    def train_step(params, Xb, Yb, learning_rate, **options):
        seen.append((params, learning_rate, options))
        return 1.0

    LOOPS[loop](train_step, args=(parameters, X, Y, 0.25), epochs=2, hidden="tanh")
    assert seen and all(params is parameters and rate == 0.25 and options == {"hidden": "tanh"}
                        for params, rate, options in seen)


@pytest.mark.parametrize("loop", list(LOOPS))
def test_on_epoch_sees_epochs_1_2_3_and_the_history_and_stops_the_loop(loop):
    """on_epoch(epoch, history) after each epoch, epoch counting from 1; True stops there (the
    threshold of batch_gd, never reached here, does not silence it)."""
    X, Y = xor_like(4)
    calls, seen = [], []

    def on_epoch(epoch, history):
        seen.append((epoch, len(history.epoch_costs), history))
        return epoch == 3

    history = LOOPS[loop](counting_step(calls), args=({}, X, Y, 0.1), epochs=10, on_epoch=on_epoch)
    assert [(epoch, done) for epoch, done, _ in seen] == [(1, 1), (2, 2), (3, 3)]
    assert all(h is history for *_, h in seen)
    assert len(history.epoch_costs) == 3


class Clock:
    """A stand-in for time.perf_counter: each train_step takes 1 s, each on_epoch 10 s."""

    def __init__(self):
        self.now = 100.0

    def perf_counter(self):
        return self.now


def test_epoch_times_count_the_training_not_on_epoch(monkeypatch):
    """2 steps of 1 s per epoch, 10 s in on_epoch after each: the times since the start are
    2, 4, 6 s (the 10 s pauses left out), whatever the clock read at the start."""
    clock = Clock()
    monkeypatch.setattr(training, "time", clock)

    def train_step(parameters, X, Y, learning_rate, **options):
        clock.now += 1.0
        return 0.5

    def on_epoch(epoch, history):
        clock.now += 10.0

    X, Y = xor_like(4)
    history = minibatch_sgd(train_step, {}, X, Y, 0.1, epochs=3, batch_size=2, on_epoch=on_epoch)
    assert history.epoch_times == [2.0, 4.0, 6.0]

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
