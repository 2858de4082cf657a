"""Backward kernels: against the NumPy twins, against finite differences, and bitwise
deterministic across thread counts."""

import numpy as np
import pytest

import fastembed
from fastembed import SparseRows, ops, reference
from helpers import random_padded_ids, random_ragged, random_table, tolerance

FLOATS = [np.float32, np.float64]
INDEXES = [np.int32, np.int64]


def assert_rows_close(got, expected, dtype):
    assert isinstance(got, SparseRows)
    assert got.indices.dtype == np.int64
    np.testing.assert_array_equal(got.indices, expected.indices)
    assert got.values.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got.values, expected.values, **tolerance(dtype))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("id_dtype", INDEXES)
@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
@pytest.mark.parametrize("dim", [1, 5, 64, 1024])
def test_bag_backward_padded_matches_twin(rng, num_threads, dtype, id_dtype, mode, dim):
    table = random_table(rng, 25, dim, dtype)
    ids = random_padded_ids(rng, 7, 12, 25, id_dtype)  # duplicates, empty and full bags
    grad = rng.standard_normal((7, dim)).astype(dtype)
    got = ops.embedding_bag_backward(grad, ids, mode=mode, padding_idx=0, weights=table)
    expected = reference.embedding_bag_backward(grad, ids, mode=mode, padding_idx=0, weights=table)
    assert_rows_close(got, expected, dtype)
    assert 0 not in got.indices, "padding rows get no gradient"
    assert np.all(np.diff(got.indices) > 0), "indices sorted and unique"


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
def test_bag_backward_ragged_matches_twin(rng, num_threads, dtype, mode):
    table = random_table(rng, 9, 6, dtype)  # few rows: many duplicates
    flat, offsets = random_ragged(rng, 11, 9, 9, np.int64)
    grad = rng.standard_normal((11, 6)).astype(dtype)
    got = ops.embedding_bag_backward(grad, flat, offsets, mode=mode, weights=table)
    assert_rows_close(got, reference.embedding_bag_backward(grad, flat, offsets, mode=mode, weights=table), dtype)


def test_backward_per_sample_weights(rng, num_threads):
    flat, offsets = random_ragged(rng, 6, 8, 10, np.int32)
    w = rng.standard_normal(flat.shape)
    grad = rng.standard_normal((6, 3))
    got = ops.embedding_bag_backward(grad, flat, offsets, mode="sum", per_sample_weights=w, num_rows=10)
    expected = reference.embedding_bag_backward(grad, flat, offsets, mode="sum", per_sample_weights=w, num_rows=10)
    assert_rows_close(got, expected, np.float64)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(13,), (4, 6), (2, 3, 5), (0,)])
def test_lookup_backward_matches_twin(rng, num_threads, dtype, shape):
    ids = rng.integers(0, 7, size=shape)
    grad = rng.standard_normal(shape + (4,)).astype(dtype)
    got = ops.embedding_lookup_backward(grad, ids, num_rows=7)
    assert_rows_close(got, reference.embedding_lookup_backward(grad, ids, num_rows=7), dtype)
    dense = np.zeros((7, 4), dtype)
    np.add.at(dense, ids.reshape(-1), grad.reshape(-1, 4))
    np.testing.assert_allclose(got.to_dense(), dense, **tolerance(dtype))


def test_duplicate_ids_are_summed():
    grad = np.array([[1.0, 2.0], [10.0, 20.0]])
    rows = ops.embedding_bag_backward(grad, np.array([[3, 3, 5], [3, 0, 0]]), mode="sum", padding_idx=0)
    np.testing.assert_array_equal(rows.indices, [3, 5])
    np.testing.assert_array_equal(rows.values, [[12.0, 24.0], [1.0, 2.0]])


def test_fully_padded_batch_has_no_rows():
    rows = ops.embedding_bag_backward(np.ones((3, 4)), np.zeros((3, 5), np.int64), padding_idx=0, num_rows=9)
    assert len(rows) == 0 and rows.values.shape == (0, 4)


def _numeric_gradient(loss, table, eps=1e-6):
    grad = np.zeros_like(table)
    for index in np.ndindex(*table.shape):
        saved = table[index]
        table[index] = saved + eps
        up = loss(table)
        table[index] = saved - eps
        down = loss(table)
        table[index] = saved
        grad[index] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
