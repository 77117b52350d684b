"""Reading sequence input: every accepted form of ``X`` into :class:`Sequences`.

Every estimator and transformer reads ``X`` here: :func:`validate_sequences`
(with scikit-learn's bookkeeping: ``n_features_in_``, feature names) calls
:func:`to_sequences`, which turns any of the
accepted forms (3-D array, 2-D univariate array, ragged list / object array /
pandas Series of per-sample arrays, padded arrays with a mask value or with
``sequence_lengths``, channels-first arrays and lists with
``data_format='channels_first'``, sktime/aeon ``pd-multiindex`` frames) into
one canonical, compact representation: :class:`Sequences`, the real time
steps of all samples concatenated along the first axis plus the offsets where
each sample starts. Masked steps (all features equal to ``mask_value``:
padding at the ends, missing readings in the middle, as Keras' ``Masking``)
never reach the network: they are skipped here, once, and their positions are
kept so that per-step outputs go back where the input had them.
"""



import threading
import weakref

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._compat import reset_feature_names, validate_data
from .arrays import (  # noqa: F401  (check_sample_aligned: re-exported)
    _MAX_TOKEN_ID,
    _check_sequence_lengths,
    _huge_id_message,
    _to_int_ids,
    check_sample_aligned,
)
from .container import Sequences, _ragged_positions, pad_values  # noqa: F401  (re-exported)
from .container import _check_real_steps, _mask_ragged, _no_real_steps, _padding_steps
from .container import _pad_channels_last  # noqa: F401  (re-exported)
from .config import get_config
from .layout import channels_first_hint, check_data_format, from_multiindex, warn_if_transposed

__all__ = ["validate_sequences", "to_sequences", "Sequences"]


def _from_array(X, mask_value, sequence_lengths, name, token_ids, layout, guessed=False):
    """Padded array input (already channels last; ``layout`` is the one to
    mirror in outputs)."""
    X = _as_numeric(X, name, token_ids)
    if X.ndim == 2:
        form = "2d"
        X = X[:, :, None]
    elif X.ndim == 3:
        form = "3d"
    else:
        hint = (
            " A 1-D array is not a set of sequences. Reshape your data to (n_samples, "
            "n_timesteps) or (n_samples, n_timesteps, n_features), or pass a list "
            "of per-sample arrays."
            if X.ndim <= 1
            else ""
        )
        raise ValueError(
            f"Expected {name} as a 3-D array (n_samples, n_timesteps, n_features), "
            f"a 2-D array (n_samples, n_timesteps) or a list of arrays; got an "
            f"array with {X.ndim} dimension(s) and shape {X.shape}.{hint}"
        )
    n, T, F = X.shape
    if n == 0 or T == 0 or F == 0:
        raise ValueError(
            f"{name} is empty: shape {X.shape}; at least one sample with one time "
            "step and one feature is required."
        )
    if form == "3d" and layout == "channels_last":
        warn_if_transposed(T, F, name, guessed)
    real = ~_padding_steps(X, mask_value)
    within = ""
    if sequence_lengths is not None:
        lengths = _check_sequence_lengths(sequence_lengths, n, T, name)
        real &= np.arange(T) < lengths[:, None]
        within = " within its sequence_lengths"
    if real.all():
        values = X.reshape(n * T, F)
        offsets = np.arange(n + 1, dtype=np.int64) * T
        if not token_ids:
            _check_real_steps(values, offsets, None, name, mask_value)
        else:
            values = _to_int_ids(values, name)
        return Sequences(values, offsets, form, np.zeros(n, np.int64), T, data_format=layout)
    lengths = real.sum(axis=1)
    if not lengths.all():
        raise _no_real_steps(int(np.flatnonzero(lengths == 0)[0]), mask_value, name, within)
    values = X[real]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    starts = real.argmax(axis=1).astype(np.int64)
    last = T - 1 - real[:, ::-1].argmax(axis=1)
    positions = None
    if np.any(last - starts + 1 != lengths):  # skipped steps between real ones
        positions = np.nonzero(real)[1].astype(np.int64)
    if token_ids:
        values = _to_int_ids(values, name)
    else:
        _check_real_steps(values, offsets, positions if positions is not None
                          else _ragged_positions(starts, lengths), name, mask_value)
    return Sequences(values, offsets, form, starts, T, positions, layout)


