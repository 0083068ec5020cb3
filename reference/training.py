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

import numbers
import time
from dataclasses import dataclass, field

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


def minibatch_sgd(train_step, parameters, X, Y, learning_rate, epochs, batch_size,
                  seed=0, shuffle=True, **step_options):
    """Mini-batch SGD: each epoch, shuffle the m columns, then one train_step per batch.

    X: (n[0], m), Y: (n[L], m). The last batch of an epoch holds the m % batch_size leftovers.
    batch_size=None means all m samples (batch gradient descent). step_options (hidden, output,
    cost) go to train_step unchanged. parameters are updated in
    place; returns a History.
    """
    checks.check_float_array("X", X)
    checks.check_float_array("Y", Y)
    m = X.shape[1]
    batch_size = m if batch_size is None else batch_size
    if Y.shape[1] != m:
        raise ValueError(f"Y has shape {Y.shape}; expected (n[L], {m}), one column per sample of X")
    if int(batch_size) != batch_size or not 1 <= batch_size <= m:
        raise ValueError(f"batch_size = {batch_size}; expected an integer in [1, m = {m}]")
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs = {epochs}; expected an integer >= 1")
    rng = np.random.default_rng(seed)
    history = History()
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(m) if shuffle and batch_size < m else None
        costs = []
        for first in range(0, m, batch_size):
            if order is None:
                Xb, Yb = X[:, first:first + batch_size], Y[:, first:first + batch_size]
            else:
                batch = order[first:first + batch_size]
                Xb, Yb = X[:, batch], Y[:, batch]
            costs.append(train_step(parameters, np.ascontiguousarray(Xb), np.ascontiguousarray(Yb),
                                    learning_rate, **step_options))
        history.step_costs += costs
        history.epoch_costs.append(float(np.mean(costs)))
        history.epoch_times.append(time.perf_counter() - start)
    return history


def batch_gd(train_step, parameters, X, Y, learning_rate, epochs, threshold=None, **step_options):
    """Batch gradient descent: every step uses all m samples, so one step is one epoch.

    threshold: the slides' "While (COST < threshold)" loop, read as what it means, "repeat until
    the cost falls below threshold": each step computes the cost J in its forward pass, then
    back-propagates and adjusts the weights, and the loop stops after the first step whose J is
    below threshold. epochs is then a cap, so a rate that never gets there still stops.
    threshold=None runs all epochs steps.
    """
    if threshold is None:
        return minibatch_sgd(train_step, parameters, X, Y, learning_rate, epochs, None,
                             shuffle=False, **step_options)
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0 < threshold < np.inf:
        raise ValueError(f"threshold = {threshold!r}; expected a finite number > 0 (the cost J to get below)")
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs = {epochs}; expected an integer >= 1 (the cap on steps)")
    history = History()
    start = time.perf_counter()
    for _ in range(epochs):
        step = minibatch_sgd(train_step, parameters, X, Y, learning_rate, 1, None, shuffle=False,
                             **step_options)
        history.step_costs += step.step_costs
        history.epoch_costs += step.epoch_costs
        history.epoch_times.append(time.perf_counter() - start)
        if step.epoch_costs[-1] < threshold:
            break
    return history


def sgd(train_step, parameters, X, Y, learning_rate, epochs, seed=0, **step_options):
    """Stochastic gradient descent: one sample per step, m steps per epoch."""
    return minibatch_sgd(train_step, parameters, X, Y, learning_rate, epochs, 1, seed=seed,
                         **step_options)
