"""The public home of a class: the module users import it from.

Classes live in private modules; pickles, skrnn's model files and the docs
name a class by ``__module__``, so each public class declares the module it
is imported from with :func:`public_home`, and moving its code between
private modules never changes the name files record.
"""

__all__ = ["public_home", "MOVED_CLASSES"]

#: Where public classes were named before they declared their public home:
#: ``"old.module.Class" -> "public.module.Class"``. :func:`skrnn.load` reads
#: a model file that names an old path as the class's present one.
MOVED_CLASSES = {
    "skrnn._windower.TimeSeriesWindower": "skrnn.preprocessing.TimeSeriesWindower",
    "skrnn._window_scaling.WindowScaledRegressor": "skrnn.preprocessing.WindowScaledRegressor",
    "skrnn._patcher.SequencePatcher": "skrnn.preprocessing.SequencePatcher",
    "skrnn._splitter.PanelTimeSeriesSplit": "skrnn.forecasting.PanelTimeSeriesSplit",
}


def public_home(module):
    """Class decorator: record ``module`` (a public import path such as
    ``'skrnn.preprocessing'``) as the class's ``__module__``."""

    def decorate(cls):
        cls.__module__ = module
        return cls

    return decorate
