# Shared with _subword.pyx: the character buffers of a tuple of str, read without the GIL.

cdef class _Texts:
    cdef tuple keep
    cdef Py_ssize_t n, max_length
    cdef const void** data
    cdef int* kind
    cdef Py_ssize_t* length
