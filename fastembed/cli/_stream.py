"""Labelled texts as streams for ``fastembed train`` and ``fastembed evaluate``: a file
is scanned once (its size, its classes, and the word counts of its vocabulary), then read
again for every epoch in batches, so memory is bounded by the shuffle buffer and the
batch, not by the file.

Once the vocabulary is known, the records are encoded once into a binary cache of id
rows on disk (:class:`EncodedCache`); each epoch reads the cache, not the text. The
validation part is a seeded random share of the records (a coin per record), not the
last records: files often come sorted by class (IMDB's CSV files are). For the same
reason a shuffle buffer is not enough: each epoch's order is a uniform random
permutation made out of core (rows dealt at random into temporary bucket files, each
bucket then permuted in memory), so memory holds about one bucket, at most
``shuffle_buffer`` rows.
"""

from __future__ import annotations

import collections
import itertools
import os
import tempfile

import numpy as np

from .. import datasets
from ..data import Dataset
from ._errors import UserError

CHUNK = 4096  # records per chunk when counting and scoring
COIN_BLOCK = 1 << 16  # records per block of validation coins
MAX_BUCKETS = 256  # open bucket files at once; beyond, buckets grow past the buffer


class Source:
    """Labelled records, their class names (in label order) and their number.

    ``records`` is re-iterable and yields ``(text, class name)``."""

    def __init__(self, records, class_names, size, name):
        self.records, self.class_names, self.size, self.name = records, list(class_names), int(size), name
        self._index = {label: i for i, label in enumerate(self.class_names)}

    @classmethod
    def from_dataset(cls, dataset, name="the data"):
        """A Source over an in-memory :class:`fastembed.datasets.TextDataset`."""
        pairs = [(text, dataset.class_names[label]) for text, label in zip(dataset.texts, dataset.labels)]
        return cls(pairs, dataset.class_names, len(pairs), name)

    def labelled(self):
        """``(text, label index)`` records; a class outside ``class_names`` is an error."""
        for text, label in self.records:
            index = self._index.get(label)
            if index is None:
                raise UserError("%s has class %r, which the model does not know" % (self.name, label))
            yield text, index

    def texts(self):
        return (text for text, _ in self.records)

    def chunks(self, size=CHUNK):
        """Lists of at most ``size`` ``(text, label index)`` records."""
        records = self.labelled()
        while True:
            chunk = list(itertools.islice(records, size))
            if not chunk:
                return
            yield chunk


def scan_file(path, args, count_tokens=None):
    """One pass over a file: a :class:`Source` (classes sorted as ``load_text_dataset``
    sorts them) and, with ``count_tokens`` (``TextVectorizer.count_tokens``), the summed
    token counts of every text. Every record is parsed, so a damaged file fails here,
    before anything is written."""
    records = datasets.TextRecords(path, text_column=args.text_column, label_column=args.label_column)
    labels = collections.Counter()

    def texts():  # the labels are counted on the way
        for text, label in records:
            labels[label] += 1
            yield text

    if count_tokens is not None:
        counts = count_tokens(texts())  # counted chunk by chunk
    else:
        counts = {}
        collections.deque(texts(), maxlen=0)
    size = sum(labels.values())
    class_names = datasets.class_names_of(set(labels), None, path)
    if len(class_names) < 2:
        raise UserError("%s holds a single class (%s): a classifier needs at least two" % (path, class_names[0]))
    return Source(records, class_names, size, path), counts


def validation_coins(seed, fraction, start, count):
    """The coins of records ``start .. start + count``: True holds a record out. Each
    record's coin depends only on the seed and its index."""
    coins = np.empty(count, np.bool_)
    done = 0
    while done < count:
        block, offset = divmod(start + done, COIN_BLOCK)
        take = min(count - done, COIN_BLOCK - offset)
        draws = np.random.default_rng([seed, block]).random(COIN_BLOCK)[offset : offset + take]
        coins[done : done + take] = draws < fraction
        done += take
    return coins


