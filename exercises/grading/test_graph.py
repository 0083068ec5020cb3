"""Grading: the computation graph (slides "Backward Propagation Example", "Computation Graph for
(x+y)*z", "Autograd in PyTorch"): add and multiply backward, and the topological order.

Each expression runs on the student's Node and on torch tensors; the leaves' gradients are
compared. The situations go from the plain case to the ones where a wrong answer shows: an
upstream gradient other than 1 (the chain rule), a node used twice (accumulate, do not overwrite),
an input of 0 (no division by an input), the slide's z = 2x^2 + 5x, two backward passes.
"""

import numpy as np
import torch

from exercises.grading.support import Case, cases, expect, fail, run

TWICE = ("x is used twice and gets only one use's share: each use must add its contribution to "
         "what x.grad holds (+=); = (or a tuple assignment computed from the old values) keeps one")
UPSTREAM = ("that is the local derivative alone: the chain rule multiplies it by the upstream "
            "gradient out.grad")


def graph_case(id, expression, point, hint="", dtype=np.float64, passes=1):
    return Case(id, {"expression": expression, "point": point, "hint": hint, "dtype": dtype,
                     "passes": passes})


def check_expression(student, case, local=None):
    Node = student.graph.Node
    names = list(case.point)
    leaves = {name: Node(value, case.dtype) for name, value in case.point.items()}
    out = run(lambda: case.expression(**leaves))
    for _ in range(case.passes):
        run(out.backward)
    tensors = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
               for name, value in case.point.items()}
    result = case.expression(**tensors)
    for _ in range(case.passes):
        result.backward(retain_graph=True)
    for name in names:
        yours, expected = leaves[name].grad, tensors[name].grad.item()
        if not isinstance(yours, np.generic | float | int):
            fail(f"d{name} is a {type(yours).__name__}; expected a number")
        hints = {"scale:0.5": case.hint or TWICE} if case.hint != "upstream" else {}
        if local is not None and np.isclose(float(yours), local.get(name, np.nan)) and not np.isclose(
                float(yours), expected):
            fail(f"d{name} is {float(yours):g}, torch's {expected:g}: {UPSTREAM}")
        expect(f"d{name}", np.asarray(yours), np.asarray(expected), tol=1e-12,
               like=np.dtype(case.dtype),
               hints={"nonfinite": case.hint or "an input is 0 here: write the local derivative "
                                                "without dividing by an input", **hints})


ADD_CASES = (
    graph_case("x + y at x = -2, y = 5", lambda x, y: x + y, {"x": -2.0, "y": 5.0}),
    graph_case("(x + y) * z at the slide's x = -2, y = 5, z = -4 (upstream df/dq = z)",
               lambda x, y, z: (x + y) * z, {"x": -2.0, "y": 5.0, "z": -4.0}, hint="upstream"),
    graph_case("x + x (x used twice)", lambda x: x + x, {"x": 3.0}),
    graph_case("(x + y) + x (x reaches the output along two paths)", lambda x, y: (x + y) + x,
               {"x": 1.5, "y": 0.25}),
    graph_case("the slide's z = 2 x^2 + 5 x at x = 2 (dz/dx = 13)", lambda x: 2 * (x * x) + 5 * x,
               {"x": 2.0}),
    graph_case("x + y, backward called twice (the leaves' grads add up, as torch's .grad)",
               lambda x, y: x + y, {"x": 1.0, "y": 2.0}, hint="a second backward() adds to the "
               "leaves' grads, as torch's .grad does: add (+=) to what they hold", passes=2),
    graph_case("x + y in float32", lambda x, y: x + y, {"x": 0.5, "y": 1.5}, dtype=np.float32),
)

