"""The exceptions and warnings skrnn raises besides scikit-learn's and
Python's own (``ValueError``, ``TypeError``, ``NotFittedError``,
``ConvergenceWarning``)."""

__all__ = ["ModelFileError", "TrainingDivergedError"]


class TrainingDivergedError(ValueError):
    """The training loss became NaN or infinite.

    The estimator is left as it was before the fit; the message says at
    which epoch and what to change (usually a lower ``learning_rate_init`` or
    a ``clip_grad_norm``).
    """


class ModelFileError(ValueError):
    """The file is not a valid skrnn model file, or this version cannot read it.

    Raised for files that are truncated, corrupted, tampered with, exceed the
    documented size caps, hold anything besides plain data and arrays, or were
    written by another format version. Nothing in such a file is executed.
    """
