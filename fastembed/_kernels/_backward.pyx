"""Backward kernels: the gradient of lookup / embedding-bag w.r.t. the table, as sparse rows.

Deterministic by construction, without atomics:

1. gather the non-padding entries of every bag (parallel over bags);
2. stable LSD radix sort of the entries by id (parallel over chunks; a stable sort has a
   single answer, so the chunking, hence the thread count, cannot change it);
3. find the segments of equal ids;
4. sum each segment in entry order (parallel over distinct ids: one thread per row).

Nothing is allocated in proportion to the vocabulary: the sort only needs as many radix
digits as the largest id has bits.
"""

from cython.parallel cimport prange, threadid
from libc.stdint cimport int64_t
from libc.string cimport memset
from cython cimport floating

import numpy as np

from fastembed._kernels._types cimport (index_t, MODE_SUM, MODE_MEAN, MODE_MAX,
                                       UPDATE_PREFETCH_DISTANCE, bag_start, bag_stop)
from fastembed._kernels._optim cimport (OptimConfig, StatePointers, make_config,
                                        prefetch_update, state_pointers, update_row)

cdef enum:
    MAX_DIGIT_BITS = 11       # 2048 buckets per pass: the histograms stay in L1
    MIN_SORT_CHUNK = 8192     # entries per chunk below which extra threads do not pay


cdef inline Py_ssize_t _chunks_for(Py_ssize_t n, int num_threads) noexcept nogil:
    cdef Py_ssize_t chunks = n // MIN_SORT_CHUNK
    if chunks > num_threads:
        chunks = num_threads
    return chunks if chunks > 1 else 1


cdef void _radix_pass(const int64_t* keys_in, const int64_t* vals_in,
                      int64_t* keys_out, int64_t* vals_out, Py_ssize_t n,
                      int shift, int64_t mask, Py_ssize_t chunks, Py_ssize_t* hist,
                      int num_threads) noexcept nogil:
    """One stable counting-sort pass on the digit ``(key >> shift) & mask``.

    Chunk ``c`` owns ``hist[c*radix:(c+1)*radix]``; offsets are laid out digit-major,
    chunk-minor, which keeps equal digits in input order (stability).
    """
    cdef Py_ssize_t radix = mask + 1
    cdef Py_ssize_t c, i, lo, hi, digit, total, count, dst
    cdef Py_ssize_t* h
    for c in prange(chunks, schedule="static", num_threads=num_threads):
        h = hist + c * radix
        memset(h, 0, radix * sizeof(Py_ssize_t))
        lo = c * n // chunks
        hi = (c + 1) * n // chunks
        for i in range(lo, hi):
            h[(keys_in[i] >> shift) & mask] += 1
    total = 0
    for digit in range(radix):
        for c in range(chunks):
            count = hist[c * radix + digit]
            hist[c * radix + digit] = total
            total += count
    for c in prange(chunks, schedule="static", num_threads=num_threads):
        h = hist + c * radix
        lo = c * n // chunks
        hi = (c + 1) * n // chunks
        for i in range(lo, hi):
            digit = (keys_in[i] >> shift) & mask
            dst = h[digit]
            h[digit] = dst + 1
            keys_out[dst] = keys_in[i]
            vals_out[dst] = vals_in[i]