def _from_ragged(X, mask_value, sequence_lengths, name, token_ids, layout, guessed=False):
    if isinstance(X, pd.Series):
        X = X.tolist()
    if sequence_lengths is not None:
        raise ValueError(
            "sequence_lengths is for padded array input; ragged input already "
            "carries each sequence's length."
        )
    if len(X) == 0:
        raise ValueError(f"{name} is an empty list; at least one sequence is required.")
    arrays = _ragged_arrays(X, name, token_ids)
    lengths = np.fromiter((a.shape[0] for a in arrays), dtype=np.int64, count=len(arrays))
    if layout == "channels_last" and arrays[0].shape[1] > 1:
        warn_if_transposed(int(lengths.max()), arrays[0].shape[1], name, guessed)
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = np.concatenate(arrays, axis=0)
    values, offsets, positions = _mask_ragged(values, offsets, mask_value, name)
    if token_ids:
        values = _to_int_ids(values, name)
    else:
        _check_real_steps(values, offsets, positions, name, mask_value)
    return Sequences(values, offsets, "ragged", positions=positions, data_format=layout)


def to_sequences(
    X, *, mask_value=np.nan, sequence_lengths=None, token_ids=False, name="X",
    dtype=np.float32, data_format="channels_last", guessed_layout=False,
):
    """Validate sequence input and skip its masked steps.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_timesteps, n_features) or \
            (n_samples, n_timesteps), or list of arrays, or DataFrame
        Fixed-length, padded, or ragged sequences (see ``data_format``); a
        sktime/aeon ``pd-multiindex`` DataFrame (MultiIndex (instance, time)
        rows, one column per channel) is read as one sequence per instance.
    mask_value : float or None, default=np.nan
        A step whose features ALL equal ``mask_value`` (all NaN for
        ``np.nan``) is skipped wherever it sits, as Keras' ``Masking`` does:
        padding at either end, a missing reading in the middle. A step with
        only some features equal to NaN is an error. ``None`` disables masking.
    sequence_lengths : array-like of shape (n_samples,) or None
        Real lengths of post-padded array input: steps beyond them are
        ignored whatever they hold; masked steps within them are skipped too.
    token_ids : bool, default=False
        Read the values as integer token ids (int64) instead of floats.
    name : str, default='X'
        Name used in error messages.
    dtype : numpy dtype, default=np.float32
        Dtype of real-valued values (the preprocessing transformers keep
        float64).
    data_format : {'channels_last', 'channels_first'}, default='channels_last'
        ``'channels_last'``: arrays are (n_samples, n_timesteps, n_features)
        and list items (T_i, n_features). ``'channels_first'``: the aeon /
        sktime layout, (n_samples, n_channels, n_timesteps) and (n_channels,
        T_i). Channels-last input with one step or far more features than
        steps warns, or is an error with ``guessed_layout=True``.
    guessed_layout : bool, default=False
        Whether ``'channels_last'`` was assumed because nothing said the
        layout (see :mod:`skrnn._sequences.config`).

    Returns
    -------
    Sequences
        Values are ``dtype`` (float32 by default), or int64 for token ids.
        The caller's data is never modified (a copy is made whenever values
        change).
    """
    if sp.issparse(X):
        raise TypeError(
            f"Sparse input is not supported for {name}: sequences must be dense "
            "(convert with X.toarray())."
        )
    if X is None:
        raise ValueError(f"{name} is None; expected sequences.")
    X, layout = to_channels_last(X, data_format, name)
    if _is_ragged_container(X):
        seqs = _from_ragged(X, mask_value, sequence_lengths, name, token_ids, layout,
                            guessed_layout)
    else:
        seqs = _from_array(X, mask_value, sequence_lengths, name, token_ids, layout,
                           guessed_layout)
    if not token_ids:
        limit = np.finfo(dtype).max  # values are finite here; the cast must not overflow
        if seqs.values.dtype.itemsize > np.dtype(dtype).itemsize and np.abs(seqs.values).max() > limit:
            raise ValueError(
                f"{name} holds values beyond the range of {np.dtype(dtype)} (|x| > "
                f"{limit:.3g}), the precision the network computes in; rescale the "
                "input (e.g. with SequenceScaler)."
            )
        seqs = seqs.with_values(np.ascontiguousarray(seqs.values, dtype=dtype))
    return seqs


