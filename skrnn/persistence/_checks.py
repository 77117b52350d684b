"""What a loaded model file may set: skrnn's public classes (read from the
class tree), the state each may hold, and the checks that what loads also
predicts (parameters within their constraints, the fitted attributes
consistent with the network, every tensor on the CPU)."""

import inspect

import numpy as np
import torch

from .._compat import SKLEARN_VERSION_KEY, validate_params
from .._home import MOVED_CLASSES, public_home
from ..exceptions import ModelFileError

MAX_THREADS = 4096  # n_threads a model file may set (it is clamped to the machine's cores when used)

# What a model file may set besides an estimator's parameters: its fitted
# attributes and the private state fit keeps (by the class that sets them;
# tests/persistence/test_reliability.py fits every configuration and checks this list).
_RNN_STATE = {
    "_weights", "_training", "_torch_params", "_optimizer_state", "_network_spec", "_lr_schedule_class",
    "_fitted_on_table", "_fitted_with_lengths", "_n_step_features", "_token_vocabulary",
    "n_features_in_", "feature_names_in_", "n_iter_", "loss_curve_", "lr_curve_", "validation_scores_",
    "validation_loss_curve_", "best_loss_", "best_validation_score_", "n_tokens_",
}


_TABLE_STATE = {"n_features_in_", "feature_names_in_", "_fitted_on_table", "_n_step_features"}


FITTED_STATE = {
    "BaseRNN": _RNN_STATE,
    "RNNClassifier": {"classes_", "_label_encoder", "front_end_"},
    "RNNRegressor": {"front_end_", "n_outputs_", "quantiles_", "target_mean_", "target_scale_", "_y_one_d"},
    "Seq2SeqTransformer": {"input_type_", "input_vocabulary_", "output_type_", "output_vocabulary_",
                           "max_target_length_", "n_components_", "n_outputs_", "_output_one_d"},
    "SequencePadder": _TABLE_STATE | {"maxlen_"},
    "SequenceScaler": _TABLE_STATE | {"mean_", "var_", "scale_", "n_steps_seen_"},
    "TimeSeriesWindower": {"n_features_in_", "feature_names_in_", "history_", "next_stamps_",
                           "series_ids_", "_time_kind"},
    "SequencePatcher": _TABLE_STATE | {"n_step_features_"},
    "WindowScaledRegressor": {"regressor_", "n_features_in_", "feature_names_in_"},
    # the layout a fit settled on, and the configuration carried by a clone
    "ConfigCloneMixin": {"_resolved_data_format", "_cloned_config"},
}


def _known_classes():
    """skrnn's public estimator and transformer classes, read from the class
    tree: every scikit-learn estimator whose public home (``__module__``,
    see :func:`skrnn._home.public_home`) is a public skrnn module, so a new
    public class is known without a list to keep."""
    from sklearn.base import BaseEstimator

    found, stack = {}, [BaseEstimator]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            parts = sub.__module__.split(".")
            if parts[0] == "skrnn" and not sub.__name__.startswith("_") and not any(
                p.startswith("_") for p in parts
            ):
                found[f"{sub.__module__}.{sub.__qualname__}"] = sub
    return [found[k] for k in sorted(found)]


def _state_keys():
    """``{"module.Class": keys its state may hold}`` of skrnn's types: its
    parameters, sklearn's version stamp and its fitted attributes."""
    out = {}
    for cls in _known_classes():
        keys = {SKLEARN_VERSION_KEY, *cls._get_param_names()}
        for base in cls.__mro__:
            keys |= FITTED_STATE.get(base.__name__, set())
        out[f"{cls.__module__}.{cls.__name__}"] = keys
    for old, new in MOVED_CLASSES.items():  # files that name a class by an older path
        if new in out:
            out[old] = out[new]
    return out


def _skrnn_objects(obj):
    """The skrnn estimators and transformers in ``obj`` (itself, the steps of
    pipelines and other meta-estimators, their parameters)."""
    from sklearn.base import BaseEstimator

    known, stack, found = tuple(_known_classes()), [obj], []
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, BaseEstimator):
            if isinstance(item, known):
                found.append(item)
            stack.extend(item.get_params(deep=False).values())
    return found


