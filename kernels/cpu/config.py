"""Compiler flags, the machine's engine plan (micro-kernel shape, block sizes), and `ready()`.

Every kernel in kernels/cpu is compiled with one of the two flag sets below:

    fastmath     only the LLVM fast-math flags that reorder arithmetic ("reassoc" lets the loop
                 vectoriser keep one partial sum per SIMD lane, "contract" fuses a * b + c into
                 one FMA, "nsz"/"arcp"); not "nnan"/"ninf", with which LLVM could fold the
                 finiteness checks of reductions.all_finite to True.
    cache        compiled machine code is kept in __pycache__ for the next process.
    error_model  "numpy": division by zero gives inf/NaN, without a ZeroDivisionError check.
    boundscheck  False: the Python wrappers validate shapes, dtypes and layout first
                 (reference/checks.py), so no index can be out of range.
    parallel     prange over the slabs of a product's output.
    no_cfunc_wrapper  True: numba's C-callable wrapper of each function (for `cfunc` and
                 first-class function values, neither used here) is not built, nor compiled
                 to machine code: the first step compiles faster (docs/performance.md). The
                 Python wrapper stays: every kernel can still be called from Python.

The plan (`PLAN`) is derived from the machine the code runs on, read once at import (pure
reads: LLVM's view of the CPU features, the OS's cache sizes); it is frozen into the compiled
kernels, so the cache stamps (drop_stale_cache) include it. Why each value, measured, is in
docs/performance.md.
"""

import ast
import hashlib
import json
import math
import os
from pathlib import Path
from typing import NamedTuple

import llvmlite.binding as llvm
import numba
import numpy as np

FASTMATH = {"reassoc", "contract", "nsz", "arcp"}

JIT = dict(fastmath=FASTMATH, cache=True, error_model="numpy", boundscheck=False, nogil=True,
           no_cfunc_wrapper=True)
JIT_PARALLEL = dict(JIT, parallel=True)
# Helpers called from several kernels: compiled once per signature as functions of their own and
# inlined by LLVM where they are called (forceinline: LLVM's alwaysinline), where numba's typed
# inliner (inline="always") would type them again at every call site (docs/performance.md).
JIT_INLINE = dict(JIT, forceinline=True)

# Bytes in a cache line, the unit two cores contend for and a vector load should not straddle:
# 64 on every x86-64 core (the cache description below reads it from the OS for its sizes).
LINE = 64

# ---------------------------------------------------------------------------------------------
# The machine.


def cpu_features():
    """The CPU features LLVM compiles for (numba's NUMBA_CPU_FEATURES when set, else the host's)."""
    features = numba.config.CPU_FEATURES or llvm.get_host_cpu_features().flatten()
    return {f[1:] for f in features.split(",") if f.startswith("+")}


def vector_bits(features=None):
    """The widest vector registers the CPU has: 512 (AVX-512F), 256 (AVX) or 128 (SSE2)."""
    features = cpu_features() if features is None else features
    return 512 if "avx512f" in features else 256 if "avx" in features else 128


def vector_registers(features=None):
    features = cpu_features() if features is None else features
    return 32 if "avx512f" in features else 16


class Cache(NamedTuple):
    size: int  # bytes
    ways: int
    line: int  # bytes
    shared_by: int  # cores sharing it


_FALLBACK = {1: Cache(32 << 10, 8, 64, 1), 2: Cache(1 << 20, 8, 64, 1), 3: Cache(8 << 20, 16, 64, 8)}


def caches(root="/sys/devices/system/cpu/cpu0/cache"):
    """{level: Cache} of the data caches of core 0, from the OS (Linux sysfs), else typical sizes."""
    out = {}
    for d in sorted(Path(root).glob("index*")):
        try:
            read = lambda name, d=d: (d / name).read_text().strip()  # noqa: E731
            if read("type") == "Instruction":
                continue
            size = read("size")
            scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(size[-1], 1)
            size = int(size.rstrip("KMG")) * scale
            shared = read("shared_cpu_list")
            n = sum(int(b) - int(a) + 1 for a, _, b in (p.partition("-") for p in shared.split(","))
                    if a) if "-" in shared or "," in shared else 1
            out[int(read("level"))] = Cache(size, int(read("ways_of_associativity")) or 8,
                                             int(read("coherency_line_size")) or 64, n)
        except (OSError, ValueError):
            continue
    return {level: out.get(level, fallback) for level, fallback in _FALLBACK.items()}


