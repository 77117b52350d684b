"""Shared plumbing of skrnn's transformers: reading sequences, ``set_output``.

numpy/pandas only (no torch).
"""

import numpy as np
import pandas as pd
from sklearn import get_config
from sklearn.base import BaseEstimator, TransformerMixin

from .. import _warnings
from .._compat import NO_AUTO_WRAP, output_config, set_output_config
from .._doclink import DOC_LINK_TEMPLATE, doc_link_url_params
from .config import ConfigCloneMixin
from .data import mark_layout
from .data import validate_sequences

__all__ = ["_SequenceTransformer"]

_OUTPUTS = {"default", "pandas"}


class _SequenceTransformer(ConfigCloneMixin, TransformerMixin, BaseEstimator):
    """Shared plumbing: reading sequences and ``set_output`` for 2-D output.

    sklearn's automatic output wrapping assumes 2-D output; these
    transformers return 3-D arrays or lists as well, so they wrap 2-D output
    themselves and warn when pandas output was asked for output that cannot
    be a table.
    """

    # the HTML repr's "?" icon links to the class's API page (see _doclink.py)
    _doc_link_module = "skrnn"
    _doc_link_template = DOC_LINK_TEMPLATE
    _doc_link_url_param_generator = doc_link_url_params

    def __init_subclass__(cls, **kwargs):
        for key, value in NO_AUTO_WRAP.items():
            kwargs.setdefault(key, value)
        super().__init_subclass__(**kwargs)

    def set_output(self, *, transform=None):
        """Set the container of 2-D output.

        Parameters
        ----------
        transform : {'default', 'pandas'} or None, default=None
            ``'pandas'`` returns 2-D output as a DataFrame whose columns are
            :meth:`get_feature_names_out`; 3-D and ragged output cannot be a
            table: it stays a numpy array / list, with a ``UserWarning``.
            ``None`` leaves the configuration unchanged.

        Returns
        -------
        self : estimator
            The transformer, its output configured.
        """
        if transform is None:
            return self
        if transform not in _OUTPUTS:
            raise ValueError(
                f"transform must be one of {sorted(_OUTPUTS)} or None; got {transform!r}."
            )
        set_output_config(self, transform)
        return self

    def _wrap_output(self, out, X, layout="channels_last"):
        """Return 2-D ``out`` as a DataFrame when pandas output is configured;
        3-D and ragged ``out`` is recorded as being in ``layout``, which the
        next skrnn step follows (see :mod:`skrnn._sequences.config`)."""
        mark_layout(out, layout)
        config = output_config(self)
        container = config.get("transform", get_config()["transform_output"])
        if container != "pandas":
            return out
        if not isinstance(out, np.ndarray) or out.ndim != 2:
            shape = f"{out.ndim}-D" if isinstance(out, np.ndarray) else "a list of sequences"
            _warnings.warn(
                f"{type(self).__name__} is configured for pandas output, but this output "
                f"is {shape} and cannot be a DataFrame: it is returned as "
                f"{'a numpy array' if isinstance(out, np.ndarray) else 'a list'}. Pandas "
                "output applies to 2-D output only; use set_output(transform='default') "
                "to silence this warning.",
                UserWarning,
            )
            return out
        index = X.index if isinstance(X, (pd.DataFrame, pd.Series)) else None
        return pd.DataFrame(out, index=index, columns=self.get_feature_names_out())

    def _read_sequences(self, X, *, reset, mask_value=np.nan, name="X"):
        """Validate sequence input as the estimators do, keeping float64.

        A 2-D table follows sklearn's conventions (``n_features_in_`` and
        ``feature_names_in_`` describe its columns); 3-D and ragged input
        count features per step.
        """
        return validate_sequences(
            self, X, reset=reset, mask_value=mask_value, dtype=np.float64, name=name,
            data_format=getattr(self, "data_format", None),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # all-NaN steps at either end of a sequence are padding
        tags.input_tags.allow_nan = True
        return tags


def _univariate_input(X, seqs):
    """True when the user gave (n, T) or ragged 1-D sequences."""
    if seqs.form == "2d":
        return True
    if seqs.form != "ragged":
        return False
    first = X.iloc[0] if isinstance(X, pd.Series) else X[0]
    return np.ndim(first) == 1


def _as_form(out, univariate):
    """Drop the feature axis of univariate output (array or list)."""
    if not univariate:
        return out
    if isinstance(out, list):
        return [o[:, 0] for o in out]
    return out[..., 0]
