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


_TABLE = None
_SCALE = np.float32(1000 / 12.0)


def _sigmoid(x):
    """word2vec.c's table lookup, with the kernel's table and float32 index arithmetic."""
    global _TABLE
    if _TABLE is None:
        from .._kernels import _word2vec

        _TABLE = _word2vec.sigmoid_table()
    x = np.float32(x)
    if x >= 6:
        return np.float32(1.0)
    if x <= -6:
        return np.float32(0.0)
    return _TABLE[min(int((x + np.float32(6)) * _SCALE), _TABLE.size - 1)]


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


def _sg_window(syn0, syn1neg, centre, contexts, alpha, negative, alias, random, composition):
    """One window, HogBatch style: shared negatives, all scores before any update."""
    outputs, labels = [centre], [np.float32(1)]
    for _ in range(negative):
        word = _negative(alias[0], alias[1], random)
        if word != centre:
            outputs.append(word)
            labels.append(np.float32(0))
    inputs = []
    for w in contexts:
        rows = _inputs(composition, w)
        vector = syn0[rows[0]].copy()
        if len(rows) > 1:
            for r in rows[1:]:
                vector += syn0[r]
            vector *= np.float32(1.0 / len(rows))
        inputs.append(vector)
    g = np.array(
        [[np.float32((labels[o] - _sigmoid(np.dot(x, syn1neg[outputs[o]]))) * np.float32(alpha))
          for o in range(len(outputs))] for x in inputs],
        dtype=np.float32,
    )  # fmt: skip
    errors = []
    for a in range(len(inputs)):
        error = np.zeros(syn0.shape[1], np.float32)
        for o, word in enumerate(outputs):
            error += g[a, o] * syn1neg[word]
        errors.append(error)
    for o, word in enumerate(outputs):
        row = syn1neg[word].copy()
        for a, x in enumerate(inputs):
            row += g[a, o] * x
        syn1neg[word] = row
    for a, w in enumerate(contexts):
        for r in _inputs(composition, w):
            syn0[r] += errors[a]


def _cbow_group(syn0, syn1neg, kept, first, group, alpha, random, alias, window, shrink, negative, cbow_mean,
                composition):  # fmt: skip
    """CBOW centre words first .. first + group - 1 sharing one draw of negatives."""
    m, dim = len(kept), syn0.shape[1]
    active = []  # (centre, context words, component count, hidden)
    for i in range(first, first + group):
        b = (random.next() >> 32) % window if shrink else 0
        start, stop = max(0, i - window + b), min(m, i + window + 1 - b)
        rows = [r for j in range(start, stop) if j != i for r in _inputs(composition, kept[j])]
        if not rows:
            continue
        hidden = np.zeros(dim, np.float32)
        for r in rows:
            hidden += syn0[r]
        if cbow_mean:
            hidden *= np.float32(1.0 / len(rows))
        active.append((i, [kept[j] for j in range(start, stop) if j != i], len(rows), hidden))
    if not active:
        return
    negatives = [_negative(alias[0], alias[1], random) for _ in range(negative)]
    a32 = np.float32(alpha)
    grads = []
    for i, _, _, hidden in active:
        target = kept[i]
        g = [np.float32((np.float32(1) - _sigmoid(np.dot(hidden, syn1neg[target]))) * a32)]
        for word in negatives:
            g.append(
                None if word == target else np.float32((np.float32(0) - _sigmoid(np.dot(hidden, syn1neg[word]))) * a32)
            )
        grads.append(g)
    errors = []
    for (i, _, _, _), g in zip(active, grads):
        error = np.zeros(dim, np.float32)
        error += g[0] * syn1neg[kept[i]]
        for d, word in enumerate(negatives):
            if g[1 + d] is not None:
                error += g[1 + d] * syn1neg[word]
        errors.append(error)
    for (i, _, _, hidden), g in zip(active, grads):
        syn1neg[kept[i]] = syn1neg[kept[i]] + g[0] * hidden
    for d, word in enumerate(negatives):
        row = syn1neg[word].copy()
        for (_, _, _, hidden), g in zip(active, grads):
            if g[1 + d] is not None:
                row += g[1 + d] * hidden
        syn1neg[word] = row
    for (_, contexts, count, _), error in zip(active, errors):
        if not cbow_mean:
            error *= np.float32(1.0 / count)
        for w in contexts:
            for r in _inputs(composition, w):
                syn0[r] += error


def train_sentence(syn0, syn1neg, words, alpha, random, sample_int, alias, sg, window, shrink, negative, cbow_mean,
                   composition=None, cbow_group=1):  # fmt: skip
    kept = []
    for w in words:
        if sample_int[w] < 0xFFFFFFFF and int(sample_int[w]) < (random.next() >> 32):
            continue
        kept.append(int(w))
    m = len(kept)
    if not sg:
        for first in range(0, m, cbow_group):
            _cbow_group(syn0, syn1neg, kept, first, min(cbow_group, m - first), alpha, random, alias, window, shrink,
                        negative, cbow_mean, composition)  # fmt: skip
        return m
    for i in range(m):
        b = (random.next() >> 32) % window if shrink else 0
        start, stop = max(0, i - window + b), min(m, i + window + 1 - b)
        contexts = [kept[j] for j in range(start, stop) if j != i]
        if contexts:
            _sg_window(syn0, syn1neg, kept[i], contexts, alpha, negative, alias, random, composition)
    return m


def train_blocks(syn0, syn1neg, words, ends, starts, alphas, seeds, sample_int, alias, sg, window, shrink, negative,
                 cbow_mean, composition=None, cbow_group=1):  # fmt: skip
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
                    shrink, negative, cbow_mean, composition, cbow_group,
                )  # fmt: skip
                begin += piece
    return effective
