"""The same train_step in torch eager (CPU or CUDA): what the network costs in a framework.

Same network, activations, cost and update as reference.network.train_step, written the way a
torch user would: forward with tensors, the cost from the logits, autograd for the gradients, then
plain SGD. parameters is {"W1": tensor (n[1], n[0]), "b1": (n[1], 1), ...} with requires_grad;
X, Y are tensors already on the parameters' device, or NumPy arrays (as minibatch_sgd hands them
over), which the step moves there, as a training loop over host data must do.
"""

import torch
import torch.nn.functional as F

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
               "linear": lambda Z: Z}


def to_torch(parameters, device="cpu"):
    """NumPy parameters -> leaf tensors on `device` that autograd tracks (copies, same dtype)."""
    return {k: torch.tensor(v, device=device, requires_grad=True) for k, v in parameters.items()}


def to_numpy(parameters):
    return {k: v.detach().cpu().numpy() for k, v in parameters.items()}


def step_on_device(parameters, X, Y, learning_rate, hidden="relu", output="sigmoid",
                   cost="cross_entropy"):
    """train_step without waiting: returns the cost as a 0-d tensor (detached)."""
    device = parameters["W1"].device
    A = (X if isinstance(X, torch.Tensor) else torch.from_numpy(X)).to(device)  # no-op if there
    Y = (Y if isinstance(Y, torch.Tensor) else torch.from_numpy(Y)).to(device)
    L = len(parameters) // 2
    for l in range(1, L + 1):
        Z = parameters[f"W{l}"] @ A + parameters[f"b{l}"]
        A = ACTIVATIONS[hidden if l < L else output](Z)
    if cost == "cross_entropy":  # from the logits Z[L], as reference.network.train_step does
        J = F.binary_cross_entropy_with_logits(Z, Y)
    else:
        J = F.mse_loss(A, Y)
    tensors = list(parameters.values())
    grads = torch.autograd.grad(J, tensors)
    with torch.no_grad():
        for p, g in zip(tensors, grads, strict=True):
            p.sub_(learning_rate * g)
    return J.detach()


def train_step(parameters, X, Y, learning_rate, hidden="relu", output="sigmoid",
               cost="cross_entropy"):
    """Forward, cost, autograd backward, SGD update in place; returns the cost before the update
    (`.item()`, which also waits for a GPU to finish the step)."""
    return step_on_device(parameters, X, Y, learning_rate, hidden, output, cost).item()


def minibatch_epoch(parameters, X, Y, learning_rate, batch_size, order, hidden="relu",
                    output="sigmoid", cost="cross_entropy"):
    """One epoch of mini-batch SGD on tensors X, Y already on the parameters' device, batches
    order[first:first + batch_size] (order: a NumPy permutation, or None for 0..m-1), as
    reference.training.minibatch_sgd schedules them; nothing waits for the device inside.
    Returns the step costs as a tensor on the device."""
    m = X.shape[1]
    batch_size = m if batch_size is None else batch_size
    columns = None if order is None else torch.from_numpy(order).to(X.device)
    costs = []
    for first in range(0, m, batch_size):
        if columns is None:
            Xb, Yb = X[:, first:first + batch_size], Y[:, first:first + batch_size]
        else:
            batch = columns[first:first + batch_size]
            Xb, Yb = X.index_select(1, batch), Y.index_select(1, batch)
        costs.append(step_on_device(parameters, Xb, Yb, learning_rate, hidden, output, cost))
    return torch.stack(costs)
