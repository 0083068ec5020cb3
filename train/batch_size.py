"""The slides' batch-size claims, tested on the breast-cancer data (gallery figure 1 draws it:
plots/figures.py, batch_size_comparison).

Slides "Stochastic Gradient Descent with Mini-batch" and "SGD Mini batch size implications":
batch gradient descent is "very smooth", needs "too much memory (all dataset)"; a small mini-batch
means "more computation per epoch", "converges faster" and "can achieve a local minima (not
general overfitting)"; a larger one "converges slower" and "can achieve a better minima".

The set-up, for one seed:

- the 569 samples split 80/20 into training and held-out, as everywhere in the gallery; the
  training part split 80/20 again, into a fitting part (365 samples) and a validation part (91);
  features standardized with the fitting part's statistics;
- the 30-16-8-1 network from one start, batch sizes 1, 16, 64 and all 365 (batch gradient
  descent), each for EPOCHS epochs;
- for each batch size, the learning rate from LEARNING_RATES with the lowest validation cost after
  the last epoch (a run that overflows is out); the held-out part is never used to choose, only
  for the final cost and accuracy;
- recorded per epoch: the cost on the fitting part, the number of updates so far, the wall-clock
  training time (kernels.cpu's train_step, or the reference's where numba cannot run), and the
  held-out cost and accuracy;
- the peak memory of one step's arrays: tracemalloc's peak during one reference train_step on a
  batch of that size (NumPy reports its allocations to tracemalloc), the parameters excluded.
"""

import tracemalloc
from dataclasses import dataclass, field

import numpy as np

from kernels.paths import load_path
from reference import network
from train import datasets
from train.runs import train_run

NETWORK = [30, 16, 8, 1]
BATCH_SIZES = (1, 16, 64, None)  # None: all samples, batch gradient descent
LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
EPOCHS = 60


@dataclass
class Choice:
    """One batch size: the learning rate chosen and its run; runs of the whole grid by rate."""

    batch_size: int
    learning_rate: float
    run: object  # train.runs.Run: cost on the fitting part; held_* on the held-out part
    validation_cost: dict = field(default_factory=dict)  # learning rate -> final cost (nan: overflow)
    updates_per_epoch: int = 0
    step_bytes: int = 0


def split_indices(Y, seed=0, held_out_fraction=0.2, validation_fraction=0.2):
    """Sample indices (fitting, validation, held-out): held-out as datasets.load_breast_cancer holds
    it out, the validation part taken from the rest the same way (both stratified by class)."""
    train, held = datasets.stratified_split(Y, held_out_fraction, seed)
    fit, validation = datasets.stratified_split(Y[:, train], validation_fraction, seed)
    return train[fit], train[validation], held


def three_way_split(seed=0):
    """(fitting, validation, held-out) as (X, Y) pairs, standardized with the fitting part only."""
    X, Y = datasets.read_breast_cancer_csv()
    fit, validation, held = split_indices(Y, seed)
    mu = X[:, fit].mean(axis=1, keepdims=True)
    sigma = X[:, fit].std(axis=1, keepdims=True)
    sigma[sigma == 0] = 1.0
    return tuple((np.ascontiguousarray((X[:, part] - mu) / sigma), np.ascontiguousarray(Y[:, part]))
                 for part in (fit, validation, held))


def step_memory(batch_size, layer_dims=NETWORK, seed=0):
    """Peak bytes NumPy allocates during one reference train_step on a batch of batch_size samples
    (the batch itself, Z[l] and A[l] of every layer, the gradients and temporaries)."""
    rng = np.random.default_rng(seed)
    parameters = network.initialize_parameters(layer_dims, seed=seed)
    X = rng.standard_normal((layer_dims[0], batch_size))
    Y = (rng.random((layer_dims[-1], batch_size)) > 0.5).astype(np.float64)
    network.train_step(parameters, X.copy(), Y.copy(), 0.01)  # warm-up: imports, caches
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        network.train_step(parameters, X, Y, 0.01)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - base


def training_path():
    """kernels.cpu where it runs (the same numbers, faster: docs/performance.md), else the reference."""
    module, _ = load_path("cpu")
    return (module, "kernels.cpu") if module is not None else (network, "reference")


def study(seed=0, batch_sizes=BATCH_SIZES, learning_rates=LEARNING_RATES, epochs=EPOCHS,
          layer_dims=NETWORK, path=None, split=None):
    """[Choice per batch size] (batch size None becomes the fitting part's m)."""
    path = path or training_path()[0]
    (X, Y), validation, held = split or three_way_split(seed)
    m = X.shape[1]
    choices = []
    for batch_size in batch_sizes:
        size = m if batch_size is None else batch_size
        costs = {}
        for alpha in learning_rates:
            run = train_run(path, X, Y, layer_dims, alpha, epochs, size, seed=seed, held=validation)
            costs[alpha] = float("nan") if run.diverged else run.held_cost[-1]
        finite = {alpha: J for alpha, J in costs.items() if np.isfinite(J)}
        if not finite:
            raise RuntimeError(f"batch size {size}: every learning rate in {learning_rates} overflowed")
        best = min(finite, key=finite.get)
        run = train_run(path, X, Y, layer_dims, best, epochs, size, seed=seed, held=held)
        choices.append(Choice(size, best, run, costs, -(-m // size), step_memory(size, layer_dims)))
    return choices


def cost_rises(run):
    """Epochs after which the cost on the fitting part went up (0 for a smooth descent)."""
    return int(np.sum(np.diff(run.cost) > 0))


def summary(choices, m):
    """One line per batch size: the numbers the guide quotes."""
    lines = []
    for c in choices:
        run = c.run
        lines.append(
            f"batch {c.batch_size:>3}: alpha {c.learning_rate:<6g} cost after 1/5/{len(run.cost) - 1} epochs "
            f"{run.cost[1]:.3f}/{run.cost[5]:.3f}/{run.cost[-1]:.4f}, {cost_rises(run)} rises, "
            f"{c.updates_per_epoch * (len(run.cost) - 1)} updates, {run.seconds[-1]:.3f} s; held-out "
            f"cost {run.held_cost[-1]:.4f}, accuracy {run.held_accuracy[-1]:.1%}; "
            f"one step {c.step_bytes / 1024:.1f} KiB")
    return "\n".join(lines)


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description="The batch-size study (gallery figure 1) as numbers.")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args(argv)
    path, name = training_path()
    for seed in args.seeds:
        split = three_way_split(seed)
        print(f"seed {seed} (training: {name}; fitting part m = {split[0][0].shape[1]}, validation "
              f"{split[1][0].shape[1]}, held-out {split[2][0].shape[1]}):")
        print(summary(study(seed, path=path, split=split), split[0][0].shape[1]))


if __name__ == "__main__":
    main()
