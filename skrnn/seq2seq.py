"""Seq2SeqTransformer: a recurrent encoder-decoder with attention.

The estimator translates between the user's sequences (strings, token ids,
float vectors; ragged or padded) and the compact internal form, learns the
vocabularies, and calls the training engine and the batched decoders of
:mod:`skrnn._seq2seq_modules`.
"""

import functools
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from ._compat import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _engine
from ._base import BaseRNN, _use_packing, extend_init, restore_on_failure
from ._compat import reset_feature_names
from ._data import Sequences, _is_ragged_container, to_sequences
from ._seq2seq_modules import (
    N_SPECIAL,
    UNK,
    Seq2SeqNet,
    beam_decode,
    greedy_decode,
    teacher_forced_loss,
)

__all__ = ["Seq2SeqTransformer", "save_attention_heatmap"]

_PREDICT_BATCH = 256


# ------------------------------------------------------------------ strings
def _string_items(X, name):
    """The strings of ``X`` as a list, or None when ``X`` holds no strings."""
    if isinstance(X, (str, bytes)):
        raise TypeError(
            f"{name} is a single string; pass a list of strings, one sequence each "
            f"(e.g. [{X!r}])."
        )
    if isinstance(X, pd.Series):
        items = X.tolist()
    elif isinstance(X, np.ndarray):
        if X.dtype.kind == "U" or (X.dtype == object and X.ndim == 1):
            if X.ndim != 1:
                raise ValueError(
                    f"{name} is a {X.ndim}-D array of strings; pass a 1-D list or array "
                    "of strings, one sequence each."
                )
            items = X.tolist()
        else:
            return None
    elif isinstance(X, (list, tuple)):
        items = list(X)
    else:
        return None
    is_str = [isinstance(s, str) for s in items]
    if not any(is_str):
        return None
    if not all(is_str):
        i = is_str.index(False)
        raise TypeError(
            f"{name}[{i}] is a {type(items[i]).__name__}, but other entries of {name} "
            "are strings; pass either strings or numeric sequences, not both."
        )
    return items


def _encode_strings(items, name):
    """Code points of each string as compact :class:`Sequences` (int64)."""
    if len(items) == 0:
        raise ValueError(f"{name} is an empty list; at least one sequence is required.")
    lengths = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    if (lengths == 0).any():
        i = int(np.flatnonzero(lengths == 0)[0])
        raise ValueError(
            f"{name}[{i}] is an empty string; every sequence needs at least one "
            "character. Remove empty strings first."
        )
    codes = np.frombuffer("".join(items).encode("utf-32-le"), dtype="<u4").astype(np.int64)
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Sequences(codes[:, None], offsets, "ragged")


