"""Grading: the L-layer network (slides "Forward Propagation", "Cost Function", "Backward
Propagation - Parameter Updates"): the forward loop, the cost, dZ[L], the layer's backward, the
backward loop and the update, against torch.autograd in float64.

Shapes are never square where a transpose could hide (and once square, where a transposed dW
still has the right shape), several outputs (n[L] = 3) show a mean over m instead of N = n[L] m,
saturated outputs show a division by a(1 - a), float32 inputs show a float64 result, and every
input is compared before and after the call.
"""

import numpy as np
import torch
import torch.nn.functional as F

from exercises.grading.support import Case, cases, copies, expect, fail, keep, run, torch_grads

TORCH_G = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda z: z}


def problem(dims, m, dtype=np.float64, cost="cross_entropy", seed=0):
    rng = np.random.default_rng(seed)
    parameters = {}
    for l in range(1, len(dims)):
        W = rng.standard_normal((dims[l], dims[l - 1])) / np.sqrt(dims[l - 1])
        parameters[f"W{l}"] = W.astype(dtype)
        parameters[f"b{l}"] = (0.1 * rng.standard_normal((dims[l], 1))).astype(dtype)
    X = rng.standard_normal((dims[0], m)).astype(dtype)
    Y = (rng.integers(0, 2, (dims[-1], m)) if cost == "cross_entropy"
         else rng.standard_normal((dims[-1], m))).astype(dtype)
    return parameters, X, Y


def torch_forward(t, L, hidden, output):
    """[(A[l-1], Z[l], A[l]) for l = 1..L] in torch."""
    layers, A = [], t["X"]
    for l in range(1, L + 1):
        Z = t[f"W{l}"] @ A + t[f"b{l}"]
        A_next = TORCH_G[hidden if l < L else output](Z)
        layers.append((A, Z, A_next))
        A = A_next
    return layers


def tolerance(dtype):
    return (1e-9, "entrywise") if dtype == np.float64 else (1e-4, "array")


# ---------------------------------------------------------------------------------------------
# The L-layer forward loop.

@cases(Case("[3, 4, 2, 1], relu hidden, sigmoid output, m = 5", {"dims": [3, 4, 2, 1], "m": 5,
                                                                "hidden": "relu", "output": "sigmoid"}),
       Case("[2, 3, 3, 2], tanh hidden, linear output, m = 4", {"dims": [2, 3, 3, 2], "m": 4,
                                                               "hidden": "tanh", "output": "linear"}),
       Case("one layer, [3, 1], sigmoid output", {"dims": [3, 1], "m": 2, "hidden": "relu",
                                                  "output": "sigmoid"}),
       Case("[3, 4, 1], float32", {"dims": [3, 4, 1], "m": 5, "hidden": "relu", "output": "sigmoid",
                                   "dtype": np.float32}))
def test_forward(student, case):
    dtype = case.data.get("dtype", np.float64)
    parameters, X, _ = problem(case.dims, case.m, dtype)
    L = len(case.dims) - 1
    before = copies({"X": X, **parameters})
    result = run(student.network._forward, X, parameters, L, case.hidden, case.output)
    for name, array in {"X": X, **parameters}.items():
        keep(name, before[name], array)
    if not isinstance(result, tuple) or len(result) != 2:
        fail(f"_forward returned {type(result).__name__}; expected the tuple (AL, caches)")
    AL, caches = result
    if not isinstance(caches, (list, tuple)) or len(caches) != L:
        got = len(caches) if isinstance(caches, (list, tuple)) else type(caches).__name__
        fail(f"caches holds {got} entries; expected L = {L}, one per layer, in the order l = 1..L")
    t = {k: torch.tensor(np.asarray(v, np.float64)) for k, v in {"X": X, **parameters}.items()}
    layers = torch_forward(t, L, case.hidden, case.output)
    tol, measure = tolerance(dtype)
    for l, (cache, (A_prev, Z, _)) in enumerate(zip(caches, layers, strict=True), start=1):
        try:
            (cached_A_prev, cached_W, _), cached_Z, activation = cache
        except (TypeError, ValueError):
            fail(f"the cache of layer {l} is not ((A[l-1], W[l], b[l]), Z[l], activation): use the "
                 f"cache that linear_activation_forward returns")
        expected = case.hidden if l < L else case.output
        if activation != expected:
            fail(f"layer {l} of {L} used activation {activation!r}; expected {expected!r} "
                 f"({'hidden' if l < L else 'output'} layer)")
        expect(f"A[{l - 1}] (the input of layer {l}, in its cache)", cached_A_prev, A_prev.numpy(),
               tol=tol, measure=measure, like=dtype)
        if cached_W is not parameters[f"W{l}"] and not np.array_equal(cached_W, parameters[f"W{l}"]):
            fail(f"the cache of layer {l} does not hold W{l}")
        expect(f"Z[{l}]", cached_Z, Z.numpy(), tol=tol, measure=measure, like=dtype)
    expect("AL = A[L]", AL, layers[-1][2].numpy(), tol=tol, measure=measure, like=dtype)


