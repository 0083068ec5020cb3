"""A fast path's train_step against the reference's, over random sequences of what a caller does
between steps (hypothesis's RuleBasedStateMachine).

kernels.cpu.train_step keeps a PreparedStep per parameters dict (kernels/memo.py) and skips its
checks while PreparedStep.accepts() says the call is the one it prepared; the kernel then checks
the values. These machines change everything that rule rests on between steps: a parameter
replaced (same shape and dtype, or not), written into in place, a key added or deleted, a new dict
with the same arrays or one at a recycled id(), X and Y of another shape, dtype or layout,
learning rates that are numpy scalars, 0, negative, inf or NaN, labels outside [0, 1]. After every
step the fast path's cost and parameters equal the reference's, or both raise the same error and
leave the parameters as they were. kernels.cuda gets the same machine in the simulator, with
small shapes, and its device-array train_step (which keeps a Workspace per network in the same
memo) a machine of its own.
"""

import functools
import gc
import math

import numpy as np
import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from reference import network as reference
from tests.conftest import apart, examples, load_path
from tests.torch_compare import TOLERANCES, assert_close

OPTIONS = [  # (hidden, output, cost): every valid combination
    (h, o, c) for h in ("relu", "tanh", "sigmoid")
    for o, c in (("sigmoid", "cross_entropy"), ("sigmoid", "mse"), ("linear", "mse"))]
FLOAT_DTYPES = (np.float64, np.float32)


def finite(low=-2.0, high=2.0):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


# Learning rates a caller may pass: Python and numpy numbers of every width, and the bad ones.
GOOD_RATES = finite(1e-3, 0.5)
LEARNING_RATES = st.one_of(
    GOOD_RATES, GOOD_RATES, GOOD_RATES.map(np.float64),
    st.one_of(GOOD_RATES.map(np.float32), GOOD_RATES.map(np.float16), GOOD_RATES.map(np.array),
              st.just(1), st.just(np.int64(1))),  # np.array: a 0-d array
    st.sampled_from([0.0, -0.1, np.float32(-1), math.inf, -math.inf, math.nan, np.float64("nan"), 0]),
)
# Values written into a parameter, X or Y in place.
VALUES = st.one_of(finite(), st.sampled_from([0.0, math.nan, math.inf, -math.inf, 1.5, -0.5]))


def then_a_step(**strategies):
    """A rule that changes something between steps, then compares a step on both paths."""

    def decorate(change):
        @functools.wraps(change)
        def change_then_step(self, learning_rate, **kwargs):
            change(self, **kwargs)
            self.compare_a_step(learning_rate)

        return rule(learning_rate=LEARNING_RATES, **strategies)(change_then_step)

    return decorate


def snapshot(d):
    """The values of a dict of arrays (and whatever else a rule put there), copied."""
    return {k: np.array(v, copy=True) if isinstance(v, np.ndarray) else v for k, v in d.items()}


def same_values(d, before):
    assert d.keys() == before.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(d[key], value, f"{key} changed by a failed step")


def outcome(call):
    """("value", result) or ("error", type, message)."""
    try:
        return ("value", call())
    except Exception as error:  # noqa: BLE001  (any error: the reference's is the oracle)
        return ("error", type(error), str(error))


def network(rng, dims, dtype, cost):
    """Parameters with nonzero biases, and a batch (X, Y) of m samples for the cost."""
    parameters = reference.initialize_parameters(dims, seed=int(rng.integers(1 << 30)), dtype=dtype)
    for key in parameters:
        if key.startswith("b"):
            parameters[key] = (0.1 * rng.standard_normal(parameters[key].shape)).astype(dtype)
    return parameters


def batch(rng, dims, m, dtype, cost):
    X = rng.standard_normal((dims[0], m)).astype(dtype)
    if cost == "cross_entropy":
        Y = rng.integers(0, 2, (dims[-1], m)).astype(dtype)
    else:
        Y = rng.standard_normal((dims[-1], m)).astype(dtype)
    return X, Y


def a_dict_at_the_same_id(machine, contents):
    """machine.fast becomes a new dict of contents, at the id() of the old one where CPython
    hands that address out again (the event says whether it did)."""
    old = id(machine.fast)
    machine.kept.clear()
    machine.fast = None
    gc.collect()
    tried = []  # dicts kept alive so each new one gets another address
    for _ in range(1000):
        d = {}
        if id(d) == old:
            break
        tried.append(d)
    event("id recycled" if id(d) == old else "id not recycled")
    d.update(contents)
    machine.fast = d


