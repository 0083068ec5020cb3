"""numba's CUDA simulator as this project runs it (kernels/cuda_target.py).

numba-cuda's simulator hands the threads of a block one array per `cuda.shared.array(...)` line
with an unlocked check-then-act; a thread switch between the check and the store gave two threads
their own arrays, and a tree reduction summed uninitialised memory (in CI once: a train_step cost
49% off). A slow allocation makes that thread switch certain instead of rare.
"""

import time

import numpy as np
import pytest

from tests.conftest import SIMULATED, load_path


@pytest.fixture
def kc():
    if not SIMULATED:
        pytest.skip("tests the CUDA simulator; a real GPU is in use")
    return load_path("cuda").module


def test_threads_of_a_block_share_its_shared_array_even_if_a_thread_switch_splits_the_allocation(
        kc, monkeypatch):
    from numba import cuda

    from kernels.cuda import reductions

    empty = np.empty

    def slow_empty(*args, **kwargs):  # every other thread of the block runs during this sleep
        time.sleep(0.02)
        return empty(*args, **kwargs)

    dZ = np.arange(1.0, 2 * kc.config.REDUCE_THREADS + 1).reshape(1, -1)  # 1 + 2 + ... : exact sum
    dZ_d, db = cuda.to_device(dZ), cuda.device_array((1, 1), np.float64)
    monkeypatch.setattr(np, "empty", slow_empty)
    reductions.bias_gradient(dZ_d, db)  # one block of REDUCE_THREADS threads, one shared array
    monkeypatch.undo()
    n = dZ.size
    assert db.copy_to_host()[0, 0] == n * (n + 1) / 2
