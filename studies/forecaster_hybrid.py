"""The study behind RNNForecaster's hybrid defaults: the network alone, the
exponential smoothing alone and their weighted averages, for a network
configuration, on the histories only.

Data and split as ``studies/forecaster_defaults.py``: every data set of
``benchmarks/bench_forecast_classic.py`` loses its test steps, the last
``horizon`` steps of every remaining history are held out and forecast from
the steps before them. Each seed fits ``RNNForecaster(ets_weight=0,
calibration_windows=0)`` (the network alone) once; the smoothing half
(``skrnn.forecasting._ets.fit_ets``, the forecaster's own) is fitted per
series; the combinations ``w * smoothing + (1 - w) * network`` are computed
from those same forecasts. Cells: mean MASE over a data set's series and
the seeds; "mean": over the five data sets.

Network configurations (``--config``):

``current``   the forecaster's defaults (quantile loss on robustly scaled
              targets, log series' changes not divided further, 80 epochs
              at a constant 1e-3).
``previous``  the defaults before the hybrid: Huber loss on standardised
              targets, every series divided by its mean absolute one-step
              change (log series too), about 2,000 gradient steps with a
              cosine schedule (5 % warm-up).

    OMP_NUM_THREADS=1 python studies/forecaster_hybrid.py --config previous --seeds 0 1 2 3
    OMP_NUM_THREADS=1 python studies/forecaster_hybrid.py --config current --seeds 0 1 2 3
    OMP_NUM_THREADS=1 python studies/forecaster_hybrid.py --seeds 0 1 --params '{"n_models": 3}'
    OMP_NUM_THREADS=1 python studies/forecaster_hybrid.py --seeds 0 1 2 3 --theta    # + Theta
    OMP_NUM_THREADS=1 python studies/forecaster_hybrid.py --seeds 0 1 2 3 --theta --drift plain  # + drift
    OMP_NUM_THREADS=1 python studies/forecaster_hybrid.py --seeds 0 1 2 3 --ets-log  # ETS on log(y)

Network variants measured and not taken (``studies/forecaster_defaults.md``,
section 3): ``--trend-feature``, ``--input-scaling``, ``--diff-feature``,
``--classical-feature``, ``--window-ensemble 1 1.5 2`` and
``--regressor-params '{...}'`` (settings of the inner RNNRegressor). With
``--theta --drift plain`` the three-way table ends with the median of the
three forecasts.

Requires aeon and statsmodels (the data).
"""

import argparse
import json
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_forecast_classic import DATASETS, per_series, theta  # noqa: E402
from forecaster_defaults import held_out  # noqa: E402

from skrnn import RNNForecaster  # noqa: E402
from skrnn.forecasting import _forecast_input, _forecaster  # noqa: E402
from skrnn.forecasting._ets import drift_forecasts, fit_ets  # noqa: E402
from skrnn.metrics import mase_scale  # noqa: E402

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: (network, smoothing, Theta) weights of ``--theta``: the quarter grid and thirds
THREE = tuple((a / 4, b / 4, (4 - a - b) / 4) for a in range(5) for b in range(5 - a)) + (
    (1 / 3, 1 / 3, 1 / 3),)


def previous_config():
    """Patches that restore the previous network configuration."""
    regressor = _forecaster.RNNForecaster._regressor

    def _regressor(self, seed):
        return regressor(self, seed).set_params(
            target_scaling="standard", lr_schedule="cosine",
            lr_schedule_params={"warmup": 0.05, "max_warmup_epochs": 15})

    stats = _forecast_input._with_stats

    def _with_stats(s, season):
        s = stats(s, season)
        if s.log:  # divided by the mean absolute change of log(y), as before
            diffs = np.abs(np.diff(s.z))
            if len(diffs) and diffs.mean() > 0:
                s.scale = float(diffs.mean())
        return s

    return [mock.patch.object(_forecaster.RNNForecaster, "_regressor", _regressor),
            mock.patch.object(_forecast_input, "_with_stats", _with_stats),
            mock.patch.object(_forecaster, "_with_stats", _with_stats)], {"max_iter": "auto",
                                                                           "loss": "huber"}


def drift(h, horizon, m=1):
    """The random walk with drift (the forecaster's ``drift_forecasts``), from the
    same season's last value when ``m > 1`` and the history holds a season."""
    plain = drift_forecasts(h, [len(h)], horizon)[0]
    if m > 1 and len(h) >= m:
        steps = np.arange(1, horizon + 1)
        return plain - h[-1] + h[len(h) - m + (steps - 1) % m]
    return plain


