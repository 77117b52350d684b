"""Calling the callbacks of a fit (the protocol is documented in
:mod:`skrnn.callbacks`)."""

_HOOKS = ("on_fit_begin", "on_epoch_end", "on_fit_end")


def check_callbacks(callbacks):
    """A clear error for a ``callbacks`` entry that defines none of the hooks."""
    for i, cb in enumerate(callbacks or ()):
        if not any(callable(getattr(cb, h, None)) for h in _HOOKS):
            raise ValueError(
                f"callbacks[{i}] ({type(cb).__name__}) defines none of {_HOOKS}; a callback "
                "is an object with some of these methods (see skrnn.callbacks)."
            )


def call(callbacks, hook, *args):
    """Call ``hook`` on each callback that defines it; True if any
    ``on_epoch_end`` asked to stop (every callback still sees the epoch)."""
    stop = False
    for cb in callbacks or ():
        method = getattr(cb, hook, None)
        if callable(method):
            stop = bool(method(*args)) or stop
    return stop
