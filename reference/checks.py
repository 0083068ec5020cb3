"""Input validation shared by every path (reference, kernels.cpu, kernels.cuda).

The fast paths run kernels without bounds checks, so their Python wrappers call these same
functions before any kernel sees an array: a bad input gets the same clear message on every path
(which array, its shape, what was expected), never a crash or a silently wrong answer.

Notation as in the slides: L layers, n[l] units in layer l, m samples (one per column).
"""

import numpy as np

HIDDEN_ACTIVATIONS = ("relu", "tanh", "sigmoid")
OUTPUT_ACTIVATIONS = ("sigmoid", "linear")
COSTS = ("cross_entropy", "mse")
FLOAT_DTYPES = (np.float32, np.float64)


def _name_shape(name, a):
    return f"{name} has shape {tuple(np.shape(a))}"


def check_float_array(name, a, ndim=2, expected="a 2-D array", finite=True):
    """A NumPy array of float32/float64 with `ndim` dimensions, at least one element, all finite
    (the last only with finite=True).

    `expected` describes the wanted shape in the message when the dimensions are wrong."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(a).__name__}")
    if a.dtype.type not in FLOAT_DTYPES:
        raise TypeError(f"{name} has dtype {a.dtype}; expected float32 or float64")
    if a.ndim != ndim:
        raise ValueError(f"{_name_shape(name, a)}; expected {expected}")
    if a.size == 0:
        raise ValueError(f"{_name_shape(name, a)}; expected at least one element (empty batch?)")
    if finite and not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf ({_name_shape(name, a)})")


def check_layer_dims(layer_dims):
    """layer_dims = [n[0], n[1], ..., n[L]]: at least an input and an output layer, widths >= 1."""
    dims = list(layer_dims)
    if len(dims) < 2:
        raise ValueError(
            f"layer_dims {dims} has {len(dims)} entries; expected at least 2 ([n[0], ..., n[L]])"
        )
    for l, n in enumerate(dims):
        if int(n) != n or n < 1:
            raise ValueError(f"layer_dims[{l}] = {n}; every layer width n[l] must be an integer >= 1")
    return [int(n) for n in dims]


def check_dtype(dtype):
    if np.dtype(dtype).type not in FLOAT_DTYPES:
        raise TypeError(f"dtype {np.dtype(dtype)} is not supported; expected float32 or float64")
    return np.dtype(dtype)


def check_parameters(parameters):
    """{"W1": (n1, n0), "b1": (n1, 1), ...}: consistent shapes, one float dtype. Returns L."""
    if not isinstance(parameters, dict) or "W1" not in parameters:
        raise ValueError("parameters must be a dict with keys W1, b1, ..., WL, bL")
    L = sum(1 for key in parameters if key.startswith("W"))
    dtype = None
    for l in range(1, L + 1):
        for key in (f"W{l}", f"b{l}"):
            if key not in parameters:
                raise ValueError(f"parameters has no {key}; expected W1, b1, ..., W{L}, b{L}")
        W, b = parameters[f"W{l}"], parameters[f"b{l}"]
        check_float_array(f"W{l}", W, expected=f"a 2-D array (n[{l}], n[{l - 1}])")
        n_l, n_prev = W.shape
        if l > 1 and n_prev != parameters[f"W{l - 1}"].shape[0]:
            expected = (n_l, parameters[f"W{l - 1}"].shape[0])
            raise ValueError(f"{_name_shape(f'W{l}', W)}; expected {expected} = (n[{l}], n[{l - 1}])")
        if np.shape(b) != (n_l, 1):
            raise ValueError(f"{_name_shape(f'b{l}', b)}; expected {(n_l, 1)} = (n[{l}], 1)")
        check_float_array(f"b{l}", b)
        dtype = W.dtype if dtype is None else dtype
        for key, a in ((f"W{l}", W), (f"b{l}", b)):
            if a.dtype != dtype:
                raise TypeError(f"{key} has dtype {a.dtype}; W1 has dtype {dtype}")
    return L


def layer_dims_of(parameters):
    """[n[0], n[1], ..., n[L]] read off the weight shapes."""
    L = check_parameters(parameters)
    return [parameters["W1"].shape[1]] + [parameters[f"W{l}"].shape[0] for l in range(1, L + 1)]


def check_X(X, parameters):
    """X = A[0] is (n[0], m): n[0] features per sample, one sample per column."""
    check_float_array("X", X)
    n0 = parameters["W1"].shape[1]
    if X.shape[0] != n0:
        raise ValueError(f"{_name_shape('X', X)}; expected ({n0}, m): n[0] = {n0} rows, one per feature")
    if X.dtype != parameters["W1"].dtype:
        raise TypeError(f"X has dtype {X.dtype} but the parameters have {parameters['W1'].dtype}")


def check_linear(A_prev, W, b):
    """The layer pieces' operands: A_prev (n[l-1], m), W (n[l], n[l-1]), b (n[l], 1), one dtype.

    Shapes and dtypes only, cheap enough for every layer call; forward checks X's values once."""
    for name, a in (("A_prev", A_prev), ("W", W), ("b", b)):
        check_float_array(name, a, finite=False)
    n_l, n_prev = W.shape
    if A_prev.shape[0] != n_prev:
        raise ValueError(f"{_name_shape('A_prev', A_prev)}; expected ({n_prev}, m) = (n[l-1], m), "
                         f"n[l-1] = W.shape[1]")
    if b.shape != (n_l, 1):
        raise ValueError(f"{_name_shape('b', b)}; expected {(n_l, 1)} = (n[l], 1), n[l] = W.shape[0]")
    if not A_prev.dtype == W.dtype == b.dtype:
        raise TypeError(f"A_prev, W, b have dtypes {A_prev.dtype}, {W.dtype}, {b.dtype}; expected one")