def ratio_config():
    """Patches that feed the network ratios to the window's last value
    (``y / y_last - 1``) and train it on ``y[t + k] / y[t] - 1`` where it
    models log(y), in place of the log ratios; forecasts map back with
    ``log1p``. The representation of ``benchmarks/bench_forecast_panel.py``'s
    M1 recipe (``WindowScaledRegressor(method='last')``)."""
    cls = _forecaster.RNNForecaster
    windows, rows, network_point = cls._windows, cls._training_rows, cls._network_point

    def _windows(self, blocks):
        W = windows(self, blocks)
        if self.log_target_:
            W[:, :, 0] = np.expm1(W[:, :, 0])
        return W

    def _training_rows(self, series):
        X, Y = rows(self, series)
        return X, (np.expm1(Y) if self.log_target_ else Y)

    def _network_point(self, models, histories, futures):
        point = network_point(self, models, histories, futures)
        if not self.log_target_:
            return point
        # log series have scale 1: the network's output is point - last, a ratio here
        lasts = np.array([h.z[-1] for h in histories])[:, None]
        return lasts + np.log1p(np.maximum(point - lasts, -0.99))

    return [mock.patch.object(cls, "_windows", _windows),
            mock.patch.object(cls, "_training_rows", _training_rows),
            mock.patch.object(cls, "_network_point", _network_point)]


def trend_feature():
    """Patches that add the series' mean step up to each step, ``(z[t] - z[0]) /
    t`` over its scale, as a network input (computed on the whole series, so
    the forecaster keeps whole series where it would keep their tails)."""
    cls = _forecaster.RNNForecaster
    features = cls._features

    def _features(self, s, future_known):
        out = features(self, s, future_known)
        z0, t0 = getattr(s, "_z0", s.z[0]), getattr(s, "_t0", 0)
        pos = t0 + np.arange(len(s.y))
        step = np.where(pos > 0, (s.z - z0) / np.maximum(pos, 1), 0.0) / s.scale
        return np.hstack([out, step[:, None]])

    tail = _forecast_input._Series.tail

    def _tail(self, n):
        out = tail(self, n)
        out._z0 = getattr(self, "_z0", self.z[0])
        out._t0 = getattr(self, "_t0", 0) + len(self.y) - len(out.y)
        return out

    return [mock.patch.object(cls, "_features", _features),
            mock.patch.object(_forecast_input._Series, "tail", _tail)]


def input_scaling():
    """Patches that divide the network's first input (the window relative to its
    last value) by its standard deviation over the training windows, fixed at the
    first call (the fit); the targets are untouched."""
    cls = _forecaster.RNNForecaster
    windows = cls._windows

    def _windows(self, blocks):
        W = windows(self, blocks)
        if not hasattr(self, "_input_scale"):
            self._input_scale = float(np.nanstd(W[:, :-1, 0])) or 1.0
        W[:, :, 0] /= self._input_scale
        return W

    return [mock.patch.object(cls, "_windows", _windows)]


def window_ensemble(factors):
    """Patches that train the ``n_models`` networks on windows of ``factors``
    times the forecaster's window (one factor per network, e.g. 1, 1.5, 2) and
    average their forecasts, each read from its own window."""
    cls = _forecaster.RNNForecaster
    fit_models, network_point = cls._fit_models, cls._network_point

    def _fit_models(self, series, seeds):
        if not hasattr(self, "_base_window"):
            self._base_window = self.window_
        models = []
        for factor, seed in zip(factors, seeds):
            self.window_ = int(round(factor * self._base_window))
            (model,) = fit_models(self, series, [seed])
            model._study_window = self.window_
            models.append(model)
        self.window_ = max(m._study_window for m in models)  # tails keep the longest
        return models

    def _network_point(self, models, histories, futures):
        kept, out = self.window_, []
        for model in models:
            self.window_ = model._study_window
            out.append(network_point(self, [model], histories, futures))
        self.window_ = kept
        return np.mean(out, axis=0)

    return [mock.patch.object(cls, "_fit_models", _fit_models),
            mock.patch.object(cls, "_network_point", _network_point)]


