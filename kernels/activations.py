"""The six public activation functions of a fast path, from one table.

Each path writes two functions that check their inputs and run its kernels, activation(Z, name)
and activation_backward(dA, Z, name); activation_functions names and documents the public pair
of one activation over them, so kernels.cpu and kernels.cuda offer the reference's sigmoid,
sigmoid_backward, tanh, tanh_backward, relu and relu_backward with the same arguments and words.
"""

# name -> (A = g(Z), dZ = dA * g'(Z)) as reference/activations.py derives them
EQUATIONS = {
    "sigmoid": ("A = 1 / (1 + e^(-Z))", "dZ = dA * A (1 - A)"),
    "tanh": ("A = 2 / (1 + e^(-2Z)) - 1", "dZ = dA * (1 - A^2)"),
    "relu": ("A = max(Z, 0)", "dZ = dA where Z > 0, else 0"),
}


def activation_functions(name, activation, activation_backward, module):
    """(g, g_backward): the public `name`(Z) and `name`_backward(dA, Z) of the path `module`."""
    forward_equation, backward_equation = EQUATIONS[name]

    def g(Z):
        return activation(Z, name)

    def g_backward(dA, Z):
        return activation_backward(dA, Z, name)

    g.__doc__ = f"{forward_equation}, elementwise.  Z: (n, m) -> A: (n, m)."
    g_backward.__doc__ = f"{backward_equation}, elementwise.  dA, Z: (n, m) -> dZ: (n, m)."
    for function, function_name in ((g, name), (g_backward, f"{name}_backward")):
        function.__name__ = function.__qualname__ = function_name
        function.__module__ = module
    return g, g_backward
