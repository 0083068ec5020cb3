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


@st.composite
def csv_files(draw):
    """(text, X (n, m), Y (1, m), expected feature names)."""
    n, m = draw(st.integers(1, 5)), draw(st.integers(1, 8))
    header = draw(st.booleans())
    named_label = header and draw(st.booleans())
    label = n  # without a name, the label is the last column
    if named_label:
        where = draw(st.sampled_from(["first", "inside", "last"]))
        if where == "first":
            label = 0
        elif where == "inside" and n > 1:
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


@settings(max_examples=examples(60))
@given(csv_files())
def test_a_file_reads_back_its_numbers_its_label_column_and_its_names(tmp_path_factory, case):
    text, X, Y, names = case
    path = tmp_path_factory.mktemp("csv") / "data.csv"
    path.write_text(text, encoding="utf-8", newline="")
    X_read, Y_read, names_read = read_csv(path)
    np.testing.assert_array_equal(X_read, X)
    np.testing.assert_array_equal(Y_read, Y)
    assert names_read == names
    assert X_read.flags.c_contiguous and X_read.dtype == np.float64


def test_the_strategy_reaches_every_layout():
    """The generator's own check: its files include a header with `label` in the first, a middle
    and the last column, a header without `label`, and no header."""
    seen = set()

    @settings(max_examples=examples(60))
    @given(csv_files())
    def collect(case):
        text, X, Y, names = case
        first = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        header = not reads_as_a_number(first[0])
        labels = [k for k, field in enumerate(first) if field.strip().lower() == "label"]
        n = X.shape[0]
        if not header:
            seen.add("no header")
        elif not labels:
            seen.add("header without label")
        else:
            seen.add({0: "label first", n: "label last"}.get(labels[0], "label inside") if n > 1
                     else "label in a two-column file")

    collect()
    assert seen >= {"no header", "header without label", "label first", "label last", "label inside"}, seen