def diff_feature():
    """Patches that add the scaled one-step change of the target as a network
    input (0 at each window's first step, which has no change inside it)."""
    cls = _forecaster.RNNForecaster
    features, windows = cls._features, cls._windows

    def _features(self, s, future_known):
        out = features(self, s, future_known)
        change = np.concatenate([[0.0], np.diff(s.z)]) / s.scale
        return np.hstack([out, change[:, None]])

    def _windows(self, blocks):
        W = windows(self, blocks)
        W[:, 0, -1] = np.where(np.isnan(W[:, 0, -1]), np.nan, 0.0)
        return W

    return [mock.patch.object(cls, "_features", _features),
            mock.patch.object(cls, "_windows", _windows)]


def classical_feature(clip=3.0):
    """Patches that feed the network, at every step ``t``, the forecaster's
    classical forecasts of the next ``horizon`` steps made after ``t`` (ETS,
    with the drift on series without a season; fitted on the series the
    features are built from), relative to ``z[t]`` and over the series' scale,
    clipped to +-``clip``. The network then reads the classical path; its
    target is unchanged. Whole series stand in for their tails, so that the
    classical forecasts of the last window see the whole history."""
    from skrnn.forecasting._ets import classical_forecasts

    cls = _forecaster.RNNForecaster
    features = cls._features

    def _features(self, s, future_known):
        out = features(self, s, future_known)
        T = len(s.y)
        cl = classical_forecasts(s.y, s.y, list(range(1, T + 1)), self.horizon,
                                 self.season_length_)
        z = s.z[:, None]
        if s.log:
            rel = np.log(np.maximum(cl, 1e-3 * s.y[:, None])) - z
        else:
            rel = cl - z
        return np.hstack([out, np.clip(rel / s.scale, -clip, clip)])

    def _tail(self, n):
        return self

    return [mock.patch.object(cls, "_features", _features),
            mock.patch.object(_forecast_input._Series, "tail", _tail)]


