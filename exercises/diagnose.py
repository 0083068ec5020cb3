"""What is wrong with a student's array, in one line: the grader's messages.

`difference(name, yours, expected, ...)` compares a result with the expected one (torch's, or
what the derivation gives) and returns None when they agree, else one line that names the
quantity, says how far off it is, and, where the numbers show it, the likely mistake:

    shape     transposed, a summed axis dropped (keepdims), (n,) broadcast against (n, 1)
    dtype     float64 from float32 inputs (NumPy promotes when anything in a formula is float64)
    NaN/inf   where the expected value is finite (with the entry's label, e.g. "z = -1000")
    scale     "yours is 0.2 x torch's": a 1/m too many or too few, a sign, a factor 2, ...
    transpose the transpose of the expected square matrix
    entries   how many entries differ, the first one, yours and the expected there

The tolerances are the project's (tests/torch_compare.py): the relative error
max|a - b| / max(1e-8, |a| + |b|) entry by entry, or over the whole array ("array" measure:
each entry's error against the array's largest, which accepts a formula's rounding where a
value is tiny next to the others: 1 - a^2 at z = 15 is 0 where tanh' is 3.7e-13, next to 1 at 0).
"""

import numpy as np


def fmt(value):
    """A number as a student reads it: 4 significant digits, no trailing noise."""
    value = float(value)
    if value == 0:
        return "0"
    if np.isnan(value) or np.isinf(value):
        return str(value)
    return f"{value:.4g}"


def fmt_shape(shape):
    return "a scalar" if shape == () else str(tuple(shape))


