"""IMDB reviews from ../shared/data/imdb as padded id arrays, for the benchmarks.

The setup of the TensorFlow word-embeddings tutorial, through the library itself:
``fastembed.datasets.load_text_dataset`` reads the CSV files and a
``fastembed.text.TextVectorizer`` (lower-case, ``<br />`` and punctuation removed, the
``max_tokens`` most frequent training words including '' and '[UNK]') encodes them, cut
or padded to ``seq_len`` at the end.
"""

import functools
import os

import numpy as np

from fastembed.datasets import load_text_dataset
from fastembed.text import TextVectorizer

DATA_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "data", "imdb"))


def available():
    """True when the IMDB CSV files are present."""
    return os.path.exists(os.path.join(DATA_DIR, "imdb_train.csv"))


@functools.lru_cache(maxsize=4)
def load(max_tokens=10_000, seq_len=256):
    """Return ``(x_train, y_train, x_test, y_test, vocabulary)``; x are int32 (n, seq_len)."""
    train = load_text_dataset(os.path.join(DATA_DIR, "imdb_train.csv"), shuffle=False)
    test = load_text_dataset(os.path.join(DATA_DIR, "imdb_test.csv"), shuffle=False)
    vectorizer = TextVectorizer(
        max_tokens=max_tokens, standardize="lower_and_strip_html_and_punctuation", output_sequence_length=seq_len
    )
    vectorizer.adapt(train.texts)
    return (
        vectorizer(train.texts),
        train.labels.astype(np.float32),
        vectorizer(test.texts),
        test.labels.astype(np.float32),
        vectorizer.get_vocabulary(),
    )
