"""Streaming input pipelines with the ``tf.data`` names Keras tutorials use.

A :class:`Dataset` is a recipe: every iteration runs it again from its source (so an
epoch is one pass), elements flow one at a time, and nothing is read before the iteration
reaches it. Elements are NumPy arrays, Python strings, or tuples / dicts of them; batches
are NumPy arrays (strings as ``dtype=object`` arrays, rows of unequal length as lists).

    ds = fastembed.data.Dataset.from_tensor_slices((texts, labels))
    ds = ds.shuffle(1000, seed=0).batch(32).prefetch(fastembed.data.AUTOTUNE)
    model.fit(ds, epochs=3)

``prefetch`` and ``num_parallel_calls`` are accepted and do nothing: the pipeline runs in
the caller's thread, between training chunks (the kernels already use the cores).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator
import numbers

import numpy as np

from . import _random

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike

#: ``prefetch`` / ``num_parallel_calls`` value meaning "let the runtime decide" (tf.data's).
AUTOTUNE = -1
#: ``cardinality()`` of an endless dataset and of one whose length is not known (tf.data's).
INFINITE = -1
UNKNOWN = -2


class Tensor(np.ndarray):
    """A NumPy array with ``tf.Tensor``'s ``.numpy()`` (batches, ``fastembed.constant``
    and layer calls return it), so tutorial code written for TensorFlow runs as it is.
    Indexing keeps it a Tensor (a single number is a 0-d one, as in TensorFlow); an
    element of a batch of texts is the ``str``."""

    def numpy(self) -> np.ndarray:
        """The plain NumPy array."""
        return np.asarray(self)

    def __getitem__(self, key: Any) -> Any:
        item = super().__getitem__(key)
        if isinstance(item, np.ndarray) or self.dtype == object:
            return item  # an element of a batch of texts is the str itself
        return np.asarray(item).view(Tensor)


def constant(value: ArrayLike, dtype: DTypeLike = None) -> Tensor:
    """``tf.constant``: ``value`` as a :class:`Tensor`."""
    return np.asarray(value, dtype=dtype).view(Tensor)


def _to_numpy(element):
    """An element as NumPy values: tuples and dicts element-wise, strings kept as str."""
    if isinstance(element, tuple):
        return tuple(_to_numpy(e) for e in element)
    if isinstance(element, dict):
        return {key: _to_numpy(value) for key, value in element.items()}
    if isinstance(element, (str, bytes, np.ndarray, np.generic)):
        return element
    if isinstance(element, (numbers.Number, list)):
        return np.asarray(element)
    return element


def _slices(tensors):
    """``(length, function i -> element)`` of ``from_tensor_slices``' argument."""
    if isinstance(tensors, tuple):
        parts = [_slices(t) for t in tensors]
        lengths = {length for length, _ in parts}
        if len(lengths) != 1:
            raise ValueError("from_tensor_slices: the components have different lengths %s" % sorted(lengths))
        return lengths.pop(), (lambda i: tuple(get(i) for _, get in parts))
    if isinstance(tensors, dict):
        parts = {key: _slices(value) for key, value in tensors.items()}
        lengths = {length for length, _ in parts.values()}
        if len(lengths) > 1:
            raise ValueError("from_tensor_slices: the components have different lengths %s" % sorted(lengths))
        return (lengths.pop() if lengths else 0), (lambda i: {key: get(i) for key, (_, get) in parts.items()})
    if isinstance(tensors, (list, np.ndarray)):
        if isinstance(tensors, list) and tensors and all(isinstance(t, str) for t in tensors):
            return len(tensors), tensors.__getitem__
        array = tensors if isinstance(tensors, np.ndarray) else None
        if array is None:
            try:
                array = np.asarray(tensors)
            except ValueError:  # rows of unequal length
                return len(tensors), (lambda i: np.asarray(tensors[i]))
            if array.dtype == object:
                return len(tensors), (lambda i: _to_numpy(tensors[i]))
        if array.ndim == 0:
            raise ValueError("from_tensor_slices needs at least one dimension to slice, got a scalar")
        return array.shape[0], array.__getitem__
    raise TypeError(
        "from_tensor_slices takes arrays, lists, or tuples / dicts of them, got %s" % type(tensors).__name__
    )


