"""Compiler flags and block sizes of the numba CPU kernels, in one place.

Every kernel in kernels/cpu is compiled with one of the two flag sets below:

    fastmath     only the LLVM fast-math flags that reorder arithmetic: "reassoc" lets the loop
                 vectoriser split a sum over k into 8 or 16 partial sums (one per SIMD lane),
                 "contract" fuses a * b + c into one FMA, "nsz" / "arcp" drop signed-zero and
                 exact-division rules. Not "nnan" / "ninf": with those LLVM may assume that no
                 value is NaN or inf and fold the finiteness checks in validate.py to True.
    cache        True: compiled machine code is kept in __pycache__, so a second process (a CI
                 run, the next pytest) loads it instead of compiling again.
    error_model  "numpy": division by zero gives inf/NaN as in NumPy, without the Python-style
                 ZeroDivisionError check in every division.
    boundscheck  False: no index checks in the kernels. The Python wrappers validate shapes,
                 dtypes and memory layout before any kernel runs (reference/checks.py), so no
                 index can be out of range.
    parallel     for the matmul (prange over row blocks) and the network's large products
                 (prange over output rows, from PARALLEL_MIN_MACS multiply-adds on).

AVX-512: on CPUs with 512-bit vectors LLVM still prefers 256-bit ones ("prefer-256-bit"), and
numba chooses the target features only process-wide, before its first compilation, through the
environment variable NUMBA_CPU_FEATURES. We leave that choice to whoever runs the code;
`NUMBA_CPU_FEATURES=-prefer-256-bit` lets the matmul micro-kernel use zmm registers (measured
in matmul_ladder.py). Compiled code is cached separately for each feature set.
"""

import hashlib
from pathlib import Path

FASTMATH = {"reassoc", "contract", "nsz", "arcp"}

JIT = dict(fastmath=FASTMATH, cache=True, error_model="numpy", boundscheck=False, nogil=True)
JIT_PARALLEL = dict(JIT, parallel=True)

# Block sizes of the packed matmul (matmul_ladder.py). KC: the length of the k-slices that one
# micro-kernel call sums over (4 rows of A and 4 rows of B^T, 32 KC bytes in float32, stay in
# the 48 KiB L1). MC x KC: the block of A one thread packs (L2). NC: the columns of B^T swept
# per A block. PAD: extra elements on every packed row, so that rows KC apart do not start at
# the same offset in a 4 KiB page (power-of-two strides map them all to one cache set).
KC = 512
MC = 64
NC = 256
PAD = 16
# The network's products (products.py) use all cores from PARALLEL_MIN_MACS multiply-adds on.
PARALLEL_MIN_MACS = 1 << 20  # crossover ~1 << 17 (64 x 32 x 64, ~4 us) when the machine is quiet;
# but a parallel region waits for its slowest thread: with the other core busy (a shared host),
# a 6 us product took milliseconds (median step of [30, 16, 8, 1] 11 ms, best 48 us). Products
# below 1 << 20 gain at most a few us from the second core, so they stay serial.
# From this many multiply-adds on, W A and W^T dZ run as the blocked matmul (packing blocks of
# the input costs ~SHARES k m copies: worth it once the rows of A_prev no longer fit in cache).
BLOCKED_MIN_MACS = 1 << 26
# A parallel product splits its output rows into this many shares (a multiple of the 2 cores
# here; numba.get_num_threads() inside a kernel would make it uncacheable).
SHARES = 4
# Rung 4 of the matmul (and the fast matmul): blocks of B of TILE_KC x TILE_NC, copied per thread
# with PAD extra columns, swept by 4 x 8 register tiles.
TILE_KC = 256
TILE_NC = 256
UNBLOCKED_MAX_BYTES = 1 << 20  # B up to half of the 2 MiB L2: rung 4 skips the blocking
# Register tile of the micro-kernels: 4 x 4 accumulators (16 vector registers after
# vectorisation over k, out of 16 ymm / 32 zmm).
MR = 4
NR = 4


def drop_stale_cache(package_dir=Path(__file__).parent):
    """Delete the package's cached machine code when any of its sources changed.

    numba's cache=True checks only the timestamp of the file that defines a kernel, so a kernel
    that calls a changed kernel in another file (train_step_kernel in step.py calls layers.py,
    products.py, tiles.py) would keep running the old machine code: stale results, and here once
    a segfault. So the package's cache is keyed on a hash of all its sources, kept next to it.
    Called once, when config is imported, before any kernel is compiled or loaded.
    """
    sources = b"".join(p.read_bytes() for p in sorted(package_dir.glob("*.py")))
    digest = hashlib.sha256(sources).hexdigest()
    cache = package_dir / "__pycache__"
    stamp = cache / "numba_sources.sha256"
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return
        for pattern in ("*.nbi", "*.nbc"):
            for f in cache.glob(pattern):
                f.unlink(missing_ok=True)
        cache.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:  # a read-only install: numba then cannot cache here either
        pass


drop_stale_cache()
