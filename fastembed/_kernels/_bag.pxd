# The per-bag loops of the forward pass (gather and pool one bag into one output row),
# shared by the embedding-bag kernel (_forward.pyx) and the compiled training step
# (_train.pyx). The two SIMD switches live in the headers as per-module statics: each
# module that includes them sets its own at import (fastembed/_kernels/__init__.py).
from libc.stdint cimport int32_t, int64_t
from libc.string cimport memcpy
from cython cimport floating

from fastembed._kernels._types cimport (index_t, GATHER_PREFETCH_DISTANCE, prefetch_row)


cdef inline const floating* bag_row(const floating* table, Py_ssize_t dim,
                                     Py_ssize_t num_rows, const index_t* ids, Py_ssize_t j,
                                     Py_ssize_t n_ids, int64_t padding_idx,
                                     Py_ssize_t* n_invalid) noexcept nogil:
    """The table row of entry ``j`` of a bag, or NULL when the entry is skipped.

    Prefetches the row ``GATHER_PREFETCH_DISTANCE`` entries ahead (past the bag's end: the
    next bag's ids follow in memory, up to ``n_ids``). An id outside ``[0, num_rows)`` is
    counted in ``n_invalid`` and never dereferenced; the range is checked before the
    padding test because the "no padding" sentinel is -1, which must not hide an id of -1.
    """
    cdef index_t row_id
    if j + GATHER_PREFETCH_DISTANCE < n_ids:
        row_id = ids[j + GATHER_PREFETCH_DISTANCE]
        # The padding row is read over and over and stays cached: no need to prefetch it.
        if 0 <= row_id < num_rows and row_id != padding_idx:
            prefetch_row(table + row_id * dim, dim * sizeof(floating))
    row_id = ids[j]
    if row_id < 0 or row_id >= num_rows:
        n_invalid[0] += 1
        return NULL
    if row_id == padding_idx:
        return NULL
    return table + row_id * dim


cdef extern from "_rowsum.h" nogil:
    int fe_rowsum_avx2
    int FE_HAVE_ROWSUM_AVX2
    void fe_rowsum_f32(float* out, const float** rows, Py_ssize_t n, Py_ssize_t dim)
    void fe_rowsum_f64(double* out, const double** rows, Py_ssize_t n, Py_ssize_t dim)

cdef extern from "_bagsum.h" nogil:
    int fe_bagsum_enabled
    Py_ssize_t fe_bagsum_f32_i32(float* out, const float* table, Py_ssize_t dim, Py_ssize_t num_rows,
                                 const int32_t* ids, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t n_ids,
                                 int64_t padding_idx, Py_ssize_t* n_invalid)
    Py_ssize_t fe_bagsum_f32_i64(float* out, const float* table, Py_ssize_t dim, Py_ssize_t num_rows,
                                 const int64_t* ids, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t n_ids,
                                 int64_t padding_idx, Py_ssize_t* n_invalid)

cdef enum:
    # Row pointers gathered before each call to the row sum.
    ROW_CHUNK = 32


cdef inline bint set_bag_simd(int rowsum_avx2, int fused_bag_sum) noexcept nogil:
    """Set this module's two switches (-1 leaves one as it is); returns whether the AVX2
    row sum is on. Each module including the headers has its own copy of them."""
    global fe_rowsum_avx2, fe_bagsum_enabled
    if rowsum_avx2 >= 0:
        fe_rowsum_avx2 = 1 if (rowsum_avx2 and FE_HAVE_ROWSUM_AVX2) else 0
    if fused_bag_sum >= 0:
        fe_bagsum_enabled = fused_bag_sum
    return fe_rowsum_avx2 != 0


cdef inline bint fused_bag_sum_enabled() noexcept nogil:
    return fe_bagsum_enabled != 0


cdef inline void add_rows(floating* out, const floating** rows, Py_ssize_t n, Py_ssize_t dim) noexcept nogil:
    """``out += rows[0] + ... + rows[n-1]``, in row order (see _rowsum.h)."""
    if floating is float:
        fe_rowsum_f32(out, rows, n, dim)
    else:
        fe_rowsum_f64(out, rows, n, dim)