# ---------------------------------------------------------------------------------------------
# The cost.

def ce_case(id, AL, Y, dtype=np.float64):
    return Case(id, {"AL": np.asarray(AL, dtype), "Y": np.asarray(Y, dtype)})


_rng = np.random.default_rng(1)
CE_CASES = (
    ce_case("one output, m = 9", _rng.uniform(0.05, 0.95, (1, 9)), _rng.integers(0, 2, (1, 9))),
    ce_case("n[L] = 3 outputs, m = 7 (N = 21 entries)", _rng.uniform(0.05, 0.95, (3, 7)),
            _rng.integers(0, 2, (3, 7))),
    ce_case("AL exactly 0 and 1", [[0.0, 0.0, 1.0, 1.0, 0.5]], [[0.0, 1.0, 0.0, 1.0, 1.0]]),
    ce_case("float32 in, float32 out", _rng.uniform(0.05, 0.95, (2, 5)), _rng.integers(0, 2, (2, 5)),
            np.float32),
)


@cases(*CE_CASES)
def test_cross_entropy(student, case):
    AL, Y = case.AL, case.Y
    before = copies({"AL": AL, "Y": Y})
    J = run(student.losses.cross_entropy, AL, Y)
    keep("AL", before["AL"], AL)
    keep("Y", before["Y"], Y)
    expected, _ = torch_grads(F.binary_cross_entropy, {"input": AL, "target": Y})
    if isinstance(J, np.ndarray) and J.shape != ():
        fail(f"J has shape {J.shape}; expected a scalar (the mean over all entries)")
    tol = 1e-10 if AL.dtype == np.float64 else 1e-4
    expect("J", J, expected, tol=tol, like=AL.dtype if isinstance(J, np.generic | np.ndarray) else None,
           scales={"n[L]": AL.shape[0], "m": AL.shape[1]} if AL.shape[0] > 1 else {"m": AL.shape[1]},
           hints={"nonfinite": "log(0) = -inf, and 0 * -inf is NaN; torch clamps each log at "
                               "-100 (LOG_FLOOR), so a = 0 with y = 1 costs 100, with y = 0 nothing",
                  "scale": "the mean is over all N = n[L] m entries of AL"})


# ---------------------------------------------------------------------------------------------
# dZ[L].

def out_case(id, output, cost, n, m, dtype=np.float64, ZL=None, Y=None, seed=4):
    rng = np.random.default_rng(seed)
    if ZL is None:
        ZL = 2 * rng.standard_normal((n, m))
    ZL = np.asarray(ZL, dtype)
    if Y is None:
        Y = rng.integers(0, 2, ZL.shape) if cost == "cross_entropy" else rng.standard_normal(ZL.shape)
    return Case(id, {"output": output, "cost": cost, "ZL": ZL, "Y": np.asarray(Y, dtype)})


@cases(out_case("sigmoid + cross_entropy, one output, m = 7", "sigmoid", "cross_entropy", 1, 7),
       out_case("sigmoid + cross_entropy, n[L] = 3 outputs, m = 5", "sigmoid", "cross_entropy", 3, 5),
       out_case("linear output + mse, n[L] = 2, m = 5", "linear", "mse", 2, 5),
       out_case("sigmoid output + mse, m = 6", "sigmoid", "mse", 1, 6),
       out_case("saturated outputs: z = 40 (A[L] exactly 1.0), -40, 0", "sigmoid", "cross_entropy",
                1, 3, ZL=[[40.0, -40.0, 0.0]], Y=[[1.0, 0.0, 1.0]]),
       out_case("float32 in, float32 out", "sigmoid", "cross_entropy", 2, 4, np.float32))
