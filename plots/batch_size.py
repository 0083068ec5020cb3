"""The slides' batch-size claims, tested on the breast-cancer data (gallery figure 1).

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
from plots import datasets
from plots.experiments import train_run
from reference import network

NETWORK = [30, 16, 8, 1]
BATCH_SIZES = (1, 16, 64, None)  # None: all samples, batch gradient descent
LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
EPOCHS = 60


@dataclass
class Choice:
    """One batch size: the learning rate chosen and its run; runs of the whole grid by rate."""

    batch_size: int
    learning_rate: float
    run: object  # plots.experiments.Run: cost on the fitting part; held_* on the held-out part
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
    """kernels.cpu where it runs (the same numbers, about 15x faster per small step), else the reference."""
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


def _label(choice, m):
    kind = ("SGD" if choice.batch_size == 1 else "batch GD" if choice.batch_size == m
            else "mini-batch")
    return f"batch {choice.batch_size} ({kind}), alpha {choice.learning_rate:g}"


def cost_rises(run):
    """Epochs after which the cost on the fitting part went up (0 for a smooth descent)."""
    return int(np.sum(np.diff(run.cost) > 0))


def figure(choices, m, epochs=EPOCHS, layer_dims=NETWORK, path_name="kernels.cpu"):
    """Figure 1: the study's cost against epochs, updates and seconds; the learning-rate choice;
    held-out cost and accuracy at the end; the memory of one step, per batch size."""
    from plots.figures import COST_LABELS
    from plots.style import new_figure

    dims = "-".join(map(str, layer_dims))
    fig, axes = new_figure(3, 2, title=(
        f"Batch size on the breast-cancer data: network {dims}, {epochs} epochs on {m} samples, "
        f"alpha chosen per batch size on a validation split, held-out samples kept for the end"))
    ax_epoch, ax_update, ax_time, ax_alpha, ax_held, ax_memory = axes
    for choice in choices:
        run, label = choice.run, _label(choice, m)
        epoch_axis = np.arange(len(run.cost))
        (line,) = ax_epoch.plot(epoch_axis, run.cost, label=f"{label}: {cost_rises(run)} rises")
        color = line.get_color()
        ax_update.plot(np.maximum(epoch_axis * choice.updates_per_epoch, 1), run.cost, color=color,
                       label=f"{label}: {choice.updates_per_epoch} per epoch")
        ax_time.plot(run.seconds[1:], run.cost[1:], ".-", ms=3, color=color,
                     label=f"{label}: {run.seconds[-1]:.3g} s")
        rates = sorted(choice.validation_cost)
        ax_alpha.plot(rates, [choice.validation_cost[a] for a in rates], "o-", ms=3, color=color,
                      label=f"batch {choice.batch_size}: chosen alpha {choice.learning_rate:g}")
        ax_alpha.plot(choice.learning_rate, choice.validation_cost[choice.learning_rate], "*", ms=14,
                      color=color, mec="k")
    ylabel = COST_LABELS["cross_entropy"] + ", fitting part"
    ax_epoch.set(title="cost after each epoch (rises: epochs the cost went up)",
                 xlabel="epoch (passes over the fitting part)", ylabel=ylabel, yscale="log")
    ax_update.set(title="the same costs against updates", xlabel="updates of W, b (log scale)",
                  ylabel=ylabel, xscale="log", yscale="log")
    ax_time.set(title=f"against wall-clock time ({path_name} train_step)",
                xlabel="training time (s, log scale)", ylabel=ylabel, xscale="log", yscale="log")
    ax_alpha.set(title=f"choosing alpha: validation cost after {epochs} epochs",
                 xlabel="learning rate alpha (log scale)", ylabel="cost J on the validation part",
                 xscale="log", yscale="log")
    x = np.arange(len(choices))
    fit_costs = [choice.run.cost[-1] for choice in choices]
    held_costs = [choice.run.held_cost[-1] for choice in choices]
    ax_held.bar(x - 0.2, fit_costs, 0.4, color="0.7", label="fitting part (trained on)")
    bars = ax_held.bar(x + 0.2, held_costs, 0.4, color="tab:blue", label="held-out part")
    ax_held.bar_label(bars, labels=[f"{choice.run.held_accuracy[-1]:.1%}" for choice in choices],
                      fontsize=7)
    ax_held.set_xticks(x, [str(choice.batch_size) for choice in choices])
    ax_held.set_ylim(0, 1.35 * max(fit_costs + held_costs))  # room for the legend above the bars
    ax_held.set(title="after the last epoch (held-out accuracy above the bars)",
                xlabel="batch size", ylabel="cost J (cross-entropy, unitless)")
    sizes = [choice.batch_size for choice in choices]
    kib = [choice.step_bytes / 1024 for choice in choices]
    ax_memory.plot(sizes, kib, "o-", color="k", label="peak of one reference train_step")
    for size, value in zip(sizes, kib, strict=True):
        ax_memory.annotate(f"{value:.3g} KiB", (size, value), textcoords="offset points",
                           xytext=(-8, 8), fontsize=7)
    ax_memory.margins(0.15)
    ax_memory.set(title="memory of one step's arrays (tracemalloc)", xlabel="batch size (log scale)",
                  ylabel="peak allocation (KiB)", xscale="log", yscale="log")
    for ax in axes:
        ax.legend(fontsize="x-small")
    return fig


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
