"""Callbacks: the protocol (hooks, logs, stopping with an honest n_iter_,
exceptions leaving the estimator as it was), the shipped callbacks, their
life through clone / GridSearchCV(n_jobs=2) / pickle / save, and worked
examples with MLflow, TensorBoard and Optuna (skipped when not installed)."""

import csv
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer, load
from skrnn.callbacks import Callback, Checkpoint, CSVLogger, MetricsLogger, training_module

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_size=8, random_state=0, device="cpu", batch_size=16, n_iter_no_change=100)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(48, 6, 2))
    return X, (X[:, :, 0].mean(1) > 0).astype(int)


class StopAt(Callback):
    """Stops training after epoch ``epoch``; records the hooks it saw."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_fit_begin(self, estimator):
        self.calls_ = ["begin"]

    def on_epoch_end(self, estimator, epoch, logs):
        self.calls_.append(epoch)
        return epoch >= self.epoch

    def on_fit_end(self, estimator):
        self.calls_.append(("end", estimator.n_iter_))


class OnlyEpochEnd:
    """Not a Callback subclass: one hook is enough."""

    def __init__(self):
        self.logs = []

    def on_epoch_end(self, estimator, epoch, logs):
        self.logs.append(logs)


def test_a_callback_stops_training_with_an_honest_n_iter(data):
    cb = StopAt(3)
    est = RNNClassifier(max_iter=50, callbacks=[cb], **FAST).fit(*data)
    assert est.n_iter_ == 3 == len(est.loss_curve_) == len(est.lr_curve_)
    # the estimator's callbacks are the user's objects (clones copy them)
    assert est.callbacks[0] is cb and cb.calls_ == ["begin", 1, 2, 3, ("end", 3)]
    # no "maximum iterations reached" warning for a callback stop
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        RNNClassifier(max_iter=50, callbacks=[StopAt(40)], **{**FAST, "learning_rate_init": 1e-2}).fit(*data)
    assert not any("maximum iterations" in str(w.message) for w in caught)


def test_logs_hold_epoch_loss_lr_and_validation(data):
    X, y = data
    X, y = np.concatenate([X, X]), np.concatenate([y, y])
    cb = OnlyEpochEnd()
    est = RNNClassifier(max_iter=4, early_stopping=True, callbacks=[cb], **FAST).fit(X, y)
    assert [set(r) for r in cb.logs] == [{"epoch", "loss", "lr", "val_loss", "val_score"}] * 4
    assert [r["epoch"] for r in cb.logs] == [1, 2, 3, 4]
    assert [r["loss"] for r in cb.logs] == est.loss_curve_
    assert [r["val_score"] for r in cb.logs] == est.validation_scores_
    assert [r["val_loss"] for r in cb.logs] == est.validation_loss_curve_
    cb2 = OnlyEpochEnd()
    RNNClassifier(max_iter=2, callbacks=[cb2], **FAST).fit(*data)
    assert set(cb2.logs[0]) == {"epoch", "loss", "lr"}


def test_epochs_continue_across_warm_start_and_partial_fit(data):
    cb = OnlyEpochEnd()
    est = RNNClassifier(max_iter=2, warm_start=True, callbacks=[cb], **FAST).fit(*data)
    est.fit(*data)
    est.partial_fit(*data)
    assert [r["epoch"] for r in cb.logs] == [1, 2, 3, 4, 5] and est.n_iter_ == 5


class Boom:
    def __init__(self, at):
        self.at = at

    def on_epoch_end(self, estimator, epoch, logs):
        if epoch == self.at:
            raise RuntimeError("callback failed")


def test_an_exception_in_a_callback_leaves_the_estimator_as_it_was(data):
    est = RNNClassifier(max_iter=5, callbacks=[Boom(2)], **FAST)
    with pytest.raises(RuntimeError, match="callback failed"):
        est.fit(*data)
    assert not hasattr(est, "module_") and not hasattr(est, "n_iter_")
    est.set_params(callbacks=None).fit(*data)
    before = {k: p.detach().clone() for k, p in est.module_.state_dict().items()}
    curve = list(est.loss_curve_)
    est.set_params(callbacks=[Boom(7)], warm_start=True)
    with pytest.raises(RuntimeError):
        est.fit(*data)
    assert est.loss_curve_ == curve and est.n_iter_ == 5
    for k, v in est.module_.state_dict().items():
        assert torch.equal(v, before[k])


def test_objects_without_hooks_are_refused(data):
    with pytest.raises(ValueError, match=r"callbacks\[1\].*defines none"):
        RNNClassifier(callbacks=[StopAt(1), object()], **FAST).fit(*data)
    with pytest.raises(ValueError, match="callbacks"):
        RNNClassifier(callbacks=StopAt(1), **FAST).fit(*data)


def test_checkpoint_keeps_the_best_weights(data, tmp_path):
    X, y = data
    X, y = np.concatenate([X, X]), np.concatenate([y, y])
    ckpt = Checkpoint(tmp_path / "best.pt")
    est = RNNClassifier(max_iter=15, early_stopping=True, learning_rate_init=3e-2,
                        callbacks=[ckpt], **FAST).fit(X, y)
    best = int(np.argmin(est.validation_loss_curve_))
    assert ckpt.best_epoch_ == best + 1
    assert ckpt.best_value_ == min(est.validation_loss_curve_)
    # early stopping restored the same epoch's weights: the file holds them
    state = torch.load(tmp_path / "best.pt", weights_only=True)
    for k, v in est.module_.state_dict().items():
        assert torch.equal(state[k], v)
    # monitoring the training loss: restore() loads the best epoch into a fitted model
    ckpt = Checkpoint(tmp_path / "train.pt", monitor="loss")
    est = RNNClassifier(max_iter=6, callbacks=[ckpt], **FAST).fit(*data)
    assert ckpt.best_epoch_ == int(np.argmin(est.loss_curve_)) + 1
    proba = est.predict_proba(data[0])
    ckpt.restore(est)
    if ckpt.best_epoch_ == est.n_iter_:
        np.testing.assert_array_equal(est.predict_proba(data[0]), proba)
    with pytest.raises(ValueError, match="val_loss"):
        RNNClassifier(max_iter=2, callbacks=[Checkpoint(tmp_path / "x.pt", monitor="val_loss")],
                      **FAST).fit(*data)


def test_csv_logger_and_training_module(data, tmp_path):
    path = tmp_path / "log.csv"
    seen = []

    class Peek:
        def on_epoch_end(self, estimator, epoch, logs):
            seen.append(training_module(estimator).training)

    est = RNNClassifier(max_iter=3, callbacks=[CSVLogger(path), Peek()], **FAST).fit(*data)
    rows = list(csv.DictReader(open(path)))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    np.testing.assert_allclose([float(r["loss"]) for r in rows], est.loss_curve_)
    np.testing.assert_allclose([float(r["lr"]) for r in rows], est.lr_curve_)
    assert seen == [True] * 3 and not hasattr(est, "_training_module")
    est.fit(*data)  # a new fit starts a new file...
    assert len(list(csv.DictReader(open(path)))) == 3
    est.set_params(callbacks=[CSVLogger(path, append=True)]).fit(*data)  # ...unless append
    assert len(list(csv.DictReader(open(path)))) == 6


def test_callbacks_survive_clone_pickle_and_save(data, tmp_path):
    logger = MetricsLogger()
    est = RNNClassifier(max_iter=2, callbacks=[logger, StopAt(5)], **FAST)
    copy = clone(est)
    assert type(copy.callbacks[0]) is MetricsLogger and copy.callbacks[0] is not logger
    assert copy.callbacks[1].epoch == 5
    est.fit(*data)
    assert len(logger.history_) == 2 and not hasattr(copy.callbacks[0], "history_")
    back = pickle.loads(pickle.dumps(est))
    assert len(back.callbacks[0].history_) == 2 and back.callbacks[1].calls_[-1] == ("end", 2)
    np.testing.assert_array_equal(back.predict(data[0]), est.predict(data[0]))
    with pytest.warns(UserWarning, match="cannot hold callbacks"):
        est.save(tmp_path / "m.skrnn")
    assert est.callbacks[0] is logger  # the estimator keeps them
    loaded = load(tmp_path / "m.skrnn")
    assert loaded.callbacks is None
    np.testing.assert_array_equal(loaded.predict(data[0]), est.predict(data[0]))


def test_callbacks_in_grid_search_with_two_workers(data, one_thread):
    search = GridSearchCV(
        RNNClassifier(max_iter=20, callbacks=[StopAt(2), MetricsLogger()], **FAST),
        {"hidden_size": [4, 8]}, cv=2, n_jobs=2,
    ).fit(*data)
    best = search.best_estimator_
    assert best.n_iter_ == 2 and len(best.callbacks[1].history_) == 2
    assert best.callbacks[0].calls_ == ["begin", 1, 2, ("end", 2)]
    # the search's own estimator was cloned, never fitted
    assert not hasattr(search.estimator.callbacks[1], "history_")


def test_every_estimator_calls_back(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 5, 2))
    reg = RNNRegressor(max_iter=5, callbacks=[StopAt(2)], **FAST).fit(X, X[:, -1, 0])
    assert reg.n_iter_ == 2
    tokens = [rng.randint(0, 5, rng.randint(2, 5)) for _ in range(30)]
    s2s = Seq2SeqTransformer(max_iter=5, callbacks=[StopAt(3)], hidden_size=8, random_state=0,
                             device="cpu").fit(tokens, [t[::-1] for t in tokens])
    assert s2s.n_iter_ == 3


# --------------------------------------------------- optional integrations
class MLflowLogger(Callback):
    """Log every epoch's metrics to an MLflow run (example)."""

    def __init__(self, tracking_uri, run_name):
        self.tracking_uri = tracking_uri
        self.run_name = run_name

    def on_fit_begin(self, estimator):
        from mlflow.tracking import MlflowClient

        self._client = MlflowClient(tracking_uri=self.tracking_uri)
        exp = self._client.get_experiment_by_name("skrnn") or None
        exp_id = exp.experiment_id if exp else self._client.create_experiment("skrnn")
        self.run_id_ = self._client.create_run(exp_id, run_name=self.run_name).info.run_id
        self._client.log_param(self.run_id_, "hidden_size", estimator.hidden_size)

    def on_epoch_end(self, estimator, epoch, logs):
        for key, value in logs.items():
            if key != "epoch":
                self._client.log_metric(self.run_id_, key, value, step=epoch)

    def on_fit_end(self, estimator):
        self._client.set_terminated(self.run_id_)
        del self._client  # the estimator stays picklable


