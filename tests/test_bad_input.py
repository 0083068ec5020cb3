"""Bad input gets a clear error naming the array, its shape and what was expected, on every path.

The fast paths run kernels without bounds checks, so these errors must come from their Python
wrappers before any kernel runs; they share reference/checks.py, so the words are the same.
"""

import re

import numpy as np
import pytest

from reference import network as reference
from tests.conftest import load_path


@pytest.fixture
def net(path):
    """A [4, 5, 1] network, a batch of 3 samples and its forward pass, on the path under test."""
    parameters = reference.initialize_parameters([4, 5, 1], seed=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 3))
    Y = np.array([[0.0, 1.0, 1.0]])
    AL, caches = path.forward(X, parameters)
    return path, parameters, X, Y, AL, caches


def test_X_with_wrong_number_of_rows(net):
    path, parameters, *_ = net
    with pytest.raises(ValueError, match=r"X has shape \(3, 6\); expected \(4, m\)"):
        path.forward(np.ones((3, 6)), parameters)


def test_X_not_2d(net):
    path, parameters, *_ = net
    with pytest.raises(ValueError, match=r"X has shape \(4,\); expected a 2-D array"):
        path.forward(np.ones(4), parameters)


def test_empty_batch(net):
    path, parameters, *_ = net
    with pytest.raises(ValueError, match=r"X has shape \(4, 0\); expected at least one element"):
        path.forward(np.ones((4, 0)), parameters)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_X(net, bad):
    path, parameters, X, *_ = net
    X = X.copy()
    X[2, 1] = bad
    with pytest.raises(ValueError, match=r"X contains NaN or inf \(X has shape \(4, 3\)\)"):
        path.forward(X, parameters)


def test_X_of_integers_or_other_dtype(net):
    path, parameters, X, *_ = net
    with pytest.raises(TypeError, match="X has dtype int64; expected float32 or float64"):
        path.forward(X.astype(np.int64), parameters)
    with pytest.raises(TypeError, match="X has dtype float32 but the parameters have float64"):
        path.forward(X.astype(np.float32), parameters)


def test_W_of_wrong_shape(net):
    path, parameters, X, *_ = net
    parameters = dict(parameters, W2=np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"W2 has shape \(1, 4\); expected \(1, 5\) = \(n\[2\], n\[1\]\)"):
        path.forward(X, parameters)


def test_b_of_wrong_shape(net):
    path, parameters, X, *_ = net
    parameters = dict(parameters, b1=np.zeros(5))
    with pytest.raises(ValueError, match=r"b1 has shape \(5,\); expected \(5, 1\) = \(n\[1\], 1\)"):
        path.forward(X, parameters)


def test_missing_parameter(net):
    path, parameters, X, *_ = net
    parameters = {k: v for k, v in parameters.items() if k != "b2"}
    with pytest.raises(ValueError, match="parameters has no b2"):
        path.forward(X, parameters)


@pytest.mark.parametrize("key", ["b3", "note", "dW1"])
def test_a_key_that_is_no_parameter_is_named_and_nothing_is_updated(net, key):
    """The update steps every key of the dict: one that is no W[l] or b[l] is refused up front
    (the reference once stepped W1 ... bL and then failed on it with a KeyError)."""
    path, parameters, X, Y, AL, caches = net
    parameters = dict(parameters, **{key: np.zeros((1, 1))})
    before = {k: v.copy() for k, v in parameters.items()}
    message = rf"parameters has the key '{key}'; expected only W1, b1, \.\.\., W2, b2"
    with pytest.raises(ValueError, match=message):
        path.train_step(parameters, X, Y, 0.1)
    with pytest.raises(ValueError, match=message):
        path.update_parameters(parameters, path.backward(AL, Y, caches), 0.1)
    with pytest.raises(ValueError, match=message):
        path.forward(X, parameters)
    assert all(np.array_equal(parameters[k], before[k]) for k in before)


