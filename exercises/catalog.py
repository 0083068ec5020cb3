"""The exercises, in the order of the slides of "ML and PyTorch Basics" (HPML course).

Each names the reference function whose body the student writes: a dotted name for a method or a
closure inside one; where a public function checks its inputs and then calls an unchecked core,
the core (`_linear_backward` behind `linear_backward`). Each also names the slide it comes from, a
hint, and the existing torch-pinned tests that grade it: a test function, and optionally a pattern
its parameter id must contain (only the reference path is graded, so kernels.cpu and kernels.cuda
are never needed).
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Check:
    """One test function of the project's suite; `params` a regular expression its [id] must match."""

    file: str
    test: str
    params: str = ""


@dataclass(frozen=True)
class Exercise:
    name: str
    file: str  # in reference/
    function: str  # qualified name inside the file: "sigmoid_backward", "Node.__add__.local_backward"
    slide: str
    hint: str
    checks: tuple = field(default_factory=tuple)


def _activation(name, derivative):
    return Exercise(
        f"{name}' ({name}_prime, behind {name}_backward)", "reference/activations.py", f"{name}_prime",
        "Neuron's Activation Functions",
        f"g'(z) = {derivative}; {name}_backward multiplies it into dA (dZ = dA * g'(Z)); keep Z's dtype.",
        (Check("tests/test_activations.py", "test_activation_and_backward_match_torch", name),
         Check("tests/test_activations.py", "test_saturated_inputs_stay_finite_and_match_torch", name))
        + ((Check("tests/test_activations.py",
                  "test_derivatives_keep_their_digits_where_the_activation_saturates", name),)
           if name != "relu" else
           (Check("tests/test_activations.py", "test_relu_derivative_at_zero_is_zero"),)),
    )


EXERCISES = (
    _activation("sigmoid", "a (1 - a); written with t = e^(-|z|) it never overflows or cancels"),
    _activation("tanh", "1 - a^2; written with t = e^(-2|z|) it never overflows or cancels"),
    _activation("relu", "1 for z > 0, else 0 (torch's choice at z = 0)"),
    Exercise(
        "gradient_descent (Algorithm 1)", "reference/gradient_descent.py", "gradient_descent",
        "Training - Gradient Descent (Algorithm 1)",
        "lines 1-7 of Algorithm 1, capped at max_iter updates; stop (diverged) when tmpDelta is not "
        "finite; return GradientDescentResult(x, np.stack(trajectory), converged, diverged, iterations).",
        (Check("tests/test_gradient_descent.py", "test_trajectory_matches_torch_autograd"),
         Check("tests/test_gradient_descent.py", "test_quadratic_reaches_its_known_minimum"),
         Check("tests/test_gradient_descent.py", "test_stopping_rule_is_line_3"),
         Check("tests/test_gradient_descent.py", "test_nonconvex_start_point_decides_the_minimum"),
         Check("tests/test_gradient_descent.py", "test_iteration_cap_and_divergence")),
    ),
    Exercise(
        "cross_entropy", "reference/losses.py", "cross_entropy",
        "Forward Propagation - Cost Function",
        "the mean over all entries; clamp each log at LOG_FLOOR, as torch does, so a = 0 or 1 stays finite.",
        (Check("tests/test_losses.py", "test_cross_entropy_matches_torch"),
         Check("tests/test_losses.py", "test_cross_entropy_is_the_slides_formula"),
         Check("tests/test_losses.py", "test_outputs_of_exactly_0_and_1_are_clamped_like_torch")),
    ),
    Exercise(
        "output_gradient (dZ[L])", "reference/network.py", "output_gradient",
        "Backward Propagation - Parameter Updates (where backward starts)",
        "N = Y.size entries in the mean; for mse, ACTIVATIONS[output] holds (g, g') of the output.",
        (Check("tests/test_network.py", "test_output_gradient_is_torchs_dJ_dZL"),),
    ),
    Exercise(
        "linear_backward (its math, _linear_backward)", "reference/network.py", "_linear_backward",
        "Backward Propagation - Parameter Updates (dJ/dW[l], dJ/db[l])",
        "the derivation is linear_backward's docstring, just above: dW, db (keepdims), dA_prev; "
        "no 1/m here.",
        (Check("tests/test_network.py", "test_linear_forward_backward_match_torch", "reference"),),
    ),
    Exercise(
        "update_parameters (its math, _update)", "reference/network.py", "_update",
        "Backward Propagation - Parameter Updates",
        "update_parameters' docstring, just above: W[l] <- W[l] - alpha dW[l] for every key, in "
        "place (-=), so the caller's dict sees the new values; return parameters.",
        (Check("tests/test_network.py", "test_update_parameters_is_gradient_descent", "reference"),),
    ),
    Exercise(
        "computation graph: add backward", "reference/graph.py", "Node.__add__.local_backward",
        "Backward Propagation Example (q = x + y)",
        "dq/dx = dq/dy = 1: pass out.grad on to both inputs, adding (+=) to what they hold.",
        (Check("tests/test_graph.py", "test_expression_against_torch", r"^add-"),),
    ),
    Exercise(
        "computation graph: multiply backward", "reference/graph.py", "Node.__mul__.local_backward",
        "Backward Propagation Example (f = q z)",
        "df/dq = z, df/dz = q: each input gets out.grad times the other input's value (+=).",
        (Check("tests/test_graph.py", "test_expression_against_torch", r"^mul-"),),
    ),
)
