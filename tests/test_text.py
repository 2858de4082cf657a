"""fastembed.text: TextVectorizer and pad_sequences against what Keras returns, the
compiled tokenizer against its Python twin, and the SubwordEncoder's lossless round trip."""

import csv
import json
import os
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastembed
from fastembed.text import SubwordEncoder, TextVectorizer, pad_sequences

KERAS_CORPUS = [
    "The cat sat on the mat.",
    "The dog ate my homework!",
    "Cat and dog: friends?",
    "ÉCOLE école Straße",
    "tab\there\x1cfs  new\nline\u00a0nbsp",
    "don't stop-believing",
    "<br />Great<br/>film",
]
# Written down from Keras 3.13 / TensorFlow 2.21 (keras.layers.TextVectorization,
# keras.utils.pad_sequences) on the inputs above. Keras lower-cases ASCII only ('École'
# stays), splits on ASCII whitespace only ('line\xa0nbsp' is one token, so is 'here\x1cfs')
# and orders equal counts by descending token.
KERAS_VOCAB_MAX12 = ["", "[UNK]", "the", "dog", "cat", "école", "École", "tab", "straße", "stopbelieving", "sat", "on"]
KERAS_IDS_MAX12 = [
    [2, 4, 10, 11, 2, 1],
    [2, 3, 1, 1, 1, 0],
    [4, 1, 3, 1, 0, 0],
    [6, 5, 8, 0, 0, 0],
    [7, 1, 1, 1, 0, 0],
    [1, 9, 0, 0, 0, 0],
    [1, 1, 0, 0, 0, 0],
]
KERAS_VOCAB_ALL = [
    "",
    "[UNK]",
    "the",
    "dog",
    "cat",
    "école",
    "École",
    "tab",
    "straße",
    "stopbelieving",
    "sat",
    "on",
    "new",
    "my",
    "mat",
    "line\xa0nbsp",
    "homework",
    "here\x1cfs",
    "greatbrfilm",
    "friends",
    "dont",
    "br",
    "ate",
    "and",
]

STANDARDIZE_MODES = [
    None,
    "lower",
    "strip_punctuation",
    "lower_and_strip_punctuation",
    "lower_and_strip_html_and_punctuation",
]


def python_twin(vectorizer):
    """The same vectorizer forced onto the pure-Python path (the compiled tokenizer's twin)."""
    twin = TextVectorizer(**{**vectorizer.get_config(), "vocabulary": None})
    twin._kernel_flags = None
    if vectorizer.vocabulary_size() > 2:
        twin.set_vocabulary(vectorizer.get_vocabulary())
    return twin


# -- Keras equivalence -------------------------------------------------------------------
@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "python"])
def test_vocabulary_and_ids_match_keras(compiled):
    vectorizer = TextVectorizer(max_tokens=12)
    if not compiled:
        vectorizer._kernel_flags = None
    vectorizer.adapt(KERAS_CORPUS)
    assert vectorizer.get_vocabulary() == KERAS_VOCAB_MAX12
    assert vectorizer.vocabulary_size() == 12
    # Keras pads a batch to its longest text; ours is ragged until padded.
    assert pad_sequences(vectorizer(KERAS_CORPUS), padding="post").tolist() == KERAS_IDS_MAX12
    unlimited = TextVectorizer()
    if not compiled:
        unlimited._kernel_flags = None
    assert unlimited.adapt(KERAS_CORPUS).get_vocabulary() == KERAS_VOCAB_ALL


def test_ngrams_match_keras():
    vectorizer = TextVectorizer(output_sequence_length=4, ngrams=2)
    vectorizer.adapt(["a b c", "a b", "b c d e"])
    assert vectorizer.get_vocabulary() == ["", "[UNK]", "b", "c", "b c", "a b", "a", "e", "d e", "d", "c d"]
    assert vectorizer(["a b c d", "e"]).tolist() == [[6, 2, 3, 9], [7, 0, 0, 0]]
    assert TextVectorizer(ngrams=(2,)).adapt(["x y z"]).get_vocabulary() == ["", "[UNK]", "y z", "x y"]


