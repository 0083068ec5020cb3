"""Slides "Backward Propagation Example", "Computation Graph for (x+y)*z", "Autograd in PyTorch".

A scalar reverse-mode automatic differentiation engine, small enough to read in one sitting
(after karpathy/micrograd). Each operation builds a `Node` whose `parents` are its inputs, and
right under the forward line sits the `local_backward` closure that applies the chain rule for that
one operation: each parent receives (d node / d parent) times the upstream gradient node.grad.

`Node.backward()` puts the graph in topological order (every node after all of its parents), sets
`d out / d out = 1`, and calls the closures from the output back to the leaves, so each node's grad
is complete before it is passed on. A node used several times receives one contribution per use,
and the chain rule sums them: in the slide's z = 2 (x x) + 5 x, x is used three times (twice by the
product x x, once by 5 x), and dz/dx = 2x + 2x + 5 (the two x's of `x * x` give x each, times
dz/d(x x) = 2). That sum happens inside one backward pass.
A second matter is what happens across backward() calls: the leaves' grads keep adding up, as
torch's `.grad` does (hence `zero_grad()`), while an intermediate node's grad is that pass's only,
as torch keeps no `.grad` for non-leaf tensors.

This is the computation graph, not a neural network (as the slide warns): one node per scalar.
Values keep the dtype they were made with (float64 by default, float32 on request).

Derivation:
    Each closure adds its contribution to what the parent holds already, so the uses sum:

        parent.grad += (d node / d parent) * node.grad
"""

from numbers import Real

import numpy as np

from reference import activations, checks


