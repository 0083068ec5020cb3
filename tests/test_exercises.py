"""`invoke exercises` and `invoke grade`: the reference grades N/N, a fresh student copy 0/N; the
mistakes students make are planted in copies and each must fail with a message that names it;
correct answers written differently must pass; the copy keeps the equation to start from, not
the result."""

import ast
import importlib.util
import re
import textwrap
from pathlib import Path

import pytest
from invoke import MockContext
from invoke.exceptions import Exit

import tasks
from exercises.catalog import BY_NAME, EXERCISES
from exercises.grade import GradeError, Result, grade, report, run_pytest, select
from exercises.student_copy import DERIVATION, _drop_derivations, find_function, write_student_copy

ROOT = Path(__file__).resolve().parent.parent
N = len(EXERCISES)

ALGORITHM_1 = """
trajectory = [x_old]
converged = diverged = False
while len(trajectory) <= max_iter:
    tmp_delta = x_old - alpha * np.asarray(grad_f(x_old.copy()), dtype=x_old.dtype).reshape(x_old.shape)
    {diverge}
    if {test}:
        converged = True
        break
    x_old = tmp_delta
    trajectory.append(x_old)
return GradientDescentResult(x_old, np.stack(trajectory), converged, diverged, len(trajectory) - 1)
"""
STOP = "if not np.isfinite(tmp_delta).all():\n        diverged = True\n        break"
OUTPUT_GRADIENT = """
N = Y.size
if cost == "cross_entropy":
    {ce}
_, g_prime = ACTIVATIONS[output]
return {mse}
"""


def algorithm_1(test="(np.abs(tmp_delta - x_old) < criteria).all()", diverge=STOP):
    return ALGORITHM_1.format(test=test, diverge=diverge)


def output_gradient(ce="return (AL - Y) / N", mse="2 * (AL - Y) / N * g_prime(ZL)"):
    return OUTPUT_GRADIENT.format(ce=ce, mse=mse)


