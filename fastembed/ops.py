"""Functional API over the compiled kernels: validate the inputs, then call one kernel.

Every function here has a pure-NumPy twin of the same name and signature in
:mod:`fastembed.reference`. Each parallel region (the input checks included) takes the
thread count :func:`fastembed._config.threads_for` gives for its work, at most
:func:`fastembed.get_num_threads`; results are bitwise identical whatever that number is.

Without the compiled extension (an unbuilt source tree) every op runs its NumPy twin;
``fastembed.show_config()["compiled"]`` tells which is in use.
"""

from __future__ import annotations

import numpy as np
from typing import TYPE_CHECKING

from . import reference
from ._config import COMPILED, threads_for
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
    id_upper_bound,
    prepare_bag,
    prepare_dense_update,
    prepare_bag_backward,
    prepare_lookup_backward,
)
from .sparse import SparseRows

if TYPE_CHECKING:
    from numpy.typing import ArrayLike
from .sparse_optim import SparseAdagrad, SparseAdam, SparseOptimizer, SparseRMSprop, SparseRowwiseAdagrad, SparseSGD

if COMPILED:
    from ._kernels import _backward, _forward, _optim, _parallel

__all__ = [
    "embedding_lookup",
    "embedding_lookup_backward",
    "embedding_bag",
    "embedding_bag_backward",
    "sparse_update",
    "embedding_bag_backward_update",
    "embedding_lookup_backward_update",
    "dense_update",
    "SparseRows",
    "SparseSGD",
    "SparseAdagrad",
    "SparseRowwiseAdagrad",
    "SparseAdam",
    "SparseRMSprop",
]

MODE_MAX = MODES["max"]
MODE_SUM = MODES["sum"]


def _check_optimizer(optimizer):
    if not isinstance(optimizer, SparseOptimizer):
        raise TypeError(
            "optimizer must be a fastembed sparse optimizer (SparseSGD, SparseAdagrad, "
            "SparseRowwiseAdagrad, SparseRMSprop or SparseAdam), got %r" % (optimizer,)
        )


# The kernels check id ranges in the pass that reads the ids, so the ops hand
# `checker=None` to the shared validation and only scan again to name a bad id.
def _prepare(ids, offsets, mode, padding_idx, per_sample_weights, num_rows, dtype, num_threads):
    return prepare_bag(
        ids,
        offsets,
        mode,
        padding_idx,
        per_sample_weights,
        num_rows,
        dtype,
        None,
        _parallel.first_non_finite,
        num_threads,
    )


def _raise_invalid_ids(flat_ids, shape, num_rows, num_threads):
    """A kernel counted out-of-range ids: find the first one and raise IndexError."""
    check_ids(flat_ids, shape, num_rows, _parallel.check_ids, num_threads)
    raise AssertionError("kernel reported invalid ids but none were found")  # pragma: no cover


def embedding_lookup(weights: ArrayLike, ids: ArrayLike) -> np.ndarray:
    """Gather rows of an embedding table.

    Parameters
    ----------
    weights : array_like, shape (num_rows, dim), float32 or float64
    ids : array_like of int, any shape
        Row numbers in ``[0, num_rows)``; int32 and int64 are used as they are.

    Returns
    -------
    ndarray, shape ``ids.shape + (dim,)``
        ``weights[ids]``.

    Raises
    ------
    IndexError
        For an id outside ``[0, num_rows)``, naming it, its position and ``num_rows``.
    TypeError
        For non-integer ids or a non-float table.
    """
    if not COMPILED:
        return reference.embedding_lookup(weights, ids)
    table = as_table(weights)
    ids = as_ids(ids)
    flat = ids.reshape(-1)
    num_threads = threads_for(flat.shape[0] * table.shape[1])
    out = np.empty((flat.shape[0], table.shape[1]), dtype=table.dtype)
    if _forward.embedding_lookup(table, flat, out, num_threads):
        _raise_invalid_ids(flat, ids.shape, table.shape[0], num_threads)
    return out.reshape(ids.shape + (table.shape[1],))


