"""Moving fastembed objects to Dask workers: as bytes of fastembed's own formats (never
pickled objects), one graph key per object, loaded once per worker process."""

from __future__ import annotations

import collections
import hashlib
import json
import os
import tempfile
import threading

import numpy as np

# What each worker process has loaded: payload digest -> object (a model, a vectorizer),
# the most recently used last. A long-lived worker keeps at most LOADED_LIMIT of them.
_LOADED: collections.OrderedDict = collections.OrderedDict()
_LOCK = threading.Lock()
LOADED_LIMIT = 4


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
def _file_bytes(save):
    """The bytes ``save(path)`` writes (our savers write files atomically, by path)."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "payload.npz")
        save(path)
        with open(path, "rb") as handle:
            return handle.read()


def _from_file_bytes(load, payload):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "payload.npz")
        with open(path, "wb") as handle:
            handle.write(payload)
        return load(path)


def _payload(obj):
    """``(kind, bytes)``: ``obj`` in fastembed's own file format."""
    from ..embeddings import KeyedVectors
    from ..models import Sequential
    from ..text import TextVectorizer
    from ..word2vec import FastText, Word2Vec

    if isinstance(obj, Sequential):
        return "model", _file_bytes(obj.save)
    if isinstance(obj, FastText):
        return "fasttext", _file_bytes(obj.save)
    if isinstance(obj, Word2Vec):
        return "word2vec", _file_bytes(obj.save)
    if isinstance(obj, TextVectorizer):
        return "vectorizer", json.dumps(obj.to_document()).encode("utf-8")
    if isinstance(obj, KeyedVectors):
        header = json.dumps({"keys": list(obj.index_to_key)}).encode("utf-8")
        vectors = np.ascontiguousarray(obj.vectors, dtype=np.float32)
        shape = np.array(vectors.shape, dtype=np.int64).tobytes()
        return "vectors", len(header).to_bytes(8, "little") + header + shape + vectors.tobytes()
    raise TypeError(
        "fastembed.dask ships a Sequential, a Word2Vec or FastText model, a TextVectorizer or KeyedVectors, got %s"
        % type(obj).__name__
    )


def _decode(kind, payload):
    """A new object from a payload (each call loads a fresh copy)."""
    if kind == "model":
        from ..models import load_model

        return _from_file_bytes(load_model, payload)
    if kind in ("word2vec", "fasttext"):
        from ..word2vec import FastText, Word2Vec

        return _from_file_bytes((FastText if kind == "fasttext" else Word2Vec).load, payload)
    if kind == "vectorizer":
        from ..text import TextVectorizer

        return TextVectorizer.from_document(json.loads(payload.decode("utf-8")), "a shipped vectorizer")
    if kind == "vectors":
        from ..embeddings import KeyedVectors

        size = int.from_bytes(payload[:8], "little")
        keys = json.loads(payload[8 : 8 + size].decode("utf-8"))["keys"]
        shape = tuple(np.frombuffer(payload[8 + size : 24 + size], dtype=np.int64))
        vectors = np.frombuffer(payload[24 + size :], dtype=np.float32).reshape(shape)
        return KeyedVectors(vectors.copy(), keys)
    raise ValueError("unknown payload kind %r" % kind)


def _load(kind, payload):
    """The object a payload holds, loaded once per process (shared by every task)."""
    digest = hashlib.sha256(payload).hexdigest()
    with _LOCK:
        if digest in _LOADED:
            _LOADED.move_to_end(digest)
        else:
            _LOADED[digest] = _decode(kind, payload)
            while len(_LOADED) > LOADED_LIMIT:
                _LOADED.popitem(last=False)  # the least recently used
        return _LOADED[digest]


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
