"""Export a fitted estimator's network for serving without skrnn.

Two formats, one contract:

- :func:`export_onnx` writes an ONNX model (run it with ``onnxruntime``; no
  torch, no skrnn);
- :func:`export_torchscript` writes a TorchScript archive (run it with
  ``torch.jit.load`` or libtorch in C++; no skrnn).

Inputs of the exported model (names ``x`` and ``lengths``), any batch size
and any padded length:

``x`` : float32 array of shape (N, L, F)
    Post-padded sequences: sample ``i`` holds its real steps at
    ``0 .. lengths[i] - 1``. What follows is filler and never read, so NaN
    padding (``SequencePadder``'s default) can be passed as it is. Models
    fitted on 2-D ``X`` (univariate sequences) take ``F = 1``. For token
    models (``embedding_dim`` set) ``x`` is int64 ids of shape (N, L, F);
    ids unseen in ``fit`` map to the shared "unknown" row, as in skrnn.
``lengths`` : int64 array of shape (N,)
    Real length of each sequence, ``1 <= lengths[i] <= L``. For NaN-padded
    ``x``: ``lengths = (~np.isnan(x).all(-1)).sum(1)``.

Output (name ``output``):

- :class:`~skrnn.RNNClassifier`: class probabilities (N, n_classes), equal to
  ``predict_proba``; ``classes[argmax]`` equals ``predict``;
- :class:`~skrnn.RNNRegressor`: predictions (N, n_outputs) (a 1-D ``y`` gives
  ``n_outputs = 1``), or (N, L, n_outputs) with ``return_sequences=True``,
  NaN past each length, on the targets' own scale (the internal target
  scaling undone); the median for ``loss='quantile'``.

**Whole pipelines.** A fitted ``Pipeline`` of skrnn sequence transformers
(``SequenceScaler``, ``SequencePatcher``, ``SequencePadder``) ending in an
``RNNClassifier`` or ``RNNRegressor`` exports as one model that takes the
pipeline's raw input: scaling, patching and padder truncation run inside
the graph, with the lengths of the raw sequences. When the pipeline reads
channels first (aeon's layout), ``x`` is (N, C, L), transposed in the
graph. Outputs equal ``pipeline.predict_proba`` / ``predict`` within float32
tolerance. Any other step is an error that names it.

The class labels and the input contract are written next to the model: in
the ONNX file's ``metadata_props`` and in the TorchScript archive's extra file
``skrnn.json`` (keys ``classes``, ``n_features``, ``token_ids``, ``output``;
for a pipeline also ``data_format`` and ``steps``).

Why not ``torch.export`` / the dynamo-based ONNX exporter: they decompose
``nn.LSTM``/``nn.GRU``/``nn.RNN`` into a loop over time steps and bake the
padded length ``L`` into the graph. Both formats here come from torch's
tracer, which keeps the recurrent layers as single operators (ONNX's
``LSTM``/``GRU``/``RNN``), so ``N`` and ``L`` stay dynamic; the tests check
other batch sizes and lengths than the example used for tracing. torch marks
that tracer as deprecated (2.9+); these functions silence its warnings.
The exported model runs on the CPU.
"""

import copy
import json
import warnings

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._nn.losses import monotone_quantiles
from ._nn.recurrent import step_mask
from ._sequences import targets as _targets

__all__ = ["export_onnx", "export_torchscript"]


class _ServingNet(nn.Module):
    """The fitted network plus what skrnn does around it at predict time:
    filler steps zeroed, unknown token ids mapped, softmax for classifiers,
    NaN past the end of per-step outputs."""

    def __init__(self, net, *, proba, per_step, max_token=None, vocabulary=None, target=None):
        super().__init__()
        self.net = net
        self.proba = proba
        self.per_step = per_step
        self.max_token = max_token
        # ids of a fit with large ids map through its sorted vocabulary
        self.by_vocabulary = vocabulary is not None
        self.register_buffer(
            "vocabulary",
            torch.as_tensor(np.zeros(0) if vocabulary is None else vocabulary, dtype=torch.int64),
        )
        # regressors: (mean, scale, n_levels, median position) of the targets
        self.n_levels, self.median = (1, 0) if target is None else target[2:]
        self.unscale = target is not None
        mean, scale = (np.zeros(1), np.ones(1)) if target is None else target[:2]
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x, lengths):
        mask = step_mask(lengths, x.shape[1])
        if self.by_vocabulary:
            # row of each id in the vocabulary; unseen ids share row max_token
            hit = x.unsqueeze(-1) == self.vocabulary
            rows = hit.to(torch.int64).argmax(-1)
            x = torch.where(hit.any(-1), rows, torch.full_like(rows, self.max_token))
        elif self.max_token is not None:
            x = torch.clamp(x, 0, self.max_token)
        x = torch.where(mask.unsqueeze(-1), x, torch.zeros_like(x))
        out = self.net(x, lengths)
        if self.n_levels > 1:
            out = monotone_quantiles(out, self.n_levels)[..., self.median]
        if self.unscale:
            out = out * self.scale + self.mean
        if self.proba:
            out = torch.softmax(out, dim=-1)
        if self.per_step:
            out = torch.where(mask.unsqueeze(-1), out, torch.full_like(out, float("nan")))
        return out