cdef inline Py_ssize_t sum_bag(const floating* table, Py_ssize_t dim, Py_ssize_t num_rows,
                                const index_t* ids, Py_ssize_t start, Py_ssize_t stop,
                                Py_ssize_t n_ids, int64_t padding_idx, const floating* weights,
                                floating* out, Py_ssize_t* n_invalid) noexcept nogil:
    """Add the rows of one bag (optionally scaled by per-sample weights) into ``out``, in
    entry order; return how many ids were not padding. Unweighted float32 rows of dim <= 128
    (a multiple of 8) take the fused AVX2 loop of _bagsum.h; other unweighted rows go to the
    row sum of _rowsum.h in chunks of row pointers. Both add in the same order, so they give
    the same bits. Invalid ids are counted and skipped (see :func:`bag_row`)."""
    cdef Py_ssize_t j, d, n = 0, pending = 0
    cdef const floating* row
    cdef const floating* rows[ROW_CHUNK]
    cdef floating w
    if floating is float and weights == NULL:
        # The fused AVX2 loop of _bagsum.h for dims 8..64; -1 when it does not apply.
        if index_t is int64_t:
            n = fe_bagsum_f32_i64(out, table, dim, num_rows, ids, start, stop, n_ids, padding_idx, n_invalid)
        else:
            n = fe_bagsum_f32_i32(out, table, dim, num_rows, ids, start, stop, n_ids, padding_idx, n_invalid)
        if n >= 0:
            return n
        n = 0
    for j in range(start, stop):
        row = bag_row(table, dim, num_rows, ids, j, n_ids, padding_idx, n_invalid)
        if row == NULL:
            continue
        n += 1
        if weights != NULL:
            w = weights[j]
            for d in range(dim):
                out[d] += w * row[d]
            continue
        rows[pending] = row
        pending += 1
        if pending == ROW_CHUNK:
            add_rows(out, rows, pending, dim)
            pending = 0
    if pending:
        add_rows(out, rows, pending, dim)
    return n


cdef inline void max_bag(const floating* table, Py_ssize_t dim, Py_ssize_t num_rows,
                          const index_t* ids, Py_ssize_t start, Py_ssize_t stop,
                          Py_ssize_t n_ids, int64_t padding_idx, floating* out,
                          int64_t* argpos, Py_ssize_t* n_invalid) noexcept nogil:
    """Element-wise max over the rows of one bag; ``argpos`` (may be NULL) records the
    position of the first maximum, which is where the backward pass sends the gradient.
    A NaN propagates (as NumPy's maximum: the result does not depend on entry order) and
    its dimension gets no gradient (argpos -1), as in the reference. Invalid ids are
    counted and skipped (see :func:`bag_row`)."""
    cdef Py_ssize_t j, d
    cdef bint first = True
    cdef const floating* row
    for j in range(start, stop):
        row = bag_row(table, dim, num_rows, ids, j, n_ids, padding_idx, n_invalid)
        if row == NULL:
            continue
        if first:
            memcpy(out, row, dim * sizeof(floating))
            if argpos != NULL:
                for d in range(dim):
                    argpos[d] = j
            first = False
        elif argpos != NULL:
            for d in range(dim):
                # Strict comparison: ties keep the earliest position, as PyTorch does.
                # (x != x: a NaN takes over; nothing takes over from a NaN.)
                if row[d] > out[d] or (row[d] != row[d] and out[d] == out[d]):
                    out[d] = row[d]
                    argpos[d] = j
        else:
            for d in range(dim):
                if row[d] > out[d] or (row[d] != row[d] and out[d] == out[d]):
                    out[d] = row[d]
    if first and argpos != NULL:
        # Empty or fully padded bag: output stays zero and no position receives gradient.
        for d in range(dim):
            argpos[d] = -1
    elif argpos != NULL:
        for d in range(dim):
            if out[d] != out[d]:
                argpos[d] = -1
