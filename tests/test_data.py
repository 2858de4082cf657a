"""fastembed.data.Dataset and utils.text_dataset_from_directory (issue 14): tf.data's
names and Keras' folder semantics, files read as the iteration reaches them."""

import os

import numpy as np
import pytest

from fastembed import data, utils
from fastembed.data import Dataset


def test_from_tensor_slices_batch_unbatch_take_skip_repeat():
    ds = Dataset.from_tensor_slices((np.arange(10), np.arange(10) * 2))
    assert ds.cardinality() == 10 and len(ds) == 10
    batches = list(ds.batch(4))
    assert [b[0].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert ds.batch(4).cardinality() == 3 and ds.batch(4, drop_remainder=True).cardinality() == 2
    assert [int(x) for x, _ in ds.batch(3).unbatch()] == list(range(10))
    assert [int(x) for x, _ in ds.skip(7)] == [7, 8, 9] and ds.skip(7).cardinality() == 3
    assert [int(x) for x, _ in ds.take(2).repeat(3)] == [0, 1] * 3
    assert ds.repeat().cardinality() == data.INFINITE
    assert [int(x) for x, _ in ds.repeat().take(12)] == list(range(10)) + [0, 1]
    assert [int(x) for x in Dataset.range(5).filter(lambda v: v % 2 == 0)] == [0, 2, 4]
    assert [int(x) for x, y in ds.map(lambda x, y: (x + y, y)).take(3)] == [0, 3, 6]


def test_strings_and_ragged_rows_batch_as_arrays():
    texts = ["a b", "c", "d e f"]
    batch = next(iter(Dataset.from_tensor_slices(texts).batch(3)))
    assert batch.dtype == object and batch.tolist() == texts
    rows = next(iter(Dataset.from_tensor_slices([[1, 2], [3], [4, 5, 6]]).batch(3)))
    assert [list(r) for r in rows] == [[1, 2], [3], [4, 5, 6]]


def test_shuffle_is_a_seeded_permutation_drawn_anew_each_iteration():
    ds = Dataset.range(100).shuffle(10, seed=3)
    first, second = [int(x) for x in ds], [int(x) for x in ds]
    assert sorted(first) == list(range(100)) and sorted(second) == list(range(100))
    assert first != second and first != list(range(100))
    again = [int(x) for x in Dataset.range(100).shuffle(10, seed=3)]
    assert again == first  # the same seed, the same first order
    fixed = Dataset.range(20).shuffle(5, seed=1, reshuffle_each_iteration=False)
    assert list(fixed) == list(fixed)
    # A buffer of 10 moves no element more than ~10 places earlier than it arrives.
    assert all(value - position <= 10 for position, value in enumerate(first))


def test_cache_runs_the_pipeline_once():
    calls = []
    ds = Dataset.range(5).map(lambda v: calls.append(int(v)) or v).cache()
    assert [int(v) for v in ds] == [0, 1, 2, 3, 4]
    assert [int(v) for v in ds] == [0, 1, 2, 3, 4]
    assert calls == [0, 1, 2, 3, 4]
    assert ds.prefetch(data.AUTOTUNE).cardinality() == 5


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="different lengths"):
        Dataset.from_tensor_slices((np.arange(3), np.arange(4)))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        Dataset.range(3).batch(0)
    with pytest.raises(TypeError, match="callable"):
        Dataset.from_generator([1, 2])
    with pytest.raises(TypeError, match="infinite"):
        len(Dataset.range(3).repeat())


def _class_folders(root, counts):
    for name, n in counts.items():
        os.makedirs(os.path.join(root, name))
        for i in range(n):
            with open(os.path.join(root, name, "%03d.txt" % i), "w", encoding="utf-8") as handle:
                handle.write("%s text %d" % (name, i))
    os.makedirs(os.path.join(root, "unsup_is_not_listed_when_class_names_given"))


