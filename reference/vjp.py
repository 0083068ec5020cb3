"""Slide "PyTorch Tensors, Functions and Gradients": why `z.backward(torch.ones(2, 2))` needs its
argument. Reverse mode differentiates one scalar; for a tensor z it computes a vector-Jacobian
product.

x (2, 2) and z = 2 (x x) + 5 x (2, 2) make a function R^4 -> R^4 whose derivative is the 4 x 4
Jacobian J[k, i] = dz_k / dx_i (flat indices). Here it is diagonal, J[i, i] = 4 x_i + 5, since
z_k depends on x_k only. One backward pass does not build J; given v = dL/dz, an array of z's
shape (the "upstream gradient"), it computes

    x.grad = v^T J,   i.e.  x.grad_i = sum_k v_k dz_k/dx_i  =  d/dx_i of the scalar L = sum_k v_k z_k

With v = ones that is d(sum z)/dx = 4 x + 5 = 13 at x = 2, the slide's answer; `z.backward()` with
no argument is refused for a non-scalar z ("grad can be implicitly created only for scalar
outputs"). The functions below do the same with the scalar graph of reference/graph.py: x becomes
an object array of Nodes (NumPy applies +, *, @ to them entry by entry), L = sum v * z is one Node,
and its backward() fills every x_i's grad.
"""

import numpy as np

from reference.checks import check_dtype
from reference.graph import Node


def as_nodes(x, dtype=np.float64):
    """An object array of leaf Nodes with x's shape and values."""
    x = np.asarray(x, dtype=check_dtype(dtype))
    return np.array([Node(value, dtype) for value in x.flat], dtype=object).reshape(x.shape)


def _values(nodes, attribute, dtype):
    return np.array([getattr(node, attribute) for node in np.ravel(nodes)], dtype=dtype).reshape(
        np.shape(nodes))


def vector_jacobian_product(f, x, v=None, dtype=np.float64):
    """(z, x.grad) with z = f(x) and x.grad = v^T J, the gradient of L = sum(v * z); what
    `z = f(x); z.backward(v)` leaves in x.grad.

    f: maps an object array of Nodes to an array of Nodes (or one Node), e.g.
    lambda x: 2 * (x * x) + 5 * x. v: dL/dz, z's shape; None only for a scalar z (then v = 1).
    """
    X = as_nodes(x, dtype)
    Z = f(X)
    if isinstance(Z, Node):
        if v is not None and np.shape(v) not in ((), (1,)):
            raise ValueError(f"v has shape {np.shape(v)}; z is a scalar, so v must be one too")
        L = Z if v is None else Z * float(np.ravel(v)[0])
    else:
        Z = np.asarray(Z, dtype=object)
        if v is None:
            raise ValueError(f"z has shape {Z.shape}: backward needs v = dL/dz of that shape "
                             "(reverse mode differentiates one scalar, L = sum(v * z))")
        if np.shape(v) != Z.shape:
            raise ValueError(f"v has shape {np.shape(v)}; expected z's shape {Z.shape}")
        terms = [float(v_k) * z_k for v_k, z_k in zip(np.ravel(v), Z.flat, strict=True)]
        L = sum(terms) if terms else None  # an empty z: nothing to differentiate, x.grad stays 0
    if L is not None:
        L.backward()
    return _values(Z, "value", dtype), _values(X, "grad", dtype)


def jacobian(f, x, dtype=np.float64):
    """J (z.size, x.size), J[k, i] = dz_k / dx_i: one backward pass per output entry, v = e_k."""
    x = np.asarray(x, dtype=check_dtype(dtype))
    z = _values(f(as_nodes(x, dtype)), "value", dtype)
    rows = []
    for k in range(z.size):
        e_k = np.zeros(z.shape)
        e_k.flat[k] = 1.0
        rows.append(vector_jacobian_product(f, x, e_k, dtype)[1].ravel())
    return np.array(rows, dtype=dtype).reshape(z.size, x.size)  # (0, n) when z is empty
