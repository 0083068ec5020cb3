"""docs/derivation.md links to real code: every linked file exists, and every function or test
named in a link's text is defined in the file it links to."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "derivation.md"
LINK = re.compile(r"\[`?([^\]`]+)`?\]\((\.\./[^)#\s]*)(?:#[^)]*)?\)")  # [`name`](../path)


def links():
    return LINK.findall(GUIDE.read_text())


def test_the_guide_has_links_for_every_path():
    targets = {target for _, target in links()}
    for folder in ("../reference/", "../kernels/cpu/", "../kernels/cuda/", "../tests/"):
        assert any(t.startswith(folder) for t in targets), folder


@pytest.mark.parametrize("name, target", sorted(set(links())), ids=lambda v: str(v))
def test_link_points_at_a_definition(name, target):
    path = (GUIDE.parent / target).resolve()
    assert path.exists(), f"{target} does not exist"
    if path.suffix != ".py" or not name.isidentifier():
        return  # a link to a folder or a whole file
    source = path.read_text()
    pattern = rf"^\s*(def|class)\s+{name}\b|^{name}\s*=|^from\s+\S+\s+import\s+.*\b{name}\b"
    assert re.search(pattern, source, re.M), f"{name} is not defined in {target}"
