# Grouping the entries of a batch of bags by id, and summing each id's gradient: the
# shared core of the backward kernels (_backward.pyx) and the compiled training step
# (_train.pyx). Deterministic by construction, without atomics:
#
# 1. count and gather the non-padding entries of every bag (parallel over bags);
# 2. stable LSD radix sort of the entries by id (parallel over chunks; a stable sort has a
#    single answer, so the chunking, hence the thread count, cannot change it);
# 3. find the segments of equal ids;
# 4. (segment_row) sum each segment in entry order, one thread per distinct id.
#
# Everything works on caller-owned buffers (GroupBuffers), so a training loop can run it
# step after step without the GIL and without allocating.
from cython.parallel cimport prange
from libc.stdint cimport int64_t
from libc.string cimport memset
from cython cimport floating

from fastembed._kernels._types cimport index_t, MODE_MAX

cdef enum:
    MAX_DIGIT_BITS = 11       # 2048 buckets per pass: the histograms stay in L1
    MAX_RADIX = 2048
    MIN_SORT_CHUNK = 8192     # entries per chunk below which extra threads do not pay


cdef struct GroupBuffers:
    # Inputs: bag b is ids[starts[b]:stops[b]].
    const int64_t* starts
    const int64_t* stops
    # Scratch and results; sizes: n_bags for the per-bag arrays, at least the number of
    # entries (m) for the per-entry ones, max_chunks * MAX_RADIX for hist.
    int64_t* bag_count        # non-padding entries per bag (result)
    int64_t* entry_start      # (n_bags + 1,)
    int64_t* bag_max
    int64_t* keys
    int64_t* order
    int64_t* keys_tmp
    int64_t* order_tmp
    int64_t* entry_bag        # bag of each entry (result)
    int64_t* entry_pos        # position in ids of each entry (result), or NULL if not needed
    Py_ssize_t* hist
    int64_t* chunk_starts     # (max_chunks + 1,)
    int64_t* unique_ids       # sorted distinct ids (result)
    int64_t* segments         # (u + 1,) boundaries in sorted_order (result)
    Py_ssize_t max_chunks
    # Results.
    int64_t* sorted_order     # entry numbers sorted by id (points at order or order_tmp)
    Py_ssize_t m              # entries
    Py_ssize_t u              # distinct ids


cdef inline Py_ssize_t chunks_for(Py_ssize_t n, int num_threads, Py_ssize_t max_chunks) noexcept nogil:
    cdef Py_ssize_t chunks = n // MIN_SORT_CHUNK
    if chunks > num_threads:
        chunks = num_threads
    if chunks > max_chunks:
        chunks = max_chunks
    return chunks if chunks > 1 else 1


