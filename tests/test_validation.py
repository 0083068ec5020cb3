"""Validation where inputs enter: a public function checks each input once, the math it calls is
unchecked, and non-finite values raise NonFiniteError on every path."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from reference import checks
from reference import network as reference

CHECKS_FILE = str(Path(checks.__file__).resolve())
CHECK_FUNCTIONS = {name for name, value in vars(checks).items() if callable(value)}


def calls_into_checks(run):
    """How many calls `run()` makes to the functions of reference/checks.py (generator
    expressions inside them, resumed once per item, are not calls of a check)."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        code = frame.f_code
        if event == "call" and code.co_filename == CHECKS_FILE and code.co_name in CHECK_FUNCTIONS:
            count += 1

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return count


def network(dims, m, seed=0):
    rng = np.random.default_rng(seed)
    parameters = reference.initialize_parameters(dims, seed=seed)
    X = rng.standard_normal((dims[0], m))
    Y = (rng.random((dims[-1], m)) > 0.5).astype(np.float64)
    return parameters, X, Y


def test_a_reference_train_step_checks_each_input_once():
    parameters, X, Y = network([30, 16, 8, 1], 569)
    count = calls_into_checks(lambda: reference.train_step(parameters, X, Y, 0.01))
    assert count <= 20, count
    # the counter sees the checks at all: one per parameter array at the least
    assert count >= 2 * 3
    before = calls_into_checks(lambda: reference.forward(X, parameters))
    assert before >= 2 * 3 + 1  # forward alone: its checks, one per parameter at least


def test_counter_sees_repeated_checks():
    """The counter is not blind: checking a layer L times costs L more calls."""
    parameters, X, Y = network([30, 16, 8, 1], 569)
    once = calls_into_checks(lambda: checks.check_forward(X, parameters, "relu", "sigmoid"))
    twice = calls_into_checks(lambda: [checks.check_forward(X, parameters, "relu", "sigmoid")
                                       for _ in range(2)])
    assert twice == 2 * once > 0


@pytest.mark.parametrize("where", ["X", "W1", "b2"])
def test_non_finite_inputs_raise_non_finite_error_on_every_path(path, where):
    dims, m = ([3, 4, 1], 5)
    parameters, X, Y = network(dims, m)
    {"X": X}.get(where, parameters.get(where))[0, 0] = np.nan
    with pytest.raises(checks.NonFiniteError, match=f"{where} contains NaN or inf"):
        path.train_step(parameters, X, Y, 0.1)
    with pytest.raises(checks.NonFiniteError):
        path.forward(X, parameters)


def test_non_finite_error_is_a_value_error():
    assert issubclass(checks.NonFiniteError, ValueError)


# check_product_operands: the words of the fast paths' matrix products (kernels.cpu's matmul,
# w_a, dz_at, wt_dz, kernels.cuda's matmul), which call it before any kernel reads an operand.
# (name_a, shape of a, name_b, shape of b, axes, the shape b needed): axes (1, 0) is A B, (1, 1)
# is dZ A^T (the columns are summed), (0, 0) is W^T dZ (the rows are summed).
MISMATCHED_PRODUCTS = [
    ("W", (2, 3), "A", (4, 5), (1, 0), (3, 5)),
    ("dZ", (2, 3), "A", (4, 5), (1, 1), (4, 3)),
    ("W", (2, 3), "dZ", (4, 5), (0, 0), (2, 5)),
]


@pytest.mark.parametrize("name_a, shape_a, name_b, shape_b, axes, needed", MISMATCHED_PRODUCTS)
def test_product_operands_that_share_no_dimension_are_named(name_a, shape_a, name_b, shape_b, axes, needed):
    message = f"{name_b} has shape {shape_b}; expected {needed} to match {name_a} {shape_a}"
    with pytest.raises(ValueError, match=re.escape(message)):
        checks.check_product_operands(name_a, np.ones(shape_a), name_b, np.ones(shape_b), axes)


