"""train_step fused: forward, cost, backward and update in one compiled call.

    Workspace                                     a network's W[l], b[l] and all a step writes
    forward, cost, backward, update (ws, ...)     the four steps, compiled (as kernels.cuda.step's)
    train_step_on(table, Vbuf, Cbuf, X, Y, alpha) -> (J, status)    the four in one compiled call
    PreparedStep                                  one checked call, kept for the calls after it
    train_step(parameters, X, Y, learning_rate, hidden, output, cost) -> J    the public entry

Legend: L layers, l = 1..L, n[l] units in layer l (n[0] = features), m samples, one per column.
A Workspace holds a network's parameters W[l], b[l] and everything the step writes, Z[l], A[l],
dZ[l], dA[l], dW[l], db[l] (each indexed by l as on the slides; index 0 is an empty placeholder,
A[0] = X is an argument), the products' packing buffers and the activation and cost codes, so a
steady-state step allocates nothing. The kernel builds it from one int64 table (the codes, then
each array's address and shape, layers.py) and the two packing buffers: a Workspace's type is one
per dtype whatever the depth L, so the step compiles once per dtype, and a call unboxes arrays
only. What a call costs, measured, is in docs/performance.md.
"""

from collections import namedtuple

import numpy as np
from numba import njit

from kernels import scalar
from kernels.cpu import config, elementwise, products, reductions
from kernels.cpu.config import JIT
from kernels.cpu.gemm import aligned_zeros
from kernels.cpu.layers import ENTRY, layers
from kernels.memo import Memo
from kernels.scalar import ACTIVATION_CODES, COST_CODES, CROSS_ENTROPY, MSE
from reference import checks

OK, BAD_VALUES = 0, 1

KINDS = ("W", "b", "Z", "A", "dZ", "dA", "dW", "db")  # the arrays of every layer, by kind
WORKSPACE_FIELDS = KINDS + ("Vbuf", "Cbuf", "hidden", "output", "cost")
Workspace = namedtuple("Workspace", WORKSPACE_FIELDS)  # the names of kernels.cuda.step.Workspace's
HEADER = 4  # table[:HEADER] = L, hidden, output, cost; then ENTRY entries per array, kind by kind


@njit(inline="always", **JIT)
def workspace(table, Vbuf, Cbuf):
    """The Workspace the table describes (see PreparedStep.table)."""
    n = table[0] + 1  # layers 0..L
    k = ENTRY * n  # entries per kind

    def kind(i):
        return layers(table, HEADER + i * k, n, Vbuf)

    return Workspace(kind(0), kind(1), kind(2), kind(3), kind(4), kind(5), kind(6), kind(7),
                     Vbuf, Cbuf, table[1], table[2], table[3])


# ---------------------------------------------------------------------------------------------
# The step: its value checks, then forward, cost, backward, update.


@njit(inline="always", **JIT)
def values_ok(ws, X, Y, alpha):
    """The values the Python side leaves to the kernel: X, Y, W[l], b[l] finite, alpha > 0, and
    cross-entropy labels in [0, 1] (the Python side has checked shapes, dtypes and layout)."""
    W, b = ws.W, ws.b
    ok = 0 < alpha < np.inf and reductions.all_finite(X) and reductions.all_finite(Y)
    if ws.cost == CROSS_ENTROPY:
        ok = ok and reductions.labels_in_unit_interval(Y)
    for l in range(1, len(W)):
        ok = ok and reductions.all_finite(W[l]) and reductions.all_finite(b[l])
    return ok


@njit(inline="always", **JIT)
def forward(ws, X):
    """Z[l] = W[l] A[l-1] + b[l], A[l] = g(Z[l]) for l = 1..L, A[0] = X."""
    W, b, Z, A, Vbuf, Cbuf = ws.W, ws.b, ws.Z, ws.A, ws.Vbuf, ws.Cbuf
    L = len(W) - 1
    for l in range(1, L + 1):
        A_prev = X if l == 1 else A[l - 1]
        g = ws.hidden if l < L else ws.output
        elementwise.linear_activation_forward(A_prev, W[l], b[l], Z[l], A[l], g, Vbuf, Cbuf)


@njit(inline="always", **JIT)
def cost(ws, Y):
    """J of the last forward: the cross-entropy from the logits Z[L], or the mse of A[L]."""
    if ws.cost == MSE:
        A = ws.A
        return reductions.cost(A[len(A) - 1], Y, scalar.SQUARED_TERM)
    Z = ws.Z
    return reductions.cost(Z[len(Z) - 1], Y, scalar.LOGITS_TERM)


