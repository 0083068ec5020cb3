"""The benchmark workloads and their FLOP counts, written down once and used by every benchmark.

Legend (as in the slides): L layers, n[l] units in layer l (n[0] = features), m samples, one per
column. A matrix product C = A B has C: (M, N), A: (M, K), B: (K, N).

FLOP counting convention (so GFLOP/s mean the same thing on every path):
- a matrix product costs 2 M N K (one multiply and one add per term);
- every elementwise operation (bias add, activation, its derivative, the product with dA, the
  update W - alpha dW) costs 1 FLOP per element and per arithmetic operation, whatever its
  instruction count (exp() counts as one);
- the cost J itself is not counted (O(n[L] m), negligible next to the products);
- backward does not count dA[0] = W[1]^T dZ[1]: nothing needs the gradient with respect to X.
  torch's autograd skips it; a path that computes it anyway (reference.network does) does extra
  work that its GFLOP/s does not credit.
"""

from typing import NamedTuple

import numpy as np

# ---------------------------------------------------------------------------------------------
# Matrix products


def gemm_flops(M, N, K):
    """C (M x N) = A (M x K) B (K x N): M N dot products of length K, 2 K FLOPs each."""
    return 2 * M * N * K


class Gemm(NamedTuple):
    """One matrix product C = A B. `a_transposed`: A is passed as the view S.T of a stored S
    (as `dZ A^T` and `W^T dZ` arrive in backward), likewise `b_transposed` for B."""

    name: str
    M: int
    N: int
    K: int
    a_transposed: bool = False
    b_transposed: bool = False

    @property
    def flops(self):
        return gemm_flops(self.M, self.N, self.K)

    def operands(self, dtype=np.float32, seed=0):
        """(A, B) with entries uniform in [0, 1).

        Non-negative entries make the float32 check hold entry by entry too, not only over the
        whole array (tests/torch_compare.py's float32 measure): with no cancellation, every C_ij
        is about K/4 and its rounding error stays a small relative error
        (|C - fl(C)| <= K eps |A||B| = K eps |C|).
        """
        rng = np.random.default_rng(seed)
        A = rng.random((self.K, self.M) if self.a_transposed else (self.M, self.K)).astype(dtype)
        B = rng.random((self.N, self.K) if self.b_transposed else (self.K, self.N)).astype(dtype)
        return (A.T if self.a_transposed else A), (B.T if self.b_transposed else B)


SQUARE_SIZES = (256, 512, 1024, 2048, 4096)
SQUARE_GEMMS = [Gemm(f"square {n}", n, n, n) for n in SQUARE_SIZES]

# Sizes too slow for explicit-loop kernels on a CPU (kept for BLAS, cuBLAS and the GPU kernels).
LARGE_SQUARE = 4096


def layer_gemms(layer_dims, m, l):
    """The three products of layer l of a network: forward W A, backward dZ A^T and W^T dZ."""
    n, n_prev = layer_dims[l], layer_dims[l - 1]
    net = f"[{','.join(map(str, layer_dims))}] m={m} l={l}"
    return [
        Gemm(f"W A {net}", n, m, n_prev),  # Z[l] = W[l] A[l-1]:      (n, n_prev)(n_prev, m)
        Gemm(f"dZ A^T {net}", n, n_prev, m, b_transposed=True),  # dW[l]:  (n, m)(m, n_prev)
        Gemm(f"W^T dZ {net}", n_prev, m, n, a_transposed=True),  # dA[l-1]: (n_prev, n)(n, m)
    ]


NETWORK_GEMMS = layer_gemms((1000, 100, 10), 64, 1) + layer_gemms((4096, 1024, 1024, 1), 1024, 1)

# ---------------------------------------------------------------------------------------------
# Networks: one train_step (forward, cost, backward, update)


