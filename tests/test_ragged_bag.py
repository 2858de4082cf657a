"""fastembed.Ragged, fastembed.layers.EmbeddingBag (against torch.nn.EmbeddingBag) and
Sequential models that start with an EmbeddingBag.

Oracles: plain Python for Ragged (lists of lists), PyTorch for the bag's forward and
gradient, and the models themselves for training (padded vs ragged input, and
Embedding + GlobalAveragePooling1D vs EmbeddingBag must give the same bits).
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastembed
from fastembed import Ragged, ops
from fastembed.engine._plan import Plan
from fastembed.layers import Activation, Dense, Embedding, EmbeddingBag, GlobalAveragePooling1D, GlobalMaxPooling1D


# ----------------------------------------------------------------------------------------
# Python references
# ----------------------------------------------------------------------------------------


def padded_reference(rows, length=None, value=0):
    """``to_padded`` in plain Python: rows cut or padded at the end."""
    if length is None:
        length = max((len(row) for row in rows), default=0)
    return [list(row[:length]) + [value] * max(0, length - len(row)) for row in rows]


def assert_ragged(r, rows, dtype=None):
    """``r`` is a well-formed Ragged holding exactly ``rows``."""
    assert isinstance(r, Ragged)
    assert len(r) == len(rows)
    assert r.to_list() == [list(row) for row in rows]
    assert r.offsets.dtype == np.int64 and r.offsets.ndim == 1
    assert r.offsets[0] == 0 and r.offsets[-1] == r.values.shape[0]
    assert r.row_lengths().tolist() == [len(row) for row in rows]
    assert r.row_splits is r.offsets
    if dtype is not None:
        assert r.values.dtype == np.dtype(dtype) and r.dtype == np.dtype(dtype)


ROWS = [[3, 1, 4], [1], [], [5, 9, 2, 6], [], [5]]


# ----------------------------------------------------------------------------------------
# Ragged: construction
# ----------------------------------------------------------------------------------------


def test_from_rows_lists():
    r = Ragged.from_rows(ROWS)
    assert_ragged(r, ROWS, np.int64)
    assert r.offsets.tolist() == [0, 3, 4, 4, 8, 8, 9]
    assert r.values.tolist() == [3, 1, 4, 1, 5, 9, 2, 6, 5]


def test_from_rows_arrays_and_2d_array():
    arrays = [np.array(row, dtype=np.int64) for row in ROWS]
    assert_ragged(Ragged.from_rows(arrays), ROWS, np.int64)
    matrix = np.arange(12).reshape(3, 4)
    assert_ragged(Ragged.from_rows(matrix), matrix.tolist(), np.int64)
    assert_ragged(Ragged.from_rows((tuple(row) for row in ROWS)), ROWS)  # any iterable


def test_from_rows_empty():
    r = Ragged.from_rows([])
    assert len(r) == 0 and r.offsets.tolist() == [0] and r.values.shape == (0,)
    assert r.to_list() == [] and list(r) == []
    assert r.to_padded().shape == (0, 0)
    only_empty = Ragged.from_rows([[], [], []])
    assert_ragged(only_empty, [[], [], []], np.int64)
    assert only_empty.to_padded().shape == (3, 0)
    assert only_empty.to_padded(length=2, value=7).tolist() == [[7, 7]] * 3


def test_from_rows_keeps_int32():
    rows = [np.array(row, dtype=np.int32) for row in ROWS if row]
    r = Ragged.from_rows(rows)
    assert_ragged(r, [row.tolist() for row in rows], np.int32)
    # views, takes, slices and padding keep the type
    assert r[0].dtype == np.int32
    assert r[1:3].values.dtype == np.int32
    assert r[::2].values.dtype == np.int32
    assert r.take([2, 0]).values.dtype == np.int32
    assert r.to_padded().dtype == np.int32
    # explicit dtype wins, for lists too
    assert_ragged(Ragged.from_rows(ROWS, dtype=np.int32), ROWS, np.int32)
    assert_ragged(Ragged.from_rows([], dtype=np.int32), [], np.int32)
    # the constructor keeps int32 values as they are; other int types widen to int64
    assert Ragged(np.array([1, 2], np.int32), [0, 2]).dtype == np.int32
    assert Ragged(np.array([1, 2], np.int16), [0, 2]).dtype == np.int64
    assert Ragged(np.array([1, 2], np.uint8), [0, 1, 2]).dtype == np.int64


def test_from_rows_keeps_int32_with_empty_int32_row():
    rows = [np.array([1, 2], np.int32), np.zeros(0, np.int32), np.array([3], np.int32)]
    assert Ragged.from_rows(rows).dtype == np.int32


def test_from_rows_rejects_bad_rows():
    with pytest.raises(TypeError):
        Ragged.from_rows([[1, 2], [0.5]])
    with pytest.raises(TypeError):
        Ragged.from_rows([np.array([1.0, 2.0])])
    with pytest.raises(TypeError):
        Ragged.from_rows([[True, False]])
    with pytest.raises(ValueError):
        Ragged.from_rows([[1, 2], [[3, 4], [5, 6]]])
    with pytest.raises(ValueError):
        Ragged.from_rows([5])  # a scalar is not a row


def test_from_row_lengths():
    values = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5])
    r = Ragged.from_row_lengths(values, [3, 1, 0, 4, 0, 1])
    assert r == Ragged.from_rows(ROWS)
    assert_ragged(Ragged.from_row_lengths(np.zeros(0, np.int32), np.zeros(0, np.int64)), [], np.int32)
    assert_ragged(Ragged.from_row_lengths(np.zeros(0, np.int32), [0, 0]), [[], []], np.int32)
    with pytest.raises(ValueError):
        Ragged.from_row_lengths(values, [3, 1, 0, 4, 0, 2])  # sum != len(values)
    with pytest.raises(ValueError):
        Ragged.from_row_lengths(values, [3, -1, 7])
    with pytest.raises(ValueError):
        Ragged.from_row_lengths(values, [[9]])
    with pytest.raises(ValueError):
        Ragged.from_row_lengths(values, [4.5, 4.5])


def test_from_row_lengths_empty_list():
    assert len(Ragged.from_row_lengths([], [])) == 0


def test_constructor_validation():
    values = np.array([1, 2, 3, 4])
    r = Ragged(values, [0, 1, 1, 4])
    assert r.to_list() == [[1], [], [2, 3, 4]]
    assert r.offsets.dtype == np.int64
    with pytest.raises(ValueError, match="start at 0"):
        Ragged(values, [1, 2, 4])
    with pytest.raises(ValueError, match="non-decreasing"):
        Ragged(values, [0, 3, 2, 4])
    with pytest.raises(ValueError, match="last offset"):
        Ragged(values, [0, 2, 3])
    with pytest.raises(ValueError, match="last offset"):
        Ragged(values, [0, 2, 5])
    with pytest.raises(ValueError):
        Ragged(values, [])  # needs n_rows + 1 entries
    with pytest.raises(ValueError):
        Ragged(values, [[0, 4]])
    with pytest.raises(TypeError):
        Ragged(values, [0.0, 4.0])
    with pytest.raises(TypeError):
        Ragged(np.array([1.0, 2.0]), [0, 2])
    with pytest.raises(TypeError):
        Ragged(np.array([True, False]), [0, 2])
    with pytest.raises(ValueError, match="1-D"):
        Ragged(np.array([[1, 2], [3, 4]]), [0, 2])
    # an empty list is fine (np.asarray([]) is float64)
    assert len(Ragged([], [0])) == 0
    assert Ragged([], [0, 0, 0]).to_list() == [[], []]


# ----------------------------------------------------------------------------------------
# Ragged: indexing, take, iteration, padding, equality
# ----------------------------------------------------------------------------------------


def test_int_indexing_gives_views():
    r = Ragged.from_rows(ROWS)
    for i in range(-len(ROWS), len(ROWS)):
        row = r[i]
        assert isinstance(row, np.ndarray) and row.tolist() == ROWS[i]
        assert r[np.int64(i)].tolist() == ROWS[i]
        assert r[np.int32(i)].tolist() == ROWS[i]
    view = r[3]
    assert np.shares_memory(view, r.values)
    for bad in (len(ROWS), len(ROWS) + 5, -len(ROWS) - 1, np.int64(-100)):
        with pytest.raises(IndexError):
            r[bad]
    with pytest.raises(IndexError):
        Ragged.from_rows([])[0]


@pytest.mark.parametrize(
    "key",
    [
        slice(None),
        slice(1, 4),
        slice(2, None),
        slice(None, -2),
        slice(-3, -1),
        slice(4, 1),
        slice(6, 10),
        slice(-100, 100),
        slice(None, None, 2),
        slice(1, None, 3),
        slice(None, None, -1),
        slice(5, 0, -2),
        slice(-1, -7, -1),
        slice(3, 3),
        slice(0, 0, -1),
    ],
)
def test_slices_match_list_slices(key):
    r = Ragged.from_rows(ROWS)
    out = r[key]
    assert_ragged(out, ROWS[key], np.int64)
    # a slice result is a new Ragged that owns consistent offsets
    assert out.offsets[0] == 0


def test_slice_of_slice_and_views():
    r = Ragged.from_rows(ROWS)
    inner = r[1:5]
    assert_ragged(inner[1:], ROWS[1:5][1:])
    assert_ragged(inner[::-1], ROWS[1:5][::-1])
    assert inner[2].tolist() == ROWS[3]
    assert np.shares_memory(inner.values, r.values)  # a contiguous slice is a view


def test_index_arrays_and_take():
    r = Ragged.from_rows(ROWS)
    for index in ([4, 0, 0, 3], [-1, -6, 2], [], [5, 5, 5]):
        expected = [ROWS[i] for i in index]
        assert_ragged(r[np.array(index, dtype=np.int64)], expected)
        assert_ragged(r[index], expected)
        assert_ragged(r.take(index), expected)
        assert_ragged(r.take(np.array(index, dtype=np.int32)), expected)
    with pytest.raises(IndexError):
        r.take([0, 6])
    with pytest.raises(IndexError):
        r[np.array([-7])]
    # take copies
    taken = r.take([0])
    taken.values[0] = 99
    assert r[0].tolist() == ROWS[0]


def test_boolean_masks():
    r = Ragged.from_rows(ROWS)
    mask = np.array([True, False, True, True, False, True])
    assert_ragged(r[mask], [row for row, keep in zip(ROWS, mask) if keep])
    assert_ragged(r.take(mask), [row for row, keep in zip(ROWS, mask) if keep])
    assert_ragged(r[mask.tolist()], [row for row, keep in zip(ROWS, mask) if keep])
    assert_ragged(r[np.zeros(6, bool)], [])
    lengths = r.row_lengths()
    assert_ragged(r[lengths > 0], [row for row in ROWS if row])


def test_boolean_mask_of_wrong_length_raises():
    r = Ragged.from_rows(ROWS)
    with pytest.raises(IndexError):
        r[np.array([True, False])]


def test_float_indices_raise():
    r = Ragged.from_rows(ROWS)
    with pytest.raises((IndexError, TypeError)):
        r[[0.7, 2.2]]
    with pytest.raises((IndexError, TypeError)):
        r[1.0]


def test_iteration_and_to_list():
    r = Ragged.from_rows(ROWS)
    assert [row.tolist() for row in r] == ROWS
    assert r.to_list() == ROWS
    assert Ragged.from_rows(r.to_list()) == r
    assert all(isinstance(v, int) for row in r.to_list() for v in row)


@pytest.mark.parametrize("length", [None, 0, 1, 2, 4, 7])
@pytest.mark.parametrize("value", [0, -1, 42])
def test_to_padded_matches_reference(length, value):
    r = Ragged.from_rows(ROWS)
    kwargs = {} if length is None else {"length": length}
    out = r.to_padded(value=value, **kwargs)
    expected = padded_reference(ROWS, length, value)
    assert out.shape == (len(ROWS), 4 if length is None else length)
    assert out.dtype == np.int64
    assert out.tolist() == expected


def test_to_padded_int32_and_roundtrip():
    r = Ragged.from_rows(ROWS, dtype=np.int32)
    out = r.to_padded(length=6, value=-3)
    assert out.dtype == np.int32
    assert out.tolist() == padded_reference(ROWS, 6, -3)
    # rows without padding values come back from the padded form
    rows = [[v for v in row if v != -3] for row in out.tolist()]
    assert rows == ROWS


def test_equality():
    a = Ragged.from_rows(ROWS)
    assert a == Ragged.from_rows(ROWS)
    assert a == Ragged(a.values.copy(), a.offsets.copy())
    assert not (a != Ragged.from_rows(ROWS))
    assert a != Ragged.from_rows(ROWS[:-1])
    assert a != Ragged.from_rows([[3, 1], [4, 1]] + ROWS[2:])  # same values, other splits
    assert a != Ragged.from_rows([[3, 1, 4], [2]] + ROWS[2:])  # same splits, other values
    assert a != Ragged.from_rows([[3, 1, 4], [1], [], [5, 9, 2, 6], [5], []])  # empty row moved
    assert (a == ROWS) is False and (a != ROWS) is True
    assert Ragged.from_rows([]) == Ragged.from_rows([], dtype=np.int32)
    with pytest.raises(TypeError):
        hash(a)


def test_repr_and_len():
    r = Ragged.from_rows(ROWS)
    assert len(r) == 6
    assert "n_rows=6" in repr(r) and "n_values=9" in repr(r)


rows_strategy = st.lists(st.lists(st.integers(min_value=-(2**40), max_value=2**40), max_size=7), max_size=12)


@settings(max_examples=80, deadline=None)
@given(rows=rows_strategy, length=st.one_of(st.none(), st.integers(0, 9)), value=st.integers(-5, 5))
def test_property_roundtrip_and_padding(rows, length, value):
    r = Ragged.from_rows(rows)
    assert r.to_list() == rows
    assert len(r) == len(rows)
    assert r.row_lengths().tolist() == [len(row) for row in rows]
    assert all(r[i].tolist() == row for i, row in enumerate(rows))
    kwargs = {} if length is None else {"length": length}
    out = r.to_padded(value=value, **kwargs)
    expected = padded_reference(rows, length, value)
    width = max((len(row) for row in rows), default=0) if length is None else length
    assert out.shape == (len(rows), width)
    assert out.tolist() == expected
    assert Ragged.from_row_lengths(r.values, r.row_lengths()) == r


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.lists(st.integers(0, 100), max_size=5), max_size=8), data=st.data())
def test_property_indexing(rows, data):
    r = Ragged.from_rows(rows)
    n = len(rows)
    start = data.draw(st.one_of(st.none(), st.integers(-n - 2, n + 2)))
    stop = data.draw(st.one_of(st.none(), st.integers(-n - 2, n + 2)))
    step = data.draw(st.one_of(st.none(), st.integers(-3, 3).filter(lambda s: s != 0)))
    assert r[start:stop:step].to_list() == rows[start:stop:step]
    if n:
        index = data.draw(st.lists(st.integers(-n, n - 1), max_size=10))
        assert r.take(index).to_list() == [rows[i] for i in index]
        mask = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
        assert r[np.array(mask, dtype=bool)].to_list() == [row for row, keep in zip(rows, mask) if keep]


# ----------------------------------------------------------------------------------------
# EmbeddingBag against torch.nn.EmbeddingBag
# ----------------------------------------------------------------------------------------

V, D = 13, 6
MODES = ["sum", "mean", "max"]
PADDINGS = [None, 0, -1]  # -1 is row V - 1, as in PyTorch


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(previous)


def _table(seed=0):
    return np.random.default_rng(seed).standard_normal((V, D)).astype(np.float32)


def _ragged_ids():
    """Bags with duplicates, padding ids (0 and V - 1) inside, an empty bag, bags made of
    padding only (fully padded for padding_idx 0, for -1, for both)."""
    rows = [
        [1, 2, 2, 3],
        [],
        [0, 0],
        [4, 0, 4, V - 1],
        [7],
        [V - 1, V - 1],
        [5, 5, 5, 5, 5],
        [0, V - 1, 0],
        [9, 8, 0, 11, 10, 12, 2, 3],
        [6, 0],
    ]
    return Ragged.from_rows(rows)


def _padded_ids():
    """(batch, seq) ids: rows full of padding (0 and V - 1), duplicates, padding inside."""
    return np.array(
        [
            [1, 2, 2, 3, 0, 0],
            [0, 0, 0, 0, 0, 0],
            [4, 0, 4, V - 1, 5, 6],
            [V - 1, V - 1, V - 1, V - 1, V - 1, V - 1],
            [7, 7, 7, 7, 7, 7],
            [8, 9, 10, 11, 12, 1],
            [0, V - 1, 0, V - 1, 0, V - 1],
            [3, 0, 0, 0, 0, 0],
        ],
        dtype=np.int64,
    )


def _fastembed_bag(mode, padding_idx, table):
    layer = EmbeddingBag(V, D, mode=mode, padding_idx=padding_idx)
    layer.build()
    layer.set_weights([table])
    return layer


def _torch_bag(torch, mode, padding_idx, table):
    bag = torch.nn.EmbeddingBag(V, D, mode=mode, padding_idx=padding_idx, include_last_offset=False)
    with torch.no_grad():
        bag.weight.copy_(torch.from_numpy(table))
    return bag


def _compare(torch, mode, padding_idx, fe_input, torch_args, grad_seed=1):
    table = _table()
    layer = _fastembed_bag(mode, padding_idx, table)
    bag = _torch_bag(torch, mode, padding_idx, table)
    out = layer.forward(fe_input, training=True)
    expected = bag(*torch_args)
    assert out.dtype == np.float32
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-6, atol=1e-7)

    grad = np.random.default_rng(grad_seed).standard_normal(out.shape).astype(np.float32)
    assert layer.backward(grad) is None  # ids have no gradient
    (expected * torch.from_numpy(grad)).sum().backward()
    sparse = layer.sparse_grad
    assert isinstance(sparse, fastembed.SparseRows)
    assert np.all(np.diff(sparse.indices) > 0)  # sorted, unique
    dense = sparse.to_dense(V)
    np.testing.assert_allclose(dense, bag.weight.grad.numpy(), rtol=1e-6, atol=1e-6)
    # rows that get no gradient in torch are not stored at all (or stored as zeros)
    untouched = ~np.any(bag.weight.grad.numpy() != 0, axis=1)
    assert np.all(dense[untouched] == 0)
    if padding_idx is not None:
        assert not np.any(sparse.indices == padding_idx % V)
    return out, dense


@pytest.mark.parametrize("padding_idx", PADDINGS)
@pytest.mark.parametrize("mode", MODES)
def test_bag_ragged_matches_torch(torch, num_threads, mode, padding_idx):
    r = _ragged_ids()
    # torch: 1-D input + the bag starts (include_last_offset=False)
    args = (torch.from_numpy(r.values), torch.from_numpy(r.offsets[:-1]))
    out, _ = _compare(torch, mode, padding_idx, r, args)
    lengths = r.row_lengths()
    assert np.all(out[lengths == 0] == 0)  # the empty bag gives zeros
    if padding_idx is not None:
        pad = padding_idx % V
        fully_padded = [i for i, row in enumerate(r.to_list()) if row and all(v == pad for v in row)]
        assert fully_padded and np.all(out[fully_padded] == 0)


@pytest.mark.parametrize("padding_idx", PADDINGS)
@pytest.mark.parametrize("mode", MODES)
def test_bag_padded_matches_torch(torch, num_threads, mode, padding_idx):
    ids = _padded_ids()
    out, _ = _compare(torch, mode, padding_idx, ids, (torch.from_numpy(ids),))
    if padding_idx is not None:
        pad = padding_idx % V
        fully_padded = np.all(ids == pad, axis=1)
        assert fully_padded.any() and np.all(out[fully_padded] == 0)


@pytest.mark.parametrize("mode", MODES)
def test_bag_int32_ids_match_torch(torch, mode):
    r = _ragged_ids()
    r32 = Ragged(r.values.astype(np.int32), r.offsets)
    assert r32.dtype == np.int32
    args = (torch.from_numpy(r.values), torch.from_numpy(r.offsets[:-1]))
    _compare(torch, mode, 0, r32, args)
    ids = _padded_ids()
    _compare(torch, mode, 0, ids.astype(np.int32), (torch.from_numpy(ids),))


@pytest.mark.parametrize("mode", MODES)
def test_bag_duplicate_ids_match_torch(torch, mode):
    """Many repeats of few ids: the gradient rows sum over every occurrence."""
    rng = np.random.default_rng(5)
    lengths = rng.integers(0, 12, size=20)
    values = rng.integers(0, 3, size=int(lengths.sum()))
    r = Ragged.from_row_lengths(values, lengths)
    args = (torch.from_numpy(r.values), torch.from_numpy(r.offsets[:-1]))
    for padding_idx in (None, 1):
        _, dense = _compare(torch, mode, padding_idx, r, args, grad_seed=7)
        if mode == "sum" and padding_idx is None:
            # sum mode: row k's gradient is the sum of grad over every occurrence of k
            grad = np.random.default_rng(7).standard_normal((len(r), D)).astype(np.float64)
            expected = np.zeros((V, D))
            for b, row in enumerate(r.to_list()):
                for v in row:
                    expected[v] += grad[b]
            np.testing.assert_allclose(dense, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding_idx", [0, -1])
@pytest.mark.parametrize("mode", MODES)
def test_bag_padded_equals_ragged(mode, padding_idx):
    """Padded rows and the same rows as a Ragged (padding dropped) give the same bits."""
    pad = padding_idx % V
    ids = _padded_ids()
    rows = [[v for v in row if v != pad] for row in ids.tolist()]
    r = Ragged.from_rows(rows)
    table = _table()
    a, b = _fastembed_bag(mode, padding_idx, table), _fastembed_bag(mode, padding_idx, table)
    out_a, out_b = a.forward(ids, training=True), b.forward(r, training=True)
    assert np.array_equal(out_a, out_b)
    grad = np.random.default_rng(3).standard_normal(out_a.shape).astype(np.float32)
    a.backward(grad)
    b.backward(grad)
    assert np.array_equal(a.sparse_grad.to_dense(V), b.sparse_grad.to_dense(V))


@pytest.mark.parametrize("padding_idx", PADDINGS)
@pytest.mark.parametrize("mode", MODES)
def test_ops_embedding_bag_matches_torch(torch, mode, padding_idx):
    """The functional form: ops.embedding_bag / embedding_bag_backward vs F.embedding_bag."""
    r = _ragged_ids()
    table = _table(2)
    out = ops.embedding_bag(table, r.values, r.offsets, mode, padding_idx)
    weight = torch.from_numpy(table.copy()).requires_grad_(True)
    expected = torch.nn.functional.embedding_bag(
        torch.from_numpy(r.values), weight, torch.from_numpy(r.offsets[:-1]), mode=mode, padding_idx=padding_idx
    )
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-6, atol=1e-7)
    grad = np.random.default_rng(4).standard_normal(out.shape).astype(np.float32)
    (expected * torch.from_numpy(grad)).sum().backward()
    sparse = ops.embedding_bag_backward(grad, r.values, r.offsets, mode=mode, padding_idx=padding_idx, weights=table)
    np.testing.assert_allclose(sparse.to_dense(V), weight.grad.numpy(), rtol=1e-6, atol=1e-6)
    # same result as the layer
    layer = _fastembed_bag(mode, padding_idx, table)
    assert np.array_equal(layer(r), out)


def test_ops_per_sample_weights_match_torch(torch):
    r = _ragged_ids()
    table = _table(3)
    psw = np.random.default_rng(8).random(r.values.shape[0]).astype(np.float32)
    out = ops.embedding_bag(table, r.values, r.offsets, "sum", 0, per_sample_weights=psw)
    expected = torch.nn.functional.embedding_bag(
        torch.from_numpy(r.values),
        torch.from_numpy(table),
        torch.from_numpy(r.offsets[:-1]),
        mode="sum",
        per_sample_weights=torch.from_numpy(psw),
        padding_idx=0,
    )
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-6, atol=1e-6)


def test_bag_max_ties_match_torch(torch):
    """Equal rows: the gradient goes to one entry (the earliest), as in torch."""
    table = _table()
    table[2] = table[5]
    r = Ragged.from_rows([[5, 2], [2, 5, 5], [2]])
    args = (torch.from_numpy(r.values), torch.from_numpy(r.offsets[:-1]))
    _compare(torch, "max", None, r, args)


def test_bag_output_shape_and_config():
    layer = EmbeddingBag(V, D, mode="max", padding_idx=-2)
    assert layer.padding_idx == V - 2
    assert layer.compute_output_shape((None, 7)) == (None, D)
    config = layer.get_config()
    assert config["mode"] == "max" and config["padding_idx"] == V - 2
    assert config["input_dim"] == V and config["output_dim"] == D
    with pytest.raises(ValueError):
        EmbeddingBag(V, D, mode="median")
    with pytest.raises(ValueError):
        EmbeddingBag(V, D, padding_idx=V)
    with pytest.raises(ValueError):
        EmbeddingBag(V, D, padding_idx=-V - 1)
    with pytest.raises(ValueError):
        EmbeddingBag(0, D)
    layer.build()
    with pytest.raises(IndexError):
        layer(np.array([[1, V]]))
    with pytest.raises(IndexError):
        layer(Ragged.from_rows([[1], [-1]]))
    out = layer(np.zeros((3, 0), dtype=np.int64))  # zero-length bags
    assert out.shape == (3, D) and np.all(out == 0)


# ----------------------------------------------------------------------------------------
# Sequential with EmbeddingBag first
# ----------------------------------------------------------------------------------------

VOCAB, DIM = 50, 8


def _data(n=96, seed=0, max_len=9):
    """Rows of different lengths (some empty, some with id 0 inside) and binary labels."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, max_len + 1, size=n)
    lengths[0] = 0
    rows = [rng.integers(0, VOCAB, size=k).tolist() for k in lengths]
    y = (rng.random(n) < 0.5).astype(np.float32)
    return rows, y


