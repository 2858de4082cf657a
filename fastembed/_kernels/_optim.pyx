"""Sparse optimizer kernel: update, in place and in parallel, only the rows a gradient touches."""

from cython.parallel cimport prange, threadid
from libc.stdint cimport int64_t
from libc.string cimport memcpy
from cython cimport floating

from fastembed._kernels._types cimport UPDATE_PREFETCH_DISTANCE

import numpy as np

# The rule codes, by the names fastembed.sparse_optim gives its rules: the one place where
# Python meets the kernel's enum (_optim.pxd), so no number is copied by hand.
RULE_CODES = {"sgd": OPT_SGD, "adagrad": OPT_ADAGRAD, "rowwise_adagrad": OPT_ROWWISE_ADAGRAD,
              "adam": OPT_ADAM, "rmsprop": OPT_RMSPROP}


cdef OptimConfig make_config(dict params):
    """Translate the optimizer's hyper-parameter dict (see fastembed.sparse_optim) to C."""
    cdef OptimConfig cfg
    cfg.kind = params["kind"]
    cfg.learning_rate = params["learning_rate"]
    cfg.momentum = params.get("momentum", 0.0)
    cfg.nesterov = params.get("nesterov", False)
    cfg.epsilon = params.get("epsilon", 0.0)
    cfg.beta_1 = params.get("beta_1", 0.0)
    cfg.beta_2 = params.get("beta_2", 0.0)
    cfg.rho = params.get("rho", 0.0)
    cfg.step_size = params.get("step_size", 0.0)
    cfg.weight_decay = params.get("weight_decay", 0.0)
    max_norm = params.get("max_norm")
    cfg.max_norm = max_norm if max_norm is not None else 0.0
    cfg.eps_in_sqrt = params.get("eps_in_sqrt", False)
    return cfg


cdef void* _base_pointer(object array) except *:
    """Address of a C-contiguous array's data, or NULL for None / empty arrays."""
    if array is None or array.size == 0:
        return NULL
    return <void*> <size_t> array.ctypes.data


cdef StatePointers state_pointers(object state1, object state2, object row_state) except *:
    """Base pointers of the optional state arrays, taken with the GIL so that the
    parallel loops never have to test an array for None. The arrays were validated
    (dtype, C order, shape) by fastembed.sparse_optim."""
    cdef StatePointers ptrs
    ptrs.s1 = _base_pointer(state1)
    ptrs.s2 = _base_pointer(state2)
    ptrs.row_state = _base_pointer(row_state)
    return ptrs


def sparse_update(floating[:, ::1] table, const int64_t[::1] indices,
                  const floating[:, ::1] values, object state1, object state2,
                  object row_state, dict params, object squares, int num_threads):
    """Apply an optimizer step to ``table[indices]`` with gradient rows ``values``.

    ``indices`` must be unique (validated by fastembed.ops): each row is then written by
    one thread only. ``state1``/``state2`` (``(num_rows, dim)``) and ``row_state``
    (``(num_rows,)``) are the optimizer's state arrays, None when the rule has none.
    ``squares`` (like ``values``, or None) is what the accumulators take instead of
    ``values**2``: the per-occurrence squares of Keras' rule for repeated ids (validated
    by fastembed.ops).
    """
    cdef OptimConfig cfg = make_config(params)
    cdef Py_ssize_t n = indices.shape[0], dim = table.shape[1], i
    cdef int64_t row
    cdef int tid
    cdef Py_ssize_t ahead
    cdef floating* table_ptr = &table[0, 0]
    cdef StatePointers state = state_pointers(state1, state2, row_state)
    cdef floating* s1 = <floating*> state.s1
    cdef floating* s2 = <floating*> state.s2
    cdef floating* rs = <floating*> state.row_state
    # Per-thread scratch: the rule adds weight decay into the gradient, and `values`
    # must stay untouched for the caller.
    cdef floating[:, ::1] scratch = np.empty((max(num_threads, 1), max(dim, 1)),
                                             dtype=np.float32 if floating is float else np.float64)
    cdef const floating[:, ::1] sq_values
    cdef bint with_squares = squares is not None
    cdef floating* sq
    if with_squares:
        sq_values = squares
    if n == 0 or dim == 0:
        return
    with nogil:
        for i in prange(n, schedule="static", num_threads=num_threads):
            tid = threadid()
            ahead = i + UPDATE_PREFETCH_DISTANCE
            if ahead < n:
                prefetch_update(table_ptr, s1, s2, indices[ahead], dim)
            row = indices[i]
            memcpy(&scratch[tid, 0], &values[i, 0], dim * sizeof(floating))
            sq = NULL
            if with_squares:
                sq = <floating*> &sq_values[i, 0]  # read only
            update_row(&table[row, 0], &scratch[tid, 0],
                       s1 + row * dim if s1 != NULL else NULL,
                       s2 + row * dim if s2 != NULL else NULL,
                       rs + row if rs != NULL else NULL,
                       dim, &cfg, sq)