# (exercise, the body a student wrote, what the grader's line must say). The mistakes
# first, then the others students make.
MISTAKES = [
    ("add_backward", "self.grad = out.grad\nother.grad = out.grad",
     ["x + x (x used twice)", "yours is 0.5 x torch's", "(+=)"]),
    ("add_backward", "self.grad += 1\nother.grad += 1",
     ["upstream df/dq = z", "dx is 1, torch's -4", "multiplies it by the upstream gradient out.grad"]),
    ("mul_backward", "self.grad, other.grad = (self.grad + other.value * out.grad, "
                     "other.grad + self.value * out.grad)",
     ["x * x (x is both inputs)", "yours is 0.5 x torch's", "tuple assignment"]),
    ("mul_backward", "self.grad += out.value / self.value * out.grad\n"
                     "other.grad += out.value / other.value * out.grad",
     ["q = x + y = 0", "dx is NaN", "no division (f / q is 0/0)"]),
    ("output_gradient", output_gradient(ce="dZ = AL\n    dZ -= Y\n    return dZ / N"),
     ["changed its input AL", "dZ = AL names the same array"]),
    ("output_gradient", output_gradient(ce="return (AL - Y) / (AL * (1 - AL) * N) * (AL * (1 - AL))"),
     ["saturated outputs", "dZ[L] is NaN at z = 40", "must not divide by it"]),
    ("gradient_descent", algorithm_1(test="(np.abs(tmp_delta - x_old) <= criteria).all()"),
     ["a step of exactly CRITERIA", "stopped after 9 updates", "Algorithm 1 takes 10",
      "equals CRITERIA, and line 3 breaks only when it is < CRITERIA"]),
    ("gradient_descent", algorithm_1(test="np.linalg.norm(tmp_delta - x_old) < criteria"),
     ["its length not", "took 10 updates; Algorithm 1 stops after 9", "not a length of the step"]),
    ("gradient_descent", algorithm_1(diverge=""),
     ["the iterates overflow", "trajectory holds inf or NaN", "diverged = True"]),
    ("_update", "for key, value in parameters.items():\n"
                "    parameters[key] = value - np.float64(learning_rate) * grads['d' + key]\n"
                "return parameters",
     ["float32 parameters stay float32", "W1 is float64 from float32 inputs"]),
    ("cross_entropy", "log_a = np.maximum(np.log(AL), np.float64(LOG_FLOOR))\n"
                      "log_b = np.maximum(np.log(1 - AL), np.float64(LOG_FLOOR))\n"
                      "return -(Y * log_a + (1 - Y) * log_b).mean()",
     ["float32 in, float32 out", "J is float64 from float32 inputs"]),
    ("sigmoid_prime", "return np.exp(-Z) / (1 + np.exp(-Z)) ** 2",
     ["saturated z", "sigmoid'(Z) is NaN at z = -10000", "overflows to inf", "stays finite"]),
    ("tanh_prime", "return -(1 - tanh(Z) ** 2)", ["yours is -1 x torch's", "opposite sign"]),
    ("relu_prime", "return (Z >= 0).astype(Z.dtype)",
     ["first at z = 0: yours 1, torch's 0", "the kink z = 0"]),
    ("relu_prime", "return np.where(Z > 0, 1.0, 0.0)", ["float32", "float64 from float32 inputs"]),
    ("relu_prime", "return Z > 0", ["has dtype bool"]),
    ("_linear_backward", "A_prev, W, b = cache\nm = A_prev.shape[1]\n"
                         "return W.T @ dZ, dZ @ A_prev.T / m, dZ.sum(axis=1, keepdims=True) / m",
     ["dW: yours is 0.2 x torch's", "(= 1/m: a 1/m too many)", "it entered once, in dZ[L]"]),
    ("_linear_backward", "A_prev, W, b = cache\nreturn W.T @ dZ, A_prev @ dZ.T, dZ.sum(axis=1, keepdims=True)",
     ["dW has shape (3, 2), expected (2, 3): transposed"]),
    ("_linear_backward", "A_prev, W, b = cache\nreturn W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=1)",
     ["db has shape (2,), expected (2, 1)", "keepdims"]),
    ("_linear_backward", "A_prev, W, b = cache\nreturn W @ dZ, dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)",
     ["raised ValueError: matmul", "which one needs ^T"]),
    ("output_gradient", output_gradient(ce="return AL - Y"),
     ["dZ[L]: yours is 7 x torch's", "(= N: a 1/N too few)"]),
    ("output_gradient", output_gradient(ce="return (AL - Y) / Y.shape[1]"),
     ["n[L] = 3 outputs", "yours is 3 x torch's", "not over the m samples only"]),
    ("output_gradient", output_gradient(mse="(AL - Y) / N * g_prime(ZL)"),
     ["linear output + mse", "yours is 0.5 x torch's", "brings a factor 2"]),
    ("cross_entropy", "return -(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)).mean()",
     ["AL exactly 0 and 1", "J is NaN", "clamps each log at -100"]),
    ("cross_entropy", "return -(Y * np.maximum(np.log(AL), LOG_FLOOR) + (1 - Y) * "
                      "np.maximum(np.log(1 - AL), LOG_FLOOR)).sum() / AL.shape[1]",
     ["n[L] = 3 outputs", "yours is 3 x torch's", "all N = n[L] m entries"]),
    ("_backward", "L = len(caches)\n*_, (linear_cache, ZL, output) = caches\ngrads = {}\n"
                  "dZ = output_gradient(AL, Y, ZL, output, cost)\n"
                  "dA_prev, grads[f'dW{L}'], grads[f'db{L}'] = _linear_backward(dZ, linear_cache)\n"
                  "for l in range(L - 1, 0, -1):\n"
                  "    dA_prev, grads[f'dW{l}'], grads[f'db{l}'] = _linear_backward(dA_prev, caches[l - 1][0])\n"
                  "return grads",
     ["dW2 (layer 2 of 3)", "layer 3's gradients match"]),
    ("_backward", "L = len(caches)\ngrads = {}\ndA = AL\nfor l in range(L, 0, -1):\n"
                  "    dA, grads[f'dW{l}'], grads[f'db{l}'] = linear_activation_backward(dA, caches[l - 1])\n"
                  "return grads",
     ["dW3 (layer 3 of 3)"]),
    ("_forward", "A = X\ncaches = []\nfor l in range(1, L + 1):\n"
                 "    A, cache = linear_activation_forward(A, parameters[f'W{l}'], parameters[f'b{l}'], hidden)\n"
                 "    caches.append(cache)\nreturn A, caches",
     ["layer 3 of 3 used activation 'relu'; expected 'sigmoid'"]),
    ("_forward", "A = X\ncaches = []\nfor l in range(1, L):\n"
                 "    A, cache = linear_activation_forward(A, parameters[f'W{l}'], parameters[f'b{l}'], hidden)\n"
                 "    caches.append(cache)\nreturn A, caches",
     ["caches holds 2 entries; expected L = 3"]),
    ("_update", "for key, value in parameters.items():\n    value += learning_rate * grads['d' + key]\n"
                "return parameters",
     ["the step of W1", "yours is -1 x -alpha dW1", "against the gradient"]),
    ("_update", "for key, value in parameters.items():\n    value = value - learning_rate * grads['d' + key]\n"
                "return parameters",
     ["the step of W1", "is all zeros", "the caller's dict does not see the new W1"]),
    ("topological_order", "order = []\ndef visit(node):\n    for parent in node.parents:\n"
                          "        visit(parent)\n    order.append(node)\nvisit(self)\nreturn order",
     ["nodes used twice appear once", "more than once"]),
    ("neuron_backward", "from reference.activations import ACTIVATIONS\n"
                        "(X, W_row, b), Z, activation = cache\n"
                        "dZ = dY_hat * ACTIVATIONS[activation][1](Z)\n"
                        "return W_row.T @ dZ, dZ @ X.T, dZ.sum(axis=1, keepdims=True)",
     ["dW has shape (1, 3), expected (3, 1): transposed"]),
    ("neuron_backward", "(X, W_row, b), Z, activation = cache\ndZ = dY_hat\n"
                        "return W_row.T @ dZ, X @ dZ.T, dZ.sum(axis=1, keepdims=True)",
     ["sigmoid neuron", "dX differs", "dZ = dY_hat * A'(Z)"]),
    ("numerical_gradient", "grads = {}\nfor key, value in parameters.items():\n"
                           "    g = np.zeros_like(value)\n    for i in np.ndindex(value.shape):\n"
                           "        saved = value[i]\n        base = J()\n        value[i] = saved + h\n"
                           "        g[i] = (J() - base) / h\n        value[i] = saved\n"
                           "    grads['d' + key] = g\nreturn grads",
     ["one-sided", "O(h^2)"]),
    ("numerical_gradient", "grads = {}\nfor key, value in parameters.items():\n"
                           "    g = np.zeros_like(value)\n    for i in np.ndindex(value.shape):\n"
                           "        saved = value[i]\n        value[i] = saved + h\n        plus = J()\n"
                           "        value[i] = saved - h\n        g[i] = (plus - J()) / h\n"
                           "    grads['d' + key] = g\nreturn grads",
     ["W is not as it was after the call", "put each entry back"]),
    ("gradient_check", "AL, caches = path.forward(X, parameters, hidden=hidden, output=output)\n"
                       "grads = path.backward(AL, Y, caches, cost=cost)\n"
                       "return {key: relative_error(grads[key], grads[key]) for key in grads}",
     ["must be caught", "dW1: 0"]),
    # the gradient check runs the student's own backward: a wrong layer backward is found there
    ("gradient_check", "AL, caches = path.forward(X, parameters, hidden=hidden, output=output)\n"
                       "grads = path.backward(AL, Y, caches, cost=cost)\n"
                       "numerical = numerical_gradient(lambda: path.compute_cost(path.forward(X, parameters, "
                       "hidden=hidden, output=output)[0], Y, cost=cost), parameters, h)\n"
                       "return {key: relative_error(grads[key], numerical[key]) for key in grads}",
     ["your gradient check reports dW", "your backward's dW", "is off"],
     {"_linear_backward": "A_prev, W, b = cache\n"
                          "return W.T @ dZ, dZ @ A_prev.T / 2, dZ.sum(axis=1, keepdims=True)"}),
]

