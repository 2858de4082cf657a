"""Corpora as chunks of word ids: in-memory sentence lists (encoded once), restartable
iterables of token lists (encoded chunk by chunk, every epoch), and ``corpus_file`` text
files (one sentence a line, tokens separated by whitespace; read in blocks and tokenised
and looked up by the compiled tokenizer without the GIL).

A chunk is ``(words, ends, raw_words)``: the in-vocabulary ids (int32), the end of each
sentence in ``words`` (int64), and how many tokens it held before out-of-vocabulary
words were dropped.
"""

import collections
import os

import numpy as np

from .._config import threads_for
from .._kernels import _text, _word2vec

# Bytes read from a corpus file at a time (cut back to the last line break).
_FILE_BLOCK = 8 << 20


def _encode_token_lists(sentences, vocabulary):
    n_tokens = sum(len(s) for s in sentences)
    words = np.empty(n_tokens, dtype=np.int32)
    ends = np.empty(len(sentences), dtype=np.int64)
    written = _word2vec.encode_sentences(sentences, vocabulary, words, ends)
    return words[:written], ends, n_tokens


def sentence_chunks(sentences, vocabulary, chunk_words):
    """Chunks of about ``chunk_words`` tokens from an iterable of token lists."""
    batch, size = [], 0
    for sentence in sentences:
        if isinstance(sentence, str):
            raise TypeError("a sentence is a list of tokens, got a str (split your text first)")
        sentence = sentence if isinstance(sentence, list) else list(sentence)
        batch.append(sentence)
        size += len(sentence)
        if size >= chunk_words:
            yield _encode_token_lists(batch, vocabulary)
            batch, size = [], 0
    if batch:
        yield _encode_token_lists(batch, vocabulary)


class EncodedCorpus:
    """An in-memory corpus encoded once: every epoch re-reads the same ids."""

    def __init__(self, sentences, vocabulary):
        sentences = [s if isinstance(s, list) else list(s) for s in sentences]
        self.words, self.ends, self.raw_words = _encode_token_lists(sentences, vocabulary)

    def chunks(self, chunk_words):
        if self.ends.size == 0:
            return
        # Cut between sentences, about every chunk_words words.
        cuts = np.searchsorted(self.ends, np.arange(chunk_words, self.words.size, chunk_words), side="left")
        bounds = np.unique(np.concatenate([[0], np.minimum(cuts + 1, self.ends.size), [self.ends.size]]))
        raw_per_word = self.raw_words / max(1, self.words.size)
        for first, last in zip(bounds[:-1], bounds[1:]):
            start = self.ends[first - 1] if first > 0 else 0
            stop = self.ends[last - 1]
            ends = self.ends[first:last] - start
            yield self.words[start:stop], ends, int(round((stop - start) * raw_per_word))


def _read_blocks(path):
    """Decoded text of ``path``, block by block, each ending at a line break."""
    offset = 0
    with open(path, "rb") as handle:
        pending = b""
        while True:
            data = handle.read(_FILE_BLOCK)
            if not data:
                break
            data = pending + data
            cut = data.rfind(b"\n")
            if cut < 0:
                pending = data
                continue
            pending = data[cut + 1 :]
            yield _decode(data[: cut + 1], path, offset)
            offset += cut + 1
        if pending:
            yield _decode(pending, path, offset)


def _decode(data, path, offset):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ValueError(
            "%s is not UTF-8: byte %d (in the block starting at byte %d, line %d of it) cannot be decoded"
            % (path, offset + error.start, offset, line)
        ) from None


def _lines(text):
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return tuple(lines)


def check_corpus_file(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError("corpus_file %s does not exist or is not a file" % path)
    return path


def count_file(path, max_vocab_size=None):
    """``(counts, total_words, n_sentences)`` of a corpus file, counts in first-seen order."""
    table = _text.TokenTable()
    n_lines = 0
    min_reduce = 1
    pruned_words = 0
    for text in _read_blocks(path):
        lines = _lines(text)
        n_lines += len(lines)
        table.count(lines, 0)
        if max_vocab_size is not None and len(table) > max_vocab_size:
            # gensim's pruning (checked per block here, per sentence there).
            tokens, values = table.items_in_order()
            keep = values > min_reduce
            pruned_words += int(values[~keep].sum())
            table = _text.TokenTable()
            table.add_counts([t for t, k in zip(tokens, keep) if k], values[keep])
            min_reduce += 1
    tokens, values = table.items_in_order()
    counts = collections.Counter(dict(zip(tokens, values.tolist())))
    return counts, int(values.sum()) + pruned_words, n_lines


def file_table(index_to_key):
    """A compiled token table mapping each vocabulary word to its id."""
    table = _text.TokenTable()
    table.add_tokens(index_to_key, 0)
    return table


def file_chunks(path, table):
    """Chunks of a corpus file: one block of lines at a time, tokenised in parallel."""
    for text in _read_blocks(path):
        lines = _lines(text)
        if not lines:
            continue
        work = len(text) * 4
        threads = threads_for(work)
        lengths = np.zeros(len(lines), dtype=np.int64)
        table.count_tokens(lines, 0, lengths, threads)
        offsets = np.zeros(len(lines) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        ids = np.empty(int(offsets[-1]), dtype=np.int32)
        table.encode(lines, 0, offsets, -1, ids, -1, threads)
        keep = ids >= 0
        kept_before = np.zeros(ids.size + 1, dtype=np.int64)
        np.cumsum(keep, out=kept_before[1:])
        yield ids[keep], kept_before[offsets[1:]], ids.size
