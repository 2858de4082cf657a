"""The compiled training step of a planned stack, many steps per call, without the GIL.

The stack is what the engine's plan reduces a model to: a fused embedding bag (lookup +
sum / mean / max pooling), Dense layers, and a loss on the last layer's logits (or
outputs). One step is

    bag forward -> Dense forward -> loss -> Dense backward -> bag backward (grouped by id)
    -> lazy optimizer update of the touched table rows -> update of the Dense weights

over a batch named by positions in a sample order (a shuffled epoch is never copied). Every
gradient is known before any weight moves, and a batch whose loss is not finite stops the
run before its updates.

Determinism: every sum has a fixed order (rows of a batch; each id's gradient summed bag
by bag, in order, by the thread that owns the id, whether it is found through the slot
map or a stable sort; Dense products accumulated over the batch in order), and each
output is written by one thread, so the weights after any number of steps are bitwise
identical for any thread count and whether the steps run one per call or an epoch per
call.

Thread policy: each region asks ``threads_for`` (``_threads.pxd``) with its own work and
the caller's limit; the count of regions that opened a team is kept for the tests.
"""

from cython.parallel cimport prange, threadid
from libc.math cimport exp, log, log1p, fabs, isfinite, sqrt, pow, tanhf, expf
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy, memset

import numpy as np

from fastembed._kernels._types cimport index_t, MODE_MEAN, MODE_MAX, UPDATE_PREFETCH_DISTANCE
from fastembed._kernels._threads cimport threads_for
from fastembed._kernels._bag cimport max_bag, set_bag_simd, sum_bag
from fastembed._kernels._grouping cimport (GroupBuffers, MAX_RADIX, SegmentPlan, group_entries,
                                           segment_row)
from fastembed._kernels._optim cimport (CatchUp, OptimConfig, OPT_ADAM, OPT_RMSPROP, OPT_SGD, adam_row, catch_up_row,
                                        make_config, prefetch_update, update_row)


def set_rowsum_simd(bint avx2):
    """Use the AVX2 row sum in this module's bag loops (set at import, as _forward's)."""
    return set_bag_simd(1 if avx2 else 0, -1)


# Codes shared with fastembed.engine (read from here: ACTIVATIONS, LOSSES, METRICS).
cdef enum:
    ACT_LINEAR = 0
    ACT_RELU = 1
    ACT_TANH = 2
    ACT_SIGMOID = 3
    ACT_SOFTMAX = 4

cdef enum:
    LOSS_BINARY_LOGITS = 0       # sigmoid cross-entropy on the logits
    LOSS_CATEGORICAL_LOGITS = 1  # softmax cross-entropy, one-hot (or probability) targets
    LOSS_SPARSE_LOGITS = 2       # softmax cross-entropy, integer class labels
    LOSS_MSE = 3                 # mean squared error on the outputs

cdef enum:
    METRIC_NONE = 0
    METRIC_BINARY_ACCURACY = 1
    METRIC_CATEGORICAL_ACCURACY = 2
    METRIC_SPARSE_ACCURACY = 3

cdef enum:
    STATUS_OK = 0
    STATUS_NON_FINITE_LOSS = 1
    STATUS_BAD_ID = 2

ACTIVATIONS = {"linear": ACT_LINEAR, "relu": ACT_RELU, "tanh": ACT_TANH, "sigmoid": ACT_SIGMOID,
               "softmax": ACT_SOFTMAX}
LOSSES = {"binary_logits": LOSS_BINARY_LOGITS, "categorical_logits": LOSS_CATEGORICAL_LOGITS,
          "sparse_logits": LOSS_SPARSE_LOGITS, "mse": LOSS_MSE}
METRICS = {None: METRIC_NONE, "binary_accuracy": METRIC_BINARY_ACCURACY,
           "categorical_accuracy": METRIC_CATEGORICAL_ACCURACY,
           "sparse_categorical_accuracy": METRIC_SPARSE_ACCURACY}
STATUS = {"ok": STATUS_OK, "non_finite_loss": STATUS_NON_FINITE_LOSS, "bad_id": STATUS_BAD_ID}

# Bytes the slot path of the table update may hold as per-id gradient sums (see
# _table_update_slots): at dim 128, 32,768 distinct ids per batch (a batch of IMDB's large
# configuration has about 8,000).
SLOTS_BUDGET = 16 << 20

cdef enum:
    # Catching up (Keras' dense updates applied lazily): the longest gap summed step by
    # step, and the powers of the decay factors kept in a table (pow() beyond).
    CATCH_UP_MAX_HORIZON = 4096
    CATCH_UP_POWERS = 4096

cdef enum:
    SLOTS_BAD_ID = 1
    SLOTS_FULL = 2

# Parallel regions opened with more than one thread since import (for the tests of the
# thread policy). Only ever changed by the serial code that launches a region.
cdef long long _teams_opened = 0


def teams_opened():
    """How many parallel regions this module has run with more than one thread."""
    return _teams_opened


# Batches whose distinct ids overflowed the slots and took the sorted path (for the tests).
cdef long long _slot_overflows = 0


def slot_overflows():
    """How many batches took the sorted table update because the slots were full."""
    return _slot_overflows


cdef inline int _team(Py_ssize_t work, int limit, Py_ssize_t min_work) noexcept nogil:
    global _teams_opened
    cdef int n = threads_for(work, limit, min_work)
    if n > 1:
        _teams_opened += 1
    return n


cdef struct DenseSpec:
    float* kernel          # (n_in, n_out)
    float* bias            # (n_out,) or NULL
    float* grad_kernel
    float* grad_bias       # NULL without bias
    Py_ssize_t n_in
    Py_ssize_t n_out
    int activation
    float l2_twice         # kernel regulariser: 2 * l2 added to the kernel gradient
    float* z               # (batch, n_out) pre-activations
    float* h               # (batch, n_out) activations (outputs for the last layer)
    float* g               # (batch, n_out) gradient w.r.t. z


