"""The network's three matrix products at every layer of every benchmark network, float32:
kernels.cpu's (products.wa, dzat, wtdz: the kernels train_step calls, on preallocated outputs
and packing buffers) against NumPy's `@` on the same operands (the reference's W @ A,
dZ @ A.T, W.T @ dZ). The output starts on a cache line, as the step's own arrays do
(kernels/cpu/step.py); the BLAS baselines allocate theirs (torch on a line too).

Each is first checked against the exact product (float64 `@` of the same float32 operands) at the
float32 tolerance of tests/torch_compare.py, then timed. W A accumulates into Z (the network
starts Z at b), so its timed calls keep adding to the checked result.
"""

import numpy as np
import pytest
from torch_compare import TOLERANCES, assert_close

from bench.paths import PATHS, require
from bench.workloads import NETWORKS, gemm_flops

F32_TOL = TOLERANCES[np.dtype(np.float32)][0]
PRODUCTS = ("W A", "dZ A^T", "W^T dZ")


def layer_products():
    out = []
    for net in NETWORKS:
        dims = net.layer_dims
        for l in range(1, len(dims)):
            for product in PRODUCTS if l > 1 else PRODUCTS[:2]:  # dA[0] is never computed
                out.append((net, l, product))
    return out


CASES = layer_products()


def case_id(case):
    net, l, product = case
    return f"{product.replace(' ', '')}-{net.name.split(' ')[0]}-m{net.m}-l{l}"


def operands(net, l):
    n, k, m = net.layer_dims[l], net.layer_dims[l - 1], net.m
    rng = np.random.default_rng(l)
    return tuple(rng.random(s, dtype=np.float32) for s in [(n, k), (k, m), (n, m)])


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
@pytest.mark.parametrize("path_name", ["reference", "cpu"])
def test_layer_product(bench, path_name, case):
    net, l, product = case
    n, k, m = net.layer_dims[l], net.layer_dims[l - 1], net.m
    W, A, dZ = operands(net, l)
    M, K, N = {"W A": (n, k, m), "dZ A^T": (n, m, k), "W^T dZ": (k, n, m)}[product]
    flops = gemm_flops(M, N, K)
    require(path_name, "matmul", flops)
    bench.skip_if_too_big_for_ci(flops)
    exact = {"W A": lambda: W.astype(np.float64) @ A, "dZ A^T": lambda: dZ.astype(np.float64) @ A.T,
             "W^T dZ": lambda: W.T.astype(np.float64) @ dZ}[product]
    out = {}
    if path_name == "reference":
        fn = {"W A": lambda: W @ A, "dZ A^T": lambda: dZ @ A.T, "W^T dZ": lambda: W.T @ dZ}[product]

        def run():
            out["C"] = fn()
    else:
        from kernels.cpu import config, gemm, products

        config.ready()
        Vbuf, Cbuf = products.network_buffers(list(net.layer_dims), m, np.float32)
        C = gemm.aligned_zeros(M, N, np.float32, whole_rows=False)
        kernel, args = {"W A": (products.wa, (W, A)), "dZ A^T": (products.dzat, (dZ, A)),
                        "W^T dZ": (products.wtdz, (W, dZ))}[product]

        def run():
            kernel(*args, C, Vbuf, Cbuf)
            out["C"] = C

    def check():
        assert_close(f"{path_name} {product} layer {l}", out["C"], exact(), F32_TOL, np.float32)

    bench(run, check, group="layer products float32", path=PATHS[path_name],
          workload=f"{product} {net.name} l={l}", flops=flops, M=M, N=N, K=K)
