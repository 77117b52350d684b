"""Sequence input validation with scikit-learn's bookkeeping.

numpy/pandas only (no torch): the preprocessing transformers and the
estimators share it.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._compat import reset_feature_names, validate_data
from ._config import resolve_data_format
from ._data import _is_ragged_container, to_sequences
from ._layout import check_data_format, from_multiindex, is_multiindex_frame

__all__ = ["validate_sequences"]


def _is_tabular(X):
    """DataFrames, sparse matrices and rectangular 2-D arrays go through
    sklearn's ``validate_data`` (feature names, n_features_in_ checks)."""
    if isinstance(X, pd.DataFrame) or sp.issparse(X):
        return True
    if _is_ragged_container(X):
        return False
    return np.asarray(X).ndim == 2


def validate_sequences(estimator, X, *, reset, mask_value=np.nan, sequence_lengths=None,
                       token_ids=False, dtype=np.float32, name="X",
                       data_format=None):
    """Validate sequence input for ``estimator`` and return
    :class:`~skrnn._data.Sequences`, keeping sklearn's bookkeeping.

    2-D tables go through ``validate_data`` (``n_features_in_`` counts their
    columns, i.e. time steps; ``feature_names_in_`` for DataFrames); 3-D and
    ragged input count features per time step (channels for
    ``data_format='channels_first'``; a sktime/aeon ``pd-multiindex`` frame
    is read as ragged sequences, one per instance). With ``reset=False`` the
    features per step must match the fit. See
    :func:`~skrnn._data.to_sequences` for ``mask_value`` and ``data_format``.
    """
    # None: the layout skrnn's configuration or the input's producer says
    # (skrnn._config); guessed channels-last input that looks transposed is
    # an error there
    data_format, guessed = resolve_data_format(estimator, X, data_format, reset=reset)
    check_data_format(data_format)
    if is_multiindex_frame(X):
        X = from_multiindex(X, name)
    if not isinstance(X, (list, tuple, np.ndarray)) and hasattr(X, "__array__") and not (
        hasattr(X, "iloc") or hasattr(X, "tocsr")
    ):
        X = np.asarray(X)  # other array-likes (e.g. memory maps, wrappers)
    tabular = _is_tabular(X)
    if tabular and (reset or getattr(estimator, "_fitted_on_table", False)):
        X = validate_data(
            estimator, X, reset=reset, dtype=None if token_ids else "numeric",
            ensure_all_finite=False,
        )
    seqs = to_sequences(
        X, mask_value=mask_value, sequence_lengths=sequence_lengths,
        token_ids=token_ids, dtype=dtype, name=name, data_format=data_format,
        guessed_layout=guessed,
    )
    if reset:
        estimator._fitted_on_table = tabular
        estimator._n_step_features = seqs.n_features
        if not tabular:
            reset_feature_names(estimator)
            estimator.n_features_in_ = seqs.n_features
    elif seqs.n_features != estimator._n_step_features:
        raise ValueError(
            f"{name} has {seqs.n_features} features per time step, but "
            f"{type(estimator).__name__} was fitted with {estimator._n_step_features}; "
            "pass sequences with the same features per time step as in fit."
        )
    return seqs
