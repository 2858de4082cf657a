"""The streaming input protocol: batches that arrive one at a time.

``fit`` / ``evaluate`` / ``predict`` take, besides arrays, any source of batches: a
:class:`fastembed.data.Dataset`, a Python generator or iterator, any iterable of batches,
or a Keras-3-style ``PyDataset`` / ``keras.utils.Sequence`` (``__len__`` +
``__getitem__``, optional ``on_epoch_end``). A batch is ``x``, ``(x,)``, ``(x, y)`` or
``(x, y, sample_weight)``.

The engine groups consecutive batches into chunks (at most CHUNK_BATCHES of them, all of
one size and shape, so a chunk is a whole number of the same steps), validates each chunk
once and runs it through the planned runner: memory holds one chunk, never the data set.
"""

import numbers
import types

import numpy as np

from ..data import Dataset
from ..ragged import Ragged

#: Batches per chunk: a chunk is validated and run as one call (bounded memory).
CHUNK_BATCHES = 64


def is_keras_sequence(x):
    """A PyDataset / Sequence: indexable batches with a length (not an array or a list)."""
    return (
        hasattr(x, "__getitem__")
        and hasattr(x, "__len__")
        and not isinstance(x, (list, tuple, np.ndarray, Ragged, str, bytes, dict, Dataset))
    )


def is_stream(x):
    """Does ``x`` give batches (rather than being the samples themselves)?"""
    if isinstance(x, (np.ndarray, Ragged, list, tuple, str, bytes, dict)) or x is None:
        return False
    return (
        isinstance(x, (Dataset, types.GeneratorType))
        or is_keras_sequence(x)
        or hasattr(x, "__iter__")
        or hasattr(x, "__next__")
    )


class Source:
    """A stream's batches, epoch by epoch, with Keras' semantics.

    A re-iterable source (Dataset, PyDataset, a list-like iterable) starts a new pass
    each epoch; a one-shot iterator (a generator) continues where the last epoch stopped.
    With ``steps`` an epoch takes that many batches and the pass continues in the next
    epoch; a pass that runs dry ends the epoch (``exhausted`` tells the caller).
    """

    def __init__(self, x, steps=None):
        self.x, self.steps = x, steps
        self._iterator = None
        self.exhausted = False
        self.one_shot = isinstance(x, types.GeneratorType) or (hasattr(x, "__next__") and iter(x) is x)

    def cardinality(self):
        """Batches per pass, or None when unknown."""
        if isinstance(self.x, Dataset):
            n = self.x.cardinality()
            return n if n >= 0 else None
        if is_keras_sequence(self.x):
            return len(self.x)
        return None

    def _new_pass(self):
        if is_keras_sequence(self.x):
            sequence = self.x
            return (sequence[i] for i in range(len(sequence)))
        return iter(self.x)

    def epoch(self):
        """The batches of one epoch."""
        self.exhausted = False
        if self._iterator is None or (self.steps is None and not self.one_shot):
            self._iterator = self._new_pass()
        taken = 0
        while self.steps is None or taken < self.steps:
            try:
                batch = next(self._iterator)
            except StopIteration:
                self.exhausted = True
                self._iterator = None if not self.one_shot else self._iterator
                break
            taken += 1
            yield unpack(batch)
        if self.steps is None or self.exhausted:
            on_epoch_end = getattr(self.x, "on_epoch_end", None)
            if callable(on_epoch_end) and is_keras_sequence(self.x):
                on_epoch_end()


def unpack(batch):
    """``(x, y, sample_weight)`` of one batch (absent parts None)."""
    if isinstance(batch, tuple):
        if not 1 <= len(batch) <= 3:
            raise ValueError("a batch must be x, (x,), (x, y) or (x, y, sample_weight); got a tuple of %d" % len(batch))
        return tuple(batch) + (None,) * (3 - len(batch))
    if isinstance(batch, dict):
        raise TypeError("a batch must be x or a tuple (x, y[, sample_weight]), not a dict")
    return batch, None, None


def _size_and_shape(x):
    """What consecutive batches must share to be run as one chunk of equal steps."""
    if isinstance(x, np.ndarray) and x.dtype != object:
        return x.shape[0], x.shape[1:]
    if isinstance(x, Ragged):
        return len(x), "ragged"
    if isinstance(x, (str, bytes)):
        raise TypeError("a batch's x is a single string: batch the texts (a list or array of them)")
    if isinstance(x, numbers.Number):
        raise TypeError("a batch's x is a single number, not a batch")
    return len(x), "rows"


def _concatenate(parts):
    first = parts[0]
    if first is None:
        return None
    if isinstance(first, Ragged):
        return Ragged.from_rows([row for part in parts for row in part])
    if isinstance(first, np.ndarray):
        # Plain arrays (a Dataset's Tensor would wrap every element it yields).
        parts = [np.asarray(part) for part in parts]
        if first.dtype == object:
            return [row for part in parts for row in part.tolist()]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]
    return [row for part in parts for row in part]


def chunks(batches, max_batches=CHUNK_BATCHES):
    """Group consecutive batches into ``(x, y, sample_weight, batch_size, n_batches)``
    chunks of equal-sized, equally shaped batches."""
    group, key = [], None
    for x, y, sample_weight in batches:
        if x is None:
            raise ValueError("a batch has no inputs (x is None)")
        batch_key = _size_and_shape(x) + ((y is None), (sample_weight is None))
        if batch_key[0] == 0:
            continue
        if group and (batch_key != key or len(group) == max_batches):
            yield _chunk(group)
            group = []
        group.append((x, y, sample_weight))
        key = batch_key
    if group:
        yield _chunk(group)


def _chunk(group):
    xs, ys, weights = zip(*group)
    return (
        _concatenate(list(xs)),
        _concatenate(list(ys)),
        _concatenate(list(weights)),
        _size_and_shape(group[0][0])[0],
        len(group),
    )