def embedding_bag(
    weights: ArrayLike,
    ids: ArrayLike,
    offsets: ArrayLike | None = None,
    mode: str = "mean",
    padding_idx: int | None = None,
    per_sample_weights: ArrayLike | None = None,
) -> np.ndarray:
    """Look up and pool bags of ids in one pass, without building ``(batch, seq, dim)``.

    Parameters
    ----------
    weights : array_like, shape (num_rows, dim), float32 or float64
    ids : array_like of int, or Ragged
        Either 2-D ``(batch, seq)``, each row one bag, 1-D flat ids with ``offsets``, or a
        :class:`fastembed.Ragged` (its rows are the bags).
    offsets : array_like of int, optional
        With 1-D ids: ``n_bags + 1`` boundaries, starting at 0, non-decreasing, the last
        equal to ``len(ids)``; bag ``b`` is ``ids[offsets[b]:offsets[b+1]]``.
    mode : {'mean', 'sum', 'max'}
    padding_idx : int, optional
        Entries equal to it are left out of every bag (Keras ``mask_zero=True`` followed
        by a global pooling layer is ``padding_idx=0``). Negative values count from the end.
    per_sample_weights : array_like of float, optional
        Same shape as ``ids``; scales each row before summing (``mode='sum'`` only).

    Returns
    -------
    ndarray, shape (n_bags, dim)
        Empty and fully padded bags give zeros. In max mode ties go to the earliest entry.
    """
    if not COMPILED:
        return reference.embedding_bag(weights, ids, offsets, mode, padding_idx, per_sample_weights)
    table = as_table(weights)
    bag = _prepare(
        ids, offsets, mode, padding_idx, per_sample_weights, table.shape[0], table.dtype, threads_for(np.size(ids))
    )
    num_threads = threads_for(bag.flat_ids.shape[0] * table.shape[1])
    out = np.empty((bag.n_bags, table.shape[1]), dtype=table.dtype)
    if _forward.embedding_bag(
        table,
        bag.flat_ids,
        bag.seq,
        bag.offsets,
        bag.mode,
        bag.padding_idx,
        bag.per_sample_weights,
        out,
        None,
        num_threads,
    ):
        _raise_invalid_ids(bag.flat_ids, bag.shape, table.shape[0], num_threads)
    return out


def _max_positions(table, bag, num_threads):
    """Re-run the max forward to find, per bag and dimension, which entry was the max."""
    scratch = np.empty((bag.n_bags, table.shape[1]), dtype=table.dtype)
    argpos = np.empty((bag.n_bags, table.shape[1]), dtype=np.int64)
    if _forward.embedding_bag(
        table, bag.flat_ids, bag.seq, bag.offsets, MODE_MAX, bag.padding_idx, None, scratch, argpos, num_threads
    ):
        _raise_invalid_ids(bag.flat_ids, bag.shape, table.shape[0], num_threads)
    return argpos


def _group(flat_ids, shape, n_bags, seq, offsets, padding_idx, num_rows, need_positions, num_threads):
    """Sort the entries of every bag by id (checking ids on the way)."""
    n_invalid, grouping = _backward.group_by_id(
        flat_ids, n_bags, seq, offsets, padding_idx, id_upper_bound(num_rows), need_positions, num_threads
    )
    if n_invalid:
        _raise_invalid_ids(flat_ids, shape, num_rows, num_threads)
    return grouping


def _group_bags(bag, num_rows, num_threads):
    need_positions = bag.mode == MODE_MAX or bag.per_sample_weights is not None
    return _group(
        bag.flat_ids,
        bag.shape,
        bag.n_bags,
        bag.seq,
        bag.offsets,
        bag.padding_idx,
        num_rows,
        need_positions,
        num_threads,
    )


def embedding_bag_backward(
    grad: ArrayLike,
    ids: ArrayLike,
    offsets: ArrayLike | None = None,
    mode: str = "mean",
    padding_idx: int | None = None,
    per_sample_weights: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    num_rows: int | None = None,
) -> SparseRows:
    """Gradient of :func:`embedding_bag` w.r.t. the table, one row per distinct id.

    Parameters
    ----------
    grad : array_like, shape (n_bags, dim)
        Gradient of the loss w.r.t. the pooled output.
    ids, offsets, mode, padding_idx, per_sample_weights :
        As given to :func:`embedding_bag`.
    weights : array_like, optional
        The table; required for ``mode='max'`` (to find each maximum's row), and used to
        check ids against its height.
    num_rows : int, optional
        Table height when ``weights`` is not given; ids are then checked against it.

    Returns
    -------
    SparseRows
        ``indices`` sorted, unique, int64; ``values`` of shape ``(n_unique, dim)``.
        Duplicate ids are summed in input order, so the result is bitwise identical for
        any thread count.
    """
    if not COMPILED:
        return reference.embedding_bag_backward(
            grad, ids, offsets, mode, padding_idx, per_sample_weights, weights, num_rows
        )
    grad, bag, table, num_rows = prepare_bag_backward(
        grad,
        ids,
        offsets,
        mode,
        padding_idx,
        per_sample_weights,
        weights,
        num_rows,
        None,
        _parallel.first_non_finite,
        threads_for(np.size(grad)),
    )
    num_threads = threads_for(bag.flat_ids.shape[0] * grad.shape[1])
    grouping = _group_bags(bag, num_rows, num_threads)
    argpos = _max_positions(table, bag, num_threads) if bag.mode == MODE_MAX else None
    indices, values = _backward.sparse_grad(grad, grouping, bag.mode, bag.per_sample_weights, argpos, num_threads)
    return SparseRows(indices, values, num_rows)


