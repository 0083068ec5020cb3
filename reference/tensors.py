"""Slides "Tensors", "tensor = multidimensional array" and "PyTorch Tensors": each of the slide's
tensor examples beside its twin in this project, a NumPy array on the host and a numba.cuda
device array on the GPU (tests/test_tensors.py runs both and pins them to torch).

    slide (torch)                               here
    x = torch.Tensor(2, 3)  (uninitialised)     uninitialised(2, 3)        np.empty, float32
    torch.zeros(2, 3), torch.ones(2, 3)         zeros(2, 3), ones(2, 3)    float32, as torch's default
    b = torch.from_numpy(a)  (shares a's memory) view(a)                   a NumPy view of a's memory
    x[:, 1], x[0, :]  (second column, first row) second_column, first_row  views too, as in torch
    x = x.to(device)  (a copy in GPU memory)     to_device(x)              numba.cuda.to_device
    torch.ones_like(x, device=device)            ones_like_on_device(x)    made on the device

The device functions import numba.cuda when called: on a machine without a GPU they run in numba's
CUDA simulator when NUMBA_ENABLE_CUDASIM=1 is set before numba is first imported (the tests do).
"""

import numpy as np


def uninitialised(rows=2, cols=3):
    """x = torch.Tensor(2, 3): a (rows, cols) float32 array whose values are whatever the memory
    held (the slide prints 0.00e+00 ... -1.58e+29): allocation without writing, np.empty."""
    return np.empty((rows, cols), dtype=np.float32)


def zeros(rows=2, cols=3):
    """torch.zeros(2, 3): (rows, cols) float32 zeros."""
    return np.zeros((rows, cols), dtype=np.float32)


def ones(rows=2, cols=3):
    """torch.ones(2, 3): (rows, cols) float32 ones."""
    return np.ones((rows, cols), dtype=np.float32)


def view(a):
    """b = torch.from_numpy(a): an array that is a's memory, not a copy, so a write through either
    one shows in the other. NumPy's own twin is a view; np.array(a) (like torch.tensor(a)) copies."""
    return a.view()


def second_column(x):
    """print(x[:, 1]), "second column": shape (rows,), a view into x (writes go through)."""
    return x[:, 1]


def first_row(x):
    """print(x[0, :]), "first row": shape (cols,), a view into x."""
    return x[0, :]


def to_device(x):
    """x = x.to(device): a copy of x in GPU memory, a numba.cuda device array of x's shape and dtype
    (copy_to_host() brings it back). Later writes to x do not reach the copy."""
    from numba import cuda

    return cuda.to_device(x)


_FILL = []


def _fill_kernel():
    """One CUDA thread per entry of a 2-D device array: out[i, j] = value. Compiled on first use."""
    global cuda  # a module global, as kernels need: numba's simulator swaps in its fake `cuda` there
    if not _FILL:
        from numba import cuda

        @cuda.jit
        def fill(out, value):
            i, j = cuda.grid(2)
            if i < out.shape[0] and j < out.shape[1]:
                out[i, j] = value

        _FILL.append(fill)
    return _FILL[0]


def ones_like_on_device(x):
    """y = torch.ones_like(x, device=device), "directly create a tensor on GPU": a device array of
    x's shape (2-D) and dtype, allocated on the device (device_array_like) and filled there by a
    kernel, with nothing copied from the host."""
    from numba import cuda

    if np.ndim(x) != 2:
        raise ValueError(f"x has shape {np.shape(x)}; expected a 2-D array (rows, cols)")
    out = cuda.device_array_like(x)
    threads = (8, 8)  # 64 threads a block: small, so the CUDA simulator stays quick
    blocks = tuple((n + t - 1) // t for n, t in zip(out.shape, threads, strict=True))
    _fill_kernel()[blocks, threads](out, 1)
    return out
