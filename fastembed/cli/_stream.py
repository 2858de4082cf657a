"""Labelled texts as streams for ``fastembed train`` and ``fastembed evaluate``: a file
is scanned once (its size, its classes, and the word counts of its vocabulary), then read
again for every epoch in batches, so memory is bounded by the shuffle buffer and the
batch, not by the file.

The validation part is a seeded random share of the records (chosen record by record,
without holding them), not the last records: files often come sorted by class (IMDB's
CSV files are). For the same reason a shuffle buffer is not enough: each epoch's order
is a uniform random permutation made out of core (records dealt at random into
temporary bucket files, each bucket then shuffled in memory), so memory holds about one
bucket, at most ``shuffle_buffer`` records.
"""

from __future__ import annotations

import collections
import itertools
import os
import struct
import tempfile

import numpy as np

from .. import datasets
from ..data import Dataset
from ._errors import UserError

CHUNK = 4096  # records per chunk when counting and scoring
COIN_BLOCK = 1 << 16  # records per block of validation coins
MAX_BUCKETS = 256  # open bucket files at once; beyond, buckets grow past the buffer
_RECORD_HEADER = struct.Struct("<qQ")  # label, UTF-8 byte length


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
    counts: dict = {}
    size = 0
    iterator = iter(records)
    while True:
        chunk = list(itertools.islice(iterator, CHUNK))
        if not chunk:
            break
        size += len(chunk)
        labels.update(label for _, label in chunk)
        if count_tokens is not None:
            for token, n in count_tokens([text for text, _ in chunk]).items():
                counts[token] = counts.get(token, 0) + n
    class_names = datasets.class_names_of(set(labels), None, path)
    if len(class_names) < 2:
        raise UserError("%s holds a single class (%s): a classifier needs at least two" % (path, class_names[0]))
    return Source(records, class_names, size, path), counts


def is_validation(seed, fraction):
    """A function ``index -> bool``: a seeded coin per record (blocks of coins cached)."""
    cache = {}

    def coin(index):
        block, offset = divmod(index, COIN_BLOCK)
        if block not in cache:
            cache.clear()
            cache[block] = np.random.default_rng([seed, block]).random(COIN_BLOCK) < fraction
        return bool(cache[block][offset])

    return coin


def count_validation(size, seed, fraction):
    """How many of ``size`` records the coins hold out."""
    held = 0
    for block in range(-(-size // COIN_BLOCK)):
        coins = np.random.default_rng([seed, block]).random(COIN_BLOCK)[: size - block * COIN_BLOCK]
        held += int(np.count_nonzero(coins < fraction))
    return held


def batches(source, encode, batch_size, seed, validation_split=0.0, part="train", shuffle_buffer=0, stats=None):
    """A Dataset of ``(ids, labels)`` batches from one part of ``source``, read anew each
    epoch. With ``shuffle_buffer`` > 1, each epoch's records come in a new uniform random
    order (:func:`shuffled`), holding at most about ``shuffle_buffer`` of them.
    ``stats['tokens']`` counts the non-padding ids produced."""
    coin = is_validation(seed, validation_split) if validation_split else None
    wanted = part == "validation"

    def records():
        for index, record in enumerate(source.labelled()):
            if coin is None or coin(index) == wanted:
                yield record

    epochs = itertools.count()

    def ordered():
        if shuffle_buffer <= 1:
            return records()
        return shuffled(records(), source.size, shuffle_buffer, np.random.default_rng([seed, next(epochs)]))

    dataset = Dataset.from_generator(ordered)

    def encoded(texts, labels):
        ids = encode(list(texts))
        if stats is not None:
            stats["tokens"] = stats.get("tokens", 0) + int(np.count_nonzero(ids))
        return ids, np.asarray(labels)

    return dataset.batch(batch_size).map(encoded)


def shuffled(records, size, buffer, rng):
    """``records`` in a uniform random order, holding about ``size / buckets`` of them:
    each record goes to a random bucket file, then each bucket is read and permuted."""
    buckets = min(MAX_BUCKETS, max(1, -(-size // buffer)))
    if buckets == 1:
        held = list(records)
        for k in rng.permutation(len(held)):
            yield held[k]
        return
    with tempfile.TemporaryDirectory(prefix="fastembed-shuffle-") as directory:
        paths = [os.path.join(directory, "%d.bin" % b) for b in range(buckets)]
        files = [open(path, "wb", buffering=1 << 16) for path in paths]
        try:
            while True:
                chunk = list(itertools.islice(records, CHUNK))
                if not chunk:
                    break
                for (text, label), bucket in zip(chunk, rng.integers(buckets, size=len(chunk))):
                    data = text.encode("utf-8", "surrogatepass")
                    files[bucket].write(_RECORD_HEADER.pack(label, len(data)))
                    files[bucket].write(data)
        finally:
            for handle in files:
                handle.close()
        for path in paths:
            held = _read_bucket(path)
            os.remove(path)  # the disk copy shrinks as it is consumed
            for k in rng.permutation(len(held)):
                yield held[k]


def _read_bucket(path):
    with open(path, "rb") as handle:
        data = handle.read()
    held, position = [], 0
    while position < len(data):
        label, length = _RECORD_HEADER.unpack_from(data, position)
        position += _RECORD_HEADER.size
        held.append((data[position : position + length].decode("utf-8", "surrogatepass"), int(label)))
        position += length
    return held
