"""The one place that knows scikit-learn's versions and private helpers."""

from sklearn.utils.validation import validate_data  # public since scikit-learn 1.6

__all__ = ["validate_data", "reset_feature_names"]


def reset_feature_names(estimator):
    """Forget ``feature_names_in_`` from an earlier fit on a DataFrame, as
    ``validate_data(reset=True)`` does for input without column names."""
    if hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
