"""The package's file readers as fuzz targets, shared by the hypothesis test
(tests/test_fuzz_loaders.py) and by atheris (coverage-guided, libFuzzer).

The contract under test (issue 12): for any bytes, a reader either loads them or raises
ValueError (UnicodeDecodeError is one), and never uses memory its input cannot back.

Run with atheris (PyPI ``atheris``, the ``fuzz`` extra), as CI does for a bounded time::

    python tests/fuzz_readers.py --seconds 60 [--corpus DIR] [extra libFuzzer flags]

A crash writes the input to ``crash-*`` in the working directory; replay it with
``python tests/fuzz_readers.py crash-...``.
"""

import argparse
import os
import sys
import tempfile

import numpy as np

# A reader must fail with ValueError well before this (libFuzzer's -rss_limit_mb).
RSS_LIMIT_MB = 2048


def valid_files():
    """One valid file of every kind the package reads, as ``{kind: bytes}``."""
    import fastembed
    from fastembed import layers
    from fastembed.embeddings import KeyedVectors
    from fastembed.text import SubwordEncoder, TextVectorizer

    directory = tempfile.mkdtemp(prefix="fastembed-fuzz-")
    fastembed.set_random_seed(0)
    model = fastembed.Sequential(
        [layers.Embedding(12, 4), layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")]
    )
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    model.fit(np.array([[1, 2, 3], [4, 5, 0]]), np.array([0.0, 1.0]), verbose=0)
    files = {}
    model.save(os.path.join(directory, "model.fe"))
    vectorizer = TextVectorizer(output_sequence_length=5).adapt(["a b c", "b c d"])
    vectorizer.save(os.path.join(directory, "encoder.json"))
    SubwordEncoder.build_from_corpus(["hello world", "hello there"], target_vocab_size=300).save_to_file(
        os.path.join(directory, "encoder")
    )
    kv = KeyedVectors(np.arange(12, dtype=np.float32).reshape(3, 4), ["a", "b", "c"])
    kv.save_word2vec_format(os.path.join(directory, "vectors.txt"))
    kv.save_word2vec_format(os.path.join(directory, "vectors.bin"), binary=True)
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as handle:
            files[name] = handle.read()
        os.remove(os.path.join(directory, name))
    os.rmdir(directory)
    files["data.csv"] = b"text,label\nnice film,1\nbad film,0\n"
    files["data.txt"] = b"__label__pos nice film\n__label__neg bad film\n"
    return files


def load(kind, path):
    """Read ``path`` with the reader for files of ``kind`` (a key of valid_files())."""
    import fastembed
    from fastembed.datasets import load_text_dataset
    from fastembed.embeddings import KeyedVectors
    from fastembed.text import SubwordEncoder, TextVectorizer

    if kind == "model.fe":
        return fastembed.load_model(path)
    if kind == "encoder.json":
        return TextVectorizer.load(path)
    if kind.startswith("encoder"):
        return SubwordEncoder.load_from_file(path[: -len(".subwords")])
    if kind == "vectors.txt":
        return KeyedVectors.load_word2vec_format(path)
    if kind == "vectors.bin":
        return KeyedVectors.load_word2vec_format(path, binary=True)
    return load_text_dataset(path, shuffle=False)


def load_bytes(kind, data, directory, strict=False):
    """Write ``data`` as a file of ``kind`` in ``directory`` and read it back.
    ValueError is the one accepted failure (re-raised when ``strict``); anything else
    propagates."""
    path = os.path.join(directory, kind)
    with open(path, "wb") as handle:
        handle.write(data)
    try:
        load(kind, path)
    except ValueError:
        if strict:
            raise  # the one error for "not a valid file"
    finally:
        os.remove(path)


def _write_seed_corpus(directory, kinds, files):
    """Each valid file, prefixed by the byte that selects its reader."""
    for index, kind in enumerate(kinds):
        with open(os.path.join(directory, "seed-%s" % kind), "wb") as handle:
            handle.write(bytes([index]) + files[kind])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="fuzzing time budget")
    parser.add_argument("--corpus", help="corpus directory (default: a fresh seeded one)")
    args, libfuzzer_args = parser.parse_known_args(argv)

    import atheris

    with atheris.instrument_imports(include=["fastembed"]):
        import fastembed  # noqa: F401  (instrumented for coverage feedback)
        import fastembed.datasets  # noqa: F401
        import fastembed.embeddings  # noqa: F401
        import fastembed.text  # noqa: F401

    files = valid_files()
    kinds = sorted(files)
    scratch = tempfile.mkdtemp(prefix="fastembed-atheris-")
    corpus = args.corpus or tempfile.mkdtemp(prefix="fastembed-atheris-corpus-")
    os.makedirs(corpus, exist_ok=True)
    if not os.listdir(corpus):
        _write_seed_corpus(corpus, kinds, files)

    def one_input(data):
        if not data:
            return
        load_bytes(kinds[data[0] % len(kinds)], data[1:], scratch)

    replaying = any(not arg.startswith("-") for arg in libfuzzer_args)
    flags = [] if replaying else ["-max_total_time=%d" % args.seconds, corpus]
    atheris.Setup([sys.argv[0], "-rss_limit_mb=%d" % RSS_LIMIT_MB, "-timeout=20"] + libfuzzer_args + flags, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
