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
        "Hold out ``validation_fraction`` of the data, stop when its score "
        "stops improving and restore the best weights.",
    ),
    "validation_fraction": (
        "float, default=0.1",
        "Share of the training data held out for early stopping.",
    ),
    "n_iter_no_change": (
        "int, default=10",
        "Epochs without an improvement of at least ``tol`` (of the validation "
        "score with early stopping, else of the training loss) before stopping.",
    ),
    "tol": (
        "float, default=1e-4",
        "Smallest improvement of the loss or validation score that counts.",
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
