"""IMDB reviews from ../shared/data/imdb as padded id arrays, for tests and benchmarks.

A minimal word-level vectoriser (lower-case, drop `<br />`, keep [a-z0-9'] runs, the
`max_tokens - 2` most frequent training words after '' (padding, id 0) and '[UNK]' (id 1),
sequences cut or padded at the end): the setup of the TensorFlow word-embeddings tutorial.
fastembed.text.TextVectorizer (issue 4) will replace it.
"""

import collections
import csv
import functools
import os
import re

import numpy as np

DATA_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "data", "imdb"))
_TOKEN = re.compile(r"[a-z0-9']+")


def available():
    """True when the IMDB CSV files are present."""
    return os.path.exists(os.path.join(DATA_DIR, "imdb_train.csv"))


def _read(split):
    csv.field_size_limit(1 << 24)
    with open(os.path.join(DATA_DIR, "imdb_%s.csv" % split), newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [row["text"] for row in rows], np.array([int(row["label"]) for row in rows], dtype=np.float32)


def tokenize(text):
    return _TOKEN.findall(text.lower().replace("<br />", " "))


@functools.lru_cache(maxsize=4)
def load(max_tokens=10_000, seq_len=256):
    """Return ``(x_train, y_train, x_test, y_test, vocabulary)``; x are int32 (n, seq_len)."""
    train_texts, y_train = _read("train")
    test_texts, y_test = _read("test")
    train_tokens = [tokenize(t) for t in train_texts]
    counts = collections.Counter(token for tokens in train_tokens for token in tokens)
    # Ties broken by the word itself, so the vocabulary is deterministic.
    common = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: max_tokens - 2]
    vocabulary = ["", "[UNK]"] + [word for word, _ in common]
    index = {word: i for i, word in enumerate(vocabulary)}

    def encode(token_lists):
        out = np.zeros((len(token_lists), seq_len), dtype=np.int32)
        for row, tokens in enumerate(token_lists):
            ids = [index.get(token, 1) for token in tokens[:seq_len]]
            out[row, : len(ids)] = ids
        return out

    return encode(train_tokens), y_train, encode([tokenize(t) for t in test_texts]), y_test, vocabulary
