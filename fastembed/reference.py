"""Pure-NumPy twins of every op in :mod:`fastembed.ops`, with the same signatures.

They are the oracle the tests check the kernels against and the baseline the benchmarks
measure them against, so they are written the way a careful NumPy user would write them:
vectorised, and free to build the ``(n_ids, dim)`` temporaries that the kernels avoid.
They validate their inputs with the same code as the ops and raise the same errors.
"""

import numpy as np

from ._validation import (
    MODES,
    as_ids,
    as_table,
    as_writeable_table,
    check_finite,
    check_ids,
    check_same_table,
    check_sparse_rows,
    check_squares,
    numpy_check_ids,
    numpy_first_non_finite,
    prepare_bag,
    prepare_bag_backward,
    prepare_dense_update,
    prepare_lookup_backward,
    prepare_top_k,
)
from .sparse import SparseRows

MODE_SUM, MODE_MEAN, MODE_MAX = MODES["sum"], MODES["mean"], MODES["max"]


def _numpy_increasing_check(indices, upper):
    if indices.size == 0:
        return -1
    bad = (indices < 0) | (indices >= upper)
    bad[1:] |= indices[1:] <= indices[:-1]
    return int(np.argmax(bad)) if bad.any() else -1


def _prepare(ids, offsets, mode, padding_idx, per_sample_weights, num_rows, dtype):
    return prepare_bag(
        ids,
        offsets,
        mode,
        padding_idx,
        per_sample_weights,
        num_rows,
        dtype,
        numpy_check_ids,
        numpy_first_non_finite,
        None,
    )


def _bag_offsets(bag):
    if bag.offsets is not None:
        return bag.offsets
    return np.arange(bag.n_bags + 1, dtype=np.int64) * bag.seq


def _segment_reduce(ufunc, values, offsets, fill):
    """``ufunc``-reduce ``values`` over each ``[offsets[b], offsets[b+1])``; ``fill`` if empty."""
    out = np.full((offsets.shape[0] - 1,) + values.shape[1:], fill, dtype=values.dtype)
    starts = offsets[:-1]
    nonempty = offsets[1:] > starts
    if nonempty.any():
        # Passing only the starts of non-empty bags makes each reduceat segment end where
        # the bag ends: the empty bags in between have zero length.
        out[nonempty] = ufunc.reduceat(values, starts[nonempty], axis=0)
    return out


def _bag_forward(table, bag, want_argpos=False):
    offsets = _bag_offsets(bag)
    keep = bag.flat_ids != bag.padding_idx
    rows = table[bag.flat_ids]
    counts = _segment_reduce(np.add, keep.astype(np.int64), offsets, 0)
    argpos = None
    if bag.mode == MODE_MAX:
        masked = np.where(keep[:, None], rows, -np.inf).astype(table.dtype)
        out = _segment_reduce(np.maximum, masked, offsets, -np.inf)
        out[counts == 0] = 0
        if want_argpos:
            n = bag.flat_ids.shape[0]
            bag_of = np.repeat(np.arange(bag.n_bags), np.diff(offsets))
            is_max = (masked == out[bag_of]) & keep[:, None]
            candidates = np.where(is_max, np.arange(n)[:, None], n)
            argpos = _segment_reduce(np.minimum, candidates, offsets, n)
            argpos[argpos == n] = -1
        return out, argpos
    contributions = np.where(keep[:, None], rows, 0).astype(table.dtype)
    if bag.per_sample_weights is not None:
        contributions *= bag.per_sample_weights[:, None]
    out = _segment_reduce(np.add, contributions, offsets, 0)
    if bag.mode == MODE_MEAN:
        np.divide(out, counts[:, None].astype(table.dtype), out=out, where=counts[:, None] > 0)
    return out, argpos


def embedding_lookup(weights, ids):
    """NumPy twin of :func:`fastembed.ops.embedding_lookup`."""
    table = as_table(weights)
    ids = as_ids(ids)
    check_ids(ids.reshape(-1), ids.shape, table.shape[0], numpy_check_ids, None)
    return table[ids]


def embedding_bag(weights, ids, offsets=None, mode="mean", padding_idx=None, per_sample_weights=None):
    """NumPy twin of :func:`fastembed.ops.embedding_bag`."""
    table = as_table(weights)
    bag = _prepare(ids, offsets, mode, padding_idx, per_sample_weights, table.shape[0], table.dtype)
    return _bag_forward(table, bag)[0]


