"""Sequence-to-sequence symbols: the string codec (strings <-> code points),
the vocabularies learned in ``fit`` and the lookup of symbols to the
decoder's internal ids. numpy and pandas only."""

import numpy as np
import pandas as pd

from .data import Sequences, _as_array_if_array_like, _is_ragged_container, to_sequences

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


def _looks_integer(Y):
    if isinstance(Y, (pd.Series, pd.DataFrame)):
        Y = Y.to_numpy() if isinstance(Y, pd.DataFrame) else Y.tolist()
    if _is_ragged_container(Y):
        return all(np.asarray(y).dtype.kind in "iu" for y in Y)
    return np.asarray(Y).dtype.kind in "iu"


def token_vocabulary(ids):
    """The sorted distinct token ids of the fit (int64): the embedding has
    one row per distinct id (plus the shared "unknown" row), whatever the
    ids' size."""
    return _vocabulary(ids, "tokens")


def token_rows(ids, vocabulary, n_tokens):
    """Embedding rows of token ids: their position in the fitted
    ``vocabulary``, or ``n_tokens`` (the shared "unknown" row) for ids never
    seen in fit. Without a vocabulary (``vocabulary`` None: small ids) the
    ids are the rows, capped at ``n_tokens`` (the largest id seen + 1)."""
    if vocabulary is None:
        return np.minimum(ids, n_tokens)
    rows = _lookup(ids, vocabulary)
    return np.where(rows == UNK, n_tokens, rows - N_SPECIAL)


def read_targets(Y, n_samples, *, output_type, mask_value, data_format):
    """Return (raw target sequences, kind, one_d) for target sequences ``Y``
    (strings, token ids or float vectors, as ``output_type`` says)."""
    text = read_text(Y, "y")
    if text is not None:
        raw, kind = text
        if output_type == "continuous":
            what = "word tokens" if kind == "words" else "strings"
            raise ValueError(
                f"y holds {what} but output_type='continuous'; use 'auto' or 'tokens'."
            )
    else:
        Y = _as_array_if_array_like(Y)
        if isinstance(Y, (pd.DataFrame, pd.Series)) and not _is_ragged_container(
            Y.to_numpy() if isinstance(Y, pd.Series) else Y
        ):
            Y = Y.to_numpy()
        if isinstance(Y, np.ndarray) and Y.dtype == object and Y.ndim == 1 and all(
            np.ndim(v) == 0 for v in Y
        ):
            Y = np.asarray(Y.tolist())  # scalars in an object array
        if not _is_ragged_container(Y) and np.ndim(Y) == 1:
            Y = np.asarray(Y).reshape(-1, 1)  # one value per sample: length-1 targets
        tokens = output_type == "tokens" or (
            output_type == "auto" and _looks_integer(Y)
        )
        kind = "tokens" if tokens else "continuous"
        raw = to_sequences(
            Y, mask_value=mask_value, token_ids=tokens, name="y",
            data_format=data_format,
        )
        if tokens and raw.n_features != 1:
            raise ValueError(
                f"Token targets need one id per step; y has {raw.n_features} features "
                "per step. Use output_type='continuous' for vector outputs."
            )
    if raw.n_samples != n_samples:
        raise ValueError(
            f"y has {raw.n_samples} sequences but X has {n_samples}; pass one "
            "target sequence per input sequence."
        )
    return raw, kind, raw.n_features == 1


def user_outputs(outputs, kind, one_d, symbols):
    """Decoded internal outputs as the user's symbols: strings, token ids or
    floats (``kind``), from the output vocabulary ``symbols``."""
    if kind == "continuous":
        if one_d:
            return [o[:, 0].astype(np.float64) for o in outputs]
        return [o.astype(np.float64) for o in outputs]
    if kind == "tokens":
        return [symbols[o - N_SPECIAL] for o in outputs]
    if kind == "words":
        return [symbols[o - N_SPECIAL].tolist() for o in outputs]
    codes = _vocabulary_codes(symbols)
    lengths = np.fromiter(map(len, outputs), dtype=np.int64, count=len(outputs))
    offsets = np.zeros(len(outputs) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.concatenate(outputs) if outputs else np.zeros(0, dtype=np.int64)
    return _codes_to_strings(codes[flat - N_SPECIAL], offsets)


def read_text(X, name, sequence_lengths=None):
    """``(sequences, kind)`` for text ``X`` (word-token lists: ``'words'``;
    strings: ``'strings'``), or None when ``X`` holds no text."""
    words = _word_items(X, name)
    items = words if words is not None else _string_items(X, name)
    if items is None:
        return None
    if sequence_lengths is not None:
        raise ValueError(
            "sequence_lengths is for padded array input; strings and token lists "
            "already carry their lengths."
        )
    if words is not None:
        return _encode_words(words, name), "words"
    return _encode_strings(items, name), "strings"
