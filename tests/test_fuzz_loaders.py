"""Damaged files never crash a loader or surface an unexpected exception type: every
loader of the package raises ValueError (or UnicodeDecodeError, a ValueError) for bytes it
cannot read. Hypothesis mutates valid files (flipped bytes, truncation, insertions) and
tries random bytes (issue 12: "one exception type for 'this file is not valid'")."""

import os
import tempfile

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import fastembed
from fastembed import layers
from fastembed.datasets import load_text_dataset
from fastembed.embeddings import KeyedVectors
from fastembed.text import SubwordEncoder, TextVectorizer

FUZZ = settings(max_examples=int(os.environ.get("FASTEMBED_FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _valid_files():
    """One valid file of every kind the package reads, as bytes."""
    directory = tempfile.mkdtemp(prefix="fastembed-fuzz-")
    fastembed.set_random_seed(0)
    model = fastembed.Sequential([layers.Embedding(12, 4), layers.GlobalAveragePooling1D(),
                                  layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    model.fit(np.array([[1, 2, 3], [4, 5, 0]]), np.array([0.0, 1.0]), verbose=0)
    files = {}
    model.save(os.path.join(directory, "model.fe"))
    vectorizer = TextVectorizer(output_sequence_length=5).adapt(["a b c", "b c d"])
    vectorizer.save(os.path.join(directory, "encoder.json"))
    SubwordEncoder.build_from_corpus(["hello world", "hello there"], target_vocab_size=300).save_to_file(
        os.path.join(directory, "encoder"))
    kv = KeyedVectors(np.arange(12, dtype=np.float32).reshape(3, 4), ["a", "b", "c"])
    kv.save_word2vec_format(os.path.join(directory, "vectors.txt"))
    kv.save_word2vec_format(os.path.join(directory, "vectors.bin"), binary=True)
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), "rb") as handle:
            files[name] = handle.read()
    files["data.csv"] = b"text,label\nnice film,1\nbad film,0\n"
    files["data.txt"] = b"__label__pos nice film\n__label__neg bad film\n"
    return files


VALID = _valid_files()


def _load(kind, path):
    if kind == "model.fe":
        return fastembed.load_model(path)
    if kind == "encoder.json":
        return TextVectorizer.load(path)
    if kind.startswith("encoder"):
        return SubwordEncoder.load_from_file(path[:-len(".subwords")])
    if kind == "vectors.txt":
        return KeyedVectors.load_word2vec_format(path)
    if kind == "vectors.bin":
        return KeyedVectors.load_word2vec_format(path, binary=True)
    return load_text_dataset(path, shuffle=False)


@st.composite
def damaged(draw):
    kind = draw(st.sampled_from(sorted(VALID)))
    data = bytearray(VALID[kind])
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "truncate", "insert", "random"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif action == "truncate":
            del data[position:]
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        else:
            data = bytearray(draw(st.binary(max_size=256)))
    return kind, bytes(data)


@FUZZ
@given(damaged())
def test_damaged_files_raise_value_error_or_load(case):
    kind, data = case
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, kind)
        with open(path, "wb") as handle:
            handle.write(data)
        try:
            _load(kind, path)
        except ValueError:
            pass  # the one error for "not a valid file" (UnicodeDecodeError is one too)
