"""Forward kernels: the embedding gather and the fused gather + pooling ("embedding bag").

Every output row is produced by exactly one thread, in a fixed order, so results are
bitwise identical for any thread count. Inputs were validated by fastembed.ops: ids lie
in [0, num_rows), offsets are monotone and end at len(ids).
"""

from cython.parallel cimport prange
from libc.stdint cimport int64_t
from libc.string cimport memcpy, memset
from cython cimport floating

from fastembed._kernels._types cimport index_t, PoolMode, MODE_SUM, MODE_MEAN, MODE_MAX


def embedding_lookup(const floating[:, ::1] table, const index_t[::1] ids,
                     floating[:, ::1] out, int num_threads):
    """Gather ``out[i] = table[ids[i]]`` for every position ``i``."""
    cdef Py_ssize_t n = ids.shape[0], dim = table.shape[1], i
    cdef size_t row_bytes = dim * sizeof(floating)
    if n == 0 or dim == 0:
        return
    with nogil:
        for i in prange(n, schedule="static", num_threads=num_threads):
            memcpy(&out[i, 0], &table[ids[i], 0], row_bytes)


cdef inline Py_ssize_t _sum_bag(const floating* table, Py_ssize_t dim, const index_t* ids,
                                Py_ssize_t start, Py_ssize_t stop, int64_t padding_idx,
                                const floating* weights, floating* out) noexcept nogil:
    """Add the rows of one bag (optionally scaled by per-sample weights) into ``out``;
    return how many ids were not padding."""
    cdef Py_ssize_t j, d, n = 0
    cdef const floating* row
    cdef floating w
    for j in range(start, stop):
        if ids[j] == padding_idx:
            continue
        row = table + ids[j] * dim
        n += 1
        if weights != NULL:
            w = weights[j]
            for d in range(dim):
                out[d] += w * row[d]
        else:
            for d in range(dim):
                out[d] += row[d]
    return n


cdef inline void _max_bag(const floating* table, Py_ssize_t dim, const index_t* ids,
                          Py_ssize_t start, Py_ssize_t stop, int64_t padding_idx,
                          floating* out, int64_t* argpos) noexcept nogil:
    """Element-wise max over the rows of one bag; ``argpos`` (may be NULL) records the
    position of the first maximum, which is where the backward pass sends the gradient."""
    cdef Py_ssize_t j, d
    cdef bint first = True
    cdef const floating* row
    for j in range(start, stop):
        if ids[j] == padding_idx:
            continue
        row = table + ids[j] * dim
        if first:
            memcpy(out, row, dim * sizeof(floating))
            if argpos != NULL:
                for d in range(dim):
                    argpos[d] = j
            first = False
        elif argpos != NULL:
            for d in range(dim):
                # Strict comparison: ties keep the earliest position, as PyTorch does.
                if row[d] > out[d]:
                    out[d] = row[d]
                    argpos[d] = j
        else:
            for d in range(dim):
                if row[d] > out[d]:
                    out[d] = row[d]
    if first and argpos != NULL:
        # Empty or fully padded bag: output stays zero and no position receives gradient.
        for d in range(dim):
            argpos[d] = -1


def embedding_bag(const floating[:, ::1] table, const index_t[::1] ids, Py_ssize_t seq,
                  const int64_t[::1] offsets, int mode, int64_t padding_idx,
                  const floating[::1] per_sample_weights, floating[:, ::1] out,
                  int64_t[:, ::1] argpos, int num_threads):
    """Fused lookup and pooling of bags of ids into ``out`` (``(n_bags, dim)``).

    Parameters
    ----------
    table : (num_rows, dim) float array
    ids : 1-D int array
        Flat ids; bag ``b`` is ``ids[b*seq:(b+1)*seq]`` when ``seq > 0`` (padded 2-D input),
        else ``ids[offsets[b]:offsets[b+1]]``.
    seq : int
        Row length of padded input, or 0 when ``offsets`` describes the bags.
    offsets : int64 array or None
    mode : int
        MODE_SUM, MODE_MEAN or MODE_MAX.
    padding_idx : int
        Id skipped wherever it occurs; -1 for none.
    per_sample_weights : float array or None
        One weight per id (sum mode only).
    out : (n_bags, dim) float array, written
    argpos : (n_bags, dim) int64 array or None
        Max mode only: receives the position of each maximum (-1 for empty bags).
    num_threads : int
    """
    cdef Py_ssize_t n_bags = out.shape[0], dim = table.shape[1]
    cdef Py_ssize_t b, d, start, stop, count
    cdef const floating* table_ptr
    cdef const index_t* ids_ptr
    cdef const floating* weight_ptr = NULL
    cdef int64_t* argpos_ptr = NULL
    cdef floating* row
    if n_bags == 0 or dim == 0:
        return
    if ids.shape[0] == 0:
        out[:, :] = 0
        if argpos is not None:
            argpos[:, :] = -1
        return
    table_ptr = &table[0, 0]
    ids_ptr = &ids[0]
    if per_sample_weights is not None:
        weight_ptr = &per_sample_weights[0]
    if argpos is not None:
        argpos_ptr = &argpos[0, 0]
    with nogil:
        # Guided scheduling balances bags of very different lengths; which thread takes
        # a bag never changes its result.
        for b in prange(n_bags, schedule="guided", num_threads=num_threads):
            if seq > 0:
                start = b * seq
                stop = start + seq
            else:
                start = offsets[b]
                stop = offsets[b + 1]
            row = &out[b, 0]
            memset(row, 0, dim * sizeof(floating))
            if mode == MODE_MAX:
                _max_bag(table_ptr, dim, ids_ptr, start, stop, padding_idx, row,
                         argpos_ptr + b * dim if argpos_ptr != NULL else NULL)
            else:
                # Assigned inside the loop, so Cython makes `count` thread-private.
                count = _sum_bag(table_ptr, dim, ids_ptr, start, stop, padding_idx, weight_ptr, row)
                # An empty or fully padded bag keeps its zeros: no 0/0.
                if mode == MODE_MEAN and count > 1:
                    for d in range(dim):
                        row[d] = row[d] / count
