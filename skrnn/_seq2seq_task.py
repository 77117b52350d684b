"""The sequence-to-sequence task (see :mod:`skrnn._tasks`): target
sequences and their vocabulary, the encoder-decoder network, the
teacher-forced loss, exact-match validation and batched decoding."""

import numpy as np
import pandas as pd
import torch

from ._batches import SequenceBatches, length_grouped_batches
from ._compat import reset_feature_names
from ._config import fitted_data_format
from ._data import Sequences, _is_ragged_container, to_sequences
from ._memory import ATTENTION_BYTES, check_batch, recurrent_bytes
from ._seq2seq_modules import Seq2SeqNet, beam_decode, greedy_decode, teacher_forced_loss
from ._vocab import (
    N_SPECIAL,
    UNK,
    _as_array_if_array_like,
    _codes_to_strings,
    _encode_strings,
    _encode_words,
    _word_items,
    _looks_integer,
    _lookup,
    _string_items,
    _vocabulary,
    _vocabulary_codes,
)

# sequences per decoding batch
PREDICT_BATCH = 256


class _PairBatches(SequenceBatches):
    """Input batches plus the target sequences, which have their own lengths.

    ``get`` returns ``y`` as ``(targets (B, T, 1 or K), target_lengths (B,))``
    post-padded (filler past each length is never read by the loss).
    """

    def __init__(self, src, tgt, weights, device, stream=False):
        super().__init__(src.values, src.offsets, None, weights, False, device, stream)
        self.targets_batches = SequenceBatches(
            tgt.values, tgt.offsets, device=device, stream=stream
        )

    def get(self, idx):
        x, lengths, _, w = super().get(idx)
        y, y_lengths, _, _ = self.targets_batches.get(idx)
        return x, lengths, (y, y_lengths), w



class Seq2SeqTask:
    """Sequence targets (strings, token ids or float vectors) of their own
    lengths, or the input itself (autoencoder)."""

    # truncated BPTT is not supported: the decoder attends to the whole input
    sample_loss = None

    def encode_targets(self, est, y, X, *, first, classes=None, sample_weight=None):
        return _encode(est, y, X, first=first)

    def sample_weights(self, est, targets):
        return 1.0

    def stratify(self, targets, n_val):
        return None

    def network_spec(self, est, X):
        # the width of transform's output follows from the encoder
        est.n_components_ = est.hidden_size * (2 if est.bidirectional else 1)
        return {"n_features": int(X.n_features)}

    def build_network(self, est, spec):
        in_vocab, out_vocab = est.input_vocabulary_, est.output_vocabulary_
        return Seq2SeqNet(
            n_features=spec["n_features"],
            n_input_symbols=None if in_vocab is None else len(in_vocab) + N_SPECIAL,
            n_output_symbols=None if out_vocab is None else len(out_vocab) + N_SPECIAL,
            n_outputs=est.n_outputs_,
            embedding_dim=est.embedding_dim or est.hidden_size,
            **est._recurrent_kwargs(),
            attention=est.attention,
        )

    def batches(self, X, targets, weights, device):
        return _PairBatches(X, targets, weights, device)

    def batch_loss(self, est, model, x, lengths, y, w):
        check_batch(
            _training_bytes(est, x.shape[0], x.shape[1], y[0].shape[1] + 1),
            f"{x.shape[0]} pair(s) of up to {x.shape[1]} input and {y[0].shape[1]} "
            "output steps",
            "Split the sequences into shorter pieces, lower batch_size or hidden_size, "
            "use attention='luong' (memory grows with input x output steps, not also "
            "with hidden_size) or attention=None,",
        )
        return teacher_forced_loss(model, x, lengths, y, w, teacher_forcing=est.teacher_forcing)

    def validation_score(self, est, model, val):
        """Exact-match accuracy of greedy decoding on the held-out pairs
        (negative mean loss for continuous outputs)."""
        if model.tokens_out:
            pred, _ = decode(model, val, 1, max_output_length(est), False)
            tgt = val.targets_batches
            truth = np.split(tgt.values.cpu().numpy()[:, 0], np.cumsum(tgt.lengths_np)[:-1])
            return float(np.mean([np.array_equal(p, t) for p, t in zip(pred, truth)]))
        model.eval()
        total = weight = 0.0
        with torch.inference_mode():
            for idx in length_grouped_batches(val.lengths_np, PREDICT_BATCH):
                x, lengths, y, w = val.get(idx)
                loss, norm = teacher_forced_loss(model, x, lengths, y, w)
                total, weight = total + float(loss) * float(norm), weight + float(norm)
        return -total / max(weight, 1e-12)

    def constant_loss(self, est, targets, weights):
        # exempt from the plateau floor: a teacher-forced decoder that ignores
        # its input still learns the output sequences' own structure, so no
        # constant predictor's loss marks "nothing learned"
        return None

    def inference_output(self, est, outputs, X):
        return user_outputs(est, outputs)


