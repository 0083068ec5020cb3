"""Shared test set-up: the CUDA simulator switch, hypothesis's profiles and the fixture that runs a
test on every path.

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
from hypothesis import HealthCheck, settings  # noqa: E402

from kernels import paths  # noqa: E402

SIMULATED = cuda_target.simulator_on()

# hypothesis: "ci" (the default, and what CI runs) draws the same examples on every run
# (derandomized, no example database) and few of them, so the suite's time stays steady;
# HYPOTHESIS_PROFILE=nightly draws NIGHTLY times as many, new ones each run, and keeps failures
# in .hypothesis/ to replay them. No deadline: a first call may compile a kernel.
NIGHTLY = 20
_COMMON = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=10, derandomize=True, database=None, **_COMMON)
settings.register_profile("nightly", max_examples=10 * NIGHTLY, **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def examples(ci):
    """max_examples for a test that draws `ci` examples in CI (NIGHTLY times as many at night)."""
    return ci * NIGHTLY if PROFILE == "nightly" else ci


@dataclass
class NetPath:
    """One implementation of the network API, and how big a test on it may be."""

    name: str
    module: object
    small: bool  # True in the CUDA simulator: keep every dimension tiny

    def __getattr__(self, attr):  # path.forward(...) calls the module's forward
        return getattr(self.module, attr)


def apart(X):
    """X's values in a view whose entries along a row are two apart (column stride 2): an array
    that is neither C- nor Fortran-ordered."""
    wide = np.zeros((X.shape[0], 2 * X.shape[1]), X.dtype)
    wide[:, ::2] = X
    return wide[:, ::2]


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
