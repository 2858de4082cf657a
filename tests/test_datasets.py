"""fastembed.datasets.load_text_dataset on small generated files of every format, its
errors, and (when present) the shared IMDB and Reuters R8 data."""

import os

import numpy as np
import pytest

from fastembed.datasets import load_text_dataset

SHARED = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "data")


def write(path, content, encoding="utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return path


@pytest.fixture
def class_folders(tmp_path):
    """The aclImdb layout: train/{neg,pos,unsup}/<id>_<rating>.txt plus stray files."""
    root = tmp_path / "train"
    for i in range(6):
        write(root / "neg" / ("%d_2.txt" % i), "bad movie %d<br />awful" % i)
        write(root / "pos" / ("%d_9.txt" % i), "great film %d" % i)
    write(root / "unsup" / "0_0.txt", "unlabelled")
    write(root / "pos" / "notes.md", "not a review")
    write(root / "urls_pos.txt", "http://example")
    return root


def test_class_folders_pick_classes_and_ignore_the_rest(class_folders):
    data = load_text_dataset(class_folders, class_names=["neg", "pos"], shuffle=False)
    assert data.class_names == ["neg", "pos"]
    assert len(data.texts) == 12 and data.labels.tolist() == [0] * 6 + [1] * 6
    assert data.texts[0] == "bad movie 0<br />awful"
    everything = load_text_dataset(class_folders, shuffle=False)
    assert everything.class_names == ["neg", "pos", "unsup"] and len(everything.texts) == 13
    reordered = load_text_dataset(class_folders, class_names=["pos", "neg"], shuffle=False)
    assert reordered.labels.tolist() == [0] * 6 + [1] * 6 and reordered.texts[0].startswith("great")


def test_csv_auto_detects_columns_and_maps_string_labels(tmp_path):
    path = write(
        tmp_path / "reviews.csv",
        'id,Review,sentiment\n1,"Loved it, truly",positive\n2,"Meh\nnot good",negative\n3,"Fine ""quote""",positive\n',
    )
    data = load_text_dataset(path, shuffle=False)
    assert data.class_names == ["negative", "positive"]
    assert data.texts == ["Loved it, truly", "Meh\nnot good", 'Fine "quote"']
    assert data.labels.tolist() == [1, 0, 1] and data.labels.dtype == np.int64
    named = load_text_dataset(path, text_column="id", label_column="sentiment", shuffle=False)
    assert named.texts == ["1", "2", "3"]


def test_tsv_and_integer_labels_sort_numerically(tmp_path):
    rows = "".join("text %d\t%d\n" % (i, label) for i, label in enumerate([10, 9, 2, 10, 9, 2]))
    data = load_text_dataset(write(tmp_path / "d.tsv", "sentence\tlabel\n" + rows), shuffle=False)
    assert data.class_names == ["2", "9", "10"]
    assert data.labels.tolist() == [2, 1, 0, 2, 1, 0]


def test_fasttext_format(tmp_path):
    path = write(
        tmp_path / "train.txt", "__label__pos good stuff\n\n__label__neg bad __label__ text\n__label__pos fine\n"
    )
    data = load_text_dataset(path, shuffle=False)
    assert data.class_names == ["neg", "pos"]
    assert data.texts == ["good stuff", "bad __label__ text", "fine"] and data.labels.tolist() == [1, 0, 1]


def test_shuffle_and_stratified_validation_split_are_seeded(class_folders):
    a = load_text_dataset(class_folders, class_names=["neg", "pos"], seed=3)
    b = load_text_dataset(class_folders, class_names=["neg", "pos"], seed=3)
    assert a.texts == b.texts and a.labels.tolist() == b.labels.tolist()
    assert sorted(a.texts) == sorted(load_text_dataset(class_folders, class_names=["neg", "pos"]).texts)
    assert a.labels.tolist() != [0] * 6 + [1] * 6
    train, validation = load_text_dataset(class_folders, class_names=["neg", "pos"], validation_split=0.5, seed=1)
    assert np.bincount(validation.labels).tolist() == [3, 3] and np.bincount(train.labels).tolist() == [3, 3]
    assert not set(train.texts) & set(validation.texts)
    again = load_text_dataset(class_folders, class_names=["neg", "pos"], validation_split=0.5, seed=1)
    assert again[1].texts == validation.texts


def test_encodings(tmp_path):
    path = write(tmp_path / "win.csv", "text,label\ncaf\xe9 ok,1\nna\xefve,0\n", encoding="cp1252")
    with pytest.raises(ValueError, match=r"win.csv, line 2: .*not valid utf-8.*cp1252"):
        load_text_dataset(path)
    data = load_text_dataset(path, encoding="cp1252", shuffle=False)
    assert data.texts == ["café ok", "naïve"]
    replaced = load_text_dataset(path, errors="replace", shuffle=False)
    assert replaced.texts[0] == "caf\ufffd ok"
    folder = tmp_path / "folders"
    write(folder / "a" / "1.txt", "fine")
    write(folder / "b" / "1.txt", b"line one\nbad \xff byte")
    with pytest.raises(ValueError, match=r"1.txt, line 2"):
        load_text_dataset(folder)


@pytest.mark.parametrize(
    "content, name, message",
    [
        ("", "empty.csv", "empty"),
        ("text,label\n", "header.csv", "no rows"),
        ("words,stars\nx,1\ny,2\n", "cols.csv", "no text column"),
        ("text,stars\nx,1\ny,2\n", "cols2.csv", "no label column"),
        ("text,label\nx,1\ny,1\n", "one.csv", "single class"),
        ("text,label\nx,1,extra\ny,0\n", "ragged.csv", "line 2: 3 fields"),
        ("__label__a fine\nno label here\n", "ft.txt", "line 2"),
        ("__label__a __label__b both\n", "multi.txt", "several labels"),
        ("just some text\n", "plain.txt", "cannot tell the format"),
        ("   \n\n", "blank.txt", "empty"),
    ],
)
def test_bad_files_raise_clear_errors(tmp_path, content, name, message):
    with pytest.raises(ValueError, match=message):
        load_text_dataset(write(tmp_path / name, content))


def test_bad_arguments(tmp_path, class_folders):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_text_dataset(tmp_path / "missing")
    with pytest.raises(ValueError, match="no class folder"):
        load_text_dataset(class_folders, class_names=["neg", "happy"])
    with pytest.raises(ValueError, match="validation_split"):
        load_text_dataset(class_folders, validation_split=1.5)
    with pytest.raises(ValueError, match="format"):
        load_text_dataset(class_folders, format="xml")
    with pytest.raises(ValueError, match="no .txt files"):
        (tmp_path / "empty" / "a").mkdir(parents=True)
        load_text_dataset(tmp_path / "empty")
    path = write(tmp_path / "d.csv", "text,label\nx,a\ny,b\n")
    with pytest.raises(ValueError, match="no examples of class"):
        load_text_dataset(path, class_names=["a", "c"])
    with pytest.raises(ValueError, match="no text column 'body'"):
        load_text_dataset(path, text_column="body")


def test_shared_imdb_and_reuters():
    imdb = os.path.join(SHARED, "imdb", "imdb_test.csv")
    reuters = os.path.join(SHARED, "reuters_r8", "train.tsv")
    if not (os.path.exists(imdb) and os.path.exists(reuters)):
        pytest.skip("../shared/data is not present")
    data = load_text_dataset(imdb, seed=0)
    assert data.class_names == ["0", "1"] and np.bincount(data.labels).tolist() == [12500, 12500]
    assert sum("\t" in t for t in data.texts) > 0  # texts kept unchanged, TABs included
    train, validation = load_text_dataset(reuters, validation_split=0.2, seed=0)
    assert train.class_names == ["acq", "crude", "earn", "grain", "interest", "money-fx", "ship", "trade"]
    assert len(train.texts) + len(validation.texts) == 5485
    # Stratified: each class keeps its share in the validation part (to within one example).
    total = np.bincount(train.labels, minlength=8) + np.bincount(validation.labels, minlength=8)
    assert np.all(np.abs(np.bincount(validation.labels, minlength=8) - 0.2 * total) <= 1)


def test_split_dataset_is_stratified_and_seeded():
    from fastembed.datasets import TextDataset, split_dataset

    data = TextDataset(["t%d" % i for i in range(100)], np.array([0] * 80 + [1] * 20), ["a", "b"])
    train, validation = split_dataset(data, 0.25, seed=3)
    assert len(validation.texts) == 25 and np.bincount(validation.labels).tolist() == [20, 5]
    assert sorted(train.texts + validation.texts) == sorted(data.texts)
    assert split_dataset(data, 0.25, seed=3)[1].texts == validation.texts
    with pytest.raises(ValueError, match="validation_split"):
        split_dataset(data, 1.0)


def test_fasttext_lines_end_at_newline_only_and_labels_at_any_ascii_space(tmp_path):
    """Issue 12: a tab after the label went into the class name, and U+0085 (in IMDB) or a
    form feed inside a text cut the line."""
    path = tmp_path / "data.txt"
    path.write_text(
        "__label__pos\tgood film\x85really\n__label__neg bad\x0cfilm\r\n\n__label__pos fine\u2028too\n",
        encoding="utf-8",
    )
    data = load_text_dataset(str(path), shuffle=False)
    assert data.class_names == ["neg", "pos"]
    assert data.texts == ["good film\x85really", "bad\x0cfilm", "fine\u2028too"]


def test_csv_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes("\ufefftext,label\nnice,1\nbad,0\n".encode("utf-8"))
    data = load_text_dataset(str(path), shuffle=False)
    assert data.texts == ["nice", "bad"] and data.class_names == ["0", "1"]
