"""Random inputs for the kernel tests (duplicates, padding, empty bags on purpose)."""

import numpy as np


def tolerance(dtype):
    """rtol/atol that separate summation-order noise from real errors."""
    return dict(rtol=2e-5, atol=2e-5) if np.dtype(dtype) == np.float32 else dict(rtol=1e-12, atol=1e-12)


def random_table(rng, num_rows, dim, dtype):
    return rng.standard_normal((num_rows, dim)).astype(dtype)


def random_padded_ids(rng, batch, seq, num_rows, id_dtype, padding_idx=0, duplicates=True):
    """(batch, seq) ids with ragged real lengths, padding after, some empty rows."""
    high = max(2, num_rows // 4) if duplicates else num_rows  # a small range forces repeats
    ids = rng.integers(0, min(high, num_rows), size=(batch, seq)).astype(id_dtype)
    lengths = rng.integers(0, seq + 1, size=batch)
    if batch > 1:
        lengths[0] = 0  # an empty bag
        lengths[-1] = seq  # a full one
    for b, n in enumerate(lengths):
        ids[b, n:] = padding_idx
    return ids


def random_ragged(rng, n_bags, max_len, num_rows, id_dtype):
    """Flat ids with offsets, including empty bags."""
    lengths = rng.integers(0, max_len + 1, size=n_bags)
    if n_bags > 1:
        lengths[0] = 0
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = rng.integers(0, num_rows, size=int(offsets[-1])).astype(id_dtype)
    return flat, offsets
