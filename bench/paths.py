"""Every implementation the benchmarks time, behind one small interface.

    reference        reference.network (NumPy), and `A @ B` (OpenBLAS) for a matrix product
    reference-unchecked  the reference's train_step without its input checks
                     (reference.network.unchecked_train_step): what the checks cost, beside it
    cpu              kernels.cpu: numba @njit explicit loops (matmul: its fast, packed rung);
                     cpu-ikj and cpu-naive: the lower rungs of its matmul ladder (products only)
    cuda             kernels.cuda: numba.cuda kernels, real GPU only (never timed in the simulator);
                     cuda-tiled and cuda-naive: the lower rungs of its GEMM ladder (products only)
    torch-cpu        torch eager on the CPU (torch_network.train_step, torch.matmul)
    torch-cuda       torch eager on CUDA, TF32 off
    torch-cuda-tf32  torch.matmul on CUDA with TF32 on (matrix products only: its own row)

A path that cannot run here is skipped with its reason (`skip_reason`). Each path offers:
    matmul(gemm, A, B) -> (run, result): run() computes op(A) op(B) and returns only when the
        device has finished; result() is the last product as a NumPy array (checked, not timed).
    train_step(parameters, X, Y, learning_rate, hidden, output, cost) -> float, as the network
        API's; load(parameters) / unload(parameters) turn NumPy parameters into what it updates
        and back; data(X, Y) puts a whole data set where the path keeps it.
Residency, the same for CPU and GPU paths: a matrix product's operands and a train_step's
parameters stay in the path's memory (device memory for a GPU path: a GPU keeps its weights
there while it trains), so the timing is of the work, not of copies. The single-step benchmark
also keeps X, Y there (data(X, Y)); the epoch benchmark hands each mini-batch over from NumPy,
as reference/training.py's loop does, so a GPU path pays for copying its batches in.
"""

import copy
import importlib
from contextlib import contextmanager

import numpy as np
import pytest

from bench import machine
from bench.workloads import gemm_flops


def _import(module):
    """(module, None), or (None, why it cannot be imported)."""
    try:
        return importlib.import_module(module), None
    except ImportError as e:
        return None, f"{module} is not importable here: {e}"


class NumpyPath:
    """The NumPy reference, or kernels.cpu: the network API on NumPy arrays, on the CPU.

    matmul_name: the module's function for C = A B (None: NumPy's `A @ B`).
    max_gemm_flops: the largest matrix product worth timing on this path (None: any), so that
    slow explicit-loop rungs skip the sizes only fast kernels finish in reasonable time.
    """

    device = "cpu"

    def __init__(self, name, module, matmul_name=None, max_gemm_flops=None):
        self.name, self.module_name = name, module
        self.matmul_name, self.max_gemm_flops = matmul_name, max_gemm_flops

    @property
    def module(self):
        return importlib.import_module(self.module_name)

    def skip_reason(self, kind):
        module, reason = _import(self.module_name)
        if reason:
            return reason
        if kind == "matmul" and self.matmul_name and not hasattr(module, self.matmul_name):
            return f"{self.module_name} has no {self.matmul_name}(A, B)"
        if kind == "train_step" and self.matmul_name not in (None, "matmul"):
            return "the lower matmul rungs are shown for matrix products only"
        if kind == "train_step" and not hasattr(module, "train_step"):
            return f"{self.module_name} has no train_step"
        return None

    def too_slow(self, flops):
        if self.max_gemm_flops is not None and flops > self.max_gemm_flops:
            return (f"{flops / 1e9:.1f} GFLOP is too slow for this rung (its limit: "
                    f"{self.max_gemm_flops / 1e9:.1f} GFLOP; the faster rungs run it)")
        return None

    def matmul(self, gemm, A, B):
        if self.matmul_name is None:
            product = lambda: A @ B  # noqa: E731
        else:
            fn = getattr(self.module, self.matmul_name)
            product = lambda: fn(A, B)  # noqa: E731
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

    def data(self, X, Y):
        return X, Y


class UncheckedReferencePath(NumpyPath):
    """reference.network.unchecked_train_step: train_step less its input checks (checks.check_step),
    the same steps in the same order, so its time against the reference's row is the checks' cost."""

    def __init__(self, name="reference-unchecked"):
        super().__init__(name, "reference.network")

    def skip_reason(self, kind):
        return "the checks' cost is shown for train_step only" if kind != "train_step" else None

    @property
    def train_step(self):
        return self.module.unchecked_train_step


