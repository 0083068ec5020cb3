"""The exercises, in the order of the slides of "ML and PyTorch Basics" (HPML course).

Each names the reference function whose body the student writes (a dotted name for a method or a
closure inside one; where a public function checks its inputs and then calls an unchecked core,
the core: `_linear_backward` behind `linear_backward`), the slide it comes from, the notebook
that derives it, a hint that leads to the derivation without giving it, and the grading tests
(exercises/grading/) that check it, in order: the first failing one is the one reported.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    name: str  # what `invoke grade --exercise NAME` takes
    title: str  # one line for the report
    file: str  # in reference/
    function: str  # qualified name inside the file: "sigmoid_prime", "Node.__add__.local_backward"
    slide: str
    notebook: str  # notebooks/<notebook>.ipynb derives it
    hint: str
    tests: tuple  # grading test functions, in the order they are reported
    isolated: bool = True  # graded with the project's versions of the other exercises


EXERCISES = (
    Exercise(
        "neuron_backward", "the neuron's backward (dX, dW, db)", "reference/regression.py",
        "neuron_backward", "Artificial Neuron", "02_neuron_and_activations",
        "first dZ from dY_hat through Y_hat = A(Z); then write Z = W^T X + b entry by entry and sum "
        "the chain rule over the samples each parameter touches. Check every shape against W, b, X.",
        ("test_neuron_backward",)),
    Exercise(
        "sigmoid_prime", "sigmoid'", "reference/activations.py", "sigmoid_prime",
        "Neuron's Activation Functions", "02_neuron_and_activations",
        "differentiate 1 / (1 + e^-z) (quotient or chain rule), then write e^-z / (1 + e^-z) in "
        "terms of A itself. It must stay finite for any z (e^-z overflows for z < -709).",
        ("test_sigmoid_prime",)),
    Exercise(
        "tanh_prime", "tanh'", "reference/activations.py", "tanh_prime",
        "Neuron's Activation Functions", "02_neuron_and_activations",
        "tanh z = 2 sigmoid(2z) - 1: use sigmoid' from the exercise before and the chain rule, then "
        "write the result in terms of A = tanh z. It must stay finite for any z.",
        ("test_tanh_prime",)),
    Exercise(
        "relu_prime", "relu'", "reference/activations.py", "relu_prime",
        "Neuron's Activation Functions", "02_neuron_and_activations",
        "the slope of each piece of the slide's RELU; decide z = 0 as the docstring says; the "
        "result is numbers of Z's dtype, not booleans.",
        ("test_relu_prime",)),
    Exercise(
        "_forward", "forward propagation: the L-layer loop and its caches", "reference/network.py",
        "_forward", "Forward Propagation (and Inference as well)", "03_network_and_gradient_descent",
        "the slide's loop for l = 1..L; which activation does layer l use? What does layer l+1 take "
        "as its input? Keep every layer's cache.",
        ("test_forward",)),
    Exercise(
        "gradient_descent", "Algorithm 1 (gradient descent)", "reference/gradient_descent.py",
        "gradient_descent", "Training - Gradient Descent (Algorithm 1)", "03_network_and_gradient_descent",
        "lines 1-7 of Algorithm 1 as the module docstring reads them (line 3 for every coordinate), "
        "capped at max_iter updates, stopping (diverged) before taking a tmpDelta that is not finite; "
        "return GradientDescentResult(x, np.stack(trajectory), converged, diverged, iterations).",
        ("test_gradient_descent",)),
    Exercise(
        "cross_entropy", "the cross-entropy cost J", "reference/losses.py", "cross_entropy",
        "Forward Propagation - Cost Function", "04_cost_and_backward",
        "the slide's J, averaged over every entry of AL; a = 0 or 1 must give a finite cost, as "
        "the docstring says torch does it.",
        ("test_cross_entropy",)),
    Exercise(
        "output_gradient", "dZ[L], where backward starts", "reference/network.py", "output_gradient",
        "Backward Propagation - Parameter Updates (where backward starts)", "04_cost_and_backward",
        "differentiate one entry's term of J with respect to a, then multiply by da/dz (chain rule); "
        "simplify on paper before you code. How many entries does the mean divide by?",
        ("test_output_gradient",)),
    Exercise(
        "_linear_backward", "the layer's backward (dA_prev, dW, db)", "reference/network.py",
        "_linear_backward", "Backward Propagation - Parameter Updates (dJ/dW[l], dJ/db[l])",
        "04_cost_and_backward",
        "linear_backward's docstring, just above, has the entry-wise start; sum the chain rule over "
        "the entries each parameter appears in, then read each sum as a matrix product or a row "
        "sum. Match every shape to what it differentiates.",
        ("test_linear_backward",)),
    Exercise(
        "_backward", "backward propagation: the L-layer loop", "reference/network.py", "_backward",
        "Backward Propagation - Parameter Updates", "04_cost_and_backward",
        "start from output_gradient; walk l = L..1 with the caches forward kept; the output layer's "
        "dZ is known, a hidden layer's comes from the dA the layer above passes down.",
        ("test_backward",)),
    Exercise(
        "_update", "the parameter update", "reference/network.py", "_update",
        "Backward Propagation - Parameter Updates", "04_cost_and_backward",
        "the slide's two update lines, for every key of parameters; its gradient's key is 'd' + key. "
        "Keep each array's dtype.",
        ("test_update",)),
    Exercise(
        "add_backward", "computation graph: add backward", "reference/graph.py",
        "Node.__add__.local_backward", "Backward Propagation Example (q = x + y)", "04_cost_and_backward",
        "dq/dx and dq/dy are on the slide; the chain rule multiplies each by the upstream gradient "
        "out.grad. What if x is both inputs, or reaches the output along two paths?",
        ("test_add_backward",)),
    Exercise(
        "mul_backward", "computation graph: multiply backward", "reference/graph.py",
        "Node.__mul__.local_backward", "Backward Propagation Example (f = q z)", "04_cost_and_backward",
        "df/dq and df/dz are on the slide (in terms of the inputs, never divided by one); times "
        "out.grad. What if q and z are the same node (x * x)?",
        ("test_mul_backward",)),
    Exercise(
        "topological_order", "computation graph: the topological order", "reference/graph.py",
        "Node.topological_order", "Backward Propagation Example (the chain rule's order)",
        "04_cost_and_backward",
        "a depth-first search over node.parents that appends a node only after its parents, and "
        "visits each node once (a node can be a parent of several).",
        ("test_topological_order",)),
    Exercise(
        "numerical_gradient", "the numerical gradient (central differences)",
        "reference/gradient_check.py", "numerical_gradient",
        "Backward Propagation - Parameter Updates (dJ/dW[l] checked numerically)",
        "04_cost_and_backward",
        "for every entry of every array: J a little above, J a little below, the difference "
        "quotient; J reads the arrays in the dict, so change the entry there, and put it back.",
        ("test_numerical_gradient",)),
    Exercise(
        "gradient_check", "the gradient check: your backward against your numerical gradient",
        "reference/gradient_check.py", "gradient_check",
        "Backward Propagation - Parameter Updates (dJ/dW[l] checked numerically)",
        "04_cost_and_backward",
        "a J() that runs path's forward and cost on the parameters; path's backward once; your "
        "numerical_gradient; relative_error per key. Graded on your own network.",
        ("test_gradient_check",), isolated=False),
)

BY_NAME = {exercise.name: exercise for exercise in EXERCISES}
EXERCISE_OF_TEST = {test: exercise for exercise in EXERCISES for test in exercise.tests}