def _bag_model(seed, mode="mean", padding_idx=0, hidden=False, optimizer="adam", generic=False):
    fastembed.set_random_seed(seed)
    layers = [EmbeddingBag(VOCAB, DIM, mode=mode, padding_idx=padding_idx)]
    if hidden:
        layers.append(Dense(4, activation="relu"))
    if generic:
        layers.append(Activation("linear"))  # not a stack the compiled step runs
    layers.append(Dense(1, activation="sigmoid"))
    model = fastembed.Sequential(layers)
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return model


def _weights_equal(a, b):
    return len(a) == len(b) and all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(a, b))


def _fit(model, x, y, seed=11, **kwargs):
    fastembed.set_random_seed(seed)
    kwargs.setdefault("batch_size", 16)
    kwargs.setdefault("epochs", 2)
    return model.fit(x, y, verbose=0, **kwargs)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("variant", ["compiled", "hidden", "generic"])
def test_fit_padded_ragged_and_lists_identical(mode, variant):
    rows, y = _data()
    ragged = Ragged.from_rows(rows)
    padded = ragged.to_padded()  # pads with 0 = padding_idx
    padded32 = ragged.to_padded().astype(np.int32)
    kwargs = dict(mode=mode, hidden=variant == "hidden", generic=variant == "generic")
    results = []
    for x in (padded, ragged, rows, padded32):
        model = _bag_model(3, **kwargs)
        initial = model.get_weights()
        history = _fit(model, x, y)
        results.append((model.get_weights(), history.history["loss"]))
        assert not _weights_equal(initial, model.get_weights())  # it trained
    for weights, losses in results[1:]:
        assert _weights_equal(results[0][0], weights)
        assert losses == results[0][1]
    # the stack ran on the path the variant is about
    assert Plan(model, training=False).compiled == (variant != "generic")
    # a different seed gives different weights (the comparison above is not vacuous)
    other = _bag_model(4, **kwargs)
    _fit(other, padded, y)
    assert not _weights_equal(results[0][0], other.get_weights())


