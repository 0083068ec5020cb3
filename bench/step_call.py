"""What a call of kernels.cpu's fused train_step costs beside its math, before and after a change.

    python -m bench.step_call [--before REV] [--rounds 200] [--round-ms 2]

In this one process, the variants interleaved round by round so that a busy neighbour slows
them alike; each figure is per call, the minimum (and median) over the rounds:
1. argument passing: how long numba's dispatcher takes to type and unbox the arguments of an
   almost empty @njit function given (X, Y, 4 numbers) plus one typed List, nine typed Lists, or
   one structref of nine typed Lists (the ways a fused step can receive its workspace);
2. the float32 train_step of [2,10,1] m=100 and [30,16,8,1] m=569, kernels/cpu/step.py at REV
   ("before", default: the last commit before the PreparedStep) against the working tree's
   ("after"), and each one's kernel called alone with the same prepared arguments. The two are
   first checked to give the same costs and weights bit for bit;
3. the Python side: the same calls with each kernel swapped for an empty @njit function of the
   same arguments (train_step minus that function alone), free of the kernels' own noise.
"""

import argparse
import hashlib
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit, types
from numba.experimental import structref
from numba.typed import List

from bench.machine import cpu_model
from bench.workloads import LEARNING_RATE, SLIDE_NETWORKS
from kernels.cpu import step as after
from reference.network import initialize_parameters

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "7fd62a3"  # main before the PreparedStep: one typed List, _at(kind, L, l), shared workspaces


def load_step(rev):
    """kernels/cpu/step.py as of git revision rev, as a module. Its file name hashes its source
    with the package's current sources, so numba's on-disk cache can never be stale for it."""
    source = subprocess.run(["git", "show", f"{rev}:kernels/cpu/step.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    package = sorted((ROOT / "kernels" / "cpu").glob("*.py")) + [ROOT / "kernels" / "scalar.py"]
    digest = hashlib.sha256(source.encode() + b"".join(p.read_bytes() for p in package))
    name = f"step_{rev}_{digest.hexdigest()[:12]}"
    path = ROOT / ".benchmarks" / "step_before" / f"{name}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def per_call_us(calls, fn):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def compare(variants, rounds, round_ms):
    """{name: [us per call in each round]}, the variants taking turns within every round, each
    for about round_ms milliseconds."""
    times = {name: [] for name in variants}
    for fn in variants.values():
        fn()  # compile / fill caches outside the timing
    slowest = max(per_call_us(20, fn) for fn in variants.values())
    calls = max(10, round(round_ms * 1e3 / slowest))
    for _ in range(rounds):
        for name, fn in variants.items():
            times[name].append(per_call_us(calls, fn))
    return times


def show(times, width=44):
    for name, ts in times.items():
        print(f"  {name:{width}s} min {min(ts):7.3f} us   median {statistics.median(ts):7.3f} us")


# ---------------------------------------------------------------------------------------------
# 1. Argument passing


@structref.register
class NineListsType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(t)) for name, t in fields)


class NineLists(structref.StructRefProxy):
    pass


FIELDS = ("W", "b", "Z", "A", "dZ", "dA", "dW", "db", "buffers")
structref.define_proxy(NineLists, NineListsType, FIELDS)


@njit
def arrays_only(X, Y, alpha, hidden, output, cost):
    return X[0, 0], 0


@njit
def one_list(arrays, X, Y, alpha, hidden, output, cost):
    return arrays[0][0, 0] + X[0, 0], 0


@njit
def nine_lists(W, b, Z, A, dZ, dA, dW, db, buffers, X, Y, alpha, hidden, output, cost):
    return W[0][0, 0] + X[0, 0], 0


@njit
def one_structref(net, X, Y, alpha, hidden, output, cost):
    return net.W[0][0, 0] + X[0, 0], 0


