"""The body of `invoke train`: check the options, train through one path, report, plot.

invoke parses the command line (tasks.py declares the typed options); this module checks what
the values mean and raises `OptionError` with a message naming the option, its value and what
is expected, which the task turns into a clean exit.
"""

from pathlib import Path

from tqdm import tqdm

from kernels.paths import PATHS, load_path
from plots import figures
from plots.style import save_figure
from reference import checks
from train import datasets
from train.csv_data import CsvError, load_csv
from train.runs import train_run

RUNS_DIR = Path(__file__).resolve().parent.parent / "plots" / "runs"  # invoke train's plots


class OptionError(ValueError):
    """An `invoke train` option with a value that cannot be used; the message says why."""


def parse_layers(layers):
    """"30,16,8,1" -> [30, 16, 8, 1] (n[0], ..., n[L])."""
    try:
        dims = [int(part) for part in layers.split(",")]
    except ValueError:
        raise OptionError(
            f"--layers {layers!r}: expected comma-separated integers n[0],...,n[L], e.g. 30,16,8,1"
        ) from None
    try:
        return checks.check_layer_dims(dims)
    except ValueError as error:
        raise OptionError(f"--layers {layers!r}: {error}") from None


def check_options(path, layers, hidden, output, cost, batch_size, epochs, learning_rate, data,
                  seed=0):
    """Everything that can be checked before training; returns (path module, layer dims, split).

    The activation, cost and learning-rate checks are reference.checks', so the messages are
    the ones the network API itself gives.
    """
    if path not in PATHS:
        raise OptionError(f"--path {path!r}: expected one of {', '.join(PATHS)}")
    csv_file = data not in datasets.DATASETS and data.lower().endswith(".csv")
    if data not in datasets.DATASETS and not csv_file:
        raise OptionError(f"--data {data!r}: expected one of {', '.join(datasets.DATASETS)}, "
                          "or a file PATH.csv")
    dims = parse_layers(layers)
    try:
        checks.check_activation(hidden, checks.HIDDEN_ACTIVATIONS, "hidden")
        checks.check_activation(output, checks.OUTPUT_ACTIVATIONS, "output")
        checks.check_cost_name(cost, output)
        checks.check_learning_rate(learning_rate)
    except ValueError as error:
        raise OptionError(str(error)) from None
    if epochs < 1:
        raise OptionError(f"--epochs {epochs}: expected an integer >= 1")
    try:  # the train/held-out split follows the seed
        split = load_csv(data, seed=seed) if csv_file else datasets.DATASETS[data](seed=seed)
    except CsvError as error:
        raise OptionError(str(error)) from None
    n0, m = split.X_train.shape
    if dims[0] != n0 or dims[-1] != 1:
        raise OptionError(
            f"--layers {layers!r}: data set {data!r} has n[0] = {n0} features and one label per "
            f"sample, so the layers must start with {n0} and end with 1 (e.g. {n0},16,8,1)"
        )
    if not 0 <= batch_size <= m:
        raise OptionError(
            f"--batch-size {batch_size}: expected 1..{m} (the training samples of {data!r}), "
            "or 0 for all of them (batch gradient descent)"
        )
    module, reason = load_path(path)
    if module is None:
        raise OptionError(f"--path {path} cannot run: {reason}")
    return module, dims, split


def train(path="reference", layers="30,16,8,1", hidden="relu", output="sigmoid",
          cost="cross_entropy", batch_size=32, epochs=100, learning_rate=0.05, seed=0,
          data="breast_cancer", plot="", progress=True):
    """Train a fresh network, print its final cost and accuracy, save its convergence plot.

    Returns (run, plot path). Raises OptionError for an option that cannot be used.
    """
    module, dims, split = check_options(path, layers, hidden, output, cost, batch_size, epochs,
                                        learning_rate, data, seed)
    m_train, m_held = split.X_train.shape[1], split.X_held.shape[1]
    bar = tqdm(total=epochs, desc=f"train {path} {'-'.join(map(str, dims))}", unit="epoch",
               disable=not progress)

    def on_epoch(epoch, run):
        bar.update(1)
        bar.set_postfix(cost=f"{run.cost[-1]:.4g}", held_cost=f"{run.held_cost[-1]:.4g}")

    try:
        run = train_run(module, split.X_train, split.Y_train, dims, learning_rate, epochs,
                        batch_size or None, seed=seed, hidden=hidden, output=output, cost=cost,
                        held=(split.X_held, split.Y_held), on_epoch=on_epoch)
    finally:
        bar.close()
    epochs_done = len(run.cost) - 1
    if run.diverged:
        print(f"training diverged (overflow) after {epochs_done} of {epochs} epochs: "
              f"try a smaller --learning-rate than {learning_rate}")
    print(f"final cost ({cost}): train {run.cost[-1]:.6g}, held-out {run.held_cost[-1]:.6g}")
    print(f"final accuracy: train {run.accuracy[-1]:.2%} (m = {m_train}), "
          f"held-out {run.held_accuracy[-1]:.2%} (m = {m_held})")
    plot = Path(plot) if plot else RUNS_DIR / f"train_{split.name}_{path}.png"
    title = (f"invoke train: {data}, network {'-'.join(map(str, dims))} ({hidden}/{output}), "
             f"path {path}, batch size {batch_size or m_train}, learning rate {learning_rate}, "
             f"seed {seed}")
    save_figure(figures.training_curves(run, title, m_train, m_held, cost), plot)
    print(f"convergence plot written to {plot.resolve()}")
    return run, plot
