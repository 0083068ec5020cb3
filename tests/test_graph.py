"""reference/graph.py: the slides' computation-graph numbers exactly, every op against torch."""

import numpy as np
import pytest
import torch

from reference.graph import Node, slide_example_f, slide_example_z
from tests.torch_compare import check_against_torch

DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES)
def test_slide_example_f_numbers(dtype):
    """f = (x + y) z at x=-2, y=5, z=-4: q=3, f=-12, df/dx=-4, df/dy=-4, df/dz=3 (exact)."""
    nodes = slide_example_f(dtype=dtype)
    assert nodes["q"].value == 3 and nodes["f"].value == -12
    assert (nodes["x"].grad, nodes["y"].grad, nodes["z"].grad) == (-4, -4, 3)
    assert nodes["q"].grad == -4  # df/dq = z
    assert all(node.value.dtype == dtype and node.grad.dtype == dtype for node in nodes.values())


@pytest.mark.parametrize("dtype", DTYPES)
def test_slide_example_z_numbers(dtype):
    """z = 2 x^2 + 5 x at x = 2: z = 18, dz/dx = 4 x + 5 = 13 (exact)."""
    nodes = slide_example_z(dtype=dtype)
    assert nodes["z"].value == 18 and nodes["x"].grad == 13
    assert all(node.value.dtype == dtype and node.grad.dtype == dtype for node in nodes.values())


def test_slide_example_z_matches_the_slides_torch_code():
    """The slide's torch version: x = ones(2, 2) * 2, z = 2 (x x) + 5 x, backward with ones.

    (The slide builds x with torch.tensor(torch.ones(2, 2) * 2, requires_grad=True), which torch
    now warns about; requires_grad_() makes the same leaf tensor.)
    """
    x = (torch.ones(2, 2, dtype=torch.float64) * 2).requires_grad_()
    z = 2 * (x * x) + 5 * x
    z.backward(torch.ones(2, 2, dtype=torch.float64))
    assert (x.grad == slide_example_z()["x"].grad).all()


