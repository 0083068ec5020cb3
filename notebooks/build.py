"""Execute the notebooks' sources and save them with their outputs: the body of `invoke notebooks`.

Each notebooks/NN_name.md is a jupytext Markdown file: text and equations, and ```python blocks
that become code cells. It is the one source of its sections of the guide: the .ipynb beside it
is made from it here (executed in a fresh kernel, in notebooks/, as Jupyter runs it), never
edited by hand.

    python -m notebooks.build          every notebook
    python -m notebooks.build 04 07    those whose names start with 04 or 07
"""

import subprocess
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

FOLDER = Path(__file__).resolve().parent
SOURCES = sorted(FOLDER.glob("[0-9][0-9]_*.md"))
TIMEOUT_S = 120  # one cell at most: a whole notebook runs in under 2 minutes on 2 cores


def read(source):
    """The notebook of a source, not yet executed, with the python3 kernel."""
    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook.metadata.pop("jupytext", None)
    return notebook


def execute(notebook, timeout=TIMEOUT_S):
    """Run every cell in a fresh kernel whose working folder is notebooks/; raises
    nbclient.exceptions.CellExecutionError (the cell and its traceback) at the first error."""
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(FOLDER)}})
    client.execute(stderr=subprocess.DEVNULL)  # the kernel's own log lines; cell errors come back
    return notebook


def build(source):
    """Execute one source and write its .ipynb beside it; returns (path, seconds)."""
    start = time.perf_counter()
    notebook = execute(read(source))
    target = Path(source).with_suffix(".ipynb")
    nbformat.write(notebook, target)
    return target, time.perf_counter() - start


def main(prefixes=()):
    chosen = [s for s in SOURCES if not prefixes or s.name.startswith(tuple(prefixes))]
    if not chosen:
        raise SystemExit(f"no notebook source starts with {' or '.join(prefixes)} in {FOLDER}")
    for source in chosen:
        target, seconds = build(source)
        print(f"{target.relative_to(FOLDER.parent)}: executed and saved in {seconds:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
