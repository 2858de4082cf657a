"""Backward kernels: the gradient of lookup / embedding-bag w.r.t. the table, as sparse rows.

Deterministic by construction, without atomics: entries are grouped by id with a stable
radix sort and each id's gradient is summed in entry order by one thread (_grouping.pxd).

Nothing is allocated in proportion to the vocabulary: the sort only needs as many radix
digits as the largest id has bits.
"""

from cython.parallel cimport prange, threadid
from libc.stdint cimport int64_t
from cython cimport floating

import numpy as np

from fastembed._kernels._types cimport index_t, MODE_MEAN, UPDATE_PREFETCH_DISTANCE
from fastembed._kernels._grouping cimport (GroupBuffers, MAX_RADIX, SegmentPlan, group_entries,
                                           segment_row)
from fastembed._kernels._optim cimport (OptimConfig, StatePointers, make_config,
                                        prefetch_update, state_pointers, update_row)


def group_by_id(const index_t[::1] ids, Py_ssize_t n_bags, Py_ssize_t seq,
                const int64_t[::1] offsets, int64_t padding_idx, int64_t upper,
                bint need_positions, int num_threads):
    """Group the non-padding entries of every bag by id (see _grouping.pxd).

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
    cdef Py_ssize_t n_ids = ids.shape[0]
    if seq > 0:
        starts_np = np.arange(n_bags, dtype=np.int64) * seq
        stops_np = starts_np + seq
    elif n_bags:
        starts_np = np.asarray(offsets[:n_bags])
        stops_np = np.asarray(offsets[1:n_bags + 1])
    else:
        starts_np = stops_np = np.zeros(0, dtype=np.int64)
    cdef const int64_t[::1] starts = np.ascontiguousarray(starts_np, dtype=np.int64)
    cdef const int64_t[::1] stops = np.ascontiguousarray(stops_np, dtype=np.int64)
    # There are at most n_ids entries: every buffer is sized for that before counting.
    cdef Py_ssize_t cap = max(n_ids, 1), max_chunks = max(num_threads, 1)
    per_bag = np.empty((3, n_bags + 1), dtype=np.int64)
    per_entry = np.empty((7 if need_positions else 6, cap), dtype=np.int64)
    cdef int64_t[:, ::1] bag_arrays = per_bag
    cdef int64_t[:, ::1] entry_arrays = per_entry
    segments_np = np.empty(cap + 1, dtype=np.int64)
    cdef int64_t[::1] segments = segments_np
    cdef Py_ssize_t[::1] hist = np.empty(max_chunks * MAX_RADIX, dtype=np.intp)
    cdef int64_t[::1] chunk_starts = np.empty(max_chunks + 1, dtype=np.int64)
    cdef GroupBuffers g
    g.starts = &starts[0] if n_bags else NULL
    g.stops = &stops[0] if n_bags else NULL
    g.bag_count = &bag_arrays[0, 0]
    g.entry_start = &bag_arrays[1, 0]
    g.bag_max = &bag_arrays[2, 0]
    g.keys = &entry_arrays[0, 0]
    g.order = &entry_arrays[1, 0]
    g.keys_tmp = &entry_arrays[2, 0]
    g.order_tmp = &entry_arrays[3, 0]
    g.entry_bag = &entry_arrays[4, 0]
    g.unique_ids = &entry_arrays[5, 0]
    g.entry_pos = &entry_arrays[6, 0] if need_positions else NULL
    g.segments = &segments[0]
    g.hist = &hist[0]
    g.chunk_starts = &chunk_starts[0]
    g.max_chunks = max_chunks
    cdef const index_t* ids_ptr = &ids[0] if n_ids else NULL
    cdef Py_ssize_t n_invalid
    with nogil:
        n_invalid = group_entries(ids_ptr, n_bags, padding_idx, upper, &g, num_threads)
    if n_invalid:
        return n_invalid, None
    sorted_row = 1 if g.sorted_order == g.order else 3
    return 0, (per_entry[5, :g.u], segments_np[:g.u + 1], per_entry[sorted_row, :g.m],
               per_entry[4, :g.m], per_entry[6, :g.m] if need_positions else None,
               per_bag[0, :n_bags])


cdef inline const int64_t* _int64_data(object array) except? NULL:
    return <const int64_t*> <size_t> array.ctypes.data if array is not None and array.size else NULL


cdef SegmentPlan _make_plan(tuple grouping, int mode, const void* sample_weights,
                            const int64_t* argpos, object bag_scale) except *:
    """Pointers for :func:`segment_row`; ``bag_scale`` (from :func:`_bag_scale`) must
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
            segment_row(&values[s, 0], dim, &grad[0, 0], s, &plan)
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
            segment_row(&scratch[tid, 0], dim, &grad[0, 0], s, &plan)
            update_row(&table[row, 0], &scratch[tid, 0],
                       s1 + row * dim if s1 != NULL else NULL,
                       s2 + row * dim if s2 != NULL else NULL,
                       rs + row if rs != NULL else NULL,
                       dim, &cfg)
    return u
