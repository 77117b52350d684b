"""The public home of a class: the module users import it from.

Classes live in private modules; pickles, skrnn's model files and the docs
name a class by ``__module__``, so each public class declares the module it
is imported from with :func:`public_home`, and moving its code between
private modules never changes the name files record.
"""

__all__ = ["public_home"]


def public_home(module):
    """Class decorator: record ``module`` (a public import path such as
    ``'skrnn.preprocessing'``) as the class's ``__module__``."""

    def decorate(cls):
        cls.__module__ = module
        return cls

    return decorate
