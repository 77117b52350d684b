"""One engine run of a fit, put together from the estimator's parameters:
the stopping rule (:mod:`skrnn._stopping`), the learning-rate schedule
(:mod:`skrnn._schedules`), the validation loss and score, and the callbacks
(:mod:`skrnn.callbacks`); and the warning of a fit that ended at the level
of a constant predictor."""


from sklearn.exceptions import ConvergenceWarning

from . import _engine, _schedules, _stopping, _warnings
from . import callbacks as _callbacks


def run(est, module, optimizer, train, val, cfg, baseline, *, continuing, incremental):
    """Train ``module`` for ``est`` and return the engine's ``FitHistory``
    (with ``at_plateau`` set). ``baseline``: the constant predictor's loss,
    or None (no plateau floor). partial_fit (``incremental``) trains one
    epoch at a constant learning rate."""
    floor = None if baseline is None else _stopping.PLATEAU_FRACTION * baseline
    stopper = _stopping.Stopper(
        tol=est.tol, n_iter_no_change=est.n_iter_no_change,
        monitor=est.early_stopping_monitor, floor=floor,
    )
    schedule = _schedules.make_schedule(
        "constant" if incremental else est.lr_schedule, est.lr_schedule_params, optimizer,
        lr=est.learning_rate_init, epochs=est.max_iter,
        steps_per_epoch=-(-train.n_samples // est.batch_size),
    )
    val_eval = None
    if val is not None:
        def val_eval(model, data):
            return {"val_loss": _engine.validation_loss(model, data, cfg),
                    "val_score": float(est._task.validation_score(est, model, data))}
    # epochs count over the estimator's life, like n_iter_
    offset = est.n_iter_ if continuing and hasattr(est, "n_iter_") else 0

    def on_epoch(logs):
        logs = {**logs, "epoch": offset + logs["epoch"]}
        return _callbacks.call(est.callbacks, "on_epoch_end", est, logs["epoch"], logs)

    est._training_module = module  # for skrnn.callbacks.training_module
    try:
        _callbacks.call(est.callbacks, "on_fit_begin", est)
        history = _engine.fit_module(
            module, optimizer, train, cfg, val=val, val_score=val_eval,
            epochs=1 if incremental else None, stopper=stopper, schedule=schedule,
            on_epoch=on_epoch if est.callbacks else None,
        )
    finally:
        del est._training_module
    history.at_plateau = floor is not None and not history.final_loss < floor
    return history


def warn_if_plateau(est, history, baseline, incremental):
    """Warn when a fit (not a partial_fit epoch) ended with the training loss
    of its kept weights at the level of a constant predictor."""
    # an interrupt already warns what the model holds
    if incremental or not history.at_plateau or not history.n_iter or history.interrupted:
        return
    how = (
        "stopped by a callback" if history.stopped_by_callback
        else "early stopping" if history.converged
        else f"max_iter={est.max_iter} reached"
    )
    _warnings.warn(
        _stopping.plateau_message(type(est).__name__, history.final_loss, baseline, how),
        ConvergenceWarning,
    )