class StepMachine(RuleBasedStateMachine):
    """`fast` is the dict the path under test trains, `ref` a copy of it the reference trains:
    the same keys and values, never the same arrays. Rules change both alike; `step` runs one
    train_step on each and compares."""

    path = None  # the NetPath under test (set by the subclasses below)
    max_width, max_m = 6, 9

    def __init__(self):
        super().__init__()
        self.rng = np.random.default_rng(0)
        self.kept = []  # dicts whose id() must not be reused yet
        self.stepped = False

    # -----------------------------------------------------------------------------------------
    # The network

    @initialize(depth=st.integers(1, 3), data=st.data(), dtype=st.sampled_from(FLOAT_DTYPES),
                options=st.sampled_from(OPTIONS), seed=st.integers(0, 2**16))
    def start(self, depth, data, dtype, options, seed):
        self.rng = np.random.default_rng(seed)
        widths = st.integers(1, self.max_width)
        self.dims = [data.draw(widths) for _ in range(depth + 1)]
        self.m = data.draw(st.integers(1, self.max_m))
        self.options = dict(zip(("hidden", "output", "cost"), options, strict=True))
        self.fast = network(self.rng, self.dims, dtype, self.options["cost"])
        self.ref = snapshot(self.fast)
        self.X, self.Y = batch(self.rng, self.dims, self.m, dtype, self.options["cost"])

    @property
    def dtype(self):
        W1 = self.fast.get("W1")
        return W1.dtype if isinstance(W1, np.ndarray) and W1.dtype in FLOAT_DTYPES else np.dtype(
            np.float64)

    def put(self, key, value):
        """fast[key] = value, and ref[key] = a copy of it (same shape, dtype and layout)."""
        self.fast[key] = value
        self.ref[key] = np.array(value, copy=True, order="K") if isinstance(value, np.ndarray) else value

    @then_a_step(data=st.data())
    def repair(self, data):
        """Back to a valid network in the same dict (its id() stays), and a valid batch."""
        dtype = data.draw(st.sampled_from(FLOAT_DTYPES))
        fresh = network(self.rng, self.dims, dtype, self.options["cost"])
        self.fast.clear()
        self.ref.clear()
        for key, value in fresh.items():
            self.put(key, value)
        self.X, self.Y = batch(self.rng, self.dims, self.m, dtype, self.options["cost"])

    @then_a_step(options=st.sampled_from(OPTIONS))
    def other_options(self, options):
        self.options = dict(zip(("hidden", "output", "cost"), options, strict=True))
        if self.options["cost"] == "cross_entropy" and isinstance(self.Y, np.ndarray):
            self.Y = (self.Y > 0).astype(self.Y.dtype)

    # -----------------------------------------------------------------------------------------
    # The step, compared

    @rule(learning_rate=LEARNING_RATES)
    def step(self, learning_rate):
        """One more step, with nothing changed since the last (the fast path's case)."""
        self.compare_a_step(learning_rate)

    def compare_a_step(self, learning_rate):
        """A step on each path: the same cost and parameters, or the same error and no change.
        self.stepped: this one stepped (so the next call of the same network may be prepared)."""
        self.stepped = False
        fast_before, ref_before = snapshot(self.fast), snapshot(self.ref)
        expected = outcome(lambda: reference.train_step(self.ref, self.X, self.Y, learning_rate,
                                                        **self.options))
        got = outcome(lambda: self.path.train_step(self.fast, self.X, self.Y, learning_rate,
                                                   **self.options))
        if expected[0] == "error":
            event(f"error: {expected[1].__name__}")
            assert got[0] == "error", f"the reference raised {expected[1].__name__}: {expected[2]}; " \
                                      f"{self.path.name} returned {got[1]!r}"
            assert got[1:] == expected[1:], f"{self.path.name} raised {got[1].__name__}: {got[2]}"
            same_values(self.fast, fast_before)
            same_values(self.ref, ref_before)
            return
        event("step")
        self.stepped = True
        assert got[0] == "value", f"{self.path.name} raised {got[1].__name__}: {got[2]} where the " \
                                  f"reference returned {expected[1]!r}"
        assert isinstance(got[1], float), type(got[1])
        value_tol, _ = TOLERANCES[self.dtype]
        assert_close("cost", got[1], expected[1], value_tol, self.dtype)
        assert self.fast.keys() == self.ref.keys()
        for key, value in self.ref.items():
            if isinstance(value, np.ndarray):
                assert self.fast[key].dtype == value.dtype, key
                # over the whole array: hypothesis writes values (0.5, -0.5, 1.5) whose sums
                # cancel, and two right float64 orders of summation then differ by more than
                # 1e-10 of such an entry (b2 once, by 1.9e-10); a memo bug moves the whole array
                assert_close(key, self.fast[key], value, value_tol, self.dtype, entrywise=False)
                value[...] = self.fast[key]  # the next step starts both from the same numbers

    # -----------------------------------------------------------------------------------------
    # Parameters: replaced, written into, added, deleted

    def parameter_keys(self):
        return sorted(k for k, v in self.fast.items() if isinstance(v, np.ndarray) and v.ndim == 2)

    def float_keys(self):
        return [k for k in self.parameter_keys() if self.fast[k].dtype.kind == "f"]

    @precondition(lambda self: self.parameter_keys())
    @then_a_step(data=st.data())
    def replace_with_the_same_shape_and_dtype(self, data):
        key = data.draw(st.sampled_from(self.parameter_keys()))
        old = self.fast[key]
        self.put(key, self.rng.standard_normal(old.shape).astype(old.dtype))

    @precondition(lambda self: self.parameter_keys())
    @then_a_step(data=st.data(), kind=st.sampled_from(
        ["rows+1", "columns+1", "1 in place of a size", "transposed", "other float dtype", "float16",
         "int64", "Fortran order", "a strided view", "1-D", "a list"]))
    def replace_with_another_kind(self, data, kind):
        key = data.draw(st.sampled_from(self.parameter_keys()))
        old = self.fast[key]
        n, k = old.shape
        new = {
            "rows+1": lambda: self.rng.standard_normal((n + 1, k)),
            "columns+1": lambda: self.rng.standard_normal((n, k + 1)),
            "1 in place of a size": lambda: old[:1].copy() if n > 1 else old[:, :1].copy(),
            "transposed": lambda: old.T.copy(),
            "other float dtype": lambda: old.astype(np.float32 if old.dtype == np.float64 else np.float64),
            "float16": lambda: old.astype(np.float16),
            "int64": lambda: np.ones(old.shape, np.int64),
            "Fortran order": lambda: np.asfortranarray(old),
            "a strided view": lambda: apart(old),
            "1-D": lambda: old.ravel().copy(),
            "a list": lambda: old.tolist(),
        }[kind]()
        if kind in ("rows+1", "columns+1"):
            new = new.astype(old.dtype)
        event(f"replaced with {kind}")
        self.put(key, new)

    def write(self, data, value):
        """value into an entry of a float parameter, in place, in both dicts."""
        key = data.draw(st.sampled_from(self.float_keys()))
        a = self.fast[key]
        i, j = data.draw(st.integers(0, a.shape[0] - 1)), data.draw(st.integers(0, a.shape[1] - 1))
        a[i, j] = value
        self.ref[key][i, j] = value

    @precondition(lambda self: self.float_keys())
    @then_a_step(data=st.data(), value=VALUES)
    def write_into_a_parameter(self, data, value):
        self.write(data, value)

    @precondition(lambda self: self.float_keys())
    @then_a_step(data=st.data(), value=st.sampled_from([math.nan, math.inf, -math.inf]))
    def a_non_finite_value_in_a_parameter(self, data, value):
        """The fused kernel checks the values itself (the prepared step skips the Python checks):
        one NaN or inf in any W[l] or b[l] must still give the reference's error."""
        self.write(data, value)

    @then_a_step(kind=st.sampled_from(["an unrelated key", "the next W", "the next b", "a gradient"]))
    def add_a_key(self, kind):
        L = len(self.dims) - 1
        key, shape = {"an unrelated key": ("note", (1, 1)),
                      "the next W": (f"W{L + 1}", (1, self.dims[-1])),
                      "the next b": (f"b{L + 1}", (1, 1)),
                      "a gradient": ("dW1", (self.dims[1], self.dims[0]))}[kind]
        self.put(key, np.zeros(shape, self.dtype))

    @precondition(lambda self: self.fast)
    @then_a_step(data=st.data())
    def delete_a_key(self, data):
        key = data.draw(st.sampled_from(sorted(self.fast)))
        del self.fast[key], self.ref[key]

    # -----------------------------------------------------------------------------------------
    # The dict itself: a new one with the same arrays, one at a recycled id()

    @then_a_step()
    def a_new_dict_with_the_same_arrays(self):
        self.kept.append(self.fast)  # the old one stays alive: its id() is not reused yet
        self.fast = dict(self.fast)

    @then_a_step(same_arrays=st.booleans())
    def a_new_dict_at_a_recycled_id(self, same_arrays):
        """The memo is keyed by id(parameters); a new dict can get a dead one's id. With new
        arrays it must not step on what the dead dict's step prepared."""
        contents = list(self.fast.items()) if same_arrays else [
            (k, np.array(v, copy=True, order="K") if isinstance(v, np.ndarray) else v)
            for k, v in self.fast.items()]
        a_dict_at_the_same_id(self, contents)

    @then_a_step(others=st.integers(1, 10))
    def other_networks_step_in_between(self, others):
        """Other networks train through the path: the memo may drop this network's entry."""
        for seed in range(others):
            rng = np.random.default_rng(seed)
            dims = [self.dims[0], 2, 1]
            parameters = network(rng, dims, np.float64, "cross_entropy")
            X, Y = batch(rng, dims, 3, np.float64, "cross_entropy")
            self.path.train_step(parameters, X, Y, 0.1)

    # -----------------------------------------------------------------------------------------
    # The batch

    @then_a_step(m=st.integers(1, 9), dtype=st.sampled_from(FLOAT_DTYPES))
    def a_new_batch(self, m, dtype):
        self.m = m
        self.X, self.Y = batch(self.rng, self.dims, m, dtype, self.options["cost"])

    @precondition(lambda self: self.stepped)
    @then_a_step(which=st.sampled_from("XY"), change=st.sampled_from(["float32", "float64", "int64"]))
    def the_batch_in_another_dtype(self, which, change):
        """Right after a step: the same shape, so the same memo entry; only the prepared dtype
        tells them apart."""
        self.change_the_batch(f"{which} {change}")

    @precondition(lambda self: self.stepped)
    @then_a_step(which=st.sampled_from("XY"), change=st.sampled_from(["Fortran order", "a strided view"]))
    def the_batch_in_another_layout(self, which, change):
        self.change_the_batch(f"{which} {change}")

    @then_a_step(kind=st.sampled_from(
        ["X transposed", "Y transposed", "X 1 in place of m", "Y 1 in place of m", "X one row more",
         "Y one row more", "X 1-D", "Y 1-D", "X a list", "Y outside [0, 1]"]))
    def a_malformed_batch(self, kind):
        self.change_the_batch(kind)

    def change_the_batch(self, kind):
        which, change = kind.split(" ", 1)
        a = getattr(self, which)
        if not isinstance(a, np.ndarray) or a.ndim != 2:
            return
        new = {
            "Fortran order": lambda: np.asfortranarray(a),
            "a strided view": lambda: np.repeat(a, 2, axis=1)[:, ::2],
            "float32": lambda: a.astype(np.float32),
            "float64": lambda: a.astype(np.float64),
            "int64": lambda: a.astype(np.int64),
            "transposed": lambda: a.T.copy(),
            "1 in place of m": lambda: a[:, :1].copy(),
            "one row more": lambda: np.vstack([a, a[:1]]),
            "1-D": lambda: a.ravel().copy(),
            "a list": lambda: a.tolist(),
            "outside [0, 1]": lambda: a + a.dtype.type(1.5),
        }[change]()
        event(f"batch: {kind}")
        setattr(self, which, new)

    @then_a_step(data=st.data(), value=VALUES)
    def write_into_the_batch(self, data, value):
        which = data.draw(st.sampled_from(["X", "Y"]))
        a = getattr(self, which)
        if isinstance(a, np.ndarray) and a.ndim == 2 and a.size and a.dtype.kind == "f":
            a[data.draw(st.integers(0, a.shape[0] - 1)), data.draw(st.integers(0, a.shape[1] - 1))] = value

    @invariant()
    def the_two_dicts_hold_the_same_values(self):
        if not hasattr(self, "fast"):
            return
        assert self.fast.keys() == self.ref.keys()
        for key, value in self.ref.items():
            if isinstance(value, np.ndarray):
                assert self.fast[key] is not value, key
                np.testing.assert_array_equal(self.fast[key], value, key)


