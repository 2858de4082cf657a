"""Forward kernels against their NumPy twins."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastembed
from fastembed import ops, reference
from helpers import random_padded_ids, random_ragged, random_table, tolerance

FLOATS = [np.float32, np.float64]
INDEXES = [np.int32, np.int64]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("id_dtype", INDEXES)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), (0,), (4, 0)])
def test_lookup_matches_twin(rng, num_threads, dtype, id_dtype, shape):
    table = random_table(rng, 11, 6, dtype)
    ids = rng.integers(0, 11, size=shape).astype(id_dtype)
    out = ops.embedding_lookup(table, ids)
    assert out.shape == shape + (6,) and out.dtype == dtype
    np.testing.assert_array_equal(out, reference.embedding_lookup(table, ids))
    np.testing.assert_array_equal(out, table[ids])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("id_dtype", INDEXES)
@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
@pytest.mark.parametrize("dim", [1, 3, 16, 64, 1024])
def test_bag_padded_matches_twin(rng, num_threads, dtype, id_dtype, mode, dim):
    table = random_table(rng, 40, dim, dtype)
    ids = random_padded_ids(rng, 9, 13, 40, id_dtype)
    out = ops.embedding_bag(table, ids, mode=mode, padding_idx=0)
    expected = reference.embedding_bag(table, ids, mode=mode, padding_idx=0)
    assert out.shape == (9, dim) and out.dtype == dtype
    np.testing.assert_allclose(out, expected, **tolerance(dtype))
    assert np.all(out[0] == 0), "an empty bag gives zeros"


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("id_dtype", INDEXES)
@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
def test_bag_ragged_matches_padded(rng, num_threads, dtype, id_dtype, mode):
    """The same bags, given padded or as flat ids + offsets, pool to the same vectors."""
    table = random_table(rng, 30, 16, dtype)
    # Real ids from [1, 30) so that 0 only ever means padding.
    padded = rng.integers(1, 30, size=(8, 10)).astype(id_dtype)
    lengths = rng.integers(0, 11, size=8)
    lengths[0] = 0
    for b, n in enumerate(lengths):
        padded[b, n:] = 0
    flat = np.concatenate([row[:n] for row, n in zip(padded, lengths)]).astype(id_dtype)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    a = ops.embedding_bag(table, padded, mode=mode, padding_idx=0)
    b = ops.embedding_bag(table, flat, offsets, mode=mode)
    np.testing.assert_allclose(a, b, **tolerance(dtype))
    np.testing.assert_allclose(b, reference.embedding_bag(table, flat, offsets, mode=mode), **tolerance(dtype))


def test_bag_seq_one_and_single_bag(rng, num_threads):
    table = random_table(rng, 10, 5, np.float32)
    ids = rng.integers(1, 10, size=(6, 1))
    np.testing.assert_array_equal(ops.embedding_bag(table, ids, mode="mean"), table[ids[:, 0]])
    one = rng.integers(0, 10, size=(1, 7))
    np.testing.assert_allclose(ops.embedding_bag(table, one, mode="sum")[0], table[one[0]].sum(axis=0), rtol=1e-6)


def test_fully_padded_and_empty_bags_give_zeros_never_nan(num_threads):
    table = np.full((5, 4), np.float32(2.0))
    ids = np.zeros((3, 6), dtype=np.int64)  # every entry is padding
    for mode in ("mean", "sum", "max"):
        out = ops.embedding_bag(table, ids, mode=mode, padding_idx=0)
        assert np.all(out == 0) and not np.isnan(out).any()
    flat = np.array([], dtype=np.int64)
    out = ops.embedding_bag(table, flat, [0, 0, 0], mode="mean")
    assert out.shape == (2, 4) and np.all(out == 0)
    assert ops.embedding_bag(table, np.zeros((4, 0), np.int64)).shape == (4, 4)
    assert ops.embedding_bag(table, np.zeros((0, 3), np.int64)).shape == (0, 4)


def test_padding_idx_other_than_zero_and_negative(rng, num_threads):
    table = random_table(rng, 12, 4, np.float64)
    ids = rng.integers(0, 12, size=(5, 8))
    ids[:, -3:] = 11
    a = ops.embedding_bag(table, ids, padding_idx=11)
    b = ops.embedding_bag(table, ids, padding_idx=-1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, reference.embedding_bag(table, ids, padding_idx=11), rtol=1e-12)


def test_mean_skips_padding_like_keras_masked_average(rng):
    """Keras: Embedding(mask_zero=True) + GlobalAveragePooling1D averages unmasked steps."""
    table = random_table(rng, 20, 8, np.float64)
    ids = np.array([[3, 4, 0, 0], [5, 0, 0, 0], [0, 0, 0, 0]])
    out = ops.embedding_bag(table, ids, padding_idx=0)
    np.testing.assert_allclose(out[0], (table[3] + table[4]) / 2)
    np.testing.assert_allclose(out[1], table[5])
    np.testing.assert_array_equal(out[2], 0)


def test_max_ties_and_negative_values(num_threads):
    table = np.array([[0.0, 0.0], [-1.0, 5.0], [-1.0, 5.0], [-3.0, -2.0]], dtype=np.float32)
    out = ops.embedding_bag(table, np.array([[1, 2, 3], [3, 3, 0]]), mode="max", padding_idx=0)
    np.testing.assert_array_equal(out, [[-1.0, 5.0], [-3.0, -2.0]])


def test_per_sample_weights(rng, num_threads):
    table = random_table(rng, 15, 7, np.float64)
    ids = rng.integers(0, 15, size=(4, 6))
    weights = rng.standard_normal((4, 6))
    out = ops.embedding_bag(table, ids, mode="sum", per_sample_weights=weights)
    np.testing.assert_allclose(out, (table[ids] * weights[..., None]).sum(axis=1), rtol=1e-12)
    flat, offsets = random_ragged(rng, 5, 6, 15, np.int32)
    w = rng.standard_normal(flat.shape)
    np.testing.assert_allclose(
        ops.embedding_bag(table, flat, offsets, mode="sum", per_sample_weights=w),
        reference.embedding_bag(table, flat, offsets, mode="sum", per_sample_weights=w),
        rtol=1e-12,
    )


def test_more_threads_than_bags(rng):
    table = random_table(rng, 10, 3, np.float32)
    ids = rng.integers(0, 10, size=(2, 4))
    expected = reference.embedding_bag(table, ids)
    with fastembed.threads(8):
        np.testing.assert_allclose(ops.embedding_bag(table, ids), expected, rtol=1e-6)


@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
def test_forward_bitwise_identical_across_thread_counts(rng, mode):
    table = random_table(rng, 1000, 32, np.float32)
    ids = random_padded_ids(rng, 64, 50, 1000, np.int64, duplicates=False)
    results = []
    for n in (1, 2, 3, 4):
        with fastembed.threads(n):
            results.append(ops.embedding_bag(table, ids, mode=mode, padding_idx=0))
    for other in results[1:]:
        assert np.array_equal(results[0], other)


def test_non_contiguous_and_read_only_inputs(rng, num_threads):
    big = random_table(rng, 20, 10, np.float64)
    table = big[:, ::2]  # non-contiguous view
    ids = rng.integers(0, 20, size=(6, 8)).T  # transposed: non-contiguous
    table_ro = np.array(table)
    table_ro.setflags(write=False)
    ids_ro = np.array(ids)
    ids_ro.setflags(write=False)
    expected = reference.embedding_bag(np.ascontiguousarray(table), np.ascontiguousarray(ids))
    np.testing.assert_allclose(ops.embedding_bag(table, ids), expected, rtol=1e-12)
    np.testing.assert_allclose(ops.embedding_bag(table_ro, ids_ro), expected, rtol=1e-12)
    np.testing.assert_array_equal(ops.embedding_lookup(table_ro, ids_ro), table[ids])


def test_other_integer_id_types_are_widened(rng):
    table = random_table(rng, 200, 4, np.float32)
    for dtype in (np.uint8, np.int16, np.uint16, np.uint32, np.uint64, np.int8):
        ids = rng.integers(0, 100, size=(3, 5)).astype(dtype)
        np.testing.assert_array_equal(ops.embedding_lookup(table, ids), table[ids.astype(np.int64)])
    np.testing.assert_array_equal(ops.embedding_lookup(table, [[1, 2], [3, 4]]), table[[[1, 2], [3, 4]]])


@settings(max_examples=60, deadline=None)
@given(
    num_rows=st.integers(1, 50),
    dim=st.integers(1, 20),
    lengths=st.lists(st.integers(0, 12), min_size=0, max_size=12),
    mode=st.sampled_from(["mean", "sum", "max"]),
    padding=st.sampled_from([None, 0]),
    seed=st.integers(0, 2**16),
)
def test_bag_property_ragged(num_rows, dim, lengths, mode, padding, seed):
    rng = np.random.default_rng(seed)
    table = random_table(rng, num_rows, dim, np.float64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = rng.integers(0, num_rows, size=int(offsets[-1]))
    out = ops.embedding_bag(table, flat, offsets, mode=mode, padding_idx=padding)
    np.testing.assert_allclose(
        out, reference.embedding_bag(table, flat, offsets, mode=mode, padding_idx=padding), rtol=1e-12, atol=1e-12
    )


@pytest.fixture
def fused_and_generic():
    """Yield a function computing a bag op twice: with the fused AVX2 bag sum of
    _bagsum.h allowed (where the CPU has it) and forbidden (the generic path)."""
    from fastembed._kernels import _forward

    def both(function):
        previous = _forward.set_fused_bag_sum(True)
        try:
            fused = function()
            _forward.set_fused_bag_sum(False)
            generic = function()
        finally:
            _forward.set_fused_bag_sum(previous)
        return fused, generic

    return both


@pytest.mark.parametrize("id_dtype", INDEXES)
@pytest.mark.parametrize("dim", [8, 16, 24, 64, 72, 128, 136])
@pytest.mark.parametrize("mode", ["mean", "sum"])
def test_fused_bag_sum_is_bitwise_the_generic_one(rng, num_threads, fused_and_generic, id_dtype, dim, mode):
    table = random_table(rng, 50, dim, np.float32)
    ids = random_padded_ids(rng, 12, 40, 50, id_dtype)
    ids[3, :5] = 0  # leading padding
    ids[4, 10:13] = 0  # padding in the middle
    ids[5] = 0  # a fully padded bag
    ids[6, 1] = 7  # an id after a padding entry
    ids[6, 0] = 0
    for padding_idx in (0, None, 7):
        fused, generic = fused_and_generic(lambda: ops.embedding_bag(table, ids, mode=mode, padding_idx=padding_idx))
        np.testing.assert_array_equal(fused, generic)
        np.testing.assert_allclose(
            fused, reference.embedding_bag(table, ids, mode=mode, padding_idx=padding_idx), **tolerance(np.float32)
        )
    flat, offsets = random_ragged(rng, 10, 30, 50, id_dtype)
    fused, generic = fused_and_generic(lambda: ops.embedding_bag(table, flat, offsets, mode=mode))
    np.testing.assert_array_equal(fused, generic)


@pytest.mark.parametrize("bad", [-1, 50, 10**6])
def test_fused_bag_sum_rejects_bad_ids_like_the_generic_one(rng, fused_and_generic, bad):
    table = random_table(rng, 50, 64, np.float32)
    ids = random_padded_ids(rng, 6, 20, 50, np.int64)
    ids[2, 19] = bad  # last entry of its bag: after the trailing-padding trim it must still be seen
    for padding_idx in (0, None):

        def run():
            with pytest.raises(IndexError, match="%d" % bad):
                ops.embedding_bag(table, ids, padding_idx=padding_idx)
            return True

        assert fused_and_generic(run) == (True, True)


@pytest.mark.parametrize("position", [0, 1, 2])
def test_max_pooling_propagates_nan_whatever_its_position(num_threads, position):
    """Issue 12: a NaN in a max bag gave a finite value that depended on entry order; it now
    propagates as in the NumPy twin, and that dimension sends no gradient."""
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    table[position + 1, 1] = np.nan
    ids = np.array([[1, 2, 3], [3, 2, 1]])
    out = ops.embedding_bag(table, ids, mode="max")
    np.testing.assert_array_equal(out, reference.embedding_bag(table, ids, mode="max"))
    assert np.isnan(out[:, 1]).all() and np.isfinite(out[:, [0, 2]]).all()
    grad = ops.embedding_bag_backward(np.ones((2, 3), np.float32), ids, mode="max", weights=table)
    twin = reference.embedding_bag_backward(np.ones((2, 3), np.float32), ids, mode="max", weights=table)
    np.testing.assert_array_equal(grad.to_dense(4), twin.to_dense(4))
    assert grad.to_dense(4)[:, 1].sum() == 0


def test_a_scalar_id_looks_up_one_row():
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    assert ops.embedding_lookup(table, 2).shape == (3,) == reference.embedding_lookup(table, 2).shape
    np.testing.assert_array_equal(ops.embedding_lookup(table, np.int32(2)), table[2])
