"""Padding of variable-length id sequences (Keras ``pad_sequences``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike


def _check_side(value, what):
    if value not in ("pre", "post"):
        raise ValueError("%s must be 'pre' or 'post', got %r" % (what, value))


def pad_flat(
    flat: np.ndarray,
    lengths: ArrayLike,
    maxlen: int,
    padding: str = "post",
    truncating: str = "post",
    value: Any = 0,
    dtype: DTypeLike = np.int32,
) -> np.ndarray:
    """Pad or cut sequences stored back to back in ``flat`` into a ``(n, maxlen)`` array.

    Vectorised: one fancy-index assignment, no loop over rows.

    Parameters
    ----------
    flat : ndarray
        All sequences concatenated, shape ``(sum(lengths),) + sample_shape``.
    lengths : ndarray of int
        Length of each sequence.
    maxlen : int
    padding, truncating : {'pre', 'post'}
        Where to pad and which end to cut, as in Keras.
    value : scalar
        Fill value.
    dtype : dtype

    Returns
    -------
    ndarray of shape ``(len(lengths), maxlen) + sample_shape``
    """
    _check_side(padding, "padding")
    _check_side(truncating, "truncating")
    lengths = np.asarray(lengths, dtype=np.int64)
    out = np.full((lengths.size, maxlen) + flat.shape[1:], value, dtype=dtype)
    kept = np.minimum(lengths, maxlen)
    total = int(kept.sum())
    if total == 0:
        return out
    starts = np.zeros(lengths.size, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    # 'pre' truncation keeps the last `kept` items of each sequence.
    source_start = starts + (lengths - kept if truncating == "pre" else 0)
    target_start = maxlen - kept if padding == "pre" else np.zeros_like(kept)
    row = np.repeat(np.arange(lengths.size), kept)
    # Position of each kept item inside its own run: 0, 1, ..., kept-1 for every row.
    within = np.arange(total) - np.repeat(np.cumsum(kept) - kept, kept)
    out[row, np.repeat(target_start, kept) + within] = flat[np.repeat(source_start, kept) + within]
    return out


def pad_sequences(
    sequences: Sequence[ArrayLike],
    maxlen: int | None = None,
    dtype: DTypeLike = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: Any = 0,
) -> np.ndarray:
    """Pad a list of sequences to a 2-D array, with the semantics of Keras ``pad_sequences``.

    Parameters
    ----------
    sequences : sequence of sequences
        Each a list or array of ids (or of equally shaped items).
    maxlen : int, optional
        Length of the output rows; the longest sequence when None.
    dtype : str or dtype, default 'int32'
    padding : {'pre', 'post'}, default 'pre'
        Pad before or after each sequence.
    truncating : {'pre', 'post'}, default 'pre'
        Cut sequences longer than ``maxlen`` at the start ('pre') or the end ('post').
    value : scalar, default 0
        Padding value.

    Returns
    -------
    ndarray of shape ``(len(sequences), maxlen) + sample_shape``

    Raises
    ------
    ValueError
        ``sequences`` is not a sequence of sequences, items differ in shape, ``maxlen`` is
        negative, or ``padding`` / ``truncating`` is not 'pre' or 'post'.
    """
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise ValueError("sequences must be a list of sequences, got %s" % type(sequences).__name__)
    _check_side(padding, "padding")
    _check_side(truncating, "truncating")
    dtype = np.dtype(dtype)
    if isinstance(value, str) and dtype.kind not in "OUS":
        raise ValueError("value is the string %r but dtype %s is not a string type" % (value, dtype))
    arrays = []
    for position, sequence in enumerate(sequences):
        if isinstance(sequence, (str, bytes)) and dtype.kind not in "OUS" or not hasattr(sequence, "__len__"):
            raise ValueError("sequences[%d] is not a sequence: %r" % (position, sequence))
        arrays.append(np.asarray(sequence, dtype=dtype) if len(sequence) else None)
    # As Keras: the item shape comes from the first non-empty sequence.
    sample_shape = next((a.shape[1:] for a in arrays if a is not None), ())
    for position, array in enumerate(arrays):
        if array is not None and array.shape[1:] != sample_shape:
            raise ValueError(
                "sequences[%d] has items of shape %s, expected %s (from the first non-empty sequence)"
                % (position, array.shape[1:], sample_shape)
            )
    lengths = np.array([0 if a is None else len(a) for a in arrays], dtype=np.int64)
    if maxlen is None:
        maxlen = int(lengths.max()) if lengths.size else 0
    elif int(maxlen) != maxlen or maxlen < 0:
        raise ValueError("maxlen must be a non-negative integer or None, got %r" % (maxlen,))
    present = [a for a in arrays if a is not None]
    flat = np.concatenate(present) if present else np.zeros((0,) + sample_shape, dtype=dtype)
    return pad_flat(flat, lengths, int(maxlen), padding, truncating, value, dtype)
