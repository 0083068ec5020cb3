"""Device-resident mini-batch SGD: the data, the parameters and the workspace stay on the GPU.

Before the loop: X, Y, the parameters and every epoch's sample order are copied to the device
once. In the loop each step gathers its mini-batch on the device (one kernel per array), runs
kernels.cuda.step.train_step_on, and leaves its cost in a device vector. After the loop the step
costs and the parameters come back. No host <-> device copy happens inside the loop.

The schedule is reference.training's (epoch_orders, batch_bounds), so with the same seed this
loop and minibatch_sgd follow the same steps and reach the same parameters up to rounding.
"""

import time

import numpy as np
from numba import cuda

from reference import checks
from reference.training import History, batch_bounds, epoch_orders

from . import elementwise, step


def minibatch_sgd_on_device(parameters, X, Y, learning_rate, epochs, batch_size=None, seed=0,
                            shuffle=True, hidden="relu", output="sigmoid", cost="cross_entropy"):
    """Mini-batch SGD with everything on the device; parameters (host dict) are updated in place
    at the end. batch_size=None: all m samples per step (batch gradient descent). Returns a
    reference.training.History (step costs, epoch mean costs, seconds to each epoch's end)."""
    checks.check_step(parameters, X, Y, learning_rate, hidden, output, cost)
    epochs, batch_size = checks.check_loop(X, Y, epochs, batch_size)
    m = X.shape[1]
    gather = shuffle and batch_size < m
    orders = np.stack([np.arange(m) if order is None else order
                       for order in epoch_orders(m, batch_size, epochs, seed, shuffle)])
    bounds = batch_bounds(m, batch_size)
    steps_per_epoch = len(bounds)

    # everything the loop touches, copied once
    parameters_d = step.to_device(parameters)
    X_d = cuda.to_device(np.ascontiguousarray(X))
    Y_d = cuda.to_device(np.ascontiguousarray(Y, dtype=X.dtype))
    orders_d = cuda.to_device(orders.astype(np.int64))
    costs_d = cuda.device_array(epochs * steps_per_epoch, X.dtype)
    batches = {}  # batch size -> (workspace, X batch buffer, Y batch buffer)
    for size in {batch_size, m % batch_size or batch_size}:
        ws = step.Workspace(parameters_d, size, hidden, output, cost, costs=costs_d)
        batches[size] = (ws, cuda.device_array((X.shape[0], size), X.dtype),
                         cuda.device_array((Y.shape[0], size), X.dtype))

    history = History()
    start = time.perf_counter()
    k = 0  # the step's index, its cost's slot
    for epoch in range(epochs):
        for first, last in bounds:
            size = last - first
            ws, Xb, Yb = batches[size]
            if size == m and not gather:
                Xb, Yb = X_d, Y_d  # the whole set in order: no gather needed
            else:
                elementwise.gather_columns(X_d, orders_d[epoch], first, Xb)
                elementwise.gather_columns(Y_d, orders_d[epoch], first, Yb)
            step.train_step_on(ws, Xb, Yb, learning_rate, return_cost=False, cost_slot=k)
            k += 1
        cuda.synchronize()  # waits for the epoch's kernels; copies nothing
        history.epoch_times.append(time.perf_counter() - start)

    history.step_costs = [float(c) for c in costs_d.copy_to_host()]
    history.epoch_costs = [  # as the reference loop: the mean of the epoch's step costs, in float64
        float(np.mean(history.step_costs[e * steps_per_epoch:(e + 1) * steps_per_epoch]))
        for e in range(epochs)
    ]
    step.to_host(parameters_d, out=parameters)
    return history