def group_by_id(const index_t[::1] ids, Py_ssize_t n_bags, Py_ssize_t seq,
                const int64_t[::1] offsets, int64_t padding_idx, int64_t upper,
                bint need_positions, int num_threads):
    """Group the non-padding entries of every bag by id.

    Parameters
    ----------
    ids : 1-D int array
    n_bags, seq, offsets :
        Bag ``b`` is ``ids[b*seq:(b+1)*seq]`` when ``seq > 0``, else
        ``ids[offsets[b]:offsets[b+1]]``.
    padding_idx : int
        Id to leave out (-1 for none).
    upper : int
        Valid ids are ``0 <= id < upper`` (the table height, or 2**63-1 when unknown).
    need_positions : bool
        Also return each entry's position in ``ids`` (per-sample weights, max mode).

    Returns
    -------
    n_invalid : int
        Ids outside ``[0, upper)``, found while counting. When not 0 nothing else is
        computed and ``grouping`` is None: the caller raises.
    grouping : tuple
        ``(unique_ids, segments, order, entry_bag, entry_pos, bag_count)``:

    unique_ids : (u,) int64, sorted
    segments : (u + 1,) int64
        Entries of ``unique_ids[s]`` are ``order[segments[s]:segments[s+1]]``.
    order : (m,) int64
        Entry numbers sorted by id; within one id, in input order.
    entry_bag : (m,) int64
        The bag of each entry.
    entry_pos : (m,) int64 or None
        The position in ``ids`` of each entry.
    bag_count : (n_bags,) int64
        Non-padding entries per bag.
    """
    cdef Py_ssize_t b, j, k, c, lo, hi, start, stop, m, u, chunks, radix, bad, n_invalid = 0
    cdef int64_t value, largest, max_id = 0
    cdef int64_t[::1] bag_count = np.empty(n_bags, dtype=np.int64)
    cdef int64_t[::1] entry_start = np.empty(n_bags + 1, dtype=np.int64)
    cdef int64_t[::1] bag_max = np.empty(n_bags, dtype=np.int64)
    cdef const int64_t* offsets_ptr = &offsets[0] if offsets is not None else NULL

    # 1. Count the non-padding entries of every bag, checking ids as they are read
    #    (parallel over bags), then lay the bags out one after the other.
    with nogil:
        for b in prange(n_bags, schedule="guided", num_threads=num_threads):
            start = bag_start(b, seq, offsets_ptr)
            stop = bag_stop(b, seq, offsets_ptr)
            k = 0
            bad = 0
            largest = 0
            for j in range(start, stop):
                value = ids[j]
                # Range first: the "no padding" sentinel is -1, which must not hide an id of -1.
                if value < 0 or value >= upper:
                    bad = bad + 1
                    continue
                if value == padding_idx:
                    continue
                k = k + 1
                if value > largest:
                    largest = value
            bag_count[b] = k
            bag_max[b] = largest
            n_invalid += bad  # a prange reduction
        m = 0
        for b in range(n_bags):
            entry_start[b] = m
            m = m + bag_count[b]
            if bag_max[b] > max_id:
                max_id = bag_max[b]
        entry_start[n_bags] = m
    if n_invalid:
        return n_invalid, None

    keys_np = np.empty(m, dtype=np.int64)
    order_np = np.empty(m, dtype=np.int64)
    entry_bag_np = np.empty(m, dtype=np.int64)
    entry_pos_np = np.empty(m if need_positions else 0, dtype=np.int64)
    cdef int64_t[::1] keys = keys_np
    cdef int64_t[::1] order = order_np
    cdef int64_t[::1] entry_bag = entry_bag_np
    cdef int64_t[::1] entry_pos = entry_pos_np
    cdef int64_t* pos_ptr = &entry_pos[0] if need_positions and m > 0 else NULL

    with nogil:
        for b in prange(n_bags, schedule="guided", num_threads=num_threads):
            start = bag_start(b, seq, offsets_ptr)
            stop = bag_stop(b, seq, offsets_ptr)
            k = entry_start[b]
            for j in range(start, stop):
                if ids[j] != padding_idx:
                    keys[k] = ids[j]
                    order[k] = k
                    entry_bag[k] = b
                    if pos_ptr != NULL:
                        pos_ptr[k] = j
                    k = k + 1

    # 2. Stable radix sort of (id, entry number), as few passes as the largest id needs.
    cdef int n_bits = 1
    while n_bits < 63 and (max_id >> n_bits) > 0:
        n_bits += 1
    cdef int passes = (n_bits + MAX_DIGIT_BITS - 1) // MAX_DIGIT_BITS
    cdef int digit_bits = (n_bits + passes - 1) // passes
    cdef int p
    chunks = _chunks_for(m, num_threads)
    radix = (<Py_ssize_t> 1) << digit_bits
    cdef Py_ssize_t[::1] hist = np.empty(chunks * radix, dtype=np.intp)
    keys_tmp_np = np.empty(m, dtype=np.int64)
    order_tmp_np = np.empty(m, dtype=np.int64)
    cdef int64_t[::1] keys_tmp = keys_tmp_np
    cdef int64_t[::1] order_tmp = order_tmp_np
    cdef int64_t* src_keys
    cdef int64_t* src_vals
    cdef int64_t* dst_keys
    cdef int64_t* dst_vals
    cdef int64_t* swap
    if m > 0:
        src_keys, src_vals = &keys[0], &order[0]
        dst_keys, dst_vals = &keys_tmp[0], &order_tmp[0]
        with nogil:
            for p in range(passes):
                _radix_pass(src_keys, src_vals, dst_keys, dst_vals, m, p * digit_bits,
                            (<int64_t> 1 << digit_bits) - 1, chunks, &hist[0], num_threads)
                swap = src_keys; src_keys = dst_keys; dst_keys = swap
                swap = src_vals; src_vals = dst_vals; dst_vals = swap
        if passes % 2 == 1:
            keys_np, order_np = keys_tmp_np, order_tmp_np
            keys, order = keys_tmp, order_tmp

    # 3. Segments of equal ids: count segment starts per chunk, then write them.
    cdef int64_t[::1] chunk_starts = np.zeros(chunks + 1, dtype=np.int64)
    with nogil:
        for c in prange(chunks, schedule="static", num_threads=num_threads):
            lo = c * m // chunks
            hi = (c + 1) * m // chunks
            k = 0
            for j in range(lo, hi):
                if j == 0 or keys[j] != keys[j - 1]:
                    k = k + 1
            chunk_starts[c + 1] = k
        for c in range(chunks):
            chunk_starts[c + 1] += chunk_starts[c]
    u = chunk_starts[chunks]
    unique_np = np.empty(u, dtype=np.int64)
    segments_np = np.empty(u + 1, dtype=np.int64)
    cdef int64_t[::1] unique_ids = unique_np
    cdef int64_t[::1] segments = segments_np
    with nogil:
        for c in prange(chunks, schedule="static", num_threads=num_threads):
            lo = c * m // chunks
            hi = (c + 1) * m // chunks
            k = chunk_starts[c]
            for j in range(lo, hi):
                if j == 0 or keys[j] != keys[j - 1]:
                    unique_ids[k] = keys[j]
                    segments[k] = j
                    k = k + 1
        segments[u] = m
    return 0, (unique_np, segments_np, order_np, entry_bag_np,
               entry_pos_np if need_positions else None, np.asarray(bag_count))


