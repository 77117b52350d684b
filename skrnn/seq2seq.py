"""Seq2SeqTransformer: a recurrent encoder-decoder with attention.

The estimator translates between the user's sequences (strings, token ids,
float vectors; ragged or padded) and the compact internal form, and defines
the hooks of the shared fit path (:mod:`skrnn._base`): target sequences and
their vocabulary, the encoder-decoder network, the teacher-forced loss and
exact-match validation. Decoding runs in :mod:`skrnn._train.decoding`.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Literal, Optional

import numpy as np
import pandas as pd
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin

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
    store_params,
)
from ._compat import Interval, StrOptions, _fit_context, reset_feature_names
from ._docstrings import shared_parameters
from ._nn.recurrent import Seq2SeqNet, teacher_forced_loss
from ._sequences.data import Sequences
from ._sequences.data import _as_array_if_array_like
from ._sequences.vocab import (
    N_SPECIAL,
    UNK,
    _lookup,
    _vocabulary,
    read_text,
)
from ._train.engine import PairBatches
from ._train.memory import check_batch, seq2seq_bytes
from ._seq2seq_inference import _Seq2SeqInference
from .plotting import save_attention_heatmap

__all__ = ["Seq2SeqTransformer", "save_attention_heatmap"]


@shared_parameters
class Seq2SeqTransformer(_Seq2SeqInference, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                         BaseRNN):
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
    $dropout
    $nonlinearity
    embedding_dim : int or None, default=None
        When set, numeric ``X`` holds integer token ids (one per step) that go
        through an embedding of this size. Strings and token outputs are always
        embedded; their embedding size is ``embedding_dim``, or ``hidden_size``
        when None.
    mask_value : float or None, default=np.nan
        Padding marker of padded array ``X`` (and ``y``): a step whose features
        all equal it is skipped wherever it sits (padding at either end or a
        missing step in the middle). ``None`` disables masking.
    $data_format
    pooling : {'last', 'mean', 'max', 'attention'}, default='last'
        How the encoder's per-step outputs become the fixed-size representation
        returned by :meth:`transform`, which also initialises the decoder's
        state.
    $optimizer
    $learning_rate_init
    $lr_schedule
    $lr_schedule_params
    $alpha
    batch_size : int, default=32
        Sequence pairs per mini-batch, grouped by input length.
    $max_iter
    $shuffle
    $clip_grad_norm
    tbptt_steps : None, default=None
        Not supported (attention reads the whole input); must stay None.
    early_stopping : bool, default=False
        Hold out a validation split of the pairs (see ``validation_fraction``)
        and stop when their teacher-forced loss (or, with
        ``early_stopping_monitor='score'``, the exact-match accuracy of greedy
        decoding; the negative loss for continuous outputs) stops improving;
        the best weights are restored. Seq2Seq fits have no plateau floor (no
        constant predictor marks 'nothing learned' for sequence outputs).
    $validation_fraction
    $early_stopping_monitor
    $n_iter_no_change
    $tol
    $device
    $n_threads
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout, teacher forcing and the
        validation split; CPU runs with a fixed seed are identical.
    $verbose
    warm_start : bool, default=False
        Continue from the previous fit's weights and vocabularies.
    $callbacks
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
    max_output_length : int or None, default=None
        Longest output generated by :meth:`predict`. None: twice the longest
        target seen in ``fit``. Must not be shorter than the longest target.
    output_type : {'auto', 'tokens', 'continuous'}, default='auto'
        How to read ``y``: ``'auto'`` reads strings as characters, integer
        sequences as token ids and anything else as float vectors. For
        ``fit(X)`` (autoencoder) the outputs are read like ``X``.
    learn_from : {'auto', 'y', 'X'}, default='auto'
        What the decoder learns to write. ``'y'``: the target sequences
        ``y`` (translation; ``y`` is required). ``'X'``: the input itself, a
        sequence autoencoder; any ``y`` is ignored, so the labels a
        ``Pipeline``, ``FeatureUnion`` or ``GridSearchCV`` passes to every
        step never become targets. ``'auto'``: ``fit(X, y)`` and
        ``partial_fit`` learn ``y`` (the autoencoder when ``y`` is None);
        ``fit_transform(X, y)`` -- the call a ``Pipeline`` or
        ``FeatureUnion`` makes on a transformer step -- ignores ``y`` and
        trains the autoencoder, since there ``y`` holds a downstream
        estimator's labels. Use ``'X'`` when something calls ``fit(X, y)``
        on it with labels (e.g. ``FeatureUnion.fit``), ``'y'`` to learn
        ``y`` through ``fit_transform``.

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
        "learn_from": [StrOptions({"auto", "y", "X"})],
    }
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
        data_format: Optional[DataFormat] = None,
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
        learn_from: Literal["auto", "y", "X"] = "auto",
    ) -> None:
        store_params(self, locals())

    # defined here so that scikit-learn's set_output wraps them (it wraps the
    # methods a class defines itself)
    transform = _Seq2SeqInference.transform
    fit_transform = _Seq2SeqInference.fit_transform

    # --------------------------------------------------------------- inputs
    def _encode_X(self, X, *, reset, sequence_lengths=None):
        """Validate ``X`` (strings, token ids or float vectors); return
        (internal sequences, raw symbol sequences). With ``reset`` the input
        kind and vocabulary are learned."""
        if isinstance(X, (list, tuple)) and len(X) == 0:
            raise ValueError("X is an empty list; at least one sequence is required.")
        X = _as_array_if_array_like(X)
        text = read_text(X, "X", sequence_lengths) if _may_hold_text(X) else None
        if text is not None:
            raw, kind = text
            if reset:
                reset_feature_names(self)
                self._fitted_on_table = False
                self._n_step_features = self.n_features_in_ = 1
        else:
            raw = self._validate_X(X, reset=reset, sequence_lengths=sequence_lengths)
            kind = "tokens" if self.embedding_dim is not None else "continuous"
            if kind == "tokens" and raw.n_features != 1:
                raise ValueError(
                    f"With embedding_dim set, X must hold one token id per step; got "
                    f"{raw.n_features} features per step. Pass (n_samples, n_timesteps) "
                    "arrays or a list of 1-D id arrays."
                )
        if reset:
            self.input_type_ = kind
            self.input_vocabulary_ = (
                None if kind == "continuous" else _vocabulary(raw.values[:, 0], kind)
            )
        elif kind != self.input_type_:
            raise ValueError(
                f"X holds {kind} but {type(self).__name__} was fitted on "
                f"{self.input_type_}; pass the same kind of input as in fit."
            )
        if kind == "continuous":
            return raw, raw
        ids = _lookup(raw.values[:, 0], self.input_vocabulary_)[:, None]
        return raw.with_values(ids), raw

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
            (``y = X``); so does ``learn_from='X'``, which ignores ``y``.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence; None weighs all equally.
        sequence_lengths : array-like of shape (n_samples,), default=None
            Real lengths of post-padded array ``X``.

        Returns
        -------
        self : Seq2SeqTransformer
            The fitted estimator.
        """
        return self._fit(X, self._fit_targets(y), sample_weight, sequence_lengths,
                         incremental=False)

    def _fit_targets(self, y, *, transforming=False):
        """The targets a fit learns (None: the autoencoder), per ``learn_from``."""
        learn_from = getattr(self, "learn_from", "auto")
        if learn_from == "y":
            if y is None:
                raise ValueError(
                    "learn_from='y' needs target sequences y; got y=None. Pass y, or "
                    "learn_from='X' (or 'auto') to train a sequence autoencoder."
                )
            return y
        if learn_from == "X" or transforming:
            return None
        return y

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None, sequence_lengths=None):
        """Run one epoch over ``(X, y)``, continuing from the current weights.

        The vocabularies are learned on the first call and fixed afterwards.

        Parameters
        ----------
        X : list of str, array-like or list of arrays
            Input sequences, in any form accepted by :meth:`fit`.
        y : list of str, array-like or list of arrays, default=None
            Target sequences, one per input (see :meth:`fit`); None trains a
            sequence autoencoder (``y = X``).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence pair in the loss; None weighs all equally.
        sequence_lengths : array-like of shape (n_samples,), default=None
            Real lengths of post-padded array ``X``.

        Returns
        -------
        self : Seq2SeqTransformer
            The fitted estimator.
        """
        return self._fit(X, self._fit_targets(y), sample_weight, sequence_lengths,
                         incremental=True)

    # -------------------------------------------------------------- predict

    def __setstate__(self, state):
        # files written before learn_from existed learned y when given
        super().__setstate__({"learn_from": "auto", **state})

    # ------------------------------------------------------------------ hooks

    def _encode_targets(self, y, X, *, first, classes=None, sample_weight=None):
        """Target sequences as internal ids (tokens, strings) or float vectors;
        the output kind and vocabulary on the first fit."""
        raw, kind, one_d = self._read_targets(
            y, X.n_samples, autoencode_from=X if y is None else None
        )
        longest = int(raw.lengths.max())
        if first:
            self.output_type_ = kind
            self._output_one_d = bool(one_d)
            self.output_vocabulary_ = (
                None if kind == "continuous" else _vocabulary(raw.values[:, 0], kind)
            )
            self.n_outputs_ = raw.n_features if kind == "continuous" else None
            self.max_target_length_ = longest
        else:
            if kind != self.output_type_:
                raise ValueError(
                    f"y holds {kind} but the model was fitted on {self.output_type_} targets."
                )
            if kind == "continuous" and raw.n_features != self.n_outputs_:
                raise ValueError(
                    f"y has {raw.n_features} features per step, the model was fitted with "
                    f"{self.n_outputs_}."
                )
            self.max_target_length_ = max(self.max_target_length_, longest)
        if self.max_output_length is not None and self.max_output_length < longest:
            i = int(np.argmax(raw.lengths))
            raise ValueError(
                f"max_output_length={self.max_output_length} is shorter than the longest "
                f"target (y[{i}] has {longest} steps), so predictions would be cut. Set "
                f"max_output_length >= {longest}, or None to use twice the longest target."
            )
        if kind == "continuous":
            return raw
        ids = _lookup(raw.values[:, 0], self.output_vocabulary_)
        if not first and (ids == UNK).any():
            row = int(np.flatnonzero(ids == UNK)[0])
            raise ValueError(
                f"y contains the symbol {raw.values[row, 0]!r}, unseen in the first fit; "
                "the output vocabulary is fixed after the first fit (refit without "
                "warm_start to learn a new one)."
            )
        return Sequences(ids[:, None], raw.offsets, raw.form)

    def _pointwise_loss(self):
        # truncated BPTT is not supported: the decoder attends to the whole input
        return None

    def _network_sizes(self, X):
        # the width of transform's output follows from the encoder
        self.n_components_ = self.hidden_size * (2 if self.bidirectional else 1)
        return {"n_features": int(X.n_features)}

    def _make_network(self, spec):
        in_vocab, out_vocab = self.input_vocabulary_, self.output_vocabulary_
        return Seq2SeqNet(
            n_features=spec["n_features"],
            n_input_symbols=None if in_vocab is None else len(in_vocab) + N_SPECIAL,
            n_output_symbols=None if out_vocab is None else len(out_vocab) + N_SPECIAL,
            n_outputs=self.n_outputs_,
            embedding_dim=self.embedding_dim or self.hidden_size,
            **self._recurrent_kwargs(),
            attention=self.attention,
        )

    def _batches(self, X, targets, weights, device):
        return PairBatches(X, targets, weights, device)

    def _batch_loss(self, model, x, lengths, y, w):
        check_batch(
            seq2seq_bytes(x.shape[0], x.shape[1], y[0].shape[1] + 1, self.hidden_size,
                          self.num_layers, 2 if self.bidirectional else 1, self.attention),
            f"{x.shape[0]} pair(s) of up to {x.shape[1]} input and {y[0].shape[1]} "
            "output steps",
            "Split the sequences into shorter pieces, lower batch_size or hidden_size, "
            "use attention='luong' (memory grows with input x output steps, not also "
            "with hidden_size) or attention=None,",
        )
        return teacher_forced_loss(model, x, lengths, y, w, teacher_forcing=self.teacher_forcing)

    def _constant_loss(self, targets, weights):
        # exempt from the plateau floor: a teacher-forced decoder that ignores
        # its input still learns the output sequences' own structure, so no
        # constant predictor's loss marks "nothing learned"
        return None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags


def _may_hold_text(X):
    """Whether ``X`` may hold strings or token lists (checked by the text
    readers), rather than numbers (read by the shared sequence reader)."""
    if isinstance(X, (str, bytes)):
        return True
    if isinstance(X, np.ndarray):
        return X.dtype.kind in "USO"
    if isinstance(X, pd.Series):
        return X.dtype == object
    if isinstance(X, (list, tuple)):
        return any(isinstance(x, (str, bytes, list, tuple)) or (
            isinstance(x, np.ndarray) and x.dtype.kind in "USO") for x in X)
    return False