def test_character_split_matches_keras():
    vectorizer = TextVectorizer(standardize="lower", split="character", output_sequence_length=6)
    vectorizer.adapt(["Abba", "bAcab"])
    assert vectorizer.get_vocabulary() == ["", "[UNK]", "b", "a", "c"]
    assert vectorizer(["abc", "ABCDEFGH"]).tolist() == [[3, 2, 4, 0, 0, 0], [3, 2, 4, 1, 1, 1]]


def test_pad_sequences_matches_keras():
    sequences = [[1, 2, 3], [4], [], [5, 6, 7, 8, 9]]
    assert pad_sequences(sequences).tolist() == [[0, 0, 1, 2, 3], [0, 0, 0, 0, 4], [0, 0, 0, 0, 0], [5, 6, 7, 8, 9]]
    assert pad_sequences(sequences, maxlen=3, padding="post", truncating="post").tolist() == [
        [1, 2, 3],
        [4, 0, 0],
        [0, 0, 0],
        [5, 6, 7],
    ]
    assert pad_sequences(sequences, maxlen=2, value=-1).tolist() == [[2, 3], [-1, 4], [-1, -1], [8, 9]]
    floats = pad_sequences([[1.5, 2.5], [3.5]], dtype="float32", padding="post")
    assert floats.dtype == np.float32 and floats.tolist() == [[1.5, 2.5], [3.5, 0.0]]
    assert pad_sequences(sequences).dtype == np.int32


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(-5, 50), max_size=8), max_size=6),
    st.none() | st.integers(0, 10),
    st.sampled_from(["pre", "post"]),
    st.sampled_from(["pre", "post"]),
)
def test_pad_sequences_agrees_with_a_row_by_row_reference(sequences, maxlen, padding, truncating):
    out = pad_sequences(sequences, maxlen=maxlen, padding=padding, truncating=truncating, value=-7)
    width = maxlen if maxlen is not None else max([len(s) for s in sequences], default=0)
    assert out.shape == (len(sequences), width)
    for row, sequence in zip(out, sequences):
        kept = (sequence[-width:] if truncating == "pre" else sequence[:width]) if width else []
        fill = [-7] * (width - len(kept))
        assert row.tolist() == (fill + kept if padding == "pre" else kept + fill)


def test_pad_sequences_keeps_item_shape_and_rejects_bad_input():
    out = pad_sequences([np.ones((2, 3)), np.zeros((1, 3))], padding="post")
    assert out.shape == (2, 2, 3) and out[1, 1].tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="shape"):
        pad_sequences([np.ones((2, 3)), np.ones((1, 4))])
    with pytest.raises(ValueError, match="padding"):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="truncating"):
        pad_sequences([[1]], truncating="both")
    with pytest.raises(ValueError, match="not a sequence"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="maxlen"):
        pad_sequences([[1]], maxlen=-1)
    assert pad_sequences([]).shape == (0, 0)


# -- compiled tokenizer vs its Python twin -------------------------------------------------
TEXT_PIECES = st.sampled_from(
    [
        "the",
        "The",
        "CAT",
        "cat's",
        "a",
        "b",
        " ",
        "  ",
        "\t",
        "\n",
        "\x0b",
        "\x0c",
        "\r",
        "\x1c",
        "\xa0",
        ".",
        ",",
        "!",
        "?",
        "'",
        "-",
        "_",
        "<br />",
        "<BR/>",
        "<br>",
        "<br",
        "br>",
        "<",
        ">",
        "/",
        "École",
        "ß",
        "東京",
        "😀",
        "x_y",
        "[UNK]",
        "UNK",
        "5",
    ]
)
TEXTS = st.lists(st.lists(TEXT_PIECES, max_size=12).map("".join), min_size=1, max_size=8)


@settings(max_examples=80, deadline=None)
@given(TEXTS, TEXTS, st.sampled_from(STANDARDIZE_MODES), st.none() | st.integers(1, 7), st.none() | st.integers(3, 12))
def test_compiled_tokenizer_equals_python_twin(train, texts, standardize, length, max_tokens):
    for threads in (1, 2):
        with fastembed.threads(threads):
            vectorizer = TextVectorizer(max_tokens=max_tokens, standardize=standardize, output_sequence_length=length)
            assert vectorizer._kernel_flags is not None
            vectorizer.adapt(train)
            twin = python_twin(vectorizer)
            assert twin.adapt(train).get_vocabulary() == vectorizer.get_vocabulary()
            got, expected = vectorizer(texts), twin(texts)
            if length is None:
                assert [g.tolist() for g in got] == [e.tolist() for e in expected]
                assert all(g.dtype == np.int32 for g in got)
            else:
                assert got.dtype == np.int32 and got.tolist() == expected.tolist()


