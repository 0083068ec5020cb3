"""Compiler flags and block sizes of the numba CPU kernels, in one place, and `ready()`.

Every kernel in kernels/cpu is compiled with one of the two flag sets below:

    fastmath     only the LLVM fast-math flags that reorder arithmetic ("reassoc" lets the loop
                 vectoriser keep one partial sum per SIMD lane, "contract" fuses a * b + c into
                 one FMA, "nsz"/"arcp"); not "nnan"/"ninf", with which LLVM could fold the
                 finiteness checks of reductions.all_finite to True.
    cache        compiled machine code is kept in __pycache__ for the next process.
    error_model  "numpy": division by zero gives inf/NaN, without a ZeroDivisionError check.
    boundscheck  False: the Python wrappers validate shapes, dtypes and layout first
                 (reference/checks.py), so no index can be out of range.
    parallel     prange over shares of a product's output rows.

Why each size has its value, measured, is in docs/performance.md.
"""

import hashlib
from pathlib import Path

import numba

FASTMATH = {"reassoc", "contract", "nsz", "arcp"}

JIT = dict(fastmath=FASTMATH, cache=True, error_model="numpy", boundscheck=False, nogil=True)
JIT_PARALLEL = dict(JIT, parallel=True)

PAD = 16  # extra elements per packed row, so rows a power of two apart map to different cache sets
PARALLEL_MIN_MACS = 1 << 20  # products from this many multiply-adds on use all cores
BLOCKED_MIN_MACS = 1 << 26  # W A and W^T dZ from this many on run cache-blocked (gemm.blocked_product)
SHARES = 4  # a parallel product splits its output rows into this many shares
TILE_KC = 256  # blocked product: rows of the packed block of the right operand
TILE_NC = 256  # ... and its columns
UNBLOCKED_MAX_BYTES = 1 << 20  # the fast matmul packs B only when B is larger than this


def drop_stale_cache(package_dir=Path(__file__).parent):
    """Delete the package's cached machine code when any of its sources changed.

    numba's cache=True checks only the file that defines a kernel, so a kernel calling a changed
    kernel in another file would keep running the old machine code. So the package's cache is
    keyed on a hash of all its sources (and kernels/scalar.py), kept next to it.
    """
    sources = sorted(package_dir.glob("*.py")) + [package_dir.parent / "scalar.py"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
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


_READY = False


def ready():
    """What must happen once before the first kernel call, done on first use by every public
    entry point: drop a stale cache (above), and start numba's worker threads (a parallel kernel
    reached only from other kernels, or loaded from the cache, never starts them itself)."""
    global _READY
    if not _READY:
        drop_stale_cache()
        numba.get_num_threads()
        _READY = True