# Correct answers written differently: each must pass.
CORRECT = [
    ("sigmoid_prime", "a = sigmoid(Z)\nreturn a * (1 - a)"),
    ("sigmoid_prime", "return 1 / (4 * np.cosh(Z / 2) ** 2)"),
    ("tanh_prime", "return 1 - tanh(Z) ** 2"),
    ("tanh_prime", "a = tanh(Z)\nreturn (1 + a) * (1 - a)"),
    ("relu_prime", "return np.heaviside(Z, 0).astype(Z.dtype)"),
    ("relu_prime", "return np.where(Z > 0, Z.dtype.type(1), Z.dtype.type(0))"),
    ("_linear_backward", "A_prev, W, b = cache\n"
                         "return np.dot(W.T, dZ), np.dot(dZ, A_prev.T), np.sum(dZ, axis=1, keepdims=True)"),
    ("_linear_backward", "A_prev, W, b = cache\ndW = np.zeros_like(W)\ndA_prev = np.zeros_like(A_prev)\n"
                         "db = np.zeros_like(b)\nfor j in range(dZ.shape[1]):\n"
                         "    dW += np.outer(dZ[:, j], A_prev[:, j])\n    db[:, 0] += dZ[:, j]\n"
                         "    dA_prev[:, j] = W.T @ dZ[:, j]\nreturn dA_prev, dW, db"),
    ("_update", "for key in parameters:\n    parameters[key] = parameters[key] - learning_rate * grads['d' + key]\n"
                "return parameters"),
    ("add_backward", "self.grad = self.grad + out.grad\nother.grad = other.grad + out.grad"),
    ("mul_backward", "self.grad += out.grad * other.value\nother.grad += out.grad * self.value"),
    ("cross_entropy", "log_a = np.log(np.where(AL > 0, AL, 1))\nlog_a[AL == 0] = LOG_FLOOR\n"
                      "log_b = np.log(np.where(AL < 1, 1 - AL, 1))\nlog_b[AL == 1] = LOG_FLOOR\n"
                      "J = -(Y * np.maximum(log_a, LOG_FLOOR) + (1 - Y) * np.maximum(log_b, LOG_FLOOR))\n"
                      "return J.sum() / J.size"),
    ("output_gradient", output_gradient(ce="return (AL - Y) / (Y.shape[0] * Y.shape[1])",
                                        mse="2 / N * (AL - Y) * g_prime(ZL)")),
    ("topological_order", "order, seen = [], set()\ndef visit(node):\n    if id(node) in seen:\n"
                          "        return\n    seen.add(id(node))\n    for parent in node.parents:\n"
                          "        visit(parent)\n    order.append(node)\nvisit(self)\nreturn order"),
    ("gradient_descent", "trajectory = [x_old]\nconverged = diverged = False\n"
                         "for _ in range(max_iter):\n    tmp_delta = x_old - alpha * grad_f(x_old)\n"
                         "    if not np.all(np.isfinite(tmp_delta)):\n        diverged = True\n        break\n"
                         "    if np.max(np.abs(tmp_delta - x_old)) < criteria:\n        converged = True\n"
                         "        break\n    x_old = tmp_delta\n    trajectory.append(x_old)\n"
                         "return GradientDescentResult(x_old, np.array(trajectory), converged, diverged, "
                         "len(trajectory) - 1)"),
    ("_forward", "caches, A = [], X\nfor l in range(1, L + 1):\n"
                 "    g = output if l == L else hidden\n"
                 "    A, cache = linear_activation_forward(A, parameters['W' + str(l)], parameters['b' + str(l)], g)\n"
                 "    caches.append(cache)\nreturn A, caches"),
    ("neuron_backward", "dX, dW_row, db = linear_activation_backward(dY_hat, cache)\nreturn dX, dW_row.T, db"),
]


