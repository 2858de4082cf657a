"""Intrinsic evaluation of an embedding, with gensim's semantics: analogy questions
(``questions-words.txt`` format) answered by one batched search, and word-pair
similarities (WordSim-353 format) correlated with human judgements.

Pearson's and Spearman's p-values come from Student's t distribution through the
regularised incomplete beta function, computed here so that NumPy stays the only
dependency.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .. import search


class CorrelationResult(NamedTuple):
    """A correlation coefficient and its two-sided p-value (unpacks as scipy's results)."""

    statistic: float
    pvalue: float


# gensim looks at this many candidates per question and takes the first that is not a
# case variant of a question word.
_ANALOGY_CANDIDATES = 5
SIMILARITY_FUNCTIONS = ("most_similar", "most_similar_cosmul")


def _ok_vocabulary(kv, restrict_vocab, case_insensitive):
    """Searchable word -> row over the first ``restrict_vocab`` keys; with case folding,
    the first (most frequent) case variant wins, as in gensim."""
    ok_vocab = {}
    for row, key in enumerate(kv.index_to_key[:restrict_vocab]):
        ok_vocab.setdefault(key.upper() if case_insensitive else key, row)
    return ok_vocab


def _read_lines(path, encoding="utf-8"):
    try:
        with open(path, "rb") as handle:
            raw_lines = handle.read().split(b"\n")
    except OSError as exc:
        raise OSError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    for number, raw in enumerate(raw_lines, 1):
        try:
            yield number, raw.decode(encoding).rstrip("\r")
        except UnicodeDecodeError as exc:
            raise ValueError("%s, line %d: not valid %s (%s)" % (path, number, encoding, exc)) from None


def evaluate_word_analogies(kv, analogies, restrict_vocab, case_insensitive, dummy4unknown, similarity_function):
    """See :meth:`KeyedVectors.evaluate_word_analogies`."""
    if similarity_function not in SIMILARITY_FUNCTIONS:
        raise ValueError("similarity_function must be one of %s, got %r" % (SIMILARITY_FUNCTIONS, similarity_function))
    fold = str.upper if case_insensitive else str
    ok_vocab = _ok_vocabulary(kv, restrict_vocab, case_insensitive)
    sections, questions = [], []  # questions: (section index, words, rows)
    for number, line in _read_lines(analogies):
        if line.startswith(": "):
            sections.append({"section": line[2:].strip(), "correct": [], "incorrect": [], "oov": 0})
            continue
        if not line.strip():
            continue
        if not sections:
            raise ValueError("%s, line %d: a question before the first ': section' line" % (analogies, number))
        words = [fold(word) for word in line.split()]
        if len(words) != 4:
            continue  # gensim skips malformed lines too
        if any(word not in ok_vocab for word in words):
            sections[-1]["oov"] += 1
            if dummy4unknown:
                sections[-1]["incorrect"].append(tuple(words))
            continue
        questions.append((len(sections) - 1, tuple(words), [ok_vocab[word] for word in words[:3]]))
    predictions = _answer_analogies(kv, questions, restrict_vocab, similarity_function == "most_similar_cosmul")
    for (section, words, rows), candidates in zip(questions, predictions):
        predicted = None
        for row in candidates:
            predicted = fold(kv.index_to_key[row])
            if predicted in ok_vocab and predicted not in words[:3]:
                break
        sections[section]["correct" if predicted == words[3] else "incorrect"].append(words)
    total = {
        "section": "Total accuracy",
        "correct": [q for s in sections for q in s["correct"]],
        "incorrect": [q for s in sections for q in s["incorrect"]],
        "oov": sum(s["oov"] for s in sections),
    }
    answered = len(total["correct"]) + len(total["incorrect"])
    score = len(total["correct"]) / answered if answered else 0.0
    return score, sections + [total]


def _answer_analogies(kv, questions, restrict_vocab, cosmul):
    """Candidate rows (best first, question words left out) for every question at once."""
    if not questions:
        return []
    rows = np.array([q[2] for q in questions], dtype=np.int64)  # a, b, c
    unit = kv.vectors[rows] * kv.fill_norms()[rows][..., None]
    if cosmul:
        # Positive b and c, then negative a: the term order top_k_similar expects.
        terms = unit[:, [1, 2, 0]].reshape(-1, kv.vector_size)
    else:
        terms = unit[:, 1] + unit[:, 2] - unit[:, 0]
        norms = np.linalg.norm(terms, axis=1, keepdims=True)
        terms = np.divide(terms, norms, out=np.zeros_like(terms), where=norms > 0)
    stop = min(int(restrict_vocab), len(kv))
    _, found = search.top_k_similar(
        kv.vectors,
        terms.astype(kv.vectors.dtype),
        _ANALOGY_CANDIDATES,
        inv_norms=kv.fill_norms(),
        n_positive=2,
        n_negative=1,
        cosmul=cosmul,
        exclude=rows,
        stop=stop,
    )
    return [[row for row in candidates if row >= 0] for candidates in found.tolist()]


def evaluate_word_pairs(kv, pairs, delimiter, encoding, restrict_vocab, case_insensitive, dummy4unknown):
    """See :meth:`KeyedVectors.evaluate_word_pairs`."""
    fold = str.upper if case_insensitive else str
    ok_vocab = _ok_vocabulary(kv, restrict_vocab, case_insensitive)
    gold, model = [], []
    oov = 0
    for _, line in _read_lines(pairs, encoding):
        if not line or line.startswith("#"):
            continue
        parts = line.split(delimiter)
        if len(parts) != 3:
            continue  # gensim skips malformed lines
        try:
            a, b, score = fold(parts[0]), fold(parts[1]), float(parts[2])
        except ValueError:
            continue
        if a not in ok_vocab or b not in ok_vocab:
            oov += 1
            if dummy4unknown:
                gold.append(score)
                model.append(0.0)
            continue
        gold.append(score)
        model.append(_row_similarity(kv, ok_vocab[a], ok_vocab[b]))
    if not gold:
        raise ValueError("%s: no valid word pair with both words in the vocabulary" % pairs)
    gold, model = np.array(gold), np.array(model)
    pearson = pearson_correlation(gold, model)
    spearman = pearson_correlation(_average_ranks(gold), _average_ranks(model))
    oov_ratio = 100.0 * oov / (len(gold) if dummy4unknown else len(gold) + oov)
    return pearson, spearman, oov_ratio


def _row_similarity(kv, row_a, row_b):
    inv_norms = kv.fill_norms()
    return float(np.dot(kv.vectors[row_a], kv.vectors[row_b]) * inv_norms[row_a] * inv_norms[row_b])


def pearson_correlation(x, y):
    """Pearson's r of two samples and its two-sided p-value (t test, n - 2 degrees of freedom).

    Returns
    -------
    CorrelationResult
        NaN statistic when either sample is constant; NaN p-value below 3 samples.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    dx, dy = x - x.mean(), y - y.mean()
    denominator = math.sqrt(float(np.dot(dx, dx)) * float(np.dot(dy, dy)))
    if denominator == 0:
        return CorrelationResult(float("nan"), float("nan"))
    r = max(-1.0, min(1.0, float(np.dot(dx, dy)) / denominator))
    return CorrelationResult(r, _correlation_pvalue(r, x.size))


def _correlation_pvalue(r, n):
    degrees = n - 2
    if degrees < 1:
        return float("nan")
    if abs(r) == 1.0:
        return 0.0
    # P(|T| >= t) for Student's t with `degrees` d.o.f. is I_x(degrees / 2, 1 / 2),
    # x = degrees / (degrees + t^2), and t^2 = degrees r^2 / (1 - r^2) gives x = 1 - r^2.
    return regularized_incomplete_beta(degrees / 2.0, 0.5, 1.0 - r * r)


def _average_ranks(values):
    """Ranks 1..n, ties sharing their average rank (scipy's rankdata 'average')."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], values.size]
    average = (starts + ends + 1) / 2.0  # mean of the 1-based ranks start+1 .. end
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(average, ends - starts)
    return ranks


def regularized_incomplete_beta(a, b, x):
    """I_x(a, b), by the continued fraction of Numerical Recipes (Lentz's method)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    # The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a, b, x, tiny=1e-300, tolerance=1e-15, max_terms=10000):
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    fraction = d
    for m in range(1, max_terms + 1):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            fraction *= c * d
        if abs(c * d - 1.0) < tolerance:
            break
    return fraction