def test_html_standardization_removes_line_breaks_like_the_tutorial():
    vectorizer = TextVectorizer(standardize="lower_and_strip_html_and_punctuation")
    assert vectorizer.tokenize("Great<br /><br />Film, really.<BR>End") == ["great", "film", "really", "end"]
    vectorizer.adapt(["Great<br /><br />Film"])
    assert vectorizer.get_vocabulary() == ["", "[UNK]", "great", "film"]
    # The default keeps Keras' behaviour: '<br />' loses its punctuation, leaving 'br' glued on.
    assert TextVectorizer().tokenize("a<br />b") == ["abr", "b"]


def test_imdb_sized_corpus_compiled_equals_twin():
    rng = random.Random(7)
    words = ["w%d" % i for i in range(3000)] + ["Don't", "stop!", "<br />", "Ünïcödé", "x\u00a0y"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 300))) for _ in range(400)]
    vectorizer = TextVectorizer(
        max_tokens=1000, standardize="lower_and_strip_html_and_punctuation", output_sequence_length=128
    ).adapt(texts)
    twin = python_twin(vectorizer)
    assert twin.adapt(texts).get_vocabulary() == vectorizer.get_vocabulary()
    np.testing.assert_array_equal(vectorizer(texts), twin(texts))


# -- API and bad input -----------------------------------------------------------------------
def test_single_string_empty_input_and_empty_texts():
    vectorizer = TextVectorizer().adapt(["a b", "b"])
    single = vectorizer("b a zzz")
    assert single.tolist() == [2, 3, 1] and single.dtype == np.int32
    assert len(vectorizer([])) == 0 and isinstance(vectorizer([]), fastembed.Ragged)
    assert [row.tolist() for row in vectorizer(["", "   ", "b"])] == [[], [], [2]]
    padded = TextVectorizer(output_sequence_length=3, vocabulary=["b", "a"])
    assert padded([]).shape == (0, 3)
    assert padded(["", "a a a a a"]).tolist() == [[0, 0, 0], [3, 3, 3]]
    assert padded(np.array([["b"], ["a"]])).tolist() == [[2, 0, 0], [3, 0, 0]]
    assert padded([b"a b"]).tolist() == [[3, 2, 0]]


def test_fixed_vocabulary_from_list_and_file(tmp_path):
    vectorizer = TextVectorizer(vocabulary=["", "[UNK]", "hello", "world"])
    assert vectorizer.get_vocabulary() == ["", "[UNK]", "hello", "world"]
    assert vectorizer.get_vocabulary(include_special_tokens=False) == ["hello", "world"]
    path = tmp_path / "vocab.txt"
    path.write_text("hello\nworld\n", encoding="utf-8")
    from_file = TextVectorizer(vocabulary=str(path))
    assert from_file("Hello, world! Bye").tolist() == [2, 3, 1]
    assert from_file.decode([2, 3, 1, 0, 0]) == "hello world [UNK]"


@pytest.mark.parametrize(
    "vocabulary, message",
    [
        ([], "empty"),
        (["a", "a"], "repeats"),
        (["a", "[UNK]"], "reserved"),
        (["", "a"], "reserved"),
        (["a", 3], "not a string"),
    ],
)
def test_bad_vocabulary(vocabulary, message):
    with pytest.raises((ValueError, TypeError), match=message):
        TextVectorizer(vocabulary=vocabulary)


