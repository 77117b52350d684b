"""
Speaker recognition on ragged JapaneseVowels utterances
=======================================================

Speaker recognition on JapaneseVowels: nine speakers, 12 cepstrum
coefficients per frame, 7 to 29 frames per utterance.

The utterances go to RNNClassifier as a ragged list, one (T_i, 12) array
each: no padding, no masks. SequenceScaler standardises each channel with
the mean and standard deviation of all real frames of the training set. Standard split
(270 train / 370 test). Published accuracies for reference: FCN 0.993,
InceptionTime 0.992, MLP 0.976. The configuration is the one the README
recommends (a bidirectional GRU of 128 units, max pooling, learning rate
3e-3 with a cosine schedule and 5 % warm-up, batch 16, 150 epochs run to the
end); single models reach about 0.986 (see the README for the measured
numbers), a few minutes of CPU time each.

Needs aeon (``pip install aeon``), whose bundled copy of the data set is
read offline. The figure (``examples/output/japanese_vowels.png``, written
when matplotlib is installed) shows each seed's training curve and the
confusion matrix of the averaged model. ``SKRNN_DOCS_FAST=1`` (the
documentation build) trains 2 seeds for 30 epochs (the cosine schedule
compressed to 30 epochs) instead of 3 for 150.
"""

import os
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import confusion_matrix
from sklearn.pipeline import make_pipeline

from skrnn import RNNClassifier, SequenceScaler

FAST = os.environ.get("SKRNN_DOCS_FAST") == "1"
N_SEEDS, MAX_ITER = (2, 30) if FAST else (3, 150)
OUTPUT = Path(__file__).resolve().parent / "output"


def load():
    from aeon.datasets import load_japanese_vowels

    X_train, y_train = load_japanese_vowels(split="train")
    X_test, y_test = load_japanese_vowels(split="test")
    # aeon gives (channels, frames) per utterance; skrnn reads (frames, features)
    return [x.T for x in X_train], y_train, [x.T for x in X_test], y_test


def plot(curves, classes, y_test, y_pred, path):
    """Training curves of every seed and the ensemble's confusion matrix."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from sklearn.metrics import ConfusionMatrixDisplay
    except ImportError:
        return None
    fig, (ax_loss, ax_cm) = plt.subplots(1, 2, figsize=(10, 4.2))
    for seed, curve in enumerate(curves):
        ax_loss.plot(range(1, len(curve) + 1), curve, label=f"random_state={seed}")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss (cross-entropy)")
    ax_loss.set_yscale("log")
    ax_loss.set_title("training curves")
    ax_loss.legend()
    ConfusionMatrixDisplay(confusion_matrix(y_test, y_pred, labels=classes),
                           display_labels=classes).plot(ax=ax_cm, colorbar=False, cmap="Blues")
    ax_cm.set_title(f"test confusion matrix, average of {len(curves)} models")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main():
    # Small recurrent nets step through time with tiny matrix products: a
    # second intra-op thread buys little and, on a busy machine, costs a lot.
    torch.set_num_threads(1)
    X_train, y_train, X_test, y_test = load()
    lengths = [len(x) for x in X_train + X_test]
    print(f"JapaneseVowels: {len(X_train)} train / {len(X_test)} test utterances, "
          f"{min(lengths)}-{max(lengths)} frames x {X_train[0].shape[1]} channels")
    # A bidirectional GRU, max-pooled over each utterance's real frames, with
    # a cosine learning-rate schedule run to its end (tol=None: no stopping
    # rule to cut the schedule short).
    params = dict(cell="gru", hidden_size=128, bidirectional=True, pooling="max",
                  learning_rate_init=3e-3, lr_schedule="cosine", batch_size=16,
                  max_iter=MAX_ITER, tol=None)
    print("SequenceScaler() -> RNNClassifier("
          + ", ".join(f"{k}={v!r}" for k, v in params.items()) + ")")
    start = time.perf_counter()
    probas, singles, curves = [], [], []
    for seed in range(N_SEEDS):
        clf = make_pipeline(SequenceScaler(), RNNClassifier(**params, random_state=seed))
        clf.fit(X_train, y_train)
        probas.append(clf.predict_proba(X_test))
        singles.append(np.mean(clf.classes_[probas[-1].argmax(1)] == y_test))
        curves.append(clf[-1].loss_curve_)
        print(f"  random_state={seed}: {clf[-1].n_iter_} epochs, test accuracy {singles[-1]:.4f}")
    elapsed = time.perf_counter() - start
    y_pred = clf.classes_[np.mean(probas, axis=0).argmax(1)]
    ensemble = np.mean(y_pred == y_test)
    print(f"single models: mean test accuracy {np.mean(singles):.4f} "
          f"(min {np.min(singles):.4f}, max {np.max(singles):.4f})")
    print(f"average of the {N_SEEDS} models' probabilities: test accuracy {ensemble:.4f}")
    print(f"{N_SEEDS} fits + predictions in {elapsed:.1f} s")
    plot(curves, clf.classes_, y_test, y_pred, OUTPUT / "japanese_vowels.png")


if __name__ == "__main__":
    main()
