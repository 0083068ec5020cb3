"""A fix for a race in numba-cuda's CUDA simulator: `cuda.shared.array` is not thread-safe.

The simulator runs each CUDA thread as a Python thread and gives the threads of a block one array
per `cuda.shared.array(...)` source line (numba_cuda/numba/cuda/simulator/kernelapi.py,
FakeCUDAShared.array, numba-cuda 0.30.4) with a check-then-act on a dict:

    res = self._allocations.get(caller)
    if res is None:
        res = np.empty(shape, dtype)           # another thread may run here ...
        self._allocations[caller] = res        # ... and store its own array first
    return res

When the interpreter switches threads between the lookup and the store, two threads of one block
each make their own array and keep it for the whole kernel: they no longer share memory, and a
tree reduction or a GEMM tile silently adds uninitialised values (a train_step cost 49% off in a
CI run of tests/test_network.py). It is rare, and commoner the more often threads switch
(config.py shortens the switch interval; a loaded machine does too). Here the lookup and the store
happen under one lock, so every thread of a block gets the same array, and the caller's line is
read from its frame instead of from `traceback.extract_stack`, which formats the whole stack (and
reads source lines) on every call.

Dynamic shared memory (shape 0) and the alignment error stay numba-cuda's own code.
"""

import sys
import threading

import numpy as np
from numba.cuda import types
from numba.cuda.np import numpy_support

_lock = threading.Lock()


def _shared_array(self, shape, dtype, alignment=None):
    """FakeCUDAShared.array: one array per (file, line) of the caller, whichever thread asks first."""
    if alignment is not None or shape == 0:
        return _shared_array.original(self, shape, dtype, alignment)
    if isinstance(dtype, types.Type):
        dtype = numpy_support.as_dtype(dtype)
    caller = sys._getframe(1)
    key = (caller.f_code.co_filename, caller.f_lineno)  # what numba-cuda keys its allocations by
    with _lock:
        array = self._allocations.get(key)
        if array is None:
            array = self._allocations[key] = np.empty(shape, dtype)
    return array


def install():
    """Replace FakeCUDAShared.array with the locked version (once; only call in the simulator)."""
    from numba.cuda.simulator.kernelapi import FakeCUDAShared

    if FakeCUDAShared.array is not _shared_array:
        _shared_array.original = FakeCUDAShared.array
        FakeCUDAShared.array = _shared_array