def test_bad_arguments_and_input(tmp_path):
    with pytest.raises(ValueError, match="max_tokens"):
        TextVectorizer(max_tokens=2)
    with pytest.raises(ValueError, match="max_tokens"):
        TextVectorizer(max_tokens=3, vocabulary=["a", "b"])
    with pytest.raises(ValueError, match="output_sequence_length"):
        TextVectorizer(output_sequence_length=0)
    with pytest.raises(ValueError, match="standardize"):
        TextVectorizer(standardize="upper")
    with pytest.raises(ValueError, match="split"):
        TextVectorizer(split="comma")
    with pytest.raises(ValueError, match="ngrams"):
        TextVectorizer(ngrams=0)
    with pytest.raises(RuntimeError, match="adapt"):
        TextVectorizer()(["text"])
    vectorizer = TextVectorizer().adapt(["a"])
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        vectorizer(["a", 5])
    with pytest.raises(TypeError, match="texts"):
        vectorizer(5)
    with pytest.raises(ValueError, match="UTF-8"):
        vectorizer([b"\xff\xfe"])
    with pytest.raises(ValueError, match="shape"):
        vectorizer(np.array([["a", "b"]]))
    with pytest.raises(IndexError, match="outside"):
        vectorizer.decode([7])
    with pytest.raises(FileNotFoundError):
        TextVectorizer(vocabulary=str(tmp_path / "missing.txt"))


def test_callables_for_standardize_and_split():
    vectorizer = TextVectorizer(standardize=str.upper, split=lambda text: text.split(","))
    assert vectorizer._kernel_flags is None
    vectorizer.adapt(["a,b,a", "c"])
    assert vectorizer.get_vocabulary() == ["", "[UNK]", "A", "C", "B"]
    assert [r.tolist() for r in vectorizer(["b,z"])] == [[4, 1]]
    with pytest.raises(ValueError, match="callable"):
        vectorizer.get_config()
    with pytest.raises(TypeError, match="standardize returned"):
        TextVectorizer(standardize=lambda text: 3).adapt(["a"])


def test_save_and_load_round_trip(tmp_path):
    vectorizer = TextVectorizer(
        max_tokens=50, standardize="lower_and_strip_html_and_punctuation", ngrams=(1, 2), output_sequence_length=7
    ).adapt(KERAS_CORPUS)
    path = str(tmp_path / "vectorizer.json")
    vectorizer.save(path)
    loaded = TextVectorizer.load(path)
    assert loaded.get_vocabulary() == vectorizer.get_vocabulary()
    assert loaded.get_config() == vectorizer.get_config()
    np.testing.assert_array_equal(loaded(KERAS_CORPUS), vectorizer(KERAS_CORPUS))
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not a saved TextVectorizer"):
        TextVectorizer.load(str(tmp_path / "bad.json"))
    (tmp_path / "other.json").write_text(json.dumps({"format": "something"}), encoding="utf-8")
    with pytest.raises(ValueError, match="not a saved TextVectorizer"):
        TextVectorizer.load(str(tmp_path / "other.json"))
    (tmp_path / "broken.json").write_text(
        json.dumps({"format": "fastembed.TextVectorizer", "config": {"x": 1}}), encoding="utf-8"
    )
    with pytest.raises(ValueError, match="damaged"):
        TextVectorizer.load(str(tmp_path / "broken.json"))


def test_ragged_output_trains_a_model():
    texts = ["good great fine", "bad awful", "great good", "awful bad terrible bad"] * 8
    labels = np.array([1, 0, 1, 0] * 8, dtype=np.float32)
    vectorizer = TextVectorizer().adapt(texts)
    fastembed.set_random_seed(0)
    model = fastembed.Sequential(
        [
            fastembed.layers.Embedding(vectorizer.vocabulary_size(), 8),
            fastembed.layers.GlobalAveragePooling1D(),
            fastembed.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(fastembed.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    model.fit(vectorizer(texts), labels, epochs=30, batch_size=8, verbose=0)
    assert model.evaluate(vectorizer(texts), labels)[1] == 1.0


# -- SubwordEncoder ----------------------------------------------------------------------------
SMALL_CORPUS = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "cats and dogs, dogs and cats!",
    "a_b snake_case words; naïve café, 東京 😀",
] * 20


@pytest.fixture(scope="module")
def small_encoder():
    return SubwordEncoder.build_from_corpus(SMALL_CORPUS, target_vocab_size=300)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_subword_round_trip_is_lossless_for_any_unicode(small_encoder, text):
    ids = small_encoder.encode(text)
    assert all(1 <= i < small_encoder.vocab_size for i in ids)
    assert small_encoder.decode(ids) == text


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(["the", "cat", " ", "  ", "_", "__", ",", "sat", "\n", "é", "😀", "x"]), max_size=20).map(
        "".join
    )
)
def test_subword_round_trip_on_corpus_like_text(small_encoder, text):
    assert small_encoder.decode(small_encoder.encode(text)) == text


