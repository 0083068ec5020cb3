"""Slides: "Neuron's Activation Functions" (threshold functions) and their derivatives.

Each activation g is a forward/backward pair, micrograd-style: the backward sits under its
forward and applies the chain rule elementwise,

    dZ = dA * g'(Z)          dA, Z, dZ: (n[l], m)

All functions keep the input's dtype (float32 or float64) and are written so that no exp()
overflows: sigmoid and tanh stay finite and NaN-free for |z| up to 1e4 (and beyond).
"""

import numpy as np

from reference.checks import check_like


def sigmoid(Z):
    """A = 1 / (1 + e^(-Z)), elementwise.    Z: (n, m) -> A: (n, m), values in [0, 1].

    For z below about -709 (float64; -88 in float32) e^(-z) overflows, so for z < 0 we use the equal
    form e^z / (1 + e^z): with t = e^(-|z|) in (0, 1], sigmoid(z) = 1/(1+t) for z >= 0 and t/(1+t)
    for z < 0.
    """
    t = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1 / (1 + t), t / (1 + t)).astype(Z.dtype, copy=False)


def sigmoid_backward(dA, Z):
    """dZ = dA * sigmoid'(Z).    dA, Z: (n, m) -> dZ: (n, m).

    With A = 1/(1+e^-z):  dA/dz = e^-z / (1+e^-z)^2 = A (1 - A).
    Computed as t / (1+t)^2 with t = e^(-|z|) (the same number, sigmoid' is even): where A is
    near 1, 1 - A would cancel and lose the digits that t still has.
    """
    check_like("dA", dA, "Z", Z.shape, Z.dtype)
    t = np.exp(-np.abs(Z))
    return dA * (t / np.square(1 + t))


def tanh(Z):
    """A = 2 / (1 + e^(-2Z)) - 1 (the slides' form of tanh).    Z: (n, m) -> A: (n, m) in [-1, 1].

    Same value, rearranged so nothing overflows or cancels: for z >= 0, with t = e^(-2z) in (0, 1],
    2/(1+t) - 1 = (1 - t)/(1 + t) = -expm1(-2z) / (1 + t); tanh is odd, so tanh(z) = -tanh(-z).
    expm1 keeps full relative precision for tiny z, where 2/(1+t) - 1 would cancel.
    """
    t = np.exp(-2 * np.abs(Z))
    return (np.sign(Z) * (-np.expm1(-2 * np.abs(Z)) / (1 + t))).astype(Z.dtype, copy=False)


def tanh_backward(dA, Z):
    """dZ = dA * tanh'(Z).    dA, Z: (n, m) -> dZ: (n, m).

    A = 2 sigmoid(2z) - 1, so dA/dz = 4 sigmoid(2z)(1 - sigmoid(2z)) = (1 + A)(1 - A) = 1 - A^2.
    Computed as 4t / (1+t)^2 with t = e^(-2|z|) (the same number): for |A| near 1, 1 - A^2 would
    cancel (in float32 it is exactly 0 from |z| > 9 on, while the true slope is still 6e-8).
    """
    check_like("dA", dA, "Z", Z.shape, Z.dtype)
    t = np.exp(-2 * np.abs(Z))
    return dA * (4 * t / np.square(1 + t))


def relu(Z):
    """A = Z if Z >= 0 else 0, elementwise (slides: RELU).    Z: (n, m) -> A: (n, m)."""
    return np.where(Z > 0, Z, 0).astype(Z.dtype, copy=False)


def relu_backward(dA, Z):
    """dZ = dA * relu'(Z).    dA, Z: (n, m) -> dZ: (n, m).

    relu'(z) = 1 for z > 0 and 0 for z < 0; at the kink z = 0 we take 0, as torch does.
    The mask comes from Z (the cache), not from A.
    """
    check_like("dA", dA, "Z", Z.shape, Z.dtype)
    return np.where(Z > 0, dA, 0).astype(dA.dtype, copy=False)


def identity(Z):
    """A = Z: the linear output layer of a regression network."""
    return Z


def identity_backward(dA, Z):
    """dZ = dA * 1."""
    return dA


# name -> (g, backward): the network looks activations up here by the names the API takes.
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_backward),
    "tanh": (tanh, tanh_backward),
    "relu": (relu, relu_backward),
    "linear": (identity, identity_backward),
}