def _stack(values):
    """One batch component from a list of elements' components."""
    first = values[0]
    if isinstance(first, tuple):
        return tuple(_stack([v[i] for v in values]) for i in range(len(first)))
    if isinstance(first, dict):
        return {key: _stack([v[key] for v in values]) for key in first}
    if isinstance(first, (str, bytes)):
        batch = np.empty(len(values), dtype=object)
        batch[:] = values
        return batch.view(Tensor)
    arrays = [np.asarray(v) for v in values]
    if all(a.shape == arrays[0].shape for a in arrays):
        return np.stack(arrays).view(Tensor)
    return arrays  # rows of unequal length (a ragged batch)


def _pad_stack(values, shapes, padding):
    """One padded batch component (see :meth:`Dataset.padded_batch`)."""
    first = values[0]
    if isinstance(first, tuple):
        shapes = shapes if shapes is not None else (None,) * len(first)
        padding = padding if padding is not None else (None,) * len(first)
        if not isinstance(shapes, (tuple, list)) or len(shapes) != len(first):
            raise ValueError("padded_shapes must have the structure of an element (%d components)" % len(first))
        return tuple(_pad_stack([v[i] for v in values], shapes[i], padding[i]) for i in range(len(first)))
    if isinstance(first, dict):
        shapes = shapes if shapes is not None else {}
        padding = padding if padding is not None else {}
        return {key: _pad_stack([v[key] for v in values], shapes.get(key), padding.get(key)) for key in first}
    arrays = [np.asarray(v) for v in values]
    ndim = arrays[0].ndim
    if any(a.ndim != ndim for a in arrays):
        raise ValueError("padded_batch: elements of rank %d and %d in one batch" % (ndim, max(a.ndim for a in arrays)))
    longest = [max(a.shape[d] for a in arrays) for d in range(ndim)]
    if shapes is not None:
        shapes = [shapes] if isinstance(shapes, int) else list(shapes)
        if len(shapes) != ndim:
            raise ValueError("padded_batch: padded shape %s for elements of rank %d" % (shapes, ndim))
        for d, size in enumerate(shapes):
            if size is not None and size >= 0:
                if longest[d] > size:
                    raise ValueError(
                        "padded_batch: an element has %d entries in dimension %d, more than the padded shape %d"
                        % (longest[d], d, size)
                    )
                longest[d] = size
    dtype = np.dtype(object) if arrays[0].dtype == object else np.result_type(*arrays)
    fill = padding if padding is not None else ("" if dtype.kind in "OUS" else 0)
    batch = np.full([len(arrays)] + longest, fill, dtype=dtype)
    for i, a in enumerate(arrays):
        batch[(i,) + tuple(slice(0, n) for n in a.shape)] = a
    return batch.view(Tensor)


def _unstack(batch):
    """The elements of one batch (inverse of _stack)."""
    if isinstance(batch, tuple):
        parts = [list(_unstack(b)) for b in batch]
        return [tuple(p[i] for p in parts) for i in range(len(parts[0]))] if parts else []
    if isinstance(batch, dict):
        parts = {key: list(_unstack(value)) for key, value in batch.items()}
        n = len(next(iter(parts.values()))) if parts else 0
        return [{key: value[i] for key, value in parts.items()} for i in range(n)]
    return list(np.asarray(batch))


