"""Bad input raises a clear Python exception, never crashes, never touches memory out of
bounds, and leaves in-place arguments untouched."""

import os
import re

import numpy as np
import pytest

import fastembed
from fastembed import SparseRows, ops, reference

TABLE = np.arange(40, dtype=np.float32).reshape(10, 4)
BOTH = [ops, reference]  # the twins must reject exactly what the ops reject


@pytest.mark.parametrize("impl", BOTH, ids=["ops", "twin"])
@pytest.mark.parametrize("bad", [10, 11, 10**12, -1, -(10**9)])
def test_out_of_range_ids_name_value_position_and_rows(impl, bad, num_threads):
    ids = np.array([[1, 2, 3], [4, bad, 5]])
    message = re.escape("id %d at position (1, 1)" % bad)
    for call in (
        lambda: impl.embedding_lookup(TABLE, ids),
        lambda: impl.embedding_bag(TABLE, ids),
        lambda: impl.embedding_bag(TABLE, ids, mode="max", padding_idx=0),
        lambda: impl.embedding_bag_backward(np.ones((2, 4), np.float32), ids, weights=TABLE),
        lambda: impl.embedding_lookup_backward(np.ones((2, 3, 4), np.float32), ids, num_rows=10),
    ):
        with pytest.raises(IndexError, match=message) as info:
            call()
        assert "10 rows" in str(info.value)


@pytest.mark.parametrize("impl", BOTH, ids=["ops", "twin"])
def test_ragged_out_of_range_reports_flat_position(impl):
    with pytest.raises(IndexError, match=r"id 99 at position 3 .* 10 rows"):
        impl.embedding_bag(TABLE, np.array([1, 2, 3, 99]), np.array([0, 2, 4]))


def test_negative_ids_rejected_without_table_size():
    with pytest.raises(IndexError, match="id -3 at position 2 is negative"):
        ops.embedding_lookup_backward(np.ones((3, 4)), [1, 2, -3])


@pytest.mark.parametrize("impl", BOTH, ids=["ops", "twin"])
@pytest.mark.parametrize(
    "ids",
    [np.array([[1.0, 2.0]]), np.array([[True, False]]), np.array([["a", "b"]]), np.array([[None, 1]], dtype=object)],
)
def test_non_integer_ids_raise_type_error(impl, ids):
    with pytest.raises(TypeError, match="ids must be integers"):
        impl.embedding_bag(TABLE, ids)
    with pytest.raises(TypeError, match="ids must be integers"):
        impl.embedding_lookup(TABLE, ids)


@pytest.mark.parametrize("impl", BOTH, ids=["ops", "twin"])
def test_bad_tables(impl):
    with pytest.raises(TypeError, match="float32 or float64"):
        impl.embedding_bag(np.ones((3, 2), dtype=np.int64), [[1]])
    with pytest.raises(TypeError, match="float32 or float64"):
        impl.embedding_lookup(np.ones((3, 2), dtype=np.float16), [1])
    with pytest.raises(ValueError, match="2-D"):
        impl.embedding_bag(np.ones(3, dtype=np.float32), [[1]])


@pytest.mark.parametrize("impl", BOTH, ids=["ops", "twin"])
@pytest.mark.parametrize(
    "offsets,message",
    [
        ([0, 3, 2, 4], "non-decreasing"),
        ([0, 2, 5], "last offset must equal len"),
        ([0, 2, 3], "last offset must equal len"),
        ([1, 4], "start at 0"),
        ([[0, 4]], "1-D"),
        ([], "1-D"),
    ],
)
def test_bad_offsets(impl, offsets, message):
    with pytest.raises(ValueError, match=message):
        impl.embedding_bag(TABLE, np.array([1, 2, 3, 4]), np.array(offsets))


@pytest.mark.parametrize("impl", BOTH, ids=["ops", "twin"])
def test_bad_shapes_and_arguments(impl):
    with pytest.raises(ValueError, match="1-D ids need offsets"):
        impl.embedding_bag(TABLE, [1, 2, 3])
    with pytest.raises(ValueError, match="offsets must be None"):
        impl.embedding_bag(TABLE, [[1, 2]], [0, 2])
    with pytest.raises(ValueError, match="2-D"):
        impl.embedding_bag(TABLE, np.ones((2, 2, 2), np.int64))
    with pytest.raises(ValueError, match="mode must be one of"):
        impl.embedding_bag(TABLE, [[1]], mode="median")
    with pytest.raises(ValueError, match="padding_idx 10 is out of range"):
        impl.embedding_bag(TABLE, [[1]], padding_idx=10)
    with pytest.raises(TypeError, match="padding_idx must be an integer"):
        impl.embedding_bag(TABLE, [[1]], padding_idx=1.5)
    with pytest.raises(ValueError, match="only supported with mode='sum'"):
        impl.embedding_bag(TABLE, [[1, 2]], mode="mean", per_sample_weights=[[1.0, 2.0]])
    with pytest.raises(ValueError, match="per_sample_weights must have shape"):
        impl.embedding_bag(TABLE, [[1, 2]], mode="sum", per_sample_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"per_sample_weights contains nan at position \(0, 1\)"):
        impl.embedding_bag(TABLE, [[1, 2]], mode="sum", per_sample_weights=[[1.0, np.nan]])
    with pytest.raises(ValueError, match="grad must have shape"):
        impl.embedding_bag_backward(np.ones((3, 4), np.float32), [[1, 2]], weights=TABLE)
    with pytest.raises(ValueError, match="needs weights"):
        impl.embedding_bag_backward(np.ones((1, 4), np.float32), [[1, 2]], mode="max")
    with pytest.raises(TypeError, match="one float type"):
        impl.embedding_bag_backward(np.ones((1, 4), np.float64), [[1, 2]], weights=TABLE)
    with pytest.raises(ValueError, match=r"grad contains inf at position \(0, 2\)"):
        impl.embedding_bag_backward(np.array([[0, 0, np.inf, 0]], np.float32), [[1, 2]], weights=TABLE)
    with pytest.raises(ValueError, match=r"ids.shape \+ \(dim,\)"):
        impl.embedding_lookup_backward(np.ones((2, 4)), [[1, 2]])