def _codes_to_strings(codes, offsets):
    text = np.asarray(codes, dtype="<u4").tobytes().decode("utf-32-le")
    return [text[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]


# ------------------------------------------------------------- vocabularies
def _vocabulary(codes, kind):
    """Sorted distinct symbols: characters (str) or token ids (int64)."""
    symbols = np.unique(codes)
    if kind == "strings":
        return np.array([chr(c) for c in symbols.tolist()], dtype="<U1")
    return symbols.astype(np.int64)


def _vocabulary_codes(vocabulary):
    if vocabulary.dtype.kind == "U":
        return np.fromiter(map(ord, vocabulary.tolist()), dtype=np.int64, count=len(vocabulary))
    return vocabulary.astype(np.int64)


def _lookup(codes, vocabulary):
    """Internal ids of ``codes``: ``N_SPECIAL + position``, or UNK when unseen."""
    keys = _vocabulary_codes(vocabulary)
    pos = np.minimum(np.searchsorted(keys, codes), len(keys) - 1)
    return np.where(keys[pos] == codes, pos + N_SPECIAL, UNK).astype(np.int64)


def _as_array_if_array_like(X):
    """Other array-likes (memory maps, wrappers) as plain arrays."""
    if isinstance(X, (list, tuple, np.ndarray, pd.Series, pd.DataFrame)) or sp.issparse(X):
        return X
    return np.asarray(X) if hasattr(X, "__array__") else X


def _looks_integer(Y):
    if isinstance(Y, (pd.Series, pd.DataFrame)):
        Y = Y.to_numpy() if isinstance(Y, pd.DataFrame) else Y.tolist()
    if _is_ragged_container(Y):
        return all(np.asarray(y).dtype.kind in "iu" for y in Y)
    return np.asarray(Y).dtype.kind in "iu"


# ----------------------------------------------------------------- batches
class _PairBatches(_engine.SequenceBatches):
    """Input batches plus the target sequences, which have their own lengths.

    ``get`` returns ``y`` as ``(targets (B, T, 1 or K), target_lengths (B,))``
    post-padded (filler past each length is never read by the loss).
    """

    def __init__(self, src, tgt, weights, device, stream=False):
        super().__init__(src.values, src.offsets, None, weights, False, device, stream)
        self.targets_batches = _engine.SequenceBatches(
            tgt.values, tgt.offsets, device=device, stream=stream
        )

    def get(self, idx):
        x, lengths, _, w = super().get(idx)
        y, y_lengths, _, _ = self.targets_batches.get(idx)
        return x, lengths, (y, y_lengths), w


@extend_init(
    attention="bahdanau",
    teacher_forcing=1.0,
    beam_width=1,
    max_output_length=None,
    output_type="auto",
)
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
        Units per layer (and direction) of the encoder; units per layer of
        the decoder.
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
        through an embedding of this size, as in :class:`RNNClassifier`.
        Strings and token outputs are always embedded; their embedding size
        is ``embedding_dim``, or ``hidden_size`` when None.
    mask_value : float or None, default=np.nan
        Padding marker of padded array ``X`` (and ``y``): see
        :class:`RNNClassifier`.
    pooling : {'last', 'mean', 'max', 'attention'}, default='last'
        How the encoder's per-step outputs become the fixed-size
        representation returned by :meth:`transform`, which also initialises
        the decoder's state.
    optimizer : {'adam', 'sgd', 'rmsprop'} or torch.optim.Optimizer subclass, \
            default='adam'
    learning_rate_init : float, default=1e-3
    alpha : float, default=0.0
        L2 penalty (weight decay).
    batch_size : int, default=32
        Sequence pairs per mini-batch, grouped by input length.
    max_iter : int, default=100
        Maximum number of epochs.
    shuffle : bool, default=True
    clip_grad_norm : float or None, default=1.0
    tbptt_steps : None
        Not supported (attention reads the whole input); must stay None.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the pairs and stop when their
        exact-match accuracy (greedy decoding; the negative loss for
        continuous outputs) stops improving; the best weights are restored.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    device : {'auto', 'cpu', 'cuda'} or torch.device, default='auto'
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout, teacher forcing and the
        validation split; CPU runs with a fixed seed are identical.
    verbose : int, default=0
    warm_start : bool, default=False
        Continue from the previous fit's weights and vocabularies.
    attention : {'bahdanau', 'luong'} or None, default='bahdanau'
        ``'bahdanau'``: additive attention with the previous decoder state,
        the context is fed into the cell. ``'luong'``: multiplicative
        ("general") attention with the current state and input feeding.
        ``None``: the decoder sees the input only through its initial state.
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
    _loss = "seq2seq"

    # --------------------------------------------------------------- inputs
    def _map_tokens(self, seqs, reset):
        # token ids are mapped through the learned vocabulary in _encode_X
        return seqs

    def _encode_X(self, X, *, reset, sequence_lengths=None):
        """Validate ``X``; return (internal sequences, raw symbol sequences)."""
        if isinstance(X, (list, tuple)) and len(X) == 0:
            raise ValueError("X is an empty list; at least one sequence is required.")
        X = _as_array_if_array_like(X)
        items = _string_items(X, "X")
        if items is not None:
            if sequence_lengths is not None:
                raise ValueError(
                    "sequence_lengths is for padded array input; strings already carry "
                    "their lengths."
                )
            raw, kind = _encode_strings(items, "X"), "strings"
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
        return Sequences(ids, raw.offsets, raw.form, raw.starts, raw.n_timesteps), raw

    # -------------------------------------------------------------- targets
    def _read_Y(self, Y, n_samples, *, autoencode_from=None):
        """Return (raw target sequences, kind, one_d) for ``Y``."""
        if autoencode_from is not None:
            raw, kind = autoencode_from, self.input_type_
            expected = "continuous" if kind == "continuous" else "tokens"
            if self.output_type not in ("auto", expected):
                raise ValueError(
                    f"fit(X) without y trains an autoencoder whose outputs are read like "
                    f"X ({kind}), but output_type={self.output_type!r}. Pass y or use "
                    "output_type='auto'."
                )
            return raw, kind, raw.n_features == 1
        items = _string_items(Y, "y")
        if items is not None:
            if self.output_type == "continuous":
                raise ValueError(
                    "y holds strings but output_type='continuous'; use 'auto' or 'tokens'."
                )
            raw, kind = _encode_strings(items, "y"), "strings"
        else:
            Y = _as_array_if_array_like(Y)
            if isinstance(Y, (pd.DataFrame, pd.Series)) and not _is_ragged_container(
                Y.to_numpy() if isinstance(Y, pd.Series) else Y
            ):
                Y = Y.to_numpy()
            if isinstance(Y, np.ndarray) and Y.dtype == object and Y.ndim == 1 and all(
                np.ndim(v) == 0 for v in Y
            ):
                Y = np.asarray(Y.tolist())  # scalars in an object array
            if not _is_ragged_container(Y) and np.ndim(Y) == 1:
                Y = np.asarray(Y).reshape(-1, 1)  # one value per sample: length-1 targets
            tokens = self.output_type == "tokens" or (
                self.output_type == "auto" and _looks_integer(Y)
            )
            kind = "tokens" if tokens else "continuous"
            raw = to_sequences(Y, mask_value=self.mask_value, token_ids=tokens, name="y")
            if tokens and raw.n_features != 1:
                raise ValueError(
                    f"Token targets need one id per step; y has {raw.n_features} features "
                    "per step. Use output_type='continuous' for vector outputs."
                )
        if raw.n_samples != n_samples:
            raise ValueError(
                f"y has {raw.n_samples} sequences but X has {n_samples}; pass one "
                "target sequence per input sequence."
            )
        return raw, kind, raw.n_features == 1

    def _encode_Y(self, Y, X_raw, *, first):
        raw, kind, one_d = self._read_Y(
            Y, X_raw.n_samples, autoencode_from=X_raw if Y is None else None
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

    # ------------------------------------------------------------------ fit
    def _check_params_combination(self):
        if self.tbptt_steps is not None:
            raise ValueError(
                "tbptt_steps is not supported by Seq2SeqTransformer: the decoder attends "
                "to the whole input. Leave tbptt_steps=None."
            )
        super()._check_params_combination()

    def _build_module(self, n_features):
        emb = self.embedding_dim or self.hidden_size
        in_vocab = self.input_vocabulary_
        out_vocab = self.output_vocabulary_
        return Seq2SeqNet(
            n_features=n_features,
            n_input_symbols=None if in_vocab is None else len(in_vocab) + N_SPECIAL,
            n_output_symbols=None if out_vocab is None else len(out_vocab) + N_SPECIAL,
            n_outputs=self.n_outputs_,
            embedding_dim=emb,
            **self._recurrent_kwargs(),
            attention=self.attention,
        )

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
        self._validate_params()
        return self._fit_pairs(X, y, sample_weight, sequence_lengths, incremental=False)

    def partial_fit(self, X, y=None, sample_weight=None, sequence_lengths=None):
        """Run one epoch over ``(X, y)``, continuing from the current weights.

        The vocabularies are learned on the first call and fixed afterwards.
        See :meth:`fit` for the parameters.

        Returns
        -------
        self : Seq2SeqTransformer
        """
        if not hasattr(self, "module_"):
            self._validate_params()
        return self._fit_pairs(X, y, sample_weight, sequence_lengths, incremental=True)

    @restore_on_failure
    def _fit_pairs(self, X, Y, sample_weight, sequence_lengths, *, incremental):
        self._check_params_combination()
        continuing = (incremental or self.warm_start) and hasattr(self, "module_")
        src, raw_x = self._encode_X(X, reset=not continuing, sequence_lengths=sequence_lengths)
        tgt = self._encode_Y(Y, raw_x, first=not continuing)
        weights = self._check_sample_weight(sample_weight, src.n_samples)
        if not weights.sum() > 0:
            raise ValueError(
                "sample_weight sums to zero (or is all zero); at least one pair needs a "
                "positive weight."
            )

        device = _engine.resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        cfg = self._train_config(device, seed)
        cfg.batch_loss = functools.partial(
            teacher_forced_loss, teacher_forcing=self.teacher_forcing, packed=cfg.packed
        )
        train_idx = val_idx = None
        if self.early_stopping and not incremental:
            train_idx, val_idx = self._validation_split(None, src.n_samples, seed)
        with _engine.seeded(device, seed):
            spec = {"n_features": src.n_features}
            module, optimizer = self._module_and_optimizer(
                continuing, lambda: self._build_module(**spec), device
            )
            if train_idx is None:
                train, val = _PairBatches(src, tgt, weights, device), None
            else:
                train = _PairBatches(
                    src.subset(train_idx), tgt.subset(train_idx), weights[train_idx], device
                )
                val = _PairBatches(
                    src.subset(val_idx), tgt.subset(val_idx), weights[val_idx], device
                )
            val_score = None
            if val is not None:
                val_score = functools.partial(self._validation_score, module, val, cfg)
            history = _engine.fit_module(
                module, optimizer, train, cfg, val=val, val_score=val_score,
                epochs=1 if incremental else None,
            )

        self.n_components_ = module.encoder.output_size
        return self._store_fit(
            module, history, spec, continuing=continuing, incremental=incremental
        )

    def _validation_score(self, module, val, cfg, _outputs):
        """Exact-match accuracy of greedy decoding on the held-out pairs
        (negative mean loss for continuous outputs)."""
        if module.tokens_out:
            max_len = self.max_output_length or 2 * self.max_target_length_
            pred, _ = self._decode(module, val, 1, max_len, cfg.device, False)
            tgt = val.targets_batches
            truth = np.split(tgt.values.cpu().numpy()[:, 0], np.cumsum(tgt.lengths_np)[:-1])
            return float(np.mean([np.array_equal(p, t) for p, t in zip(pred, truth)]))
        module.eval()
        total = weight = 0.0
        with torch.inference_mode():
            for idx in _engine.length_grouped_batches(val.lengths_np, _PREDICT_BATCH):
                x, lengths, y, w = val.get(idx)
                loss, norm = teacher_forced_loss(module, x, lengths, y, w, packed=cfg.packed)
                total, weight = total + float(loss) * float(norm), weight + float(norm)
        return -total / max(weight, 1e-12)

    # -------------------------------------------------------------- predict
    def _decode(self, module, data, beam_width, max_len, device, return_attention):
        """Decode every sample of ``data`` in length-grouped batches.

        Returns per-sample outputs (internal ids (T_i,) or vectors (T_i, K))
        and, when asked, attention weights (T_i, S_i), in the original order.
        """
        module.eval()
        packed = _use_packing(device)
        outputs = [None] * data.n_samples
        weights = [None] * data.n_samples if return_attention else None
        batch = max(1, _PREDICT_BATCH // beam_width)
        for idx in _engine.length_grouped_batches(data.lengths_np, batch):
            x, lengths, _, _ = data.get(idx)
            if beam_width > 1 and module.tokens_out:
                out, out_len, att = beam_decode(
                    module, x, lengths, max_len, beam_width, packed=packed,
                    return_attention=return_attention,
                )
            else:
                out, out_len, att = greedy_decode(
                    module, x, lengths, max_len, packed=packed, return_attention=return_attention
                )
            out, out_len = out.cpu().numpy(), out_len.cpu().numpy().tolist()
            src_len = lengths.cpu().numpy().tolist()
            att = None if att is None else att.float().cpu().numpy()
            for j, i in enumerate(np.asarray(idx).tolist()):
                outputs[i] = out[j, : out_len[j]]
                if return_attention:
                    weights[i] = att[j, : out_len[j], : src_len[j]].astype(np.float64)
        return outputs, weights

    def _to_user_outputs(self, outputs):
        kind = self.output_type_
        if kind == "continuous":
            if self._output_one_d:
                return [o[:, 0].astype(np.float64) for o in outputs]
            return [o.astype(np.float64) for o in outputs]
        symbols = self.output_vocabulary_
        if kind == "tokens":
            return [symbols[o - N_SPECIAL] for o in outputs]
        codes = _vocabulary_codes(symbols)
        lengths = np.fromiter(map(len, outputs), dtype=np.int64, count=len(outputs))
        offsets = np.zeros(len(outputs) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = np.concatenate(outputs) if outputs else np.zeros(0, dtype=np.int64)
        return _codes_to_strings(codes[flat - N_SPECIAL], offsets)

    def _predict_internal(self, X, sequence_lengths, return_attention):
        check_is_fitted(self, "module_")
        if return_attention and self.attention is None:
            raise ValueError(
                "return_attention=True needs a model with attention; this one was "
                "fitted with attention=None."
            )
        src, _ = self._encode_X(X, reset=False, sequence_lengths=sequence_lengths)
        module, data, device = self._inference_batches(src)
        max_len = self.max_output_length or 2 * self.max_target_length_
        return self._decode(module, data, self.beam_width, max_len, device, return_attention)

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
        outputs, weights = self._predict_internal(X, sequence_lengths, return_attention)
        Y = self._to_user_outputs(outputs)
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
        src, _ = self._encode_X(X, reset=False, sequence_lengths=sequence_lengths)
        module, data, device = self._inference_batches(src)
        out = _engine.predict_outputs(module, data, _PREDICT_BATCH * 4, _use_packing(device))
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
        outputs, _ = self._predict_internal(X, sequence_lengths, False)
        raw, kind, _ = self._read_Y(y, len(outputs))
        if (kind == "continuous") != (self.output_type_ == "continuous"):
            raise ValueError(
                f"y holds {kind} but the model predicts {self.output_type_}."
            )
        truth = raw.to_list()
        if kind == "continuous":
            from sklearn.metrics import r2_score

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


def save_attention_heatmap(weights, path, *, input_labels=None, output_labels=None,
                           title=None, dpi=120):
    """Save attention weights as a heatmap PNG (needs matplotlib).

    Parameters
    ----------
    weights : array-like of shape (n_output_steps, n_input_steps)
        One entry of the weights returned by
        ``Seq2SeqTransformer.predict(X, return_attention=True)``.
    path : str or path-like
        Where to write the image.
    input_labels : sequence of str, default=None
        Tick labels of the input steps (e.g. ``list(x)`` for a string).
    output_labels : sequence of str, default=None
        Tick labels of the output steps.
    title : str, default=None
    dpi : int, default=120

    Returns
    -------
    path : str or path-like
        The path written.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "save_attention_heatmap needs matplotlib; install it with "
            "`pip install matplotlib`."
        ) from exc
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2:
        raise ValueError(
            f"weights must be 2-D (n_output_steps, n_input_steps); got shape {w.shape}. "
            "Pass one entry of the list returned by predict(..., return_attention=True)."
        )
    T, S = w.shape
    for name, labels, n in (("input_labels", input_labels, S), ("output_labels", output_labels, T)):
        if labels is not None and len(labels) != n:
            raise ValueError(f"{name} has {len(labels)} labels but weights have {n} steps.")
    fig = Figure(figsize=(max(4.0, 0.3 * S + 2.0), max(3.0, 0.3 * T + 1.5)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(w, cmap="viridis", aspect="auto", vmin=0.0, vmax=1.0)
    ax.set_xlabel("input step")
    ax.set_ylabel("output step")
    if input_labels is not None:
        ax.set_xticks(range(S), [str(s) for s in input_labels])
    if output_labels is not None:
        ax.set_yticks(range(T), [str(s) for s in output_labels])
    if title:
        ax.set_title(title)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path
