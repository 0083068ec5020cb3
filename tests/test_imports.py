"""The project's layers, read from its import statements (every one, inside functions too):

- nothing in reference/ imports another part of the project: it reads beside the slides alone;
- kernels/ imports only reference/ (and itself);
- no two modules import each other, directly or around a longer loop.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".git", ".venv", ".benchmarks", "__pycache__", "node_modules"}
ALLOWED = {"reference": {"reference"}, "kernels": {"reference", "kernels"}}


def modules(root):
    """{dotted module name: file} of every Python file under root (a package is its __init__)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if SKIP & set(parts):
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imported(name, path, known):
    """The project modules that the module `name` (file `path`) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import x, from .ladder import gemm
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # from kernels.cpu import config imports the module kernels.cpu.config
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # numpy.linalg -> numpy; a.b.c -> a.b
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def import_graph(root):
    known = modules(root)
    return {name: imported(name, path, known) for name, path in known.items()}


def cycles(graph):
    """Every loop of imports, each as [a, b, ..., a] (strongly connected parts of the graph)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                found.append(sorted(part) + [min(part)])

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def layer_violations(graph):
    """'a imports b' for each import that crosses a layer the docstring above forbids."""
    bad = []
    for name, targets in sorted(graph.items()):
        allowed = ALLOWED.get(name.split(".")[0])
        if allowed is None:
            continue
        bad += [f"{name} imports {t}" for t in sorted(targets) if t.split(".")[0] not in allowed]
    return bad


def test_reference_stands_alone_and_kernels_import_only_reference():
    assert layer_violations(import_graph(ROOT)) == []


def test_no_two_modules_import_each_other():
    assert cycles(import_graph(ROOT)) == []


def test_the_rules_catch_what_they_are_for(tmp_path):
    """A reference module importing kernels, a kernel importing plots, two modules importing each
    other (one inside a function, one relatively) and a loop of three are all found."""
    files = {
        "reference/__init__.py": "",
        "reference/network.py": "import numpy as np\nfrom kernels.paths import PATHS\n",
        "kernels/__init__.py": "",
        "kernels/paths.py": "from reference import network\n",
        "kernels/cuda/__init__.py": "from . import step\n",
        "kernels/cuda/step.py": "def f():\n    from plots import style\n",
        "plots/__init__.py": "",
        "plots/style.py": "from plots.figures import draw\n",
        "plots/figures.py": "def draw():\n    from plots import style\n",
        "tools/a.py": "import tools.b\n", "tools/b.py": "from tools import c\n",
        "tools/c.py": "from . import a\n", "tools/__init__.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path)
    assert layer_violations(graph) == ["kernels.cuda.step imports plots.style",
                                       "reference.network imports kernels.paths"]
    assert cycles(graph) == [["kernels.paths", "reference.network", "kernels.paths"],
                             ["plots.figures", "plots.style", "plots.figures"],
                             ["tools.a", "tools.b", "tools.c", "tools.a"]]
