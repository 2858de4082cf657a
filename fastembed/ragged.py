"""Ragged: rows of different lengths, stored flat (the one ragged type of fastembed).

``TextVectorizer`` returns it for texts without ``output_sequence_length``; ``ops`` and
``Sequential`` take it as it is, so ragged token ids never go back into Python lists.
The layout is PyTorch ``embedding_bag``'s (``input`` + ``offsets``) and TensorFlow's
``RaggedTensor.from_row_splits`` (``values`` + ``row_splits``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator

import numpy as np

from ._validation import as_ids, as_offsets

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike


class Ragged:
    """Integer rows of different lengths: ``values[offsets[i]:offsets[i + 1]]`` is row i.

    Parameters
    ----------
    values : 1-D int array
        All rows, one after the other (int32 and int64 are kept as they are).
    offsets : 1-D int array of ``n_rows + 1`` entries
        Row boundaries: starting at 0, non-decreasing, ending at ``len(values)``.

    Examples
    --------
    >>> r = Ragged.from_rows([[3, 1, 4], [1], []])
    >>> len(r), r.row_lengths().tolist(), r[0].tolist()
    (3, [3, 1, 0], [3, 1, 4])
    """

    __slots__ = ("values", "offsets")

    def __init__(self, values: ArrayLike, offsets: ArrayLike) -> None:
        values = as_ids(values, "values")
        if values.ndim != 1:
            raise ValueError("Ragged values must be 1-D, got shape %s" % (values.shape,))
        self.values = values
        self.offsets = as_offsets(offsets, values.shape[0])

    @classmethod
    def _trusted(cls, values, offsets):
        """Wrap arrays a kernel or another Ragged produced (already valid)."""
        ragged = cls.__new__(cls)
        ragged.values, ragged.offsets = values, offsets
        return ragged

    @classmethod
    def from_rows(cls, rows: Iterable[ArrayLike], dtype: DTypeLike = None) -> Ragged:
        """Build from a sequence of integer sequences (lists or 1-D arrays).

        Parameters
        ----------
        rows : sequence of sequences of int
        dtype : int32 or int64, optional
            Defaults to the rows' common integer type (int64 for lists).
        """
        arrays = []
        for i, row in enumerate(rows):
            array = np.asarray(row)
            if array.ndim != 1:
                raise ValueError("row %d must be a 1-D sequence of ids, got shape %s" % (i, array.shape))
            if array.size and array.dtype.kind not in "iu":
                raise TypeError("row %d must hold integers, got %s" % (i, array.dtype))
            arrays.append(array)
        if dtype is None:
            # The rows' common integer type; empty rows (np.asarray([]) is float) do not vote.
            typed = [a.dtype for a in arrays if a.dtype.kind in "iu"]
            dtype = np.result_type(*typed) if typed else np.int64
        lengths = np.fromiter((a.shape[0] for a in arrays), dtype=np.int64, count=len(arrays))
        values = np.concatenate([a.astype(dtype, copy=False) for a in arrays]) if arrays else np.zeros(0, dtype)
        return cls.from_row_lengths(values, lengths)

    @classmethod
    def from_row_lengths(cls, values: ArrayLike, lengths: ArrayLike) -> Ragged:
        """Build from flat ``values`` and the length of every row."""
        lengths = np.asarray(lengths)
        if lengths.size == 0:
            lengths = lengths.astype(np.int64).reshape(-1)
        if lengths.ndim != 1 or lengths.dtype.kind not in "iu":
            raise ValueError("row lengths must be a 1-D integer array")
        if lengths.size and lengths.min() < 0:
            raise ValueError("row lengths must be >= 0")
        offsets = np.zeros(lengths.shape[0] + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return cls(values, offsets)

    @property
    def row_splits(self) -> np.ndarray:
        """ndarray: the offsets, under TensorFlow's name."""
        return self.offsets

    @property
    def dtype(self) -> np.dtype:
        """numpy dtype of the values."""
        return self.values.dtype

    def __len__(self) -> int:
        return self.offsets.shape[0] - 1

    def row_lengths(self) -> np.ndarray:
        """ndarray of int64: the length of every row."""
        return np.diff(self.offsets)

    def __getitem__(self, key: int | np.integer | slice | ArrayLike) -> np.ndarray | Ragged:
        """An int gives one row (a view); a slice or an index array gives a Ragged."""
        if isinstance(key, (int, np.integer)):
            n = len(self)
            i = int(key) + n if key < 0 else int(key)
            if not 0 <= i < n:
                raise IndexError("row %d is out of range for %d rows" % (key, n))
            return self.values[self.offsets[i] : self.offsets[i + 1]]
        if isinstance(key, (float, np.floating)):
            raise IndexError("rows are indexed by integers, got %r" % (key,))
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step == 1:
                stop = max(start, stop)
                offsets = self.offsets[start : stop + 1]
                return Ragged._trusted(self.values[offsets[0] : offsets[-1]], offsets - offsets[0])
            key = np.arange(start, stop, step)
        return self.take(key)

    def take(self, index: ArrayLike) -> Ragged:
        """The rows ``index`` (an int array), in that order, as a new Ragged."""
        index = np.asarray(index)
        n = len(self)
        if index.dtype.kind == "b":
            if index.shape != (n,):
                raise IndexError("a boolean mask must have one entry per row (%d), got shape %s" % (n, index.shape))
            index = np.flatnonzero(index)
        elif index.size and index.dtype.kind not in "iu":
            raise IndexError("rows are indexed by integers or a boolean mask, got %s" % index.dtype)
        index = index.astype(np.int64, copy=False).reshape(-1)
        if index.size and (index.min() < -n or index.max() >= n):
            raise IndexError("row index out of range for %d rows" % n)
        index = np.where(index < 0, index + n, index)
        starts = self.offsets[index]
        lengths = self.offsets[index + 1] - starts
        offsets = np.zeros(index.shape[0] + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        positions = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        return Ragged._trusted(self.values[positions], offsets)

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self.values[self.offsets[i] : self.offsets[i + 1]]

    def to_list(self) -> list[list[int]]:
        """list of lists of int (as ``tf.RaggedTensor.to_list``)."""
        return [row.tolist() for row in self]

    def to_padded(self, length: int | None = None, value: int = 0) -> np.ndarray:
        """A ``(n_rows, length)`` array, rows cut or padded at the end with ``value``.

        Parameters
        ----------
        length : int, optional
            Defaults to the longest row.
        value : int, default 0
        """
        lengths = self.row_lengths()
        if length is None:
            length = int(lengths.max()) if lengths.size else 0
        out = np.full((len(self), length), value, dtype=self.values.dtype)
        kept = np.minimum(lengths, length)
        rows = np.repeat(np.arange(len(self)), kept)
        cols = np.arange(int(kept.sum())) - np.repeat(np.cumsum(kept) - kept, kept)
        out[rows, cols] = self.values[np.repeat(self.offsets[:-1], kept) + cols]
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ragged):
            return NotImplemented
        return np.array_equal(self.offsets, other.offsets) and np.array_equal(self.values, other.values)

    __hash__ = None

    def __repr__(self) -> str:
        return "Ragged(n_rows=%d, n_values=%d, dtype=%s)" % (len(self), self.values.shape[0], self.values.dtype)
