"""Slides: "Loss Function" (L1, L2) and "Forward Propagation - Cost Function" (cross-entropy).

Shapes: Y_hat (or AL) and Y are (n, m), one sample per column. Each loss takes the prediction
first and the target second, as torch's do, and sits beside its gradient with respect to the
prediction, derived in a line.
"""

import numpy as np

# torch.nn.functional.binary_cross_entropy clamps each log at -100 so that a prediction of
# exactly 0 or 1 gives a finite cost; cross_entropy() below does the same.
LOG_FLOOR = -100.0


def l1_loss(Y_hat, Y):
    """L = sum_i |y_i - f(x_i)|.    Y_hat, Y: (n, m) -> scalar."""
    return np.abs(Y - Y_hat).sum()


def l1_loss_backward(Y_hat, Y):
    """dL/dY_hat = -sign(y - y_hat) = sign(y_hat - y) (0 where they are equal, as torch)."""
    return np.sign(Y_hat - Y)


def l2_loss(Y_hat, Y):
    """L = sum_i (y_i - f(x_i))^2.    Y_hat, Y: (n, m) -> scalar."""
    return np.square(Y - Y_hat).sum()


def l2_loss_backward(Y_hat, Y):
    """dL/dY_hat = 2 (y_hat - y)."""
    return 2 * (Y_hat - Y)


def mse(Y_hat, Y):
    """Mean squared error: (1/N) sum (y - y_hat)^2 over all N = n*m entries (torch's MSELoss)."""
    return np.square(Y - Y_hat).mean()


def mse_backward(Y_hat, Y):
    """dJ/dY_hat = 2 (y_hat - y) / N."""
    return 2 * (Y_hat - Y) / Y.size


def cross_entropy(AL, Y):
    """J = -(1/m) sum_i [ y log a + (1 - y) log(1 - a) ].    AL, Y: (n[L], m) -> scalar.

    The mean is over all n[L]*m entries (with one output unit, n[L] = 1, that is the slides' 1/m;
    with several it is torch's binary_cross_entropy with reduction='mean'). Each log is clamped
    at LOG_FLOOR as torch does, so AL exactly 0 or 1 still gives a finite cost; the network
    computes the cost from the logits instead (cross_entropy_from_logits), which needs no clamp.
    """
    log_a = np.maximum(np.log(AL, where=AL > 0, out=np.full_like(AL, -np.inf)), LOG_FLOOR)
    log_1ma = np.maximum(np.log1p(-AL, where=AL < 1, out=np.full_like(AL, -np.inf)), LOG_FLOOR)
    return -(Y * log_a + (1 - Y) * log_1ma).mean()


def cross_entropy_from_logits(Z, Y):
    """The same J with a = sigmoid(z), computed from the logits Z = Z[L] without overflow.

    log a = log sigmoid(z) = -log(1 + e^-z) and log(1 - a) = log sigmoid(-z) = -z - log(1 + e^-z), so
        -[y log a + (1 - y) log(1 - a)] = (1 - y) z + log(1 + e^-z) = max(z, 0) - z y + log(1 + e^-|z|),
    the last form rewriting log(1 + e^-z) = max(-z, 0) + log(1 + e^-|z|) so no exp() overflows.
    This is torch's binary_cross_entropy_with_logits.    Z, Y: (n[L], m) -> scalar.
    """
    return (np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))).mean()


def cross_entropy_backward(AL, Y):
    """dJ/dAL = (1/N) [ -y/a + (1 - y)/(1 - a) ] = (a - y) / (a (1 - a) N).

    Only for reading: through a sigmoid output this meets sigmoid' = a (1 - a), and the network
    uses their product, dZ[L] (output_gradient), which never divides by a (1 - a).
    """
    return (AL - Y) / (AL * (1 - AL) * Y.size)
