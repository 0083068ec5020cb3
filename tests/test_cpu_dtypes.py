"""kernels.cpu compiles each kernel once per float dtype: an input of the other dtype is converted
to the network's, as the reference's arithmetic would see it, and never compiled for.

numba compiles a kernel again for every new combination of argument types, seconds each, and a
kernel compiled for float32 activations with float64 labels computes in float64: the same numbers
within the tolerance, so only the kernels' compiled signatures show the difference.
"""

import numpy as np

from kernels.cpu import elementwise, reductions
from kernels.cpu import network as cpu
from reference import network as reference


def mixed_signatures(kernel):
    """The compiled signatures of kernel whose array arguments are of more than one dtype."""
    mixed = []
    for signature in kernel.signatures:
        dtypes = {str(a.dtype) for a in signature if hasattr(a, "dtype") and hasattr(a, "ndim")}
        if len(dtypes) > 1:
            mixed.append(signature)
    return mixed


def test_labels_and_gradients_of_another_dtype_are_converted_not_compiled_for():
    parameters = reference.initialize_parameters([4, 5, 3], seed=0, dtype=np.float32)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 6)).astype(np.float32)
    Y32 = rng.integers(0, 2, (3, 6)).astype(np.float32)
    Y64 = Y32.astype(np.float64)
    AL, caches = cpu.forward(X, parameters)

    for cost in ("cross_entropy", "mse"):
        assert cpu.compute_cost(AL, Y64, cost) == cpu.compute_cost(AL, Y32, cost), cost
    grads = cpu.backward(AL, Y64, caches)
    same = cpu.backward(AL, Y32, caches)
    for key in same:
        assert grads[key].dtype == np.float32, f"{key} is {grads[key].dtype}"
        np.testing.assert_array_equal(grads[key], same[key], err_msg=key)

    updated = {k: v.copy() for k, v in parameters.items()}
    cpu.update_parameters(parameters, {k: v.astype(np.float64) for k, v in same.items()}, 0.1)
    cpu.update_parameters(updated, same, 0.1)
    for key in updated:
        np.testing.assert_array_equal(parameters[key], updated[key], err_msg=key)

    for kernel in (reductions.cost, elementwise.output_gradient, elementwise.update):
        assert not mixed_signatures(kernel), (
            f"{kernel.__name__} was compiled for mixed dtypes: {mixed_signatures(kernel)}")
