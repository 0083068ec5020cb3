"""Shared test set-up: the CUDA simulator switch and the fixture that runs a test on every path.

numba reads NUMBA_ENABLE_CUDASIM when it is first imported, so it is decided here, before any
test module imports numba: on a machine without an NVIDIA driver the kernels.cuda tests run in
numba's CUDA simulator (one Python thread per CUDA thread, so they use tiny shapes).
"""

import importlib
import os
from dataclasses import dataclass
from pathlib import Path

if not Path("/proc/driver/nvidia/version").exists():
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"

# path name -> the module that offers reference.network's public API on that path
PATH_MODULES = {"reference": "reference.network", "cpu": "kernels.cpu", "cuda": "kernels.cuda"}


@dataclass
class NetPath:
    """One implementation of the network API, and how big a test on it may be."""

    name: str
    module: object
    small: bool  # True in the CUDA simulator: keep every dimension tiny

    def __getattr__(self, attr):  # path.forward(...) calls the module's forward
        return getattr(self.module, attr)


def load_path(name):
    """Import a path's module, or skip the test saying why it cannot run here."""
    try:
        module = importlib.import_module(PATH_MODULES[name])
    except ImportError as e:
        pytest.skip(f"{name} path not importable here: {e}")
    if name == "cuda" and not SIMULATED:
        from numba import cuda

        if not cuda.is_available():
            pytest.skip("cuda path: no usable GPU and the simulator is off")
    return NetPath(name, module, small=name == "cuda" and SIMULATED)


@pytest.fixture(params=list(PATH_MODULES))
def path(request):
    """Every path in turn: the same test body runs on the reference, kernels.cpu and kernels.cuda."""
    return load_path(request.param)


@pytest.fixture(params=[np.float64, np.float32], ids=["f64", "f32"])
def dtype(request):
    return np.dtype(request.param)
