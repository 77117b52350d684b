"""Callbacks: hooks into the training loop of :class:`~skrnn.RNNClassifier`,
:class:`~skrnn.RNNRegressor` and :class:`~skrnn.Seq2SeqTransformer`
(parameter ``callbacks``, a list).

The protocol is three optional methods; an object may define any of them:

- ``on_fit_begin(estimator)``: before the first epoch of ``fit`` /
  ``partial_fit``;
- ``on_epoch_end(estimator, epoch, logs) -> bool or None``: after each epoch.
  ``epoch`` counts from 1 over the estimator's life (it continues across
  ``warm_start`` fits and ``partial_fit`` calls, like ``n_iter_``). ``logs``
  is a dict of floats: ``epoch``, ``loss`` (training loss), ``lr`` (the
  learning rate at the start of the epoch) and, with early stopping,
  ``val_loss`` and ``val_score`` (accuracy, R^2 or exact match). Returning
  ``True`` stops training after this epoch; ``n_iter_`` counts the epochs run;
- ``on_fit_end(estimator)``: after the last epoch, once the fitted attributes
  are set (``loss_curve_``, ``lr_curve_``, ``module_`` ...).

During a fit, :func:`training_module` gives the network being trained (the
estimator's ``module_`` is set only when the fit succeeds). An exception
raised by a callback ends the fit and leaves the estimator as it was before
it (``optuna.TrialPruned`` from a pruning callback, for instance).

Callbacks are parameters: ``clone`` (and so ``GridSearchCV``) gives each
clone deep copies, so state a callback keeps is per fit (a logger writing
to a file writes to the same path from every clone: give each its own file,
or use ``append=True``). They must be picklable for ``GridSearchCV(n_jobs>1)``
and pickle with the estimator. skrnn's safe model format
(:func:`skrnn.persistence.save`) runs no code on load, so it cannot hold arbitrary
objects: ``est.save(path)`` stores the estimator with ``callbacks=None``
and warns; ``skrnn.persistence.save(pipeline)`` of a pipeline holding callbacks refuses
(use pickle/joblib for those).
"""

import csv
import math
import os

import torch

__all__ = ["Callback", "Checkpoint", "CSVLogger", "MetricsLogger", "training_module"]


def training_module(estimator):
    """The ``torch.nn.Module`` being trained by ``estimator`` during a fit
    (in a callback), else the fitted ``module_``.

    Parameters
    ----------
    estimator : RNNClassifier, RNNRegressor or Seq2SeqTransformer
        An estimator being fitted, or a fitted one.

    Returns
    -------
    module : torch.nn.Module
        The network whose weights the current epoch trains.
    """
    module = getattr(estimator, "_training_module", None)
    return module if module is not None else estimator.module_


class Callback:
    """Base class with no-op hooks (subclassing it is optional: any object
    with some of the three methods works)."""

    def on_fit_begin(self, estimator):
        """Called before the first epoch.

        Parameters
        ----------
        estimator : RNNClassifier, RNNRegressor or Seq2SeqTransformer
            The estimator being fitted.
        """

    def on_epoch_end(self, estimator, epoch, logs):
        """Called after each epoch; return True to stop training.

        Parameters
        ----------
        estimator : RNNClassifier, RNNRegressor or Seq2SeqTransformer
            The estimator being fitted.
        epoch : int
            The epoch just run, counted from 1 over the estimator's life.
        logs : dict of str to float
            ``epoch``, ``loss``, ``lr`` and, with early stopping,
            ``val_loss`` and ``val_score``.

        Returns
        -------
        stop : bool or None
            True stops training after this epoch.
        """

    def on_fit_end(self, estimator):
        """Called after the last epoch, with the fitted attributes set.

        Parameters
        ----------
        estimator : RNNClassifier, RNNRegressor or Seq2SeqTransformer
            The estimator being fitted.
        """


def _monitor_value(monitor, logs):
    if monitor == "auto":
        monitor = "val_loss" if "val_loss" in logs else "loss"
    if monitor not in logs:
        raise ValueError(f"Checkpoint(monitor={monitor!r}) but the logs hold {sorted(logs)}.")
    value = logs[monitor]
    return -value if monitor == "val_score" else value


