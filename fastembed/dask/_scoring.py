"""Scoring, encoding and neighbour search over a Dask collection, one task per partition."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._shipping import _kind_of, _load, _shipped, _texts

if TYPE_CHECKING:
    import dask.bag as db
    import dask.dataframe as dd

    from ..embeddings import KeyedVectors
    from ..models import Sequential
    from ..text import TextVectorizer


def _predict_series(part, kind, payload, batch_size, columns):
    import pandas as pd

    model = _load(kind, payload)
    texts = _texts(part)
    if not texts:
        return pd.DataFrame({c: pd.Series([], dtype=np.float32) for c in columns}, index=part.index)
    out = model.predict(texts, batch_size=batch_size, verbose=0)
    return pd.DataFrame(np.asarray(out, dtype=np.float32), index=part.index, columns=columns)


def _predict_bag(part, kind, payload, batch_size):
    model = _load(kind, payload)
    texts = _texts(part)
    return list(np.asarray(model.predict(texts, batch_size=batch_size, verbose=0))) if texts else []


def predict(model: Sequential, texts: dd.Series | db.Bag, batch_size: int = 256) -> dd.DataFrame | db.Bag:
    """Score every text with ``model`` (a Sequential whose first layer is a
    TextVectorization layer, so that it takes raw strings).

    Returns
    -------
    dask.dataframe.DataFrame (for a Series: columns ``output_0 ..``, the Series' index) or
    dask.bag.Bag of arrays (for a Bag).
    """
    import pandas as pd

    kind_of = _kind_of(texts)
    kind, payload = _shipped(model)
    if kind_of == "bag":
        return texts.map_partitions(_predict_bag, kind, payload, batch_size)
    width = int(model.output_dim)
    columns = ["output_%d" % i for i in range(width)]
    meta = pd.DataFrame({c: pd.Series([], dtype=np.float32) for c in columns})
    return texts.map_partitions(_predict_series, kind, payload, batch_size, columns, meta=meta)


def _vectorize_part(part, kind, payload, as_series):
    vectorizer = _load(kind, payload)
    texts = _texts(part)
    encoded = vectorizer(texts) if texts else []
    rows = [np.asarray(encoded[i]) for i in range(len(texts))]
    if as_series:
        import pandas as pd

        return pd.Series(rows, index=part.index, dtype=object)
    return rows


def vectorize(vectorizer: TextVectorizer, texts: dd.Series | db.Bag) -> dd.Series | db.Bag:
    """Ids of every text (``vectorizer(text)``), as a Series of arrays or a Bag of arrays."""
    kind_of = _kind_of(texts)
    kind, payload = _shipped(vectorizer)
    if kind_of == "bag":
        return texts.map_partitions(_vectorize_part, kind, payload, False)
    return texts.map_partitions(_vectorize_part, kind, payload, True, meta=(texts.name, object))


def _neighbours_part(part, kind, payload, topn, as_series):
    vectors = _load(kind, payload)
    words = _texts(part)
    answers = vectors.most_similar_batch(words, topn=topn) if words else []
    if as_series:
        import pandas as pd

        return pd.Series(answers, index=part.index, dtype=object)
    return answers


def most_similar_batch(vectors: KeyedVectors, words: dd.Series | db.Bag, topn: int = 10) -> dd.Series | db.Bag:
    """``vectors.most_similar_batch`` over a collection of words: a list of ``(word,
    similarity)`` per word. Each worker holds one copy of the vectors."""
    kind_of = _kind_of(words)
    kind, payload = _shipped(vectors)
    if kind_of == "bag":
        return words.map_partitions(_neighbours_part, kind, payload, topn, False)
    return words.map_partitions(_neighbours_part, kind, payload, topn, True, meta=(words.name, object))
