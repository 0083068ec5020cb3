"""Slide "Traditional Machine Learning vs. Deep Learning", on the two-rings data set: the
traditional way hand-crafts a feature, the deep way lets a hidden layer find one.

    raw features            logistic regression on (x1, x2): a straight boundary cannot separate
                            a ring from the ring around it
    engineered feature      logistic regression on r^2 = x1^2 + x2^2, a feature chosen by someone
                            who looked at the data (domain knowledge): one threshold separates them
    deep learning           the 2-8-1 network on the raw (x1, x2): its hidden layer learns the
                            curved boundary from the data

    python -m train.feature_engineering      the three held-out accuracies
"""

import numpy as np

from reference import network, regression
from train import datasets
from train.runs import train_run


def _logistic_accuracy(X_train, Y_train, X_held, Y_held, iterations=2000, learning_rate=0.5):
    W, b, _ = regression.fit_logistic_regression(X_train, Y_train, learning_rate, iterations)
    return float(np.mean(regression.logistic_regression_predict(X_held, W, b) == Y_held))


def compare(seed=0, epochs=200, learning_rate=0.3, batch_size=32):
    """Held-out accuracy {"raw", "engineered", "network"} on datasets.two_rings(seed)."""
    rings = datasets.two_rings(seed=seed)

    def r2(X):  # the engineered feature, standardized with the training part's statistics
        return (X**2).sum(axis=0, keepdims=True)

    r2_train, r2_held = datasets.standardize(r2(rings.X_train), r2(rings.X_held))
    run = train_run(network, rings.X_train, rings.Y_train, [2, 8, 1], learning_rate, epochs, batch_size,
                    seed=seed, held=(rings.X_held, rings.Y_held))
    return {
        "raw": _logistic_accuracy(rings.X_train, rings.Y_train, rings.X_held, rings.Y_held),
        "engineered": _logistic_accuracy(r2_train, rings.Y_train, r2_held, rings.Y_held),
        "network": run.held_accuracy[-1],
    }


if __name__ == "__main__":
    for seed in range(3):
        accuracy = compare(seed)
        print(f"seed {seed}: held-out accuracy " + ", ".join(f"{k} {v:.1%}" for k, v in accuracy.items()))
