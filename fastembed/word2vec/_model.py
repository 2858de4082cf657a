"""``Word2Vec``: gensim's class, names and defaults, on fastembed's kernels."""

from __future__ import annotations

import collections.abc
import json
from typing import Iterable, Sequence
import math
import os
import sys
import time

import numpy as np

from .. import _config
from .._files import atomic_write
from ..embeddings import KeyedVectors
from . import _corpus, _vocabulary

FORMAT = "fastembed.Word2Vec"
FORMAT_VERSION = 1
# gensim's job size: a block of sentences of about this many words is the unit of work
# (one learning rate, one random stream).
BLOCK_WORDS = 10_000
# Words a Hogwild call trains at once (the progress line and the learning rate move per call).
CHUNK_WORDS = 1_000_000


class Word2Vec:
    """Skip-gram or CBOW word vectors with negative sampling (gensim's ``Word2Vec``).

    Parameters follow gensim 4 (names, defaults, meaning); the extras are last.

    Parameters
    ----------
    sentences : iterable of list of str, optional
        The corpus: a list, or a restartable iterable (read again every epoch, so it
        need not fit in memory). Given here, the model is built and trained at once.
    corpus_file : path, optional
        Instead of ``sentences``: a UTF-8 text file, one sentence a line, tokens separated
        by ASCII whitespace; read in blocks and tokenised by compiled code.
    vector_size : int, default 100
    window : int, default 5
        The largest distance between the centre word and a context word.
    min_count : int, default 5
        Words rarer than this are dropped.
    max_vocab_size : int, optional
        Prune the counts while counting whenever they exceed this many words.
    max_final_vocab : int, optional
        Raise ``min_count`` so that at most this many words remain.
    sample : float, default 1e-3
        Frequent-word downsampling threshold (0: off).
    seed : int, default 1
    workers : int, optional
        Threads (default: fastembed's thread count).
    sg : {0, 1}, default 0
        1: skip-gram; 0: CBOW.
    hs : {0}, default 0
        Hierarchical softmax is not provided (negative sampling only).
    negative : int, default 5
        Noise words per positive example.
    ns_exponent : float, default 0.75
    cbow_mean : {0, 1}, default 1
        CBOW: average (1) or sum (0) the context vectors.
    alpha, min_alpha : float, default 0.025 and 0.0001
        The learning rate decays linearly from ``alpha`` to ``min_alpha`` over training.
    epochs : int, default 5
    shrink_windows : bool, default True
        Draw each position's window uniformly from 1 to ``window``, as word2vec.c.
    cbow_group : int, default 1
        CBOW: consecutive centre words that share one draw of negatives. 1 is gensim's
        and word2vec.c's CBOW; 4 trains about 1.4x faster and, on IMDB, scored 0.8
        analogy points lower (README).
    deterministic : bool, default False
        False: Hogwild (gensim's and word2vec.c's way: threads update shared vectors
        without locks; fastest; results vary with the thread count and timing). True:
        ``replicas`` virtual workers train copies that are merged every ``merge_every``
        words each, in a fixed order: bitwise-identical vectors for any thread count.
    replicas : int, default 2
        Virtual workers of the deterministic mode (not the thread count).
    merge_every : int, default 250_000
        Words each replica trains between merges (deterministic mode).
    verbose : int, default 0
        1: a progress line with words/s (live on a terminal or in Jupyter), 2: one line
        per epoch.

    Attributes
    ----------
    wv : fastembed.embeddings.KeyedVectors
        The word vectors (``most_similar``, analogies, exports).
    syn1neg : ndarray
        The output vectors of negative sampling.
    corpus_count, corpus_total_words : int
        Sentences and words of the corpus ``build_vocab`` saw.
    """

    def __init__(
        self,
        sentences: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        vector_size: int = 100,
        alpha: float = 0.025,
        window: int = 5,
        min_count: int = 5,
        max_vocab_size: int | None = None,
        sample: float = 1e-3,
        seed: int = 1,
        workers: int | None = None,
        min_alpha: float = 0.0001,
        sg: int = 0,
        hs: int = 0,
        negative: int = 5,
        ns_exponent: float = 0.75,
        cbow_mean: int = 1,
        epochs: int = 5,
        max_final_vocab: int | None = None,
        shrink_windows: bool = True,
        cbow_group: int = 1,
        deterministic: bool = False,
        replicas: int = 2,
        merge_every: int = 250_000,
        verbose: int = 0,
    ) -> None:
        self.vector_size = _positive_int("vector_size", vector_size)
        self.window = _positive_int("window", window)
        self.min_count = _positive_int("min_count", min_count, minimum=0)
        self.max_vocab_size = None if max_vocab_size is None else _positive_int("max_vocab_size", max_vocab_size)
        self.max_final_vocab = None if max_final_vocab is None else _positive_int("max_final_vocab", max_final_vocab)
        self.sample = _non_negative_float("sample", sample)
        self.seed = _positive_int("seed", seed, minimum=0)
        self.workers = None if workers is None else _positive_int("workers", workers)
        if sg not in (0, 1, True, False):
            raise ValueError("sg must be 0 (CBOW) or 1 (skip-gram), got %r" % (sg,))
        self.sg = int(sg)
        if hs:
            raise ValueError("hs=1 (hierarchical softmax) is not provided; use negative sampling (hs=0, negative>0)")
        self.hs = 0
        self.negative = _positive_int("negative", negative)
        self.ns_exponent = float(ns_exponent)
        if not math.isfinite(self.ns_exponent):
            raise ValueError("ns_exponent must be finite, got %r" % (ns_exponent,))
        if cbow_mean not in (0, 1, True, False):
            raise ValueError("cbow_mean must be 0 or 1, got %r" % (cbow_mean,))
        self.cbow_mean = int(cbow_mean)
        self.alpha = _non_negative_float("alpha", alpha)
        self.min_alpha = _non_negative_float("min_alpha", min_alpha)
        self.epochs = _positive_int("epochs", epochs)
        self.shrink_windows = bool(shrink_windows)
        self.cbow_group = _positive_int("cbow_group", cbow_group)
        if self.cbow_group > 64:
            raise ValueError("cbow_group must be at most 64, got %d" % self.cbow_group)
        self.deterministic = bool(deterministic)
        self.replicas = _positive_int("replicas", replicas)
        self.merge_every = _positive_int("merge_every", merge_every)
        self.verbose = int(verbose)
        self.wv = None
        self.syn1neg = None
        self.counts = None
        self.corpus_count = 0
        self.corpus_total_words = 0
        self.train_count = 0
        self._sample_int = None
        self._alias = None
        if sentences is not None and corpus_file is not None:
            raise ValueError("give sentences or corpus_file, not both")
        if sentences is not None or corpus_file is not None:
            self.build_vocab(sentences, corpus_file=corpus_file)
            self.train(
                sentences,
                corpus_file=corpus_file,
                total_examples=self.corpus_count,
                total_words=self.corpus_total_words,
                epochs=self.epochs,
            )

    # -- vocabulary --------------------------------------------------------------------
    def build_vocab(
        self,
        corpus_iterable: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        progress_per: int = 10000,
        trim_rule: None = None,
    ) -> Word2Vec:
        """Count the corpus, keep the words of at least ``min_count`` and initialise the vectors.

        Raises
        ------
        ValueError
            No corpus, or no word reaches ``min_count``.
        TypeError
            A sentence is not a list of str.
        """
        if trim_rule is not None:
            raise ValueError("trim_rule is not provided; use min_count / max_final_vocab")
        if (corpus_iterable is None) == (corpus_file is None):
            raise ValueError("build_vocab takes corpus_iterable or corpus_file (one of them)")
        if corpus_file is not None:
            path = _corpus.check_corpus_file(corpus_file)
            counts, total, n_sentences = _corpus.count_file(path, self.max_vocab_size)
        else:
            _check_iterable(corpus_iterable)
            counts, total, n_sentences = _vocabulary.count_words(corpus_iterable, self.max_vocab_size)
        if total == 0:
            raise ValueError("the corpus is empty: no sentence holds a token")
        words, word_counts = _vocabulary.retained_words(counts, self.min_count, self.max_final_vocab)
        if not words:
            raise ValueError(
                "no word occurs min_count=%d times (the most frequent occurs %d times): lower min_count"
                % (self.min_count, max(counts.values()))
            )
        self.corpus_count = n_sentences
        self.corpus_total_words = total
        self.counts = word_counts
        rng = np.random.default_rng(self.seed)
        # gensim's initialisation: uniform in [-1/dim, 1/dim) for the inputs, zeros for the outputs.
        vectors = rng.random((len(words), self.vector_size), dtype=np.float32)
        vectors *= 2.0
        vectors -= 1.0
        vectors /= self.vector_size
        self.wv = KeyedVectors(vectors, words)
        self.syn1neg = np.zeros_like(vectors)
        self._prepare_sampling()
        return self

    def _prepare_sampling(self):
        self._sample_int = _vocabulary.sample_thresholds(self.counts, self.sample)
        self._alias = _vocabulary.alias_table(self.counts, self.ns_exponent)
        self._composition = self._input_composition()

    def _input_composition(self):
        """Each word's input rows as ``(offsets, ids)``: word2vec's input of word w is row w."""
        n = len(self.counts)
        return np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int32)

    def _input_matrix(self):
        """The matrix the input rows index (``wv.vectors`` here; fastText adds n-gram buckets)."""
        return self.wv.vectors

    def _after_training(self):
        self.wv.fill_norms(force=True)

    # -- training ----------------------------------------------------------------------
    def train(
        self,
        corpus_iterable: Iterable[Sequence[str]] | None = None,
        corpus_file: str | os.PathLike | None = None,
        total_examples: int | None = None,
        total_words: int | None = None,
        epochs: int | None = None,
        start_alpha: float | None = None,
        end_alpha: float | None = None,
    ) -> tuple[int, int]:
        """Train on a corpus (the one ``build_vocab`` saw, or another with its words).

        Returns
        -------
        (effective_words, raw_words) : the words trained on after subsampling, and read.
        """
        if self.wv is None:
            raise RuntimeError("call build_vocab before train (or pass the corpus to Word2Vec())")
        if (corpus_iterable is None) == (corpus_file is None):
            raise ValueError("train takes corpus_iterable or corpus_file (one of them)")
        epochs = self.epochs if epochs is None else _positive_int("epochs", epochs)
        start_alpha = self.alpha if start_alpha is None else _non_negative_float("start_alpha", start_alpha)
        end_alpha = self.min_alpha if end_alpha is None else _non_negative_float("end_alpha", end_alpha)
        expected_words = total_words or self.corpus_total_words
        source = self._source(corpus_iterable, corpus_file)
        threads = self._threads()
        if self.deterministic:
            trainer = _ReplicaTrainer(self, threads)
            chunk_words = self.merge_every * self.replicas
        else:
            trainer = _SharedTrainer(self, threads)
            chunk_words = CHUNK_WORDS
        effective_total = raw_total = 0
        for epoch in range(epochs):
            progress = _Progress(epoch, epochs, expected_words, self.verbose, threads)
            started = time.perf_counter()
            raw_epoch = 0
            chunk_index = 0
            for words, ends, raw_words in source(chunk_words):
                done_before = (epoch + min(1.0, raw_epoch / max(1, expected_words))) / epochs
                done_after = (epoch + min(1.0, (raw_epoch + raw_words) / max(1, expected_words))) / epochs
                starts = _block_starts(ends)
                alphas = _block_alphas(ends, starts, start_alpha, end_alpha, done_before, done_after)
                seeds = np.random.default_rng([self.seed, self.train_count, epoch, chunk_index]).integers(
                    0, 2**64 - 1, size=alphas.size, dtype=np.uint64, endpoint=True
                )
                effective_total += trainer.run(words, ends, starts, alphas, seeds)
                raw_epoch += raw_words
                chunk_index += 1
                progress.update(raw_epoch, float(alphas[-1]) if alphas.size else end_alpha)
            raw_total += raw_epoch
            progress.finish(raw_epoch, time.perf_counter() - started)
        trainer.finish()
        self.train_count += 1
        self._after_training()
        return effective_total, raw_total

    def _source(self, corpus_iterable, corpus_file):
        """A function chunk_words -> iterator of chunks, for one epoch."""
        if corpus_file is not None:
            path = _corpus.check_corpus_file(corpus_file)
            table = _corpus.file_table(self.wv.index_to_key)
            return lambda chunk_words: _corpus.file_chunks(path, table)
        _check_iterable(corpus_iterable)
        if isinstance(corpus_iterable, collections.abc.Sequence):
            encoded = _corpus.EncodedCorpus(corpus_iterable, self.wv.key_to_index)
            return encoded.chunks
        vocabulary = self.wv.key_to_index
        return lambda chunk_words: _corpus.sentence_chunks(corpus_iterable, vocabulary, chunk_words)

    def _threads(self):
        # Every block is ~10,000 words x window x (negative + 1) x dim operations: far past
        # the policy's threshold, so this is the thread count (capped by workers).
        work = BLOCK_WORDS * self.window * (self.negative + 1) * self.vector_size
        return _config.threads_for(work, self.workers)

    # -- saving ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the model to ``path`` (an ``.npz`` archive of arrays plus JSON; no pickle),
        atomically."""
        if self.wv is None:
            raise RuntimeError("nothing to save: the model has no vocabulary yet")
        config = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "params": self._params(),
            "corpus_count": self.corpus_count,
            "corpus_total_words": self.corpus_total_words,
            "train_count": self.train_count,
        }
        config["format"] = self._format
        arrays = {
            "config": np.frombuffer(json.dumps(config).encode("utf-8"), dtype=np.uint8),
            "keys": np.frombuffer(json.dumps(self.wv.index_to_key).encode("utf-8"), dtype=np.uint8),
            "counts": self.counts,
            "syn1neg": self.syn1neg,
        }
        arrays.update(self._arrays())
        with atomic_write(path, "wb") as stream:
            np.savez(stream, **arrays)

    _format = FORMAT

    def _arrays(self):
        """The input-side arrays to save (name -> array; each (rows, vector_size) float32)."""
        return {"vectors": self.wv.vectors}

    @classmethod
    def _array_rows(cls, params, n_words):
        """Rows each input-side array must have in a file with these parameters."""
        return {"vectors": n_words}

    def _restore(self, keys, arrays):
        self.wv = KeyedVectors(arrays["vectors"], keys)

    def _params(self):
        return {
            name: getattr(self, name)
            for name in (
                "vector_size alpha window min_count max_vocab_size sample seed workers min_alpha sg hs negative "
                "ns_exponent cbow_mean epochs max_final_vocab shrink_windows cbow_group deterministic replicas "
                "merge_every"
            ).split()
        }

    @classmethod
    def load(cls, path: str | os.PathLike) -> Word2Vec:
        """Read a model written by :meth:`save`.

        Raises
        ------
        ValueError
            The file is not a saved Word2Vec, or is damaged (checked before any array is read).
        """
        from ..models._saving import _ARCHIVE_ERRORS, _array_headers

        path = os.fspath(path)
        try:
            headers = _array_headers(path)
            base = {"config", "keys", "counts", "syn1neg"}
            if not base <= set(headers):
                raise ValueError("it holds %s, not a %s's arrays" % (sorted(headers), cls.__name__))
            if headers["config"][1] != np.uint8 or headers["config"][0][0] > (16 << 20):
                raise ValueError("its configuration is missing or too large")
            with np.load(path, allow_pickle=False) as archive:
                config = json.loads(bytes(archive["config"]).decode("utf-8"))
                if not isinstance(config, dict) or config.get("format") != cls._format:
                    raise ValueError("it is not a saved %s" % cls.__name__)
                if config.get("version") != FORMAT_VERSION:
                    raise ValueError("format version %r is not %d" % (config.get("version"), FORMAT_VERSION))
                params = config.get("params")
                if not isinstance(params, dict):
                    raise ValueError("its parameters are missing")
                dim = params.get("vector_size")
                n = headers["counts"][0][0] if len(headers["counts"][0]) == 1 else None
                if n is None or headers["counts"][1] != np.int64 or headers["syn1neg"][0] != (n, dim):
                    raise ValueError("its arrays do not line up")
                rows = cls._array_rows(params, n)
                if set(headers) != base | set(rows):
                    raise ValueError("it holds %s, not a %s's arrays" % (sorted(headers), cls.__name__))
                for name, count in rows.items():
                    if headers[name][0] != (count, dim) or headers[name][1] != np.float32:
                        raise ValueError(
                            "array %s is %s %s, not (%d, %s) float32"
                            % (name, headers[name][0], headers[name][1], count, dim)
                        )
                if headers["syn1neg"][1] != np.float32 or headers["keys"][1] != np.uint8:
                    raise ValueError("its arrays have unexpected types")
                keys = json.loads(bytes(archive["keys"]).decode("utf-8"))
                if not isinstance(keys, list) or len(keys) != n:
                    raise ValueError("its vocabulary does not match its vectors")
                unknown = sorted(set(params) - set(cls()._params()))
                if unknown:
                    # Only hyper-parameters: a file must never name a corpus for us to read.
                    raise ValueError("its parameters include unknown names %s" % unknown[:5])
                model = cls(**params)
                model.counts = archive["counts"]
                if n and (model.counts <= 0).any():
                    raise ValueError("it holds a word count that is not positive")
                arrays = {name: archive[name] for name in rows}
                for name, array in arrays.items():
                    if not np.isfinite(array).all():
                        raise ValueError("array %s holds NaN or infinity" % name)
                model.syn1neg = archive["syn1neg"]
                if not np.isfinite(model.syn1neg).all():
                    raise ValueError("its output vectors hold NaN or infinity")
                for name in ("corpus_count", "corpus_total_words", "train_count"):
                    value = config.get(name, 0)
                    if not isinstance(value, int) or value < 0:
                        raise ValueError("%s is not a non-negative int" % name)
                    setattr(model, name, value)
                model._restore(keys, arrays)
        except (
            UnicodeDecodeError,
            json.JSONDecodeError,
            TypeError,
            RecursionError,
            KeyError,
        ) + _ARCHIVE_ERRORS as error:
            if isinstance(error, FileNotFoundError):
                raise
            raise ValueError("%s is not a saved fastembed %s model: %s" % (path, cls.__name__, error)) from None
        model._prepare_sampling()
        model._after_training()
        return model

    def __repr__(self) -> str:
        words = len(self.wv.index_to_key) if self.wv is not None else 0
        return "Word2Vec<vocab=%d, vector_size=%d, %s, window=%d, negative=%d, %s>" % (
            words,
            self.vector_size,
            "sg" if self.sg else "cbow",
            self.window,
            self.negative,
            "deterministic" if self.deterministic else "hogwild",
        )


def _block_starts(ends):
    """Sentence index where each block of about BLOCK_WORDS words starts (plus the end)."""
    if ends.size == 0:
        return np.zeros(1, dtype=np.int64)
    cuts = np.searchsorted(ends, np.arange(BLOCK_WORDS, int(ends[-1]), BLOCK_WORDS), side="left") + 1
    starts = np.unique(np.concatenate([[0], np.minimum(cuts, ends.size), [ends.size]]))
    return starts.astype(np.int64)


def _block_alphas(ends, starts, start_alpha, end_alpha, done_before, done_after):
    """Each block's learning rate: gensim's linear decay at the block's position."""
    n_blocks = starts.size - 1
    if n_blocks <= 0:
        return np.zeros(0, dtype=np.float32)
    words_before = np.concatenate([[0], ends])[starts[:-1]].astype(np.float64)
    total = float(ends[-1]) if ends.size else 1.0
    progress = done_before + (done_after - done_before) * (words_before / max(total, 1.0))
    alphas = start_alpha - (start_alpha - end_alpha) * progress
    return np.maximum(alphas, end_alpha).astype(np.float32)


