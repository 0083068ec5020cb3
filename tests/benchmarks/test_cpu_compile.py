"""How long kernels.cpu's JIT compilation takes: on first use with an empty on-disk cache, and
with the cache warm (what a second CI run or a second `pytest` sees).

Each round runs a fresh Python process with its own NUMBA_CACHE_DIR that (cold) is empty or
(warm) was filled by an earlier process. The timed value is the whole process: start, imports,
then the first float32 train_step of the [30, 16, 8, 1] network, the first float32 matmul and
the first float64 train_step of the same network, each checked. The process also measures its
own phases, saved in extra_info: import_s, train_step_first_call_s, matmul_first_call_s,
train_step_float64_first_call_s.

Skipped with --benchmark-disable (the CI correctness run): a cold compile takes tens of seconds.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FIRST_USE = """
import json, time
t0 = time.perf_counter()
import numpy as np
import kernels.cpu as cpu
from reference.network import initialize_parameters, train_step
t1 = time.perf_counter()
rng = np.random.default_rng(0)
parameters = initialize_parameters([30, 16, 8, 1], dtype=np.float32)
X = rng.standard_normal((30, 569)).astype(np.float32)
Y = (rng.random((1, 569)) > 0.5).astype(np.float32)
expected = train_step({k: v.astype(np.float64) for k, v in parameters.items()},
                      X.astype(np.float64), Y.astype(np.float64), 0.01)
t2 = time.perf_counter()
J = cpu.train_step(parameters, X, Y, 0.01)
t3 = time.perf_counter()
A, B = rng.random((300, 200)).astype(np.float32), rng.random((200, 100)).astype(np.float32)
t4 = time.perf_counter()
C = cpu.matmul(A, B)
t5 = time.perf_counter()
parameters64 = {k: v.astype(np.float64) for k, v in initialize_parameters([30, 16, 8, 1]).items()}
expected64 = train_step({k: v.copy() for k, v in parameters64.items()}, X.astype(np.float64),
                        Y.astype(np.float64), 0.01)
t6 = time.perf_counter()
J64 = cpu.train_step(parameters64, X.astype(np.float64), Y.astype(np.float64), 0.01)
t7 = time.perf_counter()
assert abs(J - expected) <= 1e-4 * abs(expected), (J, expected)
assert np.allclose(C, A.astype(np.float64) @ B, rtol=1e-4)
assert abs(J64 - expected64) <= 1e-10 * abs(expected64), (J64, expected64)
print(json.dumps({"import_s": t1 - t0, "train_step_first_call_s": t3 - t2,
                  "matmul_first_call_s": t5 - t4, "train_step_float64_first_call_s": t7 - t6}))
"""


def first_use(cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", FIRST_USE], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def skip_in_ci(benchmark):
    if benchmark.disabled:
        pytest.skip("--benchmark-disable: a cold JIT compile takes tens of seconds")


def test_compile_cold_cache(benchmark, skip_in_ci, tmp_path):
    rounds = iter(range(1000))

    def fresh_cache():  # an empty cache directory for every round
        return (tmp_path / f"cold{next(rounds)}",), {}

    phases = benchmark.pedantic(first_use, setup=fresh_cache, rounds=2, iterations=1)
    benchmark.extra_info.update(path="cpu", cache="cold", **phases)


def test_compile_warm_cache(benchmark, skip_in_ci, tmp_path):
    first_use(tmp_path)  # fills the cache
    phases = benchmark.pedantic(first_use, args=(tmp_path,), rounds=3, iterations=1,
                                warmup_rounds=0)
    benchmark.extra_info.update(path="cpu", cache="warm", **phases)