def _sum_rows(ids, contributions, num_rows):
    """Sum ``contributions`` per distinct id, in input order (as the kernels do)."""
    unique, inverse = np.unique(ids, return_inverse=True)
    values = np.zeros((unique.shape[0], contributions.shape[1]), dtype=contributions.dtype)
    np.add.at(values, inverse, contributions)
    return SparseRows(unique.astype(np.int64), values, num_rows)


def _bag_contributions(grad, bag, table):
    offsets = _bag_offsets(bag)
    bag_of = np.repeat(np.arange(bag.n_bags), np.diff(offsets))
    keep = bag.flat_ids != bag.padding_idx
    contributions = grad[bag_of]
    if bag.mode == MODE_MAX:
        argpos = _bag_forward(table, bag, want_argpos=True)[1]
        positions = np.arange(bag.flat_ids.shape[0])[:, None]
        contributions = np.where(argpos[bag_of] == positions, contributions, 0).astype(grad.dtype)
    elif bag.per_sample_weights is not None:
        contributions = contributions * bag.per_sample_weights[:, None]
    elif bag.mode == MODE_MEAN:
        counts = _segment_reduce(np.add, keep.astype(np.int64), offsets, 0)
        contributions = contributions / np.maximum(counts[bag_of], 1)[:, None].astype(grad.dtype)
    return bag.flat_ids[keep], contributions[keep]


def embedding_bag_backward(
    grad, ids, offsets=None, mode="mean", padding_idx=None, per_sample_weights=None, weights=None, num_rows=None
):
    """NumPy twin of :func:`fastembed.ops.embedding_bag_backward`."""
    grad, bag, table, num_rows = prepare_bag_backward(
        grad,
        ids,
        offsets,
        mode,
        padding_idx,
        per_sample_weights,
        weights,
        num_rows,
        numpy_check_ids,
        numpy_first_non_finite,
        None,
    )
    return _sum_rows(*_bag_contributions(grad, bag, table), num_rows)


def embedding_lookup_backward(grad, ids, num_rows=None):
    """NumPy twin of :func:`fastembed.ops.embedding_lookup_backward`."""
    grad2d, flat, _ = prepare_lookup_backward(grad, ids, num_rows, numpy_check_ids, numpy_first_non_finite, None)
    return _sum_rows(flat, grad2d, num_rows)


def _denominator(optimizer, acc, dtype):
    eps = dtype.type(optimizer.epsilon)
    return np.sqrt(acc + eps) if getattr(optimizer, "epsilon_inside_sqrt", False) else np.sqrt(acc) + eps


def _apply_rule(table, rows, values, optimizer, params, squares=None):
    """One optimizer step on ``table[rows]`` in NumPy, the same arithmetic as the kernel.
    ``squares`` (or None: ``g * g``) is what the accumulators take."""
    w = table[rows]
    g = values.astype(table.dtype, copy=True)
    sq = None if squares is None else squares.astype(table.dtype, copy=True)
    if optimizer.weight_decay:
        g += table.dtype.type(optimizer.weight_decay) * w
        sq = None  # Keras: an L2 penalty makes the gradient dense, duplicates summed
    if sq is None:
        sq = g * g
    lr = table.dtype.type(optimizer.learning_rate)
    kind = optimizer.rule_name
    if kind == "sgd":
        if optimizer.momentum:
            buf = table.dtype.type(optimizer.momentum) * optimizer.state1[rows] + g
            optimizer.state1[rows] = buf
            step = g + table.dtype.type(optimizer.momentum) * buf if optimizer.nesterov else buf
        else:
            step = g
        w -= lr * step
    elif kind == "adagrad":
        acc = optimizer.state1[rows] + sq
        optimizer.state1[rows] = acc
        w -= lr * g / _denominator(optimizer, acc, table.dtype)
    elif kind == "rmsprop":
        rho = table.dtype.type(optimizer.rho)
        acc = rho * optimizer.state1[rows] + table.dtype.type(1 - optimizer.rho) * sq
        optimizer.state1[rows] = acc
        w -= lr * g / _denominator(optimizer, acc, table.dtype)
    elif kind == "rowwise_adagrad":
        acc = optimizer.row_state[rows] + sq.mean(axis=1) if g.shape[1] else optimizer.row_state[rows]
        optimizer.row_state[rows] = acc
        w -= (lr / _denominator(optimizer, acc, table.dtype))[:, None] * g
    elif kind == "adam":
        b1 = table.dtype.type(1 - optimizer.beta_1)
        b2 = table.dtype.type(1 - optimizer.beta_2)
        m = optimizer.state1[rows]
        v = optimizer.state2[rows]
        m = m + b1 * (g - m)
        v = v + b2 * (sq - v)
        optimizer.state1[rows] = m
        optimizer.state2[rows] = v
        w -= table.dtype.type(params["step_size"]) * m / (np.sqrt(v) + table.dtype.type(optimizer.epsilon))
    if optimizer.max_norm is not None:
        norms = np.sqrt((w.astype(np.float64) ** 2).sum(axis=1))
        over = norms > optimizer.max_norm
        w[over] *= (optimizer.max_norm / (norms[over] + 1e-7)).astype(table.dtype)[:, None]
    table[rows] = w


