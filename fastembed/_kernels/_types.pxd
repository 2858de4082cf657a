# Types shared by every kernel module.
from libc.stdint cimport int32_t, int64_t

# Ids come as int32 (what Keras and most tokenizers emit) or int64 (NumPy's default).
ctypedef fused index_t:
    int32_t
    int64_t

# Pooling modes, numbered as fastembed._validation.MODES lists them.
cdef enum PoolMode:
    MODE_SUM = 0
    MODE_MEAN = 1
    MODE_MAX = 2

cdef extern from "_platform.h" nogil:
    int FASTEMBED_HAVE_OPENMP
    int omp_get_max_threads()
    int omp_get_num_procs()
    int omp_get_thread_num()
    void FE_PREFETCH(const void* address)
    int fe_cpu_has_avx2_fma()
    # How many rows ahead the gather and the update loops prefetch (see _platform.h).
    const Py_ssize_t GATHER_PREFETCH_DISTANCE "FE_GATHER_PREFETCH_DISTANCE"
    const Py_ssize_t UPDATE_PREFETCH_DISTANCE "FE_UPDATE_PREFETCH_DISTANCE"

cdef enum:
    CACHE_LINE = 64

cdef inline void prefetch_row(const void* row, size_t nbytes) noexcept nogil:
    """Prefetch every cache line of a row about to be read."""
    cdef size_t offset = 0
    while offset < nbytes:
        FE_PREFETCH(<const char*> row + offset)
        offset += CACHE_LINE


# Bag b of a batch: ids[b*seq:(b+1)*seq] for padded 2-D input (seq > 0), else
# ids[offsets[b]:offsets[b+1]]. Two functions returning values (not one writing through
# pointers) so that, inside a prange, the variables they are assigned to stay private.
cdef inline Py_ssize_t bag_start(Py_ssize_t b, Py_ssize_t seq, const int64_t* offsets) noexcept nogil:
    return b * seq if seq > 0 else offsets[b]

cdef inline Py_ssize_t bag_stop(Py_ssize_t b, Py_ssize_t seq, const int64_t* offsets) noexcept nogil:
    return (b + 1) * seq if seq > 0 else offsets[b + 1]