class Network(NamedTuple):
    """A network of the slides' kind: ReLU hidden layers, sigmoid output, cross-entropy cost."""

    name: str
    layer_dims: tuple
    m: int
    hidden: str = "relu"
    output: str = "sigmoid"
    cost: str = "cross_entropy"

    @property
    def flops(self):
        return train_step_flops(self.layer_dims, self.m)

    def data(self, dtype=np.float32, seed=0):
        """X: (n[0], m) standard normal features; Y: (n[L], m) labels 0/1, deterministic."""
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((self.layer_dims[0], self.m)).astype(dtype)
        Y = (rng.random((self.layer_dims[-1], self.m)) < 0.5).astype(dtype)
        return X, Y


def train_step_gemm_flops(layer_dims, m):
    """The matrix products of one train_step: W A forward, dZ A^T and (above layer 1) W^T dZ."""
    flops = 0
    for l in range(1, len(layer_dims)):
        n, n_prev = layer_dims[l], layer_dims[l - 1]
        flops += gemm_flops(n, m, n_prev)  # Z[l] = W[l] A[l-1]
        flops += gemm_flops(n, n_prev, m)  # dW[l] = dZ[l] A[l-1]^T
        if l > 1:
            flops += gemm_flops(n_prev, m, n)  # dA[l-1] = W[l]^T dZ[l]
    return flops


def train_step_elementwise_flops(layer_dims, m):
    """The elementwise work of one train_step, 1 FLOP per element and operation."""
    flops = 0
    for l in range(1, len(layer_dims)):
        n, n_prev = layer_dims[l], layer_dims[l - 1]
        flops += 2 * n * m  # forward: + b, A = g(Z)
        flops += 2 * n * m  # dZ = dA * g'(Z)  (at the output: dZ = (A - Y) / N)
        flops += n * m  # db = sum over m of dZ
        flops += 2 * (n * n_prev + n)  # W <- W - alpha dW, b <- b - alpha db
    return flops


def train_step_flops(layer_dims, m):
    """FLOPs of one train_step on m samples (the convention in this module's docstring)."""
    return train_step_gemm_flops(layer_dims, m) + train_step_elementwise_flops(layer_dims, m)


SLIDE_NETWORKS = [
    Network("[2,10,1] m=100", (2, 10, 1), 100),
    Network("[30,16,8,1] m=569", (30, 16, 8, 1), 569),
    Network("[256,120,84,10] m=64", (256, 120, 84, 10), 64),
    Network("[1000,100,10] m=64", (1000, 100, 10), 64),
]
# tanh, not ReLU, in the large network's hidden layers: of its 2M float32 pre-activations, 45 lie
# within float32 rounding of ReLU's kink at 0 (measured), where a float32 sum can land on the other
# side of 0 than the float64 reference and move that row of dW, db by a whole sample's term
# (kernels.cpu's db1 was off by 1.1e-3 at one row): no float32 path could pass the check there.
LARGE_NETWORK = Network("[4096,1024,1024,1] m=1024", (4096, 1024, 1024, 1), 1024, hidden="tanh")
NETWORKS = SLIDE_NETWORKS + [LARGE_NETWORK]

LEARNING_RATE = 0.01  # the slides: "usually very small: 0.01 or less"

# ---------------------------------------------------------------------------------------------
# One epoch of mini-batch SGD: the slides' batch-size trade-off, in samples per second

EPOCH_NETWORK = Network("[30,16,8,1] m=569", (30, 16, 8, 1), 569)  # the breast-cancer shape
BATCH_SIZES = (1, 16, 64, 256, None)  # None = all m samples (batch gradient descent)


def batch_label(batch_size):
    return "full" if batch_size is None else str(batch_size)


def epoch_flops(network, batch_size):
    """FLOPs of one epoch: one train_step per batch, the last batch holding the leftovers."""
    m = network.m
    b = m if batch_size is None else batch_size
    full, rest = divmod(m, b)
    flops = full * train_step_flops(network.layer_dims, b)
    return flops + (train_step_flops(network.layer_dims, rest) if rest else 0)