def sparse_update(weights, grad, optimizer, squares=None):
    """NumPy twin of :func:`fastembed.ops.sparse_update`."""
    table = as_writeable_table(weights)
    rows, values = check_sparse_rows(grad, table, _numpy_increasing_check, numpy_first_non_finite, None)
    squares = check_squares(squares, values, numpy_first_non_finite, None)
    params = optimizer.begin_step(table)
    _apply_rule(table, rows, values, optimizer, params, squares)


def embedding_bag_backward_update(
    weights, grad, ids, offsets=None, mode="mean", padding_idx=None, per_sample_weights=None, *, optimizer
):
    """NumPy twin of :func:`fastembed.ops.embedding_bag_backward_update`."""
    table = as_writeable_table(weights)
    grads = embedding_bag_backward(grad, ids, offsets, mode, padding_idx, per_sample_weights, weights=table)
    params = optimizer.begin_step(table)
    _apply_rule(table, grads.indices, grads.values, optimizer, params)


def embedding_lookup_backward_update(weights, grad, ids, *, optimizer):
    """NumPy twin of :func:`fastembed.ops.embedding_lookup_backward_update`."""
    table = as_writeable_table(weights)
    grads = embedding_lookup_backward(grad, ids, num_rows=table.shape[0])
    check_same_table(table, grads.values.dtype, grads.values.shape[1])
    params = optimizer.begin_step(table)
    _apply_rule(table, grads.indices, grads.values, optimizer, params)


def dense_update(weights, grad, optimizer, squares=None):
    """NumPy twin of :func:`fastembed.ops.dense_update`."""
    table, values = prepare_dense_update(weights, grad)
    check_finite(values.reshape(-1), values.shape, "grad", numpy_first_non_finite, None)
    squares = check_squares(squares, values, numpy_first_non_finite, None)
    params = optimizer.begin_step(table)
    _apply_rule(table, np.arange(table.shape[0]), values, optimizer, params, squares)


def top_k_similar(
    table, terms, k, *, inv_norms=None, n_positive=1, n_negative=0, cosmul=False, exclude=None, stop=None
):
    """Twin of :func:`fastembed.search.top_k_similar`: every score at once, then a full sort."""
    table, terms, k, inv_norms, n_terms, exclude, stop = prepare_top_k(
        table, terms, k, inv_norms, n_positive, n_negative, cosmul, exclude, stop
    )
    n_queries = terms.shape[0] // n_terms
    # (n_queries * n_terms, stop) cosines: the temporary the kernel's blocks avoid.
    cosines = (terms @ table[:stop].T) * inv_norms[:stop]
    if cosmul:
        shifted = ((1 + cosines) / 2).reshape(n_queries, n_terms, stop)
        scores = np.prod(shifted[:, :n_positive], axis=1) / (
            np.prod(shifted[:, n_positive:], axis=1) + table.dtype.type(1e-6)
        )
    else:
        scores = cosines
    scores = scores.astype(table.dtype)
    eligible = np.ones(scores.shape, dtype=bool)
    query_of_excluded, position = np.nonzero((exclude >= 0) & (exclude < stop))
    eligible[query_of_excluded, exclude[query_of_excluded, position]] = False
    out_scores = np.full((n_queries, k), -np.inf, dtype=table.dtype)
    out_rows = np.full((n_queries, k), -1, dtype=np.int64)
    for q in range(n_queries):
        rows = np.flatnonzero(eligible[q])
        if 0 < k < rows.size:
            # Keep the rows scoring at least the k-th best score (ties included), then sort.
            kth_best = np.partition(scores[q, rows], rows.size - k)[rows.size - k]
            rows = rows[scores[q, rows] >= kth_best]
        # Best first: higher score, then lower row (lexsort sorts by the last key first).
        order = rows[np.lexsort((rows, -scores[q, rows]))][:k]
        out_scores[q, : order.size] = scores[q, order]
        out_rows[q, : order.size] = order
    return out_scores, out_rows
