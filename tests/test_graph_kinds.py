"""Slide "Computation Graphs": dynamic (built while the code runs) against static (compiled, then
run). reference/graph.py is the first kind, numba's @njit the second; tools/compile_latency.py
times both, and the guide quotes it."""

import torch

from reference.graph import Node
from tools.compile_latency import measure


def branchy(x):
    """A Python `if` on a value: a define-by-run graph follows the branch taken for this input."""
    return x * x if x.value > 0 else x.exp()


def test_a_dynamic_graph_is_built_for_each_input_as_in_torch():
    for value, expected_ops in ((3.0, ["*"]), (-2.0, ["exp"])):
        x = Node(value)
        out = branchy(x)
        out.backward()
        tx = torch.tensor(value, dtype=torch.float64, requires_grad=True)
        (tx * tx if tx.item() > 0 else tx.exp()).backward()  # torch builds its graph the same way
        assert x.grad == tx.grad.item()
        assert [node.op for node in out.topological_order() if node.op] == expected_ops
        assert out.parents == ((x, x) if value > 0 else (x,))


def test_numba_compiles_first_then_runs_and_computes_torchs_numbers():
    result = measure(2.0)
    tx = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    z = 2 * (tx * tx) + 5 * tx
    z.backward()
    expected = [z.item(), tx.grad.item()]  # 18 and 13
    assert result["graph_values"] == result["lazy_values"] == result["eager_values"] == expected
    assert result["graph_rebuilt_each_call"]
    assert result["lazy_signatures_before"] == 0 and result["lazy_signatures_after"] == 1
    # compile latency: the first call compiles (tens of ms or more); the second runs the machine code
    assert result["lazy_first_s"] > 10 * result["lazy_second_s"]
    assert result["lazy_another_first_s"] > 10 * result["lazy_second_s"]
    assert result["eager_compile_s"] > 10 * result["eager_first_s"]
