"""train/batch_size.py, the batch-size study of gallery figure 1: its split, the learning-rate
choice, the memory measure, the figure, and the statements the guide makes from it (seed 0)."""

import numpy as np
import pytest

from plots import figures
from plots.style import close
from reference import network
from tests.test_plots import check_labelled, series
from train import batch_size, datasets


def test_the_three_parts_are_disjoint_and_the_held_out_part_is_the_gallerys():
    X, Y = datasets.read_breast_cancer_csv()
    fit, validation, held = batch_size.split_indices(Y, seed=0)
    assert (len(fit), len(validation), len(held)) == (365, 91, 113)
    assert len(np.unique(np.concatenate([fit, validation, held]))) == 569
    np.testing.assert_array_equal(held, datasets.stratified_split(Y, 0.2, 0)[1])
    for part in (fit, validation, held):  # each keeps the 357/569 share of benign tumours
        assert abs(Y[0, part].mean() - 357 / 569) < 0.01
    (X_fit, _), (X_val, _), _ = batch_size.three_way_split(0)
    np.testing.assert_allclose(X_fit.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(X_fit.std(axis=1), 1, rtol=1e-12)
    assert np.abs(X_val.mean(axis=1)).max() > 1e-3, "the validation part is not used to standardize"


def test_step_memory_grows_with_the_batch_and_holds_at_least_the_forward_caches():
    dims = [30, 16, 8, 1]
    per_sample = 8 * 2 * sum(dims[1:])  # Z[l] and A[l], float64, for l = 1..L: a lower bound
    small, large = batch_size.step_memory(256, dims), batch_size.step_memory(512, dims)
    assert large - small >= per_sample * 256
    assert small >= per_sample * 256
    assert large < 20 * per_sample * 512, "a few times the caches, not more"
    assert batch_size.step_memory(1, dims) < small


@pytest.fixture
def tiny():
    blobs = datasets.two_blobs(m=60, seed=3, held_out_fraction=0.5)
    fit = (blobs.X_train[:, :20], blobs.Y_train[:, :20])
    validation = (blobs.X_train[:, 20:], blobs.Y_train[:, 20:])
    return fit, validation, (blobs.X_held, blobs.Y_held)


def test_each_batch_size_takes_the_rate_with_the_lowest_validation_cost(tiny):
    choices = batch_size.study(batch_sizes=(1, 8, None), learning_rates=(0.01, 0.3, 1e200), epochs=3,
                               layer_dims=[2, 3, 1], path=network, split=tiny)
    assert [c.batch_size for c in choices] == [1, 8, 20]
    assert [c.updates_per_epoch for c in choices] == [20, 3, 1]
    for choice in choices:
        costs = choice.validation_cost
        assert np.isnan(costs[1e200]), "a rate that overflows is out"
        assert choice.learning_rate == min((a for a in costs if np.isfinite(costs[a])), key=costs.get)
        assert len(choice.run.cost) == len(choice.run.held_cost) == 4
        assert choice.step_bytes > 0


def test_the_figure_has_six_labelled_panels(tiny):
    choices = batch_size.study(batch_sizes=(4, None), learning_rates=(0.1, 0.3), epochs=2,
                               layer_dims=[2, 3, 1], path=network, split=tiny)
    fig = figures.batch_size_comparison(choices, m=20, epochs=2, layer_dims=[2, 3, 1], path_name="reference")
    axes = check_labelled(fig, 6)
    for ax in axes[:4]:
        assert len(series(ax)) == 2
    assert "batch GD" in series(axes[0])[1].get_label()
    close(fig)


def test_the_guides_statements_hold_on_the_data():
    """The guide's batch-size section (notebooks/05_minibatch_sgd.md), seed 0 (the gallery's
    figure): the statements it makes from that seed's numbers."""
    choices = batch_size.study(seed=0)
    by_size = {c.batch_size: c for c in choices}
    sgd, full = by_size[1], by_size[365]
    rates = [c.learning_rate for c in choices]
    assert rates == sorted(rates) and rates[0] < rates[-1], "the chosen rate grows with the batch"
    assert sgd.learning_rate <= 0.01 < full.learning_rate
    assert full.run.cost[-1] < sgd.run.cost[1], "per update batch GD is ahead: 60 updates vs 365"
    assert full.run.seconds[-1] < sgd.run.seconds[-1] / 10, "so is it per second"
    assert batch_size.cost_rises(full.run) == 0
    held = [c.run.held_cost[-1] for c in choices]
    assert min(held) == full.run.held_cost[-1] and sorted(held)[1] - min(held) < 0.003
    accuracies = [c.run.held_accuracy[-1] for c in choices]
    assert max(accuracies) - min(accuracies) <= 2 / 113 + 1e-12, "within two held-out samples"
    assert full.step_bytes > 20 * sgd.step_bytes