@njit(inline="always", **JIT)
def backward(ws, X, Y):
    """dZ[L] from the cost, then for l = L..1: dW[l] = dZ[l] A[l-1]^T, db[l] = sum over m of
    dZ[l], dA[l-1] = W[l]^T dZ[l], dZ[l-1] = dA[l-1] * g'(Z[l-1]). dA[0] is never needed."""
    W, Z, A, dZ, dA, dW, db = ws.W, ws.Z, ws.A, ws.dZ, ws.dA, ws.dW, ws.db
    Vbuf, Cbuf = ws.Vbuf, ws.Cbuf
    L = len(W) - 1
    elementwise.output_gradient(A[L], Y, Z[L], dZ[L], ws.output, ws.cost)
    for l in range(L, 0, -1):
        A_prev = X if l == 1 else A[l - 1]
        products.dzat(dZ[l], A_prev, dW[l], Vbuf, Cbuf)
        reductions.bias_gradient(dZ[l], db[l])
        if l > 1:
            products.wtdz(W[l], dZ[l], dA[l - 1], Vbuf, Cbuf)
            elementwise.activation_backward(dA[l - 1], Z[l - 1], dZ[l - 1], ws.hidden)


@njit(inline="always", **JIT)
def update(ws, alpha):
    """W[l] <- W[l] - alpha dW[l], b[l] <- b[l] - alpha db[l] for every layer."""
    W, dW, b, db = ws.W, ws.dW, ws.b, ws.db
    for l in range(1, len(W)):
        elementwise.update(W[l], dW[l], b[l], db[l], alpha)


@njit(**JIT)
def train_step_on(table, Vbuf, Cbuf, X, Y, alpha):
    """One gradient-descent step of the network the table and buffers describe (a Workspace) on
    the batch X: (n[0], m), Y: (n[L], m). Returns (J before the update, OK), or
    (nan, BAD_VALUES) having written nothing."""
    ws = workspace(table, Vbuf, Cbuf)
    if not values_ok(ws, X, Y, alpha):
        return np.nan, BAD_VALUES
    forward(ws, X)
    J = cost(ws, Y)
    backward(ws, X, Y)
    update(ws, alpha)
    return J, OK


# ---------------------------------------------------------------------------------------------
# The Python side: a checked call prepares a step, and the calls after it skip the checks.

_ndarray = np.ndarray
# Learning rates the fast path passes to the kernel as they are: numba types both as float64, so
# the step is compiled once per dtype. Any other number (an int, np.float32, np.float16, a 0-d
# array) takes the checked path, which hands the kernel float(learning_rate).
_FLOAT_TYPES = frozenset({float, np.float64})


def table_of(L, codes, kinds):
    """The int64 table train_step_on builds its Workspace from: L, the codes (hidden, output,
    cost), then (address, rows, cols) of every array of `kinds` (lists indexed by layer,
    0..L, in the order of KINDS), each C-contiguous and 2-D. The kernel reads the arrays at
    those addresses: whoever holds the table holds the arrays too."""
    table = [L, *codes]
    for arrays in kinds:
        for a in arrays:
            assert a.ndim == 2 and a.flags.c_contiguous
            table += [a.ctypes.data, *a.shape]
    return np.array(table, np.int64)


