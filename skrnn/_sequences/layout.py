"""Data layouts: ``channels_last`` (n, T, F) and ``channels_first`` (n, C, T).

skrnn computes on channels-last sequences; this module turns the
channels-first layout of aeon and sktime (``(n_cases, n_channels,
n_timepoints)`` arrays, lists of ``(C, T_i)`` arrays) and their
``pd-multiindex`` frames into that layout, and refuses channels-last input that
looks transposed without being said to be channels last. numpy/pandas only.
"""

import numpy as np
import pandas as pd

__all__ = ["DATA_FORMATS", "check_data_format", "from_multiindex", "mirror", "warn_if_transposed"]

DATA_FORMATS = ("channels_last", "channels_first")

# channels-last input with at least this many times more "features" than
# steps is far more likely an aeon/sktime (n, C, T) array read the wrong way
# ((200, 3, 40): 13x; BasicMotions (80, 6, 100): 17x); patched sequences
# (SequencePatcher: T/P steps of P*C features) stay below it unless the
# patches are huge (ACSF1, P=50: 29 steps of 50, 1.7x).
_TRANSPOSED_RATIO = 10


def check_data_format(data_format):
    if data_format not in DATA_FORMATS:
        raise ValueError(
            f"data_format must be 'channels_last' (n_samples, n_timesteps, n_features) "
            f"or 'channels_first' (n_samples, n_channels, n_timesteps); got {data_format!r}."
        )


def warn_if_transposed(n_timesteps, n_features, name="X", guessed=False):
    """Refuse channels-last input that nothing said was channels last
    (``guessed``) when it has far more features than steps (a single step of
    10 or more features included): an aeon/sktime (n, C, T) array read the
    wrong way trains on the wrong layout. Input said to be channels last (a
    ``data_format`` parameter or setting, or the output of a skrnn
    transformer such as ``TimeSeriesWindower`` or ``SequencePatcher``) is
    never refused."""
    # one rule for both symptoms: (n, 1, T) univariate aeon data read
    # channels last is one step of T >= 10 "features"; a (n, 1, F) window of
    # a few features (TimeSeriesWindower(window=1)) is legitimate
    if not guessed or n_features < _TRANSPOSED_RATIO * n_timesteps:
        return
    what = (
        f"a single time step of {n_features} features" if n_timesteps == 1
        else f"{n_features} features per step but only {n_timesteps} steps"
    )
    raise ValueError(
        f"{name} read as channels last (n_samples, n_timesteps, n_features) has {what}; "
        "it looks like an aeon/sktime (n_samples, n_channels, n_timepoints) array, and "
        "no data_format was given. Say the layout once: "
        "skrnn.set_config(data_format='channels_first') (or "
        "'channels_last' if the layout above is right), or "
        "`with skrnn.config_context(data_format=...)`, or pass data_format=... to "
        "this step."
    )


def channels_first_hint(first_shape, shape, name="X"):
    """Extra text for a feature-count mismatch that a (C, T_i) list explains."""
    if len(first_shape) == 2 and len(shape) == 2 and first_shape[0] == shape[0]:
        return (
            f" Every sequence has {shape[0]} rows: this looks like a list of "
            f"channels-first (n_channels, T_i) arrays, as aeon's loaders return; pass "
            "data_format='channels_first' (or transpose each array to (T_i, n_channels))."
        )
    return ""


def mirror(out, layout):
    """Put a channels-last output (3-D array or list of 2-D arrays) in ``layout``."""
    if layout != "channels_first":
        return out
    if isinstance(out, list):
        return [o.T for o in out]
    return np.ascontiguousarray(out.transpose(0, 2, 1))


def from_multiindex(X, name="X"):
    """sktime/aeon ``pd-multiindex`` frame -> list of (T_i, n_channels) arrays.

    Rows are indexed by (instance, time), columns are channels; sequences
    come out one per instance, in the order instances first appear, each
    sorted by its time index.
    """
    if X.index.nlevels != 2:
        raise ValueError(
            f"{name} is a DataFrame with a {X.index.nlevels}-level MultiIndex; a "
            "pd-multiindex panel has exactly two levels (instance, time). Convert it "
            "with e.g. X.groupby(level=0).apply(lambda g: g.to_numpy()).tolist()."
        )
    if not X.index.is_unique:
        raise ValueError(
            f"{name} has duplicated (instance, time) index entries; each time point "
            "of an instance must appear once."
        )
    numeric = X.select_dtypes(include=["number", "bool"])
    if numeric.shape[1] != X.shape[1]:
        bad = [c for c in X.columns if c not in numeric.columns][:3]
        raise TypeError(
            f"{name} has non-numeric columns {bad}; a pd-multiindex panel must hold "
            "one numeric column per channel (nested 'nested_univ' frames are not "
            "supported: convert them to 'pd-multiindex' or numpy3D first)."
        )
    codes, _ = pd.factorize(X.index.get_level_values(0))
    time = X.index.get_level_values(1)
    order = np.lexsort((np.asarray(time.argsort().argsort()), codes))
    values = X.to_numpy(dtype=np.float64)[order]
    counts = np.bincount(codes)
    return np.split(values, np.cumsum(counts)[:-1])
