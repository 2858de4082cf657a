"""Text to ids on IMDB: TextVectorizer.adapt + encoding of the 25,000 training reviews
(issue target: under 3 s here), compiled tokenizer against its pure-Python twin, and
Keras' TextVectorization when TensorFlow is importable; SubwordEncoder build and encode.

    python benchmarks/bench_text.py [--repeats 5] [--check]

Figures are medians of ``--repeats`` runs, measured in the same process. ``--check`` exits
1 when adapt + encode takes 3 s or more.
"""

import argparse
import os
import random
import sys
import time

import fastembed
from fastembed.datasets import load_text_dataset
from fastembed.text import SubwordEncoder, TextVectorizer

from _timing import median_time  # benchmarks/, first on sys.path when a script runs

DATA = os.path.normpath(
    os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "data", "imdb", "imdb_train.csv")
)
CONFIG = dict(max_tokens=10_000, standardize="lower_and_strip_html_and_punctuation", output_sequence_length=256)


def adapt_and_encode(texts, compiled=True):
    vectorizer = TextVectorizer(**CONFIG)
    if not compiled:
        vectorizer._kernel_flags = None  # the pure-Python twin
    vectorizer.adapt(texts)
    return vectorizer(texts)


def keras_adapt_and_encode(texts):
    from keras.layers import TextVectorization  # imported only when TensorFlow is installed

    def standardize(batch):
        import tensorflow as tf

        lower = tf.strings.lower(batch)
        return tf.strings.regex_replace(
            tf.strings.regex_replace(lower, "<br />", " "), r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']', ""
        )

    layer = TextVectorization(max_tokens=10_000, standardize=standardize, output_sequence_length=256)
    layer.adapt(texts, batch_size=1024)
    return layer(texts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--subword-sample", type=int, default=2000, help="reviews to build the subword vocabulary")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if not os.path.exists(DATA):
        print("../shared/data/imdb is not present; nothing to measure")
        return 0
    texts = load_text_dataset(DATA, shuffle=False).texts
    config = fastembed.show_config()
    print(
        "IMDB train: %d reviews, %.1f M characters; fastembed %s, %d threads, compiled=%s"
        % (len(texts), sum(map(len, texts)) / 1e6, config["version"], config["num_threads"], config["compiled"])
    )
    print("TextVectorizer(%s), adapt + encode, median of %d:" % (CONFIG, args.repeats))
    compiled = median_time(lambda: adapt_and_encode(texts), args.repeats)
    with fastembed.threads(1):
        one_thread = median_time(lambda: adapt_and_encode(texts), args.repeats)
    python = median_time(lambda: adapt_and_encode(texts, compiled=False), max(1, args.repeats // 2))
    print("  %-40s %8.3f s" % ("fastembed compiled, all threads", compiled))
    print("  %-40s %8.3f s  %5.2fx" % ("fastembed compiled, 1 thread", one_thread, one_thread / compiled))
    print("  %-40s %8.3f s  %5.2fx" % ("pure-Python twin", python, python / compiled))
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        print("  %-40s %s" % ("Keras TextVectorization", "(TensorFlow not installed)"))
    else:
        keras = median_time(lambda: keras_adapt_and_encode(texts), max(1, args.repeats // 2))
        print("  %-40s %8.3f s  %5.2fx" % ("Keras TextVectorization", keras, keras / compiled))

    sample = list(texts)
    random.Random(0).shuffle(sample)
    sample = sample[: args.subword_sample]
    start = time.perf_counter()
    encoder = SubwordEncoder.build_from_corpus(sample, target_vocab_size=8000)
    build = time.perf_counter() - start
    start = time.perf_counter()
    ids = [encoder.encode(text) for text in texts[:5000]]
    encode = time.perf_counter() - start
    print(
        "SubwordEncoder: build on %d reviews %.1f s -> vocab_size %d; encode 5,000 reviews %.2f s "
        "(%.0f ids per review)" % (len(sample), build, encoder.vocab_size, encode, sum(map(len, ids)) / len(ids))
    )
    met = compiled < 3.0
    print("target: adapt + encode < 3 s: %.3f s  %s" % (compiled, "ok" if met else "MISSED"))
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