cdef struct Stack:
    # Data, validated by the engine.
    const void* ids
    bint ids_int64
    Py_ssize_t n_ids
    Py_ssize_t seq               # > 0: padded rows of seq ids; 0: ragged (offsets)
    const int64_t* offsets
    const float* y               # (n_samples, y_width) float targets, or NULL
    const int64_t* labels        # (n_samples,) class labels (sparse loss), or NULL
    Py_ssize_t y_width
    const float* sample_weight   # (n_samples,) or NULL
    Py_ssize_t batch_size
    # The embedding bag.
    float* table
    Py_ssize_t num_rows
    Py_ssize_t dim
    int mode
    int64_t padding_idx
    bint train_embedding
    OptimConfig table_rule
    float* table_s1
    float* table_s2
    float* table_rs
    bint per_occurrence          # Keras' rule for repeated ids: squares summed per occurrence
    int64_t* row_step            # (num_rows,) the step each row was last updated at, or NULL (lazy)
    CatchUp catch_up             # the skipped steps' tables (row_step != NULL)
    int64_t* catch_rows          # (max_threads, catch_capacity) rows to catch up before a step
    int64_t* catch_gaps          # (max_threads, catch_capacity) their skipped steps
    Py_ssize_t catch_capacity    # the most entries one batch holds
    # Dense layers; the trainable weights are views into one flat buffer, updated by one
    # rule call (every Keras rule is element-wise).
    DenseSpec* layers
    Py_ssize_t n_layers
    float* dense_flat
    float* dense_grad_flat
    Py_ssize_t dense_size
    OptimConfig dense_rule
    float* dense_s1
    float* dense_s2
    float* dense_rs
    int loss
    int metric
    bint raw_outputs             # the loss takes logits (from_logits): outputs are the logits
    # Step buffers.
    float* h0                    # (batch, dim) pooled embeddings
    float* g0                    # (batch, dim) their gradient
    int64_t* argpos              # (batch, dim) max mode, or NULL
    int64_t* starts              # (batch,)
    int64_t* stops
    float* bag_scale             # (batch,)
    float* scratch               # (max_threads, dim)
    float* scratch_sq            # (max_threads, dim) per-occurrence squares (sorted path), or NULL
    GroupBuffers group
    int32_t* slot_of             # (num_rows,) slot path: id -> slot, -1 when free; or NULL
    Py_ssize_t slot_capacity     # slots in all (each of nt owners gets capacity // nt)
    int64_t* slot_rows           # (capacity,) the id of each slot
    float* slot_grads            # (capacity, dim) the summed gradient of each slot
    float* slot_sq               # (capacity, dim) its summed per-occurrence squares, or NULL
    int64_t* slot_mark           # (capacity,) last bag that touched a slot << 32 | count in it
    Py_ssize_t longest_bag
    int32_t* bag_slots           # (max_threads, longest bag) the slots one bag touches
    Py_ssize_t* slots_used       # (max_threads,) slots each owner took
    int max_threads


cdef struct RunTotals:
    double loss_sum              # sum over samples of weight * per-sample loss
    double metric_sum            # sum over samples of the per-sample metric
    Py_ssize_t samples
    Py_ssize_t steps
    int status
    Py_ssize_t bad_step


cdef inline float _sigmoid(float z) noexcept nogil:
    cdef float e
    if z >= 0:
        return 1.0 / (1.0 + expf(-z))
    e = expf(z)
    return e / (1.0 + e)


cdef void _dense_forward(const Stack* st, DenseSpec* layer, const float* x, Py_ssize_t n,
                         bint apply_activation, int limit, Py_ssize_t min_work) noexcept nogil:
    """``z = x @ kernel + bias`` and ``h = activation(z)``, one row per thread, the sum
    over inputs in order."""
    cdef Py_ssize_t b, k, j, n_in = layer.n_in, n_out = layer.n_out
    cdef float* z
    cdef float* h
    cdef float xk
    cdef const float* w
    cdef int nt = _team(n * n_in * n_out, limit, min_work)
    for b in prange(n, schedule="static", num_threads=nt):
        z = layer.z + b * n_out
        h = layer.h + b * n_out
        if layer.bias != NULL:
            memcpy(z, layer.bias, n_out * sizeof(float))
        else:
            memset(z, 0, n_out * sizeof(float))
        for k in range(n_in):
            xk = x[b * n_in + k]
            w = layer.kernel + k * n_out
            for j in range(n_out):
                z[j] += xk * w[j]
        if not apply_activation or layer.activation == ACT_LINEAR or layer.activation == ACT_SOFTMAX:
            memcpy(h, z, n_out * sizeof(float))
        elif layer.activation == ACT_RELU:
            for j in range(n_out):
                h[j] = z[j] if z[j] > 0 else 0
        elif layer.activation == ACT_TANH:
            for j in range(n_out):
                h[j] = tanhf(z[j])
        else:
            for j in range(n_out):
                h[j] = _sigmoid(z[j])


cdef inline void _activation_backward(int activation, const float* z, const float* h, float* g,
                                      Py_ssize_t n) noexcept nogil:
    """``g *= activation'(z)`` (in place)."""
    cdef Py_ssize_t j
    if activation == ACT_RELU:
        for j in range(n):
            if not z[j] > 0:
                g[j] = 0
    elif activation == ACT_TANH:
        for j in range(n):
            g[j] = g[j] * (1 - h[j] * h[j])
    elif activation == ACT_SIGMOID:
        for j in range(n):
            g[j] = g[j] * (h[j] * (1 - h[j]))


cdef inline Py_ssize_t _argmax(const float* values, Py_ssize_t n) noexcept nogil:
    """First position of the largest value (NumPy's argmax)."""
    cdef Py_ssize_t j, best = 0
    for j in range(1, n):
        if values[j] > values[best]:
            best = j
    return best


cdef inline double _metric(const Stack* st, const float* p, const float* y, int64_t label,
                           Py_ssize_t out) noexcept nogil:
    """The per-sample value of the compiled metric (Keras' accuracy variants)."""
    cdef Py_ssize_t j
    cdef double hits = 0
    if st.metric == METRIC_BINARY_ACCURACY:
        for j in range(out):
            hits += 1.0 if (p[j] > 0.5) == (y[j] > 0.5) else 0.0
        return hits / out
    if st.metric == METRIC_CATEGORICAL_ACCURACY:
        return 1.0 if _argmax(p, out) == _argmax(y, out) else 0.0
    if st.metric == METRIC_SPARSE_ACCURACY:
        return 1.0 if _argmax(p, out) == label else 0.0
    return 0.0


cdef inline double _log_sum_exp(const float* z, Py_ssize_t n) noexcept nogil:
    """``log(sum(exp(z)))``, shifted by the maximum so that it never overflows."""
    cdef Py_ssize_t j
    cdef double zmax = z[0], total = 0
    for j in range(1, n):
        if z[j] > zmax:
            zmax = z[j]
    for j in range(n):
        total += exp(z[j] - zmax)
    return log(total) + zmax


cdef inline void _outputs(const Stack* st, const DenseSpec* last, Py_ssize_t i, float* p) noexcept nogil:
    """The model's outputs for row ``i`` of the batch: the loss's link applied to the
    logits (sigmoid, softmax), or the last layer's activations."""
    cdef Py_ssize_t j, out = last.n_out
    cdef const float* z = last.z + i * out
    cdef double lse
    if st.raw_outputs:
        memcpy(p, z, out * sizeof(float))
    elif st.loss == LOSS_BINARY_LOGITS:
        for j in range(out):
            p[j] = _sigmoid(z[j])
    elif st.loss == LOSS_MSE:
        memcpy(p, last.h + i * out, out * sizeof(float))
    else:
        lse = _log_sum_exp(z, out)
        for j in range(out):
            p[j] = <float> exp(z[j] - lse)


