"""Learning-rate schedules: ``lr_schedule`` / ``lr_schedule_params`` turned
into torch's own ``torch.optim.lr_scheduler`` objects, and when to step them.

Named schedules (horizon: ``max_iter`` epochs of ``steps_per_epoch`` batches;
the stopping rule may end a fit earlier):

- ``'constant'``: no scheduler.
- ``'cosine'``: linear warm-up over the first ``warmup`` share of the steps
  (default 0.05), at most ``max_warmup_epochs`` epochs (default 10), from
  ``warmup_start_factor`` (default 0.01) x the learning rate, then cosine
  annealing to ``eta_min`` (default 0) -- ``LinearLR`` then
  ``CosineAnnealingLR`` in a ``SequentialLR``, stepped per batch. Up to
  ``max_iter=200`` (the default is 100) the cap changes nothing (5 % of 200
  epochs is 10); a large ``max_iter`` left to the stopping rule gets the full
  learning rate after 10 epochs instead of after 5 % of the budget, and a fit that stops
  early has run at close to the full rate (the cosine decays over the whole
  budget) rather than in a warm-up that never ended.
- ``'onecycle'``: ``OneCycleLR(max_lr=learning_rate_init)``, stepped per batch.
- ``'plateau'``: ``ReduceLROnPlateau(factor=0.5, patience=5)`` on the
  monitored loss (the validation loss with early stopping, else the training
  loss), stepped per epoch.

A ``torch.optim.lr_scheduler.LRScheduler`` subclass (or
``ReduceLROnPlateau``) is built as ``cls(optimizer, **lr_schedule_params)``
and stepped per epoch, except ``OneCycleLR`` and ``CyclicLR``, which are
stepped per batch (``OneCycleLR`` gets ``total_steps`` when not given);
``lr_schedule_params={"interval": "batch"}`` overrides the choice.
``ReduceLROnPlateau`` is stepped with the monitored loss.
"""

import torch
from torch.optim import lr_scheduler

NAMED = ("constant", "cosine", "onecycle", "plateau")
_PER_BATCH = (lr_scheduler.OneCycleLR, lr_scheduler.CyclicLR)
_DEFAULTS = {
    "cosine": {"warmup": 0.05, "max_warmup_epochs": 10, "warmup_start_factor": 0.01, "eta_min": 0.0},
    "onecycle": {},
    "plateau": {"factor": 0.5, "patience": 5},
    "constant": {},
}


def schedule_by_name(state):
    """An estimator's pickle/skops state with a torch scheduler class stored
    by name, so the safe format loads it without importing code the file
    names."""
    schedule = state.get("lr_schedule")
    if is_scheduler_class(schedule) and getattr(lr_scheduler, schedule.__name__, None) is schedule:
        state["lr_schedule"], state["_lr_schedule_class"] = None, schedule.__name__
    return state


def schedule_from_name(state):
    """Undo :func:`schedule_by_name` (only torch's own scheduler classes)."""
    state = dict(state)
    name = state.pop("_lr_schedule_class", None)
    if name is not None:
        cls = getattr(lr_scheduler, str(name), None)
        if not is_scheduler_class(cls):
            raise ValueError(f"unknown learning-rate schedule {name!r} in the stored state")
        state["lr_schedule"] = cls
    return state


def is_scheduler_class(value):
    return isinstance(value, type) and issubclass(
        value, (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau)
    )