def _serving_net(estimator):
    check_is_fitted(estimator, "module_")
    net = copy.deepcopy(estimator.module_).cpu().eval()
    tokens = getattr(estimator, "embedding_dim", None) is not None
    per_step = bool(getattr(estimator, "return_sequences", False))
    proba = hasattr(estimator, "classes_")
    target = None
    if hasattr(estimator, "target_mean_"):
        quantiles = getattr(estimator, "quantiles_", None)
        target = (estimator.target_mean_, estimator.target_scale_,
                  _targets.n_levels(quantiles), _targets.median_index(quantiles))
    model = _ServingNet(
        net, proba=proba, per_step=per_step,
        max_token=int(estimator.n_tokens_) if tokens else None,
        vocabulary=getattr(estimator, "_token_vocabulary", None) if tokens else None,
        target=target,
    ).eval()
    n_features = int(estimator._n_step_features)
    meta = {
        "format_version": 1,
        "estimator": type(estimator).__name__,
        "n_features": n_features,
        "token_ids": tokens,
        "output": "proba" if proba else ("per_step" if per_step else "values"),
        "classes": np.asarray(estimator.classes_).tolist() if proba else None,
    }
    # a small variable-length example batch to trace with
    lengths = torch.tensor([3, 1, 2], dtype=torch.int64)
    if tokens:
        x = torch.zeros((3, 3, n_features), dtype=torch.int64)
    else:
        x = torch.zeros((3, 3, n_features), dtype=torch.float32)
    return model, (x, lengths), meta


def export_torchscript(estimator, path):
    """Write the fitted network as a TorchScript archive.

    Parameters
    ----------
    estimator : RNNClassifier, RNNRegressor or Pipeline
        A fitted estimator, or a fitted ``Pipeline`` of skrnn sequence
        transformers (``SequenceScaler``, ``SequencePatcher``,
        ``SequencePadder``) ending in one: the transformers and the
        channels-first layout are folded into the exported graph (see the
        module docstring).
    path : str or path-like
        Where to write the archive (``.pt``).

    Returns
    -------
    meta : dict
        What was stored in the archive's ``skrnn.json`` (classes, input
        contract); see the module docstring.

    Examples
    --------
    >>> import numpy as np, torch, json
    >>> from skrnn import RNNClassifier
    >>> from skrnn.export import export_torchscript
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.normal(size=(rng.randint(2, 6), 2)) for _ in range(20)]
    >>> y = np.array([int(x[:, 0].mean() > 0) for x in X])
    >>> clf = RNNClassifier(hidden_size=4, max_iter=1, random_state=0).fit(X, y)
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "model.pt")
    >>> meta = export_torchscript(clf, path)
    >>> files = {"skrnn.json": ""}
    >>> served = torch.jit.load(path, _extra_files=files)   # no skrnn needed
    >>> x = torch.zeros(2, 5, 2); lengths = torch.tensor([5, 3])
    >>> served(x, lengths).shape
    torch.Size([2, 2])
    """
    model, example, meta = _serving(estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's deprecation and shape-check notes
        traced = torch.jit.trace(model, example, check_trace=False)
        torch.jit.save(traced, str(path), _extra_files={"skrnn.json": json.dumps(meta)})
    return meta


def export_onnx(estimator, path, *, opset_version=17):
    """Write the fitted network as an ONNX model (dynamic batch and length).

    Parameters
    ----------
    estimator : RNNClassifier, RNNRegressor or Pipeline
        A fitted estimator, or a fitted ``Pipeline`` of skrnn sequence
        transformers (``SequenceScaler``, ``SequencePatcher``,
        ``SequencePadder``) ending in one: the transformers and the
        channels-first layout are folded into the exported graph (see the
        module docstring).
    path : str or path-like
        Where to write the model (``.onnx``).
    opset_version : int, default=17
        ONNX opset.

    Returns
    -------
    meta : dict
        What was stored in the model's ``metadata_props`` (each value
        JSON-encoded); see the module docstring.

    Notes
    -----
    Serve with ``onnxruntime``::

        sess = onnxruntime.InferenceSession(path)
        proba = sess.run(None, {"x": x.astype(np.float32), "lengths": lengths})[0]
        classes = json.loads(sess.get_modelmeta().custom_metadata_map["classes"])
    """
    model, example, meta = _serving(estimator)
    per_step = meta["output"] == "per_step"
    length_axis = 2 if meta.get("data_format") == "channels_first" else 1  # (N, C, L)
    dynamic_axes = {
        "x": {0: "batch", length_axis: "length"},
        "lengths": {0: "batch"},
        "output": {0: "batch", 1: "length"} if per_step else {0: "batch"},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's deprecation and shape-check notes
        torch.onnx.export(
            model, example, str(path), input_names=["x", "lengths"], output_names=["output"],
            dynamic_axes=dynamic_axes, opset_version=opset_version, dynamo=False,
        )
    _write_onnx_metadata(path, meta)
    return meta


def _serving(estimator):
    """The serving network of an estimator or of a whole pipeline."""
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        from ._export_pipeline import pipeline_serving_net

        return pipeline_serving_net(estimator, _serving_net)
    return _serving_net(estimator)


def _write_onnx_metadata(path, meta):
    try:
        import onnx
    except ImportError:  # the model is complete; only the labels are not embedded
        warnings.warn(
            "The 'onnx' package is not installed, so the class labels and input contract "
            "were not written into the ONNX file's metadata; pip install onnx.",
            UserWarning,
            stacklevel=3,
        )
        return
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    onnx.save(proto, str(path))
