"""OpenMP runtime facts and the parallel input checks every op runs before its kernel."""

from cython.parallel cimport prange
from libc.math cimport isfinite
from libc.stdint cimport int64_t

from fastembed._kernels._types cimport (index_t, FASTEMBED_HAVE_OPENMP, fe_cpu_has_avx2_fma,
                                       omp_get_max_threads, omp_get_num_procs)
from cython cimport floating

from fastembed._kernels._threads cimport threads_for as _threads_for

import numpy as np

cdef enum:
    # Below this many elements a single chunk is cheaper than waking a thread team.
    MIN_CHUNK = 16384


def openmp_enabled():
    """Return True when the kernels were compiled with OpenMP."""
    return bool(FASTEMBED_HAVE_OPENMP)


def openmp_max_threads():
    """Return OpenMP's default team size (honours ``OMP_NUM_THREADS``); 1 without OpenMP."""
    return omp_get_max_threads()


def threads_for(Py_ssize_t work, int limit, Py_ssize_t min_work):
    """The thread policy (``_threads.pxd``), for fastembed._config.threads_for."""
    return _threads_for(work, limit, min_work)


def cpu_has_avx2_fma():
    """Return True when the CPU and OS run AVX2 + FMA code."""
    return bool(fe_cpu_has_avx2_fma())


def openmp_num_procs():
    """Return the number of processors OpenMP sees; 1 without OpenMP."""
    return omp_get_num_procs()


cdef inline Py_ssize_t _n_chunks(Py_ssize_t n, int num_threads) noexcept nogil:
    cdef Py_ssize_t chunks = n // MIN_CHUNK
    if chunks > 4 * num_threads:
        chunks = 4 * num_threads
    return chunks if chunks > 1 else 1


def check_ids(const index_t[::1] ids, int64_t lower, int64_t upper, int num_threads):
    """Scan ``ids`` for values outside ``[lower, upper)``.

    Parameters
    ----------
    ids : 1-D contiguous int32 or int64 array
    lower, upper : int
        Valid ids satisfy ``lower <= id < upper``.
    num_threads : int

    Returns
    -------
    first_bad : int
        Position of the first offending id, or -1 when all are valid.
    max_id : int
        Largest id seen (-1 for empty input); lets the sort size its radix passes.
    """
    cdef Py_ssize_t n = ids.shape[0]
    cdef Py_ssize_t chunks = _n_chunks(n, num_threads)
    cdef Py_ssize_t c, i, lo, hi
    cdef int64_t value, chunk_max
    # One slot per chunk: each thread writes only its own, so no race.
    cdef int64_t[::1] first_bad = np.full(chunks, -1, dtype=np.int64)
    cdef int64_t[::1] max_seen = np.full(chunks, -1, dtype=np.int64)
    with nogil:
        for c in prange(chunks, schedule="static", num_threads=num_threads):
            lo = c * n // chunks
            hi = (c + 1) * n // chunks
            chunk_max = -1
            for i in range(lo, hi):
                value = ids[i]
                if value < lower or value >= upper:
                    first_bad[c] = i
                    break
                if value > chunk_max:
                    chunk_max = value
            max_seen[c] = chunk_max
    cdef int64_t overall_max = -1
    for c in range(chunks):
        if first_bad[c] >= 0:
            return first_bad[c], -1
        if max_seen[c] > overall_max:
            overall_max = max_seen[c]
    return -1, overall_max


def first_non_finite(const floating[::1] values, int num_threads):
    """Return the position of the first NaN or infinity in ``values``, or -1."""
    cdef Py_ssize_t n = values.shape[0]
    cdef Py_ssize_t chunks = _n_chunks(n, num_threads)
    cdef Py_ssize_t c, i, lo, hi
    cdef int64_t[::1] first_bad = np.full(chunks, -1, dtype=np.int64)
    with nogil:
        for c in prange(chunks, schedule="static", num_threads=num_threads):
            lo = c * n // chunks
            hi = (c + 1) * n // chunks
            for i in range(lo, hi):
                if not isfinite(values[i]):
                    first_bad[c] = i
                    break
    for c in range(chunks):
        if first_bad[c] >= 0:
            return first_bad[c]
    return -1


def check_strictly_increasing(const int64_t[::1] indices, int64_t upper):
    """Return the first position where ``indices`` is not strictly increasing within
    ``[0, upper)``, or -1. Sparse updates need unique rows, or two threads would race."""
    cdef Py_ssize_t i, n = indices.shape[0], bad = -1
    with nogil:
        for i in range(n):
            if indices[i] < 0 or indices[i] >= upper or (i > 0 and indices[i] <= indices[i - 1]):
                bad = i
                break
    return bad
