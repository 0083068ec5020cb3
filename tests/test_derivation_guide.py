"""The guide (docs/derivation.md and its sections, the notebooks' sources notebooks/NN_name.md)
links to real code: every linked file (and image) exists inside the repository, every function or
test named in a link's text is defined in the file it links to, and every path written in
backticks exists. No Markdown file of the project points outside it."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "derivation.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))
DOCS = [GUIDE, *NOTEBOOKS]
LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)\)")  # [text](target) and ![alt](image)
# a path in backticks: folders and file names, ending in a known extension or a slash
BACKTICKED = re.compile(r"`((?:\.\./|/)?(?:[\w.-]+/)+(?:[\w.-]+\.(?:py|md|png|csv|toml|txt|json))?)`")
SKIP = {".git", ".venv", "node_modules", ".pytest_cache", ".benchmarks"}
MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)  # $a^{[L](i)}$ is math, not a link


def text_of(path):
    return MATH.sub("", path.read_text())


def relative_links(path):
    """(text, target) of the links in a Markdown file that are not web addresses or anchors."""
    found = []
    for text, target in LINK.findall(text_of(path)):
        target = target.split("#")[0]
        if target and not re.match(r"^[a-z]+:", target):
            found.append((text.strip("`"), target))
    return found


def markdown_files():
    return sorted(p for p in ROOT.rglob("*.md") if not SKIP & set(p.relative_to(ROOT).parts))


def inside(path):
    return path.resolve().is_relative_to(ROOT)


def test_the_guide_has_links_for_every_path():
    targets = {target for _, target in relative_links(GUIDE)}
    for folder in ("../reference/", "../kernels/cpu/", "../kernels/cuda/", "../tests/"):
        assert any(t.startswith(folder) for t in targets), folder


def test_the_guide_lists_every_notebook_and_its_sections_draw_the_gallerys_figures():
    """Each notebook is in the guide's table; the figures the sections walk through are drawn in
    the notebooks' cells by the gallery's own functions (not pasted in as pictures)."""
    targets = {target for _, target in relative_links(GUIDE)}
    for source in NOTEBOOKS:
        assert f"../notebooks/{source.stem}.ipynb" in targets, source.name
    cells = "".join(source.read_text() for source in NOTEBOOKS)
    for call in ("figures.batch_size_comparison(", "figures.learning_rate_comparison(",
                 "figures.gradient_descent_starts(", "figures.slide_regression(",
                 "figures.regression_comparison(", "figures.activation_functions(",
                 "figures.paths_agree(", "figures.real_data_training(", "draw_graph("):
        assert call in cells, call
    sections = re.findall(r"(?m)^## (\d+)\.", cells)
    assert sections == [str(n) for n in range(1, 21)], "the twenty sections, in order, once each"


LINKS = sorted({(doc.relative_to(ROOT).as_posix(), name, target)
                for doc in DOCS for name, target in relative_links(doc)})


@pytest.mark.parametrize("doc, name, target", LINKS, ids=lambda v: str(v))
def test_link_points_at_a_definition(doc, name, target):
    path = (ROOT / doc).parent / target
    assert inside(path), f"{target} points outside the repository"
    assert path.exists(), f"{target} does not exist"
    if path.suffix != ".py" or not name.isidentifier():
        return  # a link to a folder, an image or a whole file
    source = path.read_text()
    pattern = (rf"^\s*(def|class)\s+{name}\b|^(\w+\s*,\s*)*{name}\s*(,\s*\w+\s*)*="  # def, a = / a, b =
               rf"|^from\s+\S+\s+import\s+.*\b{name}\b")
    assert re.search(pattern, source, re.M), f"{name} is not defined in {target}"


WRITTEN = sorted({(doc.relative_to(ROOT).as_posix(), written)
                  for doc in DOCS for written in BACKTICKED.findall(text_of(doc))})


@pytest.mark.parametrize("doc, written", WRITTEN)
def test_a_path_in_backticks_exists_inside_the_repository(doc, written):
    """Project paths are written from the repository's root (`reference/network.py`); a `../`
    path is read from the file's folder, as a link would be."""
    path = ((ROOT / doc).parent if written.startswith("../") else ROOT) / written
    assert not written.startswith("/"), f"`{written}` is an absolute path, outside the repository"
    assert inside(path), f"`{written}` points outside the repository"
    assert path.exists(), f"`{written}` does not exist"


@pytest.mark.parametrize("markdown", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_markdown_file_points_outside_the_repository(markdown):
    text = text_of(markdown)
    for _, target in relative_links(markdown):
        assert not target.startswith("/"), f"{target}: an absolute path"
        assert inside(markdown.parent / target), f"{target} points outside the repository"
    for written in BACKTICKED.findall(text):
        if written.startswith(("../", "/")):
            base = markdown.parent if written.startswith("../") else Path("/")
            assert not written.startswith("/") and inside(base / written), (
                f"`{written}` points outside the repository")


def test_the_checks_catch_what_they_are_for(tmp_path):
    """The patterns find a backticked path outside the repository and a link to one."""
    sample = "see `../outside/slides/x.md` and [y](../../outside.md) and `reference/network.py`"
    assert BACKTICKED.findall(sample) == ["../outside/slides/x.md", "reference/network.py"]
    assert not inside(GUIDE.parent / "../../outside.md")
    assert not (GUIDE.parent / "../outside/slides/x.md").exists()