def relative_error(a, b, measure="entrywise"):
    """max |a - b| / max(1e-8, |a| + |b|): entry by entry, or over the whole array."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    diff, size = np.abs(a - b), np.abs(a) + np.abs(b)
    if measure == "array":
        return float(np.max(diff, initial=0.0) / max(1e-8, np.max(size, initial=0.0)))
    return float(np.max(diff / np.maximum(1e-8, size), initial=0.0))


def _as_array(yours):
    if isinstance(yours, np.ndarray):
        return yours
    if isinstance(yours, (float, int, np.floating, np.integer, np.bool_)):
        return np.asarray(yours)
    return None


def _shape_message(name, shape, expected):
    if len(shape) == 2 and len(expected) == 2 and shape == expected[::-1]:
        return (f"{name} has shape {fmt_shape(shape)}, expected {fmt_shape(expected)}: transposed "
                f"(a gradient has the shape of what it differentiates; check the order of the "
                f"factors and which one carries ^T)")
    if len(expected) == 2 and expected[1] == 1 and shape == (expected[0],):
        return (f"{name} has shape {fmt_shape(shape)}, expected {fmt_shape(expected)}: the summed "
                f"axis was dropped; keep it (keepdims=True) so {name} stays a column")
    if len(expected) == 2 and expected[1] == 1 and shape == (expected[0], expected[0]) and expected[0] > 1:
        return (f"{name} has shape {fmt_shape(shape)}, expected {fmt_shape(expected)}: an "
                f"({expected[0]},) array broadcast against an {fmt_shape(expected)} one makes a square")
    if len(expected) == 2 and len(shape) == 2 and expected[1] == 1 and shape[0] == 1:
        return (f"{name} has shape {fmt_shape(shape)}, expected {fmt_shape(expected)}: summed over "
                f"the wrong axis (one entry per row of {name} is wanted, a sum over the columns)")
    return f"{name} has shape {fmt_shape(shape)}, expected {fmt_shape(expected)}"


def dtype_message(name, dtype, like):
    dtype, like = np.dtype(dtype), np.dtype(like)
    if like == np.float32 and dtype == np.float64:
        return (f"{name} is float64 from float32 inputs: NumPy promotes the result when anything "
                f"in the formula is float64 (np.float64(...), np.exp(...) of a Python number, an "
                f"array made with dtype=float, ...); keep the inputs' dtype")
    return f"{name} has dtype {dtype}, expected {like} (the inputs' dtype)"


# Scales a result can be off by, and what each likely means. `scales` adds the problem's own
# (m, N = n[L] m, n[L]) as {label: value}.
def _scale_words(ratio, scales):
    for label, value in scales.items():
        if value not in (0, 1, -1):
            if np.isclose(ratio, value, rtol=1e-6):
                return f" (= {label}: a 1/{label} too few)"
            if np.isclose(ratio, 1 / value, rtol=1e-6):
                return f" (= 1/{label}: a 1/{label} too many)"
            if np.isclose(ratio, -value, rtol=1e-6):
                return f" (= -{label}: a sign, and a 1/{label} too few)"
            if np.isclose(ratio, -1 / value, rtol=1e-6):
                return f" (= -1/{label}: a sign, and a 1/{label} too many)"
    if np.isclose(ratio, -1, rtol=1e-6):
        return " (a sign)"
    if np.isclose(ratio, 2, rtol=1e-6):
        return " (a factor 2 too many)"
    if np.isclose(ratio, 0.5, rtol=1e-6):
        return " (a factor 2 too few)"
    return ""


def difference(name, yours, expected, *, tol, measure="entrywise", like=None, oracle="torch's",
               scales=None, labels=None, hints=None):
    """None when `yours` agrees with `expected`, else one line saying what is off.

    like: the inputs' dtype (the result must keep it; None: not checked). scales: {label: value}
    of the problem's sizes a result may be off by (e.g. {"m": 5}). labels: a function of an entry's
    index giving its meaning ("z = 9.5"), for the NaN and entry messages. hints: {kind: text}
    appended when that kind of difference is found (kinds: nonfinite, scale, transpose, zero,
    entries, shape, dtype; "scale:0.5" for one ratio).
    """
    hints = hints or {}
    scales = scales or {}

    def hinted(message, *kinds):
        extra = next((hints[k] for k in kinds if k in hints), "")
        return f"{message}; {extra}" if extra else message

    if yours is None:
        return f"{name} is None: the function returned nothing (a missing return?)"
    array = _as_array(yours)
    expected = np.asarray(expected)
    if array is None:
        return f"{name} is a {type(yours).__name__}; expected an array of shape {fmt_shape(expected.shape)}"
    if array.shape != expected.shape:
        return hinted(_shape_message(name, array.shape, expected.shape), "shape")
    if array.dtype.kind == "b":
        return hinted(f"{name} has dtype bool; expected numbers of the inputs' dtype "
                      f"({np.dtype(like) if like is not None else expected.dtype})", "dtype")
    if like is not None and array.dtype != np.dtype(like):
        return hinted(dtype_message(name, array.dtype, like), "dtype")
    if array.dtype.kind not in "fiu":
        return f"{name} has dtype {array.dtype}; expected numbers"
    bad = ~np.isfinite(array) & np.isfinite(expected)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = labels(index) if labels else f"entry {list(index)}" if array.ndim else ""
        kind = "NaN" if np.isnan(array[index]) else "inf"
        at = f" at {where}" if where else ""
        return hinted(f"{name} is {kind}{at}, where {oracle} is {fmt(expected[index])}", "nonfinite")
    err = relative_error(array, expected, measure)
    if err <= tol:
        return None
    tail = f" (relative error {err:.2g} > {tol:g})"
    flat_e, flat_y = expected.astype(np.float64).ravel(), array.astype(np.float64).ravel()
    if not flat_y.any():
        return hinted(f"{name} is all zeros; {oracle} is not{tail}", "zero")
    if array.ndim == 2 and array.shape[0] == array.shape[1] > 1 and \
            relative_error(array, expected.T, measure) <= tol:
        return hinted(f"{name} is the transpose of {oracle}{tail}", "transpose")
    if flat_e.any():
        ratio = float(flat_y @ flat_e / (flat_e @ flat_e))
        if relative_error(flat_y, ratio * flat_e, measure) <= max(tol, 1e-9):
            key = next((k for k in hints if k.startswith("scale:")
                        and np.isclose(ratio, float(k[6:]), rtol=1e-6)), None)
            words = _scale_words(ratio, scales)
            message = f"{name}: yours is {fmt(ratio)} x {oracle}{words}{tail}"
            return f"{message}; {hints[key]}" if key else hinted(message, "scale")
    close = np.isclose(array, expected, rtol=tol, atol=0) | (array == expected)
    index = tuple(int(i) for i in np.argwhere(~close)[0]) if (~close).any() else (0,) * array.ndim
    where = labels(index) if labels else (f"entry {list(index)}" if array.ndim else "")
    count = int((~close).sum())
    if array.ndim == 0:
        return hinted(f"{name} is {fmt(array)}, {oracle} is {fmt(expected)}{tail}", "entries")
    return hinted(f"{name} differs from {oracle} at {count} of {array.size} entries; first at "
                  f"{where}: yours {fmt(array[index])}, {oracle} {fmt(expected[index])}{tail}", "entries")


def changed_input(name, before, after, why=""):
    """None when the input array is as it was, else one line."""
    after = np.asarray(after)
    if before.shape == after.shape and np.array_equal(before, after, equal_nan=True):
        return None
    count = int((before != after).sum()) if before.shape == after.shape else before.size
    message = (f"your function changed its input {name} ({count} of {before.size} entries): the "
               f"caller's array must stay as it was")
    return f"{message}; {why}" if why else message
