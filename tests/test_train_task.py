"""`invoke train` with good and bad options: through invoke's MockContext (fast) and once as the
real command line, asserting on the exit code and the message."""

import inspect
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from invoke import MockContext
from invoke.exceptions import Exit

import tasks
from train import datasets

ROOT = Path(__file__).resolve().parent.parent
INVOKE = [sys.executable, "-m", "invoke"]


def test_train_good_options_print_cost_accuracy_and_write_the_plot(tmp_path, capsys):
    plot = tmp_path / "run.png"
    tasks.train(MockContext(), data="blobs", layers="2,4,1", epochs=3, batch_size=16,
                learning_rate=0.1, plot=str(plot))
    out = capsys.readouterr().out
    assert "final cost (cross_entropy): train" in out
    assert "final accuracy: train" in out and "held-out" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_run_cost_falls_on_the_real_data(tmp_path):
    from train.cli import train

    run, _ = train(epochs=3, layers="30,8,1", plot=str(tmp_path / "p.png"), progress=False)
    assert len(run.cost) == 4 and run.cost[-1] < run.cost[0]
    assert run.held_accuracy[-1] > 0.8


@pytest.mark.parametrize(
    "options, message",
    [
        ({"path": "gpu"}, "--path 'gpu': expected one of reference, cpu, cuda"),
        ({"layers": "30,x,1"}, "--layers '30,x,1': expected comma-separated integers"),
        ({"layers": "30"}, "layer_dims [30] has 1 entries"),
        ({"layers": "2,4,1"}, "n[0] = 30 features"),
        ({"hidden": "gelu"}, "unknown hidden activation 'gelu'"),
        ({"output": "linear"}, "cost 'cross_entropy' needs output='sigmoid'"),
        ({"cost": "hinge"}, "unknown cost 'hinge'"),
        ({"batch_size": 10_000}, "--batch-size 10000: expected 1..456"),
        ({"epochs": 0}, "--epochs 0: expected an integer >= 1"),
        ({"learning_rate": -0.1}, "learning_rate = -0.1; expected a finite number > 0"),
        ({"data": "mnist"}, "--data 'mnist': expected one of breast_cancer"),
    ],
)
def test_train_bad_options_exit_with_a_clear_message(options, message, tmp_path):
    with pytest.raises(Exit) as raised:
        tasks.train(MockContext(), plot=str(tmp_path / "never.png"), **options)
    assert raised.value.code == 2
    assert message in raised.value.message
    assert not (tmp_path / "never.png").exists()