@pytest.mark.parametrize("layout", ["padded", "ragged"])
def test_bag_backward_matches_finite_differences(rng, mode, layout):
    table = rng.standard_normal((8, 3))
    if layout == "padded":
        ids = np.array([[1, 2, 2, 0], [3, 0, 0, 0], [0, 0, 0, 0], [4, 1, 5, 7]])
        args = dict(ids=ids, padding_idx=0)
    else:
        args = dict(ids=np.array([1, 2, 2, 3, 4, 1, 5, 7]), offsets=np.array([0, 3, 4, 4, 8]))
    upstream = rng.standard_normal((4, 3))

    def loss(weights):
        return float((ops.embedding_bag(weights, mode=mode, **args) * upstream).sum())

    numeric = _numeric_gradient(loss, table)
    rows = ops.embedding_bag_backward(upstream, mode=mode, weights=table, **args)
    np.testing.assert_allclose(rows.to_dense(), numeric, rtol=1e-6, atol=1e-8)


def test_per_sample_weights_backward_matches_finite_differences(rng):
    table = rng.standard_normal((6, 2))
    ids, offsets = np.array([1, 1, 2, 5, 3]), np.array([0, 2, 5])
    w = rng.standard_normal(5)
    upstream = rng.standard_normal((2, 2))

    def loss(weights):
        return float((ops.embedding_bag(weights, ids, offsets, mode="sum", per_sample_weights=w) * upstream).sum())

    rows = ops.embedding_bag_backward(upstream, ids, offsets, mode="sum", per_sample_weights=w, weights=table)
    np.testing.assert_allclose(rows.to_dense(), _numeric_gradient(loss, table), rtol=1e-6, atol=1e-8)


def test_lookup_backward_matches_finite_differences(rng):
    table = rng.standard_normal((5, 3))
    ids = np.array([[0, 4, 4], [2, 0, 1]])
    upstream = rng.standard_normal((2, 3, 3))

    def loss(weights):
        return float((ops.embedding_lookup(weights, ids) * upstream).sum())

    rows = ops.embedding_lookup_backward(upstream, ids, num_rows=5)
    np.testing.assert_allclose(rows.to_dense(), _numeric_gradient(loss, table), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
def test_backward_bitwise_identical_across_thread_counts(rng, mode):
    """Zipf-like ids: a few rows collect hundreds of contributions, summed in a fixed order."""
    num_rows = 5000
    table = random_table(rng, num_rows, 24, np.float32)
    ids = (rng.zipf(1.2, size=(96, 80)) % num_rows).astype(np.int64)
    ids[:, 60:] = 0
    grad = rng.standard_normal((96, 24)).astype(np.float32)
    results = []
    for n in (1, 2, 3, 5):
        with fastembed.threads(n):
            results.append(ops.embedding_bag_backward(grad, ids, mode=mode, padding_idx=0, weights=table))
    for other in results[1:]:
        assert np.array_equal(results[0].indices, other.indices)
        assert np.array_equal(results[0].values, other.values)


def test_large_ids_use_more_radix_passes(rng, num_threads):
    """Ids up to 2**40 need four 11-bit digits: the sort must still be exact."""
    ids = np.array([[2**40 - 1, 5, 2**33, 5], [7, 2**40 - 1, 2**20 + 3, 0]], dtype=np.int64)
    grad = rng.standard_normal((2, 3))
    got = ops.embedding_bag_backward(grad, ids, mode="sum", num_rows=2**40)
    expected = reference.embedding_bag_backward(grad, ids, mode="sum", num_rows=2**40)
    assert_rows_close(got, expected, np.float64)


def test_sparse_rows_helpers():
    rows = SparseRows([4, 1, 4], np.array([[1.0], [2.0], [3.0]]), num_rows=6)
    merged = rows.coalesce()
    np.testing.assert_array_equal(merged.indices, [1, 4])
    np.testing.assert_array_equal(merged.values, [[2.0], [4.0]])
    np.testing.assert_array_equal(merged.to_dense()[:, 0], [0, 2, 0, 0, 4, 0])
    assert "SparseRows" in repr(merged) and len(merged) == 2 and merged.dim == 1
