"""Streaming labelled text (issue 17): lines decoded as a file is read, records re-read per
epoch, the out-of-core shuffle, the validation coins, and ``fastembed train`` on a file
it never holds whole."""

import io
import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastembed import _records
from fastembed.cli import _stream, main
from fastembed.datasets import TextDataset, TextRecords

PIECES = ["a", "b", "\r", "\n", "\r\n", "é", "\x85", " ", "\ufeff", "😀", ",", '"']


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_decoded_lines_split_as_python_does(tmp_path_factory, pieces):
    text = "".join(pieces)
    path = tmp_path_factory.mktemp("lines") / "f.txt"
    path.write_bytes(text.encode("utf-8"))
    body = text[1:] if text.startswith("\ufeff") else text
    universal = list(_records.decoded_lines(str(path), "utf-8", "strict", universal=True))
    at_newline = list(_records.decoded_lines(str(path), "utf-8", "strict", universal=False))
    assert universal == list(io.StringIO(body, newline=""))
    expected = [line + "\n" for line in body.split("\n")]
    expected[-1] = expected[-1][:-1]
    assert at_newline == [line for line in expected if line]


def test_a_bad_byte_names_its_line_when_read_in_small_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr(_records, "READ_BYTES", 3)
    path = tmp_path / "bad.csv"
    path.write_bytes(b"text,label\ngood,1\nalso good,0\nbad \xff here,1\n")
    with pytest.raises(ValueError, match=r"bad.csv, line 4: bytes b'\\xff' are not valid utf-8"):
        list(TextRecords(path))
    path.write_bytes(b"text,label\n" + b"fine,1\n" * 5000 + b"caf\xc3(,0\n")  # past Python's 8 kB read
    with pytest.raises(ValueError, match=r"bad.csv, line 5002: bytes b'\\xc3' are not valid"):
        list(TextRecords(path))


