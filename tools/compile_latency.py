"""Dynamic against static computation graphs, measured: the slide "Computation Graphs" says a
dynamic graph (PyTorch) is built as the code runs, while a static one (TensorFlow 1) is compiled
first and then run, and "the compiler adds latency but can also apply optimizations".

This project has both kinds. reference/graph.py is define-by-run: every call of
`slide_example_z` builds the graph of z = 2 (x x) + 5 x anew while Python runs, then walks it
backward. numba is compile-then-run: `@njit` turns the same two formulas (z and dz/dx = 4 x + 5)
into machine code, lazily on the first call (for the argument types it sees) or eagerly when a
signature is given. This script times, in one fresh process:

    define-by-run   the graph's first and second call (no compile step: each call costs the same)
    numba, lazy     njit's first call (type inference + LLVM compile + run), then its second call;
                    the first compile in a process also starts numba's compiler, so a second
                    function's first call is timed too
    numba, eager    njit with a signature: the compile when decorated, then the first call

    python tools/compile_latency.py          one line per measurement, then the same as JSON

numba compiles afresh in every process here (no cache=True), so the numbers include its one-off
start-up in the process; run it again for another sample.
"""

import json
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

import numba  # noqa: E402

from reference.graph import slide_example_z  # noqa: E402


def z_and_dz(x):
    """The slide's z = 2 (x x) + 5 x and its derivative dz/dx = 4 x + 5, written out."""
    return 2.0 * (x * x) + 5.0 * x, 4.0 * x + 5.0


def _timed(call):
    start = time.perf_counter()
    value = call()
    return time.perf_counter() - start, value


def measure(x=2.0):
    """Seconds for each step (keys as in the module docstring) and the values each one computed."""
    out = {}
    out["graph_first_s"], first = _timed(lambda: slide_example_z(x))
    out["graph_second_s"], second = _timed(lambda: slide_example_z(x))
    out["graph_values"] = [float(first["z"].value), float(first["x"].grad)]
    out["graph_rebuilt_each_call"] = first["z"] is not second["z"]

    lazy = numba.njit(z_and_dz)
    out["lazy_signatures_before"] = len(lazy.signatures)
    out["lazy_first_s"], value = _timed(lambda: lazy(x))
    out["lazy_second_s"], _ = _timed(lambda: lazy(x))
    out["lazy_signatures_after"] = len(lazy.signatures)
    out["lazy_values"] = [float(v) for v in value]
    # the same code as a new function object, so numba compiles it again (its compiler now started)
    another = numba.njit(types.FunctionType(z_and_dz.__code__, z_and_dz.__globals__, "z_and_dz_again"))
    out["lazy_another_first_s"], _ = _timed(lambda: another(x))

    out["eager_compile_s"], eager = _timed(lambda: numba.njit("UniTuple(float64, 2)(float64)")(z_and_dz))
    out["eager_first_s"], value = _timed(lambda: eager(x))
    out["eager_values"] = [float(v) for v in value]
    out["python_s"], _ = _timed(lambda: z_and_dz(x))
    return out


def main():
    result = measure()
    lines = [
        ("define-by-run graph (reference/graph.py), 1st call", result["graph_first_s"]),
        ("define-by-run graph, 2nd call", result["graph_second_s"]),
        ("numba njit (lazy), 1st call: compile + run", result["lazy_first_s"]),
        ("numba njit (lazy), 2nd call", result["lazy_second_s"]),
        ("numba njit (lazy), another function's 1st call", result["lazy_another_first_s"]),
        ("numba njit with a signature: compile when decorated", result["eager_compile_s"]),
        ("numba njit with a signature, 1st call", result["eager_first_s"]),
        ("plain Python z_and_dz, one call", result["python_s"]),
    ]
    for label, seconds in lines:
        print(f"{label:<55} {seconds * 1e6:12.1f} us")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