def test_Y_of_other_shape_than_AL(net):
    path, parameters, X, Y, AL, caches = net
    wrong = np.zeros((1, 4))
    message = r"Y has shape \(1, 4\); expected \(1, 3\), the shape of AL"
    with pytest.raises(ValueError, match=message):
        path.compute_cost(AL, wrong)
    with pytest.raises(ValueError, match=message):
        path.backward(AL, wrong, caches)
    with pytest.raises(ValueError, match=r"Y has shape \(3,\)"):
        path.train_step(parameters, X, Y.ravel(), 0.1)


@pytest.mark.parametrize("change", ["transposed", "one column"])
def test_backward_refuses_AL_and_Y_that_match_each_other_but_not_forward(net, change):
    """AL and Y of one shape, but not forward's: kernels.cpu's dZ[L] kernel loops over AL's
    shape and read Z[L] out of bounds (a silently wrong answer or a crash) before this check."""
    path, parameters, X, Y, AL, caches = net
    AL, Y = (AL.T.copy(), Y.T.copy()) if change == "transposed" else (AL[:, :1].copy(), Y[:, :1].copy())
    expected = f"AL has shape {AL.shape}; expected (1, 3), the shape of Z[L] in caches (from forward)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        path.backward(AL, Y, caches)


def test_labels_outside_0_1_for_cross_entropy(net):
    path, parameters, X, Y, AL, caches = net
    bad = np.array([[0.0, 2.0, -1.0]])
    with pytest.raises(ValueError, match=r"Y has labels outside \[0, 1\]"):
        path.compute_cost(AL, bad, cost="cross_entropy")
    with pytest.raises(ValueError, match=r"Y has labels outside \[0, 1\]"):
        path.backward(AL, bad, caches, cost="cross_entropy")
    assert np.isfinite(path.compute_cost(AL, bad, cost="mse"))  # any real target is fine for MSE


def test_unknown_activation_or_cost_names(net):
    path, parameters, X, Y, AL, caches = net
    with pytest.raises(ValueError, match="unknown hidden activation 'gelu'"):
        path.forward(X, parameters, hidden="gelu")
    with pytest.raises(ValueError, match="unknown output activation 'softmax'"):
        path.forward(X, parameters, output="softmax")
    with pytest.raises(ValueError, match="unknown cost 'hinge'"):
        path.compute_cost(AL, Y, cost="hinge")
    with pytest.raises(ValueError, match="unknown cost 'hinge'"):
        path.train_step(parameters, X, Y, 0.1, cost="hinge")
    with pytest.raises(ValueError, match="cost 'cross_entropy' needs output='sigmoid'"):
        path.train_step(parameters, X, Y, 0.1, output="linear", cost="cross_entropy")
    AL_linear, caches_linear = path.forward(X, parameters, output="linear")
    with pytest.raises(ValueError, match=r"cost 'cross_entropy' needs output='sigmoid' .*got 'linear'"):
        path.backward(AL_linear, Y, caches_linear, cost="cross_entropy")


@pytest.mark.parametrize("dims, message", [
    ([4], r"layer_dims \[4\] has 1 entries; expected at least 2"),
    ([], r"layer_dims \[\] has 0 entries"),
    ([4, 0, 1], r"layer_dims\[1\] = 0; every layer width n\[l\] must be an integer >= 1"),
    ([4, 2.5, 1], r"layer_dims\[1\] = 2.5"),
])
def test_bad_layer_dims(path, dims, message):
    with pytest.raises(ValueError, match=message):
        path.initialize_parameters(dims)


