"""Forward kernels: the embedding gather and the fused gather + pooling ("embedding bag").

Every output row is produced by exactly one thread, in a fixed order, so results are
bitwise identical for any thread count. fastembed.ops validated shapes, dtypes and
offsets; the id range is checked here, in the same pass that reads the ids, and an
out-of-range id is skipped (never dereferenced) and counted so the caller can raise.
"""

from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t
from libc.string cimport memcpy, memset
from cython cimport floating

from fastembed._kernels._types cimport (index_t, MODE_MEAN, MODE_MAX,
                                       GATHER_PREFETCH_DISTANCE, bag_start, bag_stop,
                                       prefetch_row)
from fastembed._kernels._bag cimport fused_bag_sum_enabled, max_bag, set_bag_simd, sum_bag


def embedding_lookup(const floating[:, ::1] table, const index_t[::1] ids,
                     floating[:, ::1] out, int num_threads):
    """Gather ``out[i] = table[ids[i]]`` for every position ``i``.

    Returns the number of ids outside ``[0, num_rows)``: those are skipped (their output
    rows are left unwritten) and the caller raises.
    """
    cdef Py_ssize_t n = ids.shape[0], dim = table.shape[1], num_rows = table.shape[0], i
    cdef Py_ssize_t n_invalid = 0
    cdef index_t row_id
    cdef size_t row_bytes = dim * sizeof(floating)
    if n == 0:
        return 0
    with nogil:
        for i in prange(n, schedule="static", num_threads=num_threads):
            if i + GATHER_PREFETCH_DISTANCE < n and dim > 0:
                row_id = ids[i + GATHER_PREFETCH_DISTANCE]
                if 0 <= row_id < num_rows:
                    prefetch_row(&table[row_id, 0], row_bytes)
            row_id = ids[i]
            if row_id < 0 or row_id >= num_rows:
                n_invalid += 1  # a prange reduction
            elif dim > 0:
                memcpy(&out[i, 0], &table[row_id, 0], row_bytes)
    return n_invalid


def set_fused_bag_sum(bint enabled):
    """Allow (True, the default) or forbid the fused AVX2 bag sum of _bagsum.h; the tests
    and benchmarks use this to compare it with the generic path. Returns the old setting."""
    old = fused_bag_sum_enabled()
    set_bag_simd(-1, 1 if enabled else 0)
    return old


def set_rowsum_simd(bint avx2):
    """Use the AVX2 row sum (True) or the portable one. Called once by fastembed._kernels
    at import, before any kernel runs; returns whether AVX2 is now in use."""
    return set_bag_simd(1 if avx2 else 0, -1)


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

    Returns
    -------
    int
        How many ids lie outside ``[0, num_rows)``. They are skipped, never read, and the
        caller raises when this is not 0.
    """
    cdef Py_ssize_t n_bags = out.shape[0], dim = table.shape[1], n_ids = ids.shape[0]
    cdef Py_ssize_t num_rows = table.shape[0]
    cdef Py_ssize_t b, d, start, stop, count, bag_invalid, n_invalid = 0
    cdef const floating* table_ptr
    cdef const index_t* ids_ptr
    cdef const floating* weight_ptr = NULL
    cdef const int64_t* offsets_ptr = NULL
    cdef int64_t* argpos_ptr = NULL
    cdef floating* row
    if n_bags == 0 or dim == 0:
        return 0
    if ids.shape[0] == 0:
        out[:, :] = 0
        if argpos is not None:
            argpos[:, :] = -1
        return 0
    table_ptr = &table[0, 0]
    ids_ptr = &ids[0]
    if offsets is not None:
        offsets_ptr = &offsets[0]
    if per_sample_weights is not None:
        weight_ptr = &per_sample_weights[0]
    if argpos is not None:
        argpos_ptr = &argpos[0, 0]
    with nogil:
        # Guided scheduling balances bags of very different lengths; which thread takes
        # a bag never changes its result.
        for b in prange(n_bags, schedule="guided", num_threads=num_threads):
            start = bag_start(b, seq, offsets_ptr)
            stop = bag_stop(b, seq, offsets_ptr)
            row = &out[b, 0]
            memset(row, 0, dim * sizeof(floating))
            bag_invalid = 0
            if mode == MODE_MAX:
                max_bag(table_ptr, dim, num_rows, ids_ptr, start, stop, n_ids, padding_idx, row,
                         argpos_ptr + b * dim if argpos_ptr != NULL else NULL, &bag_invalid)
            else:
                # Assigned inside the loop, so Cython makes `count` thread-private.
                count = sum_bag(table_ptr, dim, num_rows, ids_ptr, start, stop, n_ids,
                                 padding_idx, weight_ptr, row, &bag_invalid)
                # An empty or fully padded bag keeps its zeros: no 0/0.
                if mode == MODE_MEAN and count > 1:
                    for d in range(dim):
                        row[d] = row[d] / count
            n_invalid += bag_invalid  # a prange reduction
    return n_invalid
