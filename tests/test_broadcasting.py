"""Input checks that broadcasting cannot fool: every public function of every path refuses each of
its arrays transposed, or with a 1 in place of a size, with the reference's words.

NumPy would still compute with many such arrays (b of shape (1, 1), Y of shape (m, 1) beside AL
of shape (1, m), dA of shape (n, 1) beside Z of shape (n, m)) and give a silently wrong answer, and
a fast path's kernel, which has no bounds checks, would read past the end of an array. The cases
are generated, not listed: for each function of kernels.paths.API its arguments come from its
signature (the name of each argument gives its array, or dict of arrays, or cache of arrays),
and each array in them is changed in every way that changes its shape. backward's AL and Y must
match each other, so they are also changed together (what only forward's Z[L] can catch).
A change the reference accepts must be a problem of another size that is just as valid (a batch
of m = 1 samples for forward): it is listed, and every path must accept it too.
"""

import inspect

import numpy as np
import pytest

from kernels import paths
from reference import network as reference
from reference.network import LinearCache
from tests.conftest import load_path

PROBLEMS = {  # name -> (layer widths [n0, n1, n2], m): every size distinct, and n[L] = 1 or not
    "nL=2": ([3, 4, 2], 5),
    "nL=1": ([3, 4, 1], 5),
}
FUNCTIONS = [name for name in paths.API if name not in (
    "initialize_parameters",  # no arrays
    "sigmoid", "tanh", "relu",  # one array of any 2-D shape: nothing to be inconsistent with
)]
# (function, argument, change): the changes that give another valid problem of the same network
VALID = {("forward", "X", "1 in place of size 1"), ("linear_forward", "A_prev", "1 in place of size 1")}


def arguments(path, dims, m):
    """name -> value for every argument any function of the API takes: one valid problem."""
    rng = np.random.default_rng(0)
    parameters = reference.initialize_parameters(dims, seed=1)
    for key in parameters:
        if key.startswith("b"):
            parameters[key] = rng.standard_normal(parameters[key].shape)
    X = rng.standard_normal((dims[0], m))
    Y = rng.integers(0, 2, (dims[-1], m)).astype(np.float64)
    AL, caches = path.forward(X, parameters)
    ZL = reference.forward(X, parameters)[1][-1].Z
    A_prev, W, b = X, parameters["W1"], parameters["b1"]
    n = W.shape[0]
    return {
        "X": X, "Y": Y, "parameters": parameters, "AL": AL, "caches": caches, "logits": ZL,
        "grads": {"d" + k: rng.standard_normal(v.shape) for k, v in parameters.items()},
        "learning_rate": 0.1, "A_prev": A_prev, "W": W, "b": b,
        "dZ": rng.standard_normal((n, m)), "cache": LinearCache(A_prev, W, b),
        "dA": rng.standard_normal((n, m)), "Z": rng.standard_normal((n, m)),
    }


def shape_changes(a):
    """(what, changed copy) for each change of a 2-D array that changes its shape: transposed,
    or each size (other than 1) replaced by 1."""
    out = []
    if a.T.shape != a.shape:
        out.append(("transposed", a.T.copy()))
    for axis in range(2):
        if a.shape[axis] != 1:
            out.append((f"1 in place of size {axis}", np.take(a, [0], axis=axis)))
    return out


def changed_calls(function, args):
    """(argument, what, kwargs) for every single-array change of every argument of function,
    found from its signature; dicts and caches are changed one array at a time."""
    names = list(inspect.signature(getattr(reference, function)).parameters)
    given = {name: args[name] for name in names if name in args}
    for name, value in given.items():
        if isinstance(value, np.ndarray):
            for what, changed in shape_changes(value):
                yield name, what, dict(given, **{name: changed})
        elif isinstance(value, dict):
            for key, array in value.items():
                for what, changed in shape_changes(array):
                    yield f"{name}[{key!r}]", what, dict(given, **{name: dict(value, **{key: changed})})
        elif isinstance(value, LinearCache):
            for field, array in value._asdict().items():
                for what, changed in shape_changes(array):
                    yield f"{name}.{field}", what, dict(given, **{name: value._replace(**{field: changed})})
    if function == "backward":  # AL and Y must match each other: change both alike
        for (what, AL), (_, Y) in zip(shape_changes(given["AL"]), shape_changes(given["Y"]), strict=True):
            yield "AL and Y", what, dict(given, AL=AL, Y=Y)


