"""Slides: "Neuron's Activation Functions" (threshold functions) and their derivatives.

Each activation g comes with its derivative g' and its backward, micrograd-style, one under the
other; the backward applies the chain rule elementwise,

    dZ = dA * g'(Z)          dA, Z, dZ: (n[l], m)

The backward checks its inputs (reference/checks.py); g and g' are the plain math, which the
network calls after checking its own inputs.

All functions keep the input's dtype (float32 or float64) and are written so that no exp()
overflows: sigmoid and tanh stay finite and NaN-free for |z| up to 1e4 (and beyond).
"""

import numpy as np

from reference.checks import check_activation_backward


def sigmoid(Z):
    """A = 1 / (1 + e^(-Z)), elementwise.    Z: (n, m) -> A: (n, m), values in [0, 1].

    For z below about -709 (float64; -88 in float32) e^(-z) overflows, so for z < 0 we use the equal
    form e^z / (1 + e^z): with t = e^(-|z|) in (0, 1], sigmoid(z) = 1/(1+t) for z >= 0 and t/(1+t)
    for z < 0.
    """
    t = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1 / (1 + t), t / (1 + t)).astype(Z.dtype, copy=False)


def sigmoid_prime(Z):
    """sigmoid'(Z), elementwise.    Z: (n, m) -> (n, m), Z's dtype.

    Start from A = 1 / (1 + e^-z) and differentiate with respect to z.

    Derivation:
        dA/dz = e^-z / (1+e^-z)^2 = A (1 - A).
        Computed as t / (1+t)^2 with t = e^(-|z|) (the same number, sigmoid' is even): where A is
        near 1, 1 - A would cancel and lose the digits that t still has.
    """
    t = np.exp(-np.abs(Z))
    return t / np.square(1 + t)


def sigmoid_backward(dA, Z):
    """dZ = dA * sigmoid'(Z).    dA, Z: (n, m) -> dZ: (n, m)."""
    check_activation_backward(dA, Z)
    return dA * sigmoid_prime(Z)


def tanh(Z):
    """A = 2 / (1 + e^(-2Z)) - 1 (the slides' form of tanh).    Z: (n, m) -> A: (n, m) in [-1, 1].

    Same value, rearranged so nothing overflows or cancels: for z >= 0, with t = e^(-2z) in (0, 1],
    2/(1+t) - 1 = (1 - t)/(1 + t) = -expm1(-2z) / (1 + t); tanh is odd, so tanh(z) = -tanh(-z).
    expm1 keeps full relative precision for tiny z, where 2/(1+t) - 1 would cancel.
    """
    t = np.exp(-2 * np.abs(Z))
    return (np.sign(Z) * (-np.expm1(-2 * np.abs(Z)) / (1 + t))).astype(Z.dtype, copy=False)


def tanh_prime(Z):
    """tanh'(Z), elementwise.    Z: (n, m) -> (n, m), Z's dtype.

    Start from the slides' A = 2 / (1 + e^-2z) - 1 = 2 sigmoid(2z) - 1 and differentiate.

    Derivation:
        dA/dz = 4 sigmoid(2z)(1 - sigmoid(2z)) = (1 + A)(1 - A) = 1 - A^2.
        Computed as 4t / (1+t)^2 with t = e^(-2|z|) (the same number): for |A| near 1, 1 - A^2
        would cancel (in float32 it is exactly 0 from |z| > 9 on, while the true slope is 6e-8).
    """
    t = np.exp(-2 * np.abs(Z))
    return 4 * t / np.square(1 + t)


def tanh_backward(dA, Z):
    """dZ = dA * tanh'(Z).    dA, Z: (n, m) -> dZ: (n, m)."""
    check_activation_backward(dA, Z)
    return dA * tanh_prime(Z)


def relu(Z):
    """A = max(Z, 0): Z if Z >= 0 else 0, elementwise (slides: RELU).    Z: (n, m) -> A: (n, m).

    np.maximum passes a NaN on, as torch.relu does: np.where(Z > 0, Z, 0) would make it 0 and
    hide a layer whose Z went NaN from every layer after it."""
    return np.maximum(Z, 0).astype(Z.dtype, copy=False)


def relu_prime(Z):
    """relu'(Z), elementwise.    Z: (n, m) -> (n, m), Z's dtype.

    Start from the slide's RELU: A = 0 for z < 0, A = z for z >= 0. At the kink z = 0 there is no
    derivative; take 0 there, as torch does. The slope comes from Z (the cache), not from A.
    At a NaN, Z > 0 is False: slope 0 (torch passes dA on there); relu has already passed the
    NaN forward in A, so it reaches the gradients all the same.
    """
    return (Z > 0).astype(Z.dtype)


def relu_backward(dA, Z):
    """dZ = dA * relu'(Z).    dA, Z: (n, m) -> dZ: (n, m)."""
    check_activation_backward(dA, Z)
    return dA * relu_prime(Z)


def identity(Z):
    """A = Z: the linear output layer of a regression network."""
    return Z


def identity_prime(Z):
    """g'(Z) = 1."""
    return np.ones_like(Z)


# name -> (g, g'): the network looks activations up here by the names the API takes.
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "linear": (identity, identity_prime),
}

# name -> the backward dZ = dA * g'(Z), which checks its inputs (the public functions above).
BACKWARDS = {"sigmoid": sigmoid_backward, "tanh": tanh_backward, "relu": relu_backward}
