"""Project tasks: `invoke --list` names them, `invoke --help NAME` explains one."""

from invoke import task


@task(help={"k": "only tests whose names match this pytest -k expression", "x": "stop at the first failure"})
def test(c, k="", x=False):
    """Run the test suite (benchmarks are skipped; CUDA runs in numba's simulator without a GPU)."""
    args = ["python", "-m", "pytest", "-q"]
    if k:
        args += ["-k", repr(k)]
    if x:
        args.append("-x")
    c.run(" ".join(args), pty=False)


@task
def lint(c):
    """Check the code with ruff (settings in pyproject.toml)."""
    c.run("ruff check .")


@task
def clean(c):
    """Remove caches: pytest, ruff, numba's compiled kernels and __pycache__ folders."""
    c.run("rm -rf .pytest_cache .ruff_cache")
    c.run("find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +")


@task(help={
    "seed": "seed for the data split, initial weights and mini-batches (same seed, same curves)",
    "folder": "where the PNGs go (default plots/gallery, the images the README shows)",
})
def plots(c, seed=0, folder=""):
    """Make every convergence plot (CPU only, shipped data, well under 2 minutes) as PNGs."""
    from plots.gallery import GALLERY_DIR, main

    main(folder or GALLERY_DIR, seed)


@task(help={
    "path": "implementation to train through: reference, cpu or cuda",
    "layers": "layer sizes n[0],...,n[L], comma-separated; n[0] = the data's features, n[L] = 1",
    "hidden": "hidden-layer activation: relu, tanh or sigmoid",
    "output": "output activation: sigmoid or linear",
    "cost": "cost function: cross_entropy (needs a sigmoid output) or mse",
    "batch_size": "samples per step; 1 = SGD, 0 = all training samples (batch gradient descent)",
    "epochs": "passes over the training set",
    "learning_rate": "gradient descent step size alpha (> 0)",
    "seed": "seed for the train/held-out split, initial weights and mini-batch order",
    "data": "data set: breast_cancer (real, 30 features), blobs or rings (synthetic, 2 features)",
    "plot": "PNG file for the convergence plot (default plots/runs/train_<data>_<path>.png)",
})
def train(c, path="reference", layers="30,16,8,1", hidden="relu", output="sigmoid",
          cost="cross_entropy", batch_size=32, epochs=100, learning_rate=0.05, seed=0,
          data="breast_cancer", plot=""):
    """Train a network from the command line: progress bar, final cost and accuracy, its plot."""
    from invoke.exceptions import Exit

    from plots.train_cli import OptionError
    from plots.train_cli import train as run_training

    try:
        run_training(path, layers, hidden, output, cost, batch_size, epochs, learning_rate, seed,
                     data, plot)
    except OptionError as error:
        raise Exit(f"invoke train: {error}", code=2) from None


@task(help={"report": "the report file to write (Markdown)"})
def gpu_check(c, report="gpu_check_report.md"):
    """On a GPU machine: the CUDA tests and benchmarks (under 5 minutes) and one report file.
    Refuses to run in numba's simulator or without a GPU (no simulator timings as GPU timings)."""
    c.run(f"python -m kernels.cuda.gpu_check --report {report}", pty=False)
