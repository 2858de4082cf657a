# Per-row optimizer rules, shared by the sparse update kernel (_optim.pyx), the fused
# backward + update kernel (_backward.pyx) and the compiled training loop (_train.pyx). Each rule touches one row only, so
# running rows in parallel needs no synchronisation as long as rows are distinct.
from libc.math cimport pow, sqrt, sqrtf
from libc.stdint cimport int64_t
from cython cimport floating

from fastembed._kernels._types cimport prefetch_row

cdef enum OptimKind:
    OPT_SGD = 0
    OPT_ADAGRAD = 1
    OPT_ROWWISE_ADAGRAD = 2
    OPT_ADAM = 3
    OPT_RMSPROP = 4

cdef struct OptimConfig:
    int kind
    double learning_rate
    double momentum          # SGD
    bint nesterov            # SGD
    double epsilon           # Adagrad, row-wise Adagrad, Adam
    double beta_1            # Adam
    double beta_2            # Adam
    double rho               # RMSprop
    double step_size         # Adam: learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    double weight_decay      # L2 penalty added to the gradient of touched rows
    double max_norm          # <= 0: no renormalisation
    bint eps_in_sqrt         # Adagrad, RMSprop: Keras' sqrt(v + eps), not PyTorch's sqrt(v) + eps

cdef inline floating _sqrt(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)

cdef inline void adam_row(floating* w, const floating* g, floating* s1, floating* s2, Py_ssize_t dim,
                          floating one_minus_b1, floating one_minus_b2, floating step,
                          floating eps, const floating* sq=NULL) noexcept nogil:
    """Lazy Adam on one row (the arithmetic of :func:`update_row`'s Adam branch, which
    calls it): loops that update many rows with the same constants call it directly.
    ``sq`` (or NULL: ``g * g``) is what enters the second moment: the sum of the squared
    per-occurrence gradients under Keras' rule for repeated ids."""
    cdef Py_ssize_t d
    cdef floating m, v
    if sq != NULL:
        for d in range(dim):
            m = s1[d] + one_minus_b1 * (g[d] - s1[d])
            v = s2[d] + one_minus_b2 * (sq[d] - s2[d])
            s1[d] = m
            s2[d] = v
            w[d] -= step * m / (_sqrt(v) + eps)
        return
    for d in range(dim):
        m = s1[d] + one_minus_b1 * (g[d] - s1[d])
        v = s2[d] + one_minus_b2 * (g[d] * g[d] - s2[d])
        s1[d] = m
        s2[d] = v
        w[d] -= step * m / (_sqrt(v) + eps)


cdef inline floating _denominator(floating v, floating eps, bint eps_in_sqrt) noexcept nogil:
    """Keras divides by ``sqrt(v + eps)`` (Adagrad, RMSprop), PyTorch by ``sqrt(v) + eps``."""
    if eps_in_sqrt:
        return _sqrt(v + eps)
    return _sqrt(v) + eps


cdef inline void update_row(floating* w, floating* g, floating* s1, floating* s2,
                            floating* row_state, Py_ssize_t dim,
                            const OptimConfig* cfg, const floating* sq=NULL) noexcept nogil:
    """Apply one optimizer step to row ``w`` with gradient ``g`` (``g`` is clobbered).

    ``s1``/``s2`` are the row's slices of the per-element state (momentum buffer,
    Adagrad or RMSprop accumulator, Adam's first/second moments) and ``row_state`` the row's single
    row-wise Adagrad accumulator; unused ones may be NULL. ``sq`` (or NULL: ``g * g``) is
    the squared gradient the accumulators take: the sum of squared per-occurrence
    gradients under Keras' rule for repeated ids. With weight decay it is not used: in
    Keras an L2 penalty's dense gradient makes the whole gradient dense, duplicates summed.
    """
    cdef Py_ssize_t d
    # Hyper-parameters in the row's precision, so float32 loops stay float32 and vectorise.
    cdef floating lr = <floating> cfg.learning_rate
    cdef floating wd = <floating> cfg.weight_decay
    cdef floating eps = <floating> cfg.epsilon
    cdef floating mom, one_minus_b1, one_minus_b2, step, m, v, acc, scale, norm2, rho, one_minus_rho
    if wd != 0:
        sq = NULL
        for d in range(dim):
            g[d] += wd * w[d]

    if cfg.kind == OPT_SGD:
        mom = <floating> cfg.momentum
        if mom != 0:
            # PyTorch's form: buf = momentum * buf + g; Nesterov looks ahead along buf.
            for d in range(dim):
                s1[d] = mom * s1[d] + g[d]
            if cfg.nesterov:
                for d in range(dim):
                    w[d] -= lr * (g[d] + mom * s1[d])
            else:
                for d in range(dim):
                    w[d] -= lr * s1[d]
        else:
            for d in range(dim):
                w[d] -= lr * g[d]
    elif cfg.kind == OPT_ADAGRAD:
        for d in range(dim):
            s1[d] += sq[d] if sq != NULL else g[d] * g[d]
            w[d] -= lr * g[d] / _denominator(s1[d], eps, cfg.eps_in_sqrt)
    elif cfg.kind == OPT_RMSPROP:
        rho = <floating> cfg.rho
        one_minus_rho = <floating> (1.0 - cfg.rho)
        for d in range(dim):
            s1[d] = rho * s1[d] + one_minus_rho * (sq[d] if sq != NULL else g[d] * g[d])
            w[d] -= lr * g[d] / _denominator(s1[d], eps, cfg.eps_in_sqrt)
    elif cfg.kind == OPT_ROWWISE_ADAGRAD:
        # One accumulator per row (FBGEMM's row-wise Adagrad): mean of squared gradient.
        acc = 0
        for d in range(dim):
            acc += sq[d] if sq != NULL else g[d] * g[d]
        if dim > 0:
            row_state[0] += acc / dim
        scale = lr / _denominator(row_state[0], eps, cfg.eps_in_sqrt)
        for d in range(dim):
            w[d] -= scale * g[d]
    else:  # OPT_ADAM, lazy: only this row's moments move (torch.optim.SparseAdam).
        adam_row(w, g, s1, s2, dim, <floating> (1.0 - cfg.beta_1), <floating> (1.0 - cfg.beta_2),
                 <floating> cfg.step_size, eps, sq)

    if cfg.max_norm > 0:
        norm2 = 0
        for d in range(dim):
            norm2 += w[d] * w[d]
        if norm2 > cfg.max_norm * cfg.max_norm:
            # Same rescaling as torch.embedding_renorm_: max_norm / (norm + 1e-7).
            scale = <floating> (cfg.max_norm / (sqrt(<double> norm2) + 1e-7))
            for d in range(dim):
                w[d] *= scale