def _check_loaded(obj):
    """What loads also predicts: every skrnn object's parameters pass the
    constraints a user's values do, and fitted attributes fit its network."""
    for est in _skrnn_objects(obj):
        what = type(est).__name__
        try:
            validate_params(est)
        except ValueError as exc:
            raise ModelFileError(f"the stored {what} has an invalid parameter: {exc}") from None
        if hasattr(est, "_build_network"):  # a recurrent estimator (PersistenceMixin)
            _check_loaded_rnn(est, what)


def _check_loaded_rnn(est, what):
    from .._train.schedules import is_scheduler_class

    state = vars(est)
    for name, value in state.items():  # classes and functions only where skrnn stores them by name
        if isinstance(value, type) or inspect.isroutine(value):
            allowed = {"optimizer": lambda v: isinstance(v, type) and issubclass(v, torch.optim.Optimizer),
                       "lr_schedule": is_scheduler_class}.get(name, lambda v: False)
            if not allowed(value):
                raise ModelFileError(f"the stored {what}.{name} is the class or function {value!r}")
    if est.n_threads is not None and est.n_threads > MAX_THREADS:
        raise ModelFileError(f"the stored {what} sets n_threads={est.n_threads}; at most {MAX_THREADS}")
    if est.callbacks is not None:
        raise ModelFileError(f"the stored {what} holds callbacks; model files store callbacks=None")
    try:
        device = None if est.device == "auto" else torch.device(est.device)
    except (RuntimeError, TypeError, ValueError):
        device = torch.device("meta")
    if device is not None and device.type not in ("cpu", "cuda"):
        raise ModelFileError(f"the stored {what} runs on device={est.device!r}; model files run on "
                             "'auto', 'cpu' or 'cuda'")
    module = state.get("module_")
    if module is None:
        if any(k.endswith("_") and not k.startswith("_") and k != "n_features_in_" for k in state):
            raise ModelFileError(f"the stored {what} has fitted attributes but no network")
        return
    # what predict reads to check its input: counts are positive ints, the
    # layout one of the two names
    for name in ("_n_step_features", "n_features_in_", "n_tokens_"):
        value = state.get(name)
        if name in state and not (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
                                  and value >= 1):
            raise ModelFileError(f"the stored {what}.{name} is {value!r}; a positive integer is expected")
    if state.get("_resolved_data_format") not in (None, "channels_last", "channels_first"):
        raise ModelFileError(f"the stored {what}._resolved_data_format is "
                             f"{state['_resolved_data_format']!r}")
    tensors = [*module.parameters(), *module.buffers(), *_tensors(state.get("_optimizer_state"))]
    if any(t.device.type != "cpu" for t in tensors):
        raise ModelFileError(f"the stored network of {what} is not on the CPU")
    outputs = state.get("_network_spec", {}).get("n_outputs")
    if "classes_" in state:
        classes = state["classes_"]
        encoder = getattr(state.get("_label_encoder"), "classes_", None)
        if not (isinstance(classes, np.ndarray) and classes.ndim == 1 and len(classes) == outputs
                and isinstance(encoder, np.ndarray) and np.array_equal(encoder, classes)):
            raise ModelFileError(f"the stored {what} has {np.size(classes)} classes but its network "
                                 f"{outputs} outputs (or a label encoder of other classes)")
    if "n_outputs_" in state and "quantiles_" in state:
        n_outputs = state["n_outputs_"]
        levels = 1 if state["quantiles_"] is None else np.size(state["quantiles_"])
        scales = [np.size(state.get(k, 1)) for k in ("target_mean_", "target_scale_") if k in state]
        if not (isinstance(n_outputs, int) and n_outputs * levels == outputs
                and all(n in (1, n_outputs) for n in scales)):
            raise ModelFileError(f"the stored {what} has {n_outputs} outputs of {levels} levels but its "
                                 f"network {outputs} outputs")


def _tensors(obj):
    if torch.is_tensor(obj):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _tensors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _tensors(v)


@public_home("skrnn.persistence")
def trusted_types():
    """What :func:`load` trusts besides skops' defaults.

    Returns
    -------
    names : list of str
        ``"module.Class"`` of skrnn's public estimators and transformers (read
        from the class tree), for ``skops.io.load(path,
        trusted=trusted_types())``.
    """
    return [f"{c.__module__}.{c.__qualname__}" for c in _known_classes()]
