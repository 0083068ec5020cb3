"""reference/slide_examples.py: each re-done example follows the slide's torch code, written here
as on the slide, loss for loss from the same initial weights (float64, relative error <= 1e-8 at
every step, and the trained weights too)."""

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from reference import slide_examples
from reference.slide_examples import (
    autograd_example,
    autograd_example_init,
    linear_layers_init,
    net_example,
    net_example_init,
    nn_example,
    nn_example_init,
    regression_example,
    regression_example_init,
)
from tests.torch_compare import assert_close

STEP_TOL = 1e-8


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The twins' matrices are small (64 x 1000 x 100 at most): one thread does them fastest, and
    on a busy 2-core machine torch's thread pool made the 500-step twin 17x slower (6.3 s vs
    0.37 s measured). Restored afterwards, so other tests keep torch's setting."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def t64(a):
    return torch.tensor(np.asarray(a, np.float64))


def load_linear(layer, W, b):
    """nn.Linear stores weight as (out, in) = our W[l]; bias (out,) = our b[l] (n[l], 1)."""
    with torch.no_grad():
        layer.weight.copy_(t64(W))
        layer.bias.copy_(t64(b[:, 0]))


def assert_follows(losses, expected_losses, weights, expected_weights):
    assert len(losses) == len(expected_losses)
    assert_close("losses, step by step", losses, expected_losses, STEP_TOL)
    for name, value in weights.items():
        assert_close(name, value, expected_weights[name], STEP_TOL)


# ---------------------------------------------------------------------------------------------
# Autograd Example


def torch_autograd_example(x, y, w1, w2, learning_rate=1e-6, steps=500):
    x, y = t64(x), t64(y)
    w1, w2 = t64(w1).requires_grad_(), t64(w2).requires_grad_()
    losses = []
    for _t in range(steps):
        y_pred = x.mm(w1).clamp(min=0).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    return losses, {"w1": w1.detach().numpy(), "w2": w2.detach().numpy()}


def test_autograd_example_follows_torch():
    """N=64, D_in=1000, H=100, D_out=10, lr 1e-6, 500 steps, as on the slide."""
    init = autograd_example_init(seed=0)
    assert {k: v.shape for k, v in init.items()} == {
        "x": (64, 1000), "y": (64, 10), "w1": (1000, 100), "w2": (100, 10)}
    losses, weights = autograd_example(**init)
    expected_losses, expected_weights = torch_autograd_example(**init)
    assert_follows(losses, expected_losses, weights, expected_weights)
    assert losses[-1] < 1e-6 * losses[0]  # it trains, as the slide's printout shows


def test_autograd_example_clamp_passes_the_gradient_at_zero_like_torch():
    """clamp(min=0)'s gradient at h = 0 is 1 in torch (relu's is 0): a zero column of w1 makes
    h = 0 exactly for every sample, so only the right mask moves that column off zero."""
    init = autograd_example_init(seed=1, N=8, D_in=5, H=4, D_out=3)
    init["w1"][:, 0] = 0.0
    losses, weights = autograd_example(**init, learning_rate=1e-3, steps=20)
    expected_losses, expected_weights = torch_autograd_example(**init, learning_rate=1e-3, steps=20)
    assert_follows(losses, expected_losses, weights, expected_weights)
    assert np.abs(weights["w1"][:, 0]).max() > 0


# ---------------------------------------------------------------------------------------------
# NN Example: nn.Sequential, MSELoss(reduction='sum')