class _SharedTrainer:
    def __init__(self, model, threads):
        from .._kernels import _word2vec

        self.kernel = _word2vec
        self.model = model
        self.threads = threads

    def run(self, words, ends, starts, alphas, seeds):
        m = self.model
        # A chunk of n blocks keeps at most n threads busy.
        threads = max(1, min(self.threads, alphas.size))
        return self.kernel.train_shared(
            m._input_matrix(), m.syn1neg, words, ends, starts, alphas, seeds, m._sample_int, m._alias[0],
            m._alias[1], m._composition[0], m._composition[1],
            m.sg, m.window, int(m.shrink_windows), m.negative, m.cbow_mean, m.cbow_group, threads,
        )  # fmt: skip

    def finish(self):
        pass


class _ReplicaTrainer:
    """The deterministic mode: replicas train copies, merged after every chunk."""

    def __init__(self, model, threads):
        from .._kernels import _word2vec

        self.kernel = _word2vec
        self.model = model
        self.threads = threads
        k = model.replicas
        inputs = model._input_matrix()
        self.syn0_copies = np.broadcast_to(inputs, (k,) + inputs.shape).copy()
        self.syn1_copies = np.broadcast_to(model.syn1neg, (k,) + model.syn1neg.shape).copy()

    def run(self, words, ends, starts, alphas, seeds):
        m = self.model
        n_blocks = alphas.size
        # Contiguous runs of blocks, about equal in words, one per replica.
        block_words = np.diff(np.concatenate([[0], ends])[starts])
        cumulative = np.concatenate([[0], np.cumsum(block_words)])
        targets = cumulative[-1] * np.arange(1, m.replicas) / m.replicas
        cuts = np.searchsorted(cumulative, targets, side="left")
        worker_blocks = np.concatenate([[0], np.minimum(cuts, n_blocks), [n_blocks]]).astype(np.int64)
        worker_blocks = np.maximum.accumulate(worker_blocks)
        threads = max(1, min(self.threads, m.replicas))
        effective = self.kernel.train_replicas(
            self.syn0_copies, self.syn1_copies, words, ends, starts, alphas, seeds, worker_blocks,
            m._sample_int, m._alias[0], m._alias[1], m._composition[0], m._composition[1],
            m.sg, m.window, int(m.shrink_windows), m.negative, m.cbow_mean, m.cbow_group, threads,
        )  # fmt: skip
        self.kernel.merge_replicas(m._input_matrix(), self.syn0_copies, self.threads)
        self.kernel.merge_replicas(m.syn1neg, self.syn1_copies, self.threads)
        return effective

    def finish(self):
        self.syn0_copies = self.syn1_copies = None