def plant(folder, name, body):
    """Write `body` in place of exercise `name`'s raise line in the copy, at its indentation."""
    exercise = BY_NAME[name]
    number = EXERCISES.index(exercise) + 1
    path = folder / exercise.file
    text = path.read_text()
    match = re.search(rf'^( *)raise NotImplementedError\("exercise {number}: [^"]*"\)$', text, re.M)
    assert match, f"exercise {number} is not blank in {path}"
    new = textwrap.indent(textwrap.dedent(body).strip("\n"), match.group(1))
    path.write_text(text[:match.start()] + new + text[match.end():])


def rounds(entries):
    """Split entries into rounds with at most one per exercise (each exercise is graded alone).
    The gradient check uses the student's other exercises: its entries get a round each."""
    out = []
    for entry in entries:
        if not BY_NAME[entry[0]].isolated:
            out.append([entry])
            continue
        for batch in out:
            if all(other[0] != entry[0] for other in batch):
                batch.append(entry)
                break
        else:
            out.append([entry])
    return out


def grade_planted(tmp_path, batch, index):
    """Grade a copy with the batch's bodies planted. An exercise that is not isolated runs in a
    copy where only it (and the entry's extra {exercise: body}) is blank, the rest the project's."""
    folder = tmp_path / f"copy{index}"
    extra = batch[0][3] if len(batch) == 1 and len(batch[0]) > 3 else {}
    if any(not BY_NAME[entry[0]].isolated for entry in batch):
        write_student_copy(folder, [BY_NAME[entry[0]] for entry in batch] + [BY_NAME[n] for n in extra])
    else:
        write_student_copy(folder)
    for entry in batch:
        plant(folder, entry[0], entry[1])
    for name, body in extra.items():
        plant(folder, name, body)
    results, _ = grade(folder, select(sorted({entry[0] for entry in batch})))
    return {result.exercise.name: result for result in results}