def test_text_dataset_from_directory_splits_and_labels_as_keras(tmp_path, capsys):
    root = str(tmp_path / "train")
    _class_folders(root, {"neg": 30, "pos": 20})
    train = utils.text_dataset_from_directory(
        root, batch_size=8, validation_split=0.2, subset="training", seed=1, class_names=["neg", "pos"]
    )
    val = utils.text_dataset_from_directory(
        root, batch_size=8, validation_split=0.2, subset="validation", seed=1, class_names=["neg", "pos"]
    )
    out = capsys.readouterr().out
    assert "Found 50 files belonging to 2 classes." in out
    assert "Using 40 files for training." in out and "Using 10 files for validation." in out
    assert train.class_names == ["neg", "pos"] and val.class_names == ["neg", "pos"]
    seen = [(text, int(label)) for texts, labels in train for text, label in zip(texts, labels)]
    held = [(text, int(label)) for texts, labels in val for text, label in zip(texts, labels)]
    assert len(seen) == 40 and len(held) == 10 and not {t for t, _ in seen} & {t for t, _ in held}
    assert all(text.startswith(["neg", "pos"][label]) for text, label in seen + held)
    # Keras: the file list is shuffled once with the seed, then the last 20% is validation.
    paths = sorted(os.path.join(root, "neg", f) for f in os.listdir(os.path.join(root, "neg")))
    paths += sorted(os.path.join(root, "pos", f) for f in os.listdir(os.path.join(root, "pos")))
    order = np.random.RandomState(1).permutation(50)
    expected_val = {open(paths[i]).read() for i in order[40:]}
    assert {t for t, _ in held} == expected_val
    both = utils.text_dataset_from_directory(
        root,
        validation_split=0.2,
        subset="both",
        seed=1,
        verbose=False,
        label_mode="binary",
        class_names=["neg", "pos"],
    )
    texts, labels = next(iter(both[1]))
    assert labels.dtype == np.float32 and labels.shape[1:] == (1,)
    categorical = utils.text_dataset_from_directory(
        root, label_mode="categorical", shuffle=False, verbose=False, class_names=["neg", "pos"], max_length=3
    )
    texts, labels = next(iter(categorical))
    assert labels.shape == (32, 2) and texts[0] == "neg"  # max_length cuts to 3 bytes


def test_text_dataset_from_directory_reads_files_lazily(tmp_path):
    root = str(tmp_path / "train")
    _class_folders(root, {"a": 3, "b": 3})
    ds = utils.text_dataset_from_directory(root, batch_size=2, shuffle=False, verbose=False, class_names=["a", "b"])
    os.remove(os.path.join(root, "b", "002.txt"))  # listed already, read only when reached
    iterator = iter(ds)
    assert next(iterator)[0].tolist() == ["a text 0", "a text 1"]
    with pytest.raises(FileNotFoundError):
        list(iterator)


def test_text_dataset_from_directory_errors(tmp_path):
    root = str(tmp_path / "train")
    _class_folders(root, {"a": 2, "b": 2, "c": 1})
    with pytest.raises(ValueError, match="must provide a seed"):
        utils.text_dataset_from_directory(root, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="exactly 2 classes"):
        utils.text_dataset_from_directory(root, label_mode="binary", verbose=False, class_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="subset"):
        utils.text_dataset_from_directory(root, validation_split=0.2, seed=1)
    with pytest.raises(ValueError, match="not folders"):
        utils.text_dataset_from_directory(root, class_names=["a", "zzz"])
    with pytest.raises(ValueError, match="not a directory"):
        utils.text_dataset_from_directory(str(tmp_path / "missing"))


def test_unseeded_shuffle_follows_the_library_seed():
    """tf.data derives an unseeded shuffle from the global seed; ours from set_random_seed."""
    import fastembed

    def orders():
        fastembed.set_random_seed(7)
        ds = Dataset.range(50).shuffle(10)
        return [int(v) for v in ds], [int(v) for v in ds]

    first, again = orders(), orders()
    assert first == again and first[0] != first[1]  # repeatable, and a new order each pass


def test_fastembed_seed_environment_variable(tmp_path):
    import subprocess
    import sys

    code = "from fastembed import _random; print(_random.generator().integers(1 << 30))"
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            env=dict(os.environ, FASTEMBED_SEED="5"),
            capture_output=True,
            text=True,
            cwd=str(tmp_path),
        )
        for _ in range(2)
    ]
    assert runs[0].returncode == 0 and runs[0].stdout == runs[1].stdout
    bad = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, FASTEMBED_SEED="x"),
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
    )
    assert bad.returncode != 0 and "FASTEMBED_SEED must be a non-negative integer" in bad.stderr
