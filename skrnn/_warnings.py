"""Warnings that point at the user's line.

A warning raised deep inside skrnn (or inside scikit-learn's ``Pipeline`` /
``GridSearchCV`` that called skrnn) is most useful when Python reports the
caller's own line, not skrnn's. A fixed ``stacklevel`` cannot do that: the
depth differs between ``est.fit(X)``, ``pipe.fit(X)`` and a search. ``warn``
walks the stack to the first frame outside skrnn, scikit-learn and joblib
(Python 3.12's ``skip_file_prefixes``, for every supported Python).
"""

import os
import sys
import warnings

import joblib
import sklearn

__all__ = ["warn", "user_stacklevel"]

_SKIPPED = tuple(
    os.path.dirname(os.path.abspath(m.__file__)) + os.sep
    for m in (sys.modules[__name__.rpartition(".")[0]], sklearn, joblib)
)


def user_stacklevel():
    """The ``stacklevel`` that makes a warning issued by this function's
    caller point at the first frame outside skrnn, scikit-learn and joblib."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None:
        if not os.path.abspath(frame.f_code.co_filename).startswith(_SKIPPED):
            return level
        frame = frame.f_back
        level += 1
    return 1


def warn(message, category=UserWarning):
    """``warnings.warn`` at the user's line."""
    warnings.warn(message, category, stacklevel=user_stacklevel())
