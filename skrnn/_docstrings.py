"""Parameter descriptions shared by the recurrent estimators, written once.

:class:`~skrnn.RNNClassifier`, :class:`~skrnn.RNNRegressor` and
:class:`~skrnn.Seq2SeqTransformer` share most of their parameters. Each
shared parameter is described here once (:data:`SHARED_PARAMETERS`), and a
class docstring names it by a line holding only ``$name`` in its Parameters
section; :func:`shared_parameters`, a class decorator, replaces that line with
the numpydoc entry::

    name : <type>, default=<the default of this class's __init__>
        <description>

The default is read from the class's explicit ``__init__`` signature, so each
class states its own default (the classifier's ``cell='gru'``, the
regressor's ``cell='lstm'``). A parameter whose meaning differs between the
estimators (``pooling``, most of the sequence-to-sequence encoder's) is
written out in that class's docstring instead. ``tests/estimators/test_docstrings.py``
checks every entry against the signature and ``_parameter_constraints``.

Descriptions say what a parameter does; why a default was chosen (the
measurements) lives in the user guide and ``studies/results_defaults.md``.
"""

from __future__ import annotations

import inspect
import math
import re
import textwrap

__all__ = ["SHARED_PARAMETERS", "format_default", "render_parameter", "shared_parameters"]

