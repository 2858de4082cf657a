"""Row-sparse replica syncs (fastembed.dask._sync) and the round schedule: pure NumPy, no
cluster needed."""

import numpy as np
import pytest

from fastembed.dask import _sync
from fastembed.dask._training import schedule


def test_changed_rows_finds_exactly_the_rows_that_differ_across_blocks():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(_sync.ROW_BLOCK * 2 + 17, 3)).astype(np.float32)
    current = base.copy()
    changed = np.array([0, 5, _sync.ROW_BLOCK - 1, _sync.ROW_BLOCK, 2 * _sync.ROW_BLOCK + 16])
    current[changed, 1] += 1e-7 * np.abs(current[changed, 1]) + 1e-30  # the smallest visible change
    current[changed[0], :] = np.nan  # NaN counts as a change
    np.testing.assert_array_equal(_sync.changed_rows(current, base), changed)
    assert _sync.changed_rows(current, base).dtype == np.int32
    assert _sync.changed_rows(base, base.copy()).size == 0


def test_vectors_and_scalars_are_one_row():
    assert _sync.as_rows(np.zeros(5)).shape == (1, 5)
    assert _sync.as_rows(np.zeros(())).shape == (1, 1)
    assert _sync.as_rows(np.zeros((4, 2, 3))).shape == (4, 6)
    np.testing.assert_array_equal(_sync.changed_rows(np.array([1.0, 2.0]), np.array([1.0, 2.5])), [0])


def test_combine_averages_each_row_over_the_replicas_that_changed_it():
    base = [np.zeros((6, 2), np.float32), np.zeros(3, np.float32)]
    replica_a = [base[0].copy(), base[1].copy()]
    replica_b = [base[0].copy(), base[1].copy()]
    replica_a[0][[1, 3]] = [[1.0, 2.0], [4.0, 4.0]]
    replica_b[0][[3, 5]] = [[2.0, 0.0], [7.0, -1.0]]
    replica_a[1][:] = [1.0, 1.0, 1.0]
    replica_b[1][:] = [3.0, 1.0, 0.0]
    sent = [_sync.changes(replica_a, base), _sync.changes(replica_b, base)]
    combined = _sync.combine(base, sent)
    ids, rows = _sync.row_ids(combined[0], 6), combined[0][1]
    np.testing.assert_array_equal(ids, [1, 3, 5])
    # Row 1 and row 5: one replica each, its value exactly; row 3: the mean of both.
    np.testing.assert_array_equal(rows, [[1.0, 2.0], [3.0, 2.0], [7.0, -1.0]])
    assert combined[1][0] is None  # a bias is one row: sent whole, without ids
    np.testing.assert_array_equal(combined[1][1], [[2.0, 1.0, 0.5]])
    target = [b.copy() for b in base]
    _sync.apply(target, combined)
    np.testing.assert_array_equal(target[0][[0, 2, 4]], 0)
    np.testing.assert_array_equal(target[0][3], [3.0, 2.0])
    np.testing.assert_array_equal(target[1], [2.0, 1.0, 0.5])
    assert _sync.update_bytes(combined) == 1 + 3 * 2 * 4 + 3 * 4  # a 1-byte bitmask for 6 rows
    assert _sync.update_rows(combined) == 4


def test_the_cheapest_selector_is_sent_and_averaging_does_not_depend_on_it():
    base = [np.zeros((100, 4), np.float32)]
    few, most, every = [base[0].copy()], [base[0].copy()], [base[0].copy()]
    few[0][[2, 7]] = 1.0  # 2 ids (8 bytes) < a 13-byte bitmask
    most[0][:80] = 2.0  # 80 ids (320 bytes) > the bitmask
    every[0][:] = 3.0
    sent = [_sync.changes(few, base), _sync.changes(most, base), _sync.changes(every, base)]
    np.testing.assert_array_equal(sent[0][0][0], [2, 7])
    assert sent[1][0][0].dtype == np.uint8 and sent[1][0][0].nbytes == 13
    np.testing.assert_array_equal(_sync.row_ids(sent[1][0], 100), np.arange(80))
    assert sent[2][0][0] is None
    assert [_sync.update_bytes(s) for s in sent] == [8 + 2 * 16, 13 + 80 * 16, 100 * 16]
    combined = _sync.combine(base, sent[:2])
    assert combined[0][0].dtype == np.uint8  # 80 rows: a bitmask
    target = [np.full((100, 4), 9.0, np.float32)]
    _sync.apply(target, combined)
    expected = np.full((100, 4), 9.0)
    expected[:80] = 2.0
    expected[[2, 7]] = 1.5  # changed by both: the mean; row 50 by one: its value
    np.testing.assert_array_equal(target[0], expected)
    everything = _sync.combine(base, sent)
    assert everything[0][0] is None
    expected = np.full((100, 4), 3.0)
    expected[:80] = 2.5
    expected[[2, 7]] = 2.0
    np.testing.assert_array_equal(everything[0][1], expected)


