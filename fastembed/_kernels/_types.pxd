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

cdef extern from "_omp_compat.h" nogil:
    int FASTEMBED_HAVE_OPENMP
    int omp_get_max_threads()
    int omp_get_num_procs()
