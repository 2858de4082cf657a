"""``TextVectorizer``: raw text to integer ids, with Keras ``TextVectorization`` semantics
(``output_mode='int'``), without TensorFlow."""

from __future__ import annotations

import collections
import itertools
import os
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from .._config import COMPILED, threads_for
from ..ragged import Ragged
from . import _documents, _standardize
from .sequence import pad_flat

# Texts counted at a time when adapting on a stream (a generator or a Dataset).
STREAM_CHUNK = 8192

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

if COMPILED:
    from .._kernels import _text

    # Built-in standardize modes the compiled tokenizer runs (with split='whitespace').
    _KERNEL_FLAGS = {
        None: 0,
        "lower": _text.LOWER,
        "strip_punctuation": _text.STRIP_PUNCTUATION,
        "lower_and_strip_punctuation": _text.LOWER | _text.STRIP_PUNCTUATION,
        "lower_and_strip_html_and_punctuation": _text.LOWER | _text.STRIP_PUNCTUATION | _text.STRIP_HTML,
    }
else:  # pragma: no cover - the test suite refuses to run uncompiled
    _text = None
    _KERNEL_FLAGS = {}

# Work the thread policy counts per character (standardise, split, hash): with it, 64k
# characters is where a second thread starts to pay (measured with bench_text.py).
_WORK_PER_CHAR = 4

# Limits on what a loaded encoder file may ask for (a hostile file must not make us allocate
# out_len x texts ids or enumerate n-grams of absurd width). Built in code, any value goes.
_MAX_FILE_SEQUENCE_LENGTH = 1 << 20
_MAX_FILE_NGRAMS = 32

PADDING_TOKEN = ""
OOV_TOKEN = "[UNK]"
_FORMAT = "fastembed.TextVectorizer"
_FORMAT_VERSION = 1


def _ngram_widths(ngrams):
    if ngrams is None:
        return None
    if isinstance(ngrams, (int, np.integer)) and not isinstance(ngrams, bool):
        if ngrams < 1:
            raise ValueError("ngrams must be a positive int, a tuple of positive ints or None, got %r" % (ngrams,))
        return tuple(range(1, int(ngrams) + 1))
    if (
        isinstance(ngrams, (tuple, list))
        and ngrams
        and all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in ngrams)
    ):
        return tuple(int(n) for n in ngrams)
    raise ValueError("ngrams must be a positive int, a tuple of positive ints or None, got %r" % (ngrams,))


def _with_ngrams(tokens, widths):
    """All n-grams of each width in turn, joined by a space (``tf.strings.ngrams``)."""
    out = []
    for width in widths:
        if width == 1:
            out.extend(tokens)
        else:
            out.extend(map(" ".join, zip(*(tokens[i:] for i in range(width)))))
    return out


def _text_chunks(texts):
    """Lists of str: the texts of a sequence at once, those of an iterator or generator
    ``STREAM_CHUNK`` at a time (so that a stream is never held whole)."""
    if isinstance(texts, (str, bytes, list, tuple, np.ndarray)):
        yield _as_text_list(texts)[0]
        return
    iterator = iter(texts)
    while True:
        chunk = list(itertools.islice(iterator, STREAM_CHUNK))
        if not chunk:
            return
        yield _as_text_list(chunk)[0]


