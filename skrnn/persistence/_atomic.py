"""Replacing a file atomically the way an editor saving it would: the new
content goes to a temporary file beside the target and is renamed over it,
so readers see the old file or the new one, never half of either.

The target is the file a symbolic link points to (a ``current -> v7`` link
keeps pointing at ``v7``, which gets the new content), and the new file keeps
the permission bits of the one it replaces; a new file gets those the
process's umask gives (``0o666 & ~umask``, as ``open(path, "w")`` would).
"""

import os
import secrets


def replace_file(path, write):
    """Call ``write(f)`` on a binary file that then atomically replaces
    ``path`` (through symbolic links to their target)."""
    target = os.path.realpath(os.fspath(path))
    try:
        mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        mode = None  # the umask decides, as for any new file
    tmp = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666 if mode is None else 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            if mode is not None:
                os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