class EncodedCache:
    """The records of a :class:`Source`, encoded once into fixed-width id rows in binary
    files (training and validation parts), read back for every epoch.

    The file is parsed and encoded once, not once per epoch; an epoch reads the ids
    sequentially in blocks. Disk: 4 bytes per id of each record (the padded row), and as
    much again while an epoch's shuffle runs."""

    def __init__(self, directory, width):
        self.directory, self.width = directory, int(width)
        self.rows = {"train": 0, "validation": 0}
        self.tokens = {"train": 0, "validation": 0}

    def _path(self, part, what):
        return os.path.join(self.directory, "%s.%s" % (part, what))

    @classmethod
    def write(cls, source, encode, width, directory, seed=0, validation_split=0.0):
        """Encode ``source`` chunk by chunk (``encode(texts) -> (n, width)`` ids) into
        ``directory``; the validation part is chosen by :func:`validation_coins`."""
        cache = cls(directory, width)
        files = {(part, what): open(cache._path(part, what), "wb") for part in cache.rows for what in ("ids", "labels")}
        try:
            start = 0
            for chunk in source.chunks():
                ids = np.ascontiguousarray(encode([text for text, _ in chunk]), dtype=np.int32)
                labels = np.array([label for _, label in chunk], dtype=np.int64)
                held = validation_coins(seed, validation_split, start, len(chunk))
                start += len(chunk)
                for part, keep in (("train", ~held), ("validation", held)):
                    part_ids = ids[keep]
                    part_ids.tofile(files[part, "ids"])
                    labels[keep].tofile(files[part, "labels"])
                    cache.rows[part] += part_ids.shape[0]
                    cache.tokens[part] += int(np.count_nonzero(part_ids))
        finally:
            for handle in files.values():
                handle.close()
        return cache

    def _blocks(self, part, rows=CHUNK):
        """``(ids, labels)`` of a part, ``rows`` at a time, in file order."""
        with open(self._path(part, "ids"), "rb") as ids_file, open(self._path(part, "labels"), "rb") as labels_file:
            while True:
                ids = np.fromfile(ids_file, dtype=np.int32, count=rows * self.width)
                if not ids.size:
                    return
                yield (
                    ids.reshape(-1, self.width),
                    np.fromfile(labels_file, dtype=np.int64, count=ids.size // self.width),
                )

    def batches(self, part, batch_size, buffer=0, rng=None):
        """One epoch of ``(ids, labels)`` batches; with a ``buffer`` > 1 (and ``rng``), in a
        uniform random order made out of core: rows are dealt at random into bucket
        files of about ``buffer`` rows, and each bucket is permuted in memory."""
        n = self.rows[part]
        if buffer <= 1 or rng is None:
            return _rebatch(self._blocks(part), batch_size)
        buckets = min(MAX_BUCKETS, max(1, -(-n // buffer)))
        if buckets == 1:
            return _rebatch(_permuted_all(self._blocks(part), rng), batch_size)
        return _rebatch(self._bucket_shuffled(part, buckets, rng), batch_size)

    def _bucket_shuffled(self, part, buckets, rng):
        with tempfile.TemporaryDirectory(prefix="fastembed-shuffle-", dir=self.directory) as directory:
            paths = [(os.path.join(directory, "%d.ids" % b), os.path.join(directory, "%d.labels" % b))
                     for b in range(buckets)]  # fmt: skip
            handles = [(open(ids, "wb"), open(labels, "wb")) for ids, labels in paths]
            try:
                for ids, labels in self._blocks(part):
                    assigned = rng.integers(buckets, size=labels.size)
                    order = np.argsort(assigned, kind="stable")
                    bounds = np.searchsorted(assigned[order], np.arange(buckets + 1))
                    for b in range(buckets):
                        rows = order[bounds[b] : bounds[b + 1]]
                        if rows.size:
                            ids[rows].tofile(handles[b][0])
                            labels[rows].tofile(handles[b][1])
            finally:
                for ids_handle, labels_handle in handles:
                    ids_handle.close()
                    labels_handle.close()
            for ids_path, labels_path in paths:
                ids = np.fromfile(ids_path, dtype=np.int32).reshape(-1, self.width)
                labels = np.fromfile(labels_path, dtype=np.int64)
                os.remove(ids_path)  # the disk copy shrinks as it is consumed
                os.remove(labels_path)
                order = rng.permutation(labels.size)
                yield ids[order], labels[order]


def _permuted_all(blocks, rng):
    parts = list(blocks)
    if not parts:
        return
    ids = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    order = rng.permutation(labels.size)
    yield ids[order], labels[order]


def _rebatch(blocks, batch_size):
    """Batches of ``batch_size`` rows out of blocks of any size (the last may be short)."""
    pending = None
    for ids, labels in blocks:
        if pending is not None:
            ids, labels = np.concatenate([pending[0], ids]), np.concatenate([pending[1], labels])
        full = labels.size - labels.size % batch_size
        for start in range(0, full, batch_size):
            yield ids[start : start + batch_size], labels[start : start + batch_size]
        pending = (ids[full:], labels[full:]) if full < labels.size else None
    if pending is not None:
        yield pending


def batches(cache, part, batch_size, seed=0, buffer=0):
    """A Dataset of one part of an :class:`EncodedCache`, read anew each epoch; the
    training part in a new uniform random order each epoch when ``buffer`` > 1."""
    epochs = itertools.count()

    def epoch():
        rng = np.random.default_rng([seed, next(epochs)]) if buffer > 1 else None
        return cache.batches(part, batch_size, buffer, rng)

    return Dataset.from_generator(epoch)
