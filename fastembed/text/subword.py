"""``SubwordEncoder``: a reversible subword vocabulary with the semantics of TensorFlow
Datasets' ``SubwordTextEncoder`` (the tutorial's ``imdb_reviews/subwords8k`` encoder).

Text is cut into runs of letters and digits, runs of other characters, and underscores.
A word followed by a single space carries it as a trailing ``_`` (``"the_"``), so the
space costs no id. Each piece is then matched greedily, longest first, against the
subword vocabulary; a character no subword covers is written as its UTF-8 bytes, which
have ids of their own. Any Unicode text therefore encodes, and decodes back unchanged.

Ids: 0 is left for padding; ``1 .. len(subwords)`` are the subwords (reserved tokens
first); the 256 ids after them are the bytes. ``vocab_size = 1 + len(subwords) + 256``.

Splitting, counting, vocabulary building and encoding run in compiled code
(``fastembed._kernels._subword``); the pure-Python functions here are its twin (the
oracle in tests, and the path of an uncompiled install).
"""

from __future__ import annotations

import collections
import os
import re
from typing import Any, Iterable

import numpy as np

from .._config import COMPILED, threads_for
from ..ragged import Ragged
from . import _documents

if COMPILED:
    from .._kernels import _subword
else:  # pragma: no cover - the test suite refuses to run uncompiled
    _subword = None

# Work the thread policy counts per character encoded (split, trie walk, write).
_WORK_PER_CHAR = 8
# Texts handed to the compiled piece counter at a time (bounds the str tuple it holds).
_COUNT_BATCH = 2048

_FORMAT = "fastembed.SubwordEncoder"
_FORMAT_VERSION = 1
_MARKER = "_"  # word-final: "a single space follows"
_PIECES = re.compile(r"[^\W_]+|_+|[^\w]+")


_WORD_START = re.compile(r"[^\W_]")  # a piece of letters/digits: may carry the marker


def _greedy_segment(piece, vocabulary, max_length):
    """Split a piece into the longest known subwords, left to right; a position no
    subword covers yields its single character."""
    out = []
    start = 0
    n = len(piece)
    while start < n:
        for end in range(min(n, start + max_length), start, -1):
            if piece[start:end] in vocabulary:
                out.append(piece[start:end])
                start = end
                break
        else:
            out.append(piece[start])
            start += 1
    return out