def test_subword_vocabulary_layout(small_encoder):
    subwords = small_encoder.subwords
    assert small_encoder.vocab_size == 1 + len(subwords) + 256
    assert "the_" in subwords and "sat_" in subwords  # word-final subwords end with '_'
    ids = small_encoder.encode("the cat")
    assert ids[0] == subwords.index("the_") + 1
    # Padding ids are skipped when decoding; out-of-range ids are an error.
    assert small_encoder.decode([0] + ids + [0, 0]) == "the cat"
    with pytest.raises(ValueError, match="outside"):
        small_encoder.decode([small_encoder.vocab_size])
    with pytest.raises(ValueError, match="outside"):
        small_encoder.decode([-1])
    with pytest.raises(TypeError):
        small_encoder.encode(b"bytes")
    # A character no subword covers falls back to its UTF-8 bytes.
    byte_ids = small_encoder.encode("\u0416")
    assert [i - (len(subwords) + 1) for i in byte_ids] == list("\u0416".encode("utf-8"))


def test_subword_reserved_tokens_and_save_load(tmp_path):
    encoder = SubwordEncoder.build_from_corpus(
        SMALL_CORPUS + ["<s> the cat </s>"] * 5, 320, reserved_tokens=["<s>", "</s>"]
    )
    assert encoder.subwords[:2] == ["<s>", "</s>"]
    ids = encoder.encode("<s>the cat</s>")
    assert ids[0] == 1 and ids[-1] == 2
    assert encoder.decode(ids) == "<s>the cat</s>"
    prefix = str(tmp_path / "encoder")
    encoder.save_to_file(prefix)
    loaded = SubwordEncoder.load_from_file(prefix)
    assert loaded.subwords == encoder.subwords and loaded.vocab_size == encoder.vocab_size
    assert loaded.encode("the snake_case cat") == encoder.encode("the snake_case cat")
    (tmp_path / "bad.subwords").write_text("[1, 2", encoding="utf-8")
    with pytest.raises(ValueError, match="not a saved SubwordEncoder"):
        SubwordEncoder.load_from_file(str(tmp_path / "bad"))
    with pytest.raises(ValueError, match="target_vocab_size"):
        SubwordEncoder.build_from_corpus(SMALL_CORPUS, 100)
    with pytest.raises(ValueError, match="no text"):
        SubwordEncoder.build_from_corpus(["", ""], 1000)


def _imdb_train_texts():
    path = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "data", "imdb", "imdb_train.csv")
    if not os.path.exists(path):
        pytest.skip("../shared/data/imdb is not present")
    csv.field_size_limit(1 << 24)
    with open(path, newline="", encoding="utf-8") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


@pytest.mark.slow
def test_subword_vocabulary_on_all_imdb_reviews_is_within_5_percent_of_target():
    texts = _imdb_train_texts()
    encoder = SubwordEncoder.build_from_corpus(texts, target_vocab_size=2**13)
    assert abs(encoder.vocab_size - 2**13) <= 400
    # TFDS' imdb_reviews/subwords8k opens with these (after our "_" marker at id 1).
    assert encoder.subwords[1:11] == ["the_", ", ", ". ", "a_", "and_", "of_", "to_", "s_", "is_", "br"]
    encoded = encoder.encode_batch(texts[:200])
    for i, text in enumerate(texts[:200]):
        assert encoder.decode(encoded[i]) == text


UNUSUAL_TEXTS = [
    "",
    " ",
    "  leading and trailing  ",
    "héllo wörld_ foo__bar  x  ",
    "日本語 テキスト,  ٣٤ digits ² ½",
    "a\U0001f600b c 😀 ",
    "under_score _x_ y_ __",
    "tab\tand\nnewline \x85 next",
    "lone \ud800 surrogate",
    "<br /><br />The end. ",
]


@pytest.fixture(scope="module")
def imdb_sample():
    try:
        texts = _imdb_train_texts()
    except pytest.skip.Exception:
        texts = SMALL_CORPUS * 10
    return texts[::100] + UNUSUAL_TEXTS