cdef struct SegmentPlan:
    # Everything _segment_row reads, as raw pointers into arrays kept alive by the caller
    # (the grouping tuple and the bag_scale array). Floating-point arrays are void*
    # because a struct cannot hold fused types.
    const int64_t* segments        # (u + 1,) segment boundaries in `order`
    const int64_t* order           # entry numbers sorted by id
    const int64_t* entry_bag       # bag of each entry
    const int64_t* entry_pos       # position in ids of each entry, or NULL
    const void* bag_scale          # (n_bags,) floating: 1/count (mean) or 1
    const void* sample_weights     # (n_ids,) floating per-sample weights, or NULL
    const int64_t* argpos          # (n_bags, dim) max positions, or NULL
    int mode


cdef inline const int64_t* _int64_data(object array) except? NULL:
    return <const int64_t*> <size_t> array.ctypes.data if array is not None and array.size else NULL


cdef SegmentPlan _make_plan(tuple grouping, int mode, const void* sample_weights,
                            const int64_t* argpos, object bag_scale) except *:
    """Pointers for :func:`_segment_row`; ``bag_scale`` (from :func:`_bag_scale`) must
    outlive the plan."""
    _, segments, order, entry_bag, entry_pos, _ = grouping
    cdef SegmentPlan plan
    plan.segments = _int64_data(segments)
    plan.order = _int64_data(order)
    plan.entry_bag = _int64_data(entry_bag)
    plan.entry_pos = _int64_data(entry_pos)
    plan.bag_scale = <const void*> <size_t> bag_scale.ctypes.data if bag_scale.size else NULL
    plan.sample_weights = sample_weights
    plan.argpos = argpos
    plan.mode = mode
    return plan


cdef inline void _segment_row(floating* acc, Py_ssize_t dim, const floating* grad,
                              Py_ssize_t s, const SegmentPlan* plan) noexcept nogil:
    """Sum the gradient contributions of the entries of segment ``s`` (one id) into
    ``acc``, in entry order, so the floating-point result never depends on scheduling."""
    cdef Py_ssize_t k, d
    cdef int64_t e, b, pos
    cdef const floating* g
    cdef const int64_t* arg
    cdef const floating* bag_scale = <const floating*> plan.bag_scale
    cdef const floating* sample_weights = <const floating*> plan.sample_weights
    cdef floating scale
    memset(acc, 0, dim * sizeof(floating))
    for k in range(plan.segments[s], plan.segments[s + 1]):
        e = plan.order[k]
        b = plan.entry_bag[e]
        g = grad + b * dim
        if plan.mode == MODE_MAX:
            # Only the dimensions where this entry was the bag's maximum get gradient.
            pos = plan.entry_pos[e]
            arg = plan.argpos + b * dim
            for d in range(dim):
                if arg[d] == pos:
                    acc[d] += g[d]
        else:
            if sample_weights != NULL:
                scale = sample_weights[plan.entry_pos[e]]
            else:
                scale = bag_scale[b]
            for d in range(dim):
                acc[d] += scale * g[d]