def test_output_gradient(student, case):
    ZL, Y = case.ZL, case.Y
    sigmoid = (1 / (1 + np.exp(-ZL.astype(np.float64)))).astype(ZL.dtype)
    AL = sigmoid if case.output == "sigmoid" else ZL.copy()
    before = copies({"AL": AL, "Y": Y, "ZL": ZL})
    dZ = run(student.network.output_gradient, AL, Y, ZL, case.output, case.cost)
    why = ("A[L] is the caller's (also in the caches): dZ = AL names the same array, and -= or /= "
           "then writes into it; make a new array")
    for name, array in (("AL", AL), ("Y", Y), ("ZL", ZL)):
        keep(name, before[name], array, why if name == "AL" else "")

    def cost(ZL, Y):
        A = TORCH_G[case.output](ZL)
        if case.cost == "mse":
            return F.mse_loss(A, Y)
        return F.binary_cross_entropy_with_logits(ZL, Y)  # the same J, torch's stable form

    _, grads = torch_grads(cost, {"ZL": ZL, "Y": Y}, wrt=("ZL",))
    tol, measure = tolerance(ZL.dtype)
    N = Y.size
    expect("dZ[L]", dZ, grads["ZL"], tol=tol, measure=measure, like=ZL.dtype,
           scales={"N": N} if Y.shape[0] == 1 else {"N": N, "m": Y.shape[1]},
           labels=lambda i: f"z = {ZL[i]:g}, y = {Y[i]:g} (a = {AL[i]:.17g})",
           hints={"nonfinite": "a (1 - a) is 0 where a rounds to 0 or 1; the two a (1 - a) cancel "
                               "on paper, so the code must not divide by it (saturated outputs "
                               "happen in training)",
                  "scale:0.5": "the derivative of (a - y)^2 brings a factor 2",
                  f"scale:{Y.shape[0]}": "the mean is over all N = n[L] m entries, not over the m "
                                         "samples only",
                  **({"entries": "the chain rule goes on through the output activation: dZ = dA * g'(Z)"}
                     if case.output == "sigmoid" and case.cost == "mse" else {})})


# ---------------------------------------------------------------------------------------------
# The layer's backward.

def layer_case(id, n_prev, n, m, dtype=np.float64, seed=3):
    rng = np.random.default_rng(seed)
    shapes = {"A_prev": (n_prev, m), "W": (n, n_prev), "b": (n, 1), "dZ": (n, m)}
    return Case(id, {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()})


@cases(layer_case("n[l-1] = 3, n[l] = 2, m = 5", 3, 2, 5),
       layer_case("a square W: n[l-1] = n[l] = 3, m = 4", 3, 3, 4),
       layer_case("one sample, m = 1", 4, 2, 1),
       layer_case("float32 in, float32 out", 3, 2, 5, np.float32))
def test_linear_backward(student, case):
    A_prev, W, b, dZ = case.A_prev, case.W, case.b, case.dZ
    before = copies(case.data)
    result = run(student.network._linear_backward, dZ, (A_prev, W, b))
    for name in ("A_prev", "W", "b", "dZ"):
        keep(name, before[name], case.data[name])
    if not isinstance(result, tuple) or len(result) != 3:
        fail(f"_linear_backward returned {type(result).__name__}; expected the tuple (dA_prev, dW, db)")
    _, grads = torch_grads(lambda A_prev, W, b: W @ A_prev + b, {"A_prev": A_prev, "W": W, "b": b},
                           wrt=("A_prev", "W", "b"), upstream=dZ)
    tol, measure = tolerance(W.dtype)
    m = A_prev.shape[1]
    for name, yours, key in zip(("dA_prev", "dW", "db"), result, ("A_prev", "W", "b"), strict=True):
        expect(name, yours, grads[key], tol=tol, measure=measure, like=W.dtype,
               scales={"m": m} if m > 1 else {},
               hints={"scale": "no 1/m here: it entered once, in dZ[L], and the sums over the "
                               "samples carry it" if m > 1 else ""})


# ---------------------------------------------------------------------------------------------
# The L-layer backward loop.

