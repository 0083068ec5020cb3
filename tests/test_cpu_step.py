"""The fused train_step of kernels.cpu (kernels/cpu/step.py): its fast path and its memory.

After a checked call, later calls with the same parameter arrays skip the Python checks and the
kernel checks the values: a bad value must still give the reference's error and leave the
weights untouched, and a fast step must equal a checked one bit for bit. Its results against
torch are tested with every path's in test_network.py and test_training.py.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kernels.cpu import step
from reference import network as reference
from tests.torch_compare import TOLERANCES, assert_close

ROOT = Path(__file__).resolve().parents[1]


def problem(dims=(4, 5, 3), m=6, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    parameters = reference.initialize_parameters(list(dims), seed=seed, dtype=dtype)
    X = rng.standard_normal((dims[0], m)).astype(dtype)
    Y = rng.integers(0, 2, (dims[-1], m)).astype(dtype)
    return parameters, X, Y


def reference_error(parameters, X, Y, **options):
    with pytest.raises((ValueError, TypeError)) as info:
        reference.train_step({k: v.copy() for k, v in parameters.items()}, X, Y, 0.1, **options)
    return type(info.value), str(info.value)


@pytest.mark.parametrize("where", ["X", "Y", "W2", "b1"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_fast_path_rejects_nan_or_inf_like_the_reference(where, bad):
    parameters, X, Y = problem()
    step.train_step(parameters, X, Y, 0.1)  # validated: the next call takes the fast path
    target = {"X": X, "Y": Y}.get(where, parameters.get(where))
    target[0, 0] = bad
    before = {k: v.copy() for k, v in parameters.items()}
    kind, message = reference_error(parameters, X, Y)
    with pytest.raises(kind) as info:
        step.train_step(parameters, X, Y, 0.1)
    assert str(info.value) == message
    for key in before:
        np.testing.assert_array_equal(parameters[key], before[key])


def test_fast_path_rejects_labels_outside_0_1_only_for_cross_entropy():
    parameters, X, Y = problem()
    step.train_step(parameters, X, Y, 0.1)
    Y[1, 2] = 1.5
    kind, message = reference_error(parameters, X, Y)
    with pytest.raises(kind, match=r"Y has labels outside \[0, 1\]") as info:
        step.train_step(parameters, X, Y, 0.1)
    assert str(info.value) == message
    step.train_step(parameters, X, Y, 0.1, cost="mse")
    assert np.isfinite(step.train_step(parameters, X, Y, 0.1, cost="mse"))  # fast path, mse


def test_fast_path_notices_a_replaced_parameter_and_a_bad_learning_rate():
    parameters, X, Y = problem()
    step.train_step(parameters, X, Y, 0.1)
    parameters["W2"] = np.ones((3, 4))  # n[1] = 5, so W2 must be (3, 5)
    with pytest.raises(ValueError, match=r"W2 has shape \(3, 4\); expected \(3, 5\)"):
        step.train_step(parameters, X, Y, 0.1)
    parameters, X, Y = problem()
    step.train_step(parameters, X, Y, 0.1)
    with pytest.raises(ValueError, match="learning_rate = nan"):
        step.train_step(parameters, X, Y, float("nan"))


def test_fast_path_gives_the_same_steps_as_the_checked_path():
    """Ten steps through the cached workspace equal ten first calls (fresh dicts, full checks)."""
    parameters, X, Y = problem(dims=(7, 9, 4, 2), m=11)
    fresh = {k: v.copy() for k, v in parameters.items()}
    for _ in range(10):
        J_fast = step.train_step(parameters, X, Y, 0.05, hidden="tanh")
        step._VALIDATED.clear()  # forget the validation: the next call runs every check
        J_checked = step.train_step(fresh, X, Y, 0.05, hidden="tanh")
        step._VALIDATED.clear()
        assert J_fast == J_checked
    for key in fresh:
        np.testing.assert_array_equal(parameters[key], fresh[key])


def test_non_contiguous_parameters_are_updated_in_place():
    parameters, X, Y = problem()
    expected = {k: v.copy() for k, v in parameters.items()}
    reference.train_step(expected, X, Y, 0.1)
    parameters["W1"] = np.asfortranarray(parameters["W1"])
    W1 = parameters["W1"]
    step.train_step(parameters, X, Y, 0.1)
    assert parameters["W1"] is W1
    for key in expected:
        assert_close(key, parameters[key], expected[key], TOLERANCES[np.dtype(np.float64)][0])


# ---------------------------------------------------------------------------------------------
# Steady-state memory. numba counts its own allocations only when NUMBA_NRT_STATS=1 is set
# before it is first imported, so this runs in a fresh interpreter.

ALLOCATION_SCRIPT = """
import json, tracemalloc
import numpy as np
from numba import njit
from numba.core.runtime import rtsys
import kernels.cpu as cpu
from reference.network import initialize_parameters

@njit
def takes_two_arrays(X, Y):
    return X[0, 0] + Y[0, 0]

def deltas(f, steps=20):
    tracemalloc.start()
    for _ in range(500):
        f()  # compile, allocate the workspace, validate, fill Python's and numba's caches
    tracemalloc.reset_peak()
    start, _ = tracemalloc.get_traced_memory()
    before = rtsys.get_allocation_stats()
    for _ in range(steps):
        f()
    after = rtsys.get_allocation_stats()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"nrt": [a - b for a, b in zip(after, before)], "peak_bytes": peak - start}

out = {}
# The last network's first products reach BLOCKED_MIN_MACS: the blocked path runs too.
for dims, m in [([2, 10, 1], 100), ([30, 16, 8, 1], 569), ([1000, 100, 10], 64),
                ([1024, 512, 2], 128)]:
    parameters = initialize_parameters(dims, dtype=np.float32)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((dims[0], m)).astype(np.float32)
    Y = (rng.random((dims[-1], m)) > 0.5).astype(np.float32)
    out[str(dims)] = deltas(lambda: cpu.train_step(parameters, X, Y, 0.01))
    out[str(dims)]["workspace_bytes"] = sum(
        a.nbytes for a in cpu.step.workspace(dims, m, np.float32).arrays)
    out["passing X, Y"] = deltas(lambda: takes_two_arrays(X, Y))
print(json.dumps(out))
"""


def test_steady_state_train_step_allocates_nothing():
    env = dict(os.environ, NUMBA_NRT_STATS="1", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", ALLOCATION_SCRIPT], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    # numba's only per-call allocations: the wrappers (MemInfo) of the two NumPy arrays passed
    # in, X and Y, freed on return; no kernel allocates an array. Counted as (alloc, free,
    # meminfo alloc, meminfo free) over 20 steps.
    baseline = out.pop("passing X, Y")["nrt"]
    assert baseline == [40, 40, 40, 40]
    for dims, d in out.items():
        assert d["nrt"] == baseline, dims
        # Python side: no NumPy buffer either (tracemalloc sees NumPy's allocations); the peak
        # above the start is a few small Python objects, far below one workspace array.
        assert d["peak_bytes"] < 2048, dims
        assert d["workspace_bytes"] > 2048, dims
