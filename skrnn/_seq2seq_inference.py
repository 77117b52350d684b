"""What a fitted :class:`~skrnn.Seq2SeqTransformer` does: decode output
sequences (greedy or beam search), give the encoder's representation, score
exact matches; and the validation score of a fit, by greedy decoding."""


from __future__ import annotations


import numpy as np
import torch
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_is_fitted

from ._train import engine as _engine
from ._base import (
    estimator_snapshot,
)
from ._nn.recurrent import teacher_forced_loss
from ._sequences.data import fitted_data_format
from ._sequences.vocab import (
    _lookup,
    read_targets,
    user_outputs,
)
from ._train.engine import length_grouped_batches
from ._train.decoding import PREDICT_BATCH, decode
from ._train.threads import torch_threads


class _Seq2SeqInference:
    """Prediction, transformation and scoring (a part of Seq2SeqTransformer)."""

    def _predict_internal(self, X, sequence_lengths, return_attention):
        check_is_fitted(self, "module_")
        if return_attention and self.attention is None:
            raise ValueError(
                "return_attention=True needs a model with attention; this one was "
                "fitted with attention=None."
            )
        with torch_threads(self.n_threads):
            src, _ = self._encode_X(X, reset=False, sequence_lengths=sequence_lengths)
            module, data = self._inference_batches(src)
            outputs, weights = decode(
                module, data, self.beam_width, self._max_output_length(), return_attention
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
            Real lengths of post-padded ``X`` (overrides ``mask_value``).
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
        Y = est._output(outputs, src)
        return (Y, weights) if return_attention else Y

    def transform(self, X, sequence_lengths=None):
        """Fixed-size encoder representation of each input sequence.

        Parameters
        ----------
        X : list of str, array-like or list of arrays
            Sequences, in any form accepted by :meth:`fit`.
        sequence_lengths : array-like of shape (n_samples,), default=None
            Real lengths of post-padded ``X`` (overrides ``mask_value``).

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
        """Fit, then return :meth:`transform` of ``X``.

        With ``learn_from='auto'`` (the default) ``y`` is ignored and the
        sequence autoencoder is trained: this is the call a ``Pipeline`` or
        ``FeatureUnion`` makes, passing the labels of a later step as ``y``.

        Parameters
        ----------
        X : list of str, array-like or list of arrays
            Input sequences, in any form accepted by :meth:`fit`.
        y : list of str, array-like or list of arrays, default=None
            Target sequences (see :meth:`fit`); None trains a sequence
            autoencoder.
        **fit_params : dict
            ``sample_weight`` and ``sequence_lengths``, passed to :meth:`fit`
            (``sequence_lengths`` also to :meth:`transform`).

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components_)
            The encoder's outputs pooled over the real steps (``pooling``).
        """
        sequence_lengths = fit_params.get("sequence_lengths")
        self.fit(X, self._fit_targets(y, transforming=True), **fit_params)
        return self.transform(X, sequence_lengths=sequence_lengths)

    def score(self, X, y, sample_weight=None, sequence_lengths=None):
        """Exact-match accuracy of :meth:`predict` against ``y``.

        A prediction counts only when the whole sequence equals its target.
        For continuous outputs, where exact equality is meaningless, the
        score is the R^2 of the predicted values over the target steps
        (a prediction shorter than its target is padded with zeros).

        Parameters
        ----------
        X : list of str, array-like or list of arrays
            Sequences, in any form accepted by :meth:`fit`.
        y : list of str, array-like or list of arrays
            True output sequences.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sequence in the score; None weighs all equally.
        sequence_lengths : array-like of shape (n_samples,), default=None
            Real lengths of post-padded ``X`` (overrides ``mask_value``).

        Returns
        -------
        score : float
            Share of the sequences predicted exactly (R^2 for continuous outputs).
        """
        outputs, _, _ = self._predict_internal(X, sequence_lengths, False)
        raw, kind, _ = self._read_targets(y, len(outputs))
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

    def _read_targets(self, Y, n_samples, autoencode_from=None):
        """(raw target sequences, kind, one_d) for ``Y``, or for the input
        itself (``autoencode_from``: fit without y)."""
        if autoencode_from is None:
            return read_targets(Y, n_samples, output_type=self.output_type,
                                mask_value=self.mask_value,
                                data_format=fitted_data_format(self))
        raw, kind = autoencode_from, self.input_type_
        expected = "continuous" if kind == "continuous" else "tokens"
        if self.output_type not in ("auto", expected):
            raise ValueError(
                f"fit(X) without y trains an autoencoder whose outputs are read like "
                f"X ({kind}), but output_type={self.output_type!r}. Pass y or use "
                "output_type='auto'."
            )
        return raw, kind, raw.n_features == 1

    def _validation_score(self, model, val):
        """Exact-match accuracy of greedy decoding on the held-out pairs
        (negative mean loss for continuous outputs)."""
        if model.tokens_out:
            pred, _ = decode(model, val, 1, self._max_output_length(), False)
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

    def _output(self, outputs, X):
        return user_outputs(outputs, self.output_type_, self._output_one_d,
                            self.output_vocabulary_)

    def _max_output_length(self):
        """Longest output decoded: ``max_output_length``, or twice the longest target."""
        return self.max_output_length or 2 * self.max_target_length_

    @property
    def _n_features_out(self):
        return self.n_components_
