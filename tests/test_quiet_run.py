"""A first run prints no numba warnings. kernels/cpu/vmath.py's exp, expm1, log and log1p used to
be inlined by numba's typed inliner (inline="always"), which loses variables when it inlines the
same function twice into one kernel (NumbaIRAssumptionWarning, numba issue #9489); they are now
functions of their own that LLVM inlines (forceinline), so nothing is filtered: with every
warning shown, a fresh compile of them, and of the activations and costs over them, warns of
nothing."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def assert_a_fresh_run_warns_of_nothing(setup, body, tmp_path, timeout):
    """Run setup, then body with every warning shown, in a fresh process with an empty numba
    cache (tmp_path): it must succeed and warn of nothing, recorded or on stderr."""
    code = (textwrap.dedent(setup) + "\nimport warnings\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')  # whatever filters the imports installed\n"
            + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
            + "\nfor w in caught:\n    print(w.category.__name__, w.message)\nprint(len(caught))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                               "NUMBA_CACHE_DIR": str(tmp_path)}, timeout=timeout)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "0", done.stdout[:2000]
    assert "Warning" not in done.stderr, done.stderr[:2000]


def test_a_fresh_compile_of_vmath_twice_in_one_kernel_warns_of_nothing(tmp_path):
    setup = """
        import numpy as np
        from numba import njit
        from kernels.cpu import elementwise, reductions, vmath

        @njit  # no cache: compiled afresh in this process
        def twice(a):
            s = 0.0
            for i in range(a.size):
                s += vmath.log1p(vmath.exp(-a[i])) + vmath.log1p(-a[i] / 2) + vmath.expm1(a[i])
            return s
    """
    body = """
        twice(np.ones(3))
        Z = np.linspace(-3, 3, 12).reshape(3, 4)
        A, Y = np.empty_like(Z), (Z > 0).astype(Z.dtype)
        for act in range(4):  # every activation and its derivative, every cost term
            elementwise.activation(Z, A, act)
            elementwise.activation_backward(Z, Z, A, act)
        for term in range(3):
            reductions.cost(np.abs(Z) / 4, Y, term)
    """
    assert_a_fresh_run_warns_of_nothing(setup, body, tmp_path, timeout=300)


def test_a_fresh_compile_of_a_step_on_the_engine_warns_of_nothing(tmp_path):
    """The same for a whole train_step of a network whose products reach the engine (the step
    inlines the engine's dispatch once per product: numba's inliner lost variables there too)."""
    setup = """
        import numpy as np
        import kernels.cpu as cpu
        from reference.network import initialize_parameters

        parameters = initialize_parameters([256, 64, 1], dtype=np.float32)
        X = np.linspace(-1, 1, 256 * 64, dtype=np.float32).reshape(256, 64)
        Y = (X[:1] > 0).astype(np.float32)
    """
    assert_a_fresh_run_warns_of_nothing(setup, "cpu.train_step(parameters, X, Y, 0.1)", tmp_path,
                                        timeout=600)