def test_grads_missing_a_parameter_or_of_wrong_shape(net):
    path, parameters, X, Y, AL, caches = net
    grads = path.backward(AL, Y, caches)
    with pytest.raises(ValueError, match="grads has no db2"):
        path.update_parameters(parameters, {k: v for k, v in grads.items() if k != "db2"}, 0.1)
    with pytest.raises(ValueError, match=r"dW1 has shape \(4, 5\); expected \(5, 4\), the shape of W1"):
        path.update_parameters(parameters, dict(grads, dW1=grads["dW1"].T.copy()), 0.1)
    with pytest.raises(ValueError, match=r"dW1 contains NaN or inf \(dW1 has shape \(5, 4\)\)"):
        path.update_parameters(parameters, dict(grads, dW1=np.full((5, 4), np.nan)), 0.1)


@pytest.mark.parametrize("alpha", [0.0, -0.1, np.nan, np.inf])
def test_bad_learning_rate(net, alpha):
    path, parameters, X, Y, *_ = net
    with pytest.raises(ValueError, match="learning_rate"):
        path.train_step(parameters, X, Y, alpha)


def test_failed_train_step_leaves_parameters_untouched(net):
    path, parameters, X, Y, *_ = net
    before = {k: v.copy() for k, v in parameters.items()}
    with pytest.raises(ValueError):
        path.train_step(parameters, X, np.array([[0.0, 3.0, 1.0]]), 0.1)
    assert all(np.array_equal(parameters[k], before[k]) for k in before)


def same_answer_or_clear_refusal(run, expected):
    try:
        result = run()
    except (ValueError, TypeError) as e:
        assert "contiguous" in str(e), f"unclear refusal: {e}"
        return
    np.testing.assert_array_equal(result, expected)


def test_non_contiguous_and_fortran_ordered_input_give_the_same_answer(net):
    """A view or a Fortran-ordered array must be copied or refused clearly, never read wrongly."""
    path, parameters, X, Y, AL, _ = net
    wide = np.zeros((4, 6))
    wide[:, ::2] = X
    for variant in (np.asfortranarray(X), wide[:, ::2]):
        same_answer_or_clear_refusal(lambda v=variant: path.forward(v, parameters)[0], AL)
    fortran_params = {k: np.asfortranarray(v) for k, v in parameters.items()}
    same_answer_or_clear_refusal(lambda: path.forward(X, fortran_params)[0], AL)


def test_parameters_of_mixed_dtypes(net):
    path, parameters, X, *_ = net
    parameters = dict(parameters, W2=parameters["W2"].astype(np.float32))
    with pytest.raises(TypeError, match="W2 has dtype float32; W1 has dtype float64"):
        path.forward(X, parameters)


def test_layer_pieces_check_their_operands(path):
    """linear_forward / linear_backward / *_backward: mismatched operands are named, not read."""
    A_prev, W, b = np.ones((3, 4)), np.ones((2, 3)), np.ones((2, 1))
    with pytest.raises(ValueError, match=r"A_prev has shape \(5, 4\); expected \(3, m\) = \(n\[l-1\], m\)"):
        path.linear_forward(np.ones((5, 4)), W, b)
    with pytest.raises(ValueError, match=r"b has shape \(3, 1\); expected \(2, 1\) = \(n\[l\], 1\)"):
        path.linear_forward(A_prev, W, np.ones((3, 1)))
    with pytest.raises(TypeError, match="A_prev, W, b have dtypes float32, float64, float64"):
        path.linear_forward(A_prev.astype(np.float32), W, b)
    with pytest.raises(ValueError, match=r"A_prev has shape \(3,\); expected a 2-D array"):
        path.linear_forward(np.ones(3), W, b)
    with pytest.raises(TypeError, match="W has dtype int64; expected float32 or float64"):
        path.linear_forward(A_prev, W.astype(np.int64), b)
    with pytest.raises(TypeError, match="b must be a NumPy array, got list"):
        path.linear_forward(A_prev, W, [[1.0], [1.0]])
    _, cache = path.linear_forward(A_prev, W, b)
    message = "dZ has shape (2, 5); expected (2, 4), the shape of Z = W A_prev + b"
    with pytest.raises(ValueError, match=re.escape(message)):
        path.linear_backward(np.ones((2, 5)), cache)
    for name in ("sigmoid", "tanh", "relu"):
        backward = getattr(path, name + "_backward")
        with pytest.raises(ValueError, match=r"dA has shape \(2, 4\); expected \(4, 2\), the shape of Z"):
            backward(np.ones((2, 4)), np.ones((4, 2)))
        with pytest.raises(ValueError, match=r"Z has shape \(4,\); expected a 2-D array"):
            backward(np.ones(4), np.ones(4))
        with pytest.raises(TypeError, match="Z has dtype int64; expected float32 or float64"):
            backward(np.ones((2, 4)), np.ones((2, 4), np.int64))


