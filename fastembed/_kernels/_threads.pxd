# The one thread policy, in C so that compiled loops (which decide many regions without
# the GIL) and the Python layer (fastembed._config.threads_for) use the same formula.

cdef inline int threads_for(Py_ssize_t work, int limit, Py_ssize_t min_work) noexcept nogil:
    """Threads for a parallel region doing about ``work`` scalar operations.

    One thread per ``min_work`` operations, at most ``limit``: waking a team costs several
    microseconds on an idle machine, and on a busy one a region cannot end before every
    member has been scheduled, so a team only pays for itself on work that takes far
    longer than that. Small work (a tutorial batch, a gradient check) never opens a team.
    """
    cdef Py_ssize_t n
    if limit <= 1 or work < 2 * min_work:
        return 1
    n = work // min_work if min_work > 0 else limit
    return <int> (n if n < limit else limit)