def embedding_lookup_backward(grad: ArrayLike, ids: ArrayLike, num_rows: int | None = None) -> SparseRows:
    """Gradient of :func:`embedding_lookup` w.r.t. the table, one row per distinct id.

    Parameters
    ----------
    grad : array_like, shape ``ids.shape + (dim,)``
    ids : array_like of int
    num_rows : int, optional
        Table height, to check ids against (otherwise only negative ids are rejected).

    Returns
    -------
    SparseRows
    """
    if not COMPILED:
        return reference.embedding_lookup_backward(grad, ids, num_rows)
    grad, flat, shape = prepare_lookup_backward(
        grad, ids, num_rows, None, _parallel.first_non_finite, threads_for(np.size(grad))
    )
    num_threads = threads_for(grad.size)
    # A lookup is a bag of one id per position, summed.
    grouping = _group(flat, shape, flat.shape[0], 1, None, -1, num_rows, False, num_threads)
    indices, values = _backward.sparse_grad(grad, grouping, MODE_SUM, None, None, num_threads)
    return SparseRows(indices, values, num_rows)


def sparse_update(
    weights: np.ndarray, grad: SparseRows, optimizer: SparseOptimizer, squares: ArrayLike | None = None
) -> None:
    """Apply one optimizer step, in place, to the rows of ``weights`` named by ``grad``.

    Parameters
    ----------
    weights : ndarray, shape (num_rows, dim)
        Writeable and C-contiguous.
    grad : SparseRows
        Sorted, unique indices (what the backward ops return).
    optimizer : SparseSGD, SparseAdagrad, SparseRowwiseAdagrad or SparseAdam
        Holds the hyper-parameters and the per-row state; one object per table.
    squares : SparseRows or ndarray, optional
        Per row, the sum of the squares of every occurrence's gradient (what
        ``embedding_bag_backward`` gives for the squared bag gradients): the accumulators
        of Adam, RMSprop and Adagrad take it instead of ``grad.values**2``. This is
        Keras' (TensorFlow's) rule for ids repeated in a batch; without it, the rule is
        PyTorch's (the square of the summed gradient).
    """
    _check_optimizer(optimizer)
    if not COMPILED:
        return reference.sparse_update(weights, grad, optimizer, squares)
    table = as_writeable_table(weights)
    indices, values = check_sparse_rows(
        grad,
        table,
        _parallel.check_strictly_increasing,
        _parallel.first_non_finite,
        threads_for(np.size(getattr(grad, "values", ()))),
    )
    squares = check_squares(squares, values, _parallel.first_non_finite, threads_for(values.size))
    num_threads = threads_for(values.size * 8)  # an update costs several operations per element
    params = optimizer.begin_step(table)
    _optim.sparse_update(
        table, indices, values, optimizer.state1, optimizer.state2, optimizer.row_state, params, squares, num_threads
    )