class SubwordEncoder:
    """Reversible subword text encoder (TFDS ``SubwordTextEncoder`` semantics).

    Build one with :meth:`build_from_corpus`, or pass a subword list.

    Parameters
    ----------
    subwords : sequence of str
        Reserved tokens first, then subwords; word-final subwords end with ``_``.
    reserved_tokens : sequence of str, optional
        Tokens (at the start of ``subwords``) that are cut out of the text whole.
    """

    def __init__(self, subwords: Iterable[str] = (), reserved_tokens: Iterable[str] | None = None) -> None:
        subwords = list(subwords)
        reserved = list(reserved_tokens or [])
        if any(not isinstance(s, str) or not s for s in subwords):
            raise ValueError("subwords must be non-empty strings")
        if subwords[: len(reserved)] != reserved:
            raise ValueError("the reserved tokens must open the subword list, in order")
        if len(set(subwords)) != len(subwords):
            raise ValueError("the subword list repeats entries")
        if _MARKER not in subwords:
            # The bare marker must always match, so that a word whose last character has
            # no subword still ends in a space on decoding.
            subwords.insert(len(reserved), _MARKER)
        self._subwords = subwords
        self._reserved = reserved
        self._subword_to_id = {s: i + 1 for i, s in enumerate(subwords) if i >= len(reserved)}
        self._reserved_to_id = {s: i + 1 for i, s in enumerate(reserved)}
        self._max_subword_length = max((len(s) for s in self._subword_to_id), default=1)
        self._byte_base = len(subwords) + 1
        self._cache = {}
        self._kernel = None
        if reserved:
            alternatives = "|".join(re.escape(r) for r in sorted(reserved, key=len, reverse=True))
            self._reserved_re = re.compile("(%s)" % alternatives)
        else:
            self._reserved_re = None

    # -- properties --------------------------------------------------------------------
    @property
    def subwords(self) -> list[str]:
        """The subword strings, id - 1 = position (reserved tokens first)."""
        return list(self._subwords)

    @property
    def vocab_size(self) -> int:
        """``1 + len(subwords) + 256``: padding, subwords, bytes."""
        return self._byte_base + 256

    # -- splitting ---------------------------------------------------------------------
    def _split_reserved(self, text):
        if self._reserved_re is None:
            return [(text, False)]
        parts = self._reserved_re.split(text)
        return [(part, i % 2 == 1) for i, part in enumerate(parts) if part]

    def _prepared_pieces(self, text):
        """Yield ``(piece, kind)``: kind 'reserved', 'underscore' (bytes only) or 'text'."""
        for chunk, reserved in self._split_reserved(text):
            if reserved:
                yield chunk, "reserved"
                continue
            pieces = _PIECES.findall(chunk)
            skip = False
            for i, piece in enumerate(pieces):
                if skip:
                    skip = False
                    continue
                if piece[0] == "_":
                    yield piece, "underscore"
                    continue
                following = pieces[i + 1] if i + 1 < len(pieces) else None
                if following == " " and _WORD_START.match(piece):
                    yield piece + _MARKER, "text"
                    skip = True
                else:
                    yield piece, "text"

    # -- encoding ----------------------------------------------------------------------
    def _piece_ids(self, piece):
        ids = self._cache.get(piece)
        if ids is None:
            ids = []
            for part in _greedy_segment(piece, self._subword_to_id, self._max_subword_length):
                subword_id = self._subword_to_id.get(part)
                if subword_id is None:
                    ids.extend(self._byte_base + b for b in part.encode("utf-8", "surrogatepass"))
                else:
                    ids.append(subword_id)
            if len(self._cache) < 1_000_000:
                self._cache[piece] = ids
        return ids

    def _compiled(self):
        if self._kernel is None:
            first_id = len(self._reserved) + 1
            self._kernel = _subword.Encoder(self._subwords[len(self._reserved) :], first_id, self._byte_base)
        return self._kernel

    def encode(self, text: str) -> list[int]:
        """Encode a string as ids (all >= 1).

        Parameters
        ----------
        text : str

        Returns
        -------
        list of int
        """
        if not isinstance(text, str):
            raise TypeError("encode takes a str, got %s" % type(text).__name__)
        if _subword is not None:
            return self.encode_batch([text]).values.tolist()
        return self._encode_python(text)

    def encode_batch(self, texts: Iterable[str]) -> Ragged:
        """Encode many strings at once (compiled, in parallel over texts).

        Parameters
        ----------
        texts : iterable of str

        Returns
        -------
        fastembed.Ragged
            Row i holds ``encode(texts[i])`` (int32); ``.to_padded()`` pads with 0, as
            ``padded_batch`` does.
        """
        texts = tuple(texts)
        for position, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError("texts[%d] is %s, not a str" % (position, type(text).__name__))
        if _subword is None:
            return Ragged.from_rows([self._encode_python(text) for text in texts], dtype=np.int32)
        if self._reserved_re is None:
            values, offsets = self._encode_plain(texts)
            return Ragged._trusted(values, offsets)
        return self._encode_with_reserved(texts)

    def _encode_plain(self, texts):
        work = sum(len(text) for text in texts) * _WORK_PER_CHAR
        return self._compiled().encode_batch(texts, threads_for(work))

    def _encode_with_reserved(self, texts):
        # Reserved tokens are cut out first (as the twin does), the text between them is
        # encoded in one compiled batch, and the rows are put back together in order.
        chunks, layout = [], []
        for text in texts:
            parts = []
            for part, reserved in self._split_reserved(text):
                if reserved:
                    parts.append(self._reserved_to_id[part])
                else:
                    parts.append(None)
                    chunks.append(part)
            layout.append(parts)
        values, offsets = self._encode_plain(tuple(chunks))
        rows, chunk = [], 0
        for parts in layout:
            row = []
            for part in parts:
                if part is None:
                    row.append(values[offsets[chunk] : offsets[chunk + 1]])
                    chunk += 1
                else:
                    row.append(np.array([part], dtype=np.int32))
            rows.append(np.concatenate(row) if row else np.zeros(0, np.int32))
        return Ragged.from_rows(rows, dtype=np.int32)

    def _encode_python(self, text):
        ids = []
        for piece, kind in self._prepared_pieces(text):
            if kind == "text":
                ids.extend(self._piece_ids(piece))
            elif kind == "reserved":
                ids.append(self._reserved_to_id[piece])
            else:
                ids.extend(self._byte_base + b for b in piece.encode("utf-8", "surrogatepass"))
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Decode ids back to the text; padding ids (0) are skipped.

        Parameters
        ----------
        ids : sequence of int

        Returns
        -------
        str

        Raises
        ------
        ValueError
            An id is negative or not below ``vocab_size``.
        """
        out = []
        pending = bytearray()
        for position, value in enumerate(ids):
            try:
                i = int(value)
            except (TypeError, ValueError):
                raise ValueError("ids[%d] = %r is not an integer" % (position, value)) from None
            if i < 0 or i >= self.vocab_size:
                raise ValueError("id %d at position %d is outside [0, %d)" % (i, position, self.vocab_size))
            if i == 0:
                continue
            if i >= self._byte_base:
                pending.append(i - self._byte_base)
                continue
            if pending:
                out.append(pending.decode("utf-8", "replace"))
                pending = bytearray()
            subword = self._subwords[i - 1]
            if i <= len(self._reserved):
                out.append(subword)
            elif subword.endswith(_MARKER):
                out.append(subword[:-1])
                out.append(" ")
            else:
                out.append(subword)
        if pending:
            out.append(pending.decode("utf-8", "replace"))
        return "".join(out)

    # -- building ----------------------------------------------------------------------
    @classmethod
    def build_from_corpus(
        cls,
        texts: Iterable[str],
        target_vocab_size: int,
        max_subword_length: int = 20,
        reserved_tokens: Iterable[str] | None = None,
        max_corpus_chars: int | None = None,
    ) -> SubwordEncoder:
        """Learn a subword vocabulary of about ``target_vocab_size`` ids from ``texts``.

        As TFDS does: count the corpus' pieces, then binary-search the minimum count a
        subword needs, each trial building the vocabulary in four refinement rounds
        (candidates are the substrings that start where the current vocabulary cuts a
        piece; longer accepted subwords discount their prefixes).

        Parameters
        ----------
        texts : iterable of str
        target_vocab_size : int
            Aimed-at ``vocab_size`` (bytes and padding included).
        max_subword_length : int, default 20
        reserved_tokens : sequence of str, optional
            Kept whole, with the first ids.
        max_corpus_chars : int, optional
            Read at most this many characters of the corpus.

        Returns
        -------
        SubwordEncoder
        """
        reserved = list(reserved_tokens or [])
        if not isinstance(target_vocab_size, int) or target_vocab_size < 1 + 256 + 1 + len(reserved):
            raise ValueError(
                "target_vocab_size must be an int above 257 + the reserved tokens, got %r" % (target_vocab_size,)
            )
        if not isinstance(max_subword_length, int) or max_subword_length < 1:
            raise ValueError("max_subword_length must be a positive int, got %r" % (max_subword_length,))
        splitter = cls(reserved_tokens=reserved, subwords=reserved)
        texts = _corpus_texts(texts, max_corpus_chars)
        if _subword is not None:
            trials = _CompiledTrials(splitter, texts, max_subword_length, reserved)
        else:
            trials = _PythonTrials(splitter, texts, max_subword_length, reserved)

        def build(min_count):
            return cls(trials.subwords(min_count), reserved_tokens=reserved)

        # Binary search on the minimum count; within 1% of the target is close enough.
        low, high = 1, trials.max_count
        best = None
        while low <= high:
            middle = (low + high) // 2
            encoder = build(middle)
            if best is None or abs(encoder.vocab_size - target_vocab_size) < abs(best.vocab_size - target_vocab_size):
                best = encoder
            if abs(encoder.vocab_size - target_vocab_size) * 100 < target_vocab_size:
                break
            if encoder.vocab_size > target_vocab_size:
                low = middle + 1
            else:
                high = middle - 1
        return best

    # -- saving ------------------------------------------------------------------------
    def to_document(self) -> dict[str, Any]:
        """The JSON-serialisable dict :meth:`save_to_file` writes."""
        return _documents.make(_FORMAT, _FORMAT_VERSION, subwords=self._subwords, reserved_tokens=self._reserved)

    @classmethod
    def from_document(
        cls,
        document: dict[str, Any],
        source: str | os.PathLike = "document",
    ) -> SubwordEncoder:
        """Rebuild an encoder from :meth:`to_document`'s dict."""
        _documents.check(document, _FORMAT, _FORMAT_VERSION, source, "SubwordEncoder")
        subwords, reserved = document.get("subwords"), document.get("reserved_tokens", [])
        if not isinstance(subwords, list) or not isinstance(reserved, list):
            raise ValueError("%s holds a damaged SubwordEncoder" % source)
        return cls(subwords, reserved_tokens=reserved)

    def save_to_file(self, filename_prefix: str) -> None:
        """Write the vocabulary to ``filename_prefix + '.subwords'`` (JSON)."""
        _documents.write(filename_prefix + ".subwords", self.to_document())

    @classmethod
    def load_from_file(cls, filename_prefix: str) -> SubwordEncoder:
        """Read an encoder written by :meth:`save_to_file`.

        Raises
        ------
        ValueError
            The file is not a saved SubwordEncoder (or is damaged).
        """
        path = filename_prefix + ".subwords"
        return cls.from_document(_documents.read(path, _FORMAT, _FORMAT_VERSION, "SubwordEncoder"), path)

    def __repr__(self) -> str:
        return "SubwordEncoder(vocab_size=%d)" % self.vocab_size