class _Progress:
    """Words/s per epoch: a live line on a terminal or in Jupyter with verbose=1, one line
    per epoch with verbose=2 (or verbose=1 into a pipe)."""

    def __init__(self, epoch, epochs, total_words, verbose, threads):
        self.epoch, self.epochs, self.total, self.verbose, self.threads = epoch, epochs, total_words, verbose, threads
        self.live = verbose == 1 and (sys.stdout.isatty() or "ipykernel" in sys.modules)
        self.started = time.perf_counter()

    def update(self, words, alpha):
        if not self.live:
            return
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        sys.stdout.write(
            "\rEpoch %d/%d - %5.1f%% - alpha %.5f - %s words/s"
            % (self.epoch + 1, self.epochs, 100.0 * min(1.0, words / max(1, self.total)), alpha, _si(words / elapsed))
        )
        sys.stdout.flush()

    def finish(self, words, elapsed):
        if not self.verbose:
            return
        text = "Epoch %d/%d - %.1fs - %s words - %s words/s (%d threads)" % (
            self.epoch + 1,
            self.epochs,
            elapsed,
            _si(words),
            _si(words / max(elapsed, 1e-9)),
            self.threads,
        )
        sys.stdout.write(("\r" + text + "\n") if self.live else text + "\n")
        sys.stdout.flush()


def _si(value):
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return "%.2f%s" % (value / scale, unit)
    return "%.0f" % value


def _check_iterable(corpus):
    if isinstance(corpus, (str, bytes)):
        raise TypeError("the corpus is a str: give an iterable of token lists (or corpus_file=path)")
    if isinstance(corpus, collections.abc.Iterator):
        raise TypeError(
            "the corpus is a one-shot iterator (a generator?): training reads it once per epoch plus once "
            "for the vocabulary; give a list or a restartable iterable (a class with __iter__)"
        )
    if not isinstance(corpus, collections.abc.Iterable):
        raise TypeError("the corpus must be an iterable of token lists, got %s" % type(corpus).__name__)


def _positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError("%s must be an int >= %d, got %r" % (name, minimum, value))
    return int(value)


def _non_negative_float(name, value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError("%s must be a number, got %r" % (name, value)) from None
    if not math.isfinite(value) or value < 0:
        raise ValueError("%s must be a finite number >= 0, got %r" % (name, value))
    return value


__all__ = ["Word2Vec"]