class PreparedStep:
    """A call of train_step that passed every check, ready to be repeated without them.

    It holds the parameter arrays it was checked with and a workspace over them for batches of
    X's shape (one per PreparedStep: two threads training two networks never share one): the
    arrays by kind (`arrays`), the packing buffers and the table the kernel reads them through.
    accepts() is the whole fast-path test: the parameters dict holds the very same arrays and
    nothing else, X and Y are C-contiguous, aligned arrays of the prepared shapes and dtype, and
    the learning rate is a float (or np.float64); the kernel checks the rest (the values finite,
    labels in [0, 1], learning rate > 0). The fast path calls the step's machine code directly
    (`call`, see compiled()): these are what that code reads X and Y as (writeable or not: the
    step never writes them). A parameter reshaped or retyped in place (a.shape = ...) is not
    noticed: replace it instead. Parameters that are not C-contiguous are stepped on contiguous
    copies, copied in and out around each call; such a step is used by the checked path only.
    """

    __slots__ = ("pairs", "shapes", "dtype", "copies", "size", "Y_shape", "arrays", "Vbuf", "Cbuf",
                 "table", "call")

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
        none = np.zeros((0, 0), dtype)  # index 0 of every kind: layers count from 1

        def by_layer(shape):  # each array on a cache line: with m a whole number of vectors, so
            # is every row (dots, strips and the engine load rows of A, Z and dZ as vectors)
            return [none] + [aligned_zeros(*shape(l), dtype, whole_rows=False) for l in range(1, L + 1)]

        self.arrays = {"W": [none] + work[::2], "b": [none] + work[1::2],
                       **{kind: by_layer(lambda l: (dims[l], m)) for kind in ("Z", "A", "dZ", "dA")},
                       "dW": by_layer(lambda l: (dims[l], dims[l - 1])),
                       "db": by_layer(lambda l: (dims[l], 1))}
        codes = ACTIVATION_CODES[hidden], ACTIVATION_CODES[output], COST_CODES[cost]
        self.Vbuf, self.Cbuf = products.network_buffers(dims, m, dtype)
        self.table = table_of(L, codes, [self.arrays[k] for k in KINDS])
        self.call = train_step_on  # after the first run, its machine code (run)

    def holds(self, parameters):
        """parameters holds the arrays this step was prepared with, of the same shapes."""
        return all(parameters.get(k) is a and a.shape == s and a.dtype == self.dtype
                   for (k, a), s in zip(self.pairs, self.shapes, strict=True))

    def accepts(self, parameters, X, Y, learning_rate):
        """This call may skip the checks (see above)."""
        x, y = X.flags, Y.flags
        if (len(parameters) != self.size or Y.shape != self.Y_shape or X.dtype is not self.dtype
                or Y.dtype is not self.dtype or not (x.c_contiguous and x.aligned)
                or not (y.c_contiguous and y.aligned) or type(learning_rate) not in _FLOAT_TYPES):
            return False
        try:
            for key, a in self.pairs:
                if parameters[key] is not a:
                    return False
        except KeyError:  # the dict may have lost the key since
            return False
        return True

    def run(self, X, Y, learning_rate):
        """The kernel on contiguous X, Y of the step's dtype; for copied parameters, in and out."""
        for a, w in self.copies:
            w[...] = a
        J, status = train_step_on(self.table, self.Vbuf, self.Cbuf, X, Y, learning_rate)
        if self.call is train_step_on:
            self.call = compiled(train_step_on, self.table, self.Vbuf, self.Cbuf, X, Y, learning_rate)
        if status == OK:
            for a, w in self.copies:
                a[...] = w
        return J, status


def compiled(dispatcher, *args):
    """What the dispatcher ran for args: its machine code, called without the dispatcher's
    typing of every argument (docs/performance.md has the cost measured), or the dispatcher
    where it ran code compiled for other types. Only for arguments of the very types of args:
    the code reads each array's memory as that type, with no check (accepts() makes sure).
    `overloads` and `entry_point` are numba's internals (numba is pinned, requirements.txt):
    where they are missing, the dispatcher."""
    code = getattr(dispatcher, "overloads", {}).get(tuple(map(dispatcher.typeof_pyval, args)))
    return getattr(code, "entry_point", dispatcher)


# The prepared steps: (id(parameters), X's shape, options) -> PreparedStep, so a training loop
# with a short last batch keeps both. The fast path only reads it; the checked path adds to it.
_PREPARED = Memo(8)


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
            J, status = step.call(step.table, step.Vbuf, step.Cbuf, X, Y, learning_rate)
            if status == OK:
                return J
            # A NaN/inf, a label outside [0, 1] or a learning rate <= 0: nothing was written;
            # the checks below raise the reference's error.

    L = checks.check_step(parameters, X, Y, learning_rate, hidden, output, cost)
    config.ready()
    X = np.require(X, requirements="CA")  # C-contiguous and aligned: the types the step compiles for
    Y = np.require(Y, X.dtype, requirements="CA")
    key = (id(parameters), X.shape, hidden, output, cost)
    step = _PREPARED.get(key)
    if step is None or not step.holds(parameters):
        step = _PREPARED.remember(key, PreparedStep(parameters, L, X.shape, X.dtype, hidden,
                                                    output, cost))
    J, status = step.run(X, Y, float(learning_rate))  # one compiled step, whatever the number's type
    if status != OK:  # the checks above passed, so this cannot happen; never return garbage
        raise RuntimeError("train_step kernel rejected inputs that passed the checks")
    return J