#: ``{name: (type, description)}`` of the parameters the estimators share.
SHARED_PARAMETERS = {
    "conv_channels": (
        "int, list of int, 'auto' or None",
        "Output channels of each block of the convolutional front end "
        "(``Conv1d`` -> batch normalisation -> ReLU per block), e.g. "
        "``[64, 64]`` for two blocks; ``None`` has no front end. ``'auto'`` "
        "builds three blocks of 64 channels when the training sequences' "
        "median length is at least 128 steps (and ``tbptt_steps`` is None), "
        "for :class:`~skrnn.RNNClassifier` also on univariate numeric "
        "sequences of a median length of at least 16 steps, "
        "none otherwise; ``front_end_`` holds what the fit built. Each sequence "
        "is convolved on its own real steps only, with zero padding at its own "
        "two ends (masked steps inside a sequence are removed first, as for the "
        "recurrent layer), and the normalisation statistics come from real "
        "steps only, so ragged, padded and masked input give the same result. "
        "See ``conv_mode``.",
    ),
    "conv_kernel_sizes": (
        "int, list of int or 'auto'",
        "Kernel size of each convolution block, or one for all of them; "
        "``'auto'``: 7, 5, then 3. "
        "Sequences shorter than a kernel work (their windows read the zero "
        "padding at their ends).",
    ),
    "conv_stride": (
        "int or 'auto'",
        "Stride of the first convolution block: a sequence of ``L`` real steps "
        "has ``ceil(L / conv_stride)`` afterwards, so the recurrent layer of "
        "``conv_mode='before'`` reads that many steps (faster on long series). "
        "``'auto'``: ``round(sqrt(L) / 4)`` for the median training length "
        "``L`` (4 for 250 steps, 10 for 1,500), 1 with per-step outputs.",
    ),
    "conv_mode": (
        "{'before', 'beside'}",
        "``'before'``: the convolution blocks feed the recurrent layer. "
        "``'beside'`` (LSTM-FCN): the recurrent layer reads the input and the "
        "blocks run beside it; their output, averaged over each sequence's "
        "real steps, is joined to the recurrent layer's pooled output before "
        "the last linear layer. The front end does not combine with "
        "``tbptt_steps``.",
    ),
    "cell": (
        "{'lstm', 'gru', 'rnn'}",
        "Recurrent cell: :class:`torch.nn.LSTM`, :class:`torch.nn.GRU` or the "
        "vanilla (Elman) :class:`torch.nn.RNN`.",
    ),
    "hidden_size": ("int", "Units per layer and direction."),
    "num_layers": ("int", "Stacked recurrent layers."),
    "bidirectional": (
        "bool",
        "Also read each sequence backwards (within its own length). "
        "``tbptt_steps`` needs ``bidirectional=False``.",
    ),
    "dropout": ("float", "Dropout between stacked layers."),
    "nonlinearity": ("{'tanh', 'relu'}", "Activation of the vanilla ``'rnn'`` cell."),
    "embedding_dim": (
        "int or None",
        "When set, ``X`` holds integer token ids that go through an "
        "``nn.Embedding`` of this size first. Ids unseen in ``fit`` share one "
        '"unknown" embedding.',
    ),
    "mask_value": (
        "float or None",
        "A time step whose features all equal ``mask_value`` is skipped wherever "
        "it sits (Keras' Masking): padding at either end, or a missing reading "
        "in the middle, with the recurrent state carried over it. A step with "
        "only some features equal to it (e.g. one NaN feature) is an error. "
        "``None`` disables masking; ``0.0`` reads Keras-style zero padding.",
    ),
    "data_format": (
        "{'channels_last', 'channels_first'} or None",
        "Layout of 3-D array and list input: ``(n_samples, n_timesteps, "
        "n_features)`` / ``(T_i, n_features)`` (Keras), or ``(n_samples, "
        "n_channels, n_timesteps)`` / ``(n_channels, T_i)``, the layout of aeon "
        "and sktime (e.g. ``load_classification`` output). 2-D input is "
        "univariate either way; sktime/aeon ``pd-multiindex`` DataFrames are "
        "read one sequence per instance. Per-step outputs come back in the "
        "input's layout. None (the default) follows the layout of a skrnn "
        "transformer's output, else ``skrnn.set_config(data_format=...)`` / "
        "``skrnn.config_context``, else reads channels last; channels-last "
        "input with ten times more features than steps is then an error that "
        "asks for ``data_format``.",
    ),
    "optimizer": (
        "{'adam', 'sgd', 'rmsprop'} or torch.optim.Optimizer subclass",
        "Optimizer of the network's weights; a class is called as "
        "``optimizer(params, lr=learning_rate_init, weight_decay=alpha)``.",
    ),
    "learning_rate_init": ("float", "Learning rate of the optimizer."),
    "lr_schedule": (
        "{'constant', 'cosine', 'onecycle', 'plateau'} or torch.optim.lr_scheduler class",
        "Learning-rate schedule over ``max_iter`` epochs (the current rate is in "
        "``lr_curve_`` and in the callbacks' ``logs['lr']``). ``'constant'``: "
        "``learning_rate_init`` throughout; ``'cosine'``: "
        "linear warm-up over the first 5 % of the batches, at most 10 epochs "
        "(``lr_schedule_params``: ``warmup``, ``max_warmup_epochs=10``, "
        "``warmup_start_factor=0.01``, ``eta_min=0``) then cosine annealing to "
        "``eta_min``, stepped per batch; "
        "``'onecycle'``: torch's ``OneCycleLR(max_lr=learning_rate_init)``, per "
        "batch; ``'plateau'``: ``ReduceLROnPlateau(factor=0.5, patience=5)`` on "
        "the validation loss with early stopping, else the training loss, per "
        "epoch. A ``torch.optim.lr_scheduler`` class is built as "
        "``cls(optimizer, **lr_schedule_params)`` and stepped per epoch "
        "(``OneCycleLR`` and ``CyclicLR`` per batch; "
        "``lr_schedule_params['interval']`` = ``'epoch'`` or ``'batch'`` "
        "overrides). A ``warm_start`` fit starts its schedule anew from "
        "``learning_rate_init``; ``partial_fit`` trains at a constant "
        "``learning_rate_init``. The stopping rule may end a schedule early: use "
        "``tol=None`` to run it to its end.",
    ),
    "lr_schedule_params": (
        "dict or None",
        "Keyword arguments of the schedule (see ``lr_schedule``), e.g. "
        "``{'warmup': 0.1}`` for ``'cosine'`` or ``{'step_size': 10}`` for "
        "``torch.optim.lr_scheduler.StepLR``.",
    ),
    "alpha": ("float", "L2 penalty (the optimizer's weight decay)."),
    "batch_size": (
        "int",
        "Sequences per mini-batch; batches group sequences of similar length.",
    ),
    "max_iter": ("int", "Maximum number of epochs."),
    "shuffle": (
        "bool",
        "Shuffle samples (and the order of the length-grouped batches) each epoch.",
    ),
    "clip_grad_norm": (
        "float or None",
        "Clip the gradient norm to this value; ``None`` disables clipping.",
    ),
    "tbptt_steps": (
        "int or None",
        "Truncated backpropagation through time: carry the state across chunks "
        "of this many steps but cut the gradient between them. Needs "
        "``bidirectional=False`` and ``pooling='last'``; ``None`` backpropagates "
        "through whole sequences.",
    ),
    "early_stopping": (
        "bool",
        "Hold out a validation split (see ``validation_fraction``; a "
        "classifier's is stratified when every class fits both sides), stop "
        "when its loss (or score, see ``early_stopping_monitor``) stops "
        "improving and restore the weights of its best epoch.",
    ),
    "validation_fraction": (
        "float",
        "Share of the training data held out for early stopping; the split holds "
        "at least 20 samples (and one per class): ``max(ceil(fraction * "
        "n_samples), n_classes, 20)``. With fewer than that left for training "
        "(under 40 samples, e.g. a small cross-validation fold) the fit warns "
        "and trains on every sample without early stopping: a smaller split's "
        "curve is noise.",
    ),
    "early_stopping_monitor": (
        "{'loss', 'score'}",
        "What early stopping watches: the validation loss (smooth even on a few "
        "dozen samples), or the validation score (accuracy, R^2, exact match; it "
        "moves in steps on small splits and stops too early).",
    ),
    "n_iter_no_change": (
        "int",
        "Stop after this many epochs in a row without an improvement of at least "
        "``tol`` of the monitored value (the validation loss or score with early "
        "stopping, else the training loss). Epochs whose training loss is above "
        "0.9 x the loss of a constant predictor (class-prior cross-entropy; "
        "target variance) do not count: a network that has not left that plateau "
        "has not converged. ``tol=None`` runs every epoch.",
    ),
    "tol": (
        "float or None",
        "Smallest decrease of the monitored loss (or increase of the score) that "
        "counts as an improvement, in absolute terms. ``None`` switches the "
        "stopping rule off: every one of the ``max_iter`` epochs runs (a fixed "
        "budget), without a ``ConvergenceWarning``; early stopping still "
        "restores the weights of the best validation epoch.",
    ),
    "device": (
        "{'auto', 'cpu', 'cuda'} or torch.device",
        "Where the network trains and predicts; ``'auto'`` uses CUDA when "
        "available.",
    ),
    "n_threads": (
        "int or None",
        "Torch intra-op threads while this estimator fits and predicts "
        "(``torch.set_num_threads`` of the calling thread, at most the machine's "
        "cores; that thread's previous count is restored afterwards). One thread keeps results independent of the "
        "machine's cores and of ``GridSearchCV(n_jobs=...)``; raise it for large "
        "networks on an idle machine. ``None`` leaves torch's setting alone.",
    ),
    "random_state": (
        "int, RandomState instance or None",
        "Seeds weight initialisation, shuffling, dropout and the validation "
        "split. Runs on the CPU with a fixed seed are identical.",
    ),
    "verbose": ("int", "Show a progress bar with the loss when > 0."),
    "warm_start": (
        "bool",
        "Continue from the previous fit's weights (and optimizer state).",
    ),
    "callbacks": (
        "list or None",
        "Objects with any of ``on_fit_begin(estimator)``, "
        "``on_epoch_end(estimator, epoch, logs)`` (``logs``: ``epoch``, "
        "``loss``, ``lr``, and ``val_loss``, ``val_score`` with early stopping; "
        "returning True stops after that epoch) and ``on_fit_end(estimator)``; "
        "see :mod:`skrnn.callbacks` (``Checkpoint``, ``CSVLogger``, "
        "``MetricsLogger``). Cloned as deep copies; ``save`` stores "
        "``callbacks=None`` (with a warning), pickle keeps them.",
    ),
}

