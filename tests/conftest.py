"""Shared test setup and data: ragged sequence makers, the digits data set
as sequences, the small parameter sets and grid search the tests train
with, and torch's packed sequences as the padded kernel's oracle."""

import contextlib
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

#: the smallest network and run that still learns the toy tasks
TINY = dict(hidden_size=8, max_iter=3, random_state=0, device="cpu")
#: the grid of the parallel / distributed grid-search tests
GRID = {"cell": ["lstm", "gru"], "learning_rate_init": [3e-3, 1e-2]}


@contextlib.contextmanager
def _single_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """The suite trains many tiny models; one intra-op thread avoids thread
    oversubscription (several pytest processes or a busy CI machine) and is
    faster for models this small."""
    with _single_torch_thread():
        yield


@pytest.fixture
def one_thread():
    """Run this test's fits on one torch thread, as joblib's workers do (on a
    busy 2-core machine two OpenMP threads spin-wait for each other), and
    restore the count afterwards even if the test changed it."""
    with _single_torch_thread():
        yield


@pytest.fixture
def quiet():
    """Silence ConvergenceWarning: the tests run few epochs on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def ragged_sequences(n=40, F=3, seed=0, lo=2, hi=12, dtype=np.float64):
    """``n`` standard-normal sequences of ``F`` features and random lengths
    in ``[lo, hi)``."""
    rng = np.random.RandomState(seed)
    return [rng.normal(size=(rng.randint(lo, hi), F)).astype(dtype) for _ in range(n)]


def ragged_labelled(n=40, F=3, seed=0, lo=2, hi=12):
    """Ragged sequences labelled by the sign of their first feature's mean."""
    X = ragged_sequences(n, F, seed, lo, hi)
    return X, np.array([int(x[:, 0].mean() > 0) for x in X])


def fit_quietly(est, X, y):
    """``est.fit(X, y)`` with ConvergenceWarning silenced (few epochs on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.fixture(scope="session")
def make_ragged():
    """Factory: ``make_ragged(n, F, seed, lo, hi, dtype)`` -> list of arrays."""
    return ragged_sequences


@pytest.fixture(scope="session")
def make_ragged_xy():
    """Factory: ``make_ragged_xy(n, F, seed, lo, hi)`` -> (X, binary y)."""
    return ragged_labelled


@pytest.fixture(scope="session")
def digits_sequences():
    """sklearn's digits as 1797 sequences of 8 rows x 8 pixels in [0, 1]."""
    X, y = load_digits(return_X_y=True)
    return X.reshape(-1, 8, 8) / 16.0, y


@pytest.fixture(scope="session")
def tiny():
    """A copy of :data:`TINY` per use."""
    return dict(TINY)


@pytest.fixture(scope="session")
def small_grid_search():
    """Factory: a 2-fold grid search of a tiny RNNClassifier over :data:`GRID`."""
    from skrnn import RNNClassifier

    def make(n_jobs):
        est = RNNClassifier(hidden_size=8, max_iter=2, batch_size=32, device="cpu",
                            random_state=0)
        return GridSearchCV(est, GRID, cv=2, n_jobs=n_jobs)

    return make


def packed_oracle(enc, x, lengths):
    """A :class:`~skrnn._nn.recurrent.RecurrentEncoder`'s layers run on torch's
    packed sequences (the backward direction on each sequence reversed within
    its length): the reference the padded kernel must match."""
    from skrnn._nn.recurrent import reverse_within_length

    def run(rnn, inp):
        packed = pack_padded_sequence(inp, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = rnn(packed)
        return pad_packed_sequence(out, batch_first=True, total_length=inp.shape[1])[0]

    rev = reverse_within_length(lengths, x.shape[1]).unsqueeze(-1)
    for directions in enc.layers:
        outs = [run(directions[0], x)]
        if len(directions) == 2:
            backward = run(directions[1], x.gather(1, rev.expand(-1, -1, x.shape[-1])))
            outs.append(backward.gather(1, rev.expand(-1, -1, backward.shape[-1])))
        x = torch.cat(outs, dim=-1)
    return x


@pytest.fixture(scope="session")
def packed_reference():
    """The packed-sequence oracle of the padded kernel (:func:`packed_oracle`)."""
    return packed_oracle
