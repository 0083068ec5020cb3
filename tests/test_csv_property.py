"""The CSV reader on the files it can get (issue 18, item 5): with and without a header, with and
without a `label` column, the label in any column, numbers written as people and programs write
them, CRLF or LF lines, blank lines, a byte-order mark, quoted names.

Each file is written from known numbers with the csv module; the reader must give back exactly
those numbers, the label's column and the features' names (train/csv_data.py's rules: the
column named `label`, any case, when the first line is a header of names; otherwise the last).
"""

import csv
import io
import string

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import examples
from train.csv_data import read_csv


def reads_as_a_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


# A column name: text that does not read as a number (the reader's rule for a header: "nan",
# "inf" or "1e3" are numbers to it), may hold spaces and commas (the csv module quotes it).
NAMES = st.text(string.ascii_letters + string.digits + "_ ,", min_size=1, max_size=8).filter(
    lambda s: s.strip() and not reads_as_a_number(s) and s.strip().lower() != "label")
LABEL_NAMES = st.sampled_from(["label", "Label", "LABEL", " label "])
FEATURES = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False)
# how a number is written: Python's repr, a fixed number of digits, exponent notation, padded
WRITERS = st.sampled_from([repr, lambda v: f"{v:.17g}", lambda v: f"{v:.17e}", lambda v: f" {v!r} "])
LABEL_TEXTS = {0.0: ["0", "0.0", "0e0", " 0 "], 1.0: ["1", "1.0", "1e0", "1.000"]}


LAYOUTS = ("no header", "a header without label", "label first", "label inside", "label last")


@st.composite
def csv_files(draw, layout):
    """(text, X (n, m), Y (1, m), expected feature names) of a file of the given layout."""
    n, m = draw(st.integers(2 if layout == "label inside" else 1, 5)), draw(st.integers(1, 8))
    header = layout != "no header"
    named_label = layout.startswith("label")
    label = n  # without a column named label, the last column
    if layout == "label first":
        label = 0
    elif layout == "label inside":
        label = draw(st.integers(1, n - 1))
    X = np.array([[draw(FEATURES) for _ in range(m)] for _ in range(n)]).reshape(n, m)
    Y = np.array([[draw(st.sampled_from([0.0, 1.0])) for _ in range(m)]])
    write = draw(WRITERS)
    rows = []
    for j in range(m):
        features = [write(float(v)) for v in X[:, j]]
        rows.append(features[:label] + [draw(st.sampled_from(LABEL_TEXTS[Y[0, j]]))] + features[label:])
    names = [draw(NAMES) for _ in range(n)]
    if header:
        label_name = draw(LABEL_NAMES) if named_label else draw(NAMES)
        rows.insert(0, names[:label] + [label_name] + names[label:])
        expected_names = [name.strip() for name in names]
    else:
        expected_names = [f"column {k + 1}" for k in range(n + 1) if k != label]
    out = io.StringIO()
    csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows(rows)
    text = out.getvalue()
    if draw(st.booleans()):  # blank lines between and after
        lines = text.splitlines(keepends=True)
        at = draw(st.integers(1, len(lines)))
        text = "".join(lines[:at]) + "\n  \n" + "".join(lines[at:]) + "\n"
    if draw(st.booleans()):
        text = "\ufeff" + text  # a byte-order mark, as some spreadsheets write
    return text, X, Y, expected_names


@pytest.mark.parametrize("layout", LAYOUTS)
@settings(max_examples=examples(12))
@given(data=st.data())
def test_a_file_reads_back_its_numbers_its_label_column_and_its_names(tmp_path_factory, layout, data):
    text, X, Y, names = data.draw(csv_files(layout))
    path = tmp_path_factory.mktemp("csv") / "data.csv"
    path.write_text(text, encoding="utf-8", newline="")
    X_read, Y_read, names_read = read_csv(path)
    np.testing.assert_array_equal(X_read, X)
    np.testing.assert_array_equal(Y_read, Y)
    assert names_read == names
    assert X_read.flags.c_contiguous and X_read.dtype == np.float64
    if layout.startswith("label"):  # the generator's own check: the label is where it says
        first = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        k = [field.strip().lower() for field in first].index("label")
        assert k == {"label first": 0, "label last": len(first) - 1}.get(layout, k)
        assert 0 < k < len(first) - 1 or layout != "label inside"