class Plan(NamedTuple):
    """How the engine (gemm.py) multiplies, for one dtype: the micro-kernel's MR x NR register
    tile (NR = NV vectors of LANES), the block sizes KC, MC and NB (L2), NC (L3), the sizes
    from which a product packs its left operand and uses every core, below which (or with fewer
    than MR rows or NR columns) the layer products skip the engine (products.py's small tiles),
    and up to which a product that does not pack A reads B's rows in place (entries); the bytes
    of one way of L1, rows this far apart falling in one set of it; and the multiply-adds below
    which W A and W^T dZ on one thread take the strips rather than the engine (strips.fits)."""

    LANES: int
    MR: int
    NV: int
    NR: int
    KC: int
    MC: int
    NC: int
    NB: int
    PACK_A_MIN_MACS: int
    PARALLEL_MIN_MACS: int
    ENGINE_MIN_MACS: int
    DIRECT_B_MAX_ENTRIES: int
    PACK_A_MIN_N: int
    L1_WAY: int
    STRIPS_MAX_MACS: int


NV = 2  # vectors per row of the register tile (docs/performance.md: 1 is load-bound, 3 wastes edges)
# and N >= PACK_A_REUSE NR columns: packing A is paid once, used N / NR times; below 2^25 (256^3
# and 320^3) A read in place, with B packed where its rows are 2 KiB apart, ran 2-9% faster
PACK_A_MIN_MACS = 1 << 25
PACK_A_REUSE = 6
PARALLEL_MIN_MACS = 1 << 19
ENGINE_MIN_MACS = 1 << 19
# on one thread, W A and W^T dZ up to here run on strips, from MR rows too: two vectors wide they
# outran the one-thread engine to 8M multiply-adds in float32, to 2M in float64 (docs/performance.md)
STRIPS_MAX_MACS = 1 << 21
# rows of a row-major B that gemm.pack_b copies before it moves on to the next micro-panel: one
# row at a time across all micro-panels (a store stream per micro-panel) ran at half a copy's speed
PACK_B_ROWS = 16
# B is read in place (gemm.reads_b_in_place) only where its rows are less than this many bytes
# apart: B's micro-panels with rows 2 KiB apart ran at one of two speeds, 4-10% apart, by where
# their pages fell (the same B packed: one speed, between the two)
DIRECT_B_ROW_BYTES = 2048
# where slabs of columns would share C's cache lines and a slab does fewer than SLAB_ROWS_MAX_MACS
# multiply-adds per row of C and panel of B (the shared lines cost 256^3, 32768 per row, 6-8%;
# 512^3, 131072, 0-1%), threads take slabs of rows unless columns leave the busiest slab
# SLAB_ROWS_MARGIN less to do (a fraction: 10 / 11, 10% less; gemm._slabs)
SLAB_ROWS_MAX_MACS = 1 << 16
SLAB_ROWS_MARGIN = (10, 11)


