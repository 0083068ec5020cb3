"""Training runs that the figures draw: each records the cost on fixed data after every epoch.

The training itself is `reference.training.minibatch_sgd` with a path's `train_step` and its
schedule (one shuffle per epoch from `seed`, so a run is the same for a seed). After each epoch
(its `on_epoch` callback) the parameters are evaluated with the reference forward pass on the whole
training set (and a held-out set when given), so every path and every batch size is measured
by the same yardstick; the time of that evaluation is not counted as training time.
"""

from dataclasses import dataclass, field

import numpy as np

from kernels.paths import host_parameters
from reference import network, training
from reference.checks import NonFiniteError


@dataclass
class Run:
    """One training run. Lists have one entry per epoch, index 0 before any training.

    cost[e]          cost J on the training set after e epochs
    seconds[e]       wall-clock training time (s) after e epochs (evaluation excluded)
    held_cost[e]     cost on the held-out set (empty without one); accuracy / held_accuracy alike
    diverged         training stopped because the parameters or the cost stopped being finite
    """

    label: str
    cost: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    held_cost: list = field(default_factory=list)
    held_accuracy: list = field(default_factory=list)
    diverged: bool = False


def evaluate(parameters, X, Y, hidden="relu", output="sigmoid", cost="cross_entropy"):
    """(cost J, accuracy) of `parameters` on (X, Y) by the reference forward pass.

    Accuracy thresholds A[L] at 0.5 (a sigmoid probability, or a linear output fitted to 0/1).
    """
    params = host_parameters(parameters)
    AL, caches = network.forward(X, params, hidden, output)
    J = network.compute_cost(AL, Y, cost, logits=caches[-1].Z if cost == "cross_entropy" else None)
    return J, float(np.mean((AL > 0.5) == (Y > 0.5)))


def _finite(parameters):
    return all(np.isfinite(value).all() for value in host_parameters(parameters).values())


def train_run(path, X, Y, layer_dims, learning_rate, epochs, batch_size=None, seed=0,
              hidden="relu", output="sigmoid", cost="cross_entropy", held=None, label="",
              dtype=np.float64, on_epoch=None):
    """Train a fresh network (`initialize_parameters(layer_dims, seed)`) through `path`.

    path: a module with the network API (reference.network, kernels.cpu, kernels.cuda).
    batch_size None is batch gradient descent. held: optional (X_held, Y_held).
    on_epoch(epoch, run): called after each epoch (the progress bar of `invoke train`).
    Divergence (overflow to inf/NaN: a NonFiniteError from a path's checks, or a non-finite cost
    or parameter after an epoch) ends the run early with `run.diverged = True` instead of raising.
    """
    options = {"hidden": hidden, "output": output, "cost": cost}
    parameters = path.initialize_parameters(layer_dims, seed=seed, dtype=dtype)
    run = Run(label)

    def record(seconds):
        J, acc = evaluate(parameters, X, Y, **options)
        J_held, acc_held = evaluate(parameters, *held, **options) if held is not None else (0, 0)
        run.cost.append(J)
        run.accuracy.append(acc)
        run.seconds.append(seconds)
        if held is not None:
            run.held_cost.append(J_held)
            run.held_accuracy.append(acc_held)

    record(0.0)

    def after_epoch(epoch, history):
        if not (_finite(parameters) and np.isfinite(history.epoch_costs[-1])):
            run.diverged = True  # the cost overflowed: the next step's checks would refuse
            return True
        record(history.epoch_times[-1])
        if on_epoch is not None:
            on_epoch(epoch, run)
        return False

    with np.errstate(over="ignore", invalid="ignore"):
        try:
            training.minibatch_sgd(path.train_step, parameters, X, Y, learning_rate, epochs,
                                   batch_size, seed=seed, on_epoch=after_epoch, **options)
        except NonFiniteError:  # a step's parameters or batch overflowed to inf/NaN
            run.diverged = True
    return run
