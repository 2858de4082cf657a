"""From text to ids: :class:`TextVectorizer` (Keras ``TextVectorization``),
:class:`SubwordEncoder` (TFDS ``SubwordTextEncoder``) and :func:`pad_sequences`."""

from ._standardize import lower_ascii, split_whitespace, strip_html, strip_punctuation
from .sequence import pad_sequences
from .subword import SubwordEncoder
from .vectorizer import TextVectorizer

__all__ = ["TextVectorizer", "SubwordEncoder", "pad_sequences", "lower_ascii", "strip_punctuation", "strip_html",
           "split_whitespace"]