def embedding_bag_backward_update(
    weights: np.ndarray,
    grad: ArrayLike,
    ids: ArrayLike,
    offsets: ArrayLike | None = None,
    mode: str = "mean",
    padding_idx: int | None = None,
    per_sample_weights: ArrayLike | None = None,
    *,
    optimizer: SparseOptimizer,
) -> None:
    """Fused :func:`embedding_bag_backward` + :func:`sparse_update`.

    Each distinct row's gradient is summed into a per-thread buffer and applied at once,
    so the sparse gradient is never materialised. Same result as the two calls.

    Parameters
    ----------
    weights : ndarray, shape (num_rows, dim)
        The table, updated in place (writeable, C-contiguous).
    grad, ids, offsets, mode, padding_idx, per_sample_weights :
        As for :func:`embedding_bag_backward`.
    optimizer : SparseOptimizer
    """
    _check_optimizer(optimizer)
    if not COMPILED:
        return reference.embedding_bag_backward_update(
            weights, grad, ids, offsets, mode, padding_idx, per_sample_weights, optimizer=optimizer
        )
    table = as_writeable_table(weights)
    grad, bag, _, num_rows = prepare_bag_backward(
        grad,
        ids,
        offsets,
        mode,
        padding_idx,
        per_sample_weights,
        table,
        None,
        None,
        _parallel.first_non_finite,
        threads_for(np.size(grad)),
    )
    num_threads = threads_for(bag.flat_ids.shape[0] * grad.shape[1])
    grouping = _group_bags(bag, num_rows, num_threads)
    argpos = _max_positions(table, bag, num_threads) if bag.mode == MODE_MAX else None
    params = optimizer.begin_step(table)
    _backward.sparse_grad_update(
        table,
        grad,
        grouping,
        bag.mode,
        bag.per_sample_weights,
        argpos,
        optimizer.state1,
        optimizer.state2,
        optimizer.row_state,
        params,
        num_threads,
    )


def embedding_lookup_backward_update(
    weights: np.ndarray, grad: ArrayLike, ids: ArrayLike, *, optimizer: SparseOptimizer
) -> None:
    """Fused :func:`embedding_lookup_backward` + :func:`sparse_update`.

    Parameters
    ----------
    weights : ndarray, shape (num_rows, dim)
    grad : array_like, shape ``ids.shape + (dim,)``
    ids : array_like of int
    optimizer : SparseOptimizer
    """
    _check_optimizer(optimizer)
    if not COMPILED:
        return reference.embedding_lookup_backward_update(weights, grad, ids, optimizer=optimizer)
    table = as_writeable_table(weights)
    grad, flat, shape = prepare_lookup_backward(
        grad, ids, table.shape[0], None, _parallel.first_non_finite, threads_for(np.size(grad))
    )
    check_same_table(table, grad.dtype, grad.shape[1])
    num_threads = threads_for(grad.size)
    grouping = _group(flat, shape, flat.shape[0], 1, None, -1, table.shape[0], False, num_threads)
    params = optimizer.begin_step(table)
    _backward.sparse_grad_update(
        table,
        grad,
        grouping,
        MODE_SUM,
        None,
        None,
        optimizer.state1,
        optimizer.state2,
        optimizer.row_state,
        params,
        num_threads,
    )


_ALL_ROWS = {}


def _all_rows(n):
    """Cached ``arange(n)`` (int64): the row list of a dense update."""
    rows = _ALL_ROWS.get(n)
    if rows is None:
        rows = _ALL_ROWS[n] = np.arange(n, dtype=np.int64)
        rows.setflags(write=False)
    return rows


def dense_update(
    weights: np.ndarray, grad: ArrayLike, optimizer: SparseOptimizer, squares: ArrayLike | None = None
) -> None:
    """Apply one optimizer step, in place, to every element of a dense parameter.

    The same rule kernel as :func:`sparse_update`, with every row touched: Dense kernels
    and biases (or a whole embedding table, for Keras' non-lazy behaviour) use the
    arithmetic the embedding rows use.

    Parameters
    ----------
    weights : ndarray, writeable and C-contiguous, float32 or float64
    grad : ndarray of the same shape and dtype
    optimizer : SparseOptimizer
        Holds this parameter's state (one object per parameter).
    squares : ndarray, optional
        Like ``grad``: what the accumulators take instead of ``grad**2`` (see
        :func:`sparse_update`).
    """
    _check_optimizer(optimizer)
    if not COMPILED:
        return reference.dense_update(weights, grad, optimizer, squares)
    table, values = prepare_dense_update(weights, grad)
    check_finite(values.reshape(-1), values.shape, "grad", _parallel.first_non_finite, threads_for(values.size))
    squares = check_squares(squares, values, _parallel.first_non_finite, threads_for(values.size))
    num_threads = threads_for(values.size * 8)
    params = optimizer.begin_step(table)
    _optim.sparse_update(
        table,
        _all_rows(table.shape[0]),
        values,
        optimizer.state1,
        optimizer.state2,
        optimizer.row_state,
        params,
        squares,
        num_threads,
    )