def validate_sequences(estimator, X, *, reset, mask_value=np.nan, sequence_lengths=None,
                       token_ids=False, dtype=np.float32, name="X",
                       data_format=None):
    """Validate sequence input for ``estimator`` and return
    :class:`~skrnn._sequences.data.Sequences`, keeping sklearn's bookkeeping.

    2-D tables go through ``validate_data`` (``n_features_in_`` counts their
    columns, i.e. time steps; ``feature_names_in_`` for DataFrames); 3-D and
    ragged input count features per time step (channels for
    ``data_format='channels_first'``; a sktime/aeon ``pd-multiindex`` frame
    is read as ragged sequences, one per instance). With ``reset=False`` the
    features per step must match the fit. See
    :func:`~skrnn._sequences.data.to_sequences` for ``mask_value`` and ``data_format``.
    """
    # None: the layout skrnn's configuration or the input's producer says
    # (skrnn._sequences.config); guessed channels-last input that looks
    # transposed is an error there
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


def _is_tabular(X):
    """DataFrames, sparse matrices and rectangular 2-D arrays go through
    sklearn's ``validate_data`` (feature names, n_features_in_ checks)."""
    if isinstance(X, pd.DataFrame) or sp.issparse(X):
        return True
    if _is_ragged_container(X):
        return False
    return np.asarray(X).ndim == 2


def is_multiindex_frame(X):
    return isinstance(X, pd.DataFrame) and isinstance(X.index, pd.MultiIndex)


def to_channels_last(X, data_format, name="X"):
    """Return ``(X, layout)``: ``X`` in channels-last form (views where
    possible, never modified) and the layout outputs should mirror.

    ``layout`` is ``'channels_first'`` only when the input had a channel axis
    read channels first (a 3-D array or a list of 2-D arrays); univariate and
    2-D input have none.
    """
    check_data_format(data_format)
    if is_multiindex_frame(X):
        return from_multiindex(X, name), "channels_last"
    if data_format == "channels_last":
        return X, "channels_last"
    if isinstance(X, pd.Series):
        X = X.tolist()
    if isinstance(X, (list, tuple)) or (isinstance(X, np.ndarray) and X.dtype == object):
        items = list(X)
        if not items or np.ndim(items[0]) != 2:
            return items, "channels_last"
        out = []
        for i, x in enumerate(items):
            a = x.to_numpy() if isinstance(x, pd.DataFrame) else np.asarray(x)
            if a.ndim != 2:
                raise ValueError(
                    f"{name}[{i}] has shape {a.shape}; with data_format='channels_first' "
                    f"every sequence must be (n_channels, T_i) like {name}[0]."
                )
            out.append(a.T)
        return out, "channels_first"
    arr = X if isinstance(X, np.ndarray) else np.asarray(X)
    if arr.ndim == 3:
        return arr.transpose(0, 2, 1), "channels_first"
    return X, "channels_last"


def _is_ragged_container(X):
    """True for a list / 1-D object array / Series of per-sample arrays.

    A rectangular nested list of scalars is read as an array, like sklearn
    does; a list that holds arrays is always a list of sequences.
    """
    if isinstance(X, pd.Series):
        return True
    if isinstance(X, np.ndarray):
        return X.dtype == object and X.ndim == 1
    if isinstance(X, (list, tuple)):
        if any(isinstance(x, (np.ndarray, pd.DataFrame, pd.Series)) for x in X):
            return True
        try:
            arr = np.asarray(X)
        except ValueError:
            return True
        return arr.dtype == object
    return False


def _as_numeric(X, name, token_ids):
    """Convert to a float array (or int64 for token ids) with a clear error."""
    if isinstance(X, (pd.DataFrame, pd.Series)):
        X = X.to_numpy()
    if token_ids:
        arr = np.asarray(X)
        if arr.dtype.kind == "u" and arr.size and arr.max() > _MAX_TOKEN_ID:
            raise ValueError(_huge_id_message(name, arr.max()))
        if arr.dtype.kind in "iu":
            return arr.astype(np.int64, copy=False)
        if arr.dtype.kind == "b" or arr.dtype.kind not in "fO":
            raise TypeError(
                f"{name} must contain integer token ids because embedding_dim is "
                f"set; got dtype {arr.dtype}."
            )
        # float input is accepted when every real value is integral (NaN
        # padding makes padded token arrays float); checked after masking.
        try:
            return arr.astype(np.float64)
        except (TypeError, ValueError, OverflowError):
            raise TypeError(
                f"{name} must contain integer token ids because embedding_dim is "
                "set, but it holds values that are not numbers (e.g. strings); "
                "map symbols to integer ids first."
            ) from None
    kind = X.dtype.kind if isinstance(X, np.ndarray) else None
    if kind in ("c", "U", "S", "M", "m"):  # float64 would drop imaginary parts, parse text, count days
        raise TypeError(
            f"{name} must hold real numbers; got an array of dtype {X.dtype}. Convert "
            "it to a float array first."
        )
    try:
        return np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise type(exc)(
            f"{name} must be numeric (argument must be a string or a real number); {exc}"
        ) from exc


