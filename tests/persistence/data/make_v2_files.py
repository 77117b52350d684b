"""Writes the model files and pickles of tests/data with the package as it is; tests/persistence/test_saved_files.py loads them. Run from the repository root: python tests/persistence/data/make_v2_files.py"""
import pickle
import numpy as np
import pandas as pd
from sklearn.pipeline import make_pipeline
from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer, SequencePadder, SequenceScaler, SequencePatcher, TimeSeriesWindower
from skrnn.preprocessing import WindowScaledRegressor
from skrnn.persistence import save
rng = np.random.RandomState(0)
X = [rng.normal(size=(rng.randint(4, 9), 2)).astype(np.float32) for _ in range(24)]
y = np.array([int(x[:, 0].mean() > 0) for x in X])
Xq = X[:4]
out = {}
clf = RNNClassifier(hidden_size=4, max_iter=2, batch_size=8, random_state=0).fit(X, y)
out["classifier"] = clf
yr = np.array([x[:, 1].sum() for x in X])
pipe = make_pipeline(SequencePadder(maxlen=8), SequenceScaler(), SequencePatcher(patch_size=2),
                     RNNRegressor(hidden_size=4, max_iter=2, batch_size=8, random_state=0)).fit(X, yr)
out["pipeline"] = pipe
out["scaled"] = make_pipeline(SequencePadder(maxlen=8), SequenceScaler(),
                     RNNRegressor(hidden_size=4, max_iter=2, batch_size=8, random_state=0)).fit(X, yr)
s = pd.Series(np.sin(np.arange(60) / 3.0) * 10 + 50, index=pd.date_range("2020-01-01", periods=60, freq="D"), name="y")
wpipe = make_pipeline(TimeSeriesWindower(window=6), WindowScaledRegressor(RNNRegressor(hidden_size=4, max_iter=2, batch_size=8, random_state=0)))
wpipe.fit(s.to_frame(), s.shift(-1).ffill().to_numpy())
out["windower"] = wpipe
out["windowed"] = make_pipeline(TimeSeriesWindower(window=6), RNNRegressor(hidden_size=4, max_iter=2, batch_size=8, random_state=0)).fit(s.to_frame(), s.shift(-1).ffill().to_numpy())
src = ["abc", "bca", "cab", "aab", "bba", "ccb"] * 2
s2s = Seq2SeqTransformer(hidden_size=4, max_iter=2, batch_size=4, random_state=0).fit(src, [t[::-1] for t in src])
out["seq2seq"] = s2s
preds = {}
for name, est in out.items():
    try:
        save(est, f"tests/persistence/data/v2_{name}.skrnn")
    except TypeError as e:
        print("not saved", name, e)
    with open(f"tests/persistence/data/v2_{name}.pkl", "wb") as f:
        pickle.dump(est, f)
    if name in ("windower", "windowed"):
        preds[name] = est.predict(s.to_frame().iloc[-10:])
    elif name == "seq2seq":
        preds[name] = np.asarray(est.transform(src[:4]))
    else:
        preds[name] = np.asarray(est.predict(Xq)) if name != "classifier" else est.predict_proba(Xq)
np.savez("tests/persistence/data/v2_predictions.npz", **preds)
print({k: v.shape for k, v in preds.items()})
