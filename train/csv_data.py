"""A student's own data for `invoke train --data PATH.csv`, read into the same `Split` as the
shipped data sets (so the same split, plot and output follow).

The file: comma-separated text, one sample per line, numeric feature columns and one label column,
the column named `label` when the first line is a header of column names, otherwise the last one.
Blank lines are skipped. The label is 0 or 1: `invoke train` trains a classifier (its accuracy
thresholds A[L] at 0.5, and the cross-entropy needs labels in [0, 1]).

Anything else is a `CsvError` whose one-line message names the file, the line (and column) and
what was expected there, e.g. `data.csv, line 7: expected 5 values (as line 1 has), found 4`.
"""

import csv
import io
from pathlib import Path

import numpy as np

from train.datasets import Split, standardize, stratified_split

LABEL = "label"


class CsvError(ValueError):
    """A CSV file that cannot be used; the message names the file, the line and what was expected."""


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def _lines(path):
    """[(line number, fields)] of the non-blank lines, or a CsvError for a file that is not text."""
    path = Path(path)
    try:
        if path.is_dir():  # inside the try: is_dir itself fails on a name the OS refuses
            raise CsvError(f"{path}: is a folder; expected a CSV file")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CsvError(f"{path}: no such file; expected a CSV file, one sample per line") from None
    except OSError as error:
        raise CsvError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise CsvError(f"{path}, line {line}: expected UTF-8 text, found the byte "
                       f"0x{raw[error.start]:02x} (is this a CSV file?)") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    try:
        for fields in reader:
            if any(field.strip() for field in fields):
                rows.append((reader.line_num, [field.strip() for field in fields]))
    except csv.Error as error:
        raise CsvError(f"{path}, line {reader.line_num}: {error}") from None
    return rows


def _header(path, line, fields):
    """The label's column index from a header line of names; a CsvError for a line that mixes
    names and numbers (a header with a number in it, or a data line with text in it)."""
    numbers = [k for k, field in enumerate(fields) if _number(field) is not None]
    if numbers:
        text = next(k for k in range(len(fields)) if k not in numbers)
        raise CsvError(f"{path}, line {line}: column {numbers[0] + 1} is the number "
                       f"{fields[numbers[0]]!r} but column {text + 1} is the text {fields[text]!r}; "
                       "expected a header of column names or a line of numbers, not both")
    named = [k for k, field in enumerate(fields) if field.lower() == LABEL]
    if len(named) > 1:
        raise CsvError(f"{path}, line {line}: columns {named[0] + 1} and {named[1] + 1} are both named "
                       f"{LABEL!r}; expected one label column")
    return named[0] if named else len(fields) - 1


def read_csv(path):
    """(X (n[0], m), Y (1, m), feature names) from a CSV file as described above."""
    rows = _lines(path)
    if not rows:
        raise CsvError(f"{path}: the file is empty; expected an optional header line, then one line "
                       "of numbers per sample")
    first_line, first = rows[0]
    has_header = any(_number(field) is None for field in first)  # names, not numbers
    if has_header:
        label = _header(path, first_line, first)
        names = first
        rows = rows[1:]
        if not rows:
            raise CsvError(f"{path}: no samples after the header on line {first_line}; expected one "
                           "line of numbers per sample")
    else:
        label = len(first) - 1
        names = [f"column {k + 1}" for k in range(len(first))]
    width = len(names)
    if width < 2:
        raise CsvError(f"{path}, line {first_line}: expected at least 2 columns (features, then the "
                       f"label), found {width}")
    values = np.empty((len(rows), width))
    for i, (line, fields) in enumerate(rows):
        if len(fields) != width:
            raise CsvError(f"{path}, line {line}: expected {width} values (as line {first_line} has), "
                           f"found {len(fields)}")
        for k, field in enumerate(fields):
            value = _number(field)
            column = f"column {k + 1}" + (f" ({names[k]!r})" if has_header else "")
            kind = "the label" if k == label else "a feature"
            if value is None or not np.isfinite(value):
                what = "a number" if value is None else "a finite number"
                raise CsvError(f"{path}, line {line}, {column}: expected {what} ({kind}), "
                               f"found {field!r}")
            if k == label and value not in (0.0, 1.0):
                raise CsvError(f"{path}, line {line}, {column}: expected the label 0 or 1, "
                               f"found {field!r}")
            values[i, k] = value
    features = [k for k in range(width) if k != label]
    X = np.ascontiguousarray(values[:, features].T)
    Y = values[:, label].reshape(1, -1)
    return X, Y, [names[k] for k in features]


def load_csv(path, seed=0, held_out_fraction=0.2, dtype=np.float64):
    """The file as a `Split`, as the shipped data sets: held_out_fraction of each class held out,
    features standardized with the training part's statistics."""
    X, Y, _ = read_csv(path)
    train, held = stratified_split(Y, held_out_fraction, seed)
    if train.size == 0 or held.size == 0:
        raise CsvError(f"{path}: {Y.shape[1]} samples are too few to hold out "
                       f"{held_out_fraction:.0%} and train on the rest; expected at least "
                       f"{int(np.ceil(1 / held_out_fraction))}")
    X_train, X_held = standardize(X[:, train], X[:, held])
    return Split(np.ascontiguousarray(X_train, dtype=dtype), np.ascontiguousarray(Y[:, train], dtype=dtype),
                 np.ascontiguousarray(X_held, dtype=dtype), np.ascontiguousarray(Y[:, held], dtype=dtype),
                 Path(path).stem)