cdef double _loss_and_grad(const Stack* st, const int64_t* samples, Py_ssize_t n,
                           float* probs, double* metric_sum) noexcept nogil:
    """Loss of the batch (sum over samples of weight * loss), its gradient w.r.t. the last
    layer's pre-activations (into its ``g``, divided by the batch size as Keras'
    sum-over-batch-size reduction does) and the per-sample metric. ``probs`` (may be NULL)
    receives the model's outputs (probabilities for the cross-entropies)."""
    cdef DenseSpec* last = &st.layers[st.n_layers - 1]
    cdef Py_ssize_t out = last.n_out, i, j
    cdef int64_t idx, label = -1
    cdef const float* z
    cdef const float* y
    cdef float* g
    cdef float* p
    cdef float w, zj, yj, pj, diff
    cdef double total = 0, sample_loss, lse
    cdef float* row_probs = st.scratch  # (out,) when probs is NULL: this part is serial
    for i in range(n):
        idx = samples[i]
        w = st.sample_weight[idx] if st.sample_weight != NULL else 1
        z = last.z + i * out
        g = last.g + i * out
        p = probs + i * out if probs != NULL else row_probs
        y = st.y + idx * st.y_width if st.y != NULL else NULL
        if st.labels != NULL:
            label = st.labels[idx]
        sample_loss = 0
        if y == NULL and st.labels == NULL:
            # No targets (predict): the outputs only.
            _outputs(st, last, i, p)
            continue
        if st.loss == LOSS_BINARY_LOGITS:
            for j in range(out):
                zj = z[j]
                yj = y[j]
                # log(1 + exp(-|z|)) + max(z, 0) - z*y: stable for any z.
                sample_loss += log1p(exp(-fabs(<double> zj))) + (zj if zj > 0 else 0) - <double> zj * yj
                pj = _sigmoid(zj)
                p[j] = pj
                g[j] = (pj - yj) * (w / <float> (n * out))
            sample_loss /= out
        elif st.loss == LOSS_MSE:
            for j in range(out):
                pj = last.h[i * out + j]
                p[j] = pj
                diff = pj - y[j]
                sample_loss += <double> diff * diff
                g[j] = 2 * diff * (w / <float> (n * out))
            _activation_backward(last.activation, z, last.h + i * out, g, out)
            sample_loss /= out
        else:
            lse = _log_sum_exp(z, out)
            for j in range(out):
                p[j] = <float> exp(z[j] - lse)
            if st.loss == LOSS_SPARSE_LOGITS:
                sample_loss = lse - z[label]
                for j in range(out):
                    g[j] = (p[j] - (1 if j == label else 0)) * (w / <float> n)
            else:
                for j in range(out):
                    if y[j] != 0:
                        sample_loss += y[j] * (lse - z[j])
                    g[j] = (p[j] - y[j]) * (w / <float> n)
        if st.raw_outputs:
            # Compiled from_logits=True on a linear output: the model's outputs (and what
            # the metrics see, as in Keras) are the logits; the link was only for the loss.
            memcpy(p, z, out * sizeof(float))
        total += w * sample_loss
        metric_sum[0] += _metric(st, p, y, label, out)
    return total


cdef void _dense_backward(const Stack* st, Py_ssize_t n, int limit, Py_ssize_t min_work) noexcept nogil:
    """Weight gradients of every Dense layer and the gradient w.r.t. the pooled embeddings
    (``g0``), from the last layer's ``g``. Sums over the batch run in row order."""
    cdef Py_ssize_t l, b, k, j, n_in, n_out
    cdef DenseSpec* layer
    cdef DenseSpec* below
    cdef const float* x
    cdef float* gx
    cdef float* gk
    cdef const float* gb
    cdef const float* w
    cdef float xbk, acc
    cdef int nt
    for l in range(st.n_layers - 1, -1, -1):
        layer = &st.layers[l]
        n_in, n_out = layer.n_in, layer.n_out
        x = st.h0 if l == 0 else st.layers[l - 1].h
        nt = _team(n * n_in * n_out, limit, min_work)
        # Kernel gradient, one kernel row per thread: sum over the batch in row order.
        for k in prange(n_in, schedule="static", num_threads=nt):
            gk = layer.grad_kernel + k * n_out
            for j in range(n_out):
                gk[j] = 0
            for b in range(n):
                xbk = x[b * n_in + k]
                gb = layer.g + b * n_out
                for j in range(n_out):
                    gk[j] += xbk * gb[j]
            if layer.l2_twice != 0:
                for j in range(n_out):
                    gk[j] += layer.l2_twice * layer.kernel[k * n_out + j]
        if layer.grad_bias != NULL:
            for j in range(n_out):
                layer.grad_bias[j] = 0
            for b in range(n):
                for j in range(n_out):
                    layer.grad_bias[j] += layer.g[b * n_out + j]
        # Gradient w.r.t. this layer's input, through the activation of the layer below.
        gx = st.g0 if l == 0 else st.layers[l - 1].g
        for b in prange(n, schedule="static", num_threads=nt):
            for k in range(n_in):
                w = layer.kernel + k * n_out
                acc = 0
                for j in range(n_out):
                    acc = acc + layer.g[b * n_out + j] * w[j]
                gx[b * n_in + k] = acc
            if l > 0:
                below = &st.layers[l - 1]
                _activation_backward(below.activation, below.z + b * n_in, below.h + b * n_in,
                                     gx + b * n_in, n_in)


