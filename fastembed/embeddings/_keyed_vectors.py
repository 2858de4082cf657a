""":class:`KeyedVectors`: tokens and their vectors, with gensim's API for looking them up,
searching them (nearest neighbours, analogies), evaluating, exporting and plotting them.

The search methods run on :func:`fastembed.search.top_k_similar` (exact, blocked,
parallel); file formats live in ``_formats``, evaluation in ``_evaluation``, PCA and
plots in ``_projection``.
"""

from __future__ import annotations

import os
from numbers import Integral
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np

from .. import search
from .._validation import inverse_norms
from . import _evaluation, _formats, _projection

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from ..layers import Layer
    from ..text import SubwordEncoder, TextVectorizer
    from ._evaluation import CorrelationResult
    from ._projection import PCAResult

_RESERVED_VOCABULARY_TOKENS = ("", "[UNK]")


class KeyedVectors:
    """Tokens and their vectors, row ``i`` of ``vectors`` belonging to ``index_to_key[i]``.

    Parameters
    ----------
    vectors : array-like of shape (n_tokens, dim)
    keys : sequence of str
        One distinct token per row.
    """

    def __init__(self, vectors: ArrayLike, keys: Iterable[str]) -> None:
        vectors = np.asarray(vectors)
        if vectors.ndim != 2:
            raise ValueError("vectors must be 2-D (n_tokens, dim), got shape %s" % (vectors.shape,))
        if vectors.dtype not in (np.float32, np.float64):
            vectors = vectors.astype(np.float32)
        keys = list(keys)
        if len(keys) != vectors.shape[0]:
            raise ValueError("%d keys for %d vectors: rows and tokens must line up" % (len(keys), vectors.shape[0]))
        for position, key in enumerate(keys):
            if not isinstance(key, str):
                raise TypeError("keys[%d] is %s, not a str" % (position, type(key).__name__))
        self.key_to_index = {}
        for position, key in enumerate(keys):
            if key in self.key_to_index:
                raise ValueError("key %r appears twice (rows %d and %d)" % (key, self.key_to_index[key], position))
            self.key_to_index[key] = position
        finite = np.isfinite(vectors).all(axis=1)
        if not finite.all():
            bad = int(np.argmin(finite))
            raise ValueError("the vector of %r (row %d) holds NaN or infinity" % (keys[bad], bad))
        self.index_to_key = keys
        self.vectors = vectors
        self._inv_norms = None

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_layer(
        cls,
        layer: Layer | ArrayLike,
        vocabulary: Iterable[str] | TextVectorizer | SubwordEncoder,
        keep_reserved: bool = False,
    ) -> KeyedVectors:
        """Build from a trained ``Embedding`` layer (or a weight matrix) and its vocabulary.

        Parameters
        ----------
        layer : fastembed.layers.Embedding or ndarray
        vocabulary : list of str, TextVectorizer or SubwordEncoder
            Row ``i`` of the table is token ``vocabulary[i]``.
        keep_reserved : bool, default False
            Keep the padding row (id 0), ``'[UNK]'`` and a SubwordEncoder's byte ids.

        Returns
        -------
        KeyedVectors
        """
        weights = layer.get_weights()[0] if hasattr(layer, "get_weights") else np.asarray(layer)
        tokens, reserved = _vocabulary_rows(vocabulary)
        if weights.shape[0] != len(tokens):
            raise ValueError("the table has %d rows but the vocabulary %d tokens" % (weights.shape[0], len(tokens)))
        rows = [i for i in range(len(tokens)) if keep_reserved or i not in reserved]
        return cls(weights[rows], [tokens[i] for i in rows])

    # -- mapping -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: object) -> bool:
        return key in self.key_to_index

    def __getitem__(self, key: str | Sequence[str]) -> np.ndarray:
        """The vector of ``key`` (or a 2-D array for a list of keys)."""
        if isinstance(key, (list, tuple)):
            return self.vectors[[self.get_index(k) for k in key]]
        return self.vectors[self.get_index(key)]

    def get_index(self, key: str) -> int:
        """Row of ``key``; ``KeyError`` naming it when absent."""
        try:
            return self.key_to_index[key]
        except KeyError:
            raise KeyError("%r is not in the vocabulary" % (key,)) from None

    @property
    def vector_size(self) -> int:
        """The embedding dimension."""
        return self.vectors.shape[1]

    # -- vectors -----------------------------------------------------------------------
    def fill_norms(self, force: bool = False) -> np.ndarray:
        """Compute (and cache) the row norms used by every similarity method.

        Call with ``force=True`` after changing ``vectors`` in place, as in gensim.
        """
        if self._inv_norms is None or force:
            self._inv_norms = inverse_norms(self.vectors)
        return self._inv_norms

    @property
    def norms(self) -> np.ndarray:
        """L2 norm of every vector."""
        inv_norms = self.fill_norms()
        with np.errstate(divide="ignore"):
            return np.where(inv_norms > 0, 1 / inv_norms, 0).astype(self.vectors.dtype)

    def get_vector(self, key: str, norm: bool = False) -> np.ndarray:
        """The vector of ``key``; a unit vector with ``norm=True`` (zero stays zero)."""
        index = self.get_index(key)
        if norm:
            return self.vectors[index] * self.fill_norms()[index]
        return self.vectors[index]

    def get_mean_vector(
        self,
        keys: Sequence[str | np.ndarray] | np.ndarray,
        weights: ArrayLike | None = None,
        pre_normalize: bool = True,
        post_normalize: bool = False,
        ignore_missing: bool = True,
    ) -> np.ndarray:
        """Weighted mean of the vectors of ``keys`` (keys or vectors), as gensim computes it.

        Parameters
        ----------
        keys : list of str or ndarray
        weights : list of float, optional
            One per key (default 1); the mean divides by the sum of their absolute values.
        pre_normalize : bool, default True
            Average unit vectors.
        post_normalize : bool, default False
            Return a unit vector.
        ignore_missing : bool, default True
            Skip unknown keys instead of raising ``KeyError``.

        Returns
        -------
        ndarray of shape (dim,)
        """
        if len(keys) == 0:
            raise ValueError("cannot compute a mean of no keys")
        weights = np.ones(len(keys)) if weights is None else np.asarray(weights, dtype=np.float64)
        if weights.shape != (len(keys),):
            raise ValueError("%d weights for %d keys" % (weights.size, len(keys)))
        total = np.zeros(self.vector_size, dtype=np.float64)
        total_weight = 0.0
        for key, weight in zip(keys, weights):
            if isinstance(key, np.ndarray):
                vector = self._check_query_vector(key)
            elif key in self:  # FastTextKeyedVectors also answers for unseen words
                vector = self.get_vector(key, norm=pre_normalize)
            elif ignore_missing:
                continue
            else:
                raise KeyError("%r is not in the vocabulary" % (key,))
            total += weight * vector
            total_weight += abs(weight)
        if total_weight > 0:
            total /= total_weight
        if post_normalize:
            total = _unit(total)
        return total.astype(self.vectors.dtype)

    # -- similarity ----------------------------------------------------------------------
    @staticmethod
    def cosine_similarities(vector_1: ArrayLike, vectors_all: ArrayLike) -> np.ndarray:
        """Cosine similarity of ``vector_1`` with every row of ``vectors_all``."""
        vector_1 = np.asarray(vector_1)
        vectors_all = np.asarray(vectors_all)
        with np.errstate(divide="ignore", invalid="ignore"):
            return vectors_all @ vector_1 / (np.linalg.norm(vectors_all, axis=1) * np.linalg.norm(vector_1))

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two keys."""
        return float(np.dot(self.get_vector(w1, norm=True), self.get_vector(w2, norm=True)))

    def distance(self, w1: str, w2: str) -> float:
        """Cosine distance (1 - similarity) of two keys."""
        return 1.0 - self.similarity(w1, w2)

    def distances(self, word_or_vector: str | ArrayLike, other_words: Sequence[str] = ()) -> np.ndarray:
        """Cosine distances from a key or vector to ``other_words`` (default: every key).

        Returns
        -------
        ndarray of shape (len(other_words),) or (len(self),)
        """
        if isinstance(word_or_vector, str):
            vector = self.get_vector(word_or_vector, norm=True)
        else:
            vector = _unit(self._check_query_vector(word_or_vector))
        if other_words:
            rows = [self.get_index(word) for word in other_words]
            cosines = (self.vectors[rows] @ vector) * self.fill_norms()[rows]
        else:
            cosines = (self.vectors @ vector) * self.fill_norms()
        return 1 - cosines

    def most_similar(
        self,
        positive: str | np.ndarray | Sequence[str | np.ndarray | tuple[str, float]] | None = None,
        negative: str | np.ndarray | Sequence[str | np.ndarray | tuple[str, float]] | None = None,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]] | np.ndarray:
        """The keys closest to the mean of ``positive`` minus ``negative`` (3CosAdd).

        As gensim's ``most_similar``: unit vectors are averaged with weight 1 (positive)
        and -1 (negative), the query keys themselves are left out of the answer, and
        ``most_similar(positive=["king", "woman"], negative=["man"])`` answers an analogy.

        Parameters
        ----------
        positive, negative : str, ndarray, or list of them (or of ``(key, weight)`` pairs)
        topn : int or None, default 10
            With ``None``, return the similarity of every key (an array).
        restrict_vocab : int, optional
            Search only the first ``restrict_vocab`` keys (the most frequent ones).

        Returns
        -------
        list of (str, float)
            Best first; ties go to the earlier key.
        """
        if isinstance(topn, Integral) and topn < 1:
            return []
        keys, weights = _weighted_terms(positive, negative)
        query = self.get_mean_vector(keys, weights, pre_normalize=True, post_normalize=True, ignore_missing=False)
        exclude = self._query_rows(keys)
        return self._search(query[None, :], [exclude], topn, restrict_vocab, cosmul=False)[0]

    def most_similar_cosmul(
        self,
        positive: str | np.ndarray | Sequence[str | np.ndarray] | None = None,
        negative: str | np.ndarray | Sequence[str | np.ndarray] | None = None,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]] | np.ndarray:
        """The keys that best answer the analogy by 3CosMul (Levy & Goldberg, 2014).

        Each key is scored ``prod((1 + cos(key, p)) / 2) / (prod((1 + cos(key, n)) / 2) + 1e-6)``
        over the positive and negative terms, as gensim's ``most_similar_cosmul``.
        Arguments and result as :meth:`most_similar` (no weights).
        """
        if isinstance(topn, Integral) and topn < 1:
            return []
        positive, negative = _as_list(positive), _as_list(negative)
        if not positive:
            raise ValueError("most_similar_cosmul needs at least one positive term")
        terms = np.array([self._unit_term(t) for t in positive + negative], dtype=self.vectors.dtype)
        exclude = self._query_rows(positive + negative)
        return self._search(
            terms, [exclude], topn, restrict_vocab, cosmul=True, n_positive=len(positive), n_negative=len(negative)
        )[0]

    def similar_by_vector(
        self,
        vector: ArrayLike,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]] | np.ndarray:
        """The keys closest to ``vector`` (no key is left out)."""
        return self.most_similar(positive=[self._check_query_vector(vector)], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_key(
        self,
        key: str,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]] | np.ndarray:
        """The keys closest to ``key`` (itself left out)."""
        return self.most_similar(positive=[key], topn=topn, restrict_vocab=restrict_vocab)

    similar_by_word = similar_by_key

    def most_similar_batch(
        self,
        queries: Iterable[str] | np.ndarray,
        topn: int = 10,
        restrict_vocab: int | None = None,
    ) -> list[list[tuple[str, float]]]:
        """Nearest neighbours of many keys or vectors in one blocked, parallel search.

        Much faster than calling :meth:`most_similar` in a loop: one pass over the
        table serves every query.

        Parameters
        ----------
        queries : list of str, or ndarray of shape (n_queries, dim)
            Keys (each left out of its own answer) or query vectors.
        topn : int, default 10
        restrict_vocab : int, optional

        Returns
        -------
        list of list of (str, float)
            One answer per query, as :meth:`most_similar` gives it.
        """
        if isinstance(queries, np.ndarray):
            if queries.ndim != 2 or queries.shape[1] != self.vector_size:
                raise ValueError("query vectors must have shape (n, %d), got %s" % (self.vector_size, queries.shape))
            terms = np.array([_unit(self._check_query_vector(v)) for v in queries], dtype=self.vectors.dtype)
            excludes = [[] for _ in range(len(queries))]
        else:
            queries = list(queries)
            if all(key in self.key_to_index for key in queries):
                rows = np.array([self.get_index(key) for key in queries], dtype=np.int64)
                terms = self.vectors[rows] * self.fill_norms()[rows][:, None]
                excludes = [[row] for row in rows]
            else:  # a key outside the table that still has a vector (fastText's unseen words)
                terms = np.array([self._unit_term(key) for key in queries], dtype=self.vectors.dtype)
                excludes = [self._query_rows([key]) for key in queries]
        return self._search(terms, excludes, topn, restrict_vocab, cosmul=False)

    def rank_by_centrality(self, words: Iterable[str], use_norm: bool = True) -> list[tuple[float, str]]:
        """``(cosine to the mean, word)`` pairs, most central first; unknown words skipped."""
        used = [word for word in words if word in self]
        if not used:
            raise ValueError("none of %r is in the vocabulary" % (list(words),))
        vectors = np.array([self.get_vector(word, norm=use_norm) for word in used])
        mean = _unit(vectors.mean(axis=0))
        cosines = vectors @ mean
        return sorted(zip(cosines.tolist(), used), reverse=True)

    def doesnt_match(self, words: Iterable[str]) -> str:
        """The word furthest from the mean of ``words`` (unknown words are skipped)."""
        return self.rank_by_centrality(words)[-1][1]

    def _search(self, terms, excludes, topn, restrict_vocab, cosmul, n_positive=1, n_negative=0):
        """Run the search for stacked query terms; list of answers (or scores when topn is None)."""
        stop = len(self) if not restrict_vocab else min(int(restrict_vocab), len(self))
        n_queries = len(excludes)
        width = max((len(e) for e in excludes), default=0)
        exclude = np.full((n_queries, width), -1, dtype=np.int64)
        for q, rows in enumerate(excludes):
            exclude[q, : len(rows)] = rows
        if topn is None:
            if n_queries != 1:
                raise ValueError("topn=None returns all similarities of a single query")
            return [self._all_scores(terms, stop, cosmul, n_positive, n_negative)]
        scores, rows = search.top_k_similar(
            self.vectors,
            terms,
            int(topn),
            inv_norms=self.fill_norms(),
            n_positive=n_positive,
            n_negative=n_negative,
            cosmul=cosmul,
            exclude=exclude,
            stop=stop,
        )
        keys = self.index_to_key
        return [
            [(keys[row], score) for row, score in zip(row_list, score_list) if row >= 0]
            for row_list, score_list in zip(rows.tolist(), scores.tolist())
        ]

    def _all_scores(self, terms, stop, cosmul, n_positive, n_negative):
        """Every key's score for one query (gensim's ``topn=None``), query keys included."""
        cosines = (self.vectors[:stop] @ terms.T).T * self.fill_norms()[:stop]
        if not cosmul:
            return cosines[0]
        shifted = (1 + cosines) / 2
        return np.prod(shifted[:n_positive], axis=0) / (np.prod(shifted[n_positive:], axis=0) + 1e-6)

    def _query_rows(self, keys):
        return [self.key_to_index[key] for key in keys if isinstance(key, str) and key in self.key_to_index]

    def _unit_term(self, term):
        if isinstance(term, str):
            return self.get_vector(term, norm=True)
        return _unit(self._check_query_vector(term))

    def _check_query_vector(self, vector):
        vector = np.asarray(vector)
        if vector.shape != (self.vector_size,):
            raise ValueError("a query vector must have shape (%d,), got %s" % (self.vector_size, vector.shape))
        if not np.isfinite(vector).all():
            raise ValueError("a query vector holds NaN or infinity")
        return vector

    # -- evaluation ----------------------------------------------------------------------
    def evaluate_word_analogies(
        self,
        analogies: str | os.PathLike,
        restrict_vocab: int = 300000,
        case_insensitive: bool = True,
        dummy4unknown: bool = False,
        similarity_function: str = "most_similar",
    ) -> tuple[float, list[dict[str, Any]]]:
        """Accuracy on analogy questions in the ``questions-words.txt`` format.

        Parameters
        ----------
        analogies : str
            Path of a file of ``: section`` lines, each followed by lines of four words
            ``a b c expected`` (a is to b as c is to expected).
        restrict_vocab : int, default 300000
            Only the first ``restrict_vocab`` keys take part, as questions and as answers.
        case_insensitive : bool, default True
            Compare upper-cased words (the first of several case variants is used).
        dummy4unknown : bool, default False
            Count questions with unknown words as wrong instead of skipping them.
        similarity_function : {'most_similar', 'most_similar_cosmul'}
            3CosAdd (gensim's only method) or 3CosMul.

        Returns
        -------
        score : float
            Overall accuracy over the questions answered.
        sections : list of dict
            Per section (and a last ``'Total accuracy'`` entry): ``'section'``,
            ``'correct'`` and ``'incorrect'`` (lists of the four words), and ``'oov'``,
            the number of questions skipped (or counted wrong) for unknown words.
        """
        return _evaluation.evaluate_word_analogies(
            self, analogies, restrict_vocab, case_insensitive, dummy4unknown, similarity_function
        )

    def evaluate_word_pairs(
        self,
        pairs: str | os.PathLike,
        delimiter: str = "\t",
        encoding: str = "utf8",
        restrict_vocab: int = 300000,
        case_insensitive: bool = True,
        dummy4unknown: bool = False,
    ) -> tuple[CorrelationResult, CorrelationResult, float]:
        """Correlation of the model's similarities with human judgements (WordSim-353 format).

        Parameters
        ----------
        pairs : str
            Path of a file of ``word1<TAB>word2<TAB>score`` lines; ``#`` lines are comments.
        delimiter, encoding : str
        restrict_vocab, case_insensitive, dummy4unknown
            As :meth:`evaluate_word_analogies`.

        Returns
        -------
        pearson, spearman : CorrelationResult
            ``(statistic, pvalue)`` pairs, as scipy's results unpack.
        oov_ratio : float
            Percentage of pairs with an unknown word.
        """
        return _evaluation.evaluate_word_pairs(
            self, pairs, delimiter, encoding, restrict_vocab, case_insensitive, dummy4unknown
        )

    # -- projection ----------------------------------------------------------------------
    def pca(self, n_components: int = 2, words: Iterable[str] | None = None) -> PCAResult:
        """Principal components of the vectors (of ``words``, or of every key).

        Returns
        -------
        PCAResult
            ``coordinates`` (n_words, n_components), ``explained_variance_ratio``,
            ``components`` (n_components, dim), ``mean`` and ``keys``.
        """
        keys = list(self.index_to_key) if words is None else list(words)
        vectors = self.vectors if words is None else self[keys]
        return _projection.pca(vectors, keys, n_components)

    def plot(
        self,
        path: str,
        words: Iterable[str] | None = None,
        method: str = "pca",
        limit: int = 500,
        title: str | None = None,
    ) -> str:
        """Draw the embedding in two dimensions, each point labelled with its key.

        Parameters
        ----------
        path : str
            ``.html`` writes a self-contained page (inline SVG, a search box, no network).
            Any other suffix (``.png``, ``.svg``, ``.pdf``) is drawn by matplotlib; when
            matplotlib is not installed, the page is written beside it as ``.html``.
        words : list of str, optional
            The keys to show; default: the first ``limit`` keys (the most frequent).
        method : {'pca'}
        limit : int, default 500
        title : str, optional

        Returns
        -------
        str
            The path written.
        """
        if method != "pca":
            raise ValueError("method must be 'pca', got %r" % (method,))
        keys = list(self.index_to_key[:limit]) if words is None else list(words)
        projection = self.pca(2, keys)
        return _projection.plot(projection, path, title)

    # -- files -----------------------------------------------------------------------------
    def save_projector(
        self,
        directory: str | os.PathLike,
        metadata: Mapping[str, Iterable[Any]] | None = None,
        config: bool = False,
    ) -> tuple[str, str]:
        """Write ``vecs.tsv`` and ``meta.tsv`` for projector.tensorflow.org.

        Parameters
        ----------
        directory : str
            Created if needed.
        metadata : dict of str -> sequence, optional
            Extra columns for ``meta.tsv`` (counts, labels...), one value per token. With
            extra columns ``meta.tsv`` gets a header row (``word`` + the names); without,
            it has none, as the Projector expects.
        config : bool, default False
            Also write ``projector_config.pbtxt`` for TensorBoard.

        Returns
        -------
        (str, str)
            Paths of ``vecs.tsv`` and ``meta.tsv``.
        """
        return _formats.save_projector(self, directory, metadata, config)

    def save_word2vec_format(self, path: str | os.PathLike, binary: bool = False) -> None:
        """Write the word2vec format: header ``N D``, then ``word v1 ... vD`` per line
        (text), or ``word`` + space + D little-endian float32 (binary), as gensim does.

        Keys holding whitespace cannot be read back by any word2vec reader, so they
        raise ``ValueError``.
        """
        _formats.save_word2vec_format(self, path, binary)

    @classmethod
    def load_word2vec_format(
        cls,
        path: str | os.PathLike,
        binary: bool = False,
        no_header: bool = False,
        limit: int | None = None,
        encoding: str = "utf-8",
        unicode_errors: str = "strict",
    ) -> KeyedVectors:
        """Read vectors in the word2vec text or binary format (or GloVe text, ``no_header=True``).

        Raises
        ------
        ValueError
            A malformed header, a row of the wrong length, a non-numeric value or a
            truncated binary record; the message names the line (or record).
        """
        return cls(*_formats.load_word2vec_format(path, binary, no_header, limit, encoding, unicode_errors))


def _unit(vector):
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector


def _as_list(terms):
    if terms is None:
        return []
    if isinstance(terms, (str, np.ndarray)):
        return [terms]
    return list(terms)


def _weighted_terms(positive, negative):
    """(keys, weights) from gensim-style positive / negative terms: key, vector or (key, weight)."""
    keys, weights = [], []
    for terms, default_weight in ((_as_list(positive), 1.0), (_as_list(negative), -1.0)):
        for term in terms:
            if isinstance(term, tuple):
                keys.append(term[0])
                weights.append(float(term[1]))
            else:
                keys.append(term)
                weights.append(default_weight)
    if not keys:
        raise ValueError("most_similar needs at least one positive or negative term")
    return keys, weights


def _vocabulary_rows(vocabulary):
    """(tokens by id, set of reserved ids) for a list, TextVectorizer or SubwordEncoder."""
    from ..text import SubwordEncoder, TextVectorizer

    if isinstance(vocabulary, TextVectorizer):
        return vocabulary.get_vocabulary(), {0, 1}
    if isinstance(vocabulary, SubwordEncoder):
        subwords = vocabulary.subwords
        tokens = [""] + subwords + ["<byte %02x>" % b for b in range(256)]
        reserved = {0} | set(range(len(subwords) + 1, len(tokens)))
        return tokens, reserved
    tokens = [str(t) for t in vocabulary]
    reserved = {i for i, t in enumerate(tokens[:2]) if t == _RESERVED_VOCABULARY_TOKENS[i]}
    return tokens, reserved