def outcome(function, kwargs):
    try:
        return ("value", function(**kwargs))
    except (ValueError, TypeError) as error:
        return ("error", type(error), str(error))


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_array_transposed_or_with_a_1_for_a_size_is_refused_as_the_reference_does(
        path, function, problem):
    dims, m = PROBLEMS[problem]
    ours, theirs = arguments(path, dims, m), arguments(load_path("reference"), dims, m)
    cases = list(zip(changed_calls(function, ours), changed_calls(function, theirs), strict=True))
    assert cases, f"{function}: no array argument found in its signature"
    for (name, what, kwargs), (_, _, reference_kwargs) in cases:
        expected = outcome(getattr(reference, function), reference_kwargs)
        got = outcome(getattr(path, function), kwargs)
        case = f"{path.name}.{function} with {name} {what}"
        if (function, name, what) in VALID:
            assert expected[0] == got[0] == "value", f"{case}: a valid problem, refused: {got}"
            continue
        assert expected[0] == "error", f"the reference accepts {function} with {name} {what}"
        assert got[0] == "error", f"{case}: accepted, where the reference says {expected[2]}"
        assert got[1:] == expected[1:], f"{case}: {got[1].__name__}: {got[2]}"


def test_the_changes_include_arrays_numpy_would_broadcast():
    """The generator's own check: among its changed calls are arrays that NumPy broadcasts against
    the array they meet (b as (1, 1) against W X, Y as (m, 1) against AL (1, m), dA as (n, 1)
    against Z), the ones a missing check would let through to a wrong answer."""
    dims, m = PROBLEMS["nL=1"]
    args = arguments(load_path("reference"), dims, m)
    changed = {(function, name, what): kwargs for function in FUNCTIONS
               for name, what, kwargs in changed_calls(function, args)}
    for case, array, partner in [
        (("forward", "parameters['b1']", "1 in place of size 0"),
         lambda k: k["parameters"]["b1"], lambda k: k["parameters"]["W1"] @ k["X"]),
        (("compute_cost", "Y", "transposed"), lambda k: k["Y"], lambda k: k["AL"]),
        (("sigmoid_backward", "dA", "1 in place of size 1"), lambda k: k["dA"], lambda k: k["Z"]),
        (("backward", "AL and Y", "transposed"), lambda k: k["AL"], lambda k: k["caches"][-1].Z),
        (("update_parameters", "grads['db1']", "transposed"),
         lambda k: k["grads"]["db1"], lambda k: k["parameters"]["b1"]),
    ]:
        kwargs = changed[case]
        assert array(kwargs).shape != partner(kwargs).shape, case
        np.broadcast_shapes(array(kwargs).shape, partner(kwargs).shape)  # NumPy would go on


def products(path):
    """(function, its two operand names, the axes they share, NumPy's product) of each matrix
    product a fast path offers."""
    module = path.module
    out = [(module.matmul, ("A", "B"), (1, 0), lambda a, b: a @ b)]
    if path.name == "cpu":
        from kernels.cpu import products as p

        out += [(p.w_a, ("W", "A"), (1, 0), lambda a, b: a @ b),
                (p.dz_at, ("dZ", "A"), (1, 1), lambda a, b: a @ b.T),
                (p.wt_dz, ("W", "dZ"), (0, 0), lambda a, b: a.T @ b)]
    return out


@pytest.mark.parametrize("name", ["cpu", "cuda"])
def test_every_product_operand_transposed_or_with_a_1_for_a_size_is_refused(name):
    """The fast paths' matrix products check their operands with checks.check_product_operands:
    a change that breaks the shared dimension gets its words; one that keeps it is a product of
    another size, equal to NumPy's."""
    from reference import checks

    path = load_path(name)
    rng = np.random.default_rng(0)
    for function, (name_a, name_b), axes, numpy_product in products(path):
        a = rng.standard_normal((3, 4) if axes[0] == 1 else (4, 3))
        b = rng.standard_normal((4, 5) if axes[1] == 0 else (5, 4))
        for which in (0, 1):
            for what, changed in shape_changes((a, b)[which]):
                operands = (changed, b) if which == 0 else (a, changed)
                expected = outcome(checks.check_product_operands, dict(
                    name_a=name_a, a=operands[0], name_b=name_b, b=operands[1], axes=axes))
                got = outcome(function, dict(zip(list(inspect.signature(function).parameters)[:2], operands,
                                                 strict=True)))
                case = f"{name} {function.__name__} with {(name_a, name_b)[which]} {what}"
                if expected[0] == "value":
                    assert got[0] == "value", f"{case}: a valid product, refused: {got}"
                    np.testing.assert_allclose(got[1], numpy_product(*operands), rtol=1e-12, err_msg=case)
                else:
                    assert got[1:] == expected[1:], f"{case}: {got}"
