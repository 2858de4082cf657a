"""The word2vec vocabulary as gensim builds it: counts, pruning, the retained words in
descending frequency, each word's subsampling threshold, and the negative-sampling
distribution (unigram counts to the power ``ns_exponent``) as an alias table."""

import collections

import numpy as np


def count_words(sentences, max_vocab_size=None):
    """``(counts, total_words, n_sentences)``: a dict of token counts in first-seen order.

    With ``max_vocab_size``, words below a growing minimum count are pruned whenever the
    dictionary outgrows it (gensim's ``prune_vocab`` with ``min_reduce``), bounding memory.
    """
    counts = collections.Counter()
    total = 0
    n_sentences = 0
    min_reduce = 1
    for position, sentence in enumerate(sentences):
        if isinstance(sentence, str):
            raise TypeError(
                "sentences[%d] is a str: a sentence is a list of tokens (split your text, e.g. text.split())" % position
            )
        try:
            tokens = list(sentence)
        except TypeError:
            raise TypeError("sentences[%d] is %s, not a list of str" % (position, type(sentence).__name__)) from None
        for token in tokens:
            if not isinstance(token, str):
                raise TypeError("sentences[%d] holds %s, not str" % (position, type(token).__name__))
        counts.update(tokens)
        total += len(tokens)
        n_sentences += 1
        if max_vocab_size is not None and len(counts) > max_vocab_size:
            counts = collections.Counter({w: c for w, c in counts.items() if c > min_reduce})
            min_reduce += 1
    return counts, total, n_sentences


def retained_words(counts, min_count, max_final_vocab=None):
    """The words kept, most frequent first, as gensim orders them.

    gensim 4.4 sorts by descending count, ties by descending first-seen position
    (``np.lexsort((-indices, -counts))``); the same sort here gives the same order.
    """
    if max_final_vocab is not None:
        # gensim raises min_count to the smallest count that keeps at most max_final_vocab words.
        sorted_counts = sorted(counts.values(), reverse=True)
        if len(sorted_counts) > max_final_vocab:
            min_count = max(min_count, sorted_counts[max_final_vocab] + 1)
    words = [w for w, c in counts.items() if c >= min_count]
    word_counts = np.fromiter((counts[w] for w in words), dtype=np.int64, count=len(words))
    order = np.lexsort((-np.arange(len(words)), -word_counts))
    return [words[i] for i in order], word_counts[order]


def sample_thresholds(word_counts, sample):
    """``sample_int``: a word is kept when a uniform 32-bit draw is at most this (gensim's
    formula: keep probability ``(sqrt(c / t) + 1) * t / c`` with ``t = sample * total``)."""
    word_counts = np.asarray(word_counts, dtype=np.float64)
    total = word_counts.sum()
    if not sample:
        return np.full(word_counts.shape, 0xFFFFFFFF, dtype=np.uint32)
    threshold = sample * total if sample < 1.0 else float(int(sample * (3 + np.sqrt(5)) / 2))
    probability = (np.sqrt(word_counts / threshold) + 1) * (threshold / word_counts)
    probability = np.minimum(probability, 1.0)
    return (probability * (2**32 - 1)).astype(np.uint32)


def alias_table(word_counts, exponent):
    """Vose's alias table for ``P(w) ~ count(w) ** exponent``: slot ``s`` (uniform) keeps
    ``s`` when a uniform 32-bit draw is below ``threshold[s]``, else gives ``other[s]``."""
    weights = np.asarray(word_counts, dtype=np.float64) ** exponent
    n = weights.shape[0]
    scaled = weights * (n / weights.sum())
    threshold = np.zeros(n, dtype=np.float64)
    other = np.arange(n, dtype=np.int32)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s = small.pop()
        g = large[-1]
        threshold[s] = scaled[s]
        other[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            large.pop()
            small.append(g)
    for i in large + small:  # what is left is 1 up to rounding
        threshold[i] = 1.0
    return np.minimum(threshold * 2.0**32, 2.0**32 - 1).astype(np.uint32), other