@pytest.fixture
def student(tmp_path):
    write_student_copy(tmp_path)
    return tmp_path


def test_the_reference_grades_n_of_n_in_the_slides_order(capsys):
    tasks.grade(MockContext(), folder=str(ROOT))
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"{N}/{N} exercises pass"
    assert N >= 14 and len(lines) == N + 1
    for number, (line, exercise) in enumerate(zip(lines, EXERCISES, strict=False), start=1):
        assert line.startswith(f"{number:2d}. {exercise.name} ") and "pass (" in line, line


def test_a_fresh_copy_grades_0_of_n_and_says_what_to_write(student, monkeypatch):
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # the grader must set it itself
    results, _ = grade(student)
    assert report(results).splitlines()[-1] == f"0/{N} exercises pass"
    for number, result in enumerate(results, start=1):
        assert f"not written yet (NotImplementedError: exercise {number})" in result.failure
        assert result.cases > 0
    assert not list(student.rglob("__pycache__")), "grading wrote into the student's folder"


def test_the_copy_is_graded_also_where_python_leaves_the_working_folder_off_sys_path(student, monkeypatch):
    """PYTHONSAFEPATH=1 keeps `python -m` from putting the working folder first on sys.path: the
    copy must still be what `import reference` finds (not the project's reference/)."""
    monkeypatch.setenv("PYTHONSAFEPATH", "1")
    [result], _ = grade(student, select(["relu_prime"]))
    assert "not written yet (NotImplementedError: exercise" in result.failure, result.failure


def test_a_grading_that_writes_no_results_shows_the_end_of_what_pytest_printed(student):
    """A pytest.py in the student's folder shadows pytest, so no grading test runs: the error
    shows the end of both streams (bounded, however much the child printed)."""
    out, err = "o" * 3000 + " out-end\n", "e" * 3000 + " err-end\n"
    (student / "pytest.py").write_text(f"import sys\nprint({out[:-1]!r})\nprint({err[:-1]!r}, file=sys.stderr)\n")
    with pytest.raises(GradeError) as raised:
        run_pytest(student, select(["relu_prime"]))
    message = str(raised.value)
    assert message.startswith("pytest wrote no results:\n") and len(message) < 4100, message[:200]
    assert out[-1500:] in message and message.endswith(err[-1500:])


def test_a_grading_that_does_not_finish_in_time_is_stopped_with_the_reason(student):
    plant(student, "relu_prime", "while True:\n    pass")
    with pytest.raises(GradeError, match=r"^the grading did not finish in 2 s \(an endless loop\?\)$"):
        run_pytest(student, select(["relu_prime"]), timeout=2)