cdef object _bag_scale(object bag_count, int mode, object dtype):
    """Per-bag factor of the gradient: 1/count for mean (0 for empty bags), else 1."""
    if mode == MODE_MEAN:
        count = np.asarray(bag_count)
        scale = np.zeros(count.shape[0], dtype=dtype)
        np.divide(1, count, out=scale, where=count > 0)
        return scale
    return np.ones(len(bag_count), dtype=dtype)


def sparse_grad(const floating[:, ::1] grad, tuple grouping, int mode,
                const floating[::1] per_sample_weights, const int64_t[:, ::1] argpos,
                int num_threads):
    """Sum gradient rows per distinct id.

    Parameters
    ----------
    grad : (n_bags, dim) float array
        Gradient of the loss w.r.t. the pooled output (or, for lookup, each gathered row).
    grouping : tuple
        The grouping :func:`group_by_id` returned.
    mode : int
    per_sample_weights : float array or None
    argpos : (n_bags, dim) int64 or None
        Max mode: positions of the maxima from the forward kernel.

    Returns
    -------
    indices : (u,) int64
    values : (u, dim) float array
    """
    unique_np, bag_count = grouping[0], grouping[5]
    cdef Py_ssize_t u = unique_np.shape[0], dim = grad.shape[1], s
    dtype = np.float32 if floating is float else np.float64
    values_np = np.empty((u, dim), dtype=dtype)
    if u == 0 or dim == 0:
        return unique_np, values_np
    cdef floating[:, ::1] values = values_np
    bag_scale = _bag_scale(bag_count, mode, dtype)
    cdef SegmentPlan plan = _make_plan(
        grouping, mode,
        &per_sample_weights[0] if per_sample_weights is not None and per_sample_weights.shape[0] else NULL,
        &argpos[0, 0] if argpos is not None and argpos.shape[0] else NULL, bag_scale)
    with nogil:
        # Dynamic scheduling: Zipf-distributed ids make a few segments very long.
        for s in prange(u, schedule="dynamic", chunksize=16, num_threads=num_threads):
            _segment_row(&values[s, 0], dim, &grad[0, 0], s, &plan)
    return unique_np, values_np


def sparse_grad_update(floating[:, ::1] table, const floating[:, ::1] grad, tuple grouping,
                       int mode, const floating[::1] per_sample_weights,
                       const int64_t[:, ::1] argpos, object state1, object state2,
                       object row_state, dict params, int num_threads):
    """Fused backward + optimizer step: each distinct row's gradient is summed into a
    thread-local buffer and applied at once, never materialising the sparse gradient.

    Arguments as for :func:`sparse_grad`, plus the table to update and the optimizer's
    state arrays and hyper-parameters (see ``fastembed._kernels._optim.sparse_update``).
    Returns the number of rows updated.
    """
    unique_np, bag_count = grouping[0], grouping[5]
    cdef const int64_t[::1] unique_ids = unique_np
    cdef Py_ssize_t u = unique_np.shape[0], dim = grad.shape[1], s
    cdef int64_t row
    cdef int tid
    if u == 0 or dim == 0:
        return 0
    dtype = np.float32 if floating is float else np.float64
    cdef OptimConfig cfg = make_config(params)
    cdef StatePointers state = state_pointers(state1, state2, row_state)
    cdef floating* s1 = <floating*> state.s1
    cdef floating* s2 = <floating*> state.s2
    cdef floating* rs = <floating*> state.row_state
    cdef floating[:, ::1] scratch = np.empty((max(num_threads, 1), dim), dtype=dtype)
    bag_scale = _bag_scale(bag_count, mode, dtype)
    cdef SegmentPlan plan = _make_plan(
        grouping, mode,
        &per_sample_weights[0] if per_sample_weights is not None and per_sample_weights.shape[0] else NULL,
        &argpos[0, 0] if argpos is not None and argpos.shape[0] else NULL, bag_scale)
    with nogil:
        for s in prange(u, schedule="dynamic", chunksize=16, num_threads=num_threads):
            tid = threadid()
            if s + UPDATE_PREFETCH_DISTANCE < u:
                prefetch_update(&table[0, 0], s1, s2, unique_ids[s + UPDATE_PREFETCH_DISTANCE], dim)
            row = unique_ids[s]
            _segment_row(&scratch[tid, 0], dim, &grad[0, 0], s, &plan)
            update_row(&table[row, 0], &scratch[tid, 0],
                       s1 + row * dim if s1 != NULL else NULL,
                       s2 + row * dim if s2 != NULL else NULL,
                       rs + row if rs != NULL else NULL,
                       dim, &cfg)
    return u
