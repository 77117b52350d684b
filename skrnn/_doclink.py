"""The link from an estimator's HTML representation (the ``?`` icon in a
notebook) to its page in the API reference.

scikit-learn's ``BaseEstimator`` builds that link from three class
attributes; the estimator and transformer base classes set them to
:data:`DOC_LINK_ATTRIBUTES`' values. The pages live at
``api/generated/<public path>.html`` (``docs/api/index.rst``), published at
https://skrnn.readthedocs.io/en/latest/.
"""

import itertools
import sys

DOC_LINK_TEMPLATE = (
    "https://skrnn.readthedocs.io/en/{version_url}/api/generated/{public_path}.html"
)


def public_path(cls):
    """Where users import ``cls`` from: ``skrnn.<Name>`` when the package
    exports it, else its module up to the first private part
    (``skrnn.preprocessing.WindowScaledRegressor``)."""
    # the package's own namespace, complete by the time a repr is drawn
    skrnn = sys.modules["skrnn"]
    if getattr(skrnn, cls.__name__, None) is cls:
        return f"skrnn.{cls.__name__}"
    module = itertools.takewhile(lambda part: not part.startswith("_"), cls.__module__.split("."))
    return ".".join([*module, cls.__name__])


def doc_link_url_params(estimator):
    """``_doc_link_url_param_generator`` of skrnn's base classes."""
    return {"version_url": "latest", "public_path": public_path(type(estimator))}