@pytest.mark.parametrize("target", [300, 1200])
def test_compiled_subword_builder_equals_its_python_twin(imdb_sample, target, monkeypatch):
    from fastembed.text import subword

    compiled = SubwordEncoder.build_from_corpus(imdb_sample, target_vocab_size=target)
    monkeypatch.setattr(subword, "_subword", None)
    python = SubwordEncoder.build_from_corpus(imdb_sample, target_vocab_size=target)
    assert compiled.subwords == python.subwords


def test_compiled_subword_builder_equals_its_twin_with_reserved_tokens_and_a_char_limit(monkeypatch):
    from fastembed.text import subword

    corpus = SMALL_CORPUS + ["<s> the cat </s>", "the<s>cat", "</s></s>"] * 5
    options = dict(reserved_tokens=["<s>", "</s>"], max_subword_length=4, max_corpus_chars=2000)
    compiled = SubwordEncoder.build_from_corpus(corpus, 300, **options)
    monkeypatch.setattr(subword, "_subword", None)
    python = SubwordEncoder.build_from_corpus(corpus, 300, **options)
    assert compiled.subwords == python.subwords


@pytest.mark.parametrize("reserved", [None, ["<s>", "</s>"]])
def test_compiled_subword_encoder_equals_its_twin_at_any_thread_count(imdb_sample, reserved):
    encoder = SubwordEncoder.build_from_corpus(imdb_sample[:40], 600, reserved_tokens=reserved)
    texts = imdb_sample + ["<s>the cat</s>", "</s>", "x<s>"]
    expected = [encoder._encode_python(text) for text in texts]
    for threads in (1, 2):
        with fastembed.threads(threads):  # conftest lowers the policy threshold: 2 really runs 2
            batch = encoder.encode_batch(texts)
        assert batch.values.dtype == np.int32
        assert [batch[i].tolist() for i in range(len(texts))] == expected
    assert [encoder.encode(text) for text in texts] == expected
    assert encoder.encode_batch([]).values.size == 0
    with pytest.raises(TypeError, match=r"texts\[1\] is bytes"):
        encoder.encode_batch(["ok", b"bytes"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), max_size=6))
def test_compiled_subword_encoder_equals_its_twin_on_any_unicode(small_encoder, texts):
    batch = small_encoder.encode_batch(texts)
    assert [batch[i].tolist() for i in range(len(texts))] == [small_encoder._encode_python(t) for t in texts]


def test_a_saved_encoder_never_reads_another_file_and_has_sane_limits(tmp_path):
    """Issue 12: a saved encoder whose vocabulary names a path made TextVectorizer read that
    file; sizes in a file are bounded before anything is built."""
    secret = tmp_path / "secret.txt"
    secret.write_text("password\nhunter2\n")
    good = TextVectorizer(output_sequence_length=4).adapt(["a b c", "b c"])
    path = tmp_path / "encoder.json"
    good.save(path)
    document = json.loads(path.read_text())
    for key, value, message in (
        ("vocabulary", str(secret), "never points at another file"),
        ("output_sequence_length", 300_000_000, r"output_sequence_length must be"),
        ("ngrams", 10_000, "ngrams must be"),
        ("ngrams", [1, 10_000], "ngrams must be"),
    ):
        hostile = json.loads(json.dumps(document))
        hostile["config"][key] = value
        bad = tmp_path / ("bad-%s.json" % key)
        bad.write_text(json.dumps(hostile))
        with pytest.raises(ValueError, match=message):
            TextVectorizer.load(bad)
    assert TextVectorizer.load(path).get_vocabulary() == good.get_vocabulary()


def test_every_file_is_written_atomically(tmp_path, monkeypatch):
    """An encoder save interrupted mid-write leaves the previous file whole and no litter."""
    vectorizer = TextVectorizer().adapt(["a b c"])
    path = tmp_path / "encoder.json"
    vectorizer.save(path)
    before = path.read_bytes()
    import fastembed.text._documents as documents

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(documents.json, "dump", interrupted)
    with pytest.raises(KeyboardInterrupt):
        TextVectorizer().adapt(["x y z"]).save(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["encoder.json"]
