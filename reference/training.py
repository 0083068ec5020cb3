"""Slides: "Training - Gradient Descent", "Stochastic Gradient Descent with Mini-batch",
"SGD Mini batch size implications".

    step   one update of the parameters with one mini-batch
    epoch  all the steps that together see the whole training set once

The loop is written once and takes a path's `train_step(parameters, X, Y, learning_rate, **kw)`,
so reference.network, kernels.cpu and kernels.cuda all train through it:

    batch gradient descent   batch_size = m  (one step per epoch, all samples)
    stochastic (SGD)         batch_size = 1  (m steps per epoch)
    mini-batch SGD           any batch size in between, samples shuffled every epoch
"""

import time
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from reference import checks


@dataclass
class History:
    """What a training run leaves behind.

    step_costs[k]   the cost J of step k's mini-batch, before its update
    epoch_costs[e]  the mean of epoch e's step costs
    epoch_times[e]  seconds from the start of training to the end of epoch e
    """

    step_costs: list = field(default_factory=list)
    epoch_costs: list = field(default_factory=list)
    epoch_times: list = field(default_factory=list)


def epoch_orders(m, batch_size, epochs, seed=0, shuffle=True):
    """The schedule: each epoch's order of the m columns, a fresh permutation per epoch from one
    generator seeded once (None: in their order, when shuffle is off or one batch holds all)."""
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        yield rng.permutation(m) if shuffle and batch_size < m else None


def batch_bounds(m, batch_size):
    """[(first, last)] column ranges of an epoch's batches; the last holds the m % batch_size
    leftovers."""
    return [(first, min(first + batch_size, m)) for first in range(0, m, batch_size)]


def minibatch_sgd(train_step, parameters, X, Y, learning_rate, epochs, batch_size,
                  seed=0, shuffle=True, on_epoch=None, **step_options):
    """Mini-batch SGD: each epoch, shuffle the m columns, then one train_step per batch.

    X: (n[0], m), Y: (n[L], m). batch_size=None means all m samples (batch gradient descent).
    step_options (hidden, output, cost) go to train_step unchanged. parameters are updated in
    place; returns a History.
    on_epoch(epoch, history), if given, runs after each epoch (epoch = 1, 2, ...); when it
    returns True, training stops there. Its time is not counted in history.epoch_times.
    """
    epochs, batch_size = checks.check_loop(X, Y, epochs, batch_size)
    m = X.shape[1]
    history = History()
    start = time.perf_counter()
    outside = 0.0  # seconds spent in on_epoch
    for epoch, order in enumerate(epoch_orders(m, batch_size, epochs, seed, shuffle), start=1):
        costs = []
        for first, last in batch_bounds(m, batch_size):
            if order is None:
                Xb, Yb = X[:, first:last], Y[:, first:last]
            else:
                Xb, Yb = X[:, order[first:last]], Y[:, order[first:last]]
            costs.append(train_step(parameters, np.ascontiguousarray(Xb), np.ascontiguousarray(Yb),
                                    learning_rate, **step_options))
        history.step_costs += costs
        history.epoch_costs.append(float(np.mean(costs)))
        history.epoch_times.append(time.perf_counter() - start - outside)
        if on_epoch is not None:
            paused = time.perf_counter()
            stop = on_epoch(epoch, history)
            outside += time.perf_counter() - paused
            if stop:
                break
    return history


def batch_gd(train_step, parameters, X, Y, learning_rate, epochs, threshold=None, on_epoch=None,
             **step_options):
    """Batch gradient descent: every step uses all m samples, so one step is one epoch.

    threshold: the slides' "While (COST < threshold)" loop, read as what it means, "repeat until
    the cost falls below threshold": each step computes the cost J in its forward pass, then
    back-propagates and adjusts the weights, and the loop stops after the first step whose J is
    below threshold. epochs is then a cap, so a rate that never gets there still stops.
    threshold=None runs all epochs steps.
    """
    stop = on_epoch
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, Real) or not 0 < threshold < np.inf:
            raise ValueError(f"threshold = {threshold!r}; expected a finite number > 0 (the cost J to "
                             "get below)")

        def stop(epoch, history):
            asked = on_epoch is not None and on_epoch(epoch, history)
            return asked or history.epoch_costs[-1] < threshold

    return minibatch_sgd(train_step, parameters, X, Y, learning_rate, epochs, None,
                         shuffle=False, on_epoch=stop, **step_options)


def sgd(train_step, parameters, X, Y, learning_rate, epochs, seed=0, on_epoch=None, **step_options):
    """Stochastic gradient descent: one sample per step, m steps per epoch."""
    return minibatch_sgd(train_step, parameters, X, Y, learning_rate, epochs, 1, seed=seed,
                         on_epoch=on_epoch, **step_options)
