"""The NumPy twin of ``_kernels/_word2vec``: the same blocks, random streams and updates,
one pair at a time in Python. Slow; it is the oracle of the tests."""

import numpy as np

_MASK = (1 << 64) - 1
MAX_SENTENCE = 10_000


class _Random:
    """splitmix64, as the kernel draws it."""

    def __init__(self, seed):
        self.state = int(seed) & _MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)


def _sigmoid(x):
    x = np.float32(x)
    if x >= 0:
        return np.float32(1.0) / (np.float32(1.0) + np.exp(-x))
    e = np.exp(x)
    return e / (np.float32(1.0) + e)


def _negative(alias_threshold, alias_other, random):
    r = random.next()
    slot = (r >> 32) % alias_threshold.shape[0]
    return slot if (r & 0xFFFFFFFF) < int(alias_threshold[slot]) else int(alias_other[slot])


def _negative_step(syn1neg, target, hidden, hidden_error, alpha, negative, alias, random):
    for d in range(negative + 1):
        if d == 0:
            output, label = target, np.float32(1)
        else:
            output = _negative(alias[0], alias[1], random)
            if output == target:
                continue
            label = np.float32(0)
        row = syn1neg[output]
        g = np.float32((label - _sigmoid(np.dot(hidden, row))) * np.float32(alpha))
        hidden_error += g * row
        syn1neg[output] = row + g * hidden


def _inputs(composition, w):
    if composition is None:
        return [w]
    offsets, ids = composition
    return [int(r) for r in ids[offsets[w] : offsets[w + 1]]]


def train_sentence(syn0, syn1neg, words, alpha, random, sample_int, alias, sg, window, shrink, negative, cbow_mean,
                   composition=None):  # fmt: skip
    kept = []
    for w in words:
        if sample_int[w] < 0xFFFFFFFF and int(sample_int[w]) < (random.next() >> 32):
            continue
        kept.append(int(w))
    m = len(kept)
    dim = syn0.shape[1]
    for i in range(m):
        b = (random.next() >> 32) % window if shrink else 0
        start, stop = max(0, i - window + b), min(m, i + window + 1 - b)
        if sg:
            for j in range(start, stop):
                if j == i:
                    continue
                error = np.zeros(dim, np.float32)
                rows = _inputs(composition, kept[j])
                hidden = syn0[rows[0]].copy()
                if len(rows) > 1:
                    for r in rows[1:]:
                        hidden += syn0[r]
                    hidden *= np.float32(1.0 / len(rows))
                _negative_step(syn1neg, kept[i], hidden, error, alpha, negative, alias, random)
                for r in rows:
                    syn0[r] += error
        else:
            context = [r for j in range(start, stop) if j != i for r in _inputs(composition, kept[j])]
            if not context:
                continue
            hidden = np.zeros(dim, np.float32)
            for c in context:
                hidden += syn0[c]
            inverse = np.float32(1.0 / len(context))
            if cbow_mean:
                hidden *= inverse
            error = np.zeros(dim, np.float32)
            _negative_step(syn1neg, kept[i], hidden, error, alpha, negative, alias, random)
            if not cbow_mean:
                error *= inverse
            for c in context:
                syn0[c] += error
    return m


def train_blocks(syn0, syn1neg, words, ends, starts, alphas, seeds, sample_int, alias, sg, window, shrink, negative,
                 cbow_mean, composition=None):  # fmt: skip
    """Blocks one after another (the kernel's ``train_shared`` on one thread)."""
    effective = 0
    for b in range(len(alphas)):
        random = _Random(int(seeds[b]))
        for s in range(int(starts[b]), int(starts[b + 1])):
            begin = int(ends[s - 1]) if s > 0 else 0
            end = int(ends[s])
            while begin < end:
                piece = min(end - begin, MAX_SENTENCE)
                effective += train_sentence(
                    syn0, syn1neg, words[begin : begin + piece], alphas[b], random, sample_int, alias, sg, window,
                    shrink, negative, cbow_mean, composition,
                )  # fmt: skip
                begin += piece
    return effective
