"""Project tasks: `invoke --list` names them, `invoke --help NAME` explains one."""

from invoke import task
from invoke.exceptions import ParseError


# invoke (3.0) takes an option's type from its default and casts the command-line text with it;
# a bare int or float default would let a typo end in a traceback. These two types turn it into
# a ParseError, which invoke prints as one line. invoke has no way to declare an option's type
# for its help, so the help texts say it ("INT:", "NUMBER:").
class Int(int):
    """An int option: text that is not a whole number is a ParseError (a message, no traceback)."""

    def __new__(cls, value=0):
        try:
            return super().__new__(cls, value)
        except ValueError:
            raise ParseError(f"expected a whole number, got {value!r}") from None


class Float(float):
    """A float option, with the same clear message for text that is not a number."""

    def __new__(cls, value=0.0):
        try:
            return super().__new__(cls, value)
        except ValueError:
            raise ParseError(f"expected a number, got {value!r}") from None


@task(help={"k": "only tests whose names match this pytest -k expression", "x": "stop at the first failure"})
def test(c, k="", x=False):
    """Run the test suite (benchmarks are skipped; CUDA runs in numba's simulator without a GPU)."""
    args = ["python", "-m", "pytest", "-q"]
    if k:
        args += ["-k", repr(k)]
    if x:
        args.append("-x")
    # The tests multiply small matrices: one BLAS thread each is faster than two fighting over
    # a busy machine (docs/performance.md, "The test suite").
    c.run(" ".join(args), pty=False, env={"OPENBLAS_NUM_THREADS": "1"})


@task(help={
    "group": "only this group of modules: reference, cpu, cuda, train or exercises (default: all)",
    "ref": "take the project's files (tests included) from this commit: the score before a change",
    "max_children": "INT: mutants tested at once (default 1: one core)",
    "again": "test the last run's survivors once more (after writing tests for them)",
})
def mutants(c, group="", ref="", max_children=Int(1), again=False):
    """The suite's mutation score (mutmut, tools/mutants.py): reference/, the exercises' copy
    maker and grader, the CSV reader and CLI, the Python side of kernels.cpu and kernels.cuda.
    Not part of CI: hours on 2 cores for all groups from scratch, cuda and exercises about an hour
    each; a rerun tests only what changed (docs/mutants.md has the times, scores, survivors)."""
    args = ["python", "tools/mutants.py"] + ([group] if group else []) + (["--ref", ref] if ref else [])
    args += ["--max-children", str(max_children)] + (["--again"] if again else [])
    c.run(" ".join(args), pty=False)


@task
def lint(c):
    """Check the code with ruff (settings in pyproject.toml)."""
    c.run("ruff check .")


@task
def clean(c):
    """Remove caches (pytest, ruff, numba's compiled kernels, __pycache__) and invoke train's plots."""
    c.run("rm -rf .pytest_cache .ruff_cache plots/runs")
    c.run("find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +")


@task(help={
    "seed": "INT: seed for the data split, initial weights and mini-batches (same seed, same curves)",
    "folder": "where the PNGs go (default plots/gallery, the images the README shows)",
})
def plots(c, seed=Int(0), folder=""):
    """Make every convergence plot (CPU only, shipped data, well under 2 minutes) as PNGs."""
    from plots.gallery import GALLERY_DIR, main

    main(folder or GALLERY_DIR, seed)


@task(help={
    "path": "implementation to train through: reference, cpu or cuda",
    "layers": "layer sizes n[0],...,n[L], comma-separated; n[0] = the data's features, n[L] = 1",
    "hidden": "hidden-layer activation: relu, tanh or sigmoid",
    "output": "output activation: sigmoid or linear",
    "cost": "cost function: cross_entropy (needs a sigmoid output) or mse",
    "batch_size": "INT: samples per step; 1 = SGD, 0 = all training samples (batch gradient descent)",
    "epochs": "INT: passes over the training set",
    "learning_rate": "NUMBER: gradient descent step size alpha (> 0)",
    "seed": "INT: seed for the train/held-out split, initial weights and mini-batch order",
    "data": "data set: breast_cancer (real, 30 features), blobs or rings (synthetic, 2 features), or "
            "your own PATH.csv (numeric features, a 0/1 label in a column named label or the last one, "
            "header line optional)",
    "plot": "PNG file for the convergence plot (default plots/runs/train_<data>_<path>.png, <data> the "
            "CSV file's name without .csv)",
})
def train(c, path="reference", layers="30,16,8,1", hidden="relu", output="sigmoid",
          cost="cross_entropy", batch_size=Int(32), epochs=Int(100), learning_rate=Float(0.05), seed=Int(0),
          data="breast_cancer", plot=""):
    """Train a network from the command line: progress bar, final cost and accuracy, its plot."""
    from invoke.exceptions import Exit

    from train.cli import OptionError
    from train.cli import train as run_training

    try:
        run_training(path, layers, hidden, output, cost, batch_size, epochs, learning_rate, seed,
                     data, plot)
    except OptionError as error:
        raise Exit(f"invoke train: {error}", code=2) from None


