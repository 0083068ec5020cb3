"""train_step fused: forward, cost, backward and update in one compiled call.

    train_step(parameters, X, Y, learning_rate, hidden, output, cost) -> J     the public door
    PreparedStep                                   one validated call, kept for the calls after it
    train_step_kernel(net, X, Y, alpha) -> (J, status)                          the compiled step

Legend: L layers, l = 1..L, n[l] units in layer l (n[0] = features), m samples, one per column.
A Net holds a network's parameters W[l], b[l] and everything the step writes, Z[l], A[l], dZ[l],
dA[l], dW[l], db[l] (each a list indexed by l as on the slides; index 0 is an empty placeholder,
A[0] = X is an argument) and the products' packing buffers, so a steady-state step allocates
nothing. A Net is a numba structref of typed Lists: one type per dtype whatever the depth L,
so the step compiles once per dtype, and one argument to unbox per call. What a call costs,
measured, is in docs/performance.md (python -m bench.step_call).
"""

import threading

import numpy as np
from numba import njit, types
from numba.experimental import structref
from numba.typed import List

from kernels import scalar
from kernels.cpu import config, elementwise, products, reductions
from kernels.cpu.config import JIT
from kernels.scalar import ACTIVATION_CODES, COST_CODES, CROSS_ENTROPY, MSE
from reference import checks

OK, BAD_VALUES = 0, 1


@structref.register
class NetType(types.StructRef):
    """numba's type of a Net: one per dtype (the types of its fields), whatever L."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(t)) for name, t in fields)


class Net(structref.StructRefProxy):
    """Parameters, workspace and activation/cost codes of one network, as fields by name."""


NET_FIELDS = ("W", "b", "Z", "A", "dZ", "dA", "dW", "db", "Vbuf", "Cbuf", "hidden", "output", "cost")
structref.define_proxy(Net, NetType, NET_FIELDS)


@njit(**JIT)
def new_net(W, b, Z, A, dZ, dA, dW, db, Vbuf, Cbuf, hidden, output, cost):
    """A Net built in compiled code: cached on disk, unlike the Python-side constructor."""
    return Net(W, b, Z, A, dZ, dA, dW, db, Vbuf, Cbuf, hidden, output, cost)


@njit(**JIT)
def train_step_kernel(net, X, Y, alpha):
    """One gradient-descent step of net on the batch X: (n[0], m), Y: (n[L], m).
    Returns (J before the update, OK), or (nan, BAD_VALUES) having written nothing."""
    W, b, Z, A, dZ, dA, dW, db = net.W, net.b, net.Z, net.A, net.dZ, net.dA, net.dW, net.db
    L = len(W) - 1
    # The values and alpha > 0 (the Python side has checked shapes, dtypes and layout).
    ok = 0 < alpha < np.inf and reductions.all_finite(X) and reductions.all_finite(Y)
    if net.cost == CROSS_ENTROPY:
        ok = ok and reductions.labels_in_unit_interval(Y)
    for l in range(1, L + 1):
        ok = ok and reductions.all_finite(W[l]) and reductions.all_finite(b[l])
    if not ok:
        return np.nan, BAD_VALUES

    # Forward: Z[l] = W[l] A[l-1] + b[l], A[l] = g(Z[l]).
    for l in range(1, L + 1):
        g = net.hidden if l < L else net.output
        A_prev = X if l == 1 else A[l - 1]
        elementwise.linear_activation_forward_into(A_prev, W[l], b[l], Z[l], A[l], g,
                                                   net.Vbuf, net.Cbuf)

    # Cost before the update (cross-entropy from the logits Z[L]).
    if net.cost == MSE:
        J = reductions.cost(A[L], Y, scalar.SQUARED_TERM)
    else:
        J = reductions.cost(Z[L], Y, scalar.LOGITS_TERM)

    # Backward: dZ[L], then dW[l] = dZ[l] A[l-1]^T, db[l] = sum over m of dZ[l],
    # dA[l-1] = W[l]^T dZ[l], dZ[l-1] = dA[l-1] * g'(Z[l-1]). dA[0] is never needed.
    elementwise.output_gradient_into(A[L], Y, Z[L], dZ[L], net.output, net.cost)
    for l in range(L, 0, -1):
        A_prev = X if l == 1 else A[l - 1]
        products.dzat(dZ[l], A_prev, dW[l], net.Vbuf, net.Cbuf)
        reductions.bias_gradient_into(dZ[l], db[l])
        if l > 1:
            products.wtdz(W[l], dZ[l], dA[l - 1], net.Vbuf, net.Cbuf)
            elementwise.activation_backward_into(dA[l - 1], Z[l - 1], dZ[l - 1], net.hidden)

    # Update: W[l] <- W[l] - alpha dW[l], b[l] <- b[l] - alpha db[l].
    for l in range(1, L + 1):
        elementwise.update_into(W[l], dW[l], alpha)
        elementwise.update_into(b[l], db[l], alpha)
    return J, OK


_ndarray = np.ndarray
_NUMBER_TYPES = frozenset({float, int, np.float64, np.float32})  # learning rates the fast path takes


class PreparedStep:
    """A call of train_step that passed every check, ready to be repeated without them.

    It holds the parameter arrays it was checked with and a Net over them with its own workspace
    for batches of X's shape (one per PreparedStep: two threads training two networks never
    share one). accepts() is the whole fast-path test: the parameters dict holds the very same
    arrays and nothing else, X and Y are C-contiguous arrays of the prepared shapes and dtype,
    and the learning rate is a plain number; the kernel checks the rest (the values finite,
    labels in [0, 1], learning rate > 0). A parameter reshaped or retyped in place
    (a.shape = ...) is not noticed: replace it instead. Parameters that are not C-contiguous
    are stepped on contiguous copies, copied in and out around each call; such a step is used
    by the checked path only.
    """

    __slots__ = ("pairs", "shapes", "dtype", "copies", "size", "Y_shape", "workspace", "net")

    def __init__(self, parameters, L, X_shape, dtype, hidden, output, cost):
        names = [f"{p}{l}" for l in range(1, L + 1) for p in "Wb"]
        originals = [parameters[k] for k in names]
        self.pairs = tuple(zip(names, originals, strict=True))
        self.shapes = tuple(a.shape for a in originals)
        self.dtype = np.dtype(dtype)
        work = [np.ascontiguousarray(a) for a in originals]
        self.copies = [(a, w) for a, w in zip(originals, work, strict=True) if w is not a]
        self.size = -1 if self.copies else 2 * L  # what accepts() wants len(parameters) to be

        m = X_shape[1]
        dims = [X_shape[0]] + [W.shape[0] for W in work[::2]]
        self.Y_shape = (dims[L], m)
        none = np.zeros((0, 0), dtype)  # index 0 of every list: layers count from 1

        def by_layer(shape):
            return [none] + [np.zeros(shape(l), dtype) for l in range(1, L + 1)]

        Z, A, dZ, dA = (by_layer(lambda l: (dims[l], m)) for _ in range(4))
        dW, db = by_layer(lambda l: (dims[l], dims[l - 1])), by_layer(lambda l: (dims[l], 1))
        Vbuf, Cbuf = products.network_buffers(dims, m, dtype)
        self.workspace = [*Z, *A, *dZ, *dA, *dW, *db, Vbuf, Cbuf]  # all the kernel writes
        W, b = [none] + work[::2], [none] + work[1::2]
        codes = ACTIVATION_CODES[hidden], ACTIVATION_CODES[output], COST_CODES[cost]
        self.net = new_net(*map(List, (W, b, Z, A, dZ, dA, dW, db)), Vbuf, Cbuf, *codes)

    def holds(self, parameters):
        """parameters holds the arrays this step was prepared with, of the same shapes."""
        return all(parameters[k] is a and a.shape == s and a.dtype == self.dtype
                   for (k, a), s in zip(self.pairs, self.shapes, strict=True))

    def accepts(self, parameters, X, Y, learning_rate):
        """This call may skip the checks (see above)."""
        if (len(parameters) != self.size or Y.shape != self.Y_shape or X.dtype is not self.dtype
                or Y.dtype is not self.dtype or not X.flags.c_contiguous
                or not Y.flags.c_contiguous or type(learning_rate) not in _NUMBER_TYPES):
            return False
        for key, a in self.pairs:
            if parameters[key] is not a:
                return False
        return True

    def run(self, X, Y, learning_rate):
        """The kernel on contiguous X, Y of the step's dtype; for copied parameters, in and out."""
        for a, w in self.copies:
            w[...] = a
        J, status = train_step_kernel(self.net, X, Y, learning_rate)
        if status == OK:
            for a, w in self.copies:
                a[...] = w
        return J, status