def check_schedule(schedule, params):
    """A clear error for an unusable ``lr_schedule`` / ``lr_schedule_params``."""
    if not (schedule in NAMED or is_scheduler_class(schedule)):
        raise ValueError(
            f"lr_schedule must be one of {NAMED} or a torch.optim.lr_scheduler class "
            f"(e.g. torch.optim.lr_scheduler.StepLR); got {schedule!r}."
        )
    params = dict(params or {})
    interval = params.pop("interval", None)
    if interval not in (None, "epoch", "batch"):
        raise ValueError(f"lr_schedule_params['interval'] must be 'epoch' or 'batch'; got {interval!r}.")
    if isinstance(schedule, str):
        unknown = set(params) - set(_DEFAULTS[schedule]) - _torch_names(schedule)
        if unknown:
            raise ValueError(
                f"lr_schedule_params has {sorted(unknown)}, which lr_schedule={schedule!r} "
                f"does not take (it takes {sorted(set(_DEFAULTS[schedule]) | _torch_names(schedule))})."
            )
        if schedule == "cosine" and not 0 <= params.get("warmup", 0.05) < 1:
            raise ValueError("lr_schedule_params['warmup'] is the warm-up share of the steps: 0 <= warmup < 1.")
        cap = params.get("max_warmup_epochs", 10)
        if schedule == "cosine" and (isinstance(cap, bool) or not isinstance(cap, (int, float)) or not cap >= 0):
            raise ValueError("lr_schedule_params['max_warmup_epochs'] caps the warm-up in epochs: a number "
                             f">= 0; got {cap!r}.")


def _torch_names(schedule):
    import inspect

    cls = {"onecycle": lr_scheduler.OneCycleLR, "plateau": lr_scheduler.ReduceLROnPlateau}.get(schedule)
    if cls is None:
        return set()
    return set(inspect.signature(cls.__init__).parameters) - {"self", "optimizer", "max_lr", "total_steps",
                                                              "epochs", "steps_per_epoch"}


class Schedule:
    """One fit's scheduler and when it steps: :meth:`after_batch` after each
    optimizer step, :meth:`after_epoch` after each epoch with the monitored loss."""

    def __init__(self, scheduler=None, per_batch=False):
        self.scheduler = scheduler
        self.per_batch = per_batch

    def after_batch(self):
        if self.scheduler is not None and self.per_batch:
            self.scheduler.step()

    def after_epoch(self, monitored_loss):
        if self.scheduler is None or self.per_batch:
            return
        if isinstance(self.scheduler, lr_scheduler.ReduceLROnPlateau):
            self.scheduler.step(monitored_loss)
        else:
            self.scheduler.step()


def current_lr(optimizer):
    """The learning rate of the optimizer's first parameter group."""
    lr = optimizer.param_groups[0]["lr"]
    return float(lr.item() if torch.is_tensor(lr) else lr)


def make_schedule(schedule, params, optimizer, *, lr, epochs, steps_per_epoch):
    """The :class:`Schedule` of a fit of ``epochs`` epochs."""
    params = dict(params or {})
    interval = params.pop("interval", None)
    total = max(1, epochs * steps_per_epoch)
    if schedule == "constant":
        return Schedule()
    if schedule == "cosine":
        opts = {**_DEFAULTS["cosine"], **params}
        warm = min(round(opts["warmup"] * total), round(opts["max_warmup_epochs"] * steps_per_epoch))
        cosine = lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=max(1, total - warm), eta_min=opts["eta_min"]
        )
        if warm == 0:
            return Schedule(cosine, per_batch=True)
        warmup = lr_scheduler.LinearLR(
            optimizer, start_factor=opts["warmup_start_factor"], end_factor=1.0, total_iters=warm
        )
        return Schedule(
            lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[warm]), per_batch=True
        )
    if schedule == "onecycle":
        return Schedule(lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total, **params), True)
    if schedule == "plateau":
        return Schedule(lr_scheduler.ReduceLROnPlateau(optimizer, **{**_DEFAULTS["plateau"], **params}))
    if issubclass(schedule, lr_scheduler.OneCycleLR):
        params.setdefault("max_lr", lr)
        if not {"total_steps", "epochs"} & set(params):
            params["total_steps"] = total
    try:
        scheduler = schedule(optimizer, **params)
    except TypeError as exc:
        raise ValueError(
            f"lr_schedule={schedule.__name__} cannot be built with lr_schedule_params="
            f"{params!r}: {exc}"
        ) from None
    per_batch = issubclass(schedule, _PER_BATCH) if interval is None else interval == "batch"
    return Schedule(scheduler, per_batch)