class CpuStepMachine(StepMachine):
    pass


class CudaStepMachine(StepMachine):
    max_width, max_m = 3, 4  # the simulator runs one Python thread per CUDA thread


@pytest.mark.parametrize("machine, ci, steps", [(CpuStepMachine, 25, 20), (CudaStepMachine, 3, 12)],
                         ids=["cpu", "cuda"])
def test_train_step_follows_the_reference_whatever_happens_between_steps(machine, ci, steps):
    machine.path = load_path("cpu" if machine is CpuStepMachine else "cuda")
    run_state_machine_as_test(machine, settings=settings(max_examples=examples(ci),
                                                         stateful_step_count=steps))


class DeviceStepMachine(RuleBasedStateMachine):
    """kernels.cuda.step.train_step on device arrays (no checks: the inputs are valid) keeps a
    Workspace per (id(parameters_d), m, options) in kernels/memo.py; whatever happens to the dict
    between steps, each step is the reference's step of the arrays the dict holds now."""

    kc = None

    def __init__(self):
        super().__init__()
        self.kept = []

    @initialize(dims=st.lists(st.integers(1, 3), min_size=2, max_size=3), m=st.integers(1, 4),
                dtype=st.sampled_from(FLOAT_DTYPES), options=st.sampled_from(OPTIONS),
                seed=st.integers(0, 2**16))
    def start(self, dims, m, dtype, options, seed):
        self.rng = np.random.default_rng(seed)
        self.dims, self.dtype = dims, np.dtype(dtype)
        self.options = dict(zip(("hidden", "output", "cost"), options, strict=True))
        self.ref = network(self.rng, dims, dtype, self.options["cost"])
        self.fast = self.kc.step.to_device(self.ref)
        self.new_batch(m)

    def new_batch(self, m):
        from numba import cuda

        self.m = m
        self.X, self.Y = batch(self.rng, self.dims, m, self.dtype, self.options["cost"])
        self.X_d, self.Y_d = cuda.to_device(self.X), cuda.to_device(self.Y)

    @rule(learning_rate=GOOD_RATES)
    def step(self, learning_rate):
        J = self.kc.train_step_device(self.fast, self.X_d, self.Y_d, learning_rate, **self.options)
        expected = reference.train_step(self.ref, self.X, self.Y, learning_rate, **self.options)
        value_tol, _ = TOLERANCES[self.dtype]
        assert_close("cost", J, expected, value_tol, self.dtype)
        for key, value in self.kc.step.to_host(self.fast).items():
            assert_close(key, value, self.ref[key], value_tol, self.dtype, entrywise=False)
            self.ref[key][...] = value  # the next step starts both from the same numbers

    @rule(data=st.data())
    def replace_an_array(self, data):
        from numba import cuda

        key = data.draw(st.sampled_from(sorted(self.fast)))
        self.ref[key] = self.rng.standard_normal(self.ref[key].shape).astype(self.dtype)
        self.fast[key] = cuda.to_device(self.ref[key])

    @rule(data=st.data(), value=finite())
    def write_into_an_array(self, data, value):
        key = data.draw(st.sampled_from(sorted(self.fast)))
        self.ref[key][0, 0] = value
        self.fast[key].copy_to_device(self.ref[key])  # the same device array, new contents

    @rule()
    def a_new_dict_with_the_same_arrays(self):
        self.kept.append(self.fast)
        self.fast = dict(self.fast)

    @rule(same_arrays=st.booleans())
    def a_new_dict_at_a_recycled_id(self, same_arrays):
        contents = list(self.fast.items()) if same_arrays else list(self.kc.step.to_device(self.ref).items())
        a_dict_at_the_same_id(self, contents)

    @rule(m=st.integers(1, 4))
    def a_batch_of_m_samples(self, m):
        self.new_batch(m)

    @rule(options=st.sampled_from(OPTIONS))
    def other_options(self, options):
        self.options = dict(zip(("hidden", "output", "cost"), options, strict=True))
        self.new_batch(self.m)

    @rule(others=st.integers(1, 9))
    def other_networks_step_in_between(self, others):
        for seed in range(others):
            rng = np.random.default_rng(seed)
            parameters_d = self.kc.step.to_device(network(rng, self.dims, self.dtype, "mse"))
            self.kc.train_step_device(parameters_d, self.X_d, self.Y_d, 0.1, **self.options)


def test_device_train_step_steps_the_arrays_its_dict_holds_now():
    DeviceStepMachine.kc = load_path("cuda").module
    run_state_machine_as_test(DeviceStepMachine, settings=settings(max_examples=examples(4),
                                                                   stateful_step_count=12))