def _ragged_arrays(X, name, token_ids):
    """Per-sample 2-D numeric arrays (no copy of float arrays), shapes checked."""
    arrays = []
    n_features = None
    for i, x in enumerate(X):
        if sp.issparse(x):
            raise TypeError(f"{name}[{i}] is a sparse matrix; sequences must be dense arrays.")
        if isinstance(x, np.ndarray) and x.dtype.kind == "f" and not token_ids:
            a = x  # concatenated (copied) below
        else:
            a = _as_numeric(x, f"{name}[{i}]", token_ids)
        if a.ndim == 1:
            a = a[:, None]
        elif a.ndim != 2:
            raise ValueError(
                f"{name}[{i}] has shape {a.shape}; each sequence must be (T_i,) or "
                "(T_i, n_features)."
            )
        if n_features is None:
            n_features = a.shape[1]
            if n_features == 0:
                raise ValueError(f"{name}[{i}] has 0 features; at least one is required.")
        elif a.shape[1] != n_features:
            hint = channels_first_hint(arrays[0].shape, a.shape, name)
            raise ValueError(
                f"{name}[{i}] has {a.shape[1]} features, {name}[0] has {n_features}; "
                f"all sequences need the same number of features.{hint}"
            )
        if a.shape[0] == 0:
            raise ValueError(
                f"{name}[{i}] is an empty sequence; every sequence needs at least "
                "one time step."
            )
        arrays.append(a)
    return arrays


def _as_array_if_array_like(X):
    """Other array-likes (memory maps, wrappers) as plain arrays."""
    if isinstance(X, (list, tuple, np.ndarray, pd.Series, pd.DataFrame)) or sp.issparse(X):
        return X
    return np.asarray(X) if hasattr(X, "__array__") else X


# ------------------------------------------------------------ layout marks
# id(output) -> (weak reference to its first array, layout): what a skrnn
# transformer said of the 3-D array or list it returned (see
# skrnn._sequences.config for the order in which the layout is decided)
_marks = {}
_marks_lock = threading.Lock()


# ------------------------------------------------------------ layout marks
def _anchor(obj):
    if isinstance(obj, np.ndarray):
        return obj
    if isinstance(obj, list) and obj and isinstance(obj[0], np.ndarray):
        return obj[0]
    return None


def mark_layout(out, layout):
    """Record that ``out`` (a 3-D array or list of 2-D arrays a skrnn
    transformer returns) is in ``layout``. Returns ``out``."""
    anchor = _anchor(out)
    if anchor is None or np.ndim(anchor) != (3 if anchor is out else 2):
        return out
    key = id(out)

    def forget(_, key=key):
        _marks.pop(key, None)

    with _marks_lock:
        _marks[key] = (weakref.ref(anchor, forget), layout)
    return out


def marked_layout(X):
    """The layout a skrnn transformer recorded for ``X``, or None."""
    entry = _marks.get(id(X))
    if entry is None:
        return None
    ref, layout = entry
    anchor = _anchor(X)
    return layout if anchor is not None and ref() is anchor else None


# ------------------------------------------------------------- resolution
def resolve_data_format(estimator, X, data_format, *, reset):
    """The layout ``estimator`` reads ``X`` in, and whether it was guessed.

    Returns ``(data_format, guessed)``; ``guessed`` is True when nothing said
    the layout (no parameter, mark, configuration or fitted layout), so that
    input looking transposed is an error. With ``reset=True`` the layout is
    kept on the estimator for later calls.
    """
    guessed = False
    if data_format is None:
        data_format = marked_layout(X)
    if data_format is None and not reset:
        data_format = getattr(estimator, "_resolved_data_format", None)
    if data_format is None:
        data_format = get_config()["data_format"]
    if data_format is None:
        data_format = estimator.__dict__.get("_cloned_config", {}).get("data_format")
    if data_format is None:
        data_format, guessed = "channels_last", True
    if reset and estimator is not None:
        estimator._resolved_data_format = data_format
    return data_format, guessed


def fitted_data_format(estimator):
    """The layout an estimator's parameter or its fit settled on."""
    if getattr(estimator, "data_format", None) is not None:
        return estimator.data_format
    return resolve_data_format(estimator, None, None, reset=False)[0]