def test_one_replica_alone_gives_its_own_values_bitwise():
    rng = np.random.default_rng(1)
    base = [rng.normal(size=(50, 7)).astype(np.float32)]
    moved = [base[0] + rng.normal(scale=1e-3, size=(50, 7)).astype(np.float32)]
    combined = _sync.combine(base, [_sync.changes(moved, base)])
    target = [base[0].copy()]
    _sync.apply(target, combined)
    np.testing.assert_array_equal(target[0], moved[0])


def test_apply_refuses_an_array_it_could_not_write_in_place():
    array = np.zeros((4, 2, 6), np.float32)[:, :, :3]  # its (rows, width) view would be a copy
    with pytest.raises(ValueError, match="not contiguous"):
        _sync.apply([array], [(np.array([1], np.int32), np.ones((1, 6), np.float32))])
    strided = np.zeros((4, 6), np.float32)[:, ::2]  # 2-D: written in place, strides and all
    _sync.apply([strided], [(np.array([1], np.int32), np.ones((1, 3), np.float32))])
    np.testing.assert_array_equal(strided[1], 1.0)


@pytest.mark.parametrize("replicas", [1, 2, 3])
@pytest.mark.parametrize("rows_per_round", [1, 7, 64, 1000])
def test_schedule_gives_every_row_once_to_the_partition_owner(replicas, rows_per_round):
    lengths = [10, 0, 33, 5, 64, 1]
    order = [4, 2, 0, 5, 1, 3]
    rounds = schedule(lengths, replicas, rows_per_round, order)
    seen = {i: [] for i in range(len(lengths))}
    for pieces_by_replica in rounds:
        assert len(pieces_by_replica) == replicas
        for replica, pieces in enumerate(pieces_by_replica):
            assert sum(stop - start for _, start, stop in pieces) <= rows_per_round
            for index, start, stop in pieces:
                assert index % replicas == replica
                seen[index].extend(range(start, stop))
    assert all(seen[i] == list(range(n)) for i, n in enumerate(lengths))
    # Full rounds until a replica's rows run out, partitions in the given order.
    for replica in range(replicas):
        own = [p for pieces_by_replica in rounds for p in pieces_by_replica[replica]]
        assert [index for index, _, _ in own] == sorted([index for index, _, _ in own], key=lambda i: order.index(i))
        sizes = [sum(stop - start for _, start, stop in r[replica]) for r in rounds]
        total = sum(lengths[i] for i in range(len(lengths)) if i % replicas == replica)
        full, rest = divmod(total, rows_per_round)
        assert sizes[:full] == [rows_per_round] * full
        assert sum(sizes[full:]) == rest
    assert schedule([], 2, 5) == []


def test_a_worker_keeps_at_most_a_few_loaded_payloads(monkeypatch):
    from fastembed.dask import _shipping
    from fastembed.text import TextVectorizer

    monkeypatch.setattr(_shipping, "_LOADED", type(_shipping._LOADED)())
    payloads = [_shipping._payload(TextVectorizer(max_tokens=10 + i).adapt(["a b c"]))[1] for i in range(6)]
    first = _shipping._load("vectorizer", payloads[0])
    assert _shipping._load("vectorizer", payloads[0]) is first  # loaded once
    for payload in payloads[1:]:
        _shipping._load("vectorizer", payload)
    assert len(_shipping._LOADED) == _shipping.LOADED_LIMIT
    assert _shipping._load("vectorizer", payloads[0]) is not first  # evicted, loaded again