# The memo of prepared steps: (id(parameters), X's shape, options) -> PreparedStep, so a training
# loop with a short last batch keeps both. The fast path only reads it; the checked path adds
# to it under the lock, and the oldest goes when it is full.
_PREPARED = {}
_MAX_PREPARED = 8
_PREPARED_LOCK = threading.Lock()


def _remember(key, step):
    with _PREPARED_LOCK:
        _PREPARED.pop(key, None)
        _PREPARED[key] = step
        while len(_PREPARED) > _MAX_PREPARED:
            del _PREPARED[next(iter(_PREPARED))]


def train_step(parameters, X, Y, learning_rate, hidden="relu", output="sigmoid",
               cost="cross_entropy"):
    """One step of training on the batch (X, Y): forward, cost, backward, update, fused.

    X: (n[0], m), Y: (n[L], m). Updates parameters in place; returns the cost before the update.
    One parameters dict is trained by one thread at a time (its arrays are updated in place).
    """
    if type(X) is _ndarray and type(Y) is _ndarray:
        key = (id(parameters), X.shape, hidden, output, cost)
        step = _PREPARED.get(key)
        if step is not None and step.accepts(parameters, X, Y, learning_rate):
            J, status = train_step_kernel(step.net, X, Y, learning_rate)
            if status == OK:
                return J
            # A NaN/inf, a label outside [0, 1] or a learning rate <= 0: nothing was written;
            # the checks below raise the reference's error.

    L = checks.check_step(parameters, X, Y, learning_rate, hidden, output, cost)
    config.ready()
    X = np.ascontiguousarray(X)
    Y = np.ascontiguousarray(Y.astype(X.dtype, copy=False))
    key = (id(parameters), X.shape, hidden, output, cost)
    step = _PREPARED.get(key)
    if step is None or not step.holds(parameters):
        step = PreparedStep(parameters, L, X.shape, X.dtype, hidden, output, cost)
        _remember(key, step)
    J, status = step.run(X, Y, learning_rate)
    if status != OK:  # the checks above passed, so this cannot happen; never return garbage
        raise RuntimeError("train_step kernel rejected inputs that passed the checks")
    return J