class Node:
    """One scalar of the computation graph: `value`, d(output)/d(this) in `grad`, how it was made.

    Node(value, dtype=np.float64): a leaf (an input such as x, y, z of the slide).
    `op` names the operation that produced the node ("" for a leaf), `parents` are its inputs.
    """

    def __init__(self, value, dtype=np.float64, parents=(), op=""):
        if isinstance(value, Node):
            raise TypeError("Node value must be a number, got a Node")
        self.dtype = checks.check_dtype(dtype)
        self.value = self.dtype.type(value)
        if not np.isfinite(self.value):
            raise checks.NonFiniteError(f"Node value {value!r} is not finite")
        self.grad = self.dtype.type(0)
        self.parents = tuple(parents)
        self.op = op
        self.local_backward = lambda: None  # a leaf passes nothing on

    def __repr__(self):
        return f"Node(value={self.value}, grad={self.grad}, op={self.op!r})"

    def _lift(self, other):
        """Constants (2 in 2x^2) become leaves of this node's dtype."""
        if isinstance(other, Node):
            if other.dtype != self.dtype:
                raise TypeError(f"cannot combine Nodes of dtypes {self.dtype} and {other.dtype}")
            return other
        return Node(other, dtype=self.dtype)

    def _make(self, value, parents, op):
        return Node(value, dtype=self.dtype, parents=parents, op=op)

    # q = x + y: dq/dx = 1, dq/dy = 1 (the slide's basic gradients).
    def __add__(self, other):
        other = self._lift(other)
        out = self._make(self.value + other.value, (self, other), "+")

        def local_backward():
            """The chain rule for q = x + y: pass on to self and other their share of out.grad."""
            self.grad += out.grad
            other.grad += out.grad

        out.local_backward = local_backward
        return out

    # f = q * z: df/dq = z, df/dz = q (the slide's "basic gradients").
    def __mul__(self, other):
        other = self._lift(other)
        out = self._make(self.value * other.value, (self, other), "*")

        def local_backward():
            """The chain rule for f = q z: pass on to self and other their share of out.grad."""
            self.grad += other.value * out.grad
            other.grad += self.value * out.grad

        out.local_backward = local_backward
        return out

    # y = x^k for a constant k: dy/dx = k x^(k-1).
    def __pow__(self, k):
        if isinstance(k, bool) or not isinstance(k, Real):
            raise TypeError(f"Node ** k needs a constant int or float k, got {type(k).__name__}")
        k = self.dtype.type(k)
        out = self._make(self.value**k, (self,), f"**{k}")

        def local_backward():
            self.grad += k * self.value ** (k - 1) * out.grad

        out.local_backward = local_backward
        return out

    # y = e^x: dy/dx = e^x = y.
    def exp(self):
        out = self._make(np.exp(self.value), (self,), "exp")

        def local_backward():
            self.grad += out.value * out.grad

        out.local_backward = local_backward
        return out

    # y = log x (x > 0): dy/dx = 1 / x.
    def log(self):
        if self.value <= 0:
            raise ValueError(f"log of {self.value}: the argument must be > 0")
        out = self._make(np.log(self.value), (self,), "log")

        def local_backward():
            self.grad += out.grad / self.value

        out.local_backward = local_backward
        return out

    # y = ReLU(x) = max(x, 0): dy/dx = 1 for x > 0, 0 for x <= 0 (ReLU'(0) = 0, as in torch).
    def relu(self):
        out = self._make(self.value if self.value > 0 else 0, (self,), "relu")

        def local_backward():
            self.grad += (self.value > 0) * out.grad

        out.local_backward = local_backward
        return out

    # y = sigmoid(x) = 1 / (1 + e^-x): dy/dx = e^-x / (1 + e^-x)^2 = y (1 - y).
    # Value and slope are reference/activations.py's stable forms, on one number.
    def sigmoid(self):
        out = self._make(activations.sigmoid(self.value), (self,), "sigmoid")

        def local_backward():
            self.grad += activations.sigmoid_prime(self.value) * out.grad

        out.local_backward = local_backward
        return out

    # y = tanh(x) = 2 / (1 + e^-2x) - 1: dy/dx = 1 - y^2 (reference/activations.py's forms).
    def tanh(self):
        out = self._make(activations.tanh(self.value), (self,), "tanh")

        def local_backward():
            self.grad += activations.tanh_prime(self.value) * out.grad

        out.local_backward = local_backward
        return out

    # The rest are built from the operations above, so they need no backward of their own.
    def __neg__(self):  # -x = x * (-1)
        return self * -1

    def __sub__(self, other):  # x - y = x + (-y)
        return self + (-self._lift(other))

    def __truediv__(self, other):  # x / y = x * y^-1
        return self * self._lift(other) ** -1

    def __radd__(self, other):  # 5 + x
        return self + other

    def __rmul__(self, other):  # 2 * x
        return self * other

    def __rsub__(self, other):  # 1 - x
        return self._lift(other) - self

    def __rtruediv__(self, other):  # 1 / x
        return self._lift(other) / self

    def topological_order(self):
        """Every node this one depends on, each once and after all of its parents (node.parents),
        ending with this node: the order in which backward() calls the closures, reversed.
        -> a list of Nodes. (A graph can be deeper than Python's recursion limit of 1000.)"""
        order, seen = [], set()
        stack = [(self, False)]
        while stack:  # iterative depth-first search: no recursion limit on long chains
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((parent, False) for parent in node.parents)
        return order

    def backward(self):
        """Fill `grad` of every node in the graph with d(self)/d(node), by the chain rule.

        As in PyTorch, a second backward adds to the leaves' grads (call `zero_grad()` first to
        start again from 0); the intermediate nodes' grads start from 0 on every pass.
        """
        order = self.topological_order()
        for node in order:
            if node.parents:  # an intermediate result: its grad belongs to this pass
                node.grad = self.dtype.type(0)
        self.grad = self.dtype.type(1)  # d self / d self = 1
        for node in reversed(order):  # output first: a node's grad is complete before it passes on
            node.local_backward()

    def zero_grad(self):
        """Set grad = 0 on every node of the graph (PyTorch's `grad.zero_()`)."""
        for node in self.topological_order():
            node.grad = self.dtype.type(0)


def slide_example_f(x=-2.0, y=5.0, z=-4.0, dtype=np.float64):
    """The slide's f(x, y, z) = (x + y) z, as q = x + y and f = q z; runs backward.

    Returns the nodes {"x", "y", "z", "q", "f"}; at the slide's inputs x=-2, y=5, z=-4:
    q = 3, f = -12, df/dx = df/dq * dq/dx = z * 1 = -4, df/dy = z * 1 = -4, df/dz = q = 3.
    """
    x, y, z = Node(x, dtype), Node(y, dtype), Node(z, dtype)
    q = x + y
    f = q * z
    f.backward()
    return {"x": x, "y": y, "z": z, "q": q, "f": f}


def slide_example_z(x=2.0, dtype=np.float64):
    """The slide's z = 2 * (x * x) + 5 * x; runs backward. Returns the nodes {"x", "z"}.

    dz/dx = 4 x + 5 = 13 at x = 2: x is used three times (twice in x * x, once in 5 * x), and its
    grad is the sum over the three uses: 2 x + 2 x + 5.
    """
    x = Node(x, dtype)
    z = 2 * (x * x) + 5 * x
    z.backward()
    return {"x": x, "z": z}


