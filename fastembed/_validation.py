"""Input checks shared by fastembed.ops and its NumPy twins, so both raise the same errors.

Every public op converts its inputs here before any kernel sees them: after these checks a
kernel can trust shapes, dtypes, contiguity, id ranges and offsets, and never reads or
writes out of bounds.
"""

import operator
from collections import namedtuple

import numpy as np

MODES = {"sum": 0, "mean": 1, "max": 2}
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
INDEX_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))
INT64_MAX = np.iinfo(np.int64).max

# What the ops hand to the kernels for one embedding-bag call.
BagInput = namedtuple(
    "BagInput",
    "flat_ids shape n_bags seq offsets mode padding_idx per_sample_weights max_id",
)


def as_table(weights, name="weights"):
    """Return ``weights`` as a C-contiguous 2-D float32/float64 array (copying only if needed)."""
    arr = np.asarray(weights)
    if arr.dtype not in FLOAT_DTYPES:
        raise TypeError("%s must be float32 or float64, got %s" % (name, arr.dtype))
    if arr.ndim != 2:
        raise ValueError("%s must be 2-D (num_rows, dim), got shape %s" % (name, arr.shape))
    return np.ascontiguousarray(arr)


def as_writeable_table(weights, name="weights"):
    """Check that ``weights`` can be updated in place and return it."""
    if not isinstance(weights, np.ndarray):
        raise TypeError("%s must be a NumPy array to be updated in place, got %s" % (name, type(weights).__name__))
    if weights.dtype not in FLOAT_DTYPES:
        raise TypeError("%s must be float32 or float64, got %s" % (name, weights.dtype))
    if weights.ndim != 2:
        raise ValueError("%s must be 2-D (num_rows, dim), got shape %s" % (name, weights.shape))
    if not weights.flags.c_contiguous:
        raise ValueError(
            "%s must be C-contiguous to be updated in place (use np.ascontiguousarray and keep that array)" % name
        )
    if not weights.flags.writeable:
        raise ValueError("%s is read-only; in-place updates need a writeable array" % name)
    return weights


