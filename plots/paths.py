"""The three implementations of the network API by name, and why one cannot run here.

    reference  reference.network  (NumPy, always available)
    cpu        kernels.cpu        (numba @njit loops)
    cuda       kernels.cuda       (numba.cuda: a CUDA GPU, or numba's simulator when the
                                   environment sets NUMBA_ENABLE_CUDASIM=1 before numba is imported)
"""

import importlib

import numpy as np

PATH_MODULES = {"reference": "reference.network", "cpu": "kernels.cpu", "cuda": "kernels.cuda"}
API = ("initialize_parameters", "forward", "compute_cost", "train_step")


def cuda_unavailable_reason(module=None):
    """None when kernels.cuda can run here (a GPU, or the simulator); otherwise why not.

    module: kernels.cuda once imported; its SIMULATOR flag is numba-cuda's own reading of
    NUMBA_ENABLE_CUDASIM, which `numba.cuda.is_available()` may not reflect yet when the variable
    was set after numba itself was imported (as tests/conftest.py does).
    """
    if module is not None and getattr(module, "SIMULATOR", False):
        return None
    try:
        from numba import cuda
    except Exception as error:  # noqa: BLE001 - any import failure is the reason itself
        return f"numba.cuda does not import ({type(error).__name__}: {error})"
    try:
        if cuda.is_available():
            return None
    except Exception as error:  # noqa: BLE001
        return f"no CUDA driver ({type(error).__name__}: {error})"
    return "no CUDA GPU here (numba.cuda.is_available() is False)"


def load_path(name):
    """`(module, None)` for a path that can run here, or `(None, reason)` for one that cannot."""
    if name not in PATH_MODULES:
        raise ValueError(f"unknown path {name!r}; expected one of {tuple(PATH_MODULES)}")
    try:
        module = importlib.import_module(PATH_MODULES[name])
    except ImportError as error:
        return None, f"{PATH_MODULES[name]} does not import ({error})"
    if name == "cuda":
        reason = cuda_unavailable_reason(module)
        if reason:
            return None, reason
    missing = [attr for attr in API if not hasattr(module, attr)]
    if missing:
        return None, f"{PATH_MODULES[name]} lacks {', '.join(missing)}"
    return module, None


def to_host(array):
    """A NumPy copy of a path's array (a numba.cuda device array is copied back to the host)."""
    if hasattr(array, "copy_to_host"):
        return array.copy_to_host()
    return np.asarray(array)


def host_parameters(parameters):
    """The parameters dict as NumPy arrays, whichever path holds them."""
    return {key: to_host(value) for key, value in parameters.items()}
