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