def _training_bytes(est, n_pairs, n_source, n_target):
    """Activation memory of one teacher-forced batch: the encoder, the
    decoder and the attention over every (source, target) step pair."""
    directions = 2 if est.bidirectional else 1
    encoder = recurrent_bytes(n_pairs, n_source, est.hidden_size, est.num_layers, directions)
    decoder = recurrent_bytes(n_pairs, n_target, est.hidden_size, est.num_layers)
    per_pair = ATTENTION_BYTES.get(est.attention, 0)
    if est.attention == "bahdanau":
        per_pair *= est.hidden_size
    return encoder + decoder + per_pair * n_pairs * n_source * n_target


def max_output_length(est):
    """Longest output decoded: ``max_output_length``, or twice the longest target."""
    return est.max_output_length or 2 * est.max_target_length_


def read_targets(est, Y, n_samples, *, autoencode_from=None):
    """Return (raw target sequences, kind, one_d) for ``Y``."""
    if autoencode_from is not None:
        raw, kind = autoencode_from, est.input_type_
        expected = "continuous" if kind == "continuous" else "tokens"
        if est.output_type not in ("auto", expected):
            raise ValueError(
                f"fit(X) without y trains an autoencoder whose outputs are read like "
                f"X ({kind}), but output_type={est.output_type!r}. Pass y or use "
                "output_type='auto'."
            )
        return raw, kind, raw.n_features == 1
    words = _word_items(Y, "y")
    items = None if words is not None else _string_items(Y, "y")
    if words is not None:
        if est.output_type == "continuous":
            raise ValueError(
                "y holds word tokens but output_type='continuous'; use 'auto' or 'tokens'."
            )
        raw, kind = _encode_words(words, "y"), "words"
    elif items is not None:
        if est.output_type == "continuous":
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
        tokens = est.output_type == "tokens" or (
            est.output_type == "auto" and _looks_integer(Y)
        )
        kind = "tokens" if tokens else "continuous"
        raw = to_sequences(
            Y, mask_value=est.mask_value, token_ids=tokens, name="y",
            data_format=fitted_data_format(est),
        )
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


def _encode(est, Y, X_raw, *, first):
    """Target sequences as internal ids (tokens, strings) or float vectors;
    learns the output vocabulary on the first fit."""
    raw, kind, one_d = read_targets(
        est, Y, X_raw.n_samples, autoencode_from=X_raw if Y is None else None
    )
    longest = int(raw.lengths.max())
    if first:
        est.output_type_ = kind
        est._output_one_d = bool(one_d)
        est.output_vocabulary_ = (
            None if kind == "continuous" else _vocabulary(raw.values[:, 0], kind)
        )
        est.n_outputs_ = raw.n_features if kind == "continuous" else None
        est.max_target_length_ = longest
    else:
        if kind != est.output_type_:
            raise ValueError(
                f"y holds {kind} but the model was fitted on {est.output_type_} targets."
            )
        if kind == "continuous" and raw.n_features != est.n_outputs_:
            raise ValueError(
                f"y has {raw.n_features} features per step, the model was fitted with "
                f"{est.n_outputs_}."
            )
        est.max_target_length_ = max(est.max_target_length_, longest)
    if est.max_output_length is not None and est.max_output_length < longest:
        i = int(np.argmax(raw.lengths))
        raise ValueError(
            f"max_output_length={est.max_output_length} is shorter than the longest "
            f"target (y[{i}] has {longest} steps), so predictions would be cut. Set "
            f"max_output_length >= {longest}, or None to use twice the longest target."
        )
    if kind == "continuous":
        return raw
    ids = _lookup(raw.values[:, 0], est.output_vocabulary_)
    if not first and (ids == UNK).any():
        row = int(np.flatnonzero(ids == UNK)[0])
        raise ValueError(
            f"y contains the symbol {raw.values[row, 0]!r}, unseen in the first fit; "
            "the output vocabulary is fixed after the first fit (refit without "
            "warm_start to learn a new one)."
        )
    return Sequences(ids[:, None], raw.offsets, raw.form)


