"""The gallery's figures, each at a tiny size, checked on the Figure itself: series, labels,
titles, and the behaviour each figure is there to show (costs that fall, a rate that diverges,
a run stuck in a local minimum, L1 resisting outliers, paths that agree)."""

import numpy as np
import pytest

from plots import figures, gallery
from plots.figures import relative_difference
from plots.style import close
from reference import network, slide_examples
from train import datasets
from train.runs import train_run
from train.simulated import run_in_simulator

# The minima of f(x) = x^4 - 3x^2 + x solve f'(x) = 4x^3 - 6x + 1 = 0 (the middle root is the
# maximum); computed here from the polynomial, not from the code under test.
MINIMA = np.sort(np.roots([4, 0, -6, 1]))[[0, 2]]  # about -1.3008 (global) and +1.1309 (local)


def series(ax):
    """The labelled lines of an axes (matplotlib names unlabelled helper lines "_child...")."""
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def check_labelled(fig, n_axes):
    """Every figure: a title, n_axes panels, each with both axis labels and a legend."""
    assert fig._suptitle is not None and fig._suptitle.get_text()
    axes = fig.get_axes()
    assert len(axes) == n_axes
    for ax in axes:
        assert ax.get_xlabel() and ax.get_ylabel()
        legend = ax.get_legend() or (fig.legends[0] if fig.legends else None)  # or one for all
        assert legend is not None and legend.get_texts()
    return axes


@pytest.fixture
def blobs():
    return datasets.two_blobs(m=40, seed=1)


