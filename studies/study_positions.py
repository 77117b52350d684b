"""Last-step against max pooling when the target depends on positions:
scikit-learn's regression check data (200 univariate sequences of 10 steps,
y a linear function of the steps), R^2 on the training data after the fit of
``sklearn.utils.estimator_checks.check_regressors_train`` (the estimator of
``tests/estimators/test_common.py``: 16 units, 1e-2 constant, batches of 32, alpha 0.01).

Usage::

    python studies/study_positions.py
"""

import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sklearn.preprocessing import scale  # noqa: E402
from sklearn.utils.estimator_checks import _regression_dataset  # noqa: E402

from skrnn import RNNRegressor  # noqa: E402

FAST = dict(hidden_size=16, max_iter=100, learning_rate_init=1e-2, lr_schedule="constant",
            batch_size=32, random_state=0, device="cpu", alpha=0.01)


def main():
    X, y = _regression_dataset()
    y = scale(y)
    for pooling in ("last", "max"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reg = RNNRegressor(**FAST, pooling=pooling).fit(X, y)
        print(f"pooling={pooling!r}: R^2 {reg.score(X, y):.3f} ({reg.n_iter_} epochs)")


if __name__ == "__main__":
    main()
