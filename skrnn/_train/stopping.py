"""When training stops: the stopping rule on the training loss or the
validation loss/score, the plateau floor that keeps it from mistaking a
network that has not started learning for one that has converged, and the
size of the early-stopping validation split.

The *plateau floor* is ``PLATEAU_FRACTION`` times the loss of the best
constant predictor on the training targets (``L0``: the class-prior
cross-entropy for classification, the target variance for squared-error
regression, both weighted by the sample weights). While the training loss
is above it, no epoch counts towards ``n_iter_no_change``: a network still
predicting the class frequencies has not converged, whatever its loss curve
does. Measured on eight development data sets (studies/results_defaults.md
section 1): the floor removes every premature plateau stop and changes no
stop on the data sets that learn.
"""

import math

import numpy as np

from .. import _warnings
from .engine import _snapshot

#: no stop is counted while the training loss exceeds this share of ``L0``;
#: a fit ending at or above it warns.
PLATEAU_FRACTION = 0.9
#: the smallest early-stopping validation split (fewer samples give a curve
#: that is noise: studies/results_defaults.md section 2)
MIN_VALIDATION = 20


def class_prior_loss(targets, weights, n_classes):
    """Cross-entropy of the constant predictor that outputs the (weighted)
    class frequencies of ``targets`` (class ids)."""
    counts = np.bincount(targets, weights=weights, minlength=n_classes)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def variance_loss(values, weights):
    """Mean squared error of the constant predictor that outputs the
    (weighted) mean of ``values`` (n_rows, n_outputs), averaged over outputs
    as the regression loss is."""
    values = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        return None
    mean = np.average(values, axis=0, weights=w)
    return float(np.average(((values - mean) ** 2).mean(-1), weights=w))


def validation_size(n_samples, fraction, n_classes=0):
    """Samples held out for early stopping: ``max(ceil(fraction * n),
    n_classes, MIN_VALIDATION)``; None, with a warning, when that would
    leave fewer samples for training than for validation (a small
    cross-validation fold): the fit then trains without a validation split,
    stopping on the training loss, instead of failing the search."""
    n_val = max(int(math.ceil(fraction * n_samples)), n_classes, MIN_VALIDATION)
    if n_samples - n_val < n_val:
        _warnings.warn(
            f"early_stopping=True needs a validation set of at least {n_val} samples "
            f"(max(ceil(validation_fraction * n_samples), n_classes, {MIN_VALIDATION})) and "
            f"at least as many for training, but there are {n_samples} samples "
            f"(at least {2 * n_val} are needed); a smaller validation split gives a curve "
            "that is noise, so this fit trains on all samples without early stopping "
            "(stopping on the training loss: tol, n_iter_no_change, max_iter). Set "
            "early_stopping=False to silence this warning, or pass more samples.",
            UserWarning,
        )
        return None
    return n_val


class Stopper:
    """The stopping rule of one fit.

    Without validation data: stop after ``n_iter_no_change`` epochs whose
    training loss did not improve on the best by at least ``tol``. With
    validation data: the same on the validation loss (``monitor='loss'``) or
    on the validation score (``monitor='score'``, higher is better), and the
    weights of the best epoch are kept. Either way no epoch counts while the
    training loss is above ``floor`` (the plateau floor; None: no floor).
    ``tol=None`` switches the rule off.
    """

    def __init__(self, *, tol, n_iter_no_change, monitor="loss", floor=None):
        self.tol = tol
        self.patience = n_iter_no_change
        self.monitor = monitor
        self.floor = floor
        self.no_improvement = 0
        self.best_loss = math.inf
        self.best_val = math.inf  # lower is better (the score is negated)
        self.best_state = None
        self.best_train_loss = None  # training loss of the kept weights

    def update(self, model, loss, val_loss=None, val_score=None):
        """Record epoch results; True when training should stop (never with
        ``tol=None``: every epoch runs, the best validation weights are still
        kept)."""
        tol = 0.0 if self.tol is None else self.tol
        if val_loss is None and val_score is None:
            improved = loss < self.best_loss - tol
        else:
            value = val_loss if self.monitor == "loss" else -val_score
            improved = value < self.best_val - tol
            if value < self.best_val:
                self.best_val = value
                self.best_state = _snapshot(model.state_dict())
                self.best_train_loss = loss
        self.best_loss = min(self.best_loss, loss)
        on_plateau = self.floor is not None and loss > self.floor
        self.no_improvement = 0 if (improved or on_plateau) else self.no_improvement + 1
        return self.tol is not None and self.no_improvement >= self.patience


def plateau_message(name, loss, baseline, how):
    """The warning of a fit that ended at the level of a constant predictor."""
    return (
        f"{name}: training ended ({how}) with a training loss of {loss:.4g}, at or above "
        f"{PLATEAU_FRACTION} x the loss of a constant predictor ({baseline:.4g}, the class "
        "frequencies or the target mean): the network has not learned more than that "
        "and its predictions are likely no better than chance. Try more epochs "
        "(max_iter), another learning_rate_init (e.g. 3e-3) or lr_schedule, "
        "pooling='max' (for series of more than a few dozen steps), "
        "skrnn.preprocessing.SequencePatcher for long sequences (hundreds of steps), "
        "and scaled inputs (skrnn.preprocessing.SequenceScaler; TransformedTargetRegressor "
        "for regression targets)."
    )