def _as_text_list(texts, what="texts"):
    """Return (list of str, was_single_string)."""
    if isinstance(texts, (str, bytes)):
        texts = [texts]
        single = True
    else:
        single = False
        if isinstance(texts, np.ndarray):
            if texts.ndim == 2 and texts.shape[1] == 1:  # Keras accepts (n, 1) string tensors
                texts = texts[:, 0]
            if texts.ndim != 1:
                raise ValueError(
                    "%s must be one string or a 1-D sequence of strings, got an array of shape %s" % (what, texts.shape)
                )
            texts = texts.tolist()
        elif not isinstance(texts, (list, tuple)):
            try:
                texts = list(texts)
            except TypeError:
                raise TypeError(
                    "%s must be a string or a sequence of strings, got %s" % (what, type(texts).__name__)
                ) from None
    out = []
    for position, text in enumerate(texts):
        if isinstance(text, str):
            out.append(text)
        elif isinstance(text, bytes):
            try:
                out.append(text.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise ValueError("%s[%d] is not valid UTF-8: %s" % (what, position, exc)) from None
        else:
            raise TypeError("%s[%d] is %s, not a string" % (what, position, type(text).__name__))
    return out, single


class TextVectorizer:
    """Map raw strings to integer token ids (Keras ``TextVectorization``, int output).

    Parameters
    ----------
    max_tokens : int, optional
        Size cap of the vocabulary, *including* the padding token ``''`` (id 0) and the
        out-of-vocabulary token ``'[UNK]'`` (id 1), as in Keras.
    standardize : str, callable or None, default 'lower_and_strip_punctuation'
        ``'lower_and_strip_punctuation'``, ``'lower'``, ``'strip_punctuation'``,
        ``'lower_and_strip_html_and_punctuation'`` (also turns ``<br />`` into a space, as
        the IMDB reviews need), a callable ``str -> str``, or None. As in Keras, lower-casing
        folds ASCII letters only.
    split : str, callable or None, default 'whitespace'
        ``'whitespace'`` (runs of ASCII whitespace), ``'character'``, a callable
        ``str -> list[str]``, or None (each whole text is one token).
    ngrams : int or tuple of int, optional
        ``n`` adds all n-grams of widths 1..n; a tuple gives the widths. Tokens of an
        n-gram are joined by a space.
    output_sequence_length : int, optional
        When set, calls return an int32 array ``(n_texts, output_sequence_length)``, cut at
        the end and padded with 0 at the end. Otherwise a :class:`fastembed.Ragged` of each
        text's own length (flat int32 ids + offsets, which ``Sequential.fit`` and
        ``ops.embedding_bag`` take as they are).
    vocabulary : list of str or str, optional
        A fixed vocabulary (or the path of a file with one token per line) instead of
        :meth:`adapt`. A leading ``''``, ``'[UNK]'`` pair is accepted and dropped.

    Notes
    -----
    :meth:`adapt` orders the vocabulary by descending frequency; equal counts are ordered
    by the token, in descending code-point order, as Keras does.
    """

    def __init__(
        self,
        max_tokens: int | None = None,
        standardize: str | Callable[[str], str] | None = "lower_and_strip_punctuation",
        split: str | Callable[[str], Sequence[str]] | None = "whitespace",
        ngrams: int | Sequence[int] | None = None,
        output_sequence_length: int | None = None,
        vocabulary: Iterable[str] | str | os.PathLike | None = None,
    ) -> None:
        if max_tokens is not None and (not isinstance(max_tokens, (int, np.integer)) or max_tokens < 3):
            raise ValueError(
                "max_tokens must be None or an int >= 3 (it counts '' and '[UNK]'), got %r" % (max_tokens,)
            )
        if output_sequence_length is not None and (
            not isinstance(output_sequence_length, (int, np.integer)) or output_sequence_length < 1
        ):
            raise ValueError(
                "output_sequence_length must be None or a positive int, got %r" % (output_sequence_length,)
            )
        self._standardize_fn = _standardize.resolve(standardize, _standardize.STANDARDIZERS, "standardize")
        self._split_fn = _standardize.resolve(split, _standardize.SPLITTERS, "split")
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.standardize = standardize
        self.split = split
        self.ngrams = ngrams
        self._ngram_widths = _ngram_widths(ngrams)
        self.output_sequence_length = None if output_sequence_length is None else int(output_sequence_length)
        self._vocabulary = None
        self._index = None
        self._table = None
        # The compiled tokenizer covers the built-in modes; callables and n-grams take the
        # Python path (_tokenize), which is also the kernel's twin in the tests.
        self._kernel_flags = None
        if (
            _text is not None
            and ngrams is None
            and split == "whitespace"
            and isinstance(standardize, (str, type(None)))
            and standardize in _KERNEL_FLAGS
        ):
            self._kernel_flags = _KERNEL_FLAGS[standardize]
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    # -- tokens ------------------------------------------------------------------------
    def tokenize(self, texts: str | Iterable[str]) -> list[str] | list[list[str]]:
        """Standardise, split and form n-grams: the tokens that :meth:`adapt` counts.

        Parameters
        ----------
        texts : str or sequence of str

        Returns
        -------
        list of list of str
            One token list per text (a single list for a single string).
        """
        texts, single = _as_text_list(texts)
        tokens = self._tokenize(texts)
        return tokens[0] if single else tokens

    def _tokenize(self, texts):
        if self._standardize_fn is not None:
            texts = list(map(self._standardize_fn, texts))
            for position, text in enumerate(texts):
                if not isinstance(text, str):
                    raise TypeError(
                        "standardize returned %s for text %d, not a string" % (type(text).__name__, position)
                    )
        if self._split_fn is None:
            tokens = [[text] for text in texts]
        else:
            tokens = list(map(self._split_fn, texts))
        if self._ngram_widths is not None:
            widths = self._ngram_widths
            tokens = [_with_ngrams(list(t), widths) for t in tokens]
        return tokens

    # -- vocabulary --------------------------------------------------------------------
    def adapt(self, texts: str | Iterable[str]) -> TextVectorizer:
        """Build the vocabulary from ``texts`` by token frequency.

        Parameters
        ----------
        texts : sequence of str

        Returns
        -------
        self
        """
        return self.adapt_counts(self.count_tokens(texts))

    def count_tokens(self, texts: str | Iterable[str], empty_error: str | None = None) -> dict[str, int]:
        """How often each token (after standardising and splitting) occurs in ``texts``.

        ``adapt(texts)`` is ``adapt_counts(count_tokens(texts))``; counts of parts of a
        corpus add up (``fastembed.dask.adapt`` counts partitions on workers and sums them).
        An iterator or generator is counted chunk by chunk (memory: one chunk and the
        counts). ``empty_error``: the message of the ValueError raised when there is no text.

        Returns
        -------
        dict of str to int
        """
        table = _text.TokenTable() if self._kernel_flags is not None else None
        counter: collections.Counter = collections.Counter()
        seen = False
        for chunk in _text_chunks(texts):
            seen = seen or bool(chunk)
            if table is not None:
                table.count(tuple(chunk), self._kernel_flags)  # the table adds to its counts
            else:
                counter.update(itertools.chain.from_iterable(self._tokenize(chunk)))
        if empty_error is not None and not seen:
            raise ValueError(empty_error)
        if table is not None:
            tokens, values = table.items()
            return dict(zip(tokens, values.tolist()))
        return dict(counter)

    def adapt_counts(self, counts: Mapping[str, int]) -> TextVectorizer:
        """Build the vocabulary from token counts (see :meth:`count_tokens`): the same
        vocabulary, token for token, whatever order the counts were summed in.

        Returns
        -------
        self
        """
        counts = dict(counts)
        counts.pop(PADDING_TOKEN, None)
        counts.pop(OOV_TOKEN, None)
        # Two stable sorts: token descending, then count descending. Ties therefore stay in
        # descending token order, the order Keras' np.lexsort(...)[::-1] gives.
        ordered = sorted(counts, reverse=True)
        ordered.sort(key=counts.__getitem__, reverse=True)
        if self.max_tokens is not None:
            ordered = ordered[: self.max_tokens - 2]
        self._install(ordered)
        return self

    def set_vocabulary(self, vocabulary: Iterable[str] | str | os.PathLike) -> None:
        """Use a fixed vocabulary: a list of tokens or a file with one token per line.

        Parameters
        ----------
        vocabulary : sequence of str or str (path)
            A leading ``''``, ``'[UNK]'`` pair is accepted and dropped.

        Raises
        ------
        ValueError
            Empty, repeated tokens, a reserved token out of place, or more than
            ``max_tokens`` entries.
        """
        if isinstance(vocabulary, (str, os.PathLike)):
            path = os.fspath(vocabulary)
            if not os.path.isfile(path):
                raise FileNotFoundError("vocabulary file %s does not exist" % path)
            with open(path, encoding="utf-8") as handle:
                vocabulary = handle.read().split("\n")
            if vocabulary and vocabulary[-1] == "":
                vocabulary.pop()
        tokens, _ = _as_text_list(vocabulary, "vocabulary")
        if tokens[:2] == [PADDING_TOKEN, OOV_TOKEN]:
            tokens = tokens[2:]
        if not tokens:
            raise ValueError("cannot set an empty vocabulary")
        for reserved in (PADDING_TOKEN, OOV_TOKEN):
            if reserved in tokens:
                raise ValueError(
                    "reserved token %r found at position %d of the vocabulary: pass it only as the "
                    "leading pair ['', '[UNK]'] or not at all" % (reserved, tokens.index(reserved))
                )
        if len(set(tokens)) != len(tokens):
            repeated = sorted(token for token, n in collections.Counter(tokens).items() if n > 1)
            raise ValueError("the vocabulary repeats tokens: %s" % repeated[:10])
        if self.max_tokens is not None and len(tokens) + 2 > self.max_tokens:
            raise ValueError(
                "the vocabulary has %d entries with '' and '[UNK]', more than max_tokens=%d"
                % (len(tokens) + 2, self.max_tokens)
            )
        self._install(tokens)

    def _install(self, tokens):
        self._vocabulary = [PADDING_TOKEN, OOV_TOKEN] + list(tokens)
        self._index = {token: i for i, token in enumerate(self._vocabulary)}
        # Id 0 is padding only: an empty token (possible with a custom split) is out of vocabulary.
        del self._index[PADDING_TOKEN]
        self._table = None
        if self._kernel_flags is not None:
            self._table = _text.TokenTable()
            self._table.add_tokens(self._vocabulary[2:], 2)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The vocabulary, index = id: ``['', '[UNK]', most frequent, ...]``.

        Parameters
        ----------
        include_special_tokens : bool, default True
            Leave out ``''`` and ``'[UNK]'`` when False.
        """
        self._check_ready()
        return list(self._vocabulary if include_special_tokens else self._vocabulary[2:])

    def vocabulary_size(self) -> int:
        """Number of ids, padding and OOV included: the ``input_dim`` of the Embedding."""
        return 0 if self._vocabulary is None else len(self._vocabulary)

    def _check_ready(self):
        if self._vocabulary is None:
            raise RuntimeError("TextVectorizer has no vocabulary yet: call adapt(texts) or pass vocabulary=")

    # -- encoding ----------------------------------------------------------------------
    def __call__(self, texts: str | Iterable[str]) -> np.ndarray | Ragged:
        """Encode texts as int32 ids (0 = padding, 1 = out of vocabulary).

        Parameters
        ----------
        texts : str or sequence of str

        Returns
        -------
        ndarray or Ragged
            ``(n_texts, output_sequence_length)`` int32 when ``output_sequence_length`` is
            set, else a :class:`fastembed.Ragged` (rows iterate as 1-D int32 arrays). A
            single string gives one 1-D array.
        """
        self._check_ready()
        texts, single = _as_text_list(texts)
        if self._table is not None:
            return self._encode_compiled(texts, single)
        return self._encode_python(texts, single)

    encode = __call__

    def _encode_compiled(self, texts, single):
        texts = tuple(texts)
        n = len(texts)
        chars = sum(map(len, texts))
        num_threads = threads_for(chars * _WORK_PER_CHAR)
        if self.output_sequence_length is not None:
            length = self.output_sequence_length
            out = np.zeros((n, length), dtype=np.int32)
            offsets = np.arange(n, dtype=np.int64) * length
            self._table.encode(texts, self._kernel_flags, offsets, length, out.reshape(-1), 1, num_threads)
            return out[0] if single else out
        lengths = np.empty(n, dtype=np.int64)
        self._table.count_tokens(texts, self._kernel_flags, lengths, num_threads)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = np.empty(int(offsets[-1]), dtype=np.int32)
        self._table.encode(texts, self._kernel_flags, offsets, -1, flat, 1, num_threads)
        if single:
            return flat
        return Ragged._trusted(flat, offsets)

    def _encode_python(self, texts, single=False):
        """The pure-Python encoder: the compiled tokenizer's twin (and the path for
        callables and n-grams)."""
        tokens = self._tokenize(texts)
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        total = int(lengths.sum())
        # dict.get(token, OOV) over every token, iterated in C: no Python-level token loop.
        all_tokens = itertools.chain.from_iterable(tokens)
        flat = np.fromiter(map(self._index.get, all_tokens, itertools.repeat(1)), dtype=np.int32, count=total)
        if self.output_sequence_length is not None:
            out = pad_flat(flat, lengths, self.output_sequence_length, "post", "post", 0, np.int32)
            return out[0] if single else out
        if single:
            return flat
        return Ragged.from_row_lengths(flat, lengths)

    def decode(self, ids: ArrayLike) -> str:
        """Map ids back to tokens joined by spaces; padding (0) is dropped.

        Parameters
        ----------
        ids : sequence of int

        Returns
        -------
        str
        """
        self._check_ready()
        ids = np.asarray(ids)
        if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
            raise ValueError("decode takes one 1-D sequence of integer ids")
        bad = (ids < 0) | (ids >= len(self._vocabulary))
        if bad.any():
            position = int(np.argmax(bad))
            raise IndexError(
                "id %d at position %d is outside [0, %d)" % (ids[position], position, len(self._vocabulary))
            )
        return " ".join(self._vocabulary[i] for i in ids.tolist() if i != 0)

    # -- saving ------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments and vocabulary as a JSON-serialisable dict.

        Raises
        ------
        ValueError
            ``standardize`` or ``split`` is a callable, which JSON cannot hold.
        """
        for what in ("standardize", "split"):
            if callable(getattr(self, what)):
                raise ValueError(
                    "%s is a callable; a TextVectorizer with a custom %s cannot be saved as JSON: "
                    "save get_vocabulary() and pass it back with the callable" % (what, what)
                )
        return {
            "max_tokens": self.max_tokens,
            "standardize": self.standardize,
            "split": self.split,
            "ngrams": list(self._ngram_widths) if isinstance(self.ngrams, (tuple, list)) else self.ngrams,
            "output_sequence_length": self.output_sequence_length,
            "vocabulary": None if self._vocabulary is None else self._vocabulary[2:],
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TextVectorizer:
        """Rebuild a vectorizer from :meth:`get_config`'s output."""
        config = dict(config)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)

    def save(self, path: str | os.PathLike) -> None:
        """Write configuration and vocabulary to a JSON file."""
        _documents.write(path, self.to_document())

    @classmethod
    def load(cls, path: str | os.PathLike) -> TextVectorizer:
        """Read a vectorizer written by :meth:`save`.

        Raises
        ------
        ValueError
            The file is not valid JSON or not a saved TextVectorizer.
        """
        return cls.from_document(_documents.read(path, _FORMAT, _FORMAT_VERSION, "TextVectorizer"), path)

    @classmethod
    def from_document(
        cls,
        document: dict[str, Any],
        source: str | os.PathLike = "document",
    ) -> TextVectorizer:
        """Rebuild from the dict :meth:`to_document` returns."""
        _documents.check(document, _FORMAT, _FORMAT_VERSION, source, "TextVectorizer")
        config = document.get("config")
        if not isinstance(config, dict):
            raise ValueError("%s holds a damaged TextVectorizer configuration (no config object)" % source)
        # A saved file carries its vocabulary itself: it never names another file to read.
        vocabulary = config.get("vocabulary")
        if vocabulary is not None and not (
            isinstance(vocabulary, list) and all(isinstance(token, str) for token in vocabulary)
        ):
            raise ValueError(
                "%s: the saved vocabulary must be a list of tokens (a saved encoder never points "
                "at another file), got %s" % (source, type(vocabulary).__name__)
            )
        for key, limit in (("output_sequence_length", _MAX_FILE_SEQUENCE_LENGTH), ("ngrams", _MAX_FILE_NGRAMS)):
            value = config.get(key)
            values = value if isinstance(value, list) else [value]
            for item in values:
                if item is not None and (not isinstance(item, int) or isinstance(item, bool) or not 1 <= item <= limit):
                    raise ValueError(
                        "%s: %s must be an integer in [1, %d] in a saved encoder, got %r" % (source, key, limit, value)
                    )
        try:
            return cls.from_config(config)
        except (KeyError, TypeError) as exc:
            raise ValueError("%s holds a damaged TextVectorizer configuration (%s)" % (source, exc)) from None

    def to_document(self) -> dict[str, Any]:
        """The dict that :meth:`save` writes."""
        return _documents.make(_FORMAT, _FORMAT_VERSION, config=self.get_config())

    def __repr__(self) -> str:
        return (
            "TextVectorizer(max_tokens=%r, standardize=%r, split=%r, ngrams=%r, output_sequence_length=%r, "
            "vocabulary_size=%d)"
            % (
                self.max_tokens,
                self.standardize,
                self.split,
                self.ngrams,
                self.output_sequence_length,
                self.vocabulary_size(),
            )
        )
