"""The fused train_step of kernels.cpu (kernels/cpu/step.py): its fast path, its threads, its memory.

After a checked call, later calls with the same parameter arrays skip the Python checks (a
PreparedStep) and the kernel checks the values: a bad value must still give the reference's error
and leave the weights untouched, and a fast step must equal a checked one bit for bit. Its results
against torch are tested with every path's in test_network.py and test_training.py.
"""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from kernels.cpu import config, step
from reference import network as reference
from tests.conftest import apart
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


def forget(parameters):
    """Drop the prepared steps of parameters: its next call runs every check."""
    for key in [key for key in step._PREPARED if key[0] == id(parameters)]:
        del step._PREPARED[key]


def prepared_steps(parameters):
    """The PreparedSteps the memo holds for this parameters dict (one per batch shape)."""
    return [s for key, s in step._PREPARED.items() if key[0] == id(parameters)]


def count_checks(monkeypatch):
    """A list that grows by one at each call of the reference's checks of a step."""
    calls = []
    check_step = step.checks.check_step
    monkeypatch.setattr(step.checks, "check_step", lambda *a: calls.append(1) or check_step(*a))
    return calls


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_repeated_calls_skip_the_checks_also_with_a_short_last_batch(monkeypatch, dtype):
    parameters, X, Y = problem(m=10, dtype=dtype)
    calls = count_checks(monkeypatch)
    batches = [(X[:, :6].copy(), Y[:, :6].copy()), (X[:, 6:].copy(), Y[:, 6:].copy())]
    for _ in range(3):  # three epochs of a 6 + 4 split: the first two steps prepare, no others
        for Xb, Yb in batches:
            step.train_step(parameters, Xb, Yb, 0.1)
    assert len(calls) == 2
    step.train_step(parameters, X[:, :6], Y[:, :6], 0.1)  # a non-contiguous view: checked
    assert len(calls) == 3


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
        J_checked = step.train_step(fresh, X, Y, 0.05, hidden="tanh")
        forget(fresh)  # the next call on fresh runs every check again
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


def test_non_contiguous_parameters_keep_training_in_place():
    """Three steps on a Fortran-ordered W1 (a copy inside, in and out each step) equal three
    reference steps, also when W1 is changed between steps."""
    parameters, X, Y = problem()
    expected = {k: v.copy() for k, v in parameters.items()}
    parameters["W1"] = np.asfortranarray(parameters["W1"])
    W1 = parameters["W1"]
    for i in range(3):
        if i == 2:
            W1[0, 0] = expected["W1"][0, 0] = 0.5
        assert step.train_step(parameters, X, Y, 0.1) == pytest.approx(
            reference.train_step(expected, X, Y, 0.1), rel=1e-12)
    assert parameters["W1"] is W1
    for key in expected:
        assert_close(key, parameters[key], expected[key], TOLERANCES[np.dtype(np.float64)][0])


def test_labels_of_another_dtype_step_as_the_checked_path():
    """float64 labels with float32 parameters: every call converts them as the checked path does."""
    parameters, X, Y = problem(dtype=np.float32)
    fresh = {k: v.copy() for k, v in parameters.items()}
    Y64 = Y.astype(np.float64)
    costs = [step.train_step(parameters, X, Y64, 0.1) for _ in range(3)]
    for J in costs:
        assert J == step.train_step(fresh, X, Y, 0.1)
        forget(fresh)
    for key in fresh:
        np.testing.assert_array_equal(parameters[key], fresh[key])
    kinds = {(str(s[3].dtype), str(s[4].dtype)) for s in step.train_step_on.signatures}
    assert all(x == y for x, y in kinds), f"train_step_on compiled for X, Y dtypes {kinds}"


def test_the_fast_path_of_a_network_on_the_engine_is_its_checked_path():
    """A network whose products reach the engine (W1 A0: 40 x 800 x 32, past ENGINE_MIN_MACS):
    its fast path (the prepared buffers, no checks) steps as the checked path, bit for bit."""
    parameters, X, Y = problem(dims=(800, 40, 1), m=32)
    fresh = {k: v.copy() for k, v in parameters.items()}
    step.train_step(parameters, X, Y, 0.1)
    step.train_step(fresh, X, Y, 0.1)
    forget(fresh)
    [prepared] = prepared_steps(parameters)
    assert prepared.Vbuf.ndim == 2, "the engine's 2-D buffers: this network must reach the engine"
    for _ in range(3):
        J = step.train_step(parameters, X, Y, 0.1)
        assert J == step.train_step(fresh, X, Y, 0.1)
        forget(fresh)
    for key in fresh:
        np.testing.assert_array_equal(parameters[key], fresh[key])


