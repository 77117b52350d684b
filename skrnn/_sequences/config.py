"""skrnn's global configuration: the data layout said once per program or
pipeline.

``skrnn.set_config(data_format="channels_first")`` (or ``with
skrnn.config_context(data_format=...)``) tells every skrnn step whose
``data_format`` parameter is left at ``None`` how its sequence input is laid
out. The layout a step uses is decided, in this order, by

1. its ``data_format`` parameter, when not None;
2. the layout of an array or list that a skrnn transformer returned (a
   ``SequenceScaler`` told ``channels_first`` returns channels-first
   output, ``TimeSeriesWindower`` and ``SequencePatcher`` of channels-last
   input return channels-last output): a step reading it follows it;
3. the configured ``data_format`` (``set_config`` / ``config_context``);
4. for a copy made by ``sklearn.base.clone`` (what ``GridSearchCV``,
   ``cross_validate`` and ``Pipeline`` fit), the configuration in force
   when the copy was made: this is how the setting reaches joblib's worker
   processes, where skrnn's configuration starts empty (scikit-learn sends
   its own configuration to workers through ``sklearn.utils.parallel``,
   which has no room for another library's keys);
5. otherwise ``'channels_last'``, and a 3-D array or list that then looks
   like an aeon/sktime ``(n_samples, n_channels, n_timepoints)`` panel is an
   error that names ``data_format``.

The layout resolved in ``fit`` is kept for ``transform`` / ``predict``.
The marks of step 2 and the resolution itself are read with the input, in
:mod:`skrnn._sequences.data` (``mark_layout``, ``resolve_data_format``).
The configuration is process-wide (``config_context`` sets it and restores
the previous value on exit): joblib dispatches a search's later tasks from
its own threads, which a thread-local setting would not reach.
numpy only.
"""

import contextlib
import copy
import threading


from .._home import public_home
from .layout import check_data_format

__all__ = ["get_config", "set_config", "config_context"]

_DEFAULTS = {"data_format": None}
_config = dict(_DEFAULTS)
_lock = threading.RLock()

# id(output) -> (weak reference to the output or its first sequence, layout)


@public_home("skrnn")
def get_config():
    """Current skrnn configuration.

    Returns
    -------
    config : dict
        ``{'data_format': None | 'channels_last' | 'channels_first'}``;
        ``None`` means not set.

    See Also
    --------
    set_config : Set the configuration.
    config_context : Set it for a block of code.

    Examples
    --------
    >>> import skrnn
    >>> skrnn.get_config()
    {'data_format': None}
    """
    with _lock:
        return dict(_config)


@public_home("skrnn")
def set_config(data_format=None):
    """Set skrnn's configuration (process-wide).

    Parameters
    ----------
    data_format : {'channels_last', 'channels_first'} or None, default=None
        Layout of the sequence input of every skrnn step whose own
        ``data_format`` parameter is None (the default): ``'channels_last'``
        ``(n_samples, n_timesteps, n_features)`` / ``(T_i, n_features)``,
        or ``'channels_first'`` ``(n_samples, n_channels, n_timesteps)`` /
        ``(n_channels, T_i)`` as aeon and sktime give them. None leaves the
        setting unchanged; to forget it, use :func:`config_context` or
        ``set_config(**previous)`` with a value returned by
        :func:`get_config`.

    See Also
    --------
    config_context : Set it for a block of code only.

    Examples
    --------
    >>> import skrnn
    >>> previous = skrnn.get_config()
    >>> skrnn.set_config(data_format="channels_first")
    >>> skrnn.get_config()["data_format"]
    'channels_first'
    >>> skrnn._sequences.config._reset(previous)
    """
    if data_format is not None:
        check_data_format(data_format)
        with _lock:
            _config["data_format"] = data_format


def _reset(config):
    """Restore a configuration returned by :func:`get_config` (None values
    included)."""
    with _lock:
        _config.clear()
        _config.update({**_DEFAULTS, **config})


@public_home("skrnn")
@contextlib.contextmanager
def config_context(*, data_format=None):
    """Set skrnn's configuration within a ``with`` block, restoring the
    previous one on exit.

    Parameters
    ----------
    data_format : {'channels_last', 'channels_first'} or None, default=None
        See :func:`set_config`. None keeps the current value.

    Yields
    ------
    None

    Examples
    --------
    >>> import numpy as np
    >>> import skrnn
    >>> X = np.zeros((4, 3, 40))  # aeon's (n_cases, n_channels, n_timepoints)
    >>> with skrnn.config_context(data_format="channels_first"):
    ...     Xt = skrnn.SequenceScaler().fit_transform(X)
    >>> Xt.shape
    (4, 3, 40)
    """
    previous = get_config()
    set_config(data_format=data_format)
    try:
        yield
    finally:
        _reset(previous)


class ConfigCloneMixin:
    """Carries the configuration in force at ``sklearn.base.clone`` time
    on the clone, so that it reaches joblib's worker processes (see the
    module docstring). Only set values are carried; a parameter given to the
    estimator always wins."""

    def __sklearn_clone__(self):
        new = super().__sklearn_clone__()
        config = {k: v for k, v in get_config().items() if v is not None}
        inherited = self.__dict__.get("_cloned_config")
        if not config and inherited:
            config = dict(inherited)
        if config:
            new._cloned_config = copy.copy(config)
        return new

