"""Several runs of `invoke bench` in a row, then one report with their spread.

    python -m bench.runs [--runs 3] [--threads N] [-k EXPR] [--out DIR]

Each run is a whole `invoke bench` (its own processes, saved under .benchmarks/); the report of
the last one (plots/bench/, or threads-N/ beside it; a -k subset's in .benchmarks/subset/, or in
--out DIR) gets a section with the range of kernels.cpu's GFLOP/s, of its ratio to the best
BLAS and of its fraction of the FMA peak (each run's own) over all of them, per square and layer
product. A whole run takes `invoke bench`'s time, so three take three times as long; `-k
"matmul or layer_product"` limits them to the products (README's one-thread report: `--threads 1
-k "matmul or layer_product" --out plots/bench/threads-1`).
"""

import argparse
import subprocess
import sys

from bench import report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="as invoke bench's (0: all cores)")
    parser.add_argument("-k", default="", help="as invoke bench's")
    parser.add_argument("--out", default=None, help="the report's folder (default: bench.report's)")
    args = parser.parse_args(argv)
    saved = []
    for i in range(args.runs):
        command = ["invoke", "bench", "--threads", str(args.threads)] + (["-k", args.k] if args.k else [])
        print(f"run {i + 1} of {args.runs}: {' '.join(command)}", flush=True)
        subprocess.run(command, check=False)
        latest = report.latest_run()
        if latest in saved:
            sys.exit(f"run {i + 1} saved nothing under {report.STORAGE}")
        saved.append(latest)
    for path in report.render(saved[-1], out_dir=args.out, spread_over=saved[:-1]):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
