"""`invoke train --data PATH.csv`: a student's own file trains like the shipped data sets, and a
malformed one gets a one-line message naming the file, the line and what was expected."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from invoke import MockContext
from invoke.exceptions import Exit

import tasks
from train.csv_data import CsvError, load_csv, read_csv

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path, text, name="data.csv", mode="w"):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def two_feature_rows(m=20):
    """Rows x1,x2,label with the label 1 where x1 > x2, both classes present."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((m, 2)).round(3)
    return [(a, b, int(a > b)) for a, b in X]


def test_a_header_names_the_label_column_wherever_it_is(tmp_path):
    path = write(tmp_path, "x1,label,x2\n1.5,0,-2\n\n3,1,4e-1\n")
    X, Y, names = read_csv(path)
    np.testing.assert_array_equal(X, [[1.5, 3.0], [-2.0, 0.4]])
    np.testing.assert_array_equal(Y, [[0.0, 1.0]])
    assert names == ["x1", "x2"]


def test_without_a_header_the_last_column_is_the_label(tmp_path):
    path = write(tmp_path, "1,2,3,1\n4,5,6,0\n")
    X, Y, _ = read_csv(path)
    np.testing.assert_array_equal(X, [[1, 4], [2, 5], [3, 6]])
    np.testing.assert_array_equal(Y, [[1, 0]])


def test_train_on_a_csv_file_prints_cost_accuracy_and_writes_the_plot(tmp_path, capsys):
    rows = two_feature_rows()
    path = write(tmp_path, "x1,x2,label\n" + "".join(f"{a},{b},{y}\n" for a, b, y in rows))
    plot = tmp_path / "run.png"
    tasks.train(MockContext(), data=str(path), layers="2,4,1", epochs=3, batch_size=4,
                learning_rate=0.1, plot=str(plot))
    out = capsys.readouterr().out
    assert "final cost (cross_entropy): train" in out
    assert "(m = 16), held-out" in out and "(m = 4)" in out  # the stratified 80/20 split of 20
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


BAD_FILES = [
    ("ragged", "a,b,label\n1,2,0\n3,4\n", "data.csv, line 3: expected 3 values (as line 1 has), found 2"),
    ("ragged_long", "1,2,0\n3,4,1,5\n", "data.csv, line 2: expected 3 values (as line 1 has), found 4"),
    ("text_feature", "a,b,label\n1,2,0\n3,oops,1\n",
     "data.csv, line 3, column 2 ('b'): expected a number (a feature), found 'oops'"),
    ("empty_feature", "1,2,0\n3,,1\n", "data.csv, line 2, column 2: expected a number (a feature), found ''"),
    ("nan_feature", "1,2,0\nnan,2,1\n",
     "data.csv, line 2, column 1: expected a finite number (a feature), found 'nan'"),
    ("text_label", "1,2,0\n3,4,yes\n",
     "data.csv, line 2, column 3: expected a number (the label), found 'yes'"),
    ("label_2", "x,label\n1,0\n2,2\n", "data.csv, line 3, column 2 ('label'): expected the label 0 or 1, "
                                       "found '2'"),
    ("label_half", "1,2,0.5\n", "data.csv, line 1, column 3: expected the label 0 or 1, found '0.5'"),
    ("empty", "", "data.csv: the file is empty; expected an optional header line, then one line of "
                  "numbers per sample"),
    ("blank_lines_only", "\n  \n\n", "data.csv: the file is empty"),
    ("header_only", "a,b,label\n", "data.csv: no samples after the header on line 1; expected one line "
                                   "of numbers per sample"),
    ("mixed_first_line", "1.0,abc,0\n2,3,1\n",
     "data.csv, line 1: column 1 is the number '1.0' but column 2 is the text 'abc'; expected a header"),
    ("two_labels", "label,x,Label\n0,1,1\n", "data.csv, line 1: columns 1 and 3 are both named 'label'"),
    ("one_column", "label\n0\n1\n", "data.csv, line 1: expected at least 2 columns (features, then the "
                                     "label), found 1"),
    ("too_few", "1,0\n2,1\n", "data.csv: 2 samples are too few to hold out 20% and train on the rest; "
                            "expected at least 5"),
]


