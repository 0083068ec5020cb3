"""The path contract (kernels/paths.py): every path offers every name of API, each a callable
taking the reference's arguments; and the registry is the one the tests and plots use."""

import inspect

import pytest

from kernels import paths
from tests.conftest import load_path


@pytest.mark.parametrize("name", list(paths.PATHS))
def test_every_path_exports_the_whole_api(name):
    module = load_path(name).module
    missing = [attr for attr in paths.API if not callable(getattr(module, attr, None))]
    assert not missing, f"{paths.PATHS[name]} lacks {missing}"


@pytest.mark.parametrize("name", ["cpu", "cuda"])
def test_fast_paths_take_the_reference_arguments(name):
    """Same parameter names, order and defaults as reference.network (what callers pass)."""
    module = load_path(name).module
    reference = load_path("reference").module
    for attr in paths.API:
        ours = list(inspect.signature(getattr(module, attr)).parameters.values())
        theirs = list(inspect.signature(getattr(reference, attr)).parameters.values())
        assert [(p.name, p.default) for p in ours[:len(theirs)]] == \
            [(p.name, p.default) for p in theirs], f"{name}.{attr}"
        extra = ours[len(theirs):]
        assert all(p.default is not p.empty for p in extra), f"{name}.{attr} adds a required argument"


def test_unknown_path_is_named():
    expected = r"unknown path 'gpu'; expected one of \('reference', 'cpu', 'cuda'\)"
    with pytest.raises(ValueError, match=expected):
        paths.load_path("gpu")


def test_a_path_that_cannot_run_here_says_why_and_the_others_load(monkeypatch):
    """load_path asks kernels.cuda_target for kernels.cuda alone."""
    monkeypatch.setattr(paths, "unavailable_reason", lambda: "no NVIDIA driver")
    assert paths.load_path("cuda") == (None, "kernels.cuda cannot run here: no NVIDIA driver")
    for name in ("reference", "cpu"):
        module, reason = paths.load_path(name)
        assert reason is None and module.__name__ == paths.PATHS[name]
    monkeypatch.setattr(paths, "unavailable_reason", lambda: None)
    module, reason = paths.load_path("cuda")
    assert reason is None and module.__name__ == "kernels.cuda"


def test_host_parameters_copies_device_arrays_back():
    import numpy as np

    cuda = load_path("cuda").module
    parameters = {"W1": np.arange(6.0).reshape(2, 3), "b1": np.ones((2, 1))}
    on_device = cuda.step.to_device(parameters)
    back = paths.host_parameters(on_device)
    assert back.keys() == parameters.keys()
    for key, value in parameters.items():
        assert isinstance(back[key], np.ndarray)
        np.testing.assert_array_equal(back[key], value)
        back[key][...] = -1  # a copy: the device's array keeps its values
        np.testing.assert_array_equal(paths.to_host(on_device[key]), value)
    np.testing.assert_array_equal(paths.host_parameters(parameters)["W1"], parameters["W1"])


def test_activation_functions_names_documents_and_passes_its_arguments_through():
    from kernels.activations import EQUATIONS, activation_functions

    calls = []
    g, g_backward = activation_functions(
        "tanh", lambda Z, name: calls.append(("g", Z, name)) or "A",
        lambda dA, Z, name: calls.append(("g'", dA, Z, name)) or "dZ", "some.module")
    assert g("z") == "A" and g_backward("da", "z") == "dZ"
    assert calls == [("g", "z", "tanh"), ("g'", "da", "z", "tanh")]
    assert (g.__name__, g.__qualname__, g_backward.__name__) == ("tanh", "tanh", "tanh_backward")
    assert g.__module__ == g_backward.__module__ == "some.module"
    assert g.__doc__.startswith(EQUATIONS["tanh"][0]) and g_backward.__doc__.startswith(EQUATIONS["tanh"][1])