_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)\$(?P<name>\w+)[ \t]*$", re.MULTILINE)


def format_default(value):
    """The ``default=...`` text of ``value``, as the docstrings write it.

    Parameters
    ----------
    value : object
        A default of an ``__init__`` signature.

    Returns
    -------
    text : str
        ``np.nan`` for NaN, small floats in short scientific form (``3e-3``),
        anything else as its ``repr``.
    """
    if isinstance(value, float):
        if math.isnan(value):
            return "np.nan"
        if value != 0 and abs(value) < 0.01:
            mantissa, exponent = f"{value:e}".split("e")
            return f"{float(mantissa):g}e{int(exponent)}"
    return repr(value)


def render_parameter(name, default, indent=""):
    """The numpydoc entry of shared parameter ``name`` with ``default``.

    Parameters
    ----------
    name : str
        A key of :data:`SHARED_PARAMETERS`.
    default : object
        The default of the class being documented.
    indent : str, default=''
        Indentation of the entry's first line; the description is indented
        four spaces more.

    Returns
    -------
    entry : str
        The type line and the wrapped description, without a final newline.
    """
    kind, description = SHARED_PARAMETERS[name]
    body = textwrap.fill(
        description, width=79, initial_indent=indent + "    ",
        subsequent_indent=indent + "    ", break_on_hyphens=False, break_long_words=False,
    )
    return f"{indent}{name} : {kind}, default={format_default(default)}\n{body}"


def shared_parameters(cls):
    """Class decorator: replace each ``$name`` line of ``cls.__doc__`` by the
    shared entry of parameter ``name`` with this class's default.

    Parameters
    ----------
    cls : type
        A class whose docstring names shared parameters as ``$name`` lines.

    Returns
    -------
    cls : type
        The same class, its ``__doc__`` filled in.

    Raises
    ------
    TypeError
        When a placeholder names no shared parameter, or a parameter that the
        class's ``__init__`` does not take.
    """
    signature = inspect.signature(cls.__init__).parameters
    if cls.__doc__ is None:  # docstrings stripped (python -OO)
        return cls

    def fill(match):
        name = match.group("name")
        if name not in SHARED_PARAMETERS:
            raise TypeError(
                f"{cls.__name__}'s docstring names ${name}, which is not a shared "
                f"parameter; known: {sorted(SHARED_PARAMETERS)}. Write its entry out "
                "in the docstring or add it to skrnn/_docstrings.py."
            )
        if name not in signature:
            raise TypeError(
                f"{cls.__name__}'s docstring names ${name}, but {cls.__name__}.__init__ "
                "takes no such parameter."
            )
        return render_parameter(name, signature[name].default, match.group("indent"))

    cls.__doc__ = _PLACEHOLDER.sub(fill, cls.__doc__)
    return cls
