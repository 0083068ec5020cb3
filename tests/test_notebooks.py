"""The notebooks: each source (notebooks/NN_name.md) runs in a fresh kernel without an error, and
the .ipynb beside it is that source, executed and saved with its outputs and figures."""

import re

import nbformat
import pytest

from notebooks import build

SOURCES = build.SOURCES


def test_there_are_at_least_six_notebooks_in_order():
    assert len(SOURCES) >= 6
    assert [source.name[:2] for source in SOURCES] == [f"{n:02d}" for n in range(1, len(SOURCES) + 1)]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_the_saved_notebook_is_its_source_executed_with_outputs_and_figures(source):
    saved = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    fresh = build.read(source)
    assert [(c.cell_type, c.source) for c in saved.cells] == [(c.cell_type, c.source) for c in fresh.cells], (
        f"{source.with_suffix('.ipynb').name} is not made from {source.name}: run invoke notebooks")
    code = [cell for cell in saved.cells if cell.cell_type == "code"]
    assert len(code) >= 4
    for cell in code:
        assert cell.execution_count is not None, f"a cell was never run:\n{cell.source[:200]}"
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source[:200]
    assert any(o.get("data", {}).get("image/png") for cell in code for o in cell.outputs), "no figure inline"
    assert "## Play" in "".join(c.source for c in saved.cells), "a cell to play with"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_a_student_reads_no_door_or_room(source):
    text = source.read_text()
    assert not re.search(r"\b(door|doors|room|rooms)\b", text, re.I)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_the_notebook_runs_in_a_fresh_kernel(source):
    """Every cell runs (nbclient raises CellExecutionError, with the cell and its traceback, at the
    first error)."""
    notebook = build.execute(build.read(source))
    assert all(cell.execution_count for cell in notebook.cells if cell.cell_type == "code")