class CudaKernelsPath(NumpyPath):
    """kernels.cuda on device arrays (kernels.cuda.step): parameters live on the GPU, a
    train_step copies in only what is still on the host; matrix products through
    kernels.cuda.step.matmul, one row per rung of its GEMM ladder."""

    device = "gpu"

    def __init__(self, name="cuda", rung=None):
        super().__init__(name, "kernels.cuda")
        self.rung = rung

    def skip_reason(self, kind):
        if not machine.real_gpu():
            return "no real CUDA GPU here (numba's simulator is never timed)"
        if kind != "matmul" and self.rung is not None:
            return "the lower GEMM rungs are shown for matrix products only"
        _, reason = _import("kernels.cuda.step")
        return reason

    @staticmethod
    def _quiet():
        """No NumbaPerformanceWarning (grids under 128 blocks) at every launch of a timed call."""
        from kernels.cuda import config

        config.low_occupancy_warnings(False)

    def matmul(self, gemm, A, B):
        from numba import cuda

        from kernels.cuda.step import matmul

        self._quiet()
        # the stored arrays behind the views: op(A) = S^T is passed as S with trans_a=True
        dA = cuda.to_device(np.ascontiguousarray(A.T if gemm.a_transposed else A))
        dB = cuda.to_device(np.ascontiguousarray(B.T if gemm.b_transposed else B))
        dC = cuda.device_array((gemm.M, gemm.N), dtype=A.dtype)

        def run():
            matmul(dA, dB, out=dC, trans_a=gemm.a_transposed, trans_b=gemm.b_transposed,
                   rung=self.rung)
            cuda.synchronize()

        return run, dC.copy_to_host

    @staticmethod
    def train_step(parameters_d, X, Y, learning_rate, hidden="relu", output="sigmoid",
                   cost="cross_entropy"):
        """kernels.cuda.step.train_step; the returned cost is copied back, so it waits for
        the step to finish."""
        from numba import cuda

        from kernels.cuda import step as device

        X_d = cuda.to_device(X) if isinstance(X, np.ndarray) else X  # a host batch is copied in
        Y_d = cuda.to_device(Y) if isinstance(Y, np.ndarray) else Y
        return device.train_step(parameters_d, X_d, Y_d, learning_rate, hidden, output, cost)

    def load(self, parameters):
        from kernels.cuda import step as device

        self._quiet()
        return device.to_device(parameters)

    def unload(self, parameters):
        from kernels.cuda import step as device

        return device.to_host(parameters)

    def data(self, X, Y):
        from numba import cuda

        return cuda.to_device(X), cuda.to_device(Y)


@contextmanager
def _tf32(enabled):
    """torch's CUDA float32 matrix products with TF32 on or off, restored afterwards."""
    import torch

    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous


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
            with _tf32(self.tf32):
                out["C"] = torch.matmul(tA, tB)
                if self.torch_device == "cuda":
                    torch.cuda.synchronize()

        return run, lambda: out["C"].cpu().numpy()

    def train_step(self, parameters, X, Y, learning_rate, hidden="relu", output="sigmoid",
                   cost="cross_entropy"):
        """torch_network.train_step; on CUDA with TF32 off, like every float32 GEMM here."""
        from bench import torch_network

        if self.torch_device != "cuda":
            return torch_network.train_step(parameters, X, Y, learning_rate, hidden, output, cost)
        with _tf32(False):
            return torch_network.train_step(parameters, X, Y, learning_rate, hidden, output, cost)

    def load(self, parameters):
        from bench import torch_network

        return torch_network.to_torch(parameters, self.torch_device)

    def unload(self, parameters):
        from bench import torch_network

        return torch_network.to_numpy(parameters)

    def data(self, X, Y):
        import torch

        return (torch.from_numpy(X).to(self.torch_device), torch.from_numpy(Y).to(self.torch_device))


PATHS = {
    p.name: p
    for p in [
        NumpyPath("reference", "reference.network"),
        UncheckedReferencePath(),
        NumpyPath("cpu", "kernels.cpu", "matmul"),
        NumpyPath("cpu-ikj", "kernels.cpu", "matmul_ikj", max_gemm_flops=gemm_flops(2048, 2048, 2048)),
        NumpyPath("cpu-naive", "kernels.cpu", "matmul_naive", max_gemm_flops=gemm_flops(512, 512, 512)),
        CudaKernelsPath("cuda"),  # the rung the network uses (kernels.cuda.config.GEMM_RUNG)
        CudaKernelsPath("cuda-tiled", rung="tiled"),
        CudaKernelsPath("cuda-naive", rung="naive"),
        TorchPath("torch-cpu", "cpu"),
        TorchPath("torch-cuda", "cuda"),
        TorchPath("torch-cuda-tf32", "cuda", tf32=True),
    ]
}
NETWORK_PATHS = ["reference", "cpu", "cuda", "torch-cpu", "torch-cuda"]
MATMUL_PATHS = [p for p in PATHS if p != "reference-unchecked"]
STEP_PATHS = NETWORK_PATHS[:1] + ["reference-unchecked"] + NETWORK_PATHS[1:]


def require(name, kind, flops=None):
    """The path called `name`, or skip saying why it cannot run `kind` (or this size) here."""
    path = PATHS[name]
    reason = path.skip_reason(kind) or (path.too_slow(flops) if flops else None)
    if reason:
        pytest.skip(f"{name}: {reason}")
    return path