cdef inline void radix_pass(const int64_t* keys_in, const int64_t* vals_in,
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


cdef inline Py_ssize_t group_entries(const index_t* ids, Py_ssize_t n_bags, int64_t padding_idx,
                                     int64_t upper, GroupBuffers* g, int num_threads) noexcept nogil:
    """Group the non-padding entries of bags ``ids[starts[b]:stops[b]]`` by id.

    Returns the number of ids outside ``[0, upper)``; when it is not 0 nothing else is
    computed. Otherwise ``g.m``, ``g.u``, ``g.unique_ids``, ``g.segments``,
    ``g.sorted_order``, ``g.entry_bag``, ``g.entry_pos`` and ``g.bag_count`` describe the
    groups: the entries of ``unique_ids[s]`` are ``sorted_order[segments[s]:segments[s+1]]``,
    in input order.
    """
    cdef Py_ssize_t b, j, k, c, lo, hi, start, stop, m, u, chunks, bad, n_invalid = 0
    cdef int64_t value, largest, max_id = 0
    cdef int64_t* keys = g.keys
    cdef int64_t* order = g.order
    cdef int64_t* pos_ptr = g.entry_pos
    for b in prange(n_bags, schedule="guided", num_threads=num_threads):
        start = g.starts[b]
        stop = g.stops[b]
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
        g.bag_count[b] = k
        g.bag_max[b] = largest
        n_invalid += bad  # a prange reduction
    if n_invalid:
        return n_invalid
    m = 0
    for b in range(n_bags):
        g.entry_start[b] = m
        m = m + g.bag_count[b]
        if g.bag_max[b] > max_id:
            max_id = g.bag_max[b]
    g.entry_start[n_bags] = m
    g.m = m

    for b in prange(n_bags, schedule="guided", num_threads=num_threads):
        start = g.starts[b]
        stop = g.stops[b]
        k = g.entry_start[b]
        for j in range(start, stop):
            if ids[j] != padding_idx:
                keys[k] = ids[j]
                order[k] = k
                g.entry_bag[k] = b
                if pos_ptr != NULL:
                    pos_ptr[k] = j
                k = k + 1

    # Stable radix sort of (id, entry number), as few passes as the largest id needs.
    cdef int n_bits = 1
    while n_bits < 63 and (max_id >> n_bits) > 0:
        n_bits += 1
    cdef int passes = (n_bits + MAX_DIGIT_BITS - 1) // MAX_DIGIT_BITS
    cdef int digit_bits = (n_bits + passes - 1) // passes
    cdef int p
    cdef int64_t* src_keys = keys
    cdef int64_t* src_vals = order
    cdef int64_t* dst_keys = g.keys_tmp
    cdef int64_t* dst_vals = g.order_tmp
    cdef int64_t* swap
    chunks = chunks_for(m, num_threads, g.max_chunks)
    if m > 0:
        for p in range(passes):
            radix_pass(src_keys, src_vals, dst_keys, dst_vals, m, p * digit_bits,
                       (<int64_t> 1 << digit_bits) - 1, chunks, g.hist, num_threads)
            swap = src_keys; src_keys = dst_keys; dst_keys = swap
            swap = src_vals; src_vals = dst_vals; dst_vals = swap
    keys = src_keys
    g.sorted_order = src_vals

    # Segments of equal ids: count segment starts per chunk, then write them.
    g.chunk_starts[0] = 0
    for c in prange(chunks, schedule="static", num_threads=num_threads):
        lo = c * m // chunks
        hi = (c + 1) * m // chunks
        k = 0
        for j in range(lo, hi):
            if j == 0 or keys[j] != keys[j - 1]:
                k = k + 1
        g.chunk_starts[c + 1] = k
    for c in range(chunks):
        g.chunk_starts[c + 1] += g.chunk_starts[c]
    u = g.chunk_starts[chunks]
    for c in prange(chunks, schedule="static", num_threads=num_threads):
        lo = c * m // chunks
        hi = (c + 1) * m // chunks
        k = g.chunk_starts[c]
        for j in range(lo, hi):
            if j == 0 or keys[j] != keys[j - 1]:
                g.unique_ids[k] = keys[j]
                g.segments[k] = j
                k = k + 1
    g.segments[u] = m
    g.u = u
    return 0


cdef struct SegmentPlan:
    # Everything segment_row reads, as raw pointers into arrays kept alive by the caller.
    # Floating-point arrays are void* because a struct cannot hold fused types.
    const int64_t* segments        # (u + 1,) segment boundaries in `order`
    const int64_t* order           # entry numbers sorted by id
    const int64_t* entry_bag       # bag of each entry
    const int64_t* entry_pos       # position in ids of each entry, or NULL
    const void* bag_scale          # (n_bags,) floating: 1/count (mean) or 1
    const void* sample_weights     # (n_ids,) floating per-sample weights, or NULL
    const int64_t* argpos          # (n_bags, dim) max positions, or NULL
    int mode


cdef inline void segment_row(floating* acc, Py_ssize_t dim, const floating* grad,
                             Py_ssize_t s, const SegmentPlan* plan, floating* sq=NULL) noexcept nogil:
    """Sum the gradient contributions of the entries of segment ``s`` (one id) into
    ``acc``, in entry order, so the floating-point result never depends on scheduling.
    With ``sq`` (not NULL), also sum the square of every occurrence's contribution into
    it: the per-occurrence second moment of Keras' sparse updates (IndexedSlices are
    squared before duplicates are summed).

    Sum and mean bags: the entries of one bag are consecutive in a segment (the sort is
    stable), so a run of ``r`` of them adds ``(r * scale) * grad[bag]`` once (and
    ``(r * scale * scale) * grad[bag]**2``); padding and repeated words cost one row
    operation per bag, not one per occurrence.
    """
    cdef Py_ssize_t k, d, run, end = plan.segments[s + 1]
    cdef int64_t e, b, pos
    cdef const floating* g
    cdef const int64_t* arg
    cdef const floating* bag_scale = <const floating*> plan.bag_scale
    cdef const floating* sample_weights = <const floating*> plan.sample_weights
    cdef floating scale, sq_scale, contribution
    memset(acc, 0, dim * sizeof(floating))
    if sq != NULL:
        memset(sq, 0, dim * sizeof(floating))
    k = plan.segments[s]
    while k < end:
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
                    if sq != NULL:
                        sq[d] += g[d] * g[d]
            k += 1
        elif sample_weights != NULL:
            scale = sample_weights[plan.entry_pos[e]]
            for d in range(dim):
                contribution = scale * g[d]
                acc[d] += contribution
                if sq != NULL:
                    sq[d] += contribution * contribution
            k += 1
        else:
            run = 1
            while k + run < end and plan.entry_bag[plan.order[k + run]] == b:
                run += 1
            scale = (<floating> run) * bag_scale[b]
            for d in range(dim):
                acc[d] += scale * g[d]
            if sq != NULL:
                sq_scale = scale * bag_scale[b]
                for d in range(dim):
                    sq[d] += sq_scale * (g[d] * g[d])
            k += run