def plan_for(itemsize, bits=None, registers=None, cache=None):
    """The plan for elements of `itemsize` bytes, from the machine's vector registers and caches
    (the loops are those of BLIS, gemm.py):

    MR x NV accumulators + NV vectors of B + 1 broadcast of A fill the vector registers;
    KC: the side of the square that fills L2's ways less two (one for the micro-panel of B
        streaming through, one for C); the fewer passes over C the better: a KC that keeps
        A's micro-panel in L1 (432 in float32 here) was 3-7% slower below n = 2048;
    MC: the packed block of A (MC x KC) fills an eighth of L2, so that the B micro-panels and
        the C tiles streaming through L2 do not evict it (the square block itself, MC = KC,
        was slower, and a quarter of L2 slower than an eighth at n = 4096);
    NB: the block of B's packed micro-panels (KC x NB) that each micro-panel of A passes over
        (gemm.py's loop over jb), a quarter of L2, kept there beside the block of A;
    NC: the packed panel of B (KC x NC) fills L3's ways less two, of one core's share of L3.
    (The L1 model of Low et al., 2016, which sizes KC for the micro-panels in L1, gave KC = 144
    in float32 here, 6-8% slower than the square L2 block. Each rule measured:
    docs/performance.md.)
    """
    bits = vector_bits() if bits is None else bits
    registers = vector_registers() if registers is None else registers
    cache = caches() if cache is None else cache
    lanes = bits // (8 * itemsize)
    mr = (registers - NV - 1) // NV
    nr = NV * lanes
    l2, l3 = cache[2], cache[3]
    a_block = (l2.ways - 2) * (l2.size // l2.ways) // itemsize  # entries of A in L2
    kc = max(16, math.isqrt(a_block) // 8 * 8)
    mc = max(mr, l2.size // 8 // itemsize // kc // mr * mr)
    nb = max(nr, l2.size // 4 // itemsize // kc // nr * nr)
    b_panel = (l3.ways - 2) * (l3.size // l3.ways) // l3.shared_by // itemsize
    nc = max(nr, b_panel // kc // nr * nr)
    direct_b = l2.size // 4 // itemsize  # gemm.reads_b_in_place: B's rows span a quarter of L2
    return Plan(lanes, mr, NV, nr, kc, mc, nc, nb, PACK_A_MIN_MACS, PARALLEL_MIN_MACS,
                ENGINE_MIN_MACS, direct_b, PACK_A_REUSE * nr, cache[1].size // cache[1].ways,
                STRIPS_MAX_MACS)


_CACHES = caches()  # read once at import, for both plans and L1_BYTES
PLANS = {np.dtype(np.float32): plan_for(4, cache=_CACHES), np.dtype(np.float64): plan_for(8, cache=_CACHES)}
L1_BYTES = _CACHES[1].size  # dots.py: the operand its tiles re-read kept in L1


def describe():
    """The plan in words, for the benchmark report."""
    f32, f64 = PLANS[np.dtype(np.float32)], PLANS[np.dtype(np.float64)]
    c = caches()
    return (f"{vector_bits()}-bit vectors, {vector_registers()} registers; L1d {c[1].size >> 10} "
            f"KiB, L2 {c[2].size >> 10} KiB, L3 {c[3].size >> 20} MiB; float32 micro-kernel "
            f"{f32.MR}x{f32.NR}, KC {f32.KC}, MC {f32.MC}, NB {f32.NB}, NC {f32.NC}; float64 "
            f"{f64.MR}x{f64.NR}, KC {f64.KC}, MC {f64.MC}, NB {f64.NB}, NC {f64.NC}")


# ---------------------------------------------------------------------------------------------
# First use.


def kernel_sources(package_dir=Path(__file__).parent):
    """{module stem: path} of every file whose code can be compiled into a kernel here: the
    package's modules and kernels/scalar.py (its g, g' and loss terms are inlined into them)."""
    sources = {p.stem: p for p in sorted(package_dir.glob("*.py"))}
    sources["scalar"] = package_dir.parent / "scalar.py"
    return sources


def imported_sources(path, sources):
    """The stems of `sources` that the module at `path` imports (kernels.cpu.x, kernels.scalar)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "kernels" and parts[-1] in sources and parts[1:2] in (["cpu"], ["scalar"]):
                found.add(parts[-1])
    return found


def source_stamps(package_dir=Path(__file__).parent):
    """{stem: digest of the module's source, of every kernel source it reaches through imports,
    and of the plan and L1_BYTES}: a module's compiled kernels hold the code of all of these."""
    sources = kernel_sources(package_dir)
    imports = {stem: imported_sources(path, sources) for stem, path in sources.items()}
    plan = repr((sorted(PLANS.items()), L1_BYTES)).encode()
    stamps = {}
    for stem in sources:
        reached, todo = set(), [stem]
        while todo:
            s = todo.pop()
            if s not in reached:
                reached.add(s)
                todo += imports[s]
        digest = hashlib.sha256(plan)
        for s in sorted(reached):
            digest.update(s.encode() + sources[s].read_bytes())
        stamps[stem] = digest.hexdigest()
    return stamps


def cache_dir(package_dir=Path(__file__).parent):
    """Where numba keeps the package's compiled kernels: NUMBA_CACHE_DIR's mirror of the source
    folder when set, else the package's __pycache__."""
    if numba.config.CACHE_DIR:
        from numba.core.caching import UserProvidedCacheLocator

        subpath = UserProvidedCacheLocator.get_suitable_cache_subpath(str(package_dir / "config.py"))
        return Path(numba.config.CACHE_DIR) / subpath
    return package_dir / "__pycache__"


def drop_stale_cache(package_dir=Path(__file__).parent):
    """Delete the cached machine code of each module whose stamp (source_stamps) changed.

    numba's cache=True checks only the file that defines a kernel, so a kernel calling a changed
    kernel in another file would keep running the old machine code; and the plan's sizes are
    compiled in as constants. So each module's cache is keyed on its own source, the sources it
    imports (transitively) and the plan: editing vmath.py drops the kernels of vmath,
    elementwise, reductions, step and network, and leaves the engine's (gemm, products, ...).
    """
    folder = cache_dir(package_dir)
    stamp_file = folder / "numba_stamps.json"
    try:
        old = json.loads(stamp_file.read_text()) if stamp_file.exists() else {}
    except (OSError, ValueError):
        old = {}
    new = source_stamps(package_dir)
    try:
        for stem, digest in new.items():
            if old.get(stem) != digest:
                for pattern in (f"{stem}.*.nbi", f"{stem}.*.nbc"):
                    for f in folder.glob(pattern):
                        f.unlink(missing_ok=True)
        if new != old:
            folder.mkdir(parents=True, exist_ok=True)
            stamp_file.write_text(json.dumps(new, indent=1, sort_keys=True))
    except OSError:  # a read-only install: numba then cannot cache here either
        pass


# How numba's OpenMP workers wait between parallel regions (libgomp reads both when it loads):
# spin about SPIN_COUNT times, then sleep. libgomp's own default spins 300,000 times.
WAIT_POLICY = "PASSIVE"
SPIN_COUNT = 5000


def start_workers():
    """Start numba's worker threads (a parallel kernel reached only from other kernels, or loaded
    from the cache, never starts them itself), with OpenMP's workers spinning briefly after each
    parallel region, then asleep: OMP_WAIT_POLICY=PASSIVE with GOMP_SPINCOUNT=SPIN_COUNT while
    numba's OpenMP runtime loads (it reads them then, once), restored right after. A policy the
    user set (either variable) is kept.

    Asleep, a worker takes tens of microseconds to wake on a virtual machine whose other core
    idles: at every region, a product of 256 x 256 or a small network's step. Spinning (libgomp's
    default, milliseconds), it keeps its core whenever the threads outnumber the free cores, and
    the region waits for the thread it displaced. The short spin takes the first and bounds the
    second (docs/performance.md has both measured).

    One runtime serves numba and torch, whichever comes first: torch imported later binds to the
    libgomp numba loaded (and waits as above); imported before, torch's own libgomp is already in
    the process and numba's pool binds to it, with the settings it read at torch's import
    (libgomp's defaults unless the user set them). Kept so: with two runtimes side by side,
    torch's workers spin on the cores numba's need after every torch call (docs/performance.md).
    """
    settings = {}
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        settings = {"OMP_WAIT_POLICY": WAIT_POLICY, "GOMP_SPINCOUNT": str(SPIN_COUNT)}
    os.environ.update(settings)
    try:
        numba.get_num_threads()
    finally:
        for name in settings:
            del os.environ[name]


_READY = False


def ready():
    """What must happen once before the first kernel call, done on first use by every public
    entry point: start numba's worker threads (start_workers). (A stale cache is dropped when
    the package is imported: kernels/cpu/__init__.py.)"""
    global _READY
    if not _READY:
        start_workers()
        _READY = True

