"""Row-sparse synchronisation of model replicas (pure NumPy, no Dask).

Every weight array is seen as rows: an embedding table's rows are its rows, a dense
kernel's rows are its input rows, and a bias or a scalar is one row. At a sync each
replica sends the rows it changed since the last sync, as row ids and the rows' new
values (the same bytes as deltas, and exact when one replica alone changed a row). The
new global row is the mean of the values the replicas that changed it sent: every
replica started the round from the same global row, so this is the global row plus the
mean of their deltas. Rows nobody changed cost nothing. The driver sends the combined
rows back, and every replica then holds the same weights again.

The mean is taken in float64 in replica order, so a seed and a partitioning give
bitwise-identical weights whatever the placement of replicas on workers.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np

# Rows compared at a time: the comparison's temporary stays this size, never the table's.
ROW_BLOCK = 4096

# (selector, rows): the rows (k, width) and which rows they are. The selector is the
# cheapest of: None (every row), row ids (int32, 4 bytes a row), or a bitmask
# (``np.packbits``, uint8, one bit a row of the array).
RowUpdate = Tuple[Optional[np.ndarray], np.ndarray]


def as_rows(array: np.ndarray) -> np.ndarray:
    """``array`` as a 2-D view ``(rows, width)``: a scalar or a vector is one row."""
    if array.ndim < 2:
        return array.reshape(1, -1)
    return array.reshape(array.shape[0], -1)


def changed_rows(current: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Ids of the rows of ``current`` that differ from ``base`` (a NaN counts as changed)."""
    now, before = as_rows(current), as_rows(base)
    found = [
        np.flatnonzero((now[start : start + ROW_BLOCK] != before[start : start + ROW_BLOCK]).any(axis=1)) + start
        for start in range(0, now.shape[0], ROW_BLOCK)
    ]
    ids = np.concatenate(found) if found else np.empty(0, np.int64)
    return ids.astype(np.int32 if now.shape[0] < 2**31 else np.int64)


def _packed(ids: np.ndarray, n_rows: int, rows: np.ndarray) -> RowUpdate:
    """``rows`` (the rows ``ids`` of an array of ``n_rows``) with the cheapest selector."""
    if ids.size == n_rows:
        return None, rows
    if ids.size * ids.itemsize <= (n_rows + 7) // 8:
        return ids, rows
    mask = np.zeros(n_rows, np.bool_)
    mask[ids] = True
    return np.packbits(mask), rows


def row_ids(update: RowUpdate, n_rows: int) -> np.ndarray:
    """The ids of the rows an update carries, sorted."""
    selector, _ = update
    if selector is None:
        return np.arange(n_rows, dtype=np.int64)
    if selector.dtype == np.uint8:
        return np.flatnonzero(np.unpackbits(selector, count=n_rows))
    return selector


def changes(currents: Sequence[np.ndarray], bases: Sequence[np.ndarray]) -> List[RowUpdate]:
    """What a replica sends: for each array, the rows it changed (see :data:`RowUpdate`)."""
    sent = []
    for current, base in zip(currents, bases):
        ids = changed_rows(current, base)
        rows = as_rows(current)
        sent.append(_packed(ids, rows.shape[0], rows[ids]))
    return sent


def combine(bases: Sequence[np.ndarray], sent_by_replica: Sequence[Sequence[RowUpdate]]) -> List[RowUpdate]:
    """The new global rows: each changed row is the mean of the values sent for it.

    Parameters
    ----------
    bases : the global arrays before the round (only their shapes and dtypes are read).
    sent_by_replica : one :func:`changes` list per replica, in replica order.

    Returns
    -------
    For each array, ``(ids, rows)``: the sorted ids any replica changed, and their rows.
    """
    combined = []
    for a, base in enumerate(bases):
        n_rows, width = as_rows(base).shape
        parts = [(row_ids(sent[a], n_rows), sent[a][1]) for sent in sent_by_replica]
        ids = np.unique(np.concatenate([part[0] for part in parts])) if parts else np.empty(0, np.int32)
        sums = np.zeros((ids.size, width), np.float64)
        counts = np.zeros(ids.size, np.int64)
        for part_ids, rows in parts:
            where = np.searchsorted(ids, part_ids)  # ids are unique within one replica's part
            sums[where] += rows
            counts[where] += 1
        rows = (sums / np.maximum(counts, 1)[:, None]).astype(base.dtype)
        combined.append(_packed(ids.astype(np.int32 if n_rows < 2**31 else np.int64), n_rows, rows))
    return combined


def apply(arrays: Sequence[np.ndarray], update: Sequence[RowUpdate]) -> None:
    """Write an update's rows into ``arrays``, in place."""
    for array, (selector, rows) in zip(arrays, update):
        if rows.shape[0]:
            view = as_rows(array)
            if not np.shares_memory(view, array):  # a reshaped copy would drop the write
                raise ValueError("a weight array is not contiguous: it cannot be updated in place")
            if selector is None:
                view[...] = rows
            else:
                view[row_ids((selector, rows), view.shape[0])] = rows


def update_bytes(update: Sequence[RowUpdate]) -> int:
    """Bytes an update puts on the wire (ids and rows; message framing not counted)."""
    return int(sum((0 if selector is None else selector.nbytes) + rows.nbytes for selector, rows in update))


def update_rows(update: Sequence[RowUpdate]) -> int:
    """Rows an update carries."""
    return int(sum(rows.shape[0] for _, rows in update))