def test_layer_pieces_compute_with_nan(path):
    """The layer pieces check shapes and dtypes only (checks.check_linear, check_activation_input):
    a NaN goes through to the entries it touches, as in NumPy, and is not refused.

    Z = W A_prev + b with every entry of W and b 1 and A_prev 1 except a NaN at [0, 0]: column 0
    of Z is NaN, the others 3 + 1 = 4; sigmoid'(0) = 1/4, so dZ = dA * 1/4 except at the NaN."""
    A_prev, W, b = np.ones((3, 4)), np.ones((2, 3)), np.ones((2, 1))
    A_prev[0, 0] = np.nan
    Z, _ = path.linear_forward(A_prev, W, b)
    assert np.isnan(Z[:, 0]).all()
    np.testing.assert_array_equal(Z[:, 1:], 4.0)
    Z = np.zeros((2, 4))
    Z[0, 0] = np.nan
    dZ = path.sigmoid_backward(np.ones((2, 4)), Z)
    assert np.isnan(dZ[0, 0])
    np.testing.assert_array_equal(dZ.ravel()[1:], 0.25)

LOGITS_OF_ANOTHER_SHAPE = "logits has shape (1, 4); expected (1, 3), the shape of AL"


def test_compute_cost_names_AL_and_logits(net):
    path, parameters, X, Y, AL, caches = net
    with pytest.raises(ValueError, match=r"AL has shape \(3,\); expected a 2-D array"):
        path.compute_cost(AL.ravel(), Y)
    with pytest.raises(TypeError, match="AL has dtype int64; expected float32 or float64"):
        path.compute_cost(np.ones((1, 3), np.int64), Y)
    with pytest.raises(ValueError, match=re.escape(LOGITS_OF_ANOTHER_SHAPE)):
        path.compute_cost(AL, Y, logits=np.zeros((1, 4)))
    with pytest.raises(TypeError, match="logits has dtype float32 but AL has dtype float64"):
        path.compute_cost(AL, Y, logits=np.zeros((1, 3), np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_logits_on_the_device_are_checked_by_shape_and_dtype(dtype):
    """kernels.cuda's caches keep Z[L] on the device; compute_cost takes it as the logits when it
    has AL's shape and dtype (J = log 2 for z = 0, any y) and names what is off when not."""
    from numba import cuda

    path = load_path("cuda")
    AL, Y = np.full((1, 3), 0.5, dtype), np.array([[0.0, 1.0, 1.0]], dtype)
    J = path.compute_cost(AL, Y, logits=cuda.to_device(np.zeros((1, 3), dtype)))
    assert J == pytest.approx(np.log(2), rel=1e-6)
    with pytest.raises(ValueError, match=re.escape(LOGITS_OF_ANOTHER_SHAPE)):
        path.compute_cost(AL, Y, logits=cuda.to_device(np.zeros((1, 4), dtype)))
    other = np.float64 if dtype == np.float32 else np.float32
    message = f"logits has dtype {np.dtype(other)} but AL has dtype {np.dtype(dtype)}"
    with pytest.raises(TypeError, match=message):
        path.compute_cost(AL, Y, logits=cuda.to_device(np.zeros((1, 3), other)))