def test_nn_example_follows_torch():
    """The slide's N, D_in, H, D_out = 64, 1000, 100, 10 (the init's defaults), lr 1e-4."""
    init = nn_example_init(seed=0)
    assert {k: v.shape for k, v in init["parameters"].items()} == {
        "W1": (100, 1000), "b1": (100, 1), "W2": (10, 100), "b2": (10, 1)}
    assert init["X"].shape == (1000, 64) and init["Y"].shape == (10, 64)
    losses, weights = nn_example(**init)

    P = init["parameters"]
    D_in, H, D_out = P["W1"].shape[1], P["W1"].shape[0], P["W2"].shape[0]
    x, y = t64(init["X"].T), t64(init["Y"].T)  # torch: one sample per row
    model = torch.nn.Sequential(
        torch.nn.Linear(D_in, H),
        torch.nn.ReLU(),
        torch.nn.Linear(H, D_out),
    ).double()
    load_linear(model[0], P["W1"], P["b1"])
    load_linear(model[2], P["W2"], P["b2"])
    loss_fn = torch.nn.MSELoss(reduction="sum")
    learning_rate = 1e-4
    expected_losses = []
    for _t in range(500):
        y_pred = model(x)
        loss = loss_fn(y_pred, y)
        expected_losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad

    expected = {"W1": model[0].weight, "b1": model[0].bias[:, None],
                "W2": model[2].weight, "b2": model[2].bias[:, None]}
    assert_follows(losses, expected_losses, weights, {k: v.detach().numpy() for k, v in expected.items()})
    assert losses[-1] < 1e-3 * losses[0]


