"""Classify scikit-learn's digits read row by row: each 8x8 image is a
sequence of 8 time steps with 8 features (the pixel rows)."""

import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skrnn import RNNClassifier


def main():
    X, y = load_digits(return_X_y=True)
    X = X.reshape(-1, 8, 8) / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    clf = RNNClassifier(
        cell="lstm", hidden_size=128, bidirectional=True, max_iter=40,
        learning_rate_init=3e-3, random_state=0,
    )
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    elapsed = time.perf_counter() - start
    acc = clf.score(X_test, y_test)
    print(f"digits as sequences (8 steps x 8 features): {len(X_train)} train / {len(X_test)} test")
    print(f"RNNClassifier(cell='lstm', hidden_size=128, bidirectional=True): "
          f"{clf.n_iter_} epochs in {elapsed:.1f} s")
    print(f"test accuracy: {acc:.4f}")


if __name__ == "__main__":
    main()
