"""Every implementation the benchmarks time, behind one small interface.

    reference        reference.network (NumPy), and `A @ B` (OpenBLAS) for a matrix product
    cpu              kernels.cpu: numba @njit explicit loops
    cuda             kernels.cuda: numba.cuda kernels, real GPU only (never timed in the simulator);
                     cuda-naive and cuda-tiled: the lower rungs of its GEMM ladder (products only)
    torch-cpu        torch eager on the CPU (torch_network.train_step, torch.matmul)
    torch-cuda       torch eager on CUDA, TF32 off
    torch-cuda-tf32  torch.matmul on CUDA with TF32 on (matrix products only: its own row)

A path that cannot run here is skipped with its reason (`skip_reason`). Each path offers:
    matmul(gemm, A, B) -> (run, result): run() computes op(A) op(B) and returns only when the
        device has finished; result() is the last product as a NumPy array (checked, not timed).
    train_step, load(parameters) / unload(parameters): the network API's train_step and the
        conversion of NumPy parameters to and from what that train_step updates.
Operands stay where the path keeps them (device memory for a GPU path), so a matrix product times
the product, not the transfers; a train_step takes NumPy X, Y as the training loop hands them.
"""

import copy
import importlib

import machine
import numpy as np
import pytest
from workloads import gemm_flops


def _import(module):
    """(module, None), or (None, why it cannot be imported)."""
    try:
        return importlib.import_module(module), None
    except ImportError as e:
        return None, f"{module} is not importable here: {e}"


class NumpyPath:
    """The NumPy reference, or kernels.cpu: the network API on NumPy arrays, on the CPU.

    max_gemm_flops: the largest matrix product worth timing on this path (None: any), so that
    explicit-loop kernels skip the sizes only BLAS and GPUs finish in reasonable time.
    """

    device = "cpu"

    def __init__(self, name, module, max_gemm_flops=None):
        self.name, self.module_name, self.max_gemm_flops = name, module, max_gemm_flops

    @property
    def module(self):
        return importlib.import_module(self.module_name)

    def skip_reason(self, kind):
        module, reason = _import(self.module_name)
        if reason:
            return reason
        if kind == "matmul" and self.name != "reference" and not hasattr(module, "matmul"):
            return f"{self.module_name} has no matmul(A, B)"
        if kind == "train_step" and not hasattr(module, "train_step"):
            return f"{self.module_name} has no train_step"
        return None

    def too_slow(self, flops):
        if self.max_gemm_flops is not None and flops > self.max_gemm_flops:
            return (f"{flops / 1e9:.0f} GFLOP is too slow for explicit loops on a CPU "
                    f"(limit {self.max_gemm_flops / 1e9:.0f} GFLOP; BLAS and GPU paths only)")
        return None

    def matmul(self, gemm, A, B):
        product = (lambda: A @ B) if self.name == "reference" else (lambda: self.module.matmul(A, B))
        out = {}

        def run():
            out["C"] = product()

        return run, lambda: out["C"]

    @property
    def train_step(self):
        return self.module.train_step

    def load(self, parameters):
        return copy.deepcopy(parameters)

    def unload(self, parameters):
        return parameters


class CudaKernelsPath(NumpyPath):
    """kernels.cuda: its own train_step (NumPy in and out); matrix products on device arrays
    through kernels.cuda.gemm, one row per rung of its GEMM ladder."""

    device = "gpu"

    def __init__(self, name="cuda", rung=None):
        super().__init__(name, "kernels.cuda")
        self.rung = rung
        self.max_gemm_flops = None

    def skip_reason(self, kind):
        if not machine.real_gpu():
            return "no real CUDA GPU here (numba's simulator is never timed)"
        if kind == "matmul":
            _, reason = _import("kernels.cuda.gemm")
            return reason
        if self.rung is not None:
            return "the lower GEMM rungs are shown for matrix products only"
        if kind == "train_step":
            module, reason = _import(self.module_name)
            return reason or (None if hasattr(module, "train_step") else "kernels.cuda has no train_step")
        return None

    def matmul(self, gemm, A, B):
        from numba import cuda

        from kernels.cuda.gemm import gemm as launch

        # the stored arrays behind the views: op(A) = S^T is passed as S with trans_a=True
        dA = cuda.to_device(np.ascontiguousarray(A.T if gemm.a_transposed else A))
        dB = cuda.to_device(np.ascontiguousarray(B.T if gemm.b_transposed else B))
        dC = cuda.device_array((gemm.M, gemm.N), dtype=A.dtype)

        def run():
            launch(dA, dB, dC, trans_a=gemm.a_transposed, trans_b=gemm.b_transposed, rung=self.rung)
            cuda.synchronize()

        return run, dC.copy_to_host


class TorchPath:
    """torch eager on the CPU or on CUDA (TF32 off unless this is the TF32 row)."""

    def __init__(self, name, device, tf32=False):
        self.name, self.torch_device, self.tf32 = name, device, tf32
        self.device = "gpu" if device == "cuda" else "cpu"

    def too_slow(self, flops):
        return None

    def skip_reason(self, kind):
        if self.torch_device == "cuda" and not machine.torch_cuda():
            return "torch has no CUDA device here (torch.cuda.is_available() is False)"
        if self.tf32 and kind != "matmul":
            return "TF32 is shown for matrix products only"
        return None

    def matmul(self, gemm, A, B):
        import torch

        tA = torch.from_numpy(A).to(self.torch_device)  # A.T views keep their strides
        tB = torch.from_numpy(B).to(self.torch_device)
        out = {}

        def run():
            previous = torch.backends.cuda.matmul.allow_tf32
            torch.backends.cuda.matmul.allow_tf32 = self.tf32
            try:
                out["C"] = torch.matmul(tA, tB)
                if self.torch_device == "cuda":
                    torch.cuda.synchronize()
            finally:
                torch.backends.cuda.matmul.allow_tf32 = previous

        return run, lambda: out["C"].cpu().numpy()

    @property
    def train_step(self):
        import torch_network

        return torch_network.train_step

    def load(self, parameters):
        import torch_network

        return torch_network.to_torch(parameters, self.torch_device)

    def unload(self, parameters):
        import torch_network

        return torch_network.to_numpy(parameters)


PATHS = {
    p.name: p
    for p in [
        NumpyPath("reference", "reference.network"),
        NumpyPath("cpu", "kernels.cpu", max_gemm_flops=gemm_flops(2048, 2048, 2048)),
        CudaKernelsPath("cuda"),  # the rung the network uses (kernels.cuda.config.GEMM_RUNG)
        CudaKernelsPath("cuda-naive", rung="naive"),
        CudaKernelsPath("cuda-tiled", rung="tiled"),
        TorchPath("torch-cpu", "cpu"),
        TorchPath("torch-cuda", "cuda"),
        TorchPath("torch-cuda-tf32", "cuda", tf32=True),
    ]
}
NETWORK_PATHS = ["reference", "cpu", "cuda", "torch-cpu", "torch-cuda"]
MATMUL_PATHS = list(PATHS)


def require(name, kind, flops=None):
    """The path called `name`, or skip saying why it cannot run `kind` (or this size) here."""
    path = PATHS[name]
    reason = path.skip_reason(kind) or (path.too_slow(flops) if flops else None)
    if reason:
        pytest.skip(f"{name}: {reason}")
    return path