def test_mlflow_logger_example(data, tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    # a local file store under tmp_path (MLflow 3 asks to opt in to it)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")

    uri = (tmp_path / "mlruns").as_uri()
    cb = MLflowLogger(uri, "demo")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mlflow's own deprecation notices
        est = RNNClassifier(max_iter=3, callbacks=[cb], **FAST).fit(*data)
        history = MlflowClient(tracking_uri=uri).get_metric_history(cb.run_id_, "loss")
    assert [m.step for m in history] == [1, 2, 3]
    np.testing.assert_allclose([m.value for m in history], est.loss_curve_)


class TensorBoardLogger(Callback):
    """Write every epoch's metrics as TensorBoard scalars (example)."""

    def __init__(self, log_dir):
        self.log_dir = log_dir

    def on_fit_begin(self, estimator):
        from torch.utils.tensorboard import SummaryWriter

        self._writer = SummaryWriter(self.log_dir)

    def on_epoch_end(self, estimator, epoch, logs):
        for key, value in logs.items():
            if key != "epoch":
                self._writer.add_scalar(key, value, epoch)

    def on_fit_end(self, estimator):
        self._writer.close()
        del self._writer


def test_tensorboard_logger_example(data, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    est = RNNClassifier(max_iter=3, lr_schedule="cosine",
                        callbacks=[TensorBoardLogger(str(tmp_path))], **FAST).fit(*data)
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    lr = events.Scalars("lr")
    assert [e.step for e in lr] == [1, 2, 3]
    np.testing.assert_allclose([e.value for e in lr], est.lr_curve_, rtol=1e-6)


class OptunaPruning(Callback):
    """Report the validation loss to an Optuna trial each epoch and stop
    the fit when the pruner says so (example)."""

    def __init__(self, trial, monitor="val_loss"):
        self.trial = trial
        self.monitor = monitor

    def on_epoch_end(self, estimator, epoch, logs):
        import optuna

        self.trial.report(logs[self.monitor], step=epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {epoch}")


def test_optuna_pruning_example(data):
    optuna = pytest.importorskip("optuna")
    X, y = data
    X, y = np.concatenate([X, X]), np.concatenate([y, y])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    fitted = []

    def objective(trial):
        est = RNNClassifier(
            max_iter=10, early_stopping=True,
            learning_rate_init=trial.suggest_float("lr", 1e-3, 1e-2, log=True),
            callbacks=[OptunaPruning(trial)], **FAST,
        )
        fitted.append(est)
        return est.fit(X, y).validation_loss_curve_[-1]

    # prunes every trial once 3 epochs have been reported
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=0.0, n_warmup_steps=3))
    study.optimize(objective, n_trials=2)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.PRUNED] * 2
    assert [sorted(t.intermediate_values) for t in study.trials] == [[1, 2, 3]] * 2
    # the pruned fits left their estimators unfitted
    assert not any(hasattr(est, "module_") for est in fitted)