def as_float_like(values, dtype, shape, name):
    """Return ``values`` as a contiguous array of ``dtype`` with exactly ``shape``."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "fiu" or arr.dtype.kind == "b":
        raise TypeError("%s must be floating point, got %s" % (name, arr.dtype))
    if arr.shape != tuple(shape):
        raise ValueError("%s must have shape %s, got %s" % (name, tuple(shape), arr.shape))
    return np.ascontiguousarray(arr, dtype=dtype)


def as_grad(grad, name="grad"):
    """Return an upstream gradient as a C-contiguous float32/float64 array."""
    arr = np.asarray(grad)
    if arr.dtype not in FLOAT_DTYPES:
        raise TypeError("%s must be float32 or float64, got %s" % (name, arr.dtype))
    return np.ascontiguousarray(arr)


def as_ids(ids, name="ids"):
    """Return ``ids`` as a C-contiguous int32 or int64 array of the same shape.

    Other integer types are widened to int64; floats, bools and objects are rejected.
    """
    arr = np.asarray(ids) if not isinstance(ids, np.ndarray) else ids
    if arr.size == 0 and not isinstance(ids, np.ndarray) and arr.dtype.kind == "f":
        arr = arr.astype(np.int64)  # np.asarray([]) is float64; an empty list is fine
    kind = arr.dtype.kind
    if kind not in "iu":
        raise TypeError("%s must be integers (int32 or int64), got %s" % (name, arr.dtype))
    if arr.dtype not in INDEX_DTYPES:
        if arr.dtype == np.uint64 and arr.size and int(arr.max()) > INT64_MAX:
            pos = np.unravel_index(int(arr.argmax()), arr.shape)
            raise IndexError("%s: id %d at position %s does not fit in int64" % (name, int(arr.max()), pos))
        arr = arr.astype(np.int64)
    # np.ascontiguousarray turns a 0-d array into shape (1,): a scalar id keeps shape ().
    return arr if arr.ndim == 0 else np.ascontiguousarray(arr)


def describe_position(flat_position, shape):
    """Position of a flat index in an array of ``shape``, as users index it."""
    if len(shape) <= 1:
        return int(flat_position)
    return tuple(int(i) for i in np.unravel_index(flat_position, shape))


def raise_bad_id(flat_ids, position, shape, num_rows, name="ids"):
    """Raise the IndexError for the id at flat ``position``."""
    value = int(flat_ids[position])
    where = describe_position(position, shape)
    if num_rows is None:
        raise IndexError("%s: id %d at position %s is negative; ids must be >= 0" % (name, value, where))
    raise IndexError(
        "%s: id %d at position %s is out of range for a table of %d rows "
        "(valid ids are 0..%d)" % (name, value, where, num_rows, num_rows - 1)
    )


def numpy_check_ids(flat_ids, lower, upper, num_threads=None):
    """NumPy version of the compiled id check: (first bad position or -1, max id or -1)."""
    if flat_ids.size == 0:
        return -1, -1
    bad = (flat_ids < lower) | (flat_ids >= upper)
    if bad.any():
        return int(np.argmax(bad)), -1
    return -1, int(flat_ids.max())


def as_num_rows(num_rows):
    """A table height given on its own: an integer >= 0."""
    value = operator.index(num_rows)
    if value < 0:
        raise ValueError("num_rows must be >= 0, got %d" % value)
    return value


def id_upper_bound(num_rows):
    """Exclusive upper bound of valid ids: the table height, or int64 max when unknown."""
    return INT64_MAX if num_rows is None else num_rows


def check_ids(flat_ids, shape, num_rows, checker, num_threads):
    """Validate id range with ``checker`` (compiled or NumPy); return the largest id.

    With ``checker=None`` nothing is checked here (and None is returned): the compiled ops
    check ids inside their kernels and call this again, with a checker, only to name the
    offending id.
    """
    if checker is None:
        return None
    upper = id_upper_bound(num_rows)
    position, max_id = checker(flat_ids, 0, upper, num_threads)
    if position >= 0:
        raise_bad_id(flat_ids, position, shape, num_rows)
    return max_id


def check_finite(flat_values, shape, name, finder, num_threads):
    """Raise ValueError naming the first NaN/inf of ``flat_values`` (found by ``finder``)."""
    position = finder(flat_values, num_threads)
    if position >= 0:
        raise ValueError(
            "%s contains %s at position %s" % (name, flat_values[position], describe_position(position, shape))
        )


def numpy_first_non_finite(flat_values, num_threads=None):
    """NumPy version of the compiled finiteness check."""
    bad = ~np.isfinite(flat_values)
    return int(np.argmax(bad)) if bad.any() else -1


def check_mode(mode):
    """Return the kernel code of a pooling mode name."""
    try:
        return MODES[mode]
    except (KeyError, TypeError):
        raise ValueError("mode must be one of %s, got %r" % (sorted(MODES), mode)) from None


def normalize_padding_idx(padding_idx, num_rows):
    """Return ``padding_idx`` as a non-negative int, or -1 for none.

    Negative values count from the end, as in PyTorch. When ``num_rows`` is unknown
    (a backward call given neither weights nor num_rows) only non-negative values are valid.
    """
    if padding_idx is None:
        return -1
    try:
        value = operator.index(padding_idx)
    except TypeError:
        raise TypeError("padding_idx must be an integer or None, got %r" % (padding_idx,)) from None
    if num_rows is None:
        if value < 0:
            raise ValueError("a negative padding_idx needs the table size (pass weights or num_rows)")
        if value > INT64_MAX:
            raise ValueError("padding_idx %d does not fit in int64" % value)
        return value
    if not -num_rows <= value < num_rows:
        raise ValueError("padding_idx %d is out of range for a table of %d rows" % (value, num_rows))
    return value + num_rows if value < 0 else value


def as_offsets(offsets, n_ids):
    """Validate bag boundaries: int, 1-D, starting at 0, non-decreasing, ending at n_ids."""
    arr = np.asarray(offsets)
    if arr.size == 0 and arr.dtype.kind == "f":
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError("offsets must be integers, got %s" % arr.dtype)
    if arr.ndim != 1 or arr.shape[0] < 1:
        raise ValueError(
            "offsets must be 1-D with n_bags + 1 entries (the last equal to len(ids)), got shape %s" % (arr.shape,)
        )
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if arr[0] != 0:
        raise ValueError("offsets must start at 0, got %d" % arr[0])
    if arr[-1] != n_ids:
        raise ValueError("the last offset must equal len(ids) = %d, got %d" % (n_ids, arr[-1]))
    steps = np.diff(arr)
    if steps.size and steps.min() < 0:
        at = int(np.argmax(steps < 0))
        raise ValueError(
            "offsets must be non-decreasing: offsets[%d] = %d > offsets[%d] = %d" % (at, arr[at], at + 1, arr[at + 1])
        )
    return arr


def prepare_bag(ids, offsets, mode, padding_idx, per_sample_weights, num_rows, dtype, checker, finder, num_threads):
    """Validate the arguments of an embedding-bag op and describe its bags.

    Parameters
    ----------
    ids, offsets, mode, padding_idx, per_sample_weights :
        As the public ops take them.
    num_rows : int or None
        Table height; ``None`` only checks that ids are non-negative.
    dtype : numpy dtype
        Float type of the table / gradient: per-sample weights are converted to it.
    checker, finder : callables
        Id-range and finiteness checks (compiled or NumPy).
    num_threads : int

    Returns
    -------
    BagInput
    """
    mode_code = check_mode(mode)
    if hasattr(ids, "offsets") and hasattr(ids, "values") and not isinstance(ids, np.ndarray):
        # A fastembed.Ragged: its flat ids and offsets.
        if offsets is not None:
            raise ValueError("offsets must be None when ids is a Ragged (it carries its own)")
        ids, offsets = ids.values, ids.offsets
    arr = as_ids(ids)
    if arr.ndim == 2:
        if offsets is not None:
            raise ValueError("offsets must be None when ids is 2-D (batch, seq): each row is a bag")
        n_bags, seq = arr.shape
        if seq == 0:
            bag_offsets = np.zeros(n_bags + 1, dtype=np.int64)  # every bag is empty
        else:
            bag_offsets = None
    elif arr.ndim == 1:
        if offsets is None:
            raise ValueError("1-D ids need offsets (n_bags + 1 bag boundaries); or pass 2-D (batch, seq) ids")
        bag_offsets = as_offsets(offsets, arr.shape[0])
        n_bags, seq = bag_offsets.shape[0] - 1, 0
    else:
        raise ValueError("ids must be 2-D (batch, seq) or 1-D with offsets, got shape %s" % (arr.shape,))
    flat = arr.reshape(-1)
    max_id = check_ids(flat, arr.shape, num_rows, checker, num_threads)
    padding = normalize_padding_idx(padding_idx, num_rows)
    weights = None
    if per_sample_weights is not None:
        if mode != "sum":
            raise ValueError(
                "per_sample_weights is only supported with mode='sum' (as in PyTorch), got mode=%r" % (mode,)
            )
        weights = as_float_like(per_sample_weights, dtype, arr.shape, "per_sample_weights")
        weights = weights.reshape(-1)
        check_finite(weights, arr.shape, "per_sample_weights", finder, num_threads)
    return BagInput(flat, arr.shape, n_bags, seq, bag_offsets, mode_code, padding, weights, max_id)


def check_bag_grad(grad, n_bags, dim=None):
    """Check the gradient of an embedding-bag output: ``(n_bags, dim)``."""
    if grad.ndim != 2 or grad.shape[0] != n_bags:
        raise ValueError("grad must have shape (n_bags, dim) = (%d, ...), got %s" % (n_bags, grad.shape))
    if dim is not None and grad.shape[1] != dim:
        raise ValueError("grad has %d columns but the table has dim %d" % (grad.shape[1], dim))


def check_same_table(table, grad_dtype, grad_dim, name="weights"):
    """The table and a gradient must agree on dtype and width."""
    if table.dtype != grad_dtype:
        raise TypeError("%s is %s but the gradient is %s; use one float type" % (name, table.dtype, grad_dtype))
    if table.shape[1] != grad_dim:
        raise ValueError("%s has dim %d but the gradient has %d columns" % (name, table.shape[1], grad_dim))


def check_sparse_rows(grad, table, increasing_checker, finder, num_threads):
    """Validate a SparseRows gradient for ``table``; return its (indices, values).

    Indices must be sorted and unique (else two threads could update one row) and inside
    the table; values must match the table's dtype and width and be finite.
    """
    from .sparse import SparseRows

    if not isinstance(grad, SparseRows):
        raise TypeError("grad must be a SparseRows (from an *_backward op), got %s" % type(grad).__name__)
    values = np.asarray(grad.values)
    indices = np.ascontiguousarray(grad.indices, dtype=np.int64)
    if values.ndim != 2 or values.shape[0] != indices.shape[0]:
        raise ValueError("grad.values must have shape (len(indices), dim), got %s" % (values.shape,))
    check_same_table(table, values.dtype, values.shape[1])
    values = np.ascontiguousarray(values)
    position = increasing_checker(indices, table.shape[0])
    if position >= 0:
        value = int(indices[position])
        if not 0 <= value < table.shape[0]:
            raise IndexError(
                "grad.indices[%d] = %d is out of range for a table of %d rows" % (position, value, table.shape[0])
            )
        raise ValueError(
            "grad.indices must be sorted and unique (found %d after %d at position "
            "%d); call grad.coalesce() first" % (value, int(indices[position - 1]), position)
        )
    check_finite(values.reshape(-1), values.shape, "grad.values", finder, num_threads)
    return indices, values


def prepare_bag_backward(
    grad, ids, offsets, mode, padding_idx, per_sample_weights, weights, num_rows, checker, finder, num_threads
):
    """Validate the arguments of an embedding-bag backward op.

    Returns
    -------
    grad : (n_bags, dim) float array
    bag : BagInput
    table : 2-D float array or None
        The weights, when given (needed for mode='max').
    num_rows : int or None
    """
    grad = as_grad(grad)
    table = None
    if weights is not None:
        table = as_table(weights)
        num_rows = table.shape[0]
    elif num_rows is not None:
        num_rows = as_num_rows(num_rows)
    bag = prepare_bag(
        ids, offsets, mode, padding_idx, per_sample_weights, num_rows, grad.dtype, checker, finder, num_threads
    )
    check_bag_grad(grad, bag.n_bags)
    if bag.mode == MODES["max"] and table is None:
        raise ValueError("mode='max' backward needs weights, to find where each maximum came from")
    if table is not None:
        check_same_table(table, grad.dtype, grad.shape[1])
    check_finite(grad.reshape(-1), grad.shape, "grad", finder, num_threads)
    return grad, bag, table, num_rows


def prepare_lookup_backward(grad, ids, num_rows, checker, finder, num_threads):
    """Validate the arguments of a lookup backward op.

    Returns
    -------
    grad : (n_ids, dim) float array
    flat_ids : (n_ids,) int array
    shape : tuple
        The shape of ``ids``.
    """
    grad = as_grad(grad)
    ids = as_ids(ids)
    if grad.ndim != ids.ndim + 1 or grad.shape[:-1] != ids.shape:
        raise ValueError("grad must have shape ids.shape + (dim,) = %s + (dim,), got %s" % (ids.shape, grad.shape))
    if num_rows is not None:
        num_rows = as_num_rows(num_rows)
    flat = ids.reshape(-1)
    check_ids(flat, ids.shape, num_rows, checker, num_threads)
    grad = grad.reshape(flat.shape[0], grad.shape[-1])
    check_finite(grad.reshape(-1), grad.shape, "grad", finder, num_threads)
    return grad, flat, ids.shape


def check_squares(squares, values, finder, num_threads):
    """Validate the per-occurrence squares given with an update: an array of ``values``'
    shape and dtype (or a SparseRows with the same indices), finite and not negative.
    Returns the C-contiguous 2-D values, or None."""
    from .sparse import SparseRows

    if squares is None:
        return None
    if isinstance(squares, SparseRows):
        squares = squares.values
    squares = np.asarray(squares)
    if squares.size != values.size or squares.dtype != values.dtype:
        raise ValueError(
            "squares must match the gradient's shape %s and dtype %s, got %s %s"
            % (values.shape, values.dtype, squares.shape, squares.dtype)
        )
    squares = np.ascontiguousarray(squares).reshape(values.shape)
    check_finite(squares.reshape(-1), squares.shape, "squares", finder, num_threads)
    if squares.size and squares.min() < 0:
        raise ValueError("squares must not be negative (they are sums of squared gradients)")
    return squares


def prepare_dense_update(weights, grad):
    """Validate a dense update; return ``(param as 2-D view, grad as 2-D array)``.

    A dense parameter is updated as a table whose every row is touched: 2-D and higher
    arrays keep their first axis as rows, 1-D ones (biases) are a single row.
    """
    if not isinstance(weights, np.ndarray):
        raise TypeError("weights must be a NumPy array to be updated in place, got %s" % type(weights).__name__)
    if weights.dtype not in FLOAT_DTYPES:
        raise TypeError("weights must be float32 or float64, got %s" % weights.dtype)
    if not weights.flags.c_contiguous or not weights.flags.writeable:
        raise ValueError("weights must be writeable and C-contiguous to be updated in place")
    grad = np.asarray(grad)
    if grad.shape != weights.shape:
        raise ValueError("grad has shape %s but the weights have %s" % (grad.shape, weights.shape))
    if grad.dtype != weights.dtype:
        raise TypeError("weights are %s but the gradient is %s; use one float type" % (weights.dtype, grad.dtype))
    rows = weights.shape[0] if weights.ndim >= 2 else 1
    return weights.reshape(rows, -1), np.ascontiguousarray(grad).reshape(rows, -1)


def inverse_norms(table):
    """1 / L2 norm of every row of ``table`` (0 for a zero row), in the table's dtype."""
    table = np.asarray(table)
    norms = np.sqrt(np.einsum("ij,ij->i", table, table, dtype=np.float64))
    with np.errstate(divide="ignore"):
        inverse = np.where(norms > 0, 1.0 / norms, 0.0)
    return inverse.astype(table.dtype)


