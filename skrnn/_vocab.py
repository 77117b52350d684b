"""Sequence-to-sequence symbols: the string codec (strings <-> code points),
the vocabularies learned in ``fit`` and the lookup of symbols to the
decoder's internal ids. numpy and pandas only."""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._data import Sequences, _is_ragged_container

# Internal ids 0..3 are the decoder's special tokens; symbol i of a
# vocabulary has id N_SPECIAL + i.
PAD, BOS, EOS, UNK = 0, 1, 2, 3
N_SPECIAL = 4


# ------------------------------------------------------------------ strings
def _string_items(X, name):
    """The strings of ``X`` as a list, or None when ``X`` holds no strings."""
    if isinstance(X, (str, bytes)):
        raise TypeError(
            f"{name} is a single string; pass a list of strings, one sequence each "
            f"(e.g. [{X!r}])."
        )
    if isinstance(X, pd.Series):
        items = X.tolist()
    elif isinstance(X, np.ndarray):
        if X.dtype.kind == "U" or (X.dtype == object and X.ndim == 1):
            if X.ndim != 1:
                raise ValueError(
                    f"{name} is a {X.ndim}-D array of strings; pass a 1-D list or array "
                    "of strings, one sequence each."
                )
            items = X.tolist()
        else:
            return None
    elif isinstance(X, (list, tuple)):
        items = list(X)
    else:
        return None
    is_str = [isinstance(s, str) for s in items]
    if not any(is_str):
        return None
    if not all(is_str):
        i = is_str.index(False)
        raise TypeError(
            f"{name}[{i}] is a {type(items[i]).__name__}, but other entries of {name} "
            "are strings; pass either strings or numeric sequences, not both."
        )
    return items


def _encode_strings(items, name):
    """Code points of each string as compact :class:`Sequences` (int64)."""
    if len(items) == 0:
        raise ValueError(f"{name} is an empty list; at least one sequence is required.")
    lengths = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    if (lengths == 0).any():
        i = int(np.flatnonzero(lengths == 0)[0])
        raise ValueError(
            f"{name}[{i}] is an empty string; every sequence needs at least one "
            "character. Remove empty strings first."
        )
    codes = np.frombuffer("".join(items).encode("utf-32-le"), dtype="<u4").astype(np.int64)
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Sequences(codes[:, None], offsets, "ragged")


def _word_items(X, name):
    """The samples of ``X`` as lists of string tokens (words), or None when
    ``X`` is not a list of token lists.

    A sample is a list, tuple or 1-D array of ``str`` tokens, e.g.
    ``[["the", "cat"], ["a", "dog", "ran"]]``: the vocabulary is then one
    symbol per distinct token, not per character.
    """
    if isinstance(X, pd.Series):
        items = X.tolist()
    elif isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1:
        items = X.tolist()
    elif isinstance(X, (list, tuple)):
        items = list(X)
    else:
        return None
    if not items or not _is_token_list(items[0]):
        return None
    out = []
    for i, item in enumerate(items):
        if not _is_token_list(item):
            raise TypeError(
                f"{name}[{i}] is not a list of string tokens ({type(item).__name__}), but "
                f"{name}[0] is; pass every sample as a list of str tokens (words), or "
                "every sample as one string (characters)."
            )
        tokens = list(item)
        if not tokens:
            raise ValueError(
                f"{name}[{i}] is an empty token list; every sequence needs at least one "
                "token."
            )
        bad = [t for t in tokens if not isinstance(t, str)]
        if bad:
            raise TypeError(
                f"{name}[{i}] holds the token {bad[0]!r} ({type(bad[0]).__name__}); "
                "word-token samples hold str tokens only."
            )
        out.append(tokens)
    return out


def _is_token_list(item):
    if isinstance(item, np.ndarray):
        return item.ndim == 1 and (item.dtype.kind == "U" or (
            item.dtype == object and len(item) > 0 and isinstance(item[0], str)))
    return isinstance(item, (list, tuple)) and (len(item) == 0 or isinstance(item[0], str))


def _encode_words(items, name):
    """The tokens of each sample as compact :class:`Sequences` whose values
    are the tokens themselves (a numpy ``str`` array), one per step."""
    lengths = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    flat = np.array([t for tokens in items for t in tokens], dtype=str)
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Sequences(flat[:, None], offsets, "ragged")


def _codes_to_strings(codes, offsets):
    text = np.asarray(codes, dtype="<u4").tobytes().decode("utf-32-le")
    return [text[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]


# ------------------------------------------------------------- vocabularies
def _vocabulary(codes, kind):
    """Sorted distinct symbols: characters (str) or token ids (int64)."""
    symbols = np.unique(codes)
    if kind == "words":  # the distinct tokens, sorted
        return symbols
    if kind == "strings":
        return np.array([chr(c) for c in symbols.tolist()], dtype="<U1")
    return symbols.astype(np.int64)


def _vocabulary_codes(vocabulary):
    if vocabulary.dtype.kind == "U":
        return np.fromiter(map(ord, vocabulary.tolist()), dtype=np.int64, count=len(vocabulary))
    return vocabulary.astype(np.int64)


def _lookup(codes, vocabulary):
    """Internal ids of ``codes``: ``N_SPECIAL + position``, or UNK when unseen."""
    codes = np.asarray(codes)
    # word tokens (str codes) look up a vocabulary of words; code points and
    # token ids look up the vocabulary's codes
    keys = vocabulary if codes.dtype.kind == "U" else _vocabulary_codes(vocabulary)
    pos = np.minimum(np.searchsorted(keys, codes), len(keys) - 1)
    return np.where(keys[pos] == codes, pos + N_SPECIAL, UNK).astype(np.int64)


def _as_array_if_array_like(X):
    """Other array-likes (memory maps, wrappers) as plain arrays."""
    if isinstance(X, (list, tuple, np.ndarray, pd.Series, pd.DataFrame)) or sp.issparse(X):
        return X
    return np.asarray(X) if hasattr(X, "__array__") else X


def _looks_integer(Y):
    if isinstance(Y, (pd.Series, pd.DataFrame)):
        Y = Y.to_numpy() if isinstance(Y, pd.DataFrame) else Y.tolist()
    if _is_ragged_container(Y):
        return all(np.asarray(y).dtype.kind in "iu" for y in Y)
    return np.asarray(Y).dtype.kind in "iu"