class Dataset:
    """A re-iterable pipeline of elements (see the module docstring).

    Build one with :meth:`from_tensor_slices`, :meth:`from_generator` or
    :func:`fastembed.utils.text_dataset_from_directory`, then chain the transformations;
    each returns a new Dataset and leaves this one as it is.
    """

    def __init__(self, make_iterator: Callable[[], Iterable[Any]], cardinality: int = UNKNOWN) -> None:
        self._make_iterator = make_iterator
        self._cardinality = cardinality

    # -- sources -----------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors: Any) -> Dataset:
        """One element per row of ``tensors`` (an array, a list, or a tuple / dict of them)."""
        n, get = _slices(tensors)
        return Dataset(lambda: (_to_numpy(get(i)) for i in range(n)), n)

    @staticmethod
    def from_generator(generator: Callable[..., Iterable], args: tuple = ()) -> Dataset:
        """Elements from ``generator(*args)``, called again for every iteration."""
        if not callable(generator):
            raise TypeError(
                "from_generator takes a callable that returns an iterator (as tf.data), got %s"
                % type(generator).__name__
            )
        return Dataset(lambda: (_to_numpy(e) for e in generator(*args)), UNKNOWN)

    @staticmethod
    def range(*args: int) -> Dataset:
        """Integers as ``range(*args)``."""
        values = range(*args)
        return Dataset(lambda: (np.int64(v) for v in values), len(values))

    # -- iteration ---------------------------------------------------------------------
    def __iter__(self) -> Iterator[Any]:
        return iter(self._make_iterator())

    def as_numpy_iterator(self) -> Iterator[Any]:
        """An iterator over the elements (they are NumPy values already)."""
        return iter(self)

    def cardinality(self) -> int:
        """The number of elements, ``INFINITE`` or ``UNKNOWN`` (tf.data's convention)."""
        return self._cardinality

    def __len__(self) -> int:
        if self._cardinality < 0:
            raise TypeError(
                "the length of this dataset is %s" % ("infinite" if self._cardinality == INFINITE else "unknown")
            )
        return self._cardinality

    def __repr__(self) -> str:
        n = {INFINITE: "infinite", UNKNOWN: "unknown"}.get(self._cardinality, self._cardinality)
        return "<fastembed.data.Dataset cardinality=%s>" % n

    def _derived(self, make_iterator, cardinality):
        return Dataset(make_iterator, cardinality)

    # -- transformations ---------------------------------------------------------------
    def batch(
        self, batch_size: int, drop_remainder: bool = False, num_parallel_calls: Any = None, deterministic: Any = None
    ) -> Dataset:
        """Consecutive elements stacked into batches of ``batch_size`` (the last one may
        be smaller unless ``drop_remainder``)."""
        return self._batched(batch_size, drop_remainder, _stack)

    def padded_batch(
        self,
        batch_size: int,
        padded_shapes: Any = None,
        padding_values: Any = None,
        drop_remainder: bool = False,
    ) -> Dataset:
        """Batches whose arrays are padded at the end to a common shape (tf.data's).

        ``padded_shapes`` (the same structure as an element) gives each component's shape:
        ``None`` or -1 for a dimension means the longest in the batch; by default every
        dimension is. ``padding_values`` (default 0, or "" for strings) fills the rest. An
        element longer than a fixed dimension is an error, as in tf.data.
        """
        return self._batched(batch_size, drop_remainder, lambda chunk: _pad_stack(chunk, padded_shapes, padding_values))

    def _batched(self, batch_size, drop_remainder, join):
        """Consecutive elements in lists of ``batch_size``, each made one batch by ``join``."""
        batch_size = _positive("batch_size", batch_size)

        def make():
            it = iter(self)
            while True:
                chunk = list(itertools.islice(it, batch_size))
                if not chunk or (drop_remainder and len(chunk) < batch_size):
                    return
                yield join(chunk)

        n = self._cardinality
        if n >= 0:
            n = n // batch_size if drop_remainder else -(-n // batch_size)
        return self._derived(make, n)

    def concatenate(self, dataset: Dataset) -> Dataset:
        """This dataset's elements, then ``dataset``'s."""
        if not isinstance(dataset, Dataset):
            raise TypeError("concatenate takes a fastembed.data.Dataset, got %s" % type(dataset).__name__)
        a, b = self._cardinality, dataset._cardinality
        n = INFINITE if INFINITE in (a, b) else (UNKNOWN if UNKNOWN in (a, b) else a + b)
        return self._derived(lambda: itertools.chain(self, dataset), n)

    def unbatch(self) -> Dataset:
        """The elements of every batch, one by one."""
        return self._derived(
            lambda: (e for b in self for e in _unstack(b)), UNKNOWN if self._cardinality != INFINITE else INFINITE
        )

    def map(self, map_func: Callable, num_parallel_calls: Any = None, deterministic: Any = None) -> Dataset:
        """``map_func`` applied to every element (a tuple element is passed unpacked, as
        in tf.data)."""
        if not callable(map_func):
            raise TypeError("map takes a function, got %s" % type(map_func).__name__)

        def apply(element):
            return _to_numpy(map_func(*element) if isinstance(element, tuple) else map_func(element))

        return self._derived(lambda: (apply(e) for e in self), self._cardinality)

    def filter(self, predicate: Callable) -> Dataset:
        """The elements for which ``predicate`` is true."""

        def keep(element):
            return bool(predicate(*element) if isinstance(element, tuple) else predicate(element))

        return self._derived(
            lambda: (e for e in self if keep(e)), INFINITE if self._cardinality == INFINITE else UNKNOWN
        )

    def shuffle(self, buffer_size: int, seed: int | None = None, reshuffle_each_iteration: bool = True) -> Dataset:
        """Elements in a random order, drawn from a buffer of ``buffer_size`` (tf.data's
        algorithm: a uniform pick from the buffer, refilled from the input). With a
        ``seed`` the orders are reproducible; each iteration draws a new one unless
        ``reshuffle_each_iteration=False``. Without one, the seed is drawn from fastembed's
        generator (as tf.data derives it from the global seed), so
        :func:`fastembed.set_random_seed` makes the orders repeatable too."""
        buffer_size = _positive("buffer_size", buffer_size)
        iterations = itertools.count()
        if seed is None:
            seed = int(_random.generator().integers(0, 2**63 - 1))
        base = np.random.SeedSequence(seed)

        def make():
            epoch = next(iterations) if reshuffle_each_iteration else 0
            rng = np.random.default_rng([base.entropy, epoch])
            it = iter(self)
            buffer = list(itertools.islice(it, buffer_size))
            for element in it:
                k = int(rng.integers(len(buffer)))
                yield buffer[k]
                buffer[k] = element
            order = rng.permutation(len(buffer))
            for k in order:
                yield buffer[k]

        return self._derived(make, self._cardinality)

    def take(self, count: int) -> Dataset:
        """The first ``count`` elements (all of them for ``count=-1``)."""
        count = int(count)
        if count < 0:
            return self
        n = self._cardinality
        return self._derived(
            lambda: itertools.islice(self, count), min(n, count) if n >= 0 else (count if n == INFINITE else UNKNOWN)
        )

    def skip(self, count: int) -> Dataset:
        """All but the first ``count`` elements."""
        count = max(0, int(count))
        n = self._cardinality
        return self._derived(lambda: itertools.islice(self, count, None), max(n - count, 0) if n >= 0 else n)

    def repeat(self, count: int | None = None) -> Dataset:
        """The dataset ``count`` times over (forever with None or -1)."""
        if count is None or count == -1:

            def forever():
                while True:
                    empty = True
                    for element in self:
                        empty = False
                        yield element
                    if empty:
                        return

            return self._derived(forever, INFINITE if self._cardinality != 0 else 0)
        count = max(0, int(count))
        n = self._cardinality
        return self._derived(lambda: (e for _ in range(count) for e in self), n * count if n >= 0 else n)

    def cache(self, filename: str = "") -> Dataset:
        """Keep the elements of the first complete iteration in memory; later iterations
        replay them without running the pipeline (``filename`` is not supported: the
        cache is in memory)."""
        if filename:
            raise NotImplementedError("Dataset.cache(filename) is not supported; cache() keeps elements in memory")
        stored = []
        complete = []

        def make():
            if complete:
                yield from stored
                return
            stored.clear()
            for element in self:
                stored.append(element)
                yield element
            complete.append(True)

        return self._derived(make, self._cardinality)

    def prefetch(self, buffer_size: int = AUTOTUNE) -> Dataset:
        """The same dataset (accepted for tf.data code; see the module docstring)."""
        return self._derived(self._make_iterator, self._cardinality)

    def enumerate(self, start: int = 0) -> Dataset:
        """``(index, element)`` pairs."""
        return self._derived(lambda: ((np.int64(i), e) for i, e in enumerate(self, start)), self._cardinality)

    @staticmethod
    def zip(*datasets: Dataset | tuple[Dataset, ...]) -> Dataset:
        """Tuples of the datasets' elements, as long as the shortest."""
        if len(datasets) == 1 and isinstance(datasets[0], tuple):
            datasets = datasets[0]
        lengths = [d.cardinality() for d in datasets]
        known = [n for n in lengths if n >= 0]
        n = min(known) if known else (INFINITE if all(n == INFINITE for n in lengths) else UNKNOWN)
        return Dataset(lambda: zip(*datasets), n)


def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError("%s must be a positive integer, got %r" % (name, value))
    return int(value)
