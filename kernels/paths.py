"""The three paths by name, and the names every path offers.

API is the network's public functions, as reference/network.py defines them; kernels.cpu and
kernels.cuda offer the same names with the same arguments (tests/test_path_api.py checks it).
The training loops of reference/training.py take any path's train_step. The registry sits here,
above the reference it names, so that reference/ imports nothing else of the project.

    PATHS              name -> module: reference (NumPy), cpu (numba @njit), cuda (numba.cuda)
    load_path(name)    (module, None), or (None, why it cannot run here)
    host_parameters    a path's parameters as NumPy arrays
"""

import importlib

import numpy as np

from kernels.cuda_target import unavailable_reason

API = (
    "initialize_parameters", "forward", "compute_cost", "backward", "update_parameters",
    "train_step", "linear_forward", "linear_backward",
    "sigmoid", "sigmoid_backward", "tanh", "tanh_backward", "relu", "relu_backward",
)

PATHS = {"reference": "reference.network", "cpu": "kernels.cpu", "cuda": "kernels.cuda"}


def load_path(name):
    """`(module, None)` for a path that can run here, or `(None, reason)` for one that cannot."""
    if name not in PATHS:
        raise ValueError(f"unknown path {name!r}; expected one of {tuple(PATHS)}")
    if name == "cuda":
        reason = unavailable_reason()
        if reason:
            return None, f"kernels.cuda cannot run here: {reason}"
    try:
        module = importlib.import_module(PATHS[name])
    except ImportError as error:
        return None, f"{PATHS[name]} does not import ({error})"
    return module, None


def to_host(array):
    """A NumPy copy of a path's array (a numba.cuda device array is copied back to the host)."""
    if hasattr(array, "copy_to_host"):
        return array.copy_to_host()
    return np.asarray(array)


def host_parameters(parameters):
    """The parameters dict as NumPy arrays, whichever path holds them."""
    return {key: to_host(value) for key, value in parameters.items()}
