"""From text to ids: :class:`TextVectorizer` (Keras ``TextVectorization``),
:class:`SubwordEncoder` (TFDS ``SubwordTextEncoder``) and :func:`pad_sequences`."""

from ._standardize import lower_ascii, split_whitespace, strip_html, strip_punctuation
from .sequence import pad_sequences
from .subword import SubwordEncoder
from .vectorizer import TextVectorizer

#: TFDS' name (``tfds.deprecated.text.SubwordTextEncoder``): the same class.
SubwordTextEncoder = SubwordEncoder


def __getattr__(name):
    # layer.py subclasses fastembed.layers.Layer, and fastembed.layers imports this
    # package: loaded on first use to keep the import order one-way.
    if name in ("TextVectorization", "register_text_function"):
        from . import layer

        return getattr(layer, name)
    raise AttributeError(name)


__all__ = [
    "TextVectorizer",
    "SubwordEncoder",
    "SubwordTextEncoder",
    "pad_sequences",
    "lower_ascii",
    "strip_punctuation",
    "strip_html",
    "split_whitespace",
    "TextVectorization",
    "register_text_function",
]
