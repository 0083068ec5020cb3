"""What `invoke train` draws and where it writes it: the convergence plot's title and legend read
back from the matplotlib Figure, the default file under plots/runs/, and the line that names it.

The other train tests let the figure be drawn and saved without looking at it (docs/mutants.md,
group train); here `save_figure` is replaced by one that keeps the Figure to read.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from invoke import MockContext

import tasks
from train import cli, datasets

ROOT = Path(__file__).resolve().parent.parent
BLOBS = dict(data="blobs", layers="2,4,1", epochs=2, batch_size=16, learning_rate=0.1)


@pytest.fixture
def drawn(monkeypatch):
    """The figures `invoke train` saves, as [(figure, path)], instead of PNG files."""
    saved = []
    monkeypatch.setattr(cli, "save_figure", lambda fig, path: saved.append((fig, Path(path))))
    yield saved
    for fig, _ in saved:
        plt.close(fig)


def cost_axis(fig):
    [ax] = [ax for ax in fig.axes if ax.get_title() == "cost"]
    return ax


def legend(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


@pytest.mark.parametrize("batch_size", [16, 0])
def test_the_title_names_the_data_the_network_and_every_option(drawn, tmp_path, batch_size):
    """Batch size 0 means every training sample; the title says how many that is."""
    tasks.train(MockContext(), **dict(BLOBS, batch_size=batch_size, seed=3, hidden="tanh",
                                       plot=str(tmp_path / "p.png")))
    [(fig, _)] = drawn
    title = fig.get_suptitle()
    m_train = datasets.DATASETS["blobs"](seed=3).X_train.shape[1]
    for words in ["invoke train", "blobs", "network 2-4-1 (tanh/sigmoid)", "path reference",
                  f"batch size {batch_size or m_train},", "learning rate 0.1", "seed 3"]:
        assert words in title, (words, title)


def test_the_cost_legend_gives_the_sizes_of_the_two_parts(drawn, tmp_path):
    tasks.train(MockContext(), **BLOBS, plot=str(tmp_path / "p.png"))
    [(fig, _)] = drawn
    split = datasets.DATASETS["blobs"](seed=0)
    m_train, m_held = split.X_train.shape[1], split.X_held.shape[1]
    assert m_train != m_held
    ax_cost = cost_axis(fig)
    train_label, held_label = legend(ax_cost)
    assert train_label.startswith(f"train (m = {m_train}): final "), train_label
    assert held_label.startswith(f"held-out (m = {m_held}): final "), held_label


@pytest.mark.parametrize("output, cost, unit", [("sigmoid", "cross_entropy", "cross-entropy"),
                                                ("linear", "mse", "MSE")])
def test_the_cost_axis_names_the_cost_that_was_trained(drawn, tmp_path, output, cost, unit):
    tasks.train(MockContext(), **BLOBS, output=output, cost=cost, plot=str(tmp_path / "p.png"))
    [(fig, _)] = drawn
    ax_cost = cost_axis(fig)
    assert unit in ax_cost.get_ylabel()


def test_without_plot_the_file_is_plots_runs_train_data_path_png(monkeypatch, tmp_path, capsys):
    """tasks.py's help: default plots/runs/train_<data>_<path>.png, <data> the CSV file's name
    without .csv. RUNS_DIR is pointed at tmp_path so the test leaves the project's folder as it was."""
    assert cli.RUNS_DIR == ROOT / "plots" / "runs"
    monkeypatch.setattr(cli, "RUNS_DIR", tmp_path / "runs")
    monkeypatch.chdir(tmp_path)  # where a plot written anywhere else would land
    csv_file = tmp_path / "my points.csv"
    csv_file.write_text("".join(f"{x},{-x},{int(x > 0)}\n" for x in range(-5, 5)))
    for options, name in [(BLOBS, "train_blobs_reference.png"),
                          (dict(BLOBS, data=str(csv_file), batch_size=4),
                           "train_my points_reference.png")]:
        tasks.train(MockContext(), **options)
        written = tmp_path / "runs" / name
        assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        out = capsys.readouterr().out
        assert out.splitlines()[-1] == f"convergence plot written to {written.resolve()}"


def test_the_last_line_names_the_plot_file_given(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, plot = cli.train(**BLOBS, plot="sub/run.png", progress=False)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    written = tmp_path / "sub" / "run.png"
    assert capsys.readouterr().out.splitlines()[-1] == f"convergence plot written to {written}"