def check_like(name, a, like_name, shape, dtype):
    """a has the shape and dtype of what it pairs with (dA and Z, dZ and Z, logits and AL)."""
    check_float_array(name, a, finite=False)
    if a.shape != tuple(shape):
        raise ValueError(f"{_name_shape(name, a)}; expected {tuple(shape)}, the shape of {like_name}")
    if a.dtype != dtype:
        raise TypeError(f"{name} has dtype {a.dtype} but {like_name} has dtype {np.dtype(dtype)}")


def check_activation(name, allowed, which):
    if name not in allowed:
        raise ValueError(f"unknown {which} activation {name!r}; expected one of {allowed}")


def check_cost_name(cost, output="sigmoid"):
    if cost not in COSTS:
        raise ValueError(f"unknown cost {cost!r}; expected one of {COSTS}")
    if cost == "cross_entropy" and output != "sigmoid":
        raise ValueError(
            f"cost 'cross_entropy' needs output='sigmoid' (probabilities in (0, 1)), got {output!r}"
        )


def check_Y(Y, AL, cost):
    """Y has the shape of AL, (n[L], m); cross-entropy labels lie in [0, 1]."""
    check_cost_name(cost)
    check_float_array("Y", Y)
    if Y.shape != AL.shape:
        raise ValueError(f"{_name_shape('Y', Y)}; expected {AL.shape}, the shape of AL = (n[L], m)")
    if cost == "cross_entropy" and ((Y < 0).any() or (Y > 1).any()):
        raise ValueError(
            f"Y has labels outside [0, 1] (min {Y.min()}, max {Y.max()}); cross_entropy needs 0 <= y <= 1"
        )


def check_grads(grads, parameters):
    """grads has dW[l], db[l] for every W[l], b[l], each with its parameter's shape."""
    L = check_parameters(parameters)
    for l in range(1, L + 1):
        for key in (f"W{l}", f"b{l}"):
            dkey = "d" + key
            if dkey not in grads:
                raise ValueError(f"grads has no {dkey}; expected one gradient per parameter")
            if np.shape(grads[dkey]) != parameters[key].shape:
                raise ValueError(
                    f"{_name_shape(dkey, grads[dkey])}; expected {parameters[key].shape}, the shape of {key}"
                )
            check_float_array(dkey, grads[dkey])


def check_learning_rate(learning_rate):
    if not np.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate = {learning_rate}; expected a finite number > 0")


def _check_matrix(name, a):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(a).__name__}")
    if a.dtype.type not in FLOAT_DTYPES:
        raise TypeError(f"{name} has dtype {a.dtype}; expected float32 or float64")
    if a.ndim != 2:
        raise ValueError(f"{_name_shape(name, a)}; expected a 2-D array")


def check_product_operands(name_a, a, name_b, b, axes):
    """Two 2-D float arrays of one dtype whose dimensions a.shape[axes[0]] and b.shape[axes[1]]
    are summed over together (the operands of a matrix product; any size, empty included)."""
    _check_matrix(name_a, a)
    _check_matrix(name_b, b)
    if a.dtype != b.dtype:
        raise TypeError(f"{name_a} has dtype {a.dtype} but {name_b} has dtype {b.dtype}")
    ia, ib = axes
    if a.shape[ia] != b.shape[ib]:
        expected = list(b.shape)
        expected[ib] = a.shape[ia]
        raise ValueError(f"{_name_shape(name_b, b)}; expected {tuple(expected)} to match {name_a} {a.shape}")


def check_matmul_operands(A, B):
    """C = A B: A (M, K), B (K, N), float32 or float64, one dtype."""
    check_product_operands("A", A, "B", B, (1, 0))


def check_network_call(X, parameters, hidden, output):
    """Everything forward needs: parameters, X against them, and the activation names."""
    L = check_parameters(parameters)
    check_X(X, parameters)
    check_activation(hidden, HIDDEN_ACTIVATIONS, "hidden")
    check_activation(output, OUTPUT_ACTIVATIONS, "output")
    return L