cdef inline bint _finite(const float* values, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    cdef float acc = 0
    # x * 0 is 0 for finite x and NaN for inf / NaN: one pass, no branch per element.
    for i in range(n):
        acc = acc + values[i] * 0
    return acc == 0


cdef bint _gradients_finite(const Stack* st, Py_ssize_t n) noexcept nogil:
    """Are the step's gradients (Dense weights, pooled embeddings) all finite?"""
    cdef Py_ssize_t l
    cdef const DenseSpec* layer
    if not _finite(st.g0, n * st.dim):
        return False
    for l in range(st.n_layers):
        layer = &st.layers[l]
        if not _finite(layer.grad_kernel, layer.n_in * layer.n_out):
            return False
        if layer.grad_bias != NULL and not _finite(layer.grad_bias, layer.n_out):
            return False
    return True


cdef Py_ssize_t _bag_forward(Stack* st, const int64_t* samples, Py_ssize_t n, int limit,
                             Py_ssize_t min_work, int64_t catch_up_to=-1) noexcept nogil:
    """Pool the bags of the batch into ``h0``; returns the number of invalid ids seen.
    With ``catch_up_to >= 0`` (training with Keras' dense updates), the rows read are
    first brought up to that step (_catch_up_rows). Doing it bag by bag inside this loop
    measured slower on one thread: the separate pass prefetches the scattered rows."""
    cdef Py_ssize_t b, d, count, bag_invalid, n_invalid = 0, entries = 0, dim = st.dim
    cdef int64_t idx
    cdef float* row
    for b in range(n):
        idx = samples[b]
        if st.seq > 0:
            st.starts[b] = idx * st.seq
            st.stops[b] = st.starts[b] + st.seq
        else:
            st.starts[b] = st.offsets[idx]
            st.stops[b] = st.offsets[idx + 1]
        entries += st.stops[b] - st.starts[b]
    cdef int nt = _team(entries * dim, limit, min_work)
    if catch_up_to >= 0:
        _catch_up_rows(st, n, catch_up_to, limit, min_work)
    for b in prange(n, schedule="guided", num_threads=nt):
        row = st.h0 + b * dim
        memset(row, 0, dim * sizeof(float))
        bag_invalid = 0
        if st.mode == MODE_MAX:
            if st.ids_int64:
                max_bag(<const float*> st.table, dim, st.num_rows, <const int64_t*> st.ids, st.starts[b],
                        st.stops[b], st.n_ids, st.padding_idx, row, st.argpos + b * dim, &bag_invalid)
            else:
                max_bag(<const float*> st.table, dim, st.num_rows, <const int32_t*> st.ids, st.starts[b],
                        st.stops[b], st.n_ids, st.padding_idx, row, st.argpos + b * dim, &bag_invalid)
        else:
            if st.ids_int64:
                count = sum_bag(<const float*> st.table, dim, st.num_rows, <const int64_t*> st.ids,
                                st.starts[b], st.stops[b], st.n_ids, st.padding_idx, <const float*> NULL,
                                row, &bag_invalid)
            else:
                count = sum_bag(<const float*> st.table, dim, st.num_rows, <const int32_t*> st.ids,
                                st.starts[b], st.stops[b], st.n_ids, st.padding_idx, <const float*> NULL,
                                row, &bag_invalid)
            # An empty or fully padded bag keeps its zeros: no 0/0.
            if st.mode == MODE_MEAN and count > 1:
                for d in range(dim):
                    row[d] = row[d] / count
            # The backward pass scales each entry's gradient by this (1/count for mean).
            if st.mode == MODE_MEAN:
                st.bag_scale[b] = <float> (1.0 / count) if count > 0 else 0
            else:
                st.bag_scale[b] = 1
        n_invalid += bag_invalid  # a prange reduction
    return n_invalid


cdef int _slots_of_thread(Stack* st, const index_t* ids, Py_ssize_t n, int t, int nt,
                          Py_ssize_t* used) noexcept nogil:
    """Thread ``t`` of ``nt``: add the gradient of every id it owns (by a hash of the id) to
    the id's slot, bag after bag.

    An id that occurs ``r`` times in a bag gets ``(r * scale) * grad[bag]`` once, and its
    bags come in order: exactly what the sorted path's segment sums add (segment_row), so
    both paths, and any number of owners, give the same bits. Returns 0, SLOTS_BAD_ID, or
    SLOTS_FULL when the thread's share of the slots ran out; ``used`` receives the slots
    taken, for the caller to clear."""
    cdef Py_ssize_t b, j, k, d, dim = st.dim, touched, u = 0
    cdef Py_ssize_t capacity = st.slot_capacity // nt, first = t * capacity
    cdef index_t value
    cdef int32_t slot
    cdef float scale, sq_scale
    cdef const float* g
    cdef float* acc
    cdef float* acc_sq
    cdef int32_t* bag_slots = st.bag_slots + t * st.longest_bag
    for b in range(n):
        touched = 0
        for j in range(st.starts[b], st.stops[b]):
            value = ids[j]
            if value < 0 or value >= st.num_rows:
                used[0] = u
                return SLOTS_BAD_ID
            # The owner of an id: a multiplicative hash scaled to [0, nt) (no division, and
            # frequent low ids spread over the owners).
            if value == st.padding_idx or (nt > 1 and <int> (
                    (<uint64_t> (<uint32_t> value * <uint32_t> 2654435761u) * <uint64_t> nt) >> 32) != t):
                continue
            slot = st.slot_of[value]
            if slot < 0:
                if u == capacity:
                    used[0] = u
                    return SLOTS_FULL
                slot = <int32_t> (first + u)
                st.slot_of[value] = slot
                st.slot_rows[slot] = value
                st.slot_mark[slot] = -1
                memset(st.slot_grads + slot * dim, 0, dim * sizeof(float))
                if st.slot_sq != NULL:
                    memset(st.slot_sq + slot * dim, 0, dim * sizeof(float))
                u += 1
            # One word per slot: the last bag that touched it (high half) and how often
            # (low half), so counting costs one memory access per entry.
            if (st.slot_mark[slot] >> 32) != b:
                st.slot_mark[slot] = (<int64_t> b << 32) | 1
                bag_slots[touched] = slot
                touched += 1
            else:
                st.slot_mark[slot] += 1
        g = st.g0 + b * dim
        for k in range(touched):
            slot = bag_slots[k]
            scale = (<float> <int32_t> st.slot_mark[slot]) * st.bag_scale[b]  # the count
            acc = st.slot_grads + slot * dim
            if st.slot_sq != NULL:
                # Each of the r occurrences contributes (bag_scale * g)**2 (segment_row's rule).
                sq_scale = scale * st.bag_scale[b]
                acc_sq = st.slot_sq + slot * dim
                for d in range(dim):
                    acc[d] += scale * g[d]
                    acc_sq[d] += sq_scale * (g[d] * g[d])
            else:
                for d in range(dim):
                    acc[d] += scale * g[d]
    used[0] = u
    return 0


cdef inline void _catch_up(Stack* st, int64_t row, int64_t iteration) noexcept nogil:
    """Before row ``row`` takes step ``iteration``: apply the steps it skipped."""
    if st.row_step != NULL:
        catch_up_row(st.table + row * st.dim, st.table_s1 + row * st.dim if st.table_s1 != NULL else <float*> NULL,
                     st.table_s2 + row * st.dim if st.table_s2 != NULL else <float*> NULL, st.dim,
                     iteration - 1 - st.row_step[row], &st.table_rule, &st.catch_up)
        st.row_step[row] = iteration


cdef void _catch_up_batch_of_thread(Stack* st, const index_t* ids, Py_ssize_t n, int t, int nt,
                                    int64_t done) noexcept nogil:
    """Thread ``t`` of ``nt``: bring the rows of the batch it owns (by the slot path's hash)
    up to step ``done``, so the forward pass reads them as Keras' dense updates left them.

    Two passes: the ids are scanned for rows behind (a row seen twice is listed once: its
    step is set as it is listed), then the listed rows are caught up with their rows and
    state prefetched ahead, as the update loops do: the rows are scattered and each one
    costs three cache misses otherwise."""
    cdef Py_ssize_t b, j, stop, listed = 0, dim = st.dim
    cdef index_t value
    cdef int64_t row, last
    cdef int64_t* rows = st.catch_rows + t * st.catch_capacity
    cdef int64_t* gaps = st.catch_gaps + t * st.catch_capacity
    # Locals: the stores into row_step could alias the Stack's fields, which the compiler
    # would then reload for every entry.
    cdef int64_t* row_step = st.row_step
    cdef int64_t num_rows = st.num_rows, padding_idx = st.padding_idx
    cdef const int64_t* starts = st.starts
    cdef const int64_t* stops = st.stops
    for b in range(n):
        stop = stops[b]
        for j in range(starts[b], stop):
            value = ids[j]
            if value < 0 or value >= num_rows or value == padding_idx:
                continue  # bad ids are reported by the forward pass
            if nt > 1 and <int> ((<uint64_t> (<uint32_t> value * <uint32_t> 2654435761u) * <uint64_t> nt) >> 32) != t:
                continue
            last = row_step[value]
            if last < done:
                rows[listed] = value
                gaps[listed] = done - last
                row_step[value] = done
                listed += 1
    for j in range(listed):
        if j + UPDATE_PREFETCH_DISTANCE < listed:
            prefetch_update(st.table, st.table_s1, st.table_s2, rows[j + UPDATE_PREFETCH_DISTANCE], dim)
        row = rows[j]
        catch_up_row(st.table + row * dim, st.table_s1 + row * dim if st.table_s1 != NULL else <float*> NULL,
                     st.table_s2 + row * dim if st.table_s2 != NULL else <float*> NULL, dim, gaps[j],
                     &st.table_rule, &st.catch_up)


cdef void _catch_up_rows(Stack* st, Py_ssize_t n, int64_t done, int limit, Py_ssize_t min_work) noexcept nogil:
    """Before step ``done + 1``: catch up every row the batch's bags (``starts`` /
    ``stops``) read (see catch_up_row), in parallel when the work is large."""
    cdef Py_ssize_t b, entries = 0
    cdef int t, nt
    for b in range(n):
        entries += st.stops[b] - st.starts[b]
    nt = _team(entries * 4, limit, min_work)
    for t in prange(nt, schedule="static", num_threads=nt):
        if st.ids_int64:
            _catch_up_batch_of_thread(st, <const int64_t*> st.ids, n, t, nt, done)
        else:
            _catch_up_batch_of_thread(st, <const int32_t*> st.ids, n, t, nt, done)


cdef void _update_slots_of_thread(Stack* st, int t, Py_ssize_t capacity, Py_ssize_t u,
                                  int64_t iteration) noexcept nogil:
    """Apply the table's rule to the rows of thread ``t``'s slots (step ``iteration``)."""
    cdef Py_ssize_t k, first = t * capacity, dim = st.dim
    cdef int64_t row
    cdef float* sq
    cdef const OptimConfig* cfg = &st.table_rule
    # Plain Adam (no decay, no max-norm: the tutorial's case) skips update_row's dispatch.
    cdef bint plain_adam = cfg.kind == OPT_ADAM and cfg.weight_decay == 0 and cfg.max_norm <= 0
    cdef float one_minus_b1 = <float> (1.0 - cfg.beta_1), one_minus_b2 = <float> (1.0 - cfg.beta_2)
    cdef float step = <float> cfg.step_size, eps = <float> cfg.epsilon
    for k in range(first, first + u):
        # Rows of a large table are scattered and Adam touches three of them per id.
        if k + UPDATE_PREFETCH_DISTANCE < first + u:
            prefetch_update(st.table, st.table_s1, st.table_s2, st.slot_rows[k + UPDATE_PREFETCH_DISTANCE], dim)
        row = st.slot_rows[k]
        _catch_up(st, row, iteration)
        sq = st.slot_sq + k * dim if st.slot_sq != NULL else <float*> NULL
        if plain_adam:
            adam_row(st.table + row * dim, st.slot_grads + k * dim, st.table_s1 + row * dim,
                     st.table_s2 + row * dim, dim, one_minus_b1, one_minus_b2, step, eps, sq)
            continue
        update_row(st.table + row * dim, st.slot_grads + k * dim,
                   st.table_s1 + row * dim if st.table_s1 != NULL else <float*> NULL,
                   st.table_s2 + row * dim if st.table_s2 != NULL else <float*> NULL,
                   st.table_rs + row if st.table_rs != NULL else <float*> NULL,
                   dim, &st.table_rule, sq)


cdef int _table_update_slots(Stack* st, Py_ssize_t n, int nt, int64_t iteration) noexcept nogil:
    """The table update without a sort: each of ``nt`` threads owns the ids that hash to it
    and sums them in slots (``slot_of``: id -> slot, -1 when free), then updates their
    rows. Owners touch disjoint rows and slots: no race, no atomics. Returns 0, or
    SLOTS_BAD_ID / SLOTS_FULL with nothing written (every sum finishes before any update)."""
    cdef int t, status = 0, thread_status
    cdef Py_ssize_t k, capacity = st.slot_capacity // nt
    cdef Py_ssize_t* used = st.slots_used
    for t in prange(nt, schedule="static", num_threads=nt):
        if st.ids_int64:
            thread_status = _slots_of_thread(st, <const int64_t*> st.ids, n, t, nt, &used[t])
        else:
            thread_status = _slots_of_thread(st, <const int32_t*> st.ids, n, t, nt, &used[t])
        status |= thread_status  # a prange reduction
    if status == 0:
        for t in prange(nt, schedule="static", num_threads=nt):
            _update_slots_of_thread(st, t, capacity, used[t], iteration)
    for t in range(nt):
        for k in range(t * capacity, t * capacity + used[t]):
            st.slot_of[st.slot_rows[k]] = -1
    return status


cdef Py_ssize_t _table_update(Stack* st, Py_ssize_t n, int64_t iteration, int limit,
                              Py_ssize_t min_work) noexcept nogil:
    """Sum the batch's gradient per id and apply the table's rule to each touched row;
    returns the number of invalid ids (nothing is written then).

    Sum and mean bags take the slot path (no sort, _table_update_slots); max bags, and
    batches with more distinct ids than the slots hold, are grouped by a parallel stable
    sort and summed one id per thread (_grouping.pxd). Both add each id's contributions
    bag by bag, in order: the same bits whatever the path and the thread count."""
    cdef Py_ssize_t s, b, dim = st.dim, entries = 0
    cdef int64_t row
    cdef int tid
    cdef float* sq
    cdef GroupBuffers* g = &st.group
    for b in range(n):
        entries += st.stops[b] - st.starts[b]
    # Slotting (or grouping) reads each entry a few times; the sums cost dim per entry.
    cdef int nt = _team(entries * dim, limit, min_work)
    cdef int slots_status
    cdef Py_ssize_t n_invalid
    if st.slot_of != NULL:
        slots_status = _table_update_slots(st, n, nt, iteration)
        if slots_status == 0:
            return 0
        if slots_status & SLOTS_BAD_ID:
            return 1
        # SLOTS_FULL: more distinct ids than the slots hold; nothing was written, and the
        # sorted path (same bits) takes this batch.
        global _slot_overflows
        _slot_overflows += 1
    if st.ids_int64:
        n_invalid = group_entries(<const int64_t*> st.ids, n, st.padding_idx, st.num_rows, g, nt)
    else:
        n_invalid = group_entries(<const int32_t*> st.ids, n, st.padding_idx, st.num_rows, g, nt)
    if n_invalid:
        return n_invalid
    cdef SegmentPlan plan
    plan.segments = g.segments
    plan.order = g.sorted_order
    plan.entry_bag = g.entry_bag
    plan.entry_pos = g.entry_pos
    plan.bag_scale = <const void*> st.bag_scale
    plan.sample_weights = NULL
    plan.argpos = st.argpos
    plan.mode = st.mode
    # An update costs several operations per element (the rule reads and writes up to
    # three rows).
    nt = _team(g.u * dim * 8, limit, min_work)
    for s in prange(g.u, schedule="dynamic", chunksize=16, num_threads=nt):
        tid = threadid()
        if s + UPDATE_PREFETCH_DISTANCE < g.u:
            prefetch_update(st.table, st.table_s1, st.table_s2, g.unique_ids[s + UPDATE_PREFETCH_DISTANCE], dim)
        row = g.unique_ids[s]
        sq = st.scratch_sq + tid * dim if st.scratch_sq != NULL else <float*> NULL
        segment_row(st.scratch + tid * dim, dim, <const float*> st.g0, s, &plan, sq)
        _catch_up(st, row, iteration)
        update_row(st.table + row * dim, st.scratch + tid * dim,
                   st.table_s1 + row * dim if st.table_s1 != NULL else <float*> NULL,
                   st.table_s2 + row * dim if st.table_s2 != NULL else <float*> NULL,
                   st.table_rs + row if st.table_rs != NULL else <float*> NULL,
                   dim, &st.table_rule, sq)
    return 0


cdef void _advance_catch_up(Stack* st) noexcept nogil:
    """After a step: the skipped-step sums now end at it. ``sums[k]`` becomes
    ``sums[k - 1] + rate * ratio**k`` with this step's rate (Adam's bias-corrected step
    size, SGD's learning rate): ``horizon`` operations per step."""
    cdef CatchUp* cu = &st.catch_up
    cdef double rate = st.table_rule.step_size if st.table_rule.kind == OPT_ADAM else st.table_rule.learning_rate
    cdef double power = pow(cu.ratio, <double> cu.horizon)
    cdef Py_ssize_t k
    if st.row_step == NULL or cu.sums == NULL:
        return
    for k in range(cu.horizon, 0, -1):
        cu.sums[k] = cu.sums[k - 1] + rate * power
        power = power / cu.ratio if cu.ratio != 0 else 0
    cu.sums[0] = 0


cdef inline void _set_step(OptimConfig* cfg, int64_t t) noexcept nogil:
    """Adam's bias-corrected step size for step ``t`` (what SparseAdam computes in Python)."""
    if cfg.kind == OPT_ADAM:
        cfg.step_size = cfg.learning_rate * sqrt(1.0 - pow(cfg.beta_2, <double> t)) / (1.0 - pow(cfg.beta_1, <double> t))


cdef void _run(Stack* st, const int64_t* order, Py_ssize_t n_order, Py_ssize_t first_step,
               Py_ssize_t n_steps, int64_t iteration, bint training, float* probs, int limit,
               Py_ssize_t min_work, RunTotals* totals) noexcept nogil:
    cdef Py_ssize_t step, lo, hi, n, l
    cdef const int64_t* samples
    cdef double batch_loss, batch_metric
    cdef DenseSpec* layer
    for step in range(first_step, first_step + n_steps):
        lo = step * st.batch_size
        hi = lo + st.batch_size
        if hi > n_order:
            hi = n_order
        if lo >= hi:
            break
        n = hi - lo
        samples = order + lo
        # Keras' dense updates, caught up: the rows this batch reads first take the steps
        # they skipped (through the last one, `iteration`).
        if _bag_forward(st, samples, n, limit, min_work,
                        iteration if training and st.row_step != NULL else -1):
            totals.status = STATUS_BAD_ID
            totals.bad_step = step
            return
        for l in range(st.n_layers):
            layer = &st.layers[l]
            # The last layer's softmax / sigmoid is part of the loss (on the logits).
            _dense_forward(st, layer, st.h0 if l == 0 else st.layers[l - 1].h, n,
                           l < st.n_layers - 1 or st.loss == LOSS_MSE, limit, min_work)
        batch_metric = 0
        batch_loss = _loss_and_grad(st, samples, n,
                                    probs + (lo - first_step * st.batch_size) * st.layers[st.n_layers - 1].n_out
                                    if probs != NULL else NULL, &batch_metric)
        if not isfinite(batch_loss):
            totals.status = STATUS_NON_FINITE_LOSS
            totals.bad_step = step
            return
        if training:
            _dense_backward(st, n, limit, min_work)
            if not _gradients_finite(st, n):
                # Overflow in the backward pass: stop before any weight moves.
                totals.status = STATUS_NON_FINITE_LOSS
                totals.bad_step = step
                return
            # Step t of the optimizer (Adam's bias correction counts the model's steps).
            iteration += 1
            if st.train_embedding:
                _set_step(&st.table_rule, iteration)
                if _table_update(st, n, iteration, limit, min_work):
                    totals.status = STATUS_BAD_ID
                    totals.bad_step = step
                    return
                _advance_catch_up(st)
            if st.dense_size:
                _set_step(&st.dense_rule, iteration)
                update_row(st.dense_flat, st.dense_grad_flat,
                           st.dense_s1, st.dense_s2, st.dense_rs, st.dense_size, &st.dense_rule)
        totals.loss_sum += batch_loss
        totals.metric_sum += batch_metric
        totals.samples += n
        totals.steps += 1


cdef float* _ptr(object array) except? NULL:
    """Data pointer of a C-contiguous float32 array (None or empty: NULL)."""
    if array is None or array.size == 0:
        return NULL
    return <float*> <size_t> array.ctypes.data


cdef int64_t* _iptr(object array) except? NULL:
    if array is None or array.size == 0:
        return NULL
    return <int64_t*> <size_t> array.ctypes.data


cdef class StackTrainer:
    """A planned stack, bound to its data and buffers (built once per fit / evaluate /
    predict call by fastembed.engine, which validated everything it is given).

    Parameters
    ----------
    ids : int32 or int64 array, 1-D
        Flat ids: ``n_samples * seq`` of them (padded) or ``offsets[-1]`` (ragged).
    seq : int
        Row length of padded input, 0 for ragged.
    offsets : int64 array or None
    y : float32 array (n, width) or None
    labels : int64 array (n,) or None
    sample_weight : float32 array (n,) or None
    batch_size : int
    max_entries : int
        The most ids one batch can hold (sizes the buffers).
    longest_bag : int
        The most ids one bag holds.
    table : float32 array (num_rows, dim), updated in place
    mode, padding_idx : int
    layers : list of dict
        ``kernel``, ``bias`` (or None), ``grad_kernel``, ``grad_bias`` (or None),
        ``activation`` (code), ``l2``.
    loss, metric : int codes
    raw_outputs : bool
        The loss was compiled ``from_logits``: outputs are the last layer's logits.
    training : bool
        Allocate the backward buffers.
    max_threads : int
    table_rule, dense_rule : tuple or None
        ``(params dict, state1, state2, row_state)`` of the optimizer rules.
    dense_flat, dense_grad_flat : float32 arrays or None
        The packed trainable Dense weights and their gradient buffer.
    per_occurrence : bool
        Keras' rule for repeated ids: the table's accumulators take the sum of each
        occurrence's squared gradient, not the square of the per-id sum.
    catch_up : bool
        Keras' dense table updates, applied lazily: a row's skipped steps are applied when
        it is next touched, and for every row by :meth:`settle`.
    iteration : int
        The optimizer's step count when the trainer is made (every row is up to date then).
    """

    cdef Stack st
    cdef list _keep

    def __cinit__(self):
        memset(&self.st, 0, sizeof(Stack))

    def __dealloc__(self):
        free(self.st.layers)

    def __init__(self, ids, Py_ssize_t seq, offsets, y, labels, sample_weight, Py_ssize_t batch_size,
                 Py_ssize_t max_entries, Py_ssize_t longest_bag, table, int mode, int64_t padding_idx, list layers, int loss,
                 int metric, bint raw_outputs, bint training, int max_threads, table_rule=None, dense_rule=None,
                 dense_flat=None, dense_grad_flat=None, bint per_occurrence=False, bint catch_up=False,
                 int64_t iteration=0):
        cdef Stack* st = &self.st
        cdef Py_ssize_t l, n_layers = len(layers), dim = table.shape[1]
        cdef Py_ssize_t width = max(dim, max([spec["kernel"].shape[1] for spec in layers] or [1]))
        max_threads = max(1, max_threads)
        keep = [ids, offsets, y, labels, sample_weight, table, dense_flat, dense_grad_flat]
        st.ids = <const void*> <size_t> ids.ctypes.data
        st.ids_int64 = ids.dtype == np.int64
        st.n_ids = ids.shape[0]
        st.seq = seq
        st.offsets = _iptr(offsets)
        st.y = _ptr(y)
        st.labels = _iptr(labels)
        st.y_width = y.shape[1] if y is not None else 1
        st.sample_weight = _ptr(sample_weight)
        st.batch_size = batch_size
        st.table = _ptr(table)
        st.num_rows = table.shape[0]
        st.dim = dim
        st.mode = mode
        st.padding_idx = padding_idx
        st.loss = loss
        st.metric = metric
        st.raw_outputs = raw_outputs
        st.max_threads = max_threads
        st.n_layers = n_layers
        st.layers = <DenseSpec*> calloc(max(n_layers, 1), sizeof(DenseSpec))
        if st.layers == NULL:
            raise MemoryError()
        for l in range(n_layers):
            spec = layers[l]
            buffers = np.zeros((3, batch_size, spec["kernel"].shape[1]), dtype=np.float32)
            keep += [spec["kernel"], spec["bias"], spec["grad_kernel"], spec["grad_bias"], buffers]
            st.layers[l].kernel = _ptr(spec["kernel"])
            st.layers[l].bias = _ptr(spec["bias"])
            st.layers[l].grad_kernel = _ptr(spec["grad_kernel"])
            st.layers[l].grad_bias = _ptr(spec["grad_bias"])
            st.layers[l].n_in = spec["kernel"].shape[0]
            st.layers[l].n_out = spec["kernel"].shape[1]
            st.layers[l].activation = spec["activation"]
            st.layers[l].l2_twice = 2 * spec["l2"]
            st.layers[l].z = _ptr(buffers[0])
            st.layers[l].h = _ptr(buffers[1])
            st.layers[l].g = _ptr(buffers[2])
        step_buffers = np.zeros((2, batch_size, dim), dtype=np.float32)
        scratch = np.zeros((max_threads, width), dtype=np.float32)
        starts = np.zeros((2, batch_size), dtype=np.int64)
        bag_scale = np.zeros(batch_size, dtype=np.float32)
        argpos = np.zeros((batch_size, dim), dtype=np.int64) if mode == MODE_MAX else None
        keep += [step_buffers, scratch, starts, bag_scale, argpos]
        st.h0 = _ptr(step_buffers[0])
        st.g0 = _ptr(step_buffers[1])
        st.scratch = _ptr(scratch)
        st.starts = _iptr(starts[0])
        st.stops = _iptr(starts[1])
        st.bag_scale = _ptr(bag_scale)
        st.argpos = _iptr(argpos)
        st.train_embedding = training and table_rule is not None
        st.dense_size = dense_flat.shape[0] if training and dense_rule is not None and dense_flat is not None else 0
        st.dense_flat = _ptr(dense_flat)
        st.dense_grad_flat = _ptr(dense_grad_flat)
        if st.train_embedding:
            params, s1, s2, rs = table_rule
            st.table_rule = make_config(params)
            st.table_s1, st.table_s2, st.table_rs = _ptr(s1), _ptr(s2), _ptr(rs)
            keep += [s1, s2, rs]
            # Only rules that keep a sum of squares see the difference.
            st.per_occurrence = per_occurrence and st.table_rule.kind != OPT_SGD
            if st.per_occurrence:
                scratch_sq = np.zeros((max_threads, dim), dtype=np.float32)
                keep.append(scratch_sq)
                st.scratch_sq = _ptr(scratch_sq)
            if catch_up:
                keep += self._catch_up_tables(iteration)
                if st.row_step != NULL:
                    catch_lists = np.zeros((2, max_threads, max(max_entries, 1)), dtype=np.int64)
                    keep.append(catch_lists)
                    st.catch_rows = _iptr(catch_lists[0])
                    st.catch_gaps = _iptr(catch_lists[1])
                    st.catch_capacity = max(max_entries, 1)
            cap = max(max_entries, 1)
            per_bag = np.zeros((3, batch_size + 1), dtype=np.int64)
            per_entry = np.zeros((7 if mode == MODE_MAX else 6, cap), dtype=np.int64)
            segments = np.zeros(cap + 1, dtype=np.int64)
            hist = np.zeros(max_threads * MAX_RADIX, dtype=np.intp)
            chunk_starts = np.zeros(max_threads + 1, dtype=np.int64)
            keep += [per_bag, per_entry, segments, hist, chunk_starts]
            st.group.starts = st.starts
            st.group.stops = st.stops
            st.group.bag_count = _iptr(per_bag[0])
            st.group.entry_start = _iptr(per_bag[1])
            st.group.bag_max = _iptr(per_bag[2])
            st.group.keys = _iptr(per_entry[0])
            st.group.order = _iptr(per_entry[1])
            st.group.keys_tmp = _iptr(per_entry[2])
            st.group.order_tmp = _iptr(per_entry[3])
            st.group.entry_bag = _iptr(per_entry[4])
            st.group.unique_ids = _iptr(per_entry[5])
            st.group.entry_pos = _iptr(per_entry[6]) if mode == MODE_MAX else NULL
            st.group.segments = _iptr(segments)
            st.group.hist = <Py_ssize_t*> <size_t> hist.ctypes.data
            st.group.chunk_starts = _iptr(chunk_starts)
            st.group.max_chunks = max_threads
            # The slot path: one slot per distinct id of a batch, within a budget; a batch
            # with more distinct ids than that takes the sorted path (same bits).
            capacity = min(cap, table.shape[0], max(1, SLOTS_BUDGET // max(1, dim * 4)))
            if mode != MODE_MAX:
                slot_of = np.full(table.shape[0], -1, dtype=np.int32)
                slot_rows = np.zeros(capacity, dtype=np.int64)
                slot_grads = np.zeros((capacity, dim), dtype=np.float32)
                slot_mark = np.zeros(capacity, dtype=np.int64)
                bag_slots = np.zeros((max_threads, max(1, longest_bag)), dtype=np.int32)
                slots_used = np.zeros(max_threads, dtype=np.intp)
                keep += [slot_of, slot_rows, slot_grads, slot_mark, bag_slots, slots_used]
                if st.per_occurrence:
                    slot_sq = np.zeros((capacity, dim), dtype=np.float32)
                    keep.append(slot_sq)
                    st.slot_sq = _ptr(slot_sq)
                st.slot_of = <int32_t*> <size_t> slot_of.ctypes.data
                st.slot_capacity = capacity
                st.slot_rows = _iptr(slot_rows)
                st.slot_grads = _ptr(slot_grads)
                st.slot_mark = _iptr(slot_mark)
                st.longest_bag = max(1, longest_bag)
                st.bag_slots = <int32_t*> <size_t> bag_slots.ctypes.data
                st.slots_used = <Py_ssize_t*> <size_t> slots_used.ctypes.data
        if st.dense_size:
            params, s1, s2, rs = dense_rule
            st.dense_rule = make_config(params)
            st.dense_s1, st.dense_s2, st.dense_rs = _ptr(s1), _ptr(s2), _ptr(rs)
            keep += [s1, s2, rs]
        self._keep = keep

    def _catch_up_tables(self, int64_t iteration):
        """Allocate what catching up needs for the table's rule (nothing for rules whose
        skipped steps change nothing: Adagrad, SGD without momentum); return the arrays."""
        cdef Stack* st = &self.st
        cdef OptimConfig* cfg = &st.table_rule
        cdef CatchUp* cu = &st.catch_up
        if cfg.kind == OPT_ADAM:
            cu.ratio, cu.base1, cu.base2 = cfg.beta_1 / sqrt(cfg.beta_2), cfg.beta_1, cfg.beta_2
        elif cfg.kind == OPT_SGD and cfg.momentum != 0:
            cu.ratio, cu.base1, cu.base2 = cfg.momentum, cfg.momentum, 0.0
        elif cfg.kind == OPT_RMSPROP:
            cu.ratio, cu.base1, cu.base2 = 0.0, 0.0, cfg.rho
        else:
            return []
        # After `horizon` skipped steps the moment has decayed below 1e-12 of itself (ratio**k):
        # longer gaps use the sum up to the horizon. Capped for ratios near 1.
        if 0 < cu.ratio < 1:
            cu.horizon = min(CATCH_UP_MAX_HORIZON, max(1, <Py_ssize_t> (log(1e-12) / log(cu.ratio)) + 1))
        else:
            cu.horizon = 1 if cu.ratio <= 0 else CATCH_UP_MAX_HORIZON
        cu.powers = CATCH_UP_POWERS
        k = np.arange(cu.powers, dtype=np.float64)
        decay1 = np.power(cu.base1, k)
        decay2 = np.power(cu.base2, k)
        sums = np.zeros(cu.horizon + 1, dtype=np.float64)
        row_step = np.full(st.num_rows, iteration, dtype=np.int64)
        cu.decay1 = <double*> <size_t> decay1.ctypes.data
        cu.decay2 = <double*> <size_t> decay2.ctypes.data
        cu.sums = <double*> <size_t> sums.ctypes.data
        st.row_step = _iptr(row_step)
        return [decay1, decay2, sums, row_step]

    def settle(self, int64_t iteration, int limit, Py_ssize_t min_work):
        """Bring every row up to step ``iteration`` (the optimizer's step count): apply
        the steps each row skipped since it was last updated, as Keras' dense update would
        have. Costs one pass over the table; a no-op without catching up."""
        cdef Stack* st = &self.st
        cdef Py_ssize_t row
        cdef int nt
        if st.row_step == NULL:
            return
        nt = _team(st.num_rows * st.dim * 4, max(1, min(limit, st.max_threads)), min_work)
        with nogil:
            for row in prange(st.num_rows, schedule="static", num_threads=nt):
                # Every step after the row's last one was skipped.
                catch_up_row(st.table + row * st.dim,
                             st.table_s1 + row * st.dim if st.table_s1 != NULL else <float*> NULL,
                             st.table_s2 + row * st.dim if st.table_s2 != NULL else <float*> NULL, st.dim,
                             iteration - st.row_step[row], &st.table_rule, &st.catch_up)
                st.row_step[row] = iteration

    def set_learning_rates(self, double table_rate, double dense_rate):
        """Take a changed learning rate (a callback may set one between runs)."""
        self.st.table_rule.learning_rate = table_rate
        self.st.dense_rule.learning_rate = dense_rate

    def run(self, const int64_t[::1] order, Py_ssize_t first_step, Py_ssize_t n_steps, int64_t iteration,
            bint training, float[:, ::1] probs, int limit, Py_ssize_t min_work):
        """Run ``n_steps`` batches of ``order`` from step ``first_step``.

        ``iteration`` is the optimizer's step count before the first of them (Adam's bias
        correction); ``probs`` (or None) receives the outputs of every sample run, in run
        order. Returns ``(status, steps, samples, loss_sum, metric_sum, bad_step)``; the
        steps before a bad one are applied, the bad one is not.
        """
        cdef RunTotals totals
        memset(&totals, 0, sizeof(RunTotals))
        cdef float* probs_ptr = &probs[0, 0] if probs is not None and probs.shape[0] else NULL
        limit = max(1, min(limit, self.st.max_threads))
        with nogil:
            _run(&self.st, &order[0] if order.shape[0] else NULL, order.shape[0], first_step, n_steps,
                 iteration, training, probs_ptr, limit, min_work, &totals)
        return (totals.status, totals.steps, totals.samples, totals.loss_sum, totals.metric_sum,
                totals.bad_step)
