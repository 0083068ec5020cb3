"""reference/tensors.py: the slides' tensor examples and their NumPy / numba.cuda twins, pinned to
torch (shapes, dtypes, values, and which operations share memory). The device twins run on a GPU,
or in numba's CUDA simulator, which tests/conftest.py switches on when there is none."""

import numpy as np
import pytest
import torch

from reference import tensors

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
DTYPES = {torch.float32: np.float32, torch.float64: np.float64}


def rand23(seed=0):
    """x = torch.rand(2, 3) of the slide, made by NumPy (the same values go to torch)."""
    return np.random.default_rng(seed).random((2, 3), dtype=np.float32)


def test_uninitialised_is_torch_Tensor_2_3_shape_and_dtype():
    x, t = tensors.uninitialised(2, 3), torch.Tensor(2, 3)
    assert x.shape == tuple(t.shape) == (2, 3)
    assert x.dtype == DTYPES[t.dtype] == np.float32
    x[:] = 1.0  # writable memory; its earlier contents are whatever was there (not compared)
    assert (x == 1).all()


def test_by_default_each_is_the_slides_2_by_3():
    """The slide's torch.Tensor(2, 3), torch.zeros(2, 3), torch.ones(2, 3), called without sizes."""
    for made in (tensors.uninitialised(), tensors.zeros(), tensors.ones()):
        assert made.shape == tuple(torch.Tensor(2, 3).shape) == (2, 3)


def test_zeros_and_ones_are_torchs():
    for ours, theirs in ((tensors.zeros(2, 3), torch.zeros(2, 3)), (tensors.ones(2, 3), torch.ones(2, 3))):
        assert ours.dtype == DTYPES[theirs.dtype]
        np.testing.assert_array_equal(ours, theirs.numpy())


def test_from_numpy_and_a_view_share_the_arrays_memory():
    a = rand23()
    b, v = torch.from_numpy(a), tensors.view(a)
    a[0, 0] = 7.0
    assert b[0, 0].item() == 7.0 and v[0, 0] == 7.0, "a write to a shows in both"
    b[1, 2] = -1.0
    assert a[1, 2] == -1.0 and v[1, 2] == -1.0, "a write through torch's tensor shows in a"
    v[0, 1] = 5.0
    assert a[0, 1] == 5.0 and b[0, 1].item() == 5.0
    assert np.shares_memory(a, v) and b.data_ptr() == a.ctypes.data


def test_copies_do_not_share():
    a = rand23()
    copy, torch_copy = np.array(a), torch.tensor(a)  # np.array and torch.tensor both copy
    a[0, 0] = 9.0
    assert copy[0, 0] != 9.0 and torch_copy[0, 0].item() != 9.0


def test_the_two_slices_are_torchs_and_views():
    x = rand23()
    t = torch.from_numpy(x)
    column, row = tensors.second_column(x), tensors.first_row(x)
    np.testing.assert_array_equal(column, t[:, 1].numpy())
    np.testing.assert_array_equal(row, t[0, :].numpy())
    assert column.shape == tuple(t[:, 1].shape) == (2,) and row.shape == tuple(t[0, :].shape) == (3,)
    t[:, 1][0] = 3.0  # torch's slice is a view of x, and so is ours
    assert x[0, 1] == 3.0 and column[0] == 3.0 and row[1] == 3.0


def test_to_device_is_a_copy_with_torchs_values():
    x = rand23()
    on_device = tensors.to_device(x)
    expected = torch.from_numpy(x).to(DEVICE).cpu().numpy().copy()  # .to("cpu") would be x itself
    assert on_device.shape == x.shape and on_device.dtype == x.dtype
    np.testing.assert_array_equal(on_device.copy_to_host(), expected)
    x[0, 0] = 42.0
    assert on_device.copy_to_host()[0, 0] == expected[0, 0] != 42.0, "the device copy is separate"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ones_like_on_device_is_torchs_ones_like(dtype):
    x = rand23().astype(dtype)
    ours = tensors.ones_like_on_device(x)
    theirs = torch.ones_like(torch.from_numpy(x), device=DEVICE)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == DTYPES[theirs.dtype] == dtype
    np.testing.assert_array_equal(ours.copy_to_host(), theirs.cpu().numpy())


def test_ones_like_on_device_fills_a_shape_past_one_block():
    """9 x 2: the 8 x 8 blocks must round the 9 rows up to two blocks (the last row is easy to
    miss: an array not written to holds whatever the memory held)."""
    x = np.zeros((9, 2), np.float32)
    ours = tensors.ones_like_on_device(x)
    theirs = torch.ones_like(torch.from_numpy(x), device=DEVICE)
    np.testing.assert_array_equal(ours.copy_to_host(), theirs.cpu().numpy())


def test_to_a_device_it_is_already_on_is_no_copy_in_torch():
    """Why the test above copies torch's result: .to(device) copies only when the device changes."""
    x = torch.from_numpy(rand23())
    assert x.to("cpu") is x


def test_ones_like_on_device_wants_2_d():
    with pytest.raises(ValueError, match=r"x has shape \(3,\); expected a 2-D array"):
        tensors.ones_like_on_device(np.zeros(3))
