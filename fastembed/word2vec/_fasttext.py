"""``FastText``: word2vec whose input vector of a word is the average of its own row and
the rows of its character n-grams, hashed into buckets (Bojanowski et al. 2017), with
gensim's names, hash and defaults. Unseen words get vectors from their n-grams."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from ..embeddings import KeyedVectors
from ..ops import embedding_bag
from ._model import Word2Vec, _positive_int

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619


def ngram_hash(ngram):
    """fastText's 32-bit FNV-1a over the UTF-8 bytes (gensim's ``ft_hash_bytes``).

    As in fastText's C++, each byte is read as a signed char and sign-extended, so bytes
    of 0x80 and above (all of a non-ASCII character's) enter as 0xFFFFFFxx.
    """
    h = _FNV_OFFSET
    for byte in ngram.encode("utf-8"):
        h = ((h ^ (byte | 0xFFFFFF00 if byte >= 0x80 else byte)) * _FNV_PRIME) & 0xFFFFFFFF
    return h


def character_ngrams(word, min_n, max_n):
    """The character n-grams of ``<word>`` of lengths ``min_n`` to ``max_n``, as fastText
    lists them (the bare ``<`` and ``>`` left out)."""
    extended = "<" + word + ">"
    out = []
    for start in range(len(extended)):
        for n in range(min_n, max_n + 1):
            end = start + n
            if end > len(extended):
                break
            if n == 1 and (start == 0 or end == len(extended)):
                continue
            out.append(extended[start:end])
    return out


def ngram_buckets(word, min_n, max_n, bucket):
    """Bucket rows of a word's n-grams (gensim's ``ft_ngram_hashes``)."""
    if bucket == 0 or max_n < min_n:
        return []
    return [ngram_hash(g) % bucket for g in character_ngrams(word, min_n, max_n)]


class FastTextKeyedVectors(KeyedVectors):
    """Word vectors that also answer for words outside the vocabulary, from their n-grams.

    ``vectors`` holds each vocabulary word's full vector (its own row averaged with its
    n-gram rows, as gensim's ``adjust_vectors``); ``vectors_vocab`` and
    ``vectors_ngrams`` are the trained rows.
    """

    def __init__(
        self,
        vectors: ArrayLike,
        keys: Iterable[str],
        vectors_vocab: np.ndarray,
        vectors_ngrams: np.ndarray,
        min_n: int,
        max_n: int,
        bucket: int,
    ) -> None:
        super().__init__(vectors, keys)
        self.vectors_vocab = vectors_vocab
        self.vectors_ngrams = vectors_ngrams
        self.min_n, self.max_n, self.bucket = min_n, max_n, bucket

    def __contains__(self, key: object) -> bool:
        """True for a vocabulary word and for any word with at least one n-gram (gensim's rule)."""
        if key in self.key_to_index:
            return True
        return isinstance(key, str) and bool(ngram_buckets(key, self.min_n, self.max_n, self.bucket))

    def __getitem__(self, key: str | Sequence[str]) -> np.ndarray:
        if isinstance(key, (list, tuple)):
            return np.stack([self.get_vector(k) for k in key])
        return self.get_vector(key)

    def get_vector(self, key: str, norm: bool = False) -> np.ndarray:
        """The vector of ``key``: its row, or for an unseen word the mean of its n-gram rows
        (zeros when it has none, as gensim)."""
        if key in self.key_to_index:
            return super().get_vector(key, norm=norm)
        if not isinstance(key, str):
            raise KeyError("%r is not a str" % (key,))
        rows = ngram_buckets(key, self.min_n, self.max_n, self.bucket)
        if not rows:
            return np.zeros(self.vector_size, dtype=self.vectors.dtype)
        vector = self.vectors_ngrams[rows].mean(axis=0)
        if norm:
            length = np.linalg.norm(vector)
            return vector / length if length > 0 else vector
        return vector


class FastText(Word2Vec):
    """fastText-style subword vectors (gensim's ``FastText``): word2vec plus character n-grams.

    Parameters
    ----------
    min_n, max_n : int, default 3 and 6
        Lengths of the character n-grams of ``<word>``; ``max_n < min_n`` turns them off.
    bucket : int, default 2_000_000
        Rows the n-grams hash into (gensim's default; 2M x vector_size floats, 800 MB at
        100 dimensions: choose fewer for small corpora).
    **kwargs
        As :class:`Word2Vec` (``sentences``, ``corpus_file``, ``vector_size``, ``sg``, ...).
        The deterministic mode copies the bucket rows per replica and merges all of them:
        use it with a small ``bucket``.
    """

    def __init__(
        self,
        sentences: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        min_n: int = 3,
        max_n: int = 6,
        bucket: int = 2_000_000,
        **kwargs: Any,
    ) -> None:
        self.min_n = _positive_int("min_n", min_n)
        self.max_n = _positive_int("max_n", max_n, minimum=0)
        self.bucket = _positive_int("bucket", bucket, minimum=0)
        self._inputs = None
        super().__init__(sentences=sentences, corpus_file=corpus_file, **kwargs)

    _format = "fastembed.FastText"

    def build_vocab(
        self,
        corpus_iterable: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        progress_per: int = 10000,
        trim_rule: None = None,
    ) -> FastText:
        self._inputs = None
        super().build_vocab(corpus_iterable, corpus_file=corpus_file, progress_per=progress_per, trim_rule=trim_rule)
        n, dim = self.wv.vectors.shape
        rng = np.random.default_rng([self.seed, 1])
        inputs = np.empty((n + self.bucket, dim), dtype=np.float32)
        inputs[:n] = self.wv.vectors
        inputs[n:] = rng.random((self.bucket, dim), dtype=np.float32)
        inputs[n:] *= 2.0
        inputs[n:] -= 1.0
        inputs[n:] /= dim
        self._set_inputs(inputs, self.wv.index_to_key)
        return self

    def _set_inputs(self, inputs, keys):
        n = len(keys)
        self._inputs = inputs
        self.wv = FastTextKeyedVectors(inputs[:n].copy(), keys, inputs[:n], inputs[n:], self.min_n, self.max_n,
                                       self.bucket)  # fmt: skip
        self._prepare_sampling()
        self._adjust_vectors()

    @classmethod
    def _array_rows(cls, params, n_words):
        return {"vectors_vocab": n_words, "vectors_ngrams": int(params.get("bucket", 0))}

    def _arrays(self):
        return {"vectors_vocab": self.wv.vectors_vocab, "vectors_ngrams": self.wv.vectors_ngrams}

    def _restore(self, keys, arrays):
        self._set_inputs(np.concatenate([arrays["vectors_vocab"], arrays["vectors_ngrams"]]), keys)

    def _input_composition(self):
        if self._inputs is None:  # during Word2Vec.build_vocab, before the buckets exist
            return super()._input_composition()
        n = len(self.wv.index_to_key)
        parts = [
            [w] + [n + b for b in ngram_buckets(word, self.min_n, self.max_n, self.bucket)]
            for w, word in enumerate(self.wv.index_to_key)
        ]
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum([len(p) for p in parts], out=offsets[1:])
        ids = np.fromiter((r for p in parts for r in p), dtype=np.int32, count=int(offsets[-1]))
        return offsets, ids

    def _input_matrix(self):
        return self._inputs

    def _adjust_vectors(self):
        """Each vocabulary word's full vector: the mean of its input rows."""
        offsets, ids = self._composition
        # The bag kernel pools in one pass (no (components, dim) gather of the input rows).
        self.wv.vectors[:] = embedding_bag(self._inputs, ids, offsets, mode="mean")

    def _after_training(self):
        self._adjust_vectors()
        super()._after_training()

    def _params(self):
        params = super()._params()
        params.update(min_n=self.min_n, max_n=self.max_n, bucket=self.bucket)
        return params

    def __repr__(self) -> str:
        return super().__repr__().replace("Word2Vec<", "FastText<", 1)[:-1] + ", n-grams %d-%d, bucket=%d>" % (
            self.min_n,
            self.max_n,
            self.bucket,
        )