def test_records_are_read_again_at_every_iteration(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('text,label\n"multi\nline",a\nplain,b\n', encoding="utf-8")
    records = TextRecords(path)
    assert list(records) == list(records) == [("multi\nline", "a"), ("plain", "b")]
    path.write_text("text,label\nchanged,a\n", encoding="utf-8")
    assert list(records) == [("changed", "a")]  # nothing was held


def numbered_cache(tmp_path, n, labels, seed=0, split=0.0):
    """An EncodedCache whose id rows are the records' numbers (width 1)."""
    source = _stream.Source.from_dataset(TextDataset(["%d" % i for i in range(n)], labels, ["neg", "pos", "mid"]))
    encode = lambda texts: np.array([[int(t)] for t in texts], dtype=np.int32)  # noqa: E731
    return _stream.EncodedCache.write(source, encode, 1, str(tmp_path), seed, split)


def rows_of(batches):
    return [int(v) for x, _ in batches for v in x[:, 0]]


@pytest.mark.parametrize("buffer", [10_000, 7, 2])
def test_each_epoch_is_a_seeded_permutation_with_bounded_buckets(tmp_path, buffer):
    cache = numbered_cache(tmp_path, 200, np.arange(200) % 2)
    first = rows_of(cache.batches("train", 16, buffer, np.random.default_rng([1, 0])))
    again = rows_of(cache.batches("train", 16, buffer, np.random.default_rng([1, 0])))
    other = rows_of(cache.batches("train", 16, buffer, np.random.default_rng([1, 1])))
    assert sorted(first) == list(range(200)) and first == again and first != other and first != sorted(first)
    sizes = [len(y) for _, y in cache.batches("train", 16, buffer, np.random.default_rng(0))]
    assert sizes == [16] * 12 + [8]  # full batches across bucket boundaries, the last one short
    assert rows_of(cache.batches("train", 16)) == list(range(200))  # no shuffle: file order
    assert os.listdir(tmp_path) and all(name.endswith((".ids", ".labels")) for name in os.listdir(tmp_path))


def test_the_shuffle_mixes_a_file_sorted_by_class(tmp_path):
    cache = numbered_cache(tmp_path, 10_000, np.repeat([0, 1], 5000))
    batches = list(cache.batches("train", 1000, 500, np.random.default_rng(0)))  # 20 buckets
    for x, y in batches:
        assert 0.4 < np.mean(y) < 0.6
        np.testing.assert_array_equal(y, (x[:, 0] >= 5000).astype(np.int64))  # labels travel with their rows


def test_the_coins_split_records_into_disjoint_parts_of_the_counted_sizes(tmp_path):
    cache = numbered_cache(tmp_path, 3000, np.arange(3000) % 3, seed=5, split=0.25)
    train, validation = rows_of(cache.batches("train", 64)), rows_of(cache.batches("validation", 64))
    held = int(_stream.validation_coins(5, 0.25, 0, 3000).sum())
    assert len(validation) == held == cache.rows["validation"] and len(train) == 3000 - held
    assert sorted(train + validation) == list(range(3000))
    assert 650 < held < 850
    coins = np.concatenate([_stream.validation_coins(5, 0.25, start, 7) for start in range(0, 3003, 7)])[:3000]
    np.testing.assert_array_equal(np.flatnonzero(coins), validation)  # a coin depends on the index only


def write_sorted_csv(path, n=600):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("text,label\n")
        for i in range(n):
            positive = i >= n // 2
            words = "great superb" if positive else "awful dull"
            place = "paris france" if i % 3 else "tokyo"
            handle.write('"%s film %d, %s",%s\n' % (words, i % 7, place, "pos" if positive else "neg"))


def test_train_streams_a_file_sorted_by_class(tmp_path):
    data = tmp_path / "sorted.csv"
    write_sorted_csv(data)
    runs = []
    for name in ("one", "two"):
        out = tmp_path / name
        options = ["--epochs", "3", "--batch-size", "16", "--shuffle-buffer", "50", "--dim", "8", "--seed", "3",
                   "--learning-rate", "0.02", "--seq-len", "8"]  # fmt: skip
        code = main(["train", str(data), "--test", str(data), "--out", str(out)] + options)
        assert code == 0
        runs.append(json.loads((out / "metrics.json").read_text()))
    assert runs[0]["history"] == runs[1]["history"]  # the same seed, the same run
    assert runs[0]["test"]["accuracy"] > 0.95
    assert runs[0]["train_samples"] == 600 - int(_stream.validation_coins(3, 0.2, 0, 600).sum())
    assert 0 < runs[0]["validation"]["accuracy"] <= 1


def test_a_damaged_row_fails_before_anything_is_written(tmp_path, capsys):
    data = tmp_path / "damaged.csv"
    write_sorted_csv(data)
    with open(data, "a", encoding="utf-8") as handle:
        handle.write("too,many,fields\n")
    out = tmp_path / "run"
    code = main(["train", str(data), "--out", str(out)])
    assert code != 0 and not os.path.exists(out)
    assert "damaged.csv, line 602: 3 fields, the header has 2" in capsys.readouterr().err


def test_adapt_counts_a_stream_chunk_by_chunk_with_the_list_result(monkeypatch):
    from fastembed import layers
    from fastembed.data import Dataset
    from fastembed.text import TextVectorizer, vectorizer

    texts = ["w%d w%d common %s" % (i % 50, i % 7, "rare" if i == 1999 else "") for i in range(2000)]
    expected = TextVectorizer(max_tokens=40).adapt(texts).get_vocabulary()
    monkeypatch.setattr(vectorizer, "STREAM_CHUNK", 128)
    sizes = []
    original = vectorizer._as_text_list

    def spy(chunk, what="texts"):  # every chunk counted goes through it
        sizes.append(len(chunk))
        return original(chunk, what)

    monkeypatch.setattr(vectorizer, "_as_text_list", spy)
    streamed = TextVectorizer(max_tokens=40).adapt(text for text in texts)
    assert streamed.get_vocabulary() == expected
    assert max(sizes) == 128 and sum(sizes) == 2000
    layer = layers.TextVectorization(max_tokens=40)
    layer.adapt(Dataset.from_tensor_slices((texts, list(range(2000)))).batch(64))
    assert layer.get_vocabulary() == expected
    with pytest.raises(ValueError, match="no texts"):
        layers.TextVectorization().adapt(t for t in [])
