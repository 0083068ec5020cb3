"""batch_gd's threshold option: the slides' "While (COST < threshold)" loop, meaning "until the cost
falls below threshold", with epochs as the cap; the same loop written in torch stops at the same step."""

import numpy as np
import pytest
import torch

from reference import network as reference
from reference.training import batch_gd
from tests.torch_compare import rel_error


def scripted_step(costs, calls):
    """A train_step that returns the given costs in turn and counts its calls."""
    def train_step(parameters, X, Y, learning_rate, **options):
        calls.append(X.shape[1])
        return costs[len(calls) - 1]
    return train_step


def data(m=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2, m))
    return X, (X[:1] + 0.5 * X[1:] > 0).astype(float)


def test_stops_after_the_first_step_whose_cost_is_below_threshold():
    X, Y = data(6)
    calls = []
    history = batch_gd(scripted_step([5.0, 4.0, 3.0, 2.0, 1.0], calls), {}, X, Y, 0.1, epochs=10,
                       threshold=2.5)
    assert calls == [6, 6, 6, 6], "four full-batch steps: the fourth one's cost 2.0 is below 2.5"
    assert history.step_costs == history.epoch_costs == [5.0, 4.0, 3.0, 2.0]
    assert len(history.epoch_times) == 4



def test_a_cost_equal_to_threshold_is_not_below_it():
    X, Y = data(6)
    calls = []
    history = batch_gd(scripted_step([5.0, 2.5, 1.0, 0.5], calls), {}, X, Y, 0.1, epochs=10,
                       threshold=2.5)
    assert history.step_costs == [5.0, 2.5, 1.0], "2.5 < 2.5 is false: the loop goes on to 1.0"

def test_epochs_caps_a_run_that_never_gets_below_threshold():
    X, Y = data(6)
    calls = []
    history = batch_gd(scripted_step([5.0] * 7, calls), {}, X, Y, 0.1, epochs=3, threshold=1.0)
    assert len(calls) == 3 and history.epoch_costs == [5.0] * 3


def test_without_threshold_every_epoch_runs():
    X, Y = data(6)
    calls = []
    batch_gd(scripted_step([5.0, 1.0, 0.5], calls), {}, X, Y, 0.1, epochs=3)
    assert len(calls) == 3


def test_the_same_loop_in_torch_stops_at_the_same_step():
    """The slide's loop written in torch: forward (cost), backward, adjust, until cost < threshold."""
    X, Y = data()
    dims, alpha, threshold, cap = [2, 6, 1], 0.5, 0.3, 500
    parameters = reference.initialize_parameters(dims, seed=3)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in parameters.items()}
    tX, tY = torch.tensor(X), torch.tensor(Y)
    torch_costs = []
    for _ in range(cap):
        A1 = torch.tanh(t["W1"] @ tX + t["b1"])
        cost = torch.nn.functional.binary_cross_entropy_with_logits(t["W2"] @ A1 + t["b2"], tY)
        cost.backward()
        with torch.no_grad():
            for value in t.values():
                value -= alpha * value.grad
                value.grad.zero_()
        torch_costs.append(cost.item())
        if cost.item() < threshold:
            break
    history = batch_gd(reference.train_step, parameters, X, Y, alpha, epochs=cap,
                       threshold=threshold, hidden="tanh")
    assert 1 < len(torch_costs) < cap, "the example must stop on the threshold, not the cap"
    assert len(history.step_costs) == len(torch_costs)
    assert rel_error(history.step_costs, torch_costs) <= 1e-9
    assert history.step_costs[-1] < threshold <= history.step_costs[-2]
    for key, value in parameters.items():  # the last step's update was made, as in the slide's loop
        assert rel_error(value, t[key].detach().numpy()) <= 1e-9


@pytest.mark.parametrize("threshold", [0, -1.0, float("nan"), float("inf"), "0.1", True])
def test_a_threshold_that_is_not_a_positive_number_is_refused(threshold):
    X, Y = data(6)
    with pytest.raises(ValueError, match=r"^threshold = .*; expected a finite number > 0 \(the cost J "
                                         r"to get below\)$"):
        batch_gd(reference.train_step, {}, X, Y, 0.1, epochs=3, threshold=threshold)


def test_the_cap_must_be_a_positive_integer():
    X, Y = data(6)
    with pytest.raises(ValueError, match=r"epochs = 0; expected an integer >= 1"):
        batch_gd(reference.train_step, {}, X, Y, 0.1, epochs=0, threshold=0.5)
