"""The input checks that every path shares: the contract of the network API and the loops.

Each public function checks its inputs once, with these functions, and then calls plain math
that checks nothing. The fast paths run kernels without bounds checks, so their Python wrappers
call these same functions before any kernel sees an array: a bad input gets the same message on
every path (which array, its shape, what was expected), never a crash or a silently wrong answer.
A check with a single caller (Algorithm 1's, the regressions', the graph's, the slides'
examples') sits beside that caller instead.

Notation as in the slides: L layers, n[l] units in layer l, m samples (one per column).

    the network    check_step (train_step), check_forward, check_cost, check_backward,
                   check_update, check_linear, check_like, check_layer_dims, check_dtype
    the loops      check_loop (epochs, batch size)
    the products   check_product_operands, check_matmul_operands
"""


import numpy as np

HIDDEN_ACTIVATIONS = ("relu", "tanh", "sigmoid")
OUTPUT_ACTIVATIONS = ("sigmoid", "linear")
COSTS = ("cross_entropy", "mse")
FLOAT_DTYPES = (np.float32, np.float64)


class NonFiniteError(ValueError):
    """An input holds NaN or inf (training that diverged, say): callers catch it by type."""


def _name_shape(name, a):
    return f"{name} has shape {tuple(np.shape(a))}"


# ---------------------------------------------------------------------------------------------
# Arrays and names.


def check_float_array(name, a, ndim=2, expected="a 2-D array", finite=True, empty=False):
    """A NumPy array of float32/float64 with `ndim` dimensions, at least one element (unless
    empty=True), all finite (only with finite=True; NonFiniteError otherwise).

    `expected` describes the wanted shape in the message when the dimensions are wrong."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(a).__name__}")
    if a.dtype.type not in FLOAT_DTYPES:
        raise TypeError(f"{name} has dtype {a.dtype}; expected float32 or float64")
    if a.ndim != ndim:
        raise ValueError(f"{_name_shape(name, a)}; expected {expected}")
    if a.size == 0 and not empty:
        raise ValueError(f"{_name_shape(name, a)}; expected at least one element (empty batch?)")
    if finite and not np.isfinite(a).all():
        raise NonFiniteError(f"{name} contains NaN or inf ({_name_shape(name, a)})")


def check_like(name, a, like_name, shape, dtype):
    """a has the shape and dtype of what it pairs with (dA and Z, dZ and Z, logits and AL)."""
    check_float_array(name, a, finite=False)
    _check_pairing(name, a, like_name, shape, dtype)


def _check_pairing(name, a, like_name, shape, dtype):
    """check_like's shape and dtype test, for anything with .shape and .dtype (a device array too)."""
    if tuple(a.shape) != tuple(shape):
        raise ValueError(f"{_name_shape(name, a)}; expected {tuple(shape)}, the shape of {like_name}")
    if np.dtype(a.dtype) != dtype:
        raise TypeError(f"{name} has dtype {np.dtype(a.dtype)} but {like_name} has dtype {np.dtype(dtype)}")


def check_dtype(dtype):
    if np.dtype(dtype).type not in FLOAT_DTYPES:
        raise TypeError(f"dtype {np.dtype(dtype)} is not supported; expected float32 or float64")
    return np.dtype(dtype)


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


def check_learning_rate(learning_rate):
    if not np.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate = {learning_rate}; expected a finite number > 0")


def check_count(name, value, least=1):
    """An integer (a whole float counts) of at least `least`: epochs, steps, iterations."""
    if isinstance(value, bool) or int(value) != value or value < least:
        raise ValueError(f"{name} = {value}; expected an integer >= {least}")
    return int(value)


# ---------------------------------------------------------------------------------------------
# The network's parameters and data.


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


def check_parameters(parameters):
    """{"W1": (n1, n0), "b1": (n1, 1), ...}: consistent shapes, one float dtype. Returns L."""
    if not isinstance(parameters, dict) or "W1" not in parameters:
        raise ValueError("parameters must be a dict with keys W1, b1, ..., WL, bL")
    L = sum(1 for key in parameters if key.startswith("W"))
    names = {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}
    extra = [key for key in parameters if key not in names]  # the update would step these too
    if extra:
        raise ValueError(f"parameters has the key {extra[0]!r}; expected only W1, b1, ..., W{L}, b{L}")
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


def check_X(X, parameters):
    """X = A[0] is (n[0], m): n[0] features per sample, one sample per column."""
    check_float_array("X", X)
    n0 = parameters["W1"].shape[1]
    if X.shape[0] != n0:
        raise ValueError(f"{_name_shape('X', X)}; expected ({n0}, m): n[0] = {n0} rows, one per feature")
    if X.dtype != parameters["W1"].dtype:
        raise TypeError(f"X has dtype {X.dtype} but the parameters have {parameters['W1'].dtype}")


