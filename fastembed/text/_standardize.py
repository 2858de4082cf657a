"""Standardisation and splitting of raw text, with the semantics of Keras' TextVectorization.

Keras lower-cases with ``tf.strings.lower``, which only folds ASCII letters, strips the 32
ASCII punctuation characters, and splits on runs of ASCII whitespace. These helpers do the
same on Python strings, so a vocabulary built here matches the one Keras builds.
"""

from __future__ import annotations

import re
import string

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_DELETE_PUNCTUATION = str.maketrans("", "", string.punctuation)
# Python's str.split() also splits on \x1c-\x1f and on Unicode spaces; TensorFlow does not.
_ASCII_NON_SPACE_RUNS = re.compile(r"[^ \t\n\r\f\v]+")
_PYTHON_ONLY_ASCII_SPACES = re.compile(r"[\x1c-\x1f]")
_HTML_LINE_BREAK = re.compile(r"<br[ \t\n\r\f\v]*/?>", re.IGNORECASE)


def lower_ascii(text: str) -> str:
    """Lower-case ASCII letters only, as ``tf.strings.lower`` does by default.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """
    # str.lower() on pure ASCII is the same operation and much faster than translate().
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def strip_punctuation(text: str) -> str:
    """Delete the ASCII punctuation characters (``string.punctuation``)."""
    return text.translate(_DELETE_PUNCTUATION)


def strip_html(text: str) -> str:
    """Replace HTML line breaks (``<br />``, ``<br/>``, ``<br>``, any case) by a space.

    IMDB reviews carry them; the TensorFlow word-embeddings tutorial removes them in its
    ``custom_standardization`` before stripping punctuation.
    """
    return _HTML_LINE_BREAK.sub(" ", text) if "<" in text else text


def split_whitespace(text: str) -> list[str]:
    """Split on runs of ASCII whitespace, dropping empty strings (``tf.strings.split``)."""
    if text.isascii() and not _PYTHON_ONLY_ASCII_SPACES.search(text):
        return text.split()
    return _ASCII_NON_SPACE_RUNS.findall(text)


def split_characters(text: str) -> list[str]:
    """Split into Unicode characters (code points), as ``tf.strings.unicode_split``."""
    return list(text)


def _lower_and_strip_punctuation(text):
    return lower_ascii(text).translate(_DELETE_PUNCTUATION)


def _lower_and_strip_html_and_punctuation(text):
    return strip_html(lower_ascii(text)).translate(_DELETE_PUNCTUATION)


STANDARDIZERS = {
    "lower_and_strip_punctuation": _lower_and_strip_punctuation,
    "lower_and_strip_html_and_punctuation": _lower_and_strip_html_and_punctuation,
    "lower": lower_ascii,
    "strip_punctuation": strip_punctuation,
}

SPLITTERS = {
    "whitespace": split_whitespace,
    "character": split_characters,
}


def resolve(option, table, what):
    """Map a standardize/split option (a name, a callable or None) to a callable or None."""
    if option is None or callable(option):
        return option
    if isinstance(option, str) and option in table:
        return table[option]
    raise ValueError(
        "unknown %s %r: use one of %s, a callable or None" % (what, option, ", ".join(repr(name) for name in table))
    )