def decode(module, data, beam_width, max_len, return_attention):
    """Decode every sample of ``data`` in length-grouped batches.

    Returns per-sample outputs (internal ids (T_i,) or vectors (T_i, K))
    and, when asked, attention weights (T_i, S_i), in the original order.
    """
    module.eval()
    outputs = [None] * data.n_samples
    weights = [None] * data.n_samples if return_attention else None
    batch = max(1, PREDICT_BATCH // beam_width)
    for idx in length_grouped_batches(data.lengths_np, batch):
        x, lengths, _, _ = data.get(idx)
        if beam_width > 1 and module.tokens_out:
            out, out_len, att = beam_decode(
                module, x, lengths, max_len, beam_width,
                return_attention=return_attention,
            )
        else:
            out, out_len, att = greedy_decode(
                module, x, lengths, max_len, return_attention=return_attention
            )
        out, out_len = out.cpu().numpy(), out_len.cpu().numpy().tolist()
        src_len = lengths.cpu().numpy().tolist()
        att = None if att is None else att.float().cpu().numpy()
        for j, i in enumerate(np.asarray(idx).tolist()):
            outputs[i] = out[j, : out_len[j]]
            if return_attention:
                weights[i] = att[j, : out_len[j], : src_len[j]].astype(np.float64)
    return outputs, weights


def user_outputs(est, outputs):
    """Decoded internal outputs as the user's symbols: strings, token ids or floats."""
    kind = est.output_type_
    if kind == "continuous":
        if est._output_one_d:
            return [o[:, 0].astype(np.float64) for o in outputs]
        return [o.astype(np.float64) for o in outputs]
    symbols = est.output_vocabulary_
    if kind == "tokens":
        return [symbols[o - N_SPECIAL] for o in outputs]
    if kind == "words":
        return [symbols[o - N_SPECIAL].tolist() for o in outputs]
    codes = _vocabulary_codes(symbols)
    lengths = np.fromiter(map(len, outputs), dtype=np.int64, count=len(outputs))
    offsets = np.zeros(len(outputs) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.concatenate(outputs) if outputs else np.zeros(0, dtype=np.int64)
    return _codes_to_strings(codes[flat - N_SPECIAL], offsets)


def encode_inputs(est, X, *, reset, sequence_lengths=None):
    """Validate a Seq2SeqTransformer's ``X`` (strings, token ids or float
    vectors); return (internal sequences, raw symbol sequences). With
    ``reset`` the input kind and vocabulary are learned."""
    if isinstance(X, (list, tuple)) and len(X) == 0:
        raise ValueError("X is an empty list; at least one sequence is required.")
    X = _as_array_if_array_like(X)
    words = _word_items(X, "X")
    items = words if words is not None else _string_items(X, "X")
    if items is not None:
        if sequence_lengths is not None:
            raise ValueError(
                "sequence_lengths is for padded array input; strings and token lists "
                "already carry their lengths."
            )
        if words is not None:
            raw, kind = _encode_words(words, "X"), "words"
        else:
            raw, kind = _encode_strings(items, "X"), "strings"
        if reset:
            reset_feature_names(est)
            est._fitted_on_table = False
            est._n_step_features = est.n_features_in_ = 1
    else:
        raw = est._validate_X(X, reset=reset, sequence_lengths=sequence_lengths)
        kind = "tokens" if est.embedding_dim is not None else "continuous"
        if kind == "tokens" and raw.n_features != 1:
            raise ValueError(
                f"With embedding_dim set, X must hold one token id per step; got "
                f"{raw.n_features} features per step. Pass (n_samples, n_timesteps) "
                "arrays or a list of 1-D id arrays."
            )
    if reset:
        est.input_type_ = kind
        est.input_vocabulary_ = (
            None if kind == "continuous" else _vocabulary(raw.values[:, 0], kind)
        )
    elif kind != est.input_type_:
        raise ValueError(
            f"X holds {kind} but {type(est).__name__} was fitted on "
            f"{est.input_type_}; pass the same kind of input as in fit."
        )
    if kind == "continuous":
        return raw, raw
    ids = _lookup(raw.values[:, 0], est.input_vocabulary_)[:, None]
    return raw.with_values(ids), raw