@pytest.mark.parametrize("text, message", [case[1:] for case in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_a_malformed_file_gets_one_line_naming_file_line_and_expectation(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(Exit) as raised:
        tasks.train(MockContext(), data=str(path), layers="2,4,1", plot=str(tmp_path / "never.png"))
    assert raised.value.code == 2
    assert raised.value.message.startswith(f"invoke train: {tmp_path}/")
    assert message in raised.value.message
    assert "\n" not in raised.value.message
    assert not (tmp_path / "never.png").exists()


def test_a_missing_file_a_folder_and_a_binary_file(tmp_path):
    cases = [
        (tmp_path / "nowhere.csv", "nowhere.csv: no such file; expected a CSV file"),
        (tmp_path / "folder.csv", "folder.csv: is a folder; expected a CSV file"),
        (write(tmp_path, b"1,2,0\n\xff\xfe,1\n", "binary.csv", "wb"),
         "binary.csv, line 2: expected UTF-8 text, found the byte 0xff"),
    ]
    (tmp_path / "folder.csv").mkdir()
    for path, message in cases:
        with pytest.raises(Exit) as raised:
            tasks.train(MockContext(), data=str(path), layers="2,4,1")
        assert raised.value.code == 2 and message in raised.value.message, raised.value.message


def test_a_name_that_is_neither_a_data_set_nor_a_csv_file(tmp_path):
    with pytest.raises(Exit) as raised:
        tasks.train(MockContext(), data="data.txt")
    assert "--data 'data.txt': expected one of breast_cancer, blobs, rings, or a file PATH.csv" in (
        raised.value.message)


def test_layers_must_fit_the_file(tmp_path):
    path = write(tmp_path, "".join(f"{a},{b},{y}\n" for a, b, y in two_feature_rows()))
    with pytest.raises(Exit) as raised:
        tasks.train(MockContext(), data=str(path))  # the default 30,16,8,1
    assert "has n[0] = 2 features" in raised.value.message and "start with 2" in raised.value.message


def test_the_command_line_prints_the_message_not_a_traceback(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,0\n3,4\n")
    bad = subprocess.run([sys.executable, "-m", "invoke", "train", "--data", str(path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip() == f"invoke train: {path}, line 3: expected 3 values (as line 1 has), found 2"


# ---------------------------------------------------------------------------------------------
# The reader's rarer paths (mutants the tests above let through: docs/mutants.md).


def test_a_file_that_cannot_be_read_and_a_line_csv_cannot_parse(tmp_path):
    long_name = tmp_path / ("x" * 300 + ".csv")  # longer than a file name may be
    with pytest.raises(CsvError, match=r": cannot be read \(File name too long\)$"):
        read_csv(long_name)
    path = write(tmp_path, "1,2,0\n" + "3," + "4" * 200_000 + ",1\n")  # past csv's field limit
    with pytest.raises(CsvError, match=r"data.csv, line 2: field larger than field limit"):
        read_csv(path)


def test_the_split_follows_the_seed_and_the_name_and_dtype_are_kept(tmp_path):
    rows = two_feature_rows(40)
    path = write(tmp_path, "".join(f"{a},{b},{y}\n" for a, b, y in rows), name="points.csv")
    default, same, other = load_csv(path), load_csv(path, seed=0), load_csv(path, seed=1)
    np.testing.assert_array_equal(default.X_train, same.X_train)
    assert not np.array_equal(default.X_train, other.X_train)
    assert default.name == "points"
    single = load_csv(path, dtype=np.float32)
    assert all(a.dtype == np.float32 and a.flags.c_contiguous for a in single[:4])
    np.testing.assert_array_equal(single.Y_held, default.Y_held.astype(np.float32))


def test_one_training_sample_is_enough_when_the_rest_is_held_out(tmp_path):
    path = write(tmp_path, "1,2,0\n3,4,0\n")
    split = load_csv(path, held_out_fraction=0.5)
    assert split.X_train.shape == (2, 1) and split.X_held.shape == (2, 1)


def test_invoke_train_splits_a_csv_file_by_its_seed(tmp_path):
    from train.cli import check_options

    path = write(tmp_path, "".join(f"{a},{b},{y}\n" for a, b, y in two_feature_rows(40)))

    def split(seed):
        *_, split = check_options("reference", "2,4,1", "relu", "sigmoid", "cross_entropy", 4, 1,
                                  0.1, str(path), seed)
        return split

    for ours, expected in zip(split(3)[:4], load_csv(path, seed=3)[:4], strict=True):
        np.testing.assert_array_equal(ours, expected)
    assert not np.array_equal(split(3).X_held, split(0).X_held)


def test_a_quoted_header_name_keeps_its_line_break_as_the_file_has_it(tmp_path):
    """A spreadsheet may write a column name over two lines, quoted; the csv module reads it
    whole only from text opened with newline="" (its documentation says so)."""
    path = write(tmp_path, b'"first\r\nfeature",x2,label\r\n1,2,0\r\noops,3,1\r\n', mode="wb")
    with pytest.raises(CsvError) as raised:
        read_csv(path)
    assert str(raised.value).endswith(
        "data.csv, line 4, column 1 ('first\\r\\nfeature'): expected a number (a feature), found 'oops'")


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["unix", "windows", "old_mac"])
def test_the_line_ends_of_every_platform_read_alike(tmp_path, end):
    """Excel for Mac wrote CSV files with a carriage return alone at each line's end."""
    path = write(tmp_path, end.join(["x1,x2,label", "1,2,0", "3,4,1", ""]).encode(), mode="wb")
    X, Y, names = read_csv(path)
    np.testing.assert_array_equal(X, [[1, 3], [2, 4]])
    np.testing.assert_array_equal(Y, [[0, 1]])
    assert names == ["x1", "x2"]
    ragged = write(tmp_path, end.join(["x1,x2,label", "1,2,0", "3,4", ""]).encode(), mode="wb")
    with pytest.raises(CsvError, match=r"data.csv, line 3: expected 3 values \(as line 1 has\), found 2$"):
        read_csv(ragged)
