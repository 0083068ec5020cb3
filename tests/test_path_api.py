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