def test_invoke_train_command_line(tmp_path):
    plot = tmp_path / "cli.png"
    good = subprocess.run(
        INVOKE + ["train", "--data", "rings", "--layers", "2,8,1", "--epochs", "2",
                  "--plot", str(plot)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert good.returncode == 0, good.stderr
    assert "final accuracy" in good.stdout and plot.exists()
    assert "epoch" in good.stderr  # the tqdm bar

    bad = subprocess.run(INVOKE + ["train", "--hidden", "softmax"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "invoke train: unknown hidden activation 'softmax'" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("option, value, message", [
    ("--epochs", "abc", "expected a whole number, got 'abc'"),
    ("--learning-rate", "fast", "expected a number, got 'fast'"),
])
def test_invoke_train_non_numbers_get_a_message_not_a_traceback(option, value, message):
    bad = subprocess.run(INVOKE + ["train", option, value], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0
    assert message in bad.stderr
    assert "Traceback" not in bad.stderr


# ---------------------------------------------------------------------------------------------
# What `invoke train` prints and how it reads its options (the mutants of train/cli.py that
# the tests above let through: docs/mutants.md).


def test_the_function_behind_the_task_has_the_tasks_defaults():
    """train.cli.train is what `invoke train` runs; called from Python it must train the same
    network with the same options (one default per option, in one place each)."""
    from train import cli

    ours = inspect.signature(cli.train).parameters
    for name, parameter in inspect.signature(tasks.train.body).parameters.items():
        if name != "c":
            assert ours[name].default == parameter.default, name
    assert ours["progress"].default is True  # the task shows its progress bar


# Every option of the task, most of them set to another value than the default (the default
# layers fit only breast_cancer's 30 features; the default cost needs the default output, sigmoid).
OPTIONS = dict(path="reference", layers="30,4,1", hidden="tanh", output="sigmoid", cost="mse",
               batch_size=0, epochs=2, learning_rate=0.01, seed=3, data="breast_cancer")


@pytest.mark.parametrize("left_out", [name for name in inspect.signature(tasks.train.body).parameters
                                      if name != "c"])
def test_the_function_called_without_an_option_runs_as_the_task_without_it(left_out, monkeypatch,
                                                                             tmp_path, capsys):
    """The signature test above reads the defaults; this one calls train.cli.train from Python
    with one option left out and compares what it prints with what `invoke train` prints."""
    from train import cli

    monkeypatch.setattr(cli, "save_figure", lambda fig, path: plt.close(fig))  # no PNG needed
    options = dict(OPTIONS, plot=str(tmp_path / "p.png"))
    del options[left_out]
    tasks.train(MockContext(), **options)
    by_task = capsys.readouterr().out
    cli.train(**options)
    assert capsys.readouterr().out == by_task
    assert by_task.count("\n") == 3, by_task  # cost, accuracy, plot file: it trained


def test_check_options_without_a_seed_splits_as_the_tasks_default_seed():
    from train import cli

    seed = inspect.signature(tasks.train.body).parameters["seed"].default
    *_, split = cli.check_options("reference", "2,4,1", "relu", "sigmoid", "cross_entropy", 16, 3,
                                  0.1, "blobs")
    for ours, expected in zip(split[:4], datasets.DATASETS["blobs"](seed=seed)[:4], strict=True):
        np.testing.assert_array_equal(ours, expected)


def test_the_hidden_activation_is_the_one_the_network_trains_with(tmp_path):
    from train import cli
    from train.runs import train_run

    split = datasets.DATASETS["blobs"](seed=0)

    def costs(hidden):
        """The costs of `invoke train --hidden HIDDEN` and of the same run made directly."""
        run, _ = cli.train(data="blobs", layers="2,4,1", hidden=hidden, epochs=2, batch_size=16,
                           learning_rate=0.1, plot=str(tmp_path / "p.png"), progress=False)
        alone = train_run(reference_path(), split.X_train, split.Y_train, [2, 4, 1], 0.1, 2, 16,
                          hidden=hidden, held=(split.X_held, split.Y_held))
        return run.cost, alone.cost

    (tanh, tanh_alone), (relu, relu_alone) = costs("tanh"), costs("relu")
    assert tanh == tanh_alone and relu == relu_alone
    assert tanh != relu  # the two activations train differently


def test_no_progress_bar_with_progress_false(tmp_path, capsys):
    from train import cli

    cli.train(data="blobs", layers="2,4,1", epochs=2, plot=str(tmp_path / "p.png"), progress=False)
    out, err = capsys.readouterr()
    assert "final cost" in out
    assert "epoch" not in err and "train reference" not in err, err


def run_blobs(capsys, **options):
    """invoke train on the blobs (2 features), 3 epochs unless given: (stdout, stderr)."""
    options = dict(dict(data="blobs", layers="2,4,1", epochs=3, batch_size=16, learning_rate=0.1),
                   **options)
    tasks.train(MockContext(), **options)
    return capsys.readouterr()


def test_the_bar_and_the_final_lines_show_the_runs_last_numbers(tmp_path, capsys):
    from train.runs import train_run

    out, err = run_blobs(capsys, plot=str(tmp_path / "p.png"), seed=3)
    split = datasets.DATASETS["blobs"](seed=3)
    run = train_run(reference_path(), split.X_train, split.Y_train, [2, 4, 1], 0.1, 3, 16, seed=3,
                    held=(split.X_held, split.Y_held))
    m_train, m_held = split.X_train.shape[1], split.X_held.shape[1]
    assert (f"final cost (cross_entropy): train {run.cost[-1]:.6g}, held-out {run.held_cost[-1]:.6g}"
            in out)
    assert (f"final accuracy: train {run.accuracy[-1]:.2%} (m = {m_train}), held-out "
            f"{run.held_accuracy[-1]:.2%} (m = {m_held})") in out
    last = err.strip().splitlines()[-1].split("\r")[-1]
    assert last.startswith("train reference 2-4-1: 100%") and " 3/3 " in last, last
    assert "epoch/s" in last or "s/epoch" in last, last
    assert f"cost={run.cost[-1]:.4g}, held_cost={run.held_cost[-1]:.4g}" in last, last


def reference_path():
    from reference import network

    return network


def test_the_seed_chooses_the_split_and_the_start(tmp_path, capsys):
    first = run_blobs(capsys, plot=str(tmp_path / "a.png"), seed=5).out
    again = run_blobs(capsys, plot=str(tmp_path / "b.png"), seed=5).out
    other = run_blobs(capsys, plot=str(tmp_path / "c.png"), seed=6).out
    numbers = [out.split("convergence plot")[0] for out in (first, again, other)]
    assert numbers[0] == numbers[1] and numbers[0] != numbers[2]


@pytest.mark.parametrize("option, value", [("epochs", 1), ("batch_size", 0), ("batch_size", "m")])
def test_the_smallest_and_largest_options_that_train(option, value, tmp_path, capsys):
    """One epoch; batch size 0 (every training sample: batch gradient descent) and m itself."""
    if value == "m":
        value = datasets.DATASETS["blobs"]().X_train.shape[1]
    out = run_blobs(capsys, plot=str(tmp_path / "p.png"), **{option: value}).out
    assert "final cost" in out


def test_one_more_than_the_training_samples_is_refused(tmp_path):
    m = datasets.DATASETS["blobs"]().X_train.shape[1]
    with pytest.raises(Exit) as raised:
        tasks.train(MockContext(), data="blobs", layers="2,4,1", batch_size=m + 1)
    assert raised.value.message == (
        f"invoke train: --batch-size {m + 1}: expected 1..{m} (the training samples of 'blobs'), "
        "or 0 for all of them (batch gradient descent)")


def test_an_unknown_output_activation_and_a_path_that_cannot_run(monkeypatch):
    from train import cli

    with pytest.raises(cli.OptionError, match=r"^unknown output activation 'softmax'; expected one of"):
        cli.check_options("reference", "2,4,1", "relu", "softmax", "mse", 16, 3, 0.1, "blobs")
    monkeypatch.setattr(cli, "load_path", lambda name: (None, "no GPU here"))
    with pytest.raises(cli.OptionError, match=r"^--path cuda cannot run: no GPU here$"):
        cli.check_options("cuda", "2,4,1", "relu", "sigmoid", "cross_entropy", 16, 3, 0.1, "blobs")


def test_a_diverging_run_says_after_how_many_epochs(tmp_path, capsys):
    from train.runs import train_run

    options = dict(data="blobs", layers="2,16,1", output="linear", cost="mse", learning_rate=50.0,
                   epochs=40, batch_size=16)
    out = run_blobs(capsys, plot=str(tmp_path / "p.png"), **options).out
    split = datasets.DATASETS["blobs"](seed=0)
    run = train_run(reference_path(), split.X_train, split.Y_train, [2, 16, 1], 50.0, 40, 16,
                    output="linear", cost="mse", held=(split.X_held, split.Y_held))
    assert run.diverged
    assert (f"training diverged (overflow) after {len(run.cost) - 1} of 40 epochs: try a smaller "
            "--learning-rate than 50.0") in out
