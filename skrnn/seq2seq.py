"""Seq2SeqTransformer: a recurrent encoder-decoder with attention.

The estimator translates between the user's sequences (strings, token ids,
float vectors; ragged or padded) and the compact internal form; the
sequence-to-sequence task (:mod:`skrnn._seq2seq_task`) holds the targets,
the network, the loss and the decoding.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Literal, Optional

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_is_fitted

from . import _engine
from ._base import (
    BaseRNN,
    Cell,
    DeviceSpec,
    LRSchedule,
    Nonlinearity,
    OptimizerSpec,
    DataFormat,
    PoolingKind,
    RandomState,
    estimator_snapshot,
    store_params,
)
from ._compat import Interval, StrOptions, _fit_context
from ._seq2seq_task import (
    PREDICT_BATCH, Seq2SeqTask, decode, encode_inputs, max_output_length, read_targets,
)
from ._threads import torch_threads, with_torch_threads
from ._vocab import _lookup
from .plotting import save_attention_heatmap

__all__ = ["Seq2SeqTransformer", "save_attention_heatmap"]


class Seq2SeqTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseRNN):
    """Recurrent encoder-decoder (sequence to sequence) with attention.

    A (stacked, optionally bidirectional) RNN/LSTM/GRU encoder reads each
    input sequence; a decoder of the same cell writes the output sequence one
    step at a time, attending to the encoder's outputs at the real input steps
    (padding gets exactly zero weight). Inputs and outputs may be Python
    strings (a character vocabulary is learned in ``fit``), integer token ids,
    or float vector sequences; ragged or padded. This is a recurrent
    encoder-decoder, not the attention-only "Transformer" architecture: the
    name says it is a scikit-learn *transformer* (``transform`` gives the
    encoder's fixed-size representation).

    Parameters
    ----------
    cell : {'lstm', 'gru', 'rnn'}, default='lstm'
        Cell of the encoder and of the decoder.
    hidden_size : int, default=64
        Units per layer (and direction) of the encoder; units per layer of the
        decoder.
    num_layers : int, default=1
        Stacked layers of the encoder and of the decoder.
    bidirectional : bool, default=False
        Bidirectional encoder (the decoder is always left to right).
    dropout : float, default=0.0
        Dropout between stacked layers.
    nonlinearity : {'tanh', 'relu'}, default='tanh'
        Activation of the vanilla ``'rnn'`` cell.
    embedding_dim : int, default=None
        When set, numeric ``X`` holds integer token ids (one per step) that go
        through an embedding of this size. Strings and token outputs are always
        embedded; their embedding size is ``embedding_dim``, or ``hidden_size``
        when None.
    mask_value : float or None, default=np.nan
        Padding marker of padded array ``X`` (and ``y``): a step whose features
        all equal it is skipped wherever it sits (padding at either end or a
        missing step in the middle). ``None`` disables masking.
    data_format : {'channels_last', 'channels_first'}, default='channels_last'
        Layout of 3-D array and list input: ``(n_samples, n_timesteps,
        n_features)`` / ``(T_i, n_features)`` (Keras), or ``(n_samples,
        n_channels, n_timesteps)`` / ``(n_channels, T_i)``, the layout of aeon
        and sktime (e.g. ``load_classification`` output). 2-D input is
        univariate either way; sktime/aeon ``pd-multiindex`` DataFrames are
        read one sequence per instance. Per-step outputs come back in the
        input's layout. Channels-last input with ten times more features than
        steps warns.
    pooling : {'last', 'mean', 'max', 'attention'}, default='last'
        How the encoder's per-step outputs become the fixed-size representation
        returned by :meth:`transform`, which also initialises the decoder's
        state.
    optimizer : {'adam', 'sgd', 'rmsprop'} or torch.optim.Optimizer subclass, default='adam'
        Optimizer of the network's weights; a class is called as
        ``optimizer(params, lr=learning_rate_init, weight_decay=alpha)``.
    learning_rate_init : float, default=1e-3
        Learning rate of the optimizer.
    lr_schedule : {'constant', 'cosine', 'onecycle', 'plateau'} or torch.optim.lr_scheduler class, default='constant'
        Learning-rate schedule over ``max_iter`` epochs (the current rate is in
        ``lr_curve_`` and in the callbacks' ``logs['lr']``). ``'cosine'``:
        linear warm-up over the first 5 % of the batches, at most 10 epochs
        (``lr_schedule_params``: ``warmup``, ``max_warmup_epochs=10``,
        ``warmup_start_factor=0.01``, ``eta_min=0``) then cosine annealing to
        ``eta_min``, stepped per batch;
        ``'onecycle'``: torch's ``OneCycleLR(max_lr=learning_rate_init)``, per
        batch; ``'plateau'``: ``ReduceLROnPlateau(factor=0.5, patience=5)`` on
        the validation loss with early stopping, else the training loss, per
        epoch. A ``torch.optim.lr_scheduler`` class is built as
        ``cls(optimizer, **lr_schedule_params)`` and stepped per epoch
        (``OneCycleLR`` and ``CyclicLR`` per batch;
        ``lr_schedule_params['interval']`` = ``'epoch'`` or ``'batch'``
        overrides). A ``warm_start`` fit starts its schedule anew from
        ``learning_rate_init``; ``partial_fit`` trains at a constant
        ``learning_rate_init``. The stopping rule may end a schedule early: use
        ``tol=None`` to run it to its end. Default measured on
        seven data sets: at a fixed budget constant 3e-3 is as good as cosine.
    lr_schedule_params : dict or None, default=None
        Keyword arguments of the schedule (see ``lr_schedule``), e.g.
        ``{'warmup': 0.1}`` for ``'cosine'`` or ``{'step_size': 10}`` for
        ``torch.optim.lr_scheduler.StepLR``.
    alpha : float, default=0.0
        L2 penalty (the optimizer's weight decay).
    batch_size : int, default=32
        Sequence pairs per mini-batch, grouped by input length.
    max_iter : int, default=100
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle samples (and the order of the length-grouped batches) each
        epoch.
    clip_grad_norm : float or None, default=1.0
        Clip the gradient norm to this value; ``None`` disables clipping.
    tbptt_steps : None, default=None
        Not supported (attention reads the whole input); must stay None.
    early_stopping : bool, default=False
        Hold out a validation split of the pairs (see ``validation_fraction``)
        and stop when their teacher-forced loss (or, with
        ``early_stopping_monitor='score'``, the exact-match accuracy of greedy
        decoding; the negative loss for continuous outputs) stops improving;
        the best weights are restored. Seq2Seq fits have no plateau floor (no
        constant predictor marks 'nothing learned' for sequence outputs).
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping; the split holds
        at least 20 samples (and one per class): ``max(ceil(fraction *
        n_samples), n_classes, 20)``. Fewer than that for training (under 40
        samples) is an error: a smaller split's curve is noise.
    early_stopping_monitor : {'loss', 'score'}, default='loss'
        What early stopping watches: the validation loss (smooth even on a few
        dozen samples), or the validation score (accuracy, R^2, exact match; it
        moves in steps on small splits and stops too early).
    n_iter_no_change : int, default=10
        Stop after this many epochs in a row without an improvement of at least
        ``tol`` of the monitored value (the validation loss or score with early
        stopping, else the training loss). Epochs whose training loss is above
        0.9 x the loss of a constant predictor (class-prior cross-entropy;
        target variance) do not count: a network that has not left that plateau
        has not converged. With early stopping on small data, 20 stops less
        early (measured). ``tol=None`` runs every epoch.
    tol : float or None, default=1e-4
        Smallest decrease of the monitored loss (or increase of the score) that
        counts as an improvement, in absolute terms. ``None`` switches the
        stopping rule off: every one of the ``max_iter`` epochs runs (a fixed
        budget, as with ``lr_schedule='cosine'``), without a
        ``ConvergenceWarning``; early stopping still restores the weights of
        the best validation epoch.
    device : {'auto', 'cpu', 'cuda'} or torch.device, default='auto'
        Where the network trains and predicts; ``'auto'`` uses CUDA when
        available.
    n_threads : int or None, default=1
        Torch intra-op threads while this estimator fits and predicts
        (``torch.set_num_threads`` of the calling thread, at most the
        machine's cores; that thread's previous count is restored afterwards). One thread is the fastest for the small recurrent
        networks skrnn trains and keeps results independent of the machine's
        cores and of ``GridSearchCV(n_jobs=...)``; raise it for large networks
        on an idle machine. ``None`` leaves torch's setting alone.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout, teacher forcing and the
        validation split; CPU runs with a fixed seed are identical.
    verbose : int, default=0
        Show a progress bar with the loss when > 0.
    warm_start : bool, default=False
        Continue from the previous fit's weights and vocabularies.
    callbacks : list or None, default=None
        Objects with any of ``on_fit_begin(estimator)``,
        ``on_epoch_end(estimator, epoch, logs)`` (``logs``: ``epoch``,
        ``loss``, ``lr``, and ``val_loss``, ``val_score`` with early stopping;
        returning True stops after that epoch) and ``on_fit_end(estimator)``;
        see :mod:`skrnn.callbacks` (``Checkpoint``, ``CSVLogger``,
        ``MetricsLogger``). Cloned as deep copies; ``save`` stores
        ``callbacks=None`` (with a warning), pickle keeps them.
    attention : {'bahdanau', 'luong'} or None, default='bahdanau'
        ``'bahdanau'``: additive attention with the previous decoder state, the
        context is fed into the cell. ``'luong'``: multiplicative ("general")
        attention with the current state and input feeding. ``None``: the
        decoder sees the input only through its initial state.
    teacher_forcing : float, default=1.0
        Probability, per sample and step, of feeding the true previous output
        to the decoder during training (otherwise its own prediction).
    beam_width : int, default=1
        Beam search width for token outputs; 1 is greedy decoding. Beams are
        ranked by length-normalised log-probability. Continuous outputs are
        always decoded greedily.
    max_output_length : int, default=None
        Longest output generated by :meth:`predict`. None: twice the longest
        target seen in ``fit``. Must not be shorter than the longest target.
    output_type : {'auto', 'tokens', 'continuous'}, default='auto'
        How to read ``y``: ``'auto'`` reads strings as characters, integer
        sequences as token ids and anything else as float vectors. For
        ``fit(X)`` (autoencoder) the outputs are read like ``X``.

    Attributes
    ----------
    input_type_ : {'strings', 'tokens', 'continuous'}
    output_type_ : {'strings', 'tokens', 'continuous'}
    input_vocabulary_ : ndarray of shape (n_input_symbols,) or None
        Characters (strings) or token ids seen in ``X`` during ``fit``, sorted.
        Unseen symbols map to a shared unknown token at predict time.
    output_vocabulary_ : ndarray of shape (n_output_symbols,) or None
        Symbols the decoder can write.
    n_outputs_ : int or None
        Features per output step (continuous outputs).
    n_components_ : int
        Columns of :meth:`transform`: ``hidden_size * (2 if bidirectional else 1)``.
    max_target_length_ : int
        Longest target sequence seen in ``fit``.
    n_features_in_ : int
        Features per input step (1 for strings and tokens), or columns of a
        2-D ``X``.
    n_iter_ : int
    loss_curve_ : list of float
        Mean training loss (per output step, end of sequence included) per epoch.
    validation_scores_ : list of float or None
    validation_loss_curve_ : list of float or None
        Validation loss per epoch when ``early_stopping``.
    lr_curve_ : list of float
        Learning rate at the start of each epoch (see ``lr_schedule``).
    best_validation_score_ : float or None
    best_loss_ : float
    module_ : torch.nn.Module
        The trained encoder-decoder.

    See Also
    --------
    save_attention_heatmap : Save attention weights from :meth:`predict` as a PNG.

    Examples
    --------
    >>> from skrnn import Seq2SeqTransformer
    >>> X = ["abc", "bca", "cab", "ab", "ba", "cc"] * 10
    >>> Y = [s[::-1] for s in X]
    >>> model = Seq2SeqTransformer(hidden_size=16, max_iter=3, random_state=0)
    >>> model = model.fit(X, Y)
    >>> pred = model.predict(["abc", "xbc"])  # unknown 'x' -> unknown token
    >>> [type(p).__name__ for p in pred]
    ['str', 'str']
    >>> model.transform(X).shape
    (60, 16)
    >>> pred, weights = model.predict(["abc"], return_attention=True)
    >>> weights[0].shape == (len(pred[0]), 3)
    True
    """

    _parameter_constraints = {
        **BaseRNN._parameter_constraints,
        "tbptt_steps": [None],
        "attention": [StrOptions({"bahdanau", "luong"}), None],
        "teacher_forcing": [Interval(Real, 0, 1, closed="both")],
        "beam_width": [Interval(Integral, 1, None, closed="left")],
        "max_output_length": [Interval(Integral, 1, None, closed="left"), None],
        "output_type": [StrOptions({"auto", "tokens", "continuous"})],
    }
    _task = Seq2SeqTask()

    def __init__(
        self,
        *,
        cell: Cell = "lstm",
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        nonlinearity: Nonlinearity = "tanh",
        embedding_dim: Optional[int] = None,
        mask_value: Optional[float] = np.nan,
        data_format: DataFormat = "channels_last",
        pooling: PoolingKind = "last",
        optimizer: OptimizerSpec = "adam",
        learning_rate_init: float = 1e-3,
        lr_schedule: LRSchedule = "constant",
        lr_schedule_params: Optional[dict] = None,
        alpha: float = 0.0,
        batch_size: int = 32,
        max_iter: int = 100,
        shuffle: bool = True,
        clip_grad_norm: Optional[float] = 1.0,
        tbptt_steps: None = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        early_stopping_monitor: Literal["loss", "score"] = "loss",
        n_iter_no_change: int = 10,
        tol: Optional[float] = 1e-4,
        device: DeviceSpec = "auto",
        n_threads: Optional[int] = 1,
        random_state: RandomState = None,
        verbose: int = 0,
        warm_start: bool = False,
        callbacks: Optional[list] = None,
        attention: Optional[Literal["bahdanau", "luong"]] = "bahdanau",
        teacher_forcing: float = 1.0,
        beam_width: int = 1,
        max_output_length: Optional[int] = None,
        output_type: Literal["auto", "tokens", "continuous"] = "auto",
    ) -> None:
        store_params(self, locals())

    # --------------------------------------------------------------- inputs
    def _encode_X(self, X, *, reset, sequence_lengths=None):
        """Validate ``X``; return (internal sequences, raw symbol sequences)."""
        return encode_inputs(self, X, reset=reset, sequence_lengths=sequence_lengths)

    # ------------------------------------------------------------------ fit
    def _check_params_combination(self):
        if self.tbptt_steps is not None:
            raise ValueError(
                "tbptt_steps is not supported by Seq2SeqTransformer: the decoder attends "
                "to the whole input. Leave tbptt_steps=None."
            )
        super()._check_params_combination()

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None, sequence_lengths=None):
        """Fit the encoder-decoder to map ``X`` to ``y`` (or ``X`` to itself).

        Parameters
        ----------
        X : list of str, array-like of shape (n_samples, n_timesteps[, n_features]) \
                or list of arrays
            Input sequences: strings, token ids (with ``embedding_dim``) or
            float sequences; ragged, fixed-length or padded.
        y : list of str, array-like or list of arrays, default=None
            Target sequences, one per input, of any lengths: strings, integer
            token ids (a list of ``(T_i,)`` int arrays) or float vectors (a
            list of ``(T_i,)`` / ``(T_i, n_outputs)`` arrays, or an array
            padded with ``mask_value``, e.g. NaN). A 1-D array gives length-1
            targets. See ``output_type``. None trains a sequence autoencoder
            (``y = X``).
        sample_weight : array-like of shape (n_samples,), default=None
        sequence_lengths : array-like of shape (n_samples,), default=None
            Real lengths of post-padded array ``X``.

        Returns
        -------
        self : Seq2SeqTransformer
        """
        return self._fit(X, y, sample_weight, sequence_lengths, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None, sequence_lengths=None):
        """Run one epoch over ``(X, y)``, continuing from the current weights.

        The vocabularies are learned on the first call and fixed afterwards.
        See :meth:`fit` for the parameters.

        Returns
        -------
        self : Seq2SeqTransformer
        """
        return self._fit(X, y, sample_weight, sequence_lengths, incremental=True)

    # -------------------------------------------------------------- predict
    @with_torch_threads
    def _predict_internal(self, X, sequence_lengths, return_attention):
        check_is_fitted(self, "module_")
        if return_attention and self.attention is None:
            raise ValueError(
                "return_attention=True needs a model with attention; this one was "
                "fitted with attention=None."
            )
        src, _ = self._encode_X(X, reset=False, sequence_lengths=sequence_lengths)
        module, data = self._inference_batches(src)
        outputs, weights = decode(
            module, data, self.beam_width, max_output_length(self), return_attention
        )
        return outputs, weights, src

    def predict(self, X, sequence_lengths=None, return_attention=False):
        """Generate the output sequence of each input sequence.

        Decoding runs over whole batches at once: greedy when
        ``beam_width=1``, beam search otherwise; each output is cut at its
        end-of-sequence token (or at ``max_output_length``).

        Parameters
        ----------
        X : list of str, array-like or list of arrays
            Input sequences, in the form used in :meth:`fit`. Characters or
            token ids unseen in ``fit`` map to the unknown token.
        sequence_lengths : array-like of shape (n_samples,), default=None
        return_attention : bool, default=False
            Also return the attention weights of each prediction.

        Returns
        -------
        Y : list of length n_samples
            ``str`` for string targets; ``(T_i,)`` arrays of token ids; or
            ``(T_i,)`` / ``(T_i, n_outputs)`` float arrays for continuous
            targets (1-D when the targets had one feature per step).
        attention : list of ndarray of shape (T_i, S_i)
            Only with ``return_attention=True``: row ``t`` holds the weights
            over the ``S_i`` real input steps used to produce output step ``t``
            (each row sums to 1). See :func:`save_attention_heatmap`.
        """
        check_is_fitted(self, "module_")
        est = estimator_snapshot(self)  # one consistent fitted state
        outputs, weights, src = est._predict_internal(X, sequence_lengths, return_attention)
        Y = est._task.inference_output(est, outputs, src)
        return (Y, weights) if return_attention else Y

    def transform(self, X, sequence_lengths=None):
        """Fixed-size encoder representation of each input sequence.

        Parameters
        ----------
        X : list of str, array-like or list of arrays
        sequence_lengths : array-like of shape (n_samples,), default=None

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components_)
            The encoder's outputs pooled over the real steps (``pooling``).
        """
        check_is_fitted(self, "module_")
        self = estimator_snapshot(self)  # one consistent fitted state
        src, _ = self._encode_X(X, reset=False, sequence_lengths=sequence_lengths)
        module, data = self._inference_batches(src)
        with torch_threads(self.n_threads):
            out = _engine.predict_outputs(module, data, PREDICT_BATCH * 4)
        return out.astype(np.float64)

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then return :meth:`transform` of ``X``; see :meth:`fit`."""
        sequence_lengths = fit_params.get("sequence_lengths")
        return self.fit(X, y, **fit_params).transform(X, sequence_lengths=sequence_lengths)

    def score(self, X, y, sample_weight=None, sequence_lengths=None):
        """Exact-match accuracy of :meth:`predict` against ``y``.

        A prediction counts only when the whole sequence equals its target.
        For continuous outputs, where exact equality is meaningless, the
        score is the R^2 of the predicted values over the target steps
        (a prediction shorter than its target is padded with zeros).

        Parameters
        ----------
        X : list of str, array-like or list of arrays
        y : list of str, array-like or list of arrays
            True output sequences.
        sample_weight : array-like of shape (n_samples,), default=None
        sequence_lengths : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        outputs, _, _ = self._predict_internal(X, sequence_lengths, False)
        raw, kind, _ = read_targets(self, y, len(outputs))
        if (kind == "continuous") != (self.output_type_ == "continuous"):
            raise ValueError(
                f"y holds {kind} but the model predicts {self.output_type_}."
            )
        truth = raw.to_list()
        if kind == "continuous":
            aligned = []
            for p, t in zip(outputs, truth):
                q = np.zeros_like(t)
                n = min(len(p), len(t))
                q[:n] = p[:n]
                aligned.append(q)
            w = None if sample_weight is None else np.repeat(sample_weight, raw.lengths)
            return float(r2_score(np.concatenate(truth), np.concatenate(aligned), sample_weight=w))
        ids = _lookup(raw.values[:, 0], self.output_vocabulary_)
        truth = np.split(ids, raw.offsets[1:-1])
        hits = np.array([np.array_equal(p, t) for p, t in zip(outputs, truth)], dtype=float)
        return float(np.average(hits, weights=sample_weight))

    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags

