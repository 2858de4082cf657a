"""fastembed.embeddings (issue 5, first part): KeyedVectors, Projector export and the
word2vec text/binary formats."""

import numpy as np
import pytest

import fastembed
from fastembed.embeddings import KeyedVectors
from fastembed.text import TextVectorizer


@pytest.fixture
def kv(rng):
    return KeyedVectors(rng.standard_normal((5, 4)).astype(np.float32), ["the", "cat", "é", "東京", "a\tb"])


def test_mapping(kv):
    assert len(kv) == 5 and "cat" in kv and "dog" not in kv and kv.vector_size == 4
    np.testing.assert_array_equal(kv["cat"], kv.vectors[1])
    assert kv[["cat", "the"]].shape == (2, 4)
    with pytest.raises(KeyError, match="'dog' is not in the vocabulary"):
        kv["dog"]
    with pytest.raises(ValueError, match="line up"):
        KeyedVectors(np.zeros((2, 3)), ["a"])
    with pytest.raises(ValueError, match="twice"):
        KeyedVectors(np.zeros((2, 3)), ["a", "a"])


def test_from_layer_drops_reserved_rows():
    vectorizer = TextVectorizer().adapt(["b a b", "c"])
    layer = fastembed.layers.Embedding(vectorizer.vocabulary_size(), 3)
    layer.build((None, 4))
    kv = KeyedVectors.from_layer(layer, vectorizer)
    assert kv.index_to_key == ["b", "c", "a"]  # equal counts: descending token, as Keras
    np.testing.assert_array_equal(kv["b"], layer.get_weights()[0][2])
    assert KeyedVectors.from_layer(layer, vectorizer, keep_reserved=True).index_to_key[:2] == ["", "[UNK]"]
    with pytest.raises(ValueError, match="rows"):
        KeyedVectors.from_layer(layer.get_weights()[0][:3], vectorizer)


def test_projector_files_line_up_and_escape(kv, tmp_path):
    vecs, meta = kv.save_projector(str(tmp_path), config=True)
    vec_lines = open(vecs, encoding="utf-8").read().split("\n")[:-1]
    meta_lines = open(meta, encoding="utf-8").read().split("\n")[:-1]
    assert len(vec_lines) == len(meta_lines) == 5
    assert meta_lines[4] == "a\\tb"
    np.testing.assert_array_equal(np.array([[float(v) for v in line.split("\t")] for line in vec_lines],
                                           dtype=np.float32), kv.vectors)
    _, meta = kv.save_projector(str(tmp_path / "m"), metadata={"count": [5, 4, 3, 2, 1]})
    lines = open(meta, encoding="utf-8").read().split("\n")[:-1]
    assert lines[0] == "word\tcount" and lines[1] == "the\t5" and len(lines) == 6
    with pytest.raises(ValueError, match="metadata column"):
        kv.save_projector(str(tmp_path), metadata={"count": [1]})
    assert (tmp_path / "projector_config.pbtxt").exists()


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_round_trip(rng, tmp_path, binary):
    kv = KeyedVectors(rng.standard_normal((6, 5)).astype(np.float32), ["the", "cat", "é", "東京", "x_y", "1"])
    path = str(tmp_path / "vectors.bin")
    kv.save_word2vec_format(path, binary=binary)
    loaded = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert loaded.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(loaded.vectors, kv.vectors)  # %.9g round-trips float32 exactly
    assert KeyedVectors.load_word2vec_format(path, binary=binary, limit=2).index_to_key == ["the", "cat"]
    with open(path, "rb") as handle:
        assert handle.readline() == b"6 5\n"


def test_word2vec_binary_layout_and_c_tool_newlines(tmp_path):
    kv = KeyedVectors(np.array([[1.0, -2.0]], dtype=np.float32), ["hi"])
    path = tmp_path / "v.bin"
    kv.save_word2vec_format(str(path), binary=True)
    assert path.read_bytes() == b"1 2\nhi " + np.array([1.0, -2.0], dtype="<f4").tobytes()
    # The original C tool ends each record with a newline.
    c_tool = tmp_path / "c.bin"
    c_tool.write_bytes(b"2 2\na " + np.array([1, 2], "<f4").tobytes() + b"\nb " + np.array([3, 4], "<f4").tobytes()
                       + b"\n")
    loaded = KeyedVectors.load_word2vec_format(str(c_tool), binary=True)
    assert loaded.index_to_key == ["a", "b"] and loaded["b"].tolist() == [3, 4]


def test_glove_text_without_header(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text("the 0.1 0.2 0.3\ncat -1 0 1\n", encoding="utf-8")
    kv = KeyedVectors.load_word2vec_format(str(path), no_header=True)
    assert kv.index_to_key == ["the", "cat"] and kv.vectors.shape == (2, 3)


@pytest.mark.parametrize("content, message", [
    (b"2 3\nthe 1 2 3\ncat 1 2\n", "line 3: 2 values, expected 3"),
    (b"1 2\nthe 1 x\n", "line 2: a non-numeric"),
    (b"the 1 2\n", "line 1: expected the header"),
    (b"3 2\na 1 2\n", "announces 3 vectors"),
    (b"1 2\n\xff 1 2\n", "line 2: not valid utf-8"),
])
def test_malformed_text_files(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        KeyedVectors.load_word2vec_format(str(path))


def test_malformed_binary_files(tmp_path):
    path = tmp_path / "bad.bin"
    path.write_bytes(b"2 2\na " + np.array([1, 2], "<f4").tobytes() + b"b " + b"\x00\x00")
    with pytest.raises(ValueError, match="truncated at record 2"):
        KeyedVectors.load_word2vec_format(str(path), binary=True)
    path.write_bytes(b"junk\n")
    with pytest.raises(ValueError, match="header"):
        KeyedVectors.load_word2vec_format(str(path), binary=True)
    kv = KeyedVectors(np.zeros((1, 2)), ["two words"])
    with pytest.raises(ValueError, match="whitespace"):
        kv.save_word2vec_format(str(tmp_path / "x.txt"))