def _corpus_texts(texts, max_corpus_chars):
    """The corpus' texts, type-checked, cut to ``max_corpus_chars`` in all (lazily)."""
    chars = 0
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError("texts[%d] is %s, not a str" % (position, type(text).__name__))
        if max_corpus_chars is not None:
            text = text[: max(0, max_corpus_chars - chars)]
            chars += len(text)
        yield text
        if max_corpus_chars is not None and chars >= max_corpus_chars:
            return


def _sorted_vocabulary(counted, reserved):
    """Most frequent first, ties by the string (descending), as TFDS orders them."""
    ordered = [candidate for _, candidate in sorted(counted, reverse=True)]
    return reserved + [s for s in ordered if s not in reserved]


class _CompiledTrials:
    """Pieces counted and candidates enumerated once by the compiled kernel; each trial
    (one minimum count) is then four refinement rounds over integer arrays."""

    def __init__(self, splitter, texts, max_subword_length, reserved):
        counter = _subword.PieceCounter()
        batch = []
        for text in texts:
            if splitter._reserved_re is None:
                batch.append(text)
            else:
                batch.extend(chunk for chunk, is_reserved in splitter._split_reserved(text) if not is_reserved)
            if len(batch) >= _COUNT_BATCH:
                counter.count(tuple(batch))
                batch = []
        counter.count(tuple(batch))
        chars, offsets, counts = counter.pieces()
        if counts.size == 0:
            raise ValueError("the corpus holds no text to learn subwords from")
        self.max_count = int(counts.max())
        self.reserved = reserved
        self.builder = _subword.VocabularyBuilder(chars, offsets, counts, max_subword_length)

    def subwords(self, min_count):
        nodes, counts = self.builder.run(min_count)
        return _sorted_vocabulary(zip(counts.tolist(), self.builder.strings(nodes)), self.reserved)