@task(help={
    "k": "only benchmarks whose names match this pytest -k expression (e.g. 'matmul and cpu')",
    "compare": "also compare with a saved run: its number (e.g. 0001); 'last' = the previous run",
    "threads": "INT: threads for every CPU path (NumPy's BLAS, numba, torch); 0 = all cores",
})
def bench(c, k="", compare="", threads=Int(0)):
    """Run the benchmarks (saved under .benchmarks/), then render plots/bench/ (table and plots)."""
    import os

    from invoke.exceptions import Exit

    n = str(threads or os.cpu_count())
    # Set before Python starts, so NumPy's OpenBLAS, numba and torch all start with n threads
    # (bench/machine.py sets them again at run time and records what is in effect).
    env = {"BENCH_THREADS": n, "OPENBLAS_NUM_THREADS": n, "OMP_NUM_THREADS": n,
           "MKL_NUM_THREADS": n, "NUMBA_NUM_THREADS": n}
    args = ["python", "-m", "pytest", "tests/benchmarks", "-q", "--benchmark-only",
            "--benchmark-autosave", "--benchmark-storage=file://./.benchmarks"]
    if k:
        args += ["-k", repr(k)]
    if compare:
        args.append("--benchmark-compare" if compare == "last" else f"--benchmark-compare={compare}")
    result = c.run(" ".join(args), env=env, pty=False, warn=True)
    c.run("python -m bench.report", pty=False)  # the run just saved, even if some failed
    if result.exited:
        raise Exit(f"invoke bench: pytest exited with {result.exited}", code=result.exited)


@task(help={"report": "the report file to write (Markdown; default plots/bench/gpu/gpu_check.md)",
            "dry_run": "no GPU needed: collect every phase's tests and benchmarks, run nothing"})
def gpu_check(c, report="", dry_run=False):
    """On a GPU machine: the CUDA tests and GPU benchmarks in under 6 minutes, one report and the
    JSON in plots/bench/gpu/ (tools/gpu_check.py). Refuses to time numba's simulator."""
    args = ["python", "tools/gpu_check.py"] + (["--report", report] if report else [])
    c.run(" ".join(args + (["--dry-run"] if dry_run else [])), pty=False)


@task(help={"only": "only the notebooks whose names start with this (e.g. 04); default all"})
def notebooks(c, only=""):
    """Execute every notebook from its source (notebooks/NN_name.md) in a fresh kernel and save it,
    with its outputs and figures, as notebooks/NN_name.ipynb."""
    from notebooks.build import main

    main([only] if only else [])


@task(help={"folder": "where the student copy goes (a new folder, or one without reference/ in it)"})
def exercises(c, folder):
    """Write a student copy of reference/ into FOLDER: the functions a student derives have their
    bodies replaced by `raise NotImplementedError` under their docstrings (FOLDER/EXERCISES.md lists them)."""
    from invoke.exceptions import Exit

    from exercises.student_copy import CopyError, write_student_copy

    try:
        written = write_student_copy(folder)
    except CopyError as error:
        raise Exit(f"invoke exercises: {error}", code=2) from None
    print(f"student copy written: {len(written) - 1} files in {written[0].parent}, the list in {written[-1]}")
    print(f"write the bodies, then: invoke grade --folder {folder}")


@task(help={"folder": "the folder that `invoke exercises` wrote (it holds reference/)",
            "exercise": "grade only this exercise: its NAME (as EXERCISES.md lists it) or number; "
                        "may be given several times",
            "verbose": "also print pytest's full output"},
      iterable=["exercise"])
def grade(c, folder, exercise=None, verbose=False):
    """Grade a student copy: each exercise checked against torch.autograd on inputs where a wrong
    answer shows, one line per exercise in the slides' order saying what is wrong, then
    `K/N exercises pass` (exit code 1 unless all pass)."""
    from invoke.exceptions import Exit

    from exercises.grade import GradeError, report, select
    from exercises.grade import grade as run_grading

    try:
        results, output = run_grading(folder, select(exercise or []))
    except GradeError as error:
        raise Exit(f"invoke grade: {error}", code=2) from None
    if verbose:
        print(output)
    print(report(results))
    if any(result.failure for result in results):
        raise Exit(code=1)