class Checkpoint(Callback):
    """Keep the best weights seen so far in a file.

    After each epoch whose monitored value is the best so far, the network's
    ``state_dict`` is written to ``path`` with ``torch.save`` (atomically:
    a temporary file then a rename; through a symbolic link to its target,
    keeping the replaced file's permissions). Read it back with :meth:`restore` or
    ``torch.load(path, weights_only=True)``.

    Parameters
    ----------
    path : str or path-like
        File the weights are written to.
    monitor : {'auto', 'loss', 'val_loss', 'val_score'}, default='auto'
        What "best" means: the lowest training loss (``'loss'``), the lowest
        validation loss, the highest validation score; ``'auto'`` uses the
        validation loss with early stopping, else the training loss.

    Attributes
    ----------
    best_epoch_ : int or None
        The epoch whose weights the file holds.
    best_value_ : float
        Its monitored value (negated for ``'val_score'``: lower is better).
    """

    def __init__(self, path, *, monitor="auto"):
        self.path = path
        self.monitor = monitor

    def on_fit_begin(self, estimator):
        """Forget the best epoch of an earlier fit.

        Parameters
        ----------
        estimator : RNNClassifier, RNNRegressor or Seq2SeqTransformer
            The estimator being fitted.
        """
        self.best_epoch_ = None
        self.best_value_ = math.inf

    def on_epoch_end(self, estimator, epoch, logs):
        """Write the weights when the monitored value is the best so far.

        Parameters
        ----------
        estimator : RNNClassifier, RNNRegressor or Seq2SeqTransformer
            The estimator being fitted.
        epoch : int
            The epoch just run, counted from 1 over the estimator's life.
        logs : dict of str to float
            ``epoch``, ``loss``, ``lr`` and, with early stopping,
            ``val_loss`` and ``val_score``.
        """
        value = _monitor_value(self.monitor, logs)
        if value < self.best_value_:
            self.best_value_, self.best_epoch_ = value, epoch
            _atomic_torch_save(training_module(estimator).state_dict(), os.fspath(self.path))

    def restore(self, estimator):
        """Load the checkpointed weights into the fitted ``estimator.module_``.

        Parameters
        ----------
        estimator : RNNClassifier, RNNRegressor or Seq2SeqTransformer
            A fitted estimator with the network the checkpoint was taken from.

        Returns
        -------
        estimator : RNNClassifier, RNNRegressor or Seq2SeqTransformer
            The same estimator, its weights replaced.
        """
        state = torch.load(os.fspath(self.path), map_location="cpu", weights_only=True)
        device = next(estimator.module_.parameters()).device
        estimator.module_.load_state_dict({k: v.to(device) for k, v in state.items()})
        return estimator


def _atomic_torch_save(obj, path):
    from .persistence._atomic import replace_file

    replace_file(path, lambda f: torch.save(obj, f))


class CSVLogger(Callback):
    """Write the logs of every epoch as one row of a CSV file.

    Parameters
    ----------
    path : str or path-like
        The CSV file; its columns are the keys of the first epoch's logs
        (``epoch, loss, lr`` and, with early stopping, ``val_loss, val_score``).
    append : bool, default=False
        Add to an existing file (continued fits, several clones) instead of
        starting a new one at each fit.
    """

    def __init__(self, path, *, append=False):
        self.path = path
        self.append = append

    def on_fit_begin(self, estimator):
        """Start a new file unless ``append``.

        Parameters
        ----------
        estimator : RNNClassifier, RNNRegressor or Seq2SeqTransformer
            The estimator being fitted.
        """
        path = os.fspath(self.path)
        self._header = self.append and os.path.exists(path) and os.path.getsize(path) > 0
        if not self.append:
            open(path, "w").close()

    def on_epoch_end(self, estimator, epoch, logs):
        """Append the epoch's logs as one row.

        Parameters
        ----------
        estimator : RNNClassifier, RNNRegressor or Seq2SeqTransformer
            The estimator being fitted.
        epoch : int
            The epoch just run, counted from 1 over the estimator's life.
        logs : dict of str to float
            ``epoch``, ``loss``, ``lr`` and, with early stopping,
            ``val_loss`` and ``val_score``.
        """
        with open(os.fspath(self.path), "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(logs))
            if not self._header:
                writer.writeheader()
                self._header = True
            writer.writerow(logs)


class MetricsLogger(Callback):
    """Keep the logs of every epoch in memory, in ``history_`` (a list of
    dicts), e.g. to plot them or hand them to a tracking service after the
    fit. Inside ``GridSearchCV`` each fit logs into its own copy."""

    def on_fit_begin(self, estimator):
        """Start ``history_`` on the first fit.

        Parameters
        ----------
        estimator : RNNClassifier, RNNRegressor or Seq2SeqTransformer
            The estimator being fitted.
        """
        if not hasattr(self, "history_"):
            self.history_ = []

    def on_epoch_end(self, estimator, epoch, logs):
        """Append a copy of the epoch's logs to ``history_``.

        Parameters
        ----------
        estimator : RNNClassifier, RNNRegressor or Seq2SeqTransformer
            The estimator being fitted.
        epoch : int
            The epoch just run, counted from 1 over the estimator's life.
        logs : dict of str to float
            ``epoch``, ``loss``, ``lr`` and, with early stopping,
            ``val_loss`` and ``val_score``.
        """
        self.history_.append(dict(logs))