MUL_CASES = (
    graph_case("x * y at x = 3, y = -2", lambda x, y: x * y, {"x": 3.0, "y": -2.0}),
    graph_case("(x + y) * z at the slide's x = -2, y = 5, z = -4", lambda x, y, z: (x + y) * z,
               {"x": -2.0, "y": 5.0, "z": -4.0}),
    graph_case("(x * y) * 3 (upstream 3)", lambda x, y: (x * y) * 3, {"x": 1.5, "y": -0.5},
               hint="upstream"),
    graph_case("x * x (x is both inputs)", lambda x: x * x, {"x": 3.0}),
    graph_case("the slide's z = 2 x^2 + 5 x at x = 2 (dz/dx = 13)", lambda x: 2 * (x * x) + 5 * x,
               {"x": 2.0}),
    graph_case("(x + y) * z with q = x + y = 0", lambda x, y, z: (x + y) * z,
               {"x": 2.0, "y": -2.0, "z": 3.0},
               hint="q = 0 here: df/dq = z and df/dz = q on the slide, with no division (f / q is 0/0)"),
    graph_case("x * y in float32", lambda x, y: x * y, {"x": 0.5, "y": 1.5}, dtype=np.float32),
)


@cases(*ADD_CASES)
def test_add_backward(student, case):
    check_expression(student, case, local={"x": 1.0, "y": 1.0} if "upstream" in case.id else None)


@cases(*MUL_CASES)
def test_mul_backward(student, case):
    local = {"x": case.point.get("y", np.nan), "y": case.point.get("x", np.nan)} if "upstream 3" in case.id \
        else None
    check_expression(student, case, local=local)


def chain(Node, length):
    x = Node(0.5)
    out = x
    for _ in range(length):
        out = out + x
    return x, out


def diamonds(Node, depth):
    """x, then each node used twice by the next: 2^depth paths, `depth + 1` nodes... and constants."""
    x = Node(1.0)
    out = x
    for _ in range(depth):
        out = out * 1 + out
    return x, out


@cases(Case("(x + y) * z: every node once, each after its parents", {"build": "slide"}),
       Case("f = q x + q with q = x + y: nodes used twice appear once", {"build": "reused"}),
       Case("12 levels, each node used twice by the next (4096 paths to x)", {"build": "diamonds"}),
       Case("a chain of 300 additions", {"build": "chain"}))
def test_topological_order(student, case):
    Node = student.graph.Node
    if case.build == "slide":
        x, y, z = Node(-2.0), Node(5.0), Node(-4.0)
        out = (x + y) * z
        leaves, expected = {"x": x, "y": y, "z": z}, {"x": -4.0, "y": -4.0, "z": 3.0}
    elif case.build == "reused":
        x, y = Node(1.0), Node(2.0)
        q = x + y
        out = q * x + q
        leaves, expected = {"x": x, "y": y}, {"x": 5.0, "y": 2.0}  # df/dx = q + x + 1, df/dy = x + 1
    elif case.build == "diamonds":
        x, out = diamonds(Node, 12)
        leaves, expected = {"x": x}, {"x": 2.0**12}
    else:
        x, out = chain(Node, 300)
        leaves, expected = {"x": x}, {"x": 301.0}
    order = run(out.topological_order)
    if not isinstance(order, (list, tuple)):
        fail(f"topological_order returned {type(order).__name__}; expected a list of Nodes")
    ids = [id(node) for node in order]
    if len(ids) != len(set(ids)):
        twice = next(node for node in order if ids.count(id(node)) > 1)
        fail(f"the order lists a node more than once ({twice!r}, {ids.count(id(twice))} times): a node "
             f"that is the parent of several must be visited once, so backward passes its grad on once")
    if not order or order[-1] is not out:
        fail("the order does not end with the node it was called on (the output comes last)")
    position = {id(node): i for i, node in enumerate(order)}
    for node in order:
        for parent in node.parents:
            if id(parent) not in position:
                fail(f"the order leaves out {parent!r}, a parent of {node!r}")
            if position[id(parent)] > position[id(node)]:
                fail(f"{parent!r} comes after {node!r}, which it feeds: every node after all of its "
                     f"parents")
    run(out.backward)
    for name, leaf in leaves.items():
        expect(f"d{name} after backward()", np.asarray(leaf.grad), np.asarray(expected[name]), tol=1e-12,
               oracle="the chain rule's")