def argument_costs(rounds, round_ms):
    def typed_list(arrays):
        out = List()
        for a in arrays:
            out.append(a)
        return out

    X, Y = np.zeros((2, 100), np.float32), np.zeros((1, 100), np.float32)
    lists = [typed_list([np.zeros((3, 3), np.float32)] * 3) for _ in FIELDS]
    everything = typed_list([a for lst in lists for a in lst])
    net = NineLists(*lists)
    return compare({
        "X, Y, 4 numbers": lambda: arrays_only(X, Y, 0.1, 0, 1, 0),
        "  + one typed List": lambda: one_list(everything, X, Y, 0.1, 0, 1, 0),
        "  + nine typed Lists": lambda: nine_lists(*lists, X, Y, 0.1, 0, 1, 0),
        "  + one structref of nine typed Lists": lambda: one_structref(net, X, Y, 0.1, 0, 1, 0),
    }, rounds, round_ms)


# ---------------------------------------------------------------------------------------------
# 2. train_step before and after


def step_costs(before, net, rounds, round_ms):
    X, Y = net.data(np.float32)
    options = (net.hidden, net.output, net.cost)
    start = initialize_parameters(net.layer_dims, seed=0, dtype=np.float32)
    P_before = {k: v.copy() for k, v in start.items()}
    P_after = {k: v.copy() for k, v in start.items()}
    for _ in range(5):  # the same costs and weights, bit for bit, before timing
        J_before = before.train_step(P_before, X, Y, LEARNING_RATE, *options)
        J_after = after.train_step(P_after, X, Y, LEARNING_RATE, *options)
        assert J_before == J_after, (J_before, J_after)
    for key in start:
        np.testing.assert_array_equal(P_before[key], P_after[key], key)

    # The kernels alone, on the arguments the fast paths pass them.
    (arrays, L, codes), = [entry[1:] for key, entry in before._VALIDATED.items()
                           if key[:2] == (id(P_before), X.shape)]
    prepared = after._PREPARED[id(P_after), X.shape, net.hidden, net.output, net.cost]
    kernel = {"before": lambda: before.train_step_kernel(arrays, L, X, Y, LEARNING_RATE, *codes),
              "after": lambda: after.train_step_kernel(prepared.net, X, Y, LEARNING_RATE)}
    hidden, output, cost = options  # positional, as the kernels get theirs
    step = {"before": lambda: before.train_step(P_before, X, Y, LEARNING_RATE, hidden, output, cost),
            "after": lambda: after.train_step(P_after, X, Y, LEARNING_RATE, hidden, output, cost)}
    return compare({f"{when} {what}": fn for when in ("before", "after")
                    for what, fn in (("train_step", step[when]), ("kernel alone", kernel[when]))},
                   rounds, round_ms), kernel, step


@njit
def empty_before(arrays, L, X, Y, alpha, hidden, output, cost):
    return np.float32(0), 0


@njit
def empty_after(net, X, Y, alpha):
    return np.float32(0), 0


def python_side(before, kernel, step, rounds, round_ms):
    """train_step with its kernel swapped for an empty @njit function of the same arguments,
    and that function alone: the difference is train_step's own Python, without the noise of
    the kernel's microseconds of arithmetic."""
    real = before.train_step_kernel, after.train_step_kernel
    before.train_step_kernel, after.train_step_kernel = empty_before, empty_after
    try:
        return compare({f"{when} {what}, kernel empty": fn for when in ("before", "after")
                        for what, fn in (("train_step", step[when]), ("kernel", kernel[when]))},
                       rounds, round_ms)
    finally:
        before.train_step_kernel, after.train_step_kernel = real


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="git revision of the old step.py")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--round-ms", type=float, default=2, help="ms per variant and round")
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}; {args.rounds} rounds of ~{args.round_ms:g} ms per variant; "
          f"before = {args.before}")
    print("1. argument passing (an almost empty @njit function)")
    show(argument_costs(args.rounds, args.round_ms))
    before = load_step(args.before)
    for net in SLIDE_NETWORKS[:2]:
        print(f"2. train_step float32 {net.name}")
        times, kernel, step = step_costs(before, net, args.rounds, args.round_ms)
        show(times)
        empty = python_side(before, kernel, step, args.rounds, args.round_ms)
        show(empty)
        for when in ("before", "after"):
            python = min(empty[f"{when} train_step, kernel empty"])
            python -= min(empty[f"{when} kernel, kernel empty"])
            print(f"  {when}: Python side (minima above) {python:.3f} us")


if __name__ == "__main__":
    main()
