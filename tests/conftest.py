"""Shared test set-up: the CUDA simulator switch and the fixture that runs a test on every path.

numba.cuda chooses the simulator when it is first imported, so it is decided here, before any
test module imports it: on a machine without an NVIDIA driver the kernels.cuda tests run in
numba's CUDA simulator (one Python thread per CUDA thread, so they use tiny shapes), unless
NUMBA_ENABLE_CUDASIM=0 says otherwise.
"""

import os
from dataclasses import dataclass

from kernels import cuda_target

if not cuda_target.driver_present() and os.environ.get("NUMBA_ENABLE_CUDASIM") != "0":
    cuda_target.use_simulator()

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from kernels import paths  # noqa: E402

SIMULATED = cuda_target.simulator_on()


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
    module, reason = paths.load_path(name)
    if module is None:
        pytest.skip(reason)
    return NetPath(name, module, small=name == "cuda" and SIMULATED)


@pytest.fixture(params=list(paths.PATHS))
def path(request):
    """Every path in turn: the same test body runs on the reference, kernels.cpu and kernels.cuda."""
    return load_path(request.param)


@pytest.fixture(params=[np.float64, np.float32], ids=["f64", "f32"])
def dtype(request):
    return np.dtype(request.param)