def test_each_planted_mistake_fails_with_a_message_that_names_it(tmp_path):
    for index, batch in enumerate(rounds(MISTAKES)):
        graded = grade_planted(tmp_path, batch, index)
        for name, body, fragments, *_ in batch:
            failure = graded[name].failure
            assert failure, f"{name} passed with the mistake:\n{body}"
            for fragment in fragments:
                assert fragment in failure, f"{name}: {fragment!r} not in\n{failure}"
            assert "\n" not in failure and len(failure) < 600


def test_correct_answers_written_differently_pass(tmp_path):
    for index, batch in enumerate(rounds(CORRECT)):
        graded = grade_planted(tmp_path, batch, index)
        for name, body in batch:
            assert not graded[name].failure, f"{name}:\n{body}\n{graded[name].failure}"


def test_invoke_grade_one_exercise_and_verbose(student, capsys):
    plant(student, "relu_prime", "return (Z > 0).astype(Z.dtype)")
    tasks.grade(MockContext(), folder=str(student), exercise=["relu_prime"], verbose=True)
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "1/1 exercises pass"
    assert re.search(r"^\d+ passed", out, re.M), out  # pytest's own summary line, as text
    with pytest.raises(Exit) as raised:
        tasks.grade(MockContext(), folder=str(student), exercise=["2", "nope"])
    assert raised.value.code == 2 and "no exercise 'nope'" in raised.value.message


def test_a_copy_that_does_not_import_fails_with_the_reason(student):
    path = student / "reference" / "activations.py"
    path.write_text(path.read_text() + "\ndef broken(:\n")
    results, _ = grade(student, select(["sigmoid_prime", "add_backward"]))
    for result in results:
        assert "your copy does not import: SyntaxError" in result.failure
        assert "activations.py, line " in result.failure


