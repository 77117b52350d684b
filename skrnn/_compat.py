"""The one place that knows scikit-learn's versions and private helpers.

Every other skrnn module imports scikit-learn's private names from here, so
a change in scikit-learn is mended in one file.
"""

# Private in every scikit-learn release so far (1.6-1.9); the declared
# constraints behind ``_parameter_constraints``. Goes when scikit-learn makes
# them public.
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

# Private: the decorator that validates parameters once per fit and honours
# ``skip_parameter_validation``. Goes when scikit-learn makes it public.
from sklearn.base import _fit_context

# Public since scikit-learn 1.6 (the package's minimum).
from sklearn.utils.validation import validate_data

# Private: the attribute in which BaseEstimator's pickled state records the
# scikit-learn version that wrote it (a model file's state may hold it).
SKLEARN_VERSION_KEY = "_sklearn_version"

__all__ = [
    "SKLEARN_VERSION_KEY", "HasMethods", "Interval", "StrOptions", "_fit_context", "validate_data",
    "reset_feature_names", "validate_params", "NO_AUTO_WRAP", "output_config",
    "set_output_config",
]

# Private: the keyword of ``TransformerMixin.__init_subclass__`` that turns off
# scikit-learn's automatic wrapping of ``transform`` output (skrnn's
# transformers wrap 2-D output themselves and keep 3-D and ragged output).
NO_AUTO_WRAP = {"auto_wrap_output_keys": None}


def output_config(estimator):
    """The container ``set_output`` chose for ``estimator`` (private
    attribute ``_sklearn_output_config``, which scikit-learn's pipelines and
    column transformers also read)."""
    return getattr(estimator, "_sklearn_output_config", {})


def set_output_config(estimator, transform):
    """Record ``set_output(transform=...)`` where scikit-learn looks for it."""
    estimator._sklearn_output_config = {"transform": transform}


def validate_params(estimator):
    """Check ``estimator``'s parameters against its ``_parameter_constraints``
    outside a ``fit`` (private ``BaseEstimator._validate_params``): a model
    file's parameters pass the checks a user's do."""
    estimator._validate_params()


def reset_feature_names(estimator):
    """Forget ``feature_names_in_`` from an earlier fit on a DataFrame, as
    ``validate_data(reset=True)`` does for input without column names."""
    if hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
