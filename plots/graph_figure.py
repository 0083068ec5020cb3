"""A computation graph drawn from reference/graph.py's Node itself (after micrograd's draw_dot,
with matplotlib instead of graphviz): one box per node with what it computes, its value and its
gradient, an arrow from each input to the node it feeds, inputs on the left, the output right.

    draw_graph(root, ax, names)     one graph on one axes, after root.backward()
    figure()                        gallery figure 9: the slides' (x + y) z and z = 2x^2 + 5x
"""

from collections import defaultdict

from plots.style import new_figure
from reference.graph import slide_example_f, slide_example_z


def _number(value):
    return f"{float(value):g}"


def describe(node, names):
    """What a node computes, as text: its name, a constant's value, or `a op b` of its inputs."""
    if id(node) in names:
        return names[id(node)]
    if not node.parents:
        return _number(node.value)
    inner = [describe(parent, names) for parent in node.parents]
    inner = [f"({text})" if " " in text else text for text in inner]
    return f" {node.op} ".join(inner) if len(inner) == 2 else f"{node.op}({inner[0]})"


def layout(root):
    """(nodes in topological order, {id(node): (column, row)}): the output in the last column,
    every other node one column left of the nearest node it feeds (so each input stands next to
    its use), and in its column at the mean height of the nodes it feeds, a row apart at least."""
    order = root.topological_order()
    column = {}
    for node in order:  # the longest path from an input fixes the output's column
        column[id(node)] = 1 + max((column[id(parent)] for parent in node.parents), default=-1)
    children = defaultdict(list)
    for node in order:
        for parent in dict.fromkeys(node.parents):
            children[id(parent)].append(node)
    for node in reversed(order[:-1]):
        column[id(node)] = min(column[id(child)] for child in children[id(node)]) - 1
    stacks = defaultdict(list)
    for node in order:
        stacks[column[id(node)]].append(node)
    row = {id(root): 0.0}
    for col in sorted(stacks, reverse=True)[1:]:
        wanted = [(sum(row[id(c)] for c in children[id(n)]) / len(children[id(n)]), i, n)
                  for i, n in enumerate(stacks[col])]
        wanted.sort(key=lambda item: (-item[0], item[1]))
        previous = None
        for target, _, node in wanted:
            row[id(node)] = target if previous is None else min(target, previous - 1.0)
            previous = row[id(node)]
    return order, {id(node): (column[id(node)], row[id(node)]) for node in order}


def draw_graph(root, ax, names=None, title=None):
    """Draw root's graph on ax: each node's expression, value and grad, read from the nodes."""
    names = {id(node): name for node, name in (names or {}).items()}
    order, position = layout(root)
    for node in order:
        x, y = position[id(node)]
        for parent in dict.fromkeys(node.parents):  # x * x: one arrow, drawn once
            px, py = position[id(parent)]
            ax.annotate("", xy=(x - 0.28, y), xytext=(px + 0.28, py),
                        arrowprops={"arrowstyle": "->", "color": "0.45", "shrinkA": 2, "shrinkB": 2})
    for node in order:
        x, y = position[id(node)]
        leaf = not node.parents
        text = f"{describe(node, names)}\nvalue {_number(node.value)}\ngrad {_number(node.grad)}"
        ax.text(x, y, text, ha="center", va="center", fontsize=8.5, family="monospace",
                bbox={"boxstyle": "round,pad=0.35", "fc": "#e8f0fb" if leaf else "#fdf1e2",
                      "ec": "tab:blue" if leaf else "tab:orange"})
    columns = [p[0] for p in position.values()]
    rows = [p[1] for p in position.values()]
    ax.set_xlim(min(columns) - 0.5, max(columns) + 0.5)
    ax.set_ylim(min(rows) - 0.7, max(rows) + 0.7)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def figure():
    """Gallery figure 9: the slides' two graphs, each after its backward pass."""
    fig, (ax_f, ax_z) = new_figure(2, title="Computation graphs after backward(): value and gradient "
                                            "of every node (blue: inputs and constants)")
    f = slide_example_f()
    draw_graph(f["f"], ax_f, names={f[k]: k if k in "xyz" else f"{k} = " + ("x + y" if k == "q" else "q * z")
                                    for k in f},
               title="f = (x + y) z at x = -2, y = 5, z = -4:\ndf/dx = df/dy = z = -4, df/dz = q = 3")
    z = slide_example_z()
    draw_graph(z["z"], ax_z, names={z["x"]: "x", z["z"]: "z"},
               title="z = 2 (x x) + 5 x at x = 2: x is used 3 times,\n"
                     "its grad sums them: 2x + 2x + 5 = 13")
    return fig