# Each expression is written once and runs on both Node and torch tensors (micrograd's test):
# the same operators and the methods relu/exp/log/sigmoid/tanh exist on both.
EXPRESSIONS = {
    "add": lambda x, y: x + y,
    "mul": lambda x, y: x * y,
    "sub": lambda x, y: x - y,
    "neg": lambda x, y: -x + y,
    "div": lambda x, y: x / y,
    "rsub_rdiv": lambda x, y: (1 - x) + 3 / y,
    "pow": lambda x, y: x**3 + y**-2 + (x * x) ** 0.5,
    "exp": lambda x, y: (x * y).exp(),
    "log": lambda x, y: (x * x + y * y).log(),
    "log_below_1": lambda x, y: (x * x / (1 + x * x + y * y)).log(),  # log's argument in (0, 1)
    "relu": lambda x, y: x.relu() * y.relu(),
    "sigmoid": lambda x, y: (x - y).sigmoid(),
    "tanh": lambda x, y: (x + 2 * y).tanh(),
    "reused": lambda x, y: (x * y + x) * (x - y) + x,  # x on many paths: grads accumulate
    # each one-input operation inside the graph, so the grad it receives is not 1
    "unary_inside": lambda x, y: y * (x.exp() + x.sigmoid() + x.tanh() + x.relu()) + y * (x * x + 1).log(),
    "deep": lambda x, y: (((x * y).sigmoid() + x.relu()) * (y.tanh() - x) / (2 + y**2)).exp(),
}
POINTS = [(-2.0, 5.0), (0.7, -1.3), (1.5, 0.25), (-0.4, -3.0)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_expression_against_torch(name, point, dtype):
    expression = EXPRESSIONS[name]
    x, y = Node(point[0], dtype), Node(point[1], dtype)
    out = expression(x, y)
    out.backward()
    check_against_torch(
        expression,
        {"x": np.array(point[0], dtype), "y": np.array(point[1], dtype)},
        value=out.value,
        grads={"x": x.grad, "y": y.grad},
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_kink_has_zero_derivative_as_in_torch(dtype):
    x = Node(0.0, dtype)
    out = x.relu()
    out.backward()
    check_against_torch(
        lambda x: x.relu(), {"x": np.array(0.0, dtype)}, value=out.value, grads={"x": x.grad}
    )
    assert x.grad == 0


def test_sigmoid_saturates_without_overflow():
    for value, expected in ((-1e4, 0.0), (1e4, 1.0)):
        x = Node(value)
        out = x.sigmoid()
        out.backward()
        assert out.value == expected and x.grad == 0


def test_topological_order_puts_parents_first():
    x, y = Node(1.0), Node(2.0)
    q = x + y
    f = q * x + q
    order = f.topological_order()
    assert order[-1] is f and len(order) == len({id(node) for node in order})
    position = {id(node): i for i, node in enumerate(order)}
    for node in order:
        assert all(position[id(parent)] < position[id(node)] for parent in node.parents)


def test_long_chain_needs_no_recursion():
    x = Node(1.0)
    out = x
    for _ in range(5000):
        out = out + x
    out.backward()
    assert out.value == 5001 and x.grad == 5001


def test_grads_accumulate_until_zero_grad_like_torch():
    x = Node(3.0)
    z = x * x
    z.backward()
    z.backward()
    assert x.grad == 2 * 6  # accumulated, as torch's .grad without zero_()
    z.zero_grad()
    assert x.grad == 0
    z.backward()
    assert x.grad == 6


def test_bad_input():
    with pytest.raises(ValueError, match="not finite"):
        Node(float("nan"))
    with pytest.raises(TypeError, match="float16"):
        Node(1.0, np.float16)
    with pytest.raises(TypeError, match="dtypes float32 and float64"):
        Node(1.0, np.float32) + Node(1.0)
    with pytest.raises(TypeError, match="^Node value must be a number, got a Node$"):
        Node(Node(1.0))
    with pytest.raises(TypeError, match="constant int or float k, got Node$"):
        Node(2.0) ** Node(3.0)
    with pytest.raises(ValueError, match="must be > 0"):
        Node(-1.0).log()
    with pytest.raises(ValueError, match=r"^log of 0.0: the argument must be > 0$"):
        Node(0.0).log()  # log 0 = -inf: refused as log's argument, not as a non-finite value


def test_a_second_backward_adds_to_the_leaves_only_like_torch():
    """f = (x + y) z twice: torch's leaves hold twice one pass's gradient; the intermediate q does
    not feed its first pass's grad into the second (which would give df/dx = -12, not -8)."""
    nodes = slide_example_f()
    nodes["f"].backward()
    t = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
         for name, value in (("x", -2.0), ("y", 5.0), ("z", -4.0))}
    f = (t["x"] + t["y"]) * t["z"]
    f.backward(retain_graph=True)
    f.backward()
    for name in ("x", "y", "z"):
        assert nodes[name].grad == t[name].grad.item(), name
    assert nodes["q"].grad == -4  # df/dq of the last pass


@pytest.mark.parametrize("op", ["exp", "log", "relu", "sigmoid", "tanh"])
def test_a_second_backward_adds_to_a_leaf_through_each_operation_like_torch(op):
    """y = op(x) twice: x.grad is twice dy/dx, as torch's .grad (each closure adds, never sets)."""
    x, t = Node(0.5), torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    out, t_out = getattr(x, op)(), getattr(t, op)()
    out.backward()
    out.backward()
    t_out.backward(retain_graph=True)
    t_out.backward()
    assert x.grad == pytest.approx(t.grad.item(), rel=1e-15, abs=0)


def test_each_node_names_its_operation():
    """`op` is what plots/graph_figure.py writes in a node's box, and what Node's repr shows."""
    x = Node(0.5)
    assert x.op == "" and "op=''" in repr(x)
    for out, op in ((x + x, "+"), (x * x, "*"), (x.exp(), "exp"), (x.log(), "log"),
                    (x.relu(), "relu"), (x.sigmoid(), "sigmoid"), (x.tanh(), "tanh")):
        assert out.op == op and f"op={op!r}" in repr(out)
    power = x**3
    assert power.op.startswith("**") and float(power.op[2:]) == 3


def test_negation_is_one_product_with_minus_one():
    """-x = x * (-1), as its comment derives it: one "*" node on x and the constant -1, no more
    (what the drawn graph of x - y shows)."""
    x = Node(2.0)
    out = -x
    assert out.op == "*" and out.parents[0] is x
    constant = out.parents[1]
    assert constant.value == -1 and constant.parents == ()
    assert len(out.topological_order()) == 3
