"""`invoke train` with good and bad options: through invoke's MockContext (fast) and once as the
real command line, asserting on the exit code and the message."""

import subprocess
import sys
from pathlib import Path

import pytest
from invoke import MockContext
from invoke.exceptions import Exit

import tasks

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