def prepare_top_k(table, terms, k, inv_norms, n_positive, n_negative, cosmul, exclude, stop):
    """Validate and convert the arguments of ``top_k_similar`` (op and twin)."""
    table = np.asarray(table)
    if table.ndim != 2 or table.dtype not in (np.float32, np.float64):
        raise TypeError("table must be a 2-D float32 or float64 array, got %s %s" % (table.dtype, table.shape))
    table = np.ascontiguousarray(table)
    terms = np.ascontiguousarray(terms, dtype=table.dtype)
    if terms.ndim != 2 or terms.shape[1] != table.shape[1]:
        raise ValueError("terms must have shape (n, %d), got %s" % (table.shape[1], terms.shape))
    if int(n_positive) < (1 if cosmul else 0) or int(n_negative) < 0:
        raise ValueError("bad term counts: n_positive=%r, n_negative=%r" % (n_positive, n_negative))
    n_terms = int(n_positive) + int(n_negative) if cosmul else 1
    if terms.shape[0] % n_terms:
        raise ValueError("%d terms do not split into queries of %d terms" % (terms.shape[0], n_terms))
    n_queries = terms.shape[0] // n_terms
    k = int(k)
    if k < 0:
        raise ValueError("k must be >= 0, got %d" % k)
    stop = table.shape[0] if stop is None else max(0, min(int(stop), table.shape[0]))
    if inv_norms is None:
        inv_norms = inverse_norms(table)
    inv_norms = np.ascontiguousarray(inv_norms, dtype=table.dtype)
    if inv_norms.shape != (table.shape[0],):
        raise ValueError("inv_norms must have shape (%d,), got %s" % (table.shape[0], inv_norms.shape))
    if exclude is None:
        exclude = np.full((n_queries, 0), -1, dtype=np.int64)
    exclude = np.ascontiguousarray(exclude, dtype=np.int64)
    if exclude.ndim != 2 or exclude.shape[0] != n_queries:
        raise ValueError("exclude must have shape (%d, m), got %s" % (n_queries, exclude.shape))
    return table, terms, k, inv_norms, n_terms, exclude, stop