@cases(Case("[3, 4, 2, 1], relu hidden, sigmoid output, cross_entropy, m = 5",
            {"dims": [3, 4, 2, 1], "m": 5, "hidden": "relu", "output": "sigmoid", "cost": "cross_entropy"}),
       Case("[2, 3, 3, 2], tanh hidden, linear output, mse, m = 4",
            {"dims": [2, 3, 3, 2], "m": 4, "hidden": "tanh", "output": "linear", "cost": "mse"}),
       Case("one layer, [3, 1], sigmoid output, cross_entropy",
            {"dims": [3, 1], "m": 4, "hidden": "relu", "output": "sigmoid", "cost": "cross_entropy"}),
       Case("[3, 4, 1], sigmoid hidden, float32",
            {"dims": [3, 4, 1], "m": 5, "hidden": "sigmoid", "output": "sigmoid", "cost": "cross_entropy",
             "dtype": np.float32}))
def test_backward(student, case):
    dtype = case.data.get("dtype", np.float64)
    network = student.network
    parameters, X, Y = problem(case.dims, case.m, dtype, case.cost, seed=2)
    L = len(case.dims) - 1
    AL, caches = network._forward(X, parameters, L, case.hidden, case.output)
    before = copies({"AL": AL, "Y": Y, **{f"Z{l}": c[1] for l, c in enumerate(caches, 1)}})
    grads = run(network._backward, AL, Y, caches, case.cost)
    keep("AL", before["AL"], AL)
    for l, cache in enumerate(caches, start=1):
        keep(f"Z[{l}] (in the caches)", before[f"Z{l}"], cache[1])
    if not isinstance(grads, dict):
        fail(f"_backward returned {type(grads).__name__}; expected the dict {{'dW1': ..., 'db1': ...}}")
    missing = [f"d{k}" for k in parameters if f"d{k}" not in grads]
    if missing:
        fail(f"grads has no {', '.join(missing)}: one dW[l] and db[l] for every layer l = 1..{L}"
             f" (it has {sorted(grads)})")

    def cost(**t):
        A = torch_forward(t, L, case.hidden, case.output)[-1][2]
        return F.mse_loss(A, t["Y"]) if case.cost == "mse" else F.binary_cross_entropy(A, t["Y"])

    _, expected = torch_grads(cost, {"X": X, "Y": Y, **parameters}, wrt=tuple(parameters))
    tol, measure = tolerance(dtype)
    for l in range(L, 0, -1):
        above = (f"; layer {l + 1}'s gradients match, so look at what passes from layer {l + 1} down "
                 f"to layer {l}") if l < L else ""
        for key in (f"W{l}", f"b{l}"):
            kinds = ("scale", "entries", "transpose")
            message_hints = {k: above.lstrip("; ") for k in kinds} if above else {}
            expect(f"d{key} (layer {l} of {L})", grads[f"d{key}"], expected[key], tol=tol,
                   measure=measure, like=dtype, hints=message_hints)


# ---------------------------------------------------------------------------------------------
# The update.

@cases(Case("[3, 2, 1], alpha = 0.1 (float64)", {"dtype": np.float64}),
       Case("[3, 2, 1], alpha = 0.1, float32 parameters stay float32", {"dtype": np.float32}))
def test_update(student, case):
    dtype, alpha = np.dtype(case.dtype), 0.1
    parameters, _, _ = problem([3, 2, 1], 1, dtype, seed=5)
    rng = np.random.default_rng(6)
    grads = {"d" + k: rng.standard_normal(v.shape).astype(dtype) for k, v in parameters.items()}
    before, grads_before = copies(parameters), copies(grads)
    result = run(student.network._update, parameters, grads, alpha)
    for key in grads:
        keep(key, grads_before[key], grads[key])
    if result is None:
        fail("_update returned None; return parameters (the same dict, updated)")
    tol, measure = tolerance(dtype)
    for key in before:
        new = np.asarray(parameters[key])
        step = new - before[key] if new.shape == before[key].shape else new
        expect(f"the step of {key} (new {key} - old {key})", step,
               -alpha * grads_before["d" + key].astype(np.float64), tol=tol, measure=measure,
               oracle="-alpha d" + key,
               hints={"zero": f"the caller's dict does not see the new {key}: change the array in "
                              f"it, or put the new one in the dict",
                      "scale:-1": "gradient descent steps against the gradient"})
        expect(key, parameters[key], before[key] - dtype.type(alpha) * grads_before["d" + key], tol=tol,
               measure=measure, like=dtype)
        if result is not parameters:
            expect(f"{key} of the dict you returned", result[key], parameters[key], tol=0, like=dtype)