def test_fit_with_validation_split_padded_vs_ragged():
    rows, y = _data(n=80, seed=2)
    ragged = Ragged.from_rows(rows)
    histories, weights = [], []
    for x in (ragged.to_padded(), ragged):
        model = _bag_model(5)
        history = _fit(model, x, y, validation_split=0.25, epochs=3, shuffle="batch")
        histories.append(history.history)
        weights.append(model.get_weights())
    assert _weights_equal(*weights)
    assert histories[0] == histories[1]
    assert "val_loss" in histories[0] and len(histories[0]["val_loss"]) == 3


def test_predict_padded_and_ragged_match_layers():
    rows, y = _data(n=40, seed=3)
    ragged = Ragged.from_rows(rows)
    model = _bag_model(6, mode="mean")
    _fit(model, ragged, y, epochs=1)
    p_ragged = model.predict(ragged)
    p_padded = model.predict(ragged.to_padded())
    p_lists = model.predict(rows)
    assert p_ragged.shape == (len(rows), 1)
    assert np.array_equal(p_ragged, p_padded) and np.array_equal(p_ragged, p_lists)
    bag, dense = model.layers
    pooled = bag(ragged)
    expected = 1 / (1 + np.exp(-(pooled.astype(np.float64) @ dense.kernel + dense.bias)))
    np.testing.assert_allclose(p_ragged, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("padding_idx", [0, -1, None])
@pytest.mark.parametrize("mode", MODES)
def test_save_load_roundtrip(tmp_path, mode, padding_idx):
    rows, y = _data(n=48, seed=4)
    ragged = Ragged.from_rows(rows)
    model = _bag_model(7, mode=mode, padding_idx=padding_idx, hidden=True)
    _fit(model, ragged, y, epochs=1)
    path = tmp_path / "bag.fe"
    model.save(path)
    loaded = fastembed.load_model(path)
    first = loaded.layers[0]
    assert type(first) is EmbeddingBag
    assert first.mode == mode
    assert first.padding_idx == (None if padding_idx is None else padding_idx % VOCAB)
    assert first.get_config() == model.layers[0].get_config()
    assert loaded.get_config() == model.get_config()
    assert _weights_equal(loaded.get_weights(), model.get_weights())
    assert np.array_equal(loaded.predict(ragged), model.predict(ragged))
    assert np.array_equal(loaded.predict(ragged.to_padded()), model.predict(ragged.to_padded()))
    # training continues identically (optimizer state saved too)
    _fit(model, ragged, y, seed=21, epochs=1)
    _fit(loaded, ragged, y, seed=21, epochs=1)
    assert _weights_equal(loaded.get_weights(), model.get_weights())


def test_summary_shows_embedding_bag():
    model = fastembed.Sequential(
        [EmbeddingBag(VOCAB, DIM, mode="sum", padding_idx=0, name="bag"), Dense(3, activation="softmax", name="head")]
    )
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    bag_line = next(line for line in lines if "bag (EmbeddingBag)" in line)
    assert "(None, %d)" % DIM in bag_line and bag_line.rstrip().endswith(str(VOCAB * DIM))
    head_line = next(line for line in lines if "head (Dense)" in line)
    assert "(None, 3)" in head_line and head_line.rstrip().endswith(str(DIM * 3 + 3))
    total = VOCAB * DIM + DIM * 3 + 3
    assert "Total params: {:,}".format(total) in text
    assert "Trainable params: {:,}".format(total) in text
    assert model.count_params() == total


def test_embedding_bag_must_be_first():
    with pytest.raises(ValueError):
        fastembed.Sequential([Dense(2), EmbeddingBag(VOCAB, DIM)])


@pytest.mark.parametrize("mode,pooling", [("mean", GlobalAveragePooling1D), ("max", GlobalMaxPooling1D)])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_embedding_pooling_equals_embedding_bag(mode, pooling, optimizer):
    rows, y = _data(n=96, seed=8)
    padded = Ragged.from_rows(rows).to_padded()
    # Keras' GlobalMaxPooling1D ignores the mask (padding takes part in the max), so the
    # max model's bag keeps padding in; the mean one leaves it out.
    bag_model = _bag_model(9, mode=mode, padding_idx=0 if mode == "mean" else None, optimizer=optimizer)
    fastembed.set_random_seed(9)
    pooled_model = fastembed.Sequential(
        [Embedding(VOCAB, DIM, mask_zero=True), pooling(), Dense(1, activation="sigmoid")]
    )
    pooled_model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    # same starting weights: copy the table (and the Dense layer) across
    pooled_model.layers[0].set_weights(bag_model.layers[0].get_weights())
    pooled_model.layers[2].set_weights(bag_model.layers[1].get_weights())
    assert _weights_equal(pooled_model.get_weights(), bag_model.get_weights())
    assert np.array_equal(pooled_model.predict(padded), bag_model.predict(padded))
    h_bag = _fit(bag_model, padded, y, seed=13)
    h_pooled = _fit(pooled_model, padded, y, seed=13)
    assert _weights_equal(pooled_model.get_weights(), bag_model.get_weights())
    assert h_bag.history == h_pooled.history
    assert np.array_equal(pooled_model.predict(padded), bag_model.predict(padded))
    # the pooled model takes ragged input as it is, with the same result
    ragged = Ragged.from_rows([[v for v in row if v != 0] for row in rows])
    assert np.array_equal(pooled_model.predict(ragged), bag_model.predict(padded if mode == "mean" else ragged))


def test_ragged_input_needs_a_bag_model():
    rows, y = _data(n=16)
    fastembed.set_random_seed(0)
    model = fastembed.Sequential([Embedding(VOCAB, DIM), Activation("linear"), GlobalAveragePooling1D(), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="ragged"):
        model.fit(Ragged.from_rows(rows), y, verbose=0)


def test_fit_rejects_out_of_range_ragged_ids():
    model = _bag_model(0)
    bad = Ragged.from_rows([[1, 2], [3, VOCAB]])
    with pytest.raises(IndexError):
        model.fit(bad, np.array([0, 1], np.float32), verbose=0)