# ---------------------------------------------------------------------------------------------
# PyTorch Neural Network: Net, MSELoss, the manual update


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()  # noqa: UP008 (the slide's spelling)
        # y = Wx + b
        self.fc1 = nn.Linear(256, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


@pytest.mark.parametrize("m", [1, 5])
def test_net_example_follows_torch(m):
    """m = 1 is the slide's input = randn(256), target = arange(1, 11); m = 5 a small batch."""
    assert net_example_init(seed=0)["X"].shape == (256, 1)  # by default, the slide's one sample
    init = net_example_init(seed=0, m=m)
    losses, weights = net_example(**init)

    net = Net().double()
    P = init["parameters"]
    for l, layer in enumerate((net.fc1, net.fc2, net.fc3), start=1):
        load_linear(layer, P[f"W{l}"], P[f"b{l}"])
    input = t64(init["X"][:, 0]) if m == 1 else t64(init["X"].T)  # the slide's 1-D input for m=1
    target = torch.arange(1, 11, dtype=torch.float64)
    target = target if m == 1 else target.repeat(m, 1)
    np.testing.assert_array_equal(init["Y"].T.squeeze(), target.numpy())
    criterion = nn.MSELoss()
    learning_rate = 0.01
    expected_losses = []
    for _t in range(len(losses)):
        output = net(input)
        loss = criterion(output, target)
        expected_losses.append(loss.item())
        net.zero_grad()
        loss.backward()
        for f in net.parameters():
            f.data.sub_(f.grad.data * learning_rate)

    expected = {}
    for l, layer in enumerate((net.fc1, net.fc2, net.fc3), start=1):
        expected[f"W{l}"] = layer.weight.detach().numpy()
        expected[f"b{l}"] = layer.bias.detach().numpy()[:, None]
    assert_follows(losses, expected_losses, weights, expected)


# ---------------------------------------------------------------------------------------------
# Linear Regression Example: Net(1, 10, 1), SGD lr 0.2, MSELoss, 200 steps


class RegressionNet(torch.nn.Module):  # the slide's second `Net`
    def __init__(self, n_feature, n_hidden, n_output):
        super(RegressionNet, self).__init__()  # noqa: UP008 (the slide's spelling)
        self.hidden = torch.nn.Linear(n_feature, n_hidden)  # hidden layer
        self.predict = torch.nn.Linear(n_hidden, n_output)  # output layer

    def forward(self, x):
        x = F.relu(self.hidden(x))  # activation function for hidden layer
        x = self.predict(x)  # linear output
        return x


def test_regression_example_follows_torch():
    init = regression_example_init(seed=0)
    snapshots = []
    losses, weights = regression_example(
        **init, callback=lambda t, p: snapshots.append((t, {k: v.copy() for k, v in p.items()})))
    assert [t for t, _ in snapshots] == list(range(200))

    # the slide's data: x = linspace(-1, 1, 100) as a column, y = x^2 + 0.2 rand (our noise)
    x = torch.unsqueeze(torch.linspace(-1, 1, 100, dtype=torch.float64), dim=1)
    np.testing.assert_allclose(init["X"].T, x.numpy(), rtol=0, atol=1e-15)
    noise = (init["Y"] - init["X"] ** 2) / 0.2
    assert (noise >= 0).all() and (noise < 1).all()
    # 0.2 * torch.rand(x.size()): one draw per point, spread over [0, 1)
    assert len(np.unique(noise)) == 100 and noise.min() < 0.1 and noise.max() > 0.9
    x, y = t64(init["X"].T), t64(init["Y"].T)

    net = RegressionNet(n_feature=1, n_hidden=10, n_output=1).double()
    load_linear(net.hidden, init["parameters"]["W1"], init["parameters"]["b1"])
    load_linear(net.predict, init["parameters"]["W2"], init["parameters"]["b2"])
    optimizer = torch.optim.SGD(net.parameters(), lr=0.2)
    loss_func = torch.nn.MSELoss()
    expected_losses = []
    for t in range(200):
        prediction = net(x)
        loss = loss_func(prediction, y)
        expected_losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if t == 0:  # what the callback sees after the first update
            after_first = {"W1": net.hidden.weight.detach().numpy().copy(),
                           "b2": net.predict.bias.detach().numpy()[:, None].copy()}

    expected = {"W1": net.hidden.weight, "b1": net.hidden.bias[:, None],
                "W2": net.predict.weight, "b2": net.predict.bias[:, None]}
    assert_follows(losses, expected_losses, weights, {k: v.detach().numpy() for k, v in expected.items()})
    for name, value in after_first.items():
        assert_close(f"{name} handed to the callback after step 0", snapshots[0][1][name], value, STEP_TOL)
    for name, value in weights.items():
        np.testing.assert_array_equal(snapshots[-1][1][name], value)
    assert losses[-1] < 0.2 * losses[0]


# ---------------------------------------------------------------------------------------------
# Initializers, dtypes, inputs


def test_linear_layers_init_is_nn_linear_default_distribution():
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for W and b, deterministic for a seed."""
    P = linear_layers_init([400, 30, 2], seed=3)
    assert {k: v.shape for k, v in P.items()} == {
        "W1": (30, 400), "b1": (30, 1), "W2": (2, 30), "b2": (2, 1)
    }
    for l, fan_in in ((1, 400), (2, 30)):
        bound = 1 / np.sqrt(fan_in)
        assert np.abs(P[f"W{l}"]).max() <= bound
        assert np.abs(P[f"b{l}"]).max() <= bound
    assert np.abs(P["W1"]).max() > 0.99 / 20 and abs(P["W1"].mean()) < 0.002  # fills the range
    np.testing.assert_array_equal(P["W1"], linear_layers_init([400, 30, 2], seed=3)["W1"])
    assert not np.array_equal(P["W1"], linear_layers_init([400, 30, 2], seed=4)["W1"])


SMALL = dict(N=4, D_in=3, H=2, D_out=2)
INITS = [(autograd_example_init, SMALL), (nn_example_init, SMALL),
         (net_example_init, {}), (regression_example_init, {})]


def arrays_of(init):
    """{name: array} of an init's result, the parameters' arrays included."""
    out = {k: v for k, v in init.items() if k != "parameters"}
    return out | {f"parameters {k}": v for k, v in init.get("parameters", {}).items()}


@pytest.mark.parametrize(("init", "sizes"), INITS, ids=lambda f: getattr(f, "__name__", ""))
def test_each_init_is_the_same_for_a_seed_and_in_the_dtype_asked_for(init, sizes):
    """A seed gives the same data and weights on every call (the notebooks' numbers depend on it),
    and every array, data and weights alike, has the dtype asked for."""
    first, again = arrays_of(init(seed=3, **sizes)), arrays_of(init(seed=3, **sizes))
    for name, value in first.items():
        np.testing.assert_array_equal(value, again[name], err_msg=name)
    other = arrays_of(init(seed=4, **sizes))
    assert not np.array_equal(first["parameters W1" if "parameters W1" in first else "w1"],
                              other["parameters W1" if "parameters W1" in other else "w1"])
    for dtype in (np.float32, np.float64):
        for name, value in arrays_of(init(seed=3, dtype=dtype, **sizes)).items():
            assert value.dtype == dtype, f"{init.__name__}(dtype={dtype.__name__}): {name} is {value.dtype}"


def test_examples_keep_float32_and_leave_the_inputs_unchanged():
    init = regression_example_init(dtype=np.float32)
    start = {k: v.copy() for k, v in init["parameters"].items()}
    losses, weights = regression_example(**init, steps=5)
    assert all(w.dtype == np.float32 for w in weights.values()) and init["X"].dtype == np.float32
    for key, value in start.items():
        np.testing.assert_array_equal(init["parameters"][key], value)
    init = autograd_example_init(N=4, D_in=3, H=2, D_out=2, dtype=np.float32)
    _, weights = autograd_example(**init, steps=2)
    assert weights["w1"].dtype == np.float32


STEPS_0 = r"^steps = 0; expected an integer >= 1$"


def test_bad_input():
    init = autograd_example_init(N=4, D_in=3, H=2, D_out=2)
    with pytest.raises(ValueError, match=r"y has shape \(4, 2\); expected \(4, 5\)"):
        autograd_example(init["x"], init["y"], init["w1"], np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"w1 has shape \(3, 2\); expected \(3, 7\)"):
        autograd_example(init["x"], np.ones((4, 5)), init["w1"], np.ones((7, 5)))
    with pytest.raises(ValueError, match=STEPS_0):
        autograd_example(**init, steps=0)
    for name in init:  # each array named as the slide names it
        with pytest.raises(TypeError, match=f"^{name} has dtype int64; expected float32 or float64$"):
            autograd_example(**dict(init, **{name: init[name].astype(np.int64)}))
    init = nn_example_init(N=4, D_in=3, H=2, D_out=2)
    with pytest.raises(ValueError, match=r"^Y has shape \(2, 3\); expected \(2, 4\) = \(D_out, N\)$"):
        nn_example(init["X"], np.ones((2, 3)), init["parameters"])
    with pytest.raises(TypeError, match="^Y has dtype int64; expected float32 or float64$"):
        nn_example(init["X"], init["Y"].astype(np.int64), init["parameters"])
    with pytest.raises(ValueError, match=STEPS_0):
        nn_example(**init, steps=0)
    with pytest.raises(ValueError, match=r"X has shape \(5, 4\); expected \(3, m\)"):
        nn_example(np.ones((5, 4)), init["Y"], init["parameters"])
    init = regression_example_init()
    with pytest.raises(ValueError, match=r"Y has shape \(1, 99\); expected \(1, 100\)"):
        regression_example(init["X"], init["Y"][:, :99], init["parameters"])
    with pytest.raises(ValueError, match="learning_rate = -0.2"):
        regression_example(**init, learning_rate=-0.2)
    with pytest.raises(ValueError, match=STEPS_0):
        regression_example(**init, steps=0)
    with pytest.raises(ValueError, match=STEPS_0):
        net_example(**net_example_init(), steps=0)


@pytest.mark.parametrize("init, sizes", [
    (slide_examples.autograd_example_init, dict(N=2, D_in=3, H=4, D_out=2)),
    (slide_examples.nn_example_init, dict(N=2, D_in=3, H=4, D_out=2)),
    (slide_examples.net_example_init, {}),
    (slide_examples.regression_example_init, {}),
    (lambda **kw: {"parameters": slide_examples.linear_layers_init([3, 2], **kw)}, {}),
], ids=["autograd", "nn", "net", "regression", "linear_layers"])
def test_without_a_seed_each_init_draws_with_seed_0(init, sizes):
    """seed=0 is every init's default, as initialize_parameters': a notebook cell or a student's
    call without one gets the numbers the guide shows."""
    def arrays(result):
        items = result.items() if isinstance(result, dict) else enumerate(result)
        for key, value in items:
            yield from arrays(value) if isinstance(value, dict) else [(key, value)]

    for (key, a), (_, b) in zip(arrays(init(**sizes)), arrays(init(seed=0, **sizes)), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=str(key))


def test_net_example_takes_the_slides_100_steps_by_default():
    data = slide_examples.net_example_init(seed=0)
    losses, _ = slide_examples.net_example(data["X"], data["Y"], data["parameters"])
    assert len(losses) == 100