cdef struct CatchUp:
    # Keras updates every row every step; a lazy update skips the steps whose batch lacks
    # the row. The skipped steps are applied when the row is next touched (and for every
    # row when fit ends an epoch), from these per-step tables (see catch_up_row).
    double* sums        # (horizon + 1,): sums[k] = sum over the last k steps s of rate_s * ratio**(j)
    Py_ssize_t horizon  # steps after which ratio**k is negligible (sums[horizon] stands for more)
    double ratio        # Adam: beta_1 / sqrt(beta_2); SGD: momentum
    double* decay1      # (powers,): beta_1**k (Adam), momentum**k (SGD)
    double* decay2      # (powers,): beta_2**k (Adam), rho**k (RMSprop)
    Py_ssize_t powers
    double base1        # beta_1 / momentum: decay1's base (pow() beyond the table)
    double base2        # beta_2 / rho


cdef inline double _power(const double* table, Py_ssize_t size, double base, int64_t k) noexcept nogil:
    if k < size:
        return table[k]
    return pow(base, <double> k)


cdef inline void catch_up_row(floating* w, floating* s1, floating* s2, Py_ssize_t dim, int64_t k,
                              const OptimConfig* cfg, const CatchUp* cu) noexcept nogil:
    """Apply ``k`` skipped steps (zero gradient) to one row and its state, as Keras' dense
    update does to a row its batches miss.

    SGD with momentum: the buffer decays by ``momentum**k`` and the weights move by
    ``lr * buf * sum(momentum**j)`` (Nesterov: one more factor of ``momentum``): exact.
    RMSprop: only the accumulator moves (``rho**k``): exact. Adagrad: nothing moves.
    Adam: the moments decay by ``beta**k`` and the weights move by
    ``m / (sqrt(v) + eps) * sum_j step_j * (beta_1 / sqrt(beta_2))**j``: exact but for eps,
    which the dense update adds to ``sqrt(beta_2**j v)`` and this to ``beta_2**(j/2) sqrt(v)``
    (a relative difference of at most ``eps / sqrt(v) * (1 - beta_2**(j/2))``).
    """
    cdef Py_ssize_t d
    cdef floating f1, f2, move, eps
    if k <= 0:
        return
    cdef double total = cu.sums[k if k < cu.horizon else cu.horizon]
    if cfg.kind == OPT_ADAM:
        f1 = <floating> _power(cu.decay1, cu.powers, cu.base1, k)
        f2 = <floating> _power(cu.decay2, cu.powers, cu.base2, k)
        move = <floating> total
        eps = <floating> cfg.epsilon
        for d in range(dim):
            w[d] -= move * s1[d] / (_sqrt(s2[d]) + eps)
            s1[d] *= f1
            s2[d] *= f2
    elif cfg.kind == OPT_SGD and cfg.momentum != 0:
        f1 = <floating> _power(cu.decay1, cu.powers, cu.base1, k)
        move = <floating> (total * (cfg.momentum if cfg.nesterov else 1.0))
        for d in range(dim):
            w[d] -= move * s1[d]
            s1[d] *= f1
    elif cfg.kind == OPT_RMSPROP:
        f2 = <floating> _power(cu.decay2, cu.powers, cu.base2, k)
        for d in range(dim):
            s1[d] *= f2


cdef inline void prefetch_update(floating* table, floating* s1, floating* s2, int64_t row,
                                 Py_ssize_t dim) noexcept nogil:
    """Prefetch the row (and its state) that an update loop will write soon: rows of a
    large table are scattered, and Adam touches three of them per id."""
    cdef size_t nbytes = dim * sizeof(floating)
    prefetch_row(table + row * dim, nbytes)
    if s1 != NULL:
        prefetch_row(s1 + row * dim, nbytes)
    if s2 != NULL:
        prefetch_row(s2 + row * dim, nbytes)


cdef OptimConfig make_config(dict params)

cdef struct StatePointers:
    # void* because a struct cannot hold fused types; cast to floating* at use.
    void* s1
    void* s2
    void* row_state

cdef StatePointers state_pointers(object state1, object state2, object row_state) except *