class _PythonTrials:
    """The twin of :class:`_CompiledTrials`: TFDS' refinement over Python dicts."""

    def __init__(self, splitter, texts, max_subword_length, reserved):
        counts = collections.Counter()
        for text in texts:
            counts.update(piece for piece, kind in splitter._prepared_pieces(text) if kind == "text")
        if not counts:
            raise ValueError("the corpus holds no text to learn subwords from")
        self.max_count = max(counts.values())
        self.builder = _Builder(counts, max_subword_length, reserved)

    def subwords(self, min_count):
        return self.builder.subwords(min_count)


class _Builder:
    """The TFDS vocabulary refinement, with the first round (independent of the minimum
    count: the vocabulary is still empty, every character is a cut) computed once."""

    def __init__(self, counts, max_subword_length, reserved):
        self.counts = list(counts.items())
        self.max_length = max_subword_length
        self.reserved = reserved
        self.first_round = self._candidates(None)

    def _candidates(self, vocabulary):
        max_length = self.max_length
        candidate_counts = collections.defaultdict(int)
        for piece, count in self.counts:
            n = len(piece)
            if vocabulary is None:
                starts = range(n)
            else:
                starts = []
                position = 0
                for part in _greedy_segment(piece, vocabulary, max_length):
                    starts.append(position)
                    position += len(part)
            for start in starts:
                for end in range(start + 1, min(n, start + max_length) + 1):
                    candidate_counts[piece[start:end]] += count
        return candidate_counts

    def subwords(self, min_count):
        vocabulary = None
        for round_ in range(4):
            counts = dict(self.first_round) if round_ == 0 else self._candidates(vocabulary)
            by_length = collections.defaultdict(list)
            for candidate, count in counts.items():
                # Single bytes always have an id; the marker is added by the encoder.
                if count >= min_count and len(candidate.encode("utf-8", "surrogatepass")) > 1:
                    by_length[len(candidate)].append(candidate)
            accepted = []
            for length in sorted(by_length, reverse=True):
                for candidate in by_length[length]:
                    count = counts[candidate]
                    if count < min_count:
                        continue
                    accepted.append((count, candidate))
                    # A longer accepted subword takes those occurrences from its prefixes.
                    for end in range(1, length):
                        counts[candidate[:end]] -= count
            vocabulary = {candidate for _, candidate in accepted}
        return _sorted_vocabulary(accepted, self.reserved)