def test_the_copy_keeps_the_start_and_drops_the_result(student):
    """Each exercise's docstring is the reference's down to its "Derivation:" line; its body is
    the reference's input checks, then the raise; every other function is the reference's."""
    exercises_by_file = {}
    for exercise in EXERCISES:
        exercises_by_file.setdefault(exercise.file, []).append(exercise.function)
    for path in sorted((ROOT / "reference").glob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        ours, theirs = ast.parse(path.read_text()), ast.parse((student / relative).read_text())
        assert DERIVATION not in (student / relative).read_text(), relative
        blanked = exercises_by_file.get(relative, [])
        for name in blanked:
            mine, copy = find_function(ours, name), find_function(theirs, name)
            full, kept = ast.get_docstring(mine) or "", ast.get_docstring(copy) or ""
            assert full.split(DERIVATION)[0].rstrip() == kept.rstrip(), name
            assert isinstance(copy.body[-1], ast.Raise), name
            kept_statements = [ast.dump(s) for s in copy.body[:-1] if not isinstance(s, ast.Expr)]
            ours_statements = [ast.dump(s) for s in mine.body if not isinstance(s, ast.Expr)]
            assert kept_statements == ours_statements[:len(kept_statements)], name
        if not blanked and DERIVATION not in path.read_text():
            assert (student / relative).read_text() == path.read_text()
    for result_words in ("t / (1+t)^2", "dW = dZ A_prev^T", "(A[L] - Y) / N", "parent.grad +="):
        copy_text = "".join(p.read_text() for p in (student / "reference").glob("*.py"))
        assert result_words not in copy_text, result_words
    assert f"invoke grade --folder {student} " in (student / "EXERCISES.md").read_text()


def test_every_exercise_states_where_to_start(student):
    """The reference docstring of every exercise (or of the public function it is the math of)
    has a result section the copy drops, or is a specification with nothing to derive."""
    for exercise in EXERCISES:
        tree = ast.parse((ROOT / exercise.file).read_text())
        doc = ast.get_docstring(find_function(tree, exercise.function)) or ""
        assert doc, f"{exercise.function} has no docstring to start from"
        assert "door" not in doc.lower(), exercise.function


def test_the_input_checks_keep_their_messages(student):
    spec = importlib.util.spec_from_file_location(
        "student_gradient_descent", student / "reference" / "gradient_descent.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(ValueError, match=r"alpha = -1; expected a finite number > 0"):
        module.gradient_descent(lambda x: 2 * x, 1.0, alpha=-1)
    with pytest.raises(NotImplementedError, match="exercise 6"):
        module.gradient_descent(lambda x: 2 * x, 1.0, alpha=0.1)


def test_exercises_never_overwrite_a_copy_or_the_project(student):
    with pytest.raises(Exit) as raised:
        tasks.exercises(MockContext(), folder=str(student))
    assert raised.value.code == 2 and "exists already (your work?)" in raised.value.message
    with pytest.raises(Exit) as raised:
        tasks.exercises(MockContext(), folder=str(ROOT))
    assert "is the project itself" in raised.value.message


def test_exercises_into_a_file_says_it_wants_a_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(Exit) as raised:
        tasks.exercises(MockContext(), folder=str(tmp_path / "notes.txt"))
    assert raised.value.code == 2 and raised.value.message.endswith("notes.txt is a file; expected a folder")


def test_exercises_md_numbers_each_exercise_as_invoke_grade_takes_it(student):
    """EXERCISES.md's table: one row per exercise in the slides' order, its number the one
    `invoke grade --exercise` takes for the name in its last column."""
    rows = [line for line in (student / "EXERCISES.md").read_text().splitlines() if re.match(r"\| \d", line)]
    assert len(rows) == N, rows
    for row in rows:
        number, slide, title, where, name = [cell.strip() for cell in row.strip("|").split("|")]
        [exercise] = select([number])
        assert name == f"`{exercise.name}`", row
        assert where == f"`{exercise.file}`, `{exercise.function}`" and title == exercise.title, row


def test_grading_a_folder_without_a_copy_says_how_to_make_one(tmp_path):
    with pytest.raises(Exit) as raised:
        tasks.grade(MockContext(), folder=str(tmp_path))
    assert raised.value.code == 2
    assert "holds no reference/ package; write the student copy first with invoke exercises --folder" in (
        raised.value.message)


def test_exercises_are_chosen_by_number_1_to_n_or_by_name():
    assert select(["1"]) == [EXERCISES[0]] and select([str(N)]) == [EXERCISES[-1]]
    assert select(["2", EXERCISES[0].name]) == [EXERCISES[1], EXERCISES[0]]
    names = re.escape(", ".join(exercise.name for exercise in EXERCISES))
    for bad in ("0", str(N + 1), "nope"):
        with pytest.raises(GradeError, match=rf"^no exercise '{bad}'; expected a number 1-{N} or one of: {names}$"):
            select([bad])


def test_the_report_says_pass_or_fail_and_why_for_each_exercise():
    first, second = EXERCISES[0], EXERCISES[1]
    lines = report([Result(1, first, 3, ""), Result(2, second, 2, "dZ is transposed")]).splitlines()
    assert lines[0].startswith(" 1. " + first.name) and lines[0].endswith("pass (3 checks)")
    assert lines[1].startswith(" 2. " + second.name) and lines[1].endswith("FAIL dZ is transposed")
    assert lines[2] == "1/2 exercises pass"


def test_the_copy_keeps_exactly_the_statements_that_check_inputs():
    """student_copy's rule for what stays in a blanked body: a call of a check (by name or as
    checks.check_...), an if that only raises, an unpacking of the inputs; not an if that
    computes or returns, nor a call of anything else."""
    from exercises.student_copy import _checks_inputs

    def kept(source):
        return _checks_inputs(ast.parse(textwrap.dedent(source)).body[0], {"cache", "X"})

    assert kept("check_linear(A, W, b)") and kept("checks.check_linear(A, W, b)")
    assert not kept("np.dot(W, A)") and not kept("fns[0](X)")
    assert kept("if X.ndim != 2:\n    raise ValueError('X must be 2-D')")
    assert not kept("if X.ndim != 2:\n    X = X.reshape(1, -1)")
    assert not kept("if X.ndim != 2:\n    print(X)")
    assert not kept("if X.ndim != 2:\n    raise ValueError('no')\nelse:\n    Z = X")
    assert kept("A_prev, W, b = cache") and kept("L = checks.check_forward(X, parameters)")
    assert kept("X = np.asarray(X, dtype=float)")  # normalises an input from itself
    assert not kept("X = np.zeros(3)") and not kept("Z = np.dot(W, X)")


def test_a_name_not_in_the_module_is_named_with_the_part_missing():
    tree = ast.parse("class Node:\n    def backward(self):\n        pass\n")
    assert find_function(tree, "Node.backward").name == "backward"
    for qualname, part in (("relu", "relu"), ("Node.forward", "forward")):
        with pytest.raises(LookupError, match=rf"^{qualname} is not defined \(no '{part}'\)$"):
            find_function(tree, qualname)


def blanked(source, number=3):
    """_blank_body of the one function in source, as the copy writes it."""
    from types import SimpleNamespace

    from exercises.student_copy import _blank_body

    source = textwrap.dedent(source)
    lines = source.splitlines(keepends=True)
    exercise = SimpleNamespace(function="f", slide="S", notebook="01_x", hint="H.", name="f", title="T")
    _blank_body(lines, ast.parse(source).body[0], number, exercise)
    return "".join(lines)


def test_the_copy_blanks_the_math_and_keeps_the_docstring_the_checks_and_the_line_above():
    out = blanked('''
        def f(X, W):
            """Z = W X."""
            check_X(X)
            X = np.asarray(X, dtype=float)
            # the product, then its sum
            Z = W @ X
            return Z.sum()
        ''')
    assert '"""Z = W X."""' in out and "check_X(X)" in out and "X = np.asarray(X, dtype=float)" in out
    assert "W @ X" not in out and "Z.sum()" not in out and "the product" not in out
    assert out.rstrip().endswith('raise NotImplementedError("exercise 3: T")')
    assert not blanked("def f(X):\n    X = np.zeros(3)\n    return X\n").count("np.zeros")


def test_the_copy_of_a_body_without_checks_drops_the_comment_above_its_math():
    out = blanked('# about f\ndef f(X):\n    """2X."""\n    # the math\n    Z = 2 * X\n    return Z\n')
    assert out.startswith('# about f\ndef f(X):\n    """2X."""\n')
    assert "the math" not in out and "2 * X" not in out


def test_the_copy_of_a_function_without_a_docstring_drops_the_comment_above_its_math():
    out = blanked("def f(X):\n    # double it\n    Z = 2 * X\n    return Z\n")
    assert out.startswith("def f(X):\n    # Exercise 3") and "double it" not in out


def test_a_function_that_only_checks_has_nothing_to_write():
    out = blanked("def f(X):\n    check_X(X)\n    # double it\n    Z = 2 * X\n    return Z\n")
    assert "check_X(X)" in out and "double it" not in out and "2 * X" not in out
    with pytest.raises(LookupError, match=r"^f: nothing left to write after its input checks$"):
        blanked("def f(X):\n    check_X(X)\n")


@pytest.mark.parametrize("docstring, kept", [
    # the blank lines before the section go with it; the quotes close at the docstring's indent
    ("Summary.\n\n    Z = W A + b.\n\n    Derivation:\n    the secret\n\n    dZ = ...\n    ",
     "Summary.\n\n    Z = W A + b.\n    "),
    ("Summary.\n\n    Derivation:\n    the secret\n    ", "Summary.\n    "),
    # right under the summary line
    ("Summary.\n    Derivation:\n    the secret\n    ", "Summary.\n    "),
    # no blank line before it: the line above stays
    ("Summary.\n\n    Z = W A + b.\n    Derivation:\n    the secret\n    ", "Summary.\n\n    Z = W A + b.\n    "),
    # an indented equation last: the quotes still close at the docstring's indent
    ("Summary.\n\n        Z = W A + b\n\n    Derivation:\n    the secret\n    ",
     "Summary.\n\n        Z = W A + b\n    "),
    # the closing quotes on the result's last line
    ("Summary.\n\n    Derivation:\n    the secret.", "Summary.\n    "),
])
def test_the_copy_ends_a_docstring_where_its_derivation_starts(docstring, kept):
    source = f'def f(x):\n    """{docstring}"""\n    return x\n'
    lines = source.splitlines(keepends=True)
    _drop_derivations(lines, ast.parse(source))
    assert "".join(lines) == f'def f(x):\n    """{kept}"""\n    return x\n'
