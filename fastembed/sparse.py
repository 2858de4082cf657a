"""SparseRows: the gradient of an embedding table, one row per distinct id."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


class SparseRows:
    """Rows of a ``(num_rows, dim)`` matrix that are not all zero.

    Parameters
    ----------
    indices : (n,) int64 array
        Row numbers. Kernels produce them sorted and unique; use :meth:`coalesce` on
        hand-made ones that may repeat.
    values : (n, dim) float array
        The rows, ``values[i]`` being row ``indices[i]``.
    num_rows : int or None
        Height of the full matrix, when known.
    """

    __slots__ = ("indices", "values", "num_rows")

    def __init__(self, indices: ArrayLike, values: ArrayLike, num_rows: int | None = None) -> None:
        indices = np.asarray(indices)
        values = np.asarray(values)
        if indices.ndim != 1:
            raise ValueError("SparseRows indices must be 1-D, got shape %s" % (indices.shape,))
        if values.ndim != 2 or values.shape[0] != indices.shape[0]:
            raise ValueError(
                "SparseRows values must be 2-D with one row per index: got %d indices and "
                "values of shape %s" % (indices.shape[0], values.shape)
            )
        if indices.dtype.kind not in "iu":
            raise TypeError("SparseRows indices must be integers, got %s" % indices.dtype)
        self.indices = indices.astype(np.int64, copy=False)
        self.values = values
        self.num_rows = None if num_rows is None else int(num_rows)

    @property
    def dim(self) -> int:
        """int: Width of each row."""
        return self.values.shape[1]

    def __len__(self) -> int:
        return self.indices.shape[0]

    def __repr__(self) -> str:
        return "SparseRows(n_rows=%d, dim=%d, num_rows=%s, dtype=%s)" % (
            len(self),
            self.dim,
            self.num_rows,
            self.values.dtype,
        )

    def coalesce(self) -> SparseRows:
        """Return an equivalent SparseRows with sorted, unique indices (duplicates summed).

        Returns
        -------
        SparseRows
        """
        unique, inverse = np.unique(self.indices, return_inverse=True)
        values = np.zeros((unique.shape[0], self.dim), dtype=self.values.dtype)
        np.add.at(values, inverse, self.values)
        return SparseRows(unique, values, self.num_rows)

    def to_dense(self, num_rows: int | None = None) -> np.ndarray:
        """Return the full ``(num_rows, dim)`` matrix (zeros where no row is stored).

        Parameters
        ----------
        num_rows : int, optional
            Defaults to the ``num_rows`` given at construction.

        Returns
        -------
        ndarray
        """
        num_rows = self.num_rows if num_rows is None else int(num_rows)
        if num_rows is None:
            raise ValueError("to_dense() needs num_rows: this SparseRows does not know its height")
        dense = np.zeros((num_rows, self.dim), dtype=self.values.dtype)
        np.add.at(dense, self.indices, self.values)
        return dense
