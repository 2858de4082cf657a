"""fastembed over a Dask cluster: scoring, encoding, neighbour search and vocabularies on
collections larger than one machine (``pip install "cyembed[dask]"``).

Every function takes a Dask collection (a ``dask.dataframe`` Series of texts or words,
or a ``dask.bag.Bag``) and returns one, lazily, with one task per partition. The model,
vectorizer or vectors travel as bytes of fastembed's own formats (the ``.npz`` archive
with its JSON configuration, the encoder's JSON document): one key of the task graph,
which the scheduler copies to each worker once and every partition on that worker
shares; each worker process loads it once (never pickled objects). Threads inside a
worker follow fastembed's thread policy.

    import dask.dataframe as dd
    import fastembed.dask

    texts = dd.read_csv("reviews-*.csv")["text"]
    scores = fastembed.dask.predict(model, texts)          # a Dask DataFrame, one column per output
    vectorizer = fastembed.dask.adapt(TextVectorizer(max_tokens=20_000), texts)
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading

import numpy as np

__all__ = ["predict", "vectorize", "most_similar_batch", "adapt", "count_tokens"]

# What each worker process has loaded: payload digest -> object (a model, a vectorizer).
_LOADED: dict = {}
_LOCK = threading.Lock()


def _dask():
    try:
        import dask
        import dask.bag
        import dask.dataframe
    except ImportError:  # pragma: no cover - the extra is missing
        raise ImportError(
            'fastembed.dask needs Dask: pip install "cyembed[dask]" (dask[distributed] and pandas)'
        ) from None
    return dask


# -- shipping ----------------------------------------------------------------------------
def _payload(obj):
    """``(kind, bytes)``: ``obj`` in fastembed's own file format."""
    from .embeddings import KeyedVectors
    from .models import Sequential
    from .text import TextVectorizer

    if isinstance(obj, Sequential):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "model.npz")
            obj.save(path)
            with open(path, "rb") as handle:
                return "model", handle.read()
    if isinstance(obj, TextVectorizer):
        return "vectorizer", json.dumps(obj.to_document()).encode("utf-8")
    if isinstance(obj, KeyedVectors):
        header = json.dumps({"keys": list(obj.index_to_key)}).encode("utf-8")
        vectors = np.ascontiguousarray(obj.vectors, dtype=np.float32)
        shape = np.array(vectors.shape, dtype=np.int64).tobytes()
        return "vectors", len(header).to_bytes(8, "little") + header + shape + vectors.tobytes()
    raise TypeError("fastembed.dask ships a Sequential, a TextVectorizer or KeyedVectors, got %s" % type(obj).__name__)


def _load(kind, payload):
    """The object a payload holds, loaded once per process."""
    digest = hashlib.sha256(payload).hexdigest()
    with _LOCK:
        if digest in _LOADED:
            return _LOADED[digest]
        if kind == "model":
            from .models import load_model

            with tempfile.TemporaryDirectory() as directory:
                path = os.path.join(directory, "model.npz")
                with open(path, "wb") as handle:
                    handle.write(payload)
                obj = load_model(path)
        elif kind == "vectorizer":
            from .text import TextVectorizer

            obj = TextVectorizer.from_document(json.loads(payload.decode("utf-8")), "a shipped vectorizer")
        elif kind == "vectors":
            from .embeddings import KeyedVectors

            size = int.from_bytes(payload[:8], "little")
            keys = json.loads(payload[8 : 8 + size].decode("utf-8"))["keys"]
            shape = tuple(np.frombuffer(payload[8 + size : 24 + size], dtype=np.int64))
            vectors = np.frombuffer(payload[24 + size :], dtype=np.float32).reshape(shape)
            obj = KeyedVectors(vectors.copy(), keys)
        else:
            raise ValueError("unknown payload kind %r" % kind)
        _LOADED[digest] = obj
        return obj


def _shipped(obj):
    """A graph key holding ``obj``'s bytes (one copy per worker, whatever the partitions)."""
    dask = _dask()
    kind, payload = _payload(obj)
    return kind, dask.delayed(payload, pure=True)


# -- collections -------------------------------------------------------------------------
def _kind_of(collection):
    dask = _dask()
    if isinstance(collection, dask.bag.Bag):
        return "bag"
    if isinstance(collection, dask.dataframe.Series):
        return "series"
    if isinstance(collection, dask.dataframe.DataFrame):
        raise TypeError("give one column of the Dask DataFrame (df['text']), not the whole frame")
    raise TypeError(
        "fastembed.dask takes a dask.dataframe Series or a dask.bag Bag, got %s" % type(collection).__name__
    )


def _texts(part):
    values = list(part)
    for position, value in enumerate(values):
        if not isinstance(value, str):
            raise TypeError("a partition holds %s at position %d, not a str" % (type(value).__name__, position))
    return values


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


def predict(model, texts, batch_size: int = 256):
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
    width = int(np.asarray(model.predict(["a"], verbose=0)).shape[-1])
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


def vectorize(vectorizer, texts):
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


def most_similar_batch(vectors, words, topn: int = 10):
    """``vectors.most_similar_batch`` over a collection of words: a list of ``(word,
    similarity)`` per word. Each worker holds one copy of the vectors."""
    kind_of = _kind_of(words)
    kind, payload = _shipped(vectors)
    if kind_of == "bag":
        return words.map_partitions(_neighbours_part, kind, payload, topn, False)
    return words.map_partitions(_neighbours_part, kind, payload, topn, True, meta=(words.name, object))


# -- vocabularies --------------------------------------------------------------------------
def _count_part(part, config):
    from .text import TextVectorizer

    return TextVectorizer.from_config(config).count_tokens(_texts(part))


def _sum_counts(parts):
    total: dict = {}
    for counts in parts:
        for token, n in counts.items():
            total[token] = total.get(token, 0) + n
    return total


def count_tokens(vectorizer, texts, split_every: int = 8):
    """Token counts of a whole collection: counted per partition on the workers, then
    summed in a tree (``split_every`` partitions per node). Returns a Dask ``Item``."""
    kind_of = _kind_of(texts)
    bag = texts if kind_of == "bag" else texts.to_bag()
    config = vectorizer.get_config()
    return bag.reduction(
        lambda part: _count_part(part, config), _sum_counts, split_every=split_every, name="fastembed-count-tokens"
    )


def adapt(vectorizer, texts, split_every: int = 8):
    """Build ``vectorizer``'s vocabulary from a Dask collection.

    The vocabulary equals ``vectorizer.adapt(all_texts)`` in one process, token for token
    (the order depends only on the summed counts).

    Parameters
    ----------
    vectorizer : fastembed.text.TextVectorizer or layers.TextVectorization ('int',
        'multi_hot' or 'count' mode)

    Returns
    -------
    the vectorizer, adapted
    """
    from .text import TextVectorizer

    target = vectorizer
    if not isinstance(vectorizer, TextVectorizer):
        if getattr(vectorizer, "output_mode", None) == "tf_idf":
            raise ValueError("adapt on Dask does not compute IDF weights; adapt a tf_idf layer in one process")
        target = getattr(vectorizer, "_vectorizer", None)
        if not isinstance(target, TextVectorizer):
            raise TypeError("adapt takes a TextVectorizer or a TextVectorization layer, got %s" % type(vectorizer))
    counts = count_tokens(target, texts, split_every=split_every).compute()
    if not counts:
        raise ValueError("adapt() got no tokens from the collection")
    target.adapt_counts(counts)
    return vectorizer
