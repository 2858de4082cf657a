"""Text to ids on IMDB: TextVectorizer.adapt + encoding of the 25,000 training reviews
(issue target: under 3 s here), compiled tokenizer against its pure-Python twin, and
Keras' TextVectorization when TensorFlow is importable; SubwordEncoder (TFDS'
subwords8k) built on all 25,000 training reviews (target <= 5 s) and encoding all 50,000
reviews (target <= 2 s), against the pure-Python twin.

    python benchmarks/bench_text.py [--repeats 5] [--check]

Figures are medians of ``--repeats`` runs, measured in the same process. ``--check`` exits
1 when a target is missed.
"""

import argparse
import os
import random
import sys

import fastembed
from fastembed.datasets import load_text_dataset
from fastembed.text import SubwordEncoder, TextVectorizer

from _timing import median_time  # benchmarks/, first on sys.path when a script runs

DATA = os.path.normpath(
    os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "data", "imdb", "imdb_train.csv")
)
TEST_DATA = DATA.replace("imdb_train.csv", "imdb_test.csv")
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

    met = compiled < 3.0
    print("target: adapt + encode < 3 s: %.3f s  %s" % (compiled, "ok" if met else "MISSED"))
    subwords_met = bench_subwords(texts, args)
    return 1 if args.check and not (met and subwords_met) else 0


def bench_subwords(texts, args):
    """SubwordEncoder on the tutorial's subwords8k setting; returns whether the targets hold."""
    from fastembed.text import subword

    every_review = list(texts) + load_text_dataset(TEST_DATA, shuffle=False).texts
    repeats = max(1, args.repeats // 2)
    build = median_time(lambda: SubwordEncoder.build_from_corpus(texts, target_vocab_size=2**13), repeats)
    encoder = SubwordEncoder.build_from_corpus(texts, target_vocab_size=2**13)
    encode = median_time(lambda: encoder.encode_batch(every_review), args.repeats)
    with fastembed.threads(1):
        encode_one_thread = median_time(lambda: encoder.encode_batch(every_review), args.repeats)
    ids = encoder.encode_batch(every_review)
    # The twin takes about a minute per build on the whole set: time it on a sample and scale.
    sample = list(texts)
    random.Random(0).shuffle(sample)
    sample = sample[: args.subword_sample]
    compiled_sample = median_time(lambda: SubwordEncoder.build_from_corpus(sample, 2**13), repeats)
    saved, subword._subword = subword._subword, None
    try:
        python_sample = median_time(lambda: SubwordEncoder.build_from_corpus(sample, 2**13), 1)
        python_encode = median_time(lambda: [encoder._encode_python(t) for t in every_review[:5000]], 1)
    finally:
        subword._subword = saved
    encode_sample = median_time(lambda: encoder.encode_batch(every_review[:5000]), args.repeats)
    print("SubwordEncoder (TFDS subwords8k: target_vocab_size 2**13), median of %d:" % repeats)
    print("  build on %d reviews: %.2f s -> vocab_size %d" % (len(texts), build, encoder.vocab_size))
    print(
        "  encode %d reviews: %.3f s all threads, %.3f s 1 thread (%.0f ids per review)"
        % (len(every_review), encode, encode_one_thread, ids.values.size / len(every_review))
    )
    print(
        "  pure-Python twin: build on %d reviews %.2f s (compiled %.3f s, %.0fx); encode 5,000 reviews %.2f s "
        "(compiled %.3f s, %.0fx)"
        % (
            len(sample),
            python_sample,
            compiled_sample,
            python_sample / compiled_sample,
            python_encode,
            encode_sample,
            python_encode / encode_sample,
        )
    )
    met = build <= 5.0 and encode <= 2.0
    print("target: build <= 5 s: %.2f s, encode 50k <= 2 s: %.3f s  %s" % (build, encode, "ok" if met else "MISSED"))
    return met


if __name__ == "__main__":
    sys.exit(main())
