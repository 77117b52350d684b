"""scikit-learn's own estimator checks over every public recurrent estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skrnn import RNNClassifier, RNNRegressor

# Small, fast and seeded; a constant rate and batches of 32 keep the numeric
# checks (class weights of 1000 vs 1e-4 and the like) at the configuration
# they were calibrated on.
_FAST = dict(hidden_size=16, max_iter=40, learning_rate_init=1e-2, lr_schedule="constant",
             batch_size=32, random_state=0, device="cpu")

_ULP = (
    "float32 inference: a sample predicted in a batch and alone may differ by about "
    "one float32 ulp (3e-7) when the BLAS picks different kernels per batch size, "
    "above the check's atol=1e-7. With the CPU kernels of the pinned torch build on "
    "this project's machines the results agree, so the check shows as XPASS there; "
    "batched == alone to 1e-6 is tested in tests/estimators/test_estimators.py on every platform."
)
_FLOAT32 = (
    "training runs in float32: weighted and repeated fits agree to ~1e-5 "
    "(tested in tests/estimators/test_estimators.py and tests/nn/test_losses.py), not to the "
    "check's rtol=1e-7."
)


def expected_failures(estimator):
    failures = {}
    # float32 rounding (~1e-7 per step) grows over 100 epochs of a fit that
    # does not stop early (the regressor's standardised targets): weighted and
    # repeated fits agree to ~1e-5 over a few epochs (tests/nn/test_losses.py)
    failures["check_sample_weight_equivalence_on_dense_data"] = _FLOAT32
    # every estimator: the bidirectional GRU (both estimators' default), the
    # classifier's softmax and the front end's convolutions may round
    # differently per batch size
    failures["check_methods_subset_invariance"] = _ULP
    if not isinstance(estimator, RNNClassifier):
        # the check's random targets keep the loss above the plateau floor
        # (0.9 x target variance), so both fits run all 100 epochs instead of
        # stopping at epoch 31, and float32 rounding builds up to ~2e-7
        failures["check_sample_weight_equivalence_on_dense_data"] = _FLOAT32
    return failures


@parametrize_with_checks(
    # the regressor check fits y that depends on one time step, with alpha=0.01
    [RNNClassifier(**_FAST), RNNRegressor(**{**_FAST, "max_iter": 100}),
     # the convolutional front end, before the recurrent layer with a stride
     # and beside it (LSTM-FCN)
     RNNClassifier(**_FAST, conv_channels=[8], conv_stride=2),
     RNNRegressor(**{**_FAST, "max_iter": 100}, cell="gru", conv_channels=[8],
                  conv_mode="beside")],
    expected_failed_checks=expected_failures,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
