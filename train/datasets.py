"""Data sets for the plots and `invoke train`, in slide layout: `X` is `n[0] x m`, `Y` is `1 x m`.

- `load_breast_cancer`: the real data set shipped in `data/` (Wisconsin Diagnostic Breast Cancer,
  569 samples, 30 features, 2 classes; source and licence in `data/LICENSE-breast-cancer.md`).
- Small synthetic sets, each deterministic for a seed: two Gaussian blobs (logistic regression),
  two rings (a problem a linear model cannot separate), a line with outliers (L1 against L2 loss).

Every loader returns a `Split`: train and held-out arrays, features standardized with the
statistics of the training part only (so nothing about the held-out samples leaks into training).
"""

from pathlib import Path
from typing import NamedTuple

import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
BREAST_CANCER_CSV = DATA_DIR / "breast_cancer.csv"


class Split(NamedTuple):
    """Train and held-out data: `X_*` is `n[0] x m_*`, `Y_*` is `1 x m_*` (labels 0/1 as floats)."""

    X_train: np.ndarray
    Y_train: np.ndarray
    X_held: np.ndarray
    Y_held: np.ndarray
    name: str


def read_breast_cancer_csv(path=BREAST_CANCER_CSV):
    """Read the WDBC file as shipped: returns `X` (30 x 569) and `Y` (1 x 569), label 1 = benign.

    The header line is `569,30,malignant,benign` (samples, features, class names in label order);
    it is checked so that a truncated or different file fails here with a clear message.
    """
    path = Path(path)
    with path.open() as f:
        header = f.readline().strip().split(",")
    m, n0 = int(header[0]), int(header[1])
    rows = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    if rows.shape != (m, n0 + 1):
        raise ValueError(
            f"{path} holds an array of shape {rows.shape}; its header promises {(m, n0 + 1)}"
        )
    X = np.ascontiguousarray(rows[:, :n0].T)
    Y = rows[:, n0].reshape(1, m)
    return X, Y


def stratified_split(Y, held_out_fraction, seed):
    """Indices `(train, held)` of a split that keeps each class's share, the same for a seed."""
    if not 0.0 < held_out_fraction < 1.0:
        raise ValueError(f"held_out_fraction must lie in (0, 1); got {held_out_fraction}")
    rng = np.random.default_rng(seed)
    train, held = [], []
    for label in np.unique(Y):
        idx = np.flatnonzero(Y[0] == label)
        rng.shuffle(idx)
        n_held = int(round(held_out_fraction * idx.size))
        held.append(idx[:n_held])
        train.append(idx[n_held:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(held))


def standardize(X_train, X_held):
    """Scale each feature (row) to mean 0, standard deviation 1 using the training columns only."""
    mu = X_train.mean(axis=1, keepdims=True)
    sigma = X_train.std(axis=1, keepdims=True)
    sigma[sigma == 0.0] = 1.0
    return (X_train - mu) / sigma, (X_held - mu) / sigma


def _split(X, Y, held_out_fraction, seed, name, dtype):
    train, held = stratified_split(Y, held_out_fraction, seed)
    X_train, X_held = standardize(X[:, train], X[:, held])
    return Split(
        np.ascontiguousarray(X_train, dtype=dtype),
        np.ascontiguousarray(Y[:, train], dtype=dtype),
        np.ascontiguousarray(X_held, dtype=dtype),
        np.ascontiguousarray(Y[:, held], dtype=dtype),
        name,
    )


def load_breast_cancer(seed=0, held_out_fraction=0.2, dtype=np.float64):
    """WDBC: 456 train and 113 held-out samples at the default fraction, 30 features."""
    X, Y = read_breast_cancer_csv()
    return _split(X, Y, held_out_fraction, seed, "breast_cancer", dtype)


def two_blobs(m=200, seed=0, held_out_fraction=0.2, dtype=np.float64):
    """Two overlapping Gaussian blobs in the plane: class 0 around (-1, -1), 1 around (1, 1)."""
    rng = np.random.default_rng(seed)
    Y = (np.arange(m) % 2).reshape(1, m).astype(np.float64)
    X = rng.standard_normal((2, m)) + (2.0 * Y - 1.0)
    return _split(X, Y, held_out_fraction, seed, "blobs", dtype)


def two_rings(m=400, seed=0, held_out_fraction=0.2, dtype=np.float64):
    """Class 0 on a ring of radius 1, class 1 on a ring of radius 2.5, with noise: not linear."""
    rng = np.random.default_rng(seed)
    Y = (np.arange(m) % 2).reshape(1, m).astype(np.float64)
    radius = 1.0 + 1.5 * Y[0] + 0.3 * rng.standard_normal(m)
    angle = rng.uniform(0.0, 2.0 * np.pi, m)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)])
    return _split(X, Y, held_out_fraction, seed, "rings", dtype)


def line_with_outliers(m=40, n_outliers=6, seed=0):
    """Points near `y = 2x + 1` for x in [0, 1], with `n_outliers` of them pushed far below.

    Returns `X` (1 x m), `Y` (1 x m), the true slope and intercept, and the outliers' indices.
    """
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 1.0, m))
    y = 2.0 * x + 1.0 + 0.1 * rng.standard_normal(m)
    outliers = np.sort(rng.choice(np.arange(m // 2, m), size=n_outliers, replace=False))
    y[outliers] -= rng.uniform(3.0, 5.0, n_outliers)
    return x.reshape(1, m), y.reshape(1, m), (2.0, 1.0), outliers


DATASETS = {
    "breast_cancer": load_breast_cancer,
    "blobs": two_blobs,
    "rings": two_rings,
}
"""Classification sets `invoke train --data` accepts: name -> loader(seed=..., dtype=...)."""