def test_breast_cancer_split_is_stratified_standardized_and_seeded():
    split = datasets.load_breast_cancer(seed=0)
    assert split.X_train.shape == (30, 456) and split.X_held.shape == (30, 113)
    assert split.Y_train.shape == (1, 456) and split.Y_held.shape == (1, 113)
    # 357 benign (label 1) of 569 in the file: each part keeps that share
    assert split.Y_train.sum() + split.Y_held.sum() == 357
    assert abs(split.Y_held.mean() - 357 / 569) < 0.01
    np.testing.assert_allclose(split.X_train.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(split.X_train.std(axis=1), 1, rtol=1e-12)
    again = datasets.load_breast_cancer(seed=0)
    np.testing.assert_array_equal(split.X_held, again.X_held)
    other = datasets.load_breast_cancer(seed=1)
    assert not np.array_equal(split.Y_held, other.Y_held) or not np.array_equal(
        split.X_held, other.X_held
    )


def test_breast_cancer_csv_has_the_documented_shape_and_classes():
    X, Y = datasets.read_breast_cancer_csv()
    assert X.shape == (30, 569) and Y.shape == (1, 569)
    assert set(np.unique(Y)) == {0.0, 1.0} and Y.sum() == 357
    assert X[0, 0] == 17.99  # the first sample's mean radius, as in the UCI file


def test_activation_functions_figure():
    fig = figures.activation_functions(points=101)
    ax_g, ax_dg = check_labelled(fig, 2)
    assert [line.get_label() for line in series(ax_g)] == ["sigmoid", "tanh", "relu"]
    assert [line.get_label() for line in series(ax_dg)] == ["sigmoid'", "tanh'", "relu'"]
    z = series(ax_dg)[0].get_xdata()
    at0 = np.argmin(np.abs(z))
    d_sigmoid, d_tanh, d_relu = (line.get_ydata() for line in series(ax_dg))
    assert d_sigmoid[at0] == pytest.approx(0.25) and d_tanh[at0] == pytest.approx(1.0)
    np.testing.assert_array_equal(d_relu, (z > 0).astype(float))
    close(fig)


def test_learning_rates_too_small_good_and_diverging():
    example = slide_examples.regression_example_init(seed=0)
    fig = figures.learning_rate_comparison(example["X"], example["Y"], [1, 4, 1],
                                           learning_rates=(0.01, 0.2, 3.0), epochs=40)
    (ax,) = check_labelled(fig, 1)
    small, good, large = (np.asarray(line.get_ydata()) for line in series(ax))
    assert small[0] == good[0] == large[0]  # one problem, one start
    assert good[-1] < small[-1] < small[0]  # both learn, the good rate further
    assert large[-1] > 1e3 * large[0] or "overflowed" in series(ax)[2].get_label()
    close(fig)


def test_gradient_descent_stops_in_the_minimum_next_to_its_start():
    fig = figures.gradient_descent_starts(starts=(-2.0, 2.0), alpha=0.01)
    ax_f, ax_k = check_labelled(fig, 2)
    curve, left, right = series(ax_f)
    assert curve.get_label() == "f(x)"
    assert left.get_xdata()[0] == -2.0 and right.get_xdata()[0] == 2.0
    assert left.get_xdata()[-1] == pytest.approx(MINIMA[0], abs=1e-3)
    assert right.get_xdata()[-1] == pytest.approx(MINIMA[1], abs=1e-3)  # stuck: local minimum
    assert "global minimum" in left.get_label() and "local minimum" in right.get_label()
    for line in series(ax_k):  # f(x_k) never rises for this small alpha
        assert np.all(np.diff(line.get_ydata()) <= 1e-12)
    close(fig)


def test_slide_regression_fit_improves():
    fig = figures.slide_regression(steps=30, snapshots=(0, 30))
    ax_fit, ax_cost = check_labelled(fig, 2)
    assert [line.get_label() for line in series(ax_fit)] == ["fit after 0 steps",
                                                             "fit after 30 steps"]
    assert len(ax_fit.collections) == 1  # the data scatter
    cost = series(ax_cost)[0].get_ydata()
    assert len(cost) == 31 and cost[-1] < 0.5 * cost[0]
    close(fig)


def test_regression_l1_resists_outliers_and_logistic_boundary_separates(blobs):
    line = datasets.line_with_outliers(m=30, n_outliers=5, seed=0)
    fig = figures.regression_comparison(line, blobs, l1_l2_iterations=1500,
                                        logistic_iterations=300)
    ax_lin, ax_log = check_labelled(fig, 2)
    true, l1, l2 = series(ax_lin)

    def slope(line2d):
        x, y = line2d.get_xdata(), line2d.get_ydata()
        return (y[1] - y[0]) / (x[1] - x[0])

    assert slope(true) == pytest.approx(2.0)
    assert abs(slope(l1) - 2.0) < 0.5 < abs(slope(l2) - 2.0)
    (boundary,) = series(ax_log)
    accuracy = int(boundary.get_label().split("accuracy ")[1].split("%")[0])
    assert accuracy >= 80
    close(fig)


def test_paths_agree_on_a_tiny_network(blobs):
    # conftest.py switches numba's CUDA simulator on without a GPU: cuda runs here, so tiny sizes
    X, Y = blobs.X_train[:, :8], blobs.Y_train[:, :8]
    fig = figures.paths_agree(X, Y, [2, 2, 1], epochs=2, batch_size=8, learning_rate=0.1)
    ax_cost, ax_diff = check_labelled(fig, 2)
    labels = [line.get_label() for line in series(ax_cost)]
    assert [label.split(":")[0] for label in labels] == ["reference", "cpu", "cuda"]
    ran = [line for line in series(ax_cost) if "not run" not in line.get_label()]
    assert ran[0].get_label().startswith("reference")
    reference = np.asarray(ran[0].get_ydata())
    assert len(reference) == 3 and reference[-1] < reference[0]
    for line in ran[1:]:  # float64 paths agree with the reference to the forward tolerance
        other = np.asarray(line.get_ydata())
        rel = np.max(np.abs(other - reference) / np.maximum(1e-8, np.abs(other) + np.abs(reference)))
        assert rel < 1e-10, line.get_label()
    *differences, tolerance = series(ax_diff)
    assert len(differences) == max(1, len(ran) - 1) and tolerance.get_ydata()[0] == 1e-10
    close(fig)


def test_real_data_training_train_and_held_out_curves():
    split = datasets.load_breast_cancer(seed=0)
    fig = figures.real_data_training(split, [30, 4, 1], epochs=3, batch_size=64)
    ax_cost, ax_acc = check_labelled(fig, 2)
    assert [line.get_label().split(" ")[0] for line in series(ax_cost)] == ["train", "held-out"]
    assert [line.get_label().split(":")[0] for line in series(ax_acc)] == ["train", "held-out"]
    for line in series(ax_cost):
        cost = line.get_ydata()
        assert len(cost) == 4 and cost[-1] < cost[0]
    for line in series(ax_acc):
        accuracy = np.asarray(line.get_ydata())
        assert np.all((0 <= accuracy) & (accuracy <= 100)) and accuracy[-1] > 80
    close(fig)


def test_figures_are_the_same_for_a_seed():
    split = datasets.load_breast_cancer(seed=2)
    first, second = (figures.real_data_training(split, [30, 2, 1], epochs=1, batch_size=128,
                                                seed=2) for _ in range(2))
    for a, b in zip(first.get_axes(), second.get_axes(), strict=True):
        for line_a, line_b in zip(series(a), series(b), strict=True):
            np.testing.assert_array_equal(line_a.get_ydata(), line_b.get_ydata())
    close(first)
    close(second)


def test_gallery_writes_only_pngs(tmp_path):
    saved = gallery.make_gallery(tmp_path, names=["6_activation_functions.png"], progress=False)
    assert saved == [tmp_path / "6_activation_functions.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["6_activation_functions.png"]
    assert saved[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="unknown figure"):
        gallery.make_gallery(tmp_path, names=["nine.png"], progress=False)


def test_gallery_lists_its_nine_figures_in_order():
    assert [name.split("_")[0] for name in gallery.FIGURES] == [str(i) for i in range(1, 10)]


def test_the_computation_graph_is_drawn_from_the_nodes_values_and_grads():
    """Figure 9: one box per node of each graph, holding the node's own value and grad, and one
    arrow per distinct (input, node) edge; inputs left of the nodes they feed."""
    from plots import graph_figure
    from reference.graph import slide_example_f, slide_example_z

    fig = graph_figure.figure()
    for ax, root in zip(fig.axes, (slide_example_f()["f"], slide_example_z()["z"]), strict=True):
        boxes = [t.get_text() for t in ax.texts if t.get_text()]
        order, position = graph_figure.layout(root)
        assert len(boxes) == len(order)
        for node in order:
            assert any(f"value {float(node.value):g}\ngrad {float(node.grad):g}" in box for box in boxes)
            for parent in node.parents:
                assert position[id(parent)][0] < position[id(node)][0]
        edges = {(id(p), id(n)) for n in order for p in n.parents}
        assert len([t for t in ax.texts if type(t).__name__ == "Annotation"]) == len(edges)
    texts = [t.get_text() for t in fig.axes[1].texts]
    assert any(t.startswith("x\nvalue 2\ngrad 13") for t in texts), "dz/dx = 13 at x = 2"
    close(fig)


def test_simulator_run_in_a_fresh_process_matches_the_reference(blobs):
    X, Y = blobs.X_train[:, :4], blobs.Y_train[:, :4]
    options = dict(learning_rate=0.1, epochs=1, batch_size=4, seed=3)
    try:
        simulated = run_in_simulator(X, Y, [2, 2, 1], **options)
    except RuntimeError as error:
        pytest.skip(str(error))  # kernels.cuda cannot run in the simulator here: say why
    reference = train_run(network, X, Y, [2, 2, 1], **options)
    assert len(simulated.cost) == 2
    assert relative_difference(simulated.cost, reference.cost).max() < 1e-10


def test_paths_agree_draws_the_simulated_panel(blobs):
    X, Y = blobs.X_train[:, :8], blobs.Y_train[:, :8]
    options = dict(learning_rate=0.1, epochs=1, batch_size=8)
    tiny_runs = {"reference": train_run(network, X, Y, [2, 2, 1], **options)}
    fig = figures.paths_agree(X, Y, [2, 2, 1], paths=("reference",), epochs=1, batch_size=8,
                              tiny={"title": "simulated", "runs": tiny_runs})
    axes = check_labelled(fig, 3)
    assert axes[2].get_title() == "simulated" and len(series(axes[2])) == 1
    close(fig)