@pytest.mark.parametrize("impl", BOTH, ids=["ops", "twin"])
def test_update_rejects_unusable_tables_and_leaves_them_untouched(impl):
    grad = SparseRows([1, 2], np.ones((2, 4), np.float32), num_rows=10)
    opt = fastembed.SparseSGD()
    read_only = TABLE.copy()
    read_only.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        impl.sparse_update(read_only, grad, opt)
    with pytest.raises(ValueError, match="C-contiguous"):
        impl.sparse_update(np.asfortranarray(TABLE.copy()), grad, opt)
    with pytest.raises(TypeError, match="NumPy array"):
        impl.sparse_update(TABLE.tolist(), grad, opt)
    table = TABLE.copy()
    for bad_grad, error, message in [
        (SparseRows([2, 1], np.ones((2, 4), np.float32)), ValueError, "sorted and unique"),
        (SparseRows([1, 1], np.ones((2, 4), np.float32)), ValueError, "coalesce"),
        (SparseRows([1, 10], np.ones((2, 4), np.float32)), IndexError, "out of range"),
        (SparseRows([1, 2], np.ones((2, 3), np.float32)), ValueError, "dim 4"),
        (SparseRows([1, 2], np.ones((2, 4), np.float64)), TypeError, "one float type"),
        (SparseRows([1, 2], np.full((2, 4), np.nan, np.float32)), ValueError, "nan"),
        (np.ones((2, 4)), TypeError, "SparseRows"),
    ]:
        with pytest.raises(error, match=message):
            impl.sparse_update(table, bad_grad, opt)
    assert np.array_equal(table, TABLE), "a rejected update changes nothing"
    assert opt.iterations == 0


def test_fused_update_with_bad_ids_changes_nothing(num_threads):
    table = TABLE.copy()
    opt = fastembed.SparseAdam()
    with pytest.raises(IndexError, match="id 12"):
        ops.embedding_bag_backward_update(table, np.ones((2, 4), np.float32), [[1, 2], [12, 3]], optimizer=opt)
    assert np.array_equal(table, TABLE) and opt.iterations == 0 and opt.state1 is None
    with pytest.raises(TypeError, match="sparse optimizer"):
        ops.embedding_bag_backward_update(table, np.ones((1, 4), np.float32), [[1]], optimizer="adam")


def test_empty_inputs_are_fine(num_threads):
    assert ops.embedding_lookup(TABLE, []).shape == (0, 4)
    assert ops.embedding_bag(TABLE, [], [0]).shape == (0, 4)
    rows = ops.embedding_bag_backward(np.ones((0, 4), np.float32), [], [0], num_rows=10)
    assert len(rows) == 0
    table = TABLE.copy()
    ops.sparse_update(table, rows, fastembed.SparseAdam())
    assert np.array_equal(table, TABLE)


def test_empty_table():
    empty = np.ones((0, 4), np.float32)
    assert ops.embedding_lookup(empty, []).shape == (0, 4)
    with pytest.raises(IndexError, match="table of 0 rows"):
        ops.embedding_lookup(empty, [0])


def test_table_sizes_and_padding_ids_out_of_any_range():
    grad, ids = np.ones((1, 3), np.float32), np.array([[0, 1]])
    with pytest.raises(ValueError, match="num_rows must be >= 0"):
        ops.embedding_bag_backward(grad, ids, num_rows=-5)
    with pytest.raises(ValueError, match="does not fit in int64"):
        ops.embedding_bag_backward(grad, ids, padding_idx=2**70)


def test_encoder_files_have_a_size_bound_checked_before_reading(tmp_path, monkeypatch):
    """Issue 12: an encoder file is refused by its size before it is read or parsed, and
    JSON nested past the recursion limit is a ValueError, not a RecursionError."""
    from fastembed.text import SubwordEncoder, TextVectorizer, _documents

    path = str(tmp_path / "encoder.json")
    TextVectorizer(output_sequence_length=4).adapt(["a b c", "b c d"]).save(path)
    size = os.path.getsize(path)
    monkeypatch.setattr(_documents, "MAX_DOCUMENT_BYTES", size - 1)
    with pytest.raises(ValueError, match="%d bytes, more than the %d" % (size, size - 1)):
        TextVectorizer.load(path)
    monkeypatch.setattr(_documents, "MAX_DOCUMENT_BYTES", size)
    assert TextVectorizer.load(path).get_vocabulary() == ["", "[UNK]", "c", "b", "d", "a"]
    monkeypatch.undo()
    (tmp_path / "deep.json").write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(ValueError, match="nests too deeply"):
        TextVectorizer.load(str(tmp_path / "deep.json"))
    (tmp_path / "deep.subwords").write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(ValueError, match="nests too deeply"):
        SubwordEncoder.load_from_file(str(tmp_path / "deep"))


def test_run_json_has_a_size_bound(tmp_path, monkeypatch):
    from fastembed.cli import _run
    from fastembed.cli._errors import UserError

    (tmp_path / "run.json").write_text('{"format": "fastembed-run", "pad": "%s"}' % ("x" * 200))
    monkeypatch.setattr(_run, "MAX_RUN_JSON_BYTES", 100)
    with pytest.raises(UserError, match="more than the 100"):
        _run.load_run(str(tmp_path))
