"""The numpydoc descriptions of the parameters the recurrent estimators
share, written once and filled into each estimator's class docstring, so
``help()`` shows every parameter with its description.

A class docstring holds the line ``{parameters}`` (indented like the
section) where its Parameters section goes; :func:`fill_parameters` replaces
it with the shared entries, overridden or extended per estimator.
"""

SHARED_PARAMETERS = {
    "cell": (
        "{'lstm', 'gru', 'rnn'}, default='lstm'",
        "Recurrent cell. ``'rnn'`` is the vanilla (Elman) cell.",
    ),
    "hidden_size": ("int, default=64", "Units per layer and direction."),
    "num_layers": ("int, default=1", "Stacked recurrent layers."),
    "bidirectional": (
        "bool, default=False",
        "Also read each sequence backwards (within its own length).",
    ),
    "dropout": ("float, default=0.0", "Dropout between stacked layers."),
    "nonlinearity": (
        "{'tanh', 'relu'}, default='tanh'",
        "Activation of the vanilla ``'rnn'`` cell.",
    ),
    "embedding_dim": (
        "int, default=None",
        "When set, ``X`` holds integer token ids that go through an "
        "``nn.Embedding`` of this size first. Ids unseen in ``fit`` share one "
        '"unknown" embedding.',
    ),
    "mask_value": (
        "float or None, default=np.nan",
        "A time step whose features all equal ``mask_value`` is skipped wherever "
        "it sits (Keras' Masking): padding at either end, or a missing reading "
        "in the middle, with the recurrent state carried over it. A step with "
        "only some features equal to it (e.g. one NaN feature) is an error. "
        "``None`` disables masking; ``0.0`` reads Keras-style zero padding.",
    ),
    "data_format": (
        "{'channels_last', 'channels_first'}, default='channels_last'",
        "Layout of 3-D array and list input: ``(n_samples, n_timesteps, "
        "n_features)`` / ``(T_i, n_features)`` (Keras), or ``(n_samples, "
        "n_channels, n_timesteps)`` / ``(n_channels, T_i)``, the layout of aeon "
        "and sktime (e.g. ``load_classification`` output). 2-D input is "
        "univariate either way; sktime/aeon ``pd-multiindex`` DataFrames are "
        "read one sequence per instance. Per-step outputs come back in the "
        "input's layout. Channels-last input with ten times more features than "
        "steps warns.",
    ),
    "pooling": (
        "{'last', 'mean', 'max', 'attention'}, default='last'",
        "How per-step outputs become one vector per sequence, over real steps "
        "only. ``'last'`` takes each sequence's own last step (and step 0 of "
        "the backward direction); ``'attention'`` learns a weighting of the steps.",
    ),
    "optimizer": (
        "{'adam', 'sgd', 'rmsprop'} or torch.optim.Optimizer subclass, default='adam'",
        "Optimizer of the network's weights; a class is called as "
        "``optimizer(params, lr=learning_rate_init, weight_decay=alpha)``.",
    ),
    "learning_rate_init": (
        "float, default=1e-3",
        "Learning rate of the optimizer.",
    ),
    "lr_schedule": (
        "{'constant', 'cosine', 'onecycle', 'plateau'} or torch.optim.lr_scheduler "
        "class, default='constant'",
        "Learning-rate schedule over ``max_iter`` epochs (the current rate is in "
        "``lr_curve_`` and in the callbacks' ``logs['lr']``). ``'cosine'``: linear "
        "warm-up over the first 5 % of the batches (``lr_schedule_params``: "
        "``warmup``, ``warmup_start_factor=0.01``, ``eta_min=0``) then cosine "
        "annealing to ``eta_min``, stepped per batch; ``'onecycle'``: torch's "
        "``OneCycleLR(max_lr=learning_rate_init)``, per batch; ``'plateau'``: "
        "``ReduceLROnPlateau(factor=0.5, patience=5)`` on the validation loss with "
        "early stopping, else the training loss, per epoch. A "
        "``torch.optim.lr_scheduler`` class is built as ``cls(optimizer, "
        "**lr_schedule_params)`` and stepped per epoch (``OneCycleLR`` and "
        "``CyclicLR`` per batch; ``lr_schedule_params['interval']`` = ``'epoch'`` "
        "or ``'batch'`` overrides). A ``warm_start`` fit starts its schedule anew "
        "from ``learning_rate_init``; ``partial_fit`` trains at a constant "
        "``learning_rate_init``. The stopping rule may end a schedule early: use "
        "``n_iter_no_change=max_iter`` to run it to its end. Default measured "
        "on seven data sets: at a fixed budget constant 3e-3 is as good as cosine.",
    ),
    "lr_schedule_params": (
        "dict or None, default=None",
        "Keyword arguments of the schedule (see ``lr_schedule``), e.g. "
        "``{'warmup': 0.1}`` for ``'cosine'`` or ``{'step_size': 10}`` for "
        "``torch.optim.lr_scheduler.StepLR``.",
    ),
    "alpha": ("float, default=0.0", "L2 penalty (the optimizer's weight decay)."),
    "batch_size": (
        "int, default=32",
        "Sequences per mini-batch; batches group sequences of similar length.",
    ),
    "max_iter": ("int, default=100", "Maximum number of epochs."),
    "shuffle": (
        "bool, default=True",
        "Shuffle samples (and the order of the length-grouped batches) each epoch.",
    ),
    "clip_grad_norm": (
        "float or None, default=1.0",
        "Clip the gradient norm to this value; ``None`` disables clipping.",
    ),
    "tbptt_steps": (
        "int, default=None",
        "Truncated backpropagation through time: carry the state across "
        "chunks of this many steps but cut the gradient between them. Needs "
        "``bidirectional=False`` and ``pooling='last'``; ``None`` backpropagates "
        "through whole sequences.",
    ),
    "early_stopping": (
        "bool, default=False",
        "Hold out a validation split (see ``validation_fraction``), stop when "
        "its loss (see ``early_stopping_monitor``) stops improving and restore "
        "the weights of its best epoch.",
    ),
    "validation_fraction": (
        "float, default=0.1",
        "Share of the training data held out for early stopping; the split "
        "holds at least 20 samples (and one per class): ``max(ceil(fraction * "
        "n_samples), n_classes, 20)``. Fewer than that for training (under 40 "
        "samples) is an error: a smaller split's curve is noise.",
    ),
    "early_stopping_monitor": (
        "{'loss', 'score'}, default='loss'",
        "What early stopping watches: the validation loss (smooth even on a few "
        "dozen samples), or the validation score (accuracy, R^2, exact match; "
        "it moves in steps on small splits and stops too early).",
    ),
    "n_iter_no_change": (
        "int, default=10",
        "Stop after this many epochs in a row without an improvement of at "
        "least ``tol`` of the monitored value (the validation loss or score "
        "with early stopping, else the training loss). Epochs whose training "
        "loss is above 0.9 x the loss of a constant predictor (class-prior "
        "cross-entropy; target variance) do not count: a network that has not "
        "left that plateau has not converged. With early stopping on small "
        "data, 20 stops less early (measured). ``n_iter_no_change >= max_iter`` "
        "runs every epoch.",
    ),
    "tol": (
        "float, default=1e-4",
        "Smallest decrease of the monitored loss (or increase of the score) "
        "that counts as an improvement, in absolute terms.",
    ),
    "device": (
        "{'auto', 'cpu', 'cuda'} or torch.device, default='auto'",
        "Where the network trains and predicts; ``'auto'`` uses CUDA when available.",
    ),
    "n_threads": (
        "int or None, default=1",
        "Torch intra-op threads while this estimator fits and predicts "
        "(``torch.set_num_threads``, process-wide; the previous count is restored "
        "afterwards). One thread is the fastest for the small recurrent networks "
        "skrnn trains and keeps results independent of the machine's cores and "
        "of ``GridSearchCV(n_jobs=...)``; raise it for large networks on an idle "
        "machine. ``None`` leaves torch's setting alone.",
    ),
    "random_state": (
        "int, RandomState instance or None, default=None",
        "Seeds weight initialisation, shuffling, dropout and the validation "
        "split. Runs on the CPU with a fixed seed are identical.",
    ),
    "verbose": ("int, default=0", "Show a progress bar with the loss when > 0."),
    "warm_start": (
        "bool, default=False",
        "Continue from the previous fit's weights (and optimizer state).",
    ),
    "callbacks": (
        "list or None, default=None",
        "Objects with any of ``on_fit_begin(estimator)``, "
        "``on_epoch_end(estimator, epoch, logs)`` (``logs``: ``epoch``, ``loss``, "
        "``lr``, and ``val_loss``, ``val_score`` with early stopping; returning "
        "True stops after that epoch) and ``on_fit_end(estimator)``; see "
        ":mod:`skrnn.callbacks` (``Checkpoint``, ``CSVLogger``, "
        "``MetricsLogger``). Cloned as deep copies; ``save`` stores "
        "``callbacks=None`` (with a warning), pickle keeps them.",
    ),
}


def _entry(name, kind, text, indent):
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(indent) + 4 + len(line) + 1 + len(word) > 79:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    body = "".join(f"{indent}    {ln}\n" for ln in lines)
    return f"{indent}{name} : {kind}\n{body}"


def fill_parameters(overrides=None, extra=None):
    """Class decorator: put the shared parameter entries (updated with
    ``overrides``, then ``extra`` appended; both ``{name: (type, text)}``) in
    place of the ``{parameters}`` line of the class docstring."""

    def decorate(cls):
        entries = {**SHARED_PARAMETERS, **(overrides or {}), **(extra or {})}
        lines = cls.__doc__.split("\n")
        at = next(i for i, ln in enumerate(lines) if ln.strip() == "{parameters}")
        indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
        section = "".join(_entry(n, k, t, indent) for n, (k, t) in entries.items())
        lines[at] = section.rstrip("\n")
        cls.__doc__ = "\n".join(lines)
        return cls

    return decorate