def check_Y(Y, shape, cost):
    """Y has the shape of AL, (n[L], m); cross-entropy labels lie in [0, 1] (cost checked before)."""
    check_float_array("Y", Y)
    if Y.shape != tuple(shape):
        raise ValueError(f"{_name_shape('Y', Y)}; expected {tuple(shape)}, the shape of AL = (n[L], m)")
    if cost == "cross_entropy" and ((Y < 0).any() or (Y > 1).any()):
        raise ValueError(
            f"Y has labels outside [0, 1] (min {Y.min()}, max {Y.max()}); cross_entropy needs 0 <= y <= 1"
        )


def check_linear(A_prev, W, b):
    """The layer pieces' operands: A_prev (n[l-1], m), W (n[l], n[l-1]), b (n[l], 1), one dtype.

    Shapes and dtypes only: the layer pieces compute with any values."""
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


def check_linear_backward(dZ, cache):
    """linear_backward's inputs: the cache's operands, and dZ with the shape of Z = W A_prev + b."""
    A_prev, W, b = cache
    check_linear(A_prev, W, b)
    check_like("dZ", dZ, "Z = W A_prev + b", (W.shape[0], A_prev.shape[1]), W.dtype)


def check_activation_input(Z):
    """g(Z)'s input on the fast paths: a 2-D float array (any values: NaN in, NaN out)."""
    check_float_array("Z", Z, finite=False)


def check_activation_backward(dA, Z):
    """g_backward's inputs: Z a float array, dA of its shape and dtype (any values)."""
    check_activation_input(Z)
    check_like("dA", dA, "Z", Z.shape, Z.dtype)


# ---------------------------------------------------------------------------------------------
# The inputs of the network's functions, checked the same way on every path.


def check_forward(X, parameters, hidden, output):
    """forward's inputs: parameters, X against them, the activation names. Returns L."""
    L = check_parameters(parameters)
    check_X(X, parameters)
    check_activation(hidden, HIDDEN_ACTIVATIONS, "hidden")
    check_activation(output, OUTPUT_ACTIVATIONS, "output")
    return L


def check_cost(AL, Y, cost, logits=None):
    """compute_cost's inputs: AL, Y of AL's shape, the cost name, logits shaped like AL."""
    check_float_array("AL", AL)
    check_cost_name(cost)
    check_Y(Y, AL.shape, cost)
    if logits is None:
        return
    if hasattr(logits, "copy_to_host"):  # a device array (kernels.cuda's caches[-1].Z)
        _check_pairing("logits", logits, "AL", AL.shape, AL.dtype)
    else:
        check_like("logits", logits, "AL", AL.shape, AL.dtype)


def check_backward(AL, Y, caches, cost):
    """backward's inputs: the cost against the output activation forward used, AL against the
    Z[L] forward kept (the shape backward's steps rely on), Y against AL."""
    *_, (_, ZL, output) = caches
    check_cost_name(cost, output)
    check_like("AL", AL, "Z[L] in caches (from forward)", tuple(ZL.shape), np.dtype(ZL.dtype))
    check_Y(Y, AL.shape, cost)


def check_update(parameters, grads, learning_rate):
    """update_parameters' inputs: one gradient per parameter, of its shape, finite. Returns L."""
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
    check_learning_rate(learning_rate)
    return L


def check_step(parameters, X, Y, learning_rate, hidden, output, cost):
    """train_step's inputs: every input of one step, each checked once. Returns L."""
    check_cost_name(cost, output)
    check_learning_rate(learning_rate)
    L = check_forward(X, parameters, hidden, output)
    check_Y(Y, (parameters[f"W{L}"].shape[0], X.shape[1]), cost)
    return L


def check_loop(X, Y, epochs, batch_size):
    """A training loop's own inputs (each train_step checks the rest): Y has X's m columns,
    1 <= batch_size <= m (None: m), epochs >= 1. Returns (epochs, batch_size) as ints."""
    check_float_array("X", X)
    check_float_array("Y", Y)
    m = X.shape[1]
    batch_size = m if batch_size is None else batch_size
    if Y.shape[1] != m:
        raise ValueError(f"Y has shape {Y.shape}; expected (n[L], {m}), one column per sample of X")
    if int(batch_size) != batch_size or not 1 <= batch_size <= m:
        raise ValueError(f"batch_size = {batch_size}; expected an integer in [1, m = {m}]")
    return check_count("epochs", epochs), int(batch_size)


# ---------------------------------------------------------------------------------------------
# Matrix products.


def check_product_operands(name_a, a, name_b, b, axes):
    """Two 2-D float arrays of one dtype whose dimensions a.shape[axes[0]] and b.shape[axes[1]]
    are summed over together (the operands of a matrix product; any size, empty included)."""
    check_float_array(name_a, a, finite=False, empty=True)
    check_float_array(name_b, b, finite=False, empty=True)
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
