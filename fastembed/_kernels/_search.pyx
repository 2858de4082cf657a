"""Exact nearest-neighbour search: merge a block of similarity scores into running top-k.

fastembed.search computes a block of raw dot products (queries x table rows) with one
BLAS call, then calls :func:`merge_top_k`, which scores each row (cosine, or Levy &
Goldberg's 3CosMul over several terms) and keeps the best ``k`` rows of every query in a
heap. These kernels are serial and release the GIL: the search runs them side by side
on disjoint row ranges from several Python threads (see fastembed/search.py for why not
an OpenMP team), each thread with its own heaps, merged at the end.

Order: a higher score ranks first; equal scores rank the lower row first. Every heap is
a min-heap under that order, so its root is the worst row kept: a new row enters when it
beats the root. Empty slots hold score -inf and row ``EMPTY_ROW``, which rank below any
real row.
"""

from libc.stdint cimport int64_t, INT64_MAX
from cython cimport floating

cdef int64_t EMPTY_ROW = INT64_MAX
# Added to 3CosMul's denominator so that a row opposite a negative term does not divide
# by zero (gensim's most_similar_cosmul uses the same constant).
cdef double COSMUL_EPSILON = 1e-6


cdef inline bint _ranks_before(floating score_a, int64_t row_a, floating score_b, int64_t row_b) noexcept nogil:
    return score_a > score_b or (score_a == score_b and row_a < row_b)


cdef void _sift_down(floating* scores, int64_t* rows, Py_ssize_t size, Py_ssize_t pos) noexcept nogil:
    """Restore the heap below ``pos`` (the worst row at the root)."""
    cdef Py_ssize_t child, worst
    cdef floating score
    cdef int64_t row
    while True:
        worst = pos
        child = 2 * pos + 1
        if child < size and _ranks_before(scores[worst], rows[worst], scores[child], rows[child]):
            worst = child
        child += 1
        if child < size and _ranks_before(scores[worst], rows[worst], scores[child], rows[child]):
            worst = child
        if worst == pos:
            return
        score = scores[pos]; scores[pos] = scores[worst]; scores[worst] = score
        row = rows[pos]; rows[pos] = rows[worst]; rows[worst] = row
        pos = worst


cdef inline bint _is_excluded(int64_t row, const int64_t* exclude, Py_ssize_t n_exclude) noexcept nogil:
    cdef Py_ssize_t e
    for e in range(n_exclude):
        if exclude[e] == row:
            return True
    return False


cdef inline floating _cosmul_score(const floating* dots, Py_ssize_t stride, Py_ssize_t n_positive,
                                   Py_ssize_t n_negative, floating inv_norm) noexcept nogil:
    """3CosMul of one row: prod((1 + cos) / 2) over positive terms / (same over negative + eps)."""
    # Typed constants: a bare 1 or 2 becomes a C double literal and would silently
    # compute float32 scores in double, unlike the NumPy twin.
    cdef floating one = 1, two = 2, epsilon = <floating> COSMUL_EPSILON
    cdef floating numerator = one, denominator = one
    cdef Py_ssize_t t
    for t in range(n_positive):
        numerator = numerator * ((one + dots[t * stride] * inv_norm) / two)
    for t in range(n_negative):
        denominator = denominator * ((one + dots[(n_positive + t) * stride] * inv_norm) / two)
    return numerator / (denominator + epsilon)


def merge_top_k(const floating[:, ::1] dots, const floating[::1] inv_norms, int64_t first_row,
                Py_ssize_t n_positive, Py_ssize_t n_negative, bint cosmul,
                floating[:, ::1] heap_scores, int64_t[:, ::1] heap_rows,
                const int64_t[:, ::1] exclude):
    """Merge one block of table rows into every query's top-k heap.

    Parameters
    ----------
    dots : (n_queries * n_terms, n_block) array
        Dot products of each query term (unit vector) with the block's rows; the terms of
        query ``q`` are rows ``q * n_terms ...`` (positive terms first), ``n_terms =
        n_positive + n_negative``. Without ``cosmul``, ``n_terms`` is 1.
    inv_norms : (n_block,) array
        1 / norm of each block row (0 for a zero row, whose cosine is then 0).
    first_row : int
        Table row of the block's first column.
    cosmul : bool
        Score with 3CosMul instead of the cosine.
    heap_scores, heap_rows : (n_queries, k) arrays
        The running heaps, updated in place.
    exclude : (n_queries, n_exclude) int64 array
        Rows never returned for that query (its own words); -1 pads.
    """
    cdef Py_ssize_t n_terms = n_positive + n_negative if cosmul else 1
    cdef Py_ssize_t n_queries = heap_scores.shape[0], k = heap_scores.shape[1]
    cdef Py_ssize_t n_block = dots.shape[1], n_exclude = exclude.shape[1]
    cdef Py_ssize_t q, j
    cdef floating score
    cdef floating* scores
    cdef int64_t* rows
    cdef const floating* query_dots
    if k == 0 or n_block == 0:
        return
    # The callers build these shapes; a mismatch here would read out of bounds.
    if (dots.shape[0] != n_queries * n_terms or inv_norms.shape[0] != n_block
            or heap_rows.shape[0] != n_queries or heap_rows.shape[1] != k
            or exclude.shape[0] != n_queries):
        raise ValueError("merge_top_k: inconsistent shapes")
    with nogil:
        for q in range(n_queries):
            scores = &heap_scores[q, 0]
            rows = &heap_rows[q, 0]
            query_dots = &dots[q * n_terms, 0]
            for j in range(n_block):
                if cosmul:
                    score = _cosmul_score(query_dots + j, n_block, n_positive, n_negative, inv_norms[j])
                else:
                    score = query_dots[j] * inv_norms[j]
                # Rows arrive in increasing order, so a tie with the root never wins.
                if score > scores[0] and not _is_excluded(first_row + j, &exclude[q, 0], n_exclude):
                    scores[0] = score
                    rows[0] = first_row + j
                    _sift_down(scores, rows, k, 0)


def sort_top_k(floating[:, ::1] heap_scores, int64_t[:, ::1] heap_rows):
    """Turn every heap into a list, best row first (a heap sort, in place)."""
    cdef Py_ssize_t n_queries = heap_scores.shape[0], k = heap_scores.shape[1], q, size
    cdef floating* scores
    cdef int64_t* rows
    cdef floating score
    cdef int64_t row
    if heap_rows.shape[0] != n_queries or heap_rows.shape[1] != k:
        raise ValueError("sort_top_k: inconsistent shapes")
    with nogil:
        for q in range(n_queries):
            scores = &heap_scores[q, 0]
            rows = &heap_rows[q, 0]
            size = k
            while size > 1:
                # The root is the worst of the remaining rows: move it behind them.
                size = size - 1
                score = scores[0]; scores[0] = scores[size]; scores[size] = score
                row = rows[0]; rows[0] = rows[size]; rows[size] = row
                _sift_down(scores, rows, size, 0)


def empty_row():
    """The row number that marks an unfilled slot."""
    return EMPTY_ROW