@pytest.mark.parametrize("dims, m", [((4, 5, 3), 6), ((40, 800, 1), 32), ((30, 600, 200, 1), 32)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fused_step_is_the_layer_by_layer_step_bit_for_bit(dims, m, dtype):
    """train_step is forward, compute_cost (from the logits Z[L]), backward and
    update_parameters of kernels.cpu.network in one call: the same cost and parameters, bit for
    bit, below the engine and on it (W1 A0 of (40, 800, 1): 800 x 40 x 32 multiply-adds)."""
    from kernels.cpu import network as cpu

    for hidden, output, cost in (("tanh", "sigmoid", "cross_entropy"), ("relu", "linear", "mse")):
        parameters, X, Y = problem(dims=dims, m=m, dtype=dtype)
        for l in range(1, len(dims)):  # nonzero biases: the engine adds W A to Z = b
            parameters[f"b{l}"] += np.linspace(-0.5, 0.5, dims[l], dtype=dtype)[:, None]
        fused = {k: v.copy() for k, v in parameters.items()}
        AL, caches = cpu.forward(X, parameters, hidden, output)
        J = cpu.compute_cost(AL, Y, cost, logits=caches[-1].Z if cost == "cross_entropy" else None)
        cpu.update_parameters(parameters, cpu.backward(AL, Y, caches, cost), 0.1)
        assert step.train_step(fused, X, Y, 0.1, hidden, output, cost) == J, (hidden, cost)
        for key in parameters:
            np.testing.assert_array_equal(fused[key], parameters[key], err_msg=f"{key} {hidden} {cost}")


def test_the_workspace_arrays_start_on_cache_lines():
    """Every array of a prepared step's workspace (Z, A, dZ, dA, dW, db of each layer) starts on
    a cache line (config.LINE, 64 bytes): with m a whole number of vectors so does every row, and the kernels'
    vector loads along m do not straddle two lines. (NumPy starts its arrays on 16 bytes: all
    18 here on 64 by chance, (1/4)^18.)"""
    parameters, X, Y = problem(dims=(5, 7, 6, 2), m=16, dtype=np.float32)
    forget(parameters)  # an earlier test's dict may have had the same id
    step.train_step(parameters, X, Y, 0.1)
    (prepared,) = prepared_steps(parameters)
    for kind in ("Z", "A", "dZ", "dA", "dW", "db"):
        for l, a in enumerate(prepared.arrays[kind][1:], start=1):
            off = a.ctypes.data % config.LINE
            assert off == 0, f"{kind}[{l}] starts {off} bytes past a line"


def test_more_networks_than_the_memo_holds_train_as_one_alone():
    """Round-robin over more networks than the memo keeps: evicted steps are prepared again."""
    problems = [problem(seed=seed) for seed in range(step._PREPARED.size + 3)]
    alone = []
    for parameters, X, Y in problems:
        copy = {k: v.copy() for k, v in parameters.items()}
        alone.append(([step.train_step(copy, X, Y, 0.1) for _ in range(3)], copy))
    together = [[] for _ in problems]
    for _ in range(3):
        for costs, (parameters, X, Y) in zip(together, problems, strict=True):
            costs.append(step.train_step(parameters, X, Y, 0.1))
    assert len(step._PREPARED) <= step._PREPARED.size
    for costs, (parameters, _, _), (expected_costs, expected) in zip(together, problems, alone,
                                                                      strict=True):
        assert costs == expected_costs
        for key in expected:
            np.testing.assert_array_equal(parameters[key], expected[key])


def train(parameters, X, Y, steps, start=None):
    """steps fused steps (after start.wait(), if given) -> the costs."""
    if start is not None:
        start.wait()
    return [step.train_step(parameters, X, Y, 0.05, hidden="tanh") for _ in range(steps)]


def test_two_threads_training_same_shaped_networks_get_the_single_threaded_results():
    """The kernel releases the GIL, so two threads step at the same time: each network has its
    own workspace (a shared one would mix the two networks' Z, A, dZ, ... mid-step)."""
    dims, m, steps = (30, 16, 8, 1), 569, 100
    problems = [problem(dims, m, np.float32, seed) for seed in (1, 2)]
    expected = []
    for parameters, X, Y in problems:
        alone = {k: v.copy() for k, v in parameters.items()}
        expected.append((train(alone, X, Y, steps), alone))
    costs = [None, None]
    start = threading.Barrier(2)

    def run(i):
        costs[i] = train(*problems[i], steps, start)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, ((parameters, _, _), (expected_costs, expected_parameters)) in enumerate(
            zip(problems, expected, strict=True)):
        assert costs[i] == expected_costs, f"thread {i}: costs differ from training alone"
        for key in parameters:
            np.testing.assert_array_equal(parameters[key], expected_parameters[key], f"thread {i} {key}")


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
def takes_the_step_arguments(table, Vbuf, Cbuf, X, Y):
    return table[0] + Vbuf.size + Cbuf.size + X[0, 0] + Y[0, 0]

def workspace_bytes(prepared):  # all the step writes: Z, A, dZ, dA, dW, db and the packing buffers
    kinds = ("Z", "A", "dZ", "dA", "dW", "db")
    return prepared.Vbuf.nbytes + prepared.Cbuf.nbytes + sum(
        a.nbytes for kind in kinds for a in prepared.arrays[kind])

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
    prepared, = [s for key, s in cpu.step._PREPARED.items() if key[0] == id(parameters)]
    out[str(dims)]["workspace_bytes"] = workspace_bytes(prepared)
    out[str(dims)]["passing the arguments"] = deltas(lambda: takes_the_step_arguments(
        prepared.table, prepared.Vbuf, prepared.Cbuf, X, Y))["nrt"]
print(json.dumps(out))
"""


def test_steady_state_train_step_allocates_nothing():
    env = dict(os.environ, NUMBA_NRT_STATS="1", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", ALLOCATION_SCRIPT], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    # numba's only per-call allocations: the wrappers (MemInfo) of the NumPy arrays passed in
    # (the workspace's table and packing buffers, X and Y), freed on return; no kernel allocates
    # an array. Counted as (alloc, free, meminfo alloc, meminfo free) over 20 steps.
    for dims, d in out.items():
        assert d["passing the arguments"] == [100, 100, 100, 100], dims
        assert d["nrt"] == d["passing the arguments"], dims
        # Python side: no NumPy buffer either (tracemalloc sees NumPy's allocations); the peak
        # above the start is a few small Python objects, far below one workspace array.
        assert d["peak_bytes"] < 2048, dims
        assert d["workspace_bytes"] > 2048, dims


@pytest.mark.parametrize("learning_rate", [0.1, np.float64(0.1), np.float32(0.1), np.float16(0.1),
                                           np.array(0.1), 1, np.int64(1), True],
                         ids=lambda r: f"{type(r).__name__}({r})")
def test_any_number_steps_as_the_reference_on_the_one_compiled_step(learning_rate):
    """Every number the reference takes as a learning rate reaches the kernel as a float: the
    same step (numba compiles train_step_on once per dtype, not once per number type)."""
    parameters, X, Y = problem()
    expected = {k: v.copy() for k, v in parameters.items()}
    for _ in range(2):  # the checked call, then the fast path
        J = step.train_step(parameters, X, Y, learning_rate)
        assert J == pytest.approx(reference.train_step(expected, X, Y, learning_rate), rel=1e-12)
    for key in expected:
        assert_close(key, parameters[key], expected[key], TOLERANCES[np.dtype(np.float64)][0])
    alphas = {str(signature[-1]) for signature in step.train_step_on.signatures}  # alpha: the last
    assert alphas == {"float64"}, f"train_step_on compiled for learning rates of types {alphas}"


@pytest.mark.parametrize("change", ["lost its last layer", "swapped a key for another"])
def test_a_dict_that_lost_a_key_since_its_step_was_prepared(change):
    """The prepared step looked its arrays up by key: a dict without one of them raised
    KeyError in accepts() (the same number of keys) or holds() (a valid smaller network)."""
    parameters, X, Y = problem(dims=(4, 3, 3), m=5)
    expected = {k: v.copy() for k, v in parameters.items()}
    step.train_step(parameters, X, Y, 0.1)
    reference.train_step(expected, X, Y, 0.1)
    for d in (parameters, expected):
        if change == "lost its last layer":  # W1, b1: a one-layer network of the same X, Y shapes
            del d["W2"], d["b2"]
        else:  # as many keys as before, one of them new
            d["b3"] = d.pop("W2")
    kind, message = (None, None) if change == "lost its last layer" else reference_error(expected, X, Y)
    if kind is None:
        J = step.train_step(parameters, X, Y, 0.1)
        assert J == pytest.approx(reference.train_step(expected, X, Y, 0.1), rel=1e-12)
        for key in expected:
            assert_close(key, parameters[key], expected[key], TOLERANCES[np.dtype(np.float64)][0])
    else:
        with pytest.raises(kind) as info:
            step.train_step(parameters, X, Y, 0.1)
        assert str(info.value) == message


@pytest.mark.parametrize("layout", ["Fortran order", "a strided view"])
@pytest.mark.parametrize("which", ["X", "Y"])
def test_a_batch_of_any_layout_steps_on_the_one_compiled_step(which, layout):
    """A batch that is not C-contiguous takes the checked path, which hands the kernel a
    C-contiguous copy: the values are the reference's, and numba compiles train_step_on for
    C-ordered X and Y only (a batch of another layout reaching the kernel would compile the
    whole step again, seconds, for the same numbers)."""
    parameters, X, Y = problem()
    expected = {k: v.copy() for k, v in parameters.items()}
    step.train_step(parameters, X, Y, 0.1)  # prepared for C-ordered batches of this shape
    reference.train_step(expected, X, Y, 0.1)
    batch = {"X": X, "Y": Y}
    a = batch[which]
    batch[which] = np.asfortranarray(a) if layout == "Fortran order" else apart(a)
    assert not batch[which].flags.c_contiguous
    for _ in range(2):
        J = step.train_step(parameters, batch["X"], batch["Y"], 0.1)
        assert J == pytest.approx(reference.train_step(expected, batch["X"], batch["Y"], 0.1), rel=1e-12)
    for key in expected:
        assert_close(key, parameters[key], expected[key], TOLERANCES[np.dtype(np.float64)][0])
    layouts = {(s[3].layout, s[4].layout) for s in step.train_step_on.signatures}
    assert layouts == {("C", "C")}, f"train_step_on compiled for X, Y layouts {layouts}"


@pytest.mark.parametrize("which", ["X", "Y"])
def test_a_misaligned_batch_takes_the_checked_path(monkeypatch, which):
    """The fast path calls the step's machine code without numba's dispatcher, so it takes only
    batches of the types that code was compiled for: a C-contiguous batch whose entries are not
    on their natural alignment (a buffer read at an odd offset) goes through the checks, which
    hand the kernel an aligned copy (numba compiles train_step_on for aligned X and Y only)."""
    parameters, X, Y = problem()
    expected = {k: v.copy() for k, v in parameters.items()}
    step.train_step(parameters, X, Y, 0.1)  # prepared: the next call of this shape is fast
    reference.train_step(expected, X, Y, 0.1)
    a = {"X": X, "Y": Y}[which]
    buffer = bytearray(a.nbytes + 4)
    misaligned = np.frombuffer(buffer, a.dtype, a.size, offset=4).reshape(a.shape)
    misaligned[...] = a
    assert misaligned.flags.c_contiguous and not misaligned.flags.aligned
    batch = {"X": X, "Y": Y, which: misaligned}
    costs = [reference.train_step(expected, X, Y, 0.1) for _ in range(2)]
    calls = count_checks(monkeypatch)
    for cost in costs:
        assert step.train_step(parameters, batch["X"], batch["Y"], 0.1) == pytest.approx(cost, rel=1e-12)
    assert len(calls) == 2, "a misaligned batch took the fast path"
    for key in expected:
        assert_close(key, parameters[key], expected[key], TOLERANCES[np.dtype(np.float64)][0])
    aligned = {(s[3].aligned, s[4].aligned) for s in step.train_step_on.signatures}
    assert aligned == {(True, True)}, f"train_step_on compiled for X, Y alignments {aligned}"


def test_a_checked_call_keeps_the_step_prepared_for_the_same_arrays():
    """A call that takes the checked path (here an int learning rate) with the arrays the step
    was prepared for reuses that PreparedStep (holds()); only other arrays prepare a new one."""
    parameters, X, Y = problem()
    step.train_step(parameters, X, Y, 0.1)
    [first] = prepared_steps(parameters)
    step.train_step(parameters, X, Y, 1)
    [again] = prepared_steps(parameters)
    assert again is first
    parameters["W1"] = parameters["W1"].copy()  # another array: prepared again
    step.train_step(parameters, X, Y, 1)
    [second] = prepared_steps(parameters)
    assert second is not first
