"""Scoring over Dask against one process (issue 17): IMDB reviews repeated to ``--texts``
(default 1,000,000), the tutorial model with its TextVectorization layer, scored as a
Dask DataFrame column on a LocalCluster of 2 worker processes, and by ``model.predict``
in this process (which already uses every core for encoding and the forward pass). Also
checks that ``fastembed.dask.adapt`` gives the single-process vocabulary.

    python benchmarks/bench_dask.py [--texts 1000000] [--partitions 16] [--check]

``--check`` exits 1 below the issue's 1.6x.
"""

import argparse
import os
import sys
import time

import numpy as np

import fastembed
from fastembed import layers
from fastembed.datasets import load_text_dataset
from fastembed.text import TextVectorizer

DATA = os.path.normpath(
    os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "data", "imdb", "imdb_train.csv")
)


def tutorial_model(texts, labels):
    fastembed.set_random_seed(0)
    vectorize = layers.TextVectorization(
        max_tokens=10_000, output_sequence_length=256, standardize="lower_and_strip_html_and_punctuation"
    )
    vectorize.adapt(texts)
    model = fastembed.Sequential(
        [vectorize, layers.Embedding(10_000, 16), layers.GlobalAveragePooling1D(), layers.Dense(16, activation="relu"),
         layers.Dense(1, activation="sigmoid")]
    )  # fmt: skip
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(np.array(texts, dtype=object), labels, epochs=1, verbose=0)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if not os.path.exists(DATA):
        print("../shared/data/imdb is not present; nothing to measure")
        return 0
    try:
        import dask.dataframe as dd
        import distributed
        import pandas as pd
    except ImportError:
        print('Dask is not installed (pip install "cyembed[dask]")')
        return 1 if args.check else 0
    import fastembed.dask as fdask

    train = load_text_dataset(DATA, seed=0)
    model = tutorial_model(train.texts, train.labels)
    repeats = -(-args.texts // len(train.texts))
    texts = (list(train.texts) * repeats)[: args.texts]
    print("%d texts (IMDB train repeated), %.0f MB of text" % (len(texts), sum(map(len, texts)) / 1e6))

    started = time.perf_counter()
    local = model.predict(np.array(texts, dtype=object), batch_size=1024, verbose=0)
    local_seconds = time.perf_counter() - started
    print("one process (%d threads): %.1f s, %.0f texts/s" % (fastembed.get_num_threads(), local_seconds,
                                                             len(texts) / local_seconds))  # fmt: skip

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster):
            frame = dd.from_pandas(pd.DataFrame({"text": texts}), npartitions=args.partitions).persist()
            distributed.wait(frame)  # the data on the workers first: scoring is what is timed
            started = time.perf_counter()
            scores = fdask.predict(model, frame["text"], batch_size=1024).compute()
            dask_seconds = time.perf_counter() - started
            same = np.allclose(scores.to_numpy()[:, 0], local[:, 0], rtol=1e-5)
            counted = fdask.adapt(TextVectorizer(max_tokens=10_000, standardize="lower_and_strip_html_and_punctuation"),
                                  frame["text"].partitions[: max(1, args.partitions // 4)])  # fmt: skip
    print(
        "Dask, 2 worker processes x 1 thread, %d partitions: %.1f s, %.0f texts/s, %.2fx one process; "
        "the same scores: %s" % (args.partitions, dask_seconds, len(texts) / dask_seconds, local_seconds / dask_seconds,
                                 same)
    )  # fmt: skip
    sample = texts[: len(texts) * max(1, args.partitions // 4) // args.partitions]
    single = TextVectorizer(max_tokens=10_000, standardize="lower_and_strip_html_and_punctuation").adapt(sample)
    print("adapt over partitions == one-process adapt: %s" % (counted.get_vocabulary() == single.get_vocabulary()))
    met = local_seconds / dask_seconds >= 1.6
    print("target: >= 1.6x one process: %.2fx  %s" % (local_seconds / dask_seconds, "ok" if met else "MISSED"))
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
