"""fastembed.tfds.load (issue 14): TFDS' names, splits, element structure and info for
imdb_reviews, read from local files; Dataset.padded_batch with tf.data's semantics."""

import csv
import os

import numpy as np
import pytest

import fastembed.tfds as tfds
from fastembed.data import Dataset

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, os.pardir, os.pardir, "shared", "data")


@pytest.fixture(scope="module")
def small_imdb(tmp_path_factory):
    """A tiny data_dir with both layouts' CSV form: 30 reviews per split."""
    root = tmp_path_factory.mktemp("tfds")
    (root / "imdb").mkdir()
    words = ["good", "bad", "great", "awful", "film", "movie", "the", "plot", "actors", "boring"]
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        with open(root / "imdb" / ("imdb_%s.csv" % split), "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "rating", "label", "text"])
            for i in range(30):
                label = i % 2
                text = " ".join(rng.choice(words, size=5 + i)) + (" fine_print, <br />ok" if label else "")
                writer.writerow([i, 8 if label else 2, label, text])
    return str(root)


def test_plain_text_elements_splits_and_info(small_imdb):
    (train, test), info = tfds.load(
        "imdb_reviews",
        split=(tfds.Split.TRAIN, tfds.Split.TEST),
        with_info=True,
        as_supervised=True,
        data_dir=small_imdb,
    )
    assert len(train) == 30 and len(test) == 30
    text, label = next(iter(train))
    assert isinstance(text, str) and label.dtype == np.int64
    assert info.splits["train"].num_examples == 30 and info.features["label"].names == ["neg", "pos"]
    assert info.features["text"].encoder is None and info.supervised_keys == ("text", "label")
    # A fixed shuffled order (not the file's), the same on every load and every iteration.
    labels = [int(y) for _, y in train]
    assert labels != sorted(labels) and labels == [
        int(y) for _, y in tfds.load("imdb_reviews", split="train", as_supervised=True, data_dir=small_imdb)
    ]
    element = next(iter(tfds.load("imdb_reviews", split="test", data_dir=small_imdb)))
    assert set(element) == {"text", "label"}
    everything = tfds.load("imdb_reviews", data_dir=small_imdb)
    assert set(everything) == {"train", "test"}


def test_split_slices_follow_tfds(small_imdb):
    first = tfds.load("imdb_reviews", split="train[:80%]", data_dir=small_imdb, as_supervised=True)
    rest = tfds.load("imdb_reviews", split="train[80%:]", data_dir=small_imdb, as_supervised=True)
    assert len(first) == 24 and len(rest) == 6
    every = [t for t, _ in tfds.load("imdb_reviews", split="train", data_dir=small_imdb, as_supervised=True)]
    assert [t for t, _ in first] + [t for t, _ in rest] == every
    assert len(tfds.load("imdb_reviews", split="test[-5:]", data_dir=small_imdb)) == 5
    batched = tfds.load("imdb_reviews", split="test", data_dir=small_imdb, batch_size=-1, as_supervised=True)
    texts, labels = next(iter(batched))
    assert texts.shape == (30,) and labels.shape == (30,)


def test_subword_config_encodes_with_the_info_encoder(small_imdb):
    train, info = tfds.load(
        "imdb_reviews/subwords8k", split="train", with_info=True, as_supervised=True, data_dir=small_imdb
    )
    encoder = info.features["text"].encoder
    plain = tfds.load("imdb_reviews", split="train", as_supervised=True, data_dir=small_imdb)
    for (ids, label), (text, same_label) in zip(train, plain):
        assert ids.dtype == np.int64 and label == same_label
        assert ids.tolist() == encoder.encode(text) and encoder.decode(ids) == text
    assert tfds.deprecated.text.SubwordTextEncoder is type(encoder)
    byte_ids, _ = next(iter(tfds.load("imdb_reviews/bytes", split="test", as_supervised=True, data_dir=small_imdb)))
    text, _ = next(iter(tfds.load("imdb_reviews", split="test", as_supervised=True, data_dir=small_imdb)))
    assert byte_ids.tolist() == [b + 1 for b in text.encode("utf-8")]
    both = plain.take(2).concatenate(plain.take(1))
    assert len(both) == 3 and [t for t, _ in both][2] == text_of_first(plain)


def text_of_first(dataset):
    return next(iter(dataset))[0]


def test_bad_names_splits_and_missing_files(small_imdb, tmp_path):
    with pytest.raises(ValueError, match="imdb_reviews"):
        tfds.load("mnist", data_dir=small_imdb)
    with pytest.raises(ValueError, match="configs"):
        tfds.load("imdb_reviews/subwords1k", data_dir=small_imdb)
    with pytest.raises(ValueError, match="splits"):
        tfds.load("imdb_reviews", split="unsupervised", data_dir=small_imdb)
    with pytest.raises(ValueError, match="splits"):
        tfds.load("imdb_reviews", split="train[:x]", data_dir=small_imdb)
    with pytest.raises(FileNotFoundError, match="does not download"):
        tfds.load("imdb_reviews", split="train", data_dir=str(tmp_path))


@pytest.mark.slow
def test_subwords8k_on_the_real_data_matches_tfds_vocabulary():
    if not os.path.exists(os.path.join(SHARED, "imdb", "imdb_train.csv")):
        pytest.skip("../shared/data/imdb is not present")
    _, info = tfds.load("imdb_reviews/subwords8k", split="test[:10]", with_info=True, data_dir=SHARED)
    encoder = info.features["text"].encoder
    # TFDS' imdb_reviews/subwords8k: vocab_size 8185, opening with these subwords.
    assert encoder.vocab_size == 8185
    assert encoder.subwords[1:6] == ["the_", ", ", ". ", "a_", "and_"]


def test_padded_batch_pads_each_batch_to_its_longest_row():
    rows = [np.arange(1, 4), np.arange(1, 6), np.arange(1, 2)]
    ds = Dataset.from_tensor_slices((rows, [0, 1, 1])).padded_batch(2)
    batches = list(ds)
    assert len(ds) == 2
    np.testing.assert_array_equal(batches[0][0], [[1, 2, 3, 0, 0], [1, 2, 3, 4, 5]])
    np.testing.assert_array_equal(batches[0][1], [0, 1])
    np.testing.assert_array_equal(batches[1][0], [[1]])
    fixed = Dataset.from_tensor_slices((rows, [0, 1, 1])).padded_batch(
        3, padded_shapes=([6], []), padding_values=(-1, 0)
    )
    x, _ = next(iter(fixed))
    assert x.shape == (3, 6) and x[2].tolist() == [1, -1, -1, -1, -1, -1]
    with pytest.raises(ValueError, match="more than the padded shape"):
        list(Dataset.from_tensor_slices((rows, [0, 1, 1])).padded_batch(3, padded_shapes=([4], [])))
    assert len(Dataset.from_tensor_slices(rows).padded_batch(2, drop_remainder=True)) == 1
    strings = next(iter(Dataset.from_tensor_slices(["a", "bb"]).padded_batch(2)))
    assert strings.tolist() == ["a", "bb"]