def test_product_operands_are_named_when_not_float_arrays_of_one_dtype():
    W, A = np.ones((2, 3)), np.ones((3, 4))
    for bad_W, error, message in [([[1.0]], TypeError, "W must be a NumPy array, got list"),
                                  (np.ones(3), ValueError, r"W has shape \(3,\); expected a 2-D array"),
                                  (W.astype(np.int32), TypeError, "W has dtype int32; expected float32")]:
        with pytest.raises(error, match=message):
            checks.check_product_operands("W", bad_W, "A", A, (1, 0))
        with pytest.raises(error, match=message.replace("W", "A")):
            checks.check_product_operands("W", W, "A", bad_W, (1, 0))
    with pytest.raises(TypeError, match="W has dtype float64 but A has dtype float32"):
        checks.check_product_operands("W", W, "A", A.astype(np.float32), (1, 0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_product_operands_of_any_size_and_values_pass(dtype):
    """A product of empty operands is defined (a (2, 0) times (0, 4) is a (2, 4) of zeros), and
    NaN or inf in an operand is the caller's to see in the product: neither is refused."""
    empty_k = (np.ones((2, 0), dtype), np.ones((0, 4), dtype))
    empty_mn = (np.ones((0, 3), dtype), np.ones((3, 0), dtype))
    W, A = np.ones((2, 3), dtype), np.ones((3, 4), dtype)
    with_nan = (np.where(W > 0, np.nan, W), np.where(A > 0, np.inf, A))
    for a, b in (empty_k, empty_mn, with_nan, (with_nan[0], A), (W, with_nan[1])):
        assert checks.check_product_operands("W", a, "A", b, (1, 0)) is None
        assert checks.check_matmul_operands(a, b) is None


# ---------------------------------------------------------------------------------------------
# The network checks' words, read whole (a name or number changed in a message must show).

def two_layers():
    return {"W1": np.ones((3, 2)), "b1": np.zeros((3, 1)), "W2": np.ones((1, 3)), "b2": np.zeros((1, 1))}


@pytest.mark.parametrize("parameters", [{}, [], {"b1": np.zeros((3, 1))}], ids=["empty", "list", "no-W1"])
def test_parameters_without_W1_are_refused_with_the_keys_expected(parameters):
    with pytest.raises(ValueError, match=r"^parameters must be a dict with keys W1, b1, \.\.\., WL, bL$"):
        checks.check_parameters(parameters)


@pytest.mark.parametrize("key", ["W0", "dW1", "Z1", "X1"])
def test_a_key_that_is_no_parameter_is_named(key):
    """A gradient, a cache or a stray layer 0 stored in the dict by mistake: the update would step
    it too."""
    parameters = {**two_layers(), key: np.ones((2, 2))}
    L = 3 if key.startswith("W") else 2  # L counts the W keys
    message = rf"^parameters has the key '{key}'; expected only W1, b1, \.\.\., W{L}, b{L}$"
    with pytest.raises(ValueError, match=message):
        checks.check_parameters(parameters)


@pytest.mark.parametrize("l", [1, 2])
def test_a_weight_that_is_not_2d_is_named_with_its_layer_widths(l):
    parameters = {**two_layers(), f"W{l}": np.ones(3)}
    message = rf"^W{l} has shape \(3,\); expected a 2-D array \(n\[{l}\], n\[{l - 1}\]\)$"
    with pytest.raises(ValueError, match=message):
        checks.check_parameters(parameters)


def test_X_of_the_wrong_width_is_named():
    with pytest.raises(ValueError, match=r"^X has shape \(3, 4\); expected \(2, m\): n\[0\] = 2 rows"):
        checks.check_X(np.ones((3, 4)), two_layers())


@pytest.mark.parametrize("label", [1.5, -0.5, 1.0 + 1e-12])
def test_cross_entropy_labels_just_outside_0_1_are_refused(label):
    Y = np.array([[0.0, 1.0, label]])
    with pytest.raises(ValueError, match=r"^Y has labels outside \[0, 1\]"):
        checks.check_Y(Y, (1, 3), "cross_entropy")
    checks.check_Y(Y, (1, 3), "mse")  # any real target for the mse


def test_a_gradient_beside_its_pair_is_named_and_may_hold_nan():
    """dA against Z (check_like): its own name and both dtypes; NaN passes (shapes and dtypes
    only: the math propagates it)."""
    Z_shape, Z_dtype = (2, 3), np.dtype(np.float32)
    with pytest.raises(TypeError, match=r"^dA has dtype float64 but Z has dtype float32$"):
        checks.check_like("dA", np.ones((2, 3)), "Z", Z_shape, Z_dtype)
    with pytest.raises(TypeError, match=r"^dA has dtype int64; expected float32 or float64"):
        checks.check_like("dA", np.ones((2, 3), np.int64), "Z", Z_shape, Z_dtype)
    checks.check_like("dA", np.full((2, 3), np.nan, np.float32), "Z", Z_shape, Z_dtype)


def test_initialize_parameters_draws_with_seed_0_by_default():
    """Every path's first network is the same without a seed (the notebooks and invoke train rely
    on it)."""
    by_default = reference.initialize_parameters([2, 3, 1])
    seed_0 = reference.initialize_parameters([2, 3, 1], seed=0)
    for key in seed_0:
        np.testing.assert_array_equal(by_default[key], seed_0[key])
