"""Where kernels.cuda runs: a real GPU, or numba's CUDA simulator. GPU detection lives here only.

    driver_present()       an NVIDIA driver on this machine (reads one file, imports nothing)
    use_simulator()        switch numba's CUDA simulator on: call it before kernels.cuda is imported
    simulator_on()         whether numba.cuda is the simulator
    unavailable_reason()   None when kernels.cuda can run here (a GPU, or the simulator), else why
    install_shared_array_fix()   the simulator's shared arrays made thread-safe (below)

Importing this module imports no numba, so a caller can still choose the simulator.

The fix: the simulator runs each CUDA thread as a Python thread and gives a block one array per
`cuda.shared.array(...)` source line, with an unlocked check-then-act on a dict
(numba-cuda 0.30.4, FakeCUDAShared.array). A thread switch between the lookup and the store gives
two threads of one block different "shared" arrays: a tree reduction then adds uninitialised
values (docs/performance.md, "The CUDA simulator"). Here lookup and store run under one lock.
"""

import os
import sys
import threading
from pathlib import Path

NVIDIA_DRIVER = Path("/proc/driver/nvidia/version")


def driver_present():
    """True when this machine has an NVIDIA driver (the file its kernel module writes)."""
    return NVIDIA_DRIVER.exists()


def use_simulator():
    """Run kernels.cuda in numba's CUDA simulator in this process.

    numba reads NUMBA_ENABLE_CUDASIM when numba is first imported; if something imported numba
    already (pytest resolving a numba warning class, say), its config is read again, so
    numba.cuda, on its own first import, picks the simulator. Also shortens the interpreter's
    thread switch interval: the simulator polls its threads at every syncthreads() and each poll
    waits for a switch (5 ms by default); a 0.2 ms interval keeps the simulated tests from
    waiting (docs/performance.md, "The CUDA simulator").
    """
    if "numba.cuda" in sys.modules and not simulator_on():
        raise RuntimeError("numba.cuda was imported with the real CUDA target before use_simulator()")
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    if "numba" in sys.modules:
        import numba.core.config

        numba.core.config.reload_config()
    sys.setswitchinterval(min(sys.getswitchinterval(), 2e-4))


def simulator_on():
    """Whether numba.cuda is (or will be, on its first import) the simulator."""
    if "numba.cuda" in sys.modules:
        try:
            from numba.cuda.core import config
        except ImportError:  # an older numba-cuda keeps it in numba's own config
            from numba.core import config
        return bool(config.ENABLE_CUDASIM)
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def unavailable_reason():
    """None when kernels.cuda can run here (a usable GPU, or the simulator); otherwise why not."""
    if simulator_on():
        return None
    if not driver_present():
        return f"no NVIDIA driver on this machine ({NVIDIA_DRIVER} is missing) and the simulator is off"
    try:
        from numba import cuda

        if cuda.is_available():
            return None
    except Exception as error:  # noqa: BLE001  (any failure to reach the GPU is the reason)
        return f"numba.cuda cannot reach the GPU ({type(error).__name__}: {error})"
    return "numba.cuda.is_available() is False: no usable CUDA GPU"


_lock = threading.Lock()


def _shared_array(self, shape, dtype, alignment=None):
    """FakeCUDAShared.array: one array per (file, line) of the caller, whichever thread asks first."""
    if alignment is not None or shape == 0:  # dynamic shared memory, alignment: numba-cuda's own
        return _shared_array.original(self, shape, dtype, alignment)
    import numpy as np
    from numba.cuda import types
    from numba.cuda.np import numpy_support

    if isinstance(dtype, types.Type):
        dtype = numpy_support.as_dtype(dtype)
    caller = sys._getframe(1)
    key = (caller.f_code.co_filename, caller.f_lineno)  # what numba-cuda keys its allocations by
    with _lock:
        array = self._allocations.get(key)
        if array is None:
            array = self._allocations[key] = np.empty(shape, dtype)
    return array


def install_shared_array_fix():
    """Replace the simulator's FakeCUDAShared.array with the locked version (idempotent)."""
    from numba.cuda.simulator.kernelapi import FakeCUDAShared

    if FakeCUDAShared.array is not _shared_array:
        _shared_array.original = FakeCUDAShared.array
        FakeCUDAShared.array = _shared_array