def network_forecasts(history, horizon, seed, params):
    model = RNNForecaster(horizon, id_col="unique_id", time_col="ds", random_state=seed,
                          ets_weight=0.0, calibration_windows=0, **params).fit(history)
    pred = model.predict()
    return {k: g["y"].to_numpy() for k, g in pred.groupby("unique_id", sort=False)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=("current", "previous"), default="current")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--params", type=json.loads, default={},
                        help='JSON dict of further RNNForecaster parameters, e.g. \'{"n_models": 3}\'')
    parser.add_argument("--drift", choices=("plain", "seasonal"), default=None,
                        help="with --theta: the drift forecast in Theta's place: 'plain', the "
                             "last value plus the history's mean step per step ahead; "
                             "'seasonal', the same season's last value plus the mean step")
    parser.add_argument("--theta", action="store_true",
                        help="also average in the Theta method (statsmodels' ThetaModel, as "
                             "the benchmark fits it): the three-way weights on a grid")
    parser.add_argument("--ratio", action="store_true",
                        help="the network reads and predicts ratios to the window's last "
                             "value instead of log ratios (series modelled on the log scale)")
    parser.add_argument("--ets-log", action="store_true",
                        help="fit the smoothing half on log(y) for data sets whose values are "
                             "all positive (the scale the forecaster's network models them on)")
    parser.add_argument("--trend-feature", action="store_true",
                        help="also feed the network the series' mean step up to each step "
                             "((z[t] - z[0]) / t, scaled): its long-run trend")
    parser.add_argument("--input-scaling", action="store_true",
                        help="divide the network's window input by its standard deviation "
                             "over the training windows")
    parser.add_argument("--window-ensemble", nargs="+", type=float, default=None,
                        help="one network per factor, trained on that multiple of the "
                             "window, their forecasts averaged (e.g. 1 1.5 2)")
    parser.add_argument("--diff-feature", action="store_true",
                        help="also feed the network the target's one-step change")
    parser.add_argument("--classical-feature", action="store_true",
                        help="also feed the network the classical half's forecasts made "
                             "after each step")
    parser.add_argument("--regressor-params", type=json.loads, default={},
                        help="JSON dict set on the inner RNNRegressor over the forecaster's "
                             "pinned configuration, e.g. '{\"alpha\": 0.01}'")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    patches, params = previous_config() if args.config == "previous" else ([], {})
    if args.ratio:
        patches = patches + ratio_config()
    if args.trend_feature:
        patches = patches + trend_feature()
    if args.input_scaling:
        patches = patches + input_scaling()
    if args.diff_feature:
        patches = patches + diff_feature()
    if args.classical_feature:
        patches = patches + classical_feature()
    if args.window_ensemble:
        patches = patches + window_ensemble(args.window_ensemble)
        params = {**params, "n_models": len(args.window_ensemble)}
    if args.regressor_params:
        regressor = _forecaster.RNNForecaster._regressor

        def _regressor(self, seed):
            return regressor(self, seed).set_params(**args.regressor_params)

        patches.append(mock.patch.object(_forecaster.RNNForecaster, "_regressor", _regressor))
    params = {**params, **args.params}
    for p in patches:
        p.start()
    rows, three = {}, {}
    for name in args.datasets:
        fit_part, valid, horizon, m = held_out(name)
        H, T = per_series(fit_part), per_series(valid)
        smooth = {k: fit_ets(h, m).forecasts(h, [len(h)], horizon)[0] for k, h in H.items()}
        if args.ets_log and all(np.all(h > 0) for h in H.values()):
            smooth = {k: np.exp(fit_ets(np.log(h), m).forecasts(np.log(h), [len(h)], horizon)[0])
                      for k, h in H.items()}
        cells = np.zeros((len(args.seeds), len(WEIGHTS)))
        if args.theta:
            thetas = ({k: drift(h, horizon, m if args.drift == "seasonal" else 1)
                       for k, h in H.items()} if args.drift
                      else {k: theta(h, horizon, m)[0] for k, h in H.items()})
            three[name] = np.zeros((len(args.seeds), len(THREE) + 1))
        for i, seed in enumerate(args.seeds):
            start = time.perf_counter()
            net = network_forecasts(fit_part, horizon, seed, params)
            for j, w in enumerate(WEIGHTS):
                cells[i, j] = np.mean([np.mean(np.abs(T[k] - (w * smooth[k] + (1 - w) * net[k])))
                                       / mase_scale(H[k], m) for k in H])
            if args.theta:
                for j, (a, b, c) in enumerate(THREE):
                    three[name][i, j] = np.mean([np.mean(np.abs(
                        T[k] - (a * net[k] + b * smooth[k] + c * thetas[k]))) / mase_scale(H[k], m)
                        for k in H])
                three[name][i, -1] = np.mean([np.mean(np.abs(T[k] - np.median(
                    [net[k], smooth[k], thetas[k]], axis=0))) / mase_scale(H[k], m) for k in H])
            print(f"{name} seed {seed}: " + ", ".join(
                f"w={w:g} {c:.3f}" for w, c in zip(WEIGHTS, cells[i]))
                  + f" ({time.perf_counter() - start:.0f} s)", flush=True)
        rows[name] = cells.mean(axis=0)
    for p in patches:
        p.stop()
    print(f"\nconfig {args.config} {json.dumps(args.params)} {json.dumps(args.regressor_params)}, "
          f"trend feature {args.trend_feature}, input scaling {args.input_scaling}, "
          f"window ensemble {args.window_ensemble}, diff feature {args.diff_feature}, "
          f"classical feature {args.classical_feature}, seeds {args.seeds}: mean MASE on "
          "the held-out history steps")
    print("| smoothing weight | " + " | ".join(rows) + " | mean |")
    print("|---" * (len(rows) + 2) + "|")
    for j, w in enumerate(WEIGHTS):
        label = {0.0: "0 (network alone)", 1.0: "1 (smoothing alone)"}.get(w, f"{w:g}")
        values = [rows[n][j] for n in rows]
        print(f"| {label} | " + " | ".join(f"{v:.3f}" for v in values)
              + f" | {np.mean(values):.3f} |")

    if args.theta:
        print(f"\n| network, ETS, {'drift' if args.drift else 'Theta'} weights | " + " | ".join(three) + " | mean |")
        print("|---" * (len(three) + 2) + "|")
        for j, weights in enumerate(THREE):
            values = [three[n][:, j].mean() for n in three]
            print("| " + ", ".join(f"{w:.2f}" for w in weights) + " | "
                  + " | ".join(f"{v:.3f}" for v in values) + f" | {np.mean(values):.3f} |")
        values = [three[n][:, -1].mean() for n in three]
        print("| median of the three | " + " | ".join(f"{v:.3f}" for v in values)
              + f" | {np.mean(values):.3f} |")


if __name__ == "__main__":
    main()
