"""fastembed over Dask against one process (issue 17), on a LocalCluster of 2 worker
processes x 1 thread.

``--part score``: IMDB reviews repeated to ``--texts`` (default 1,000,000), the tutorial
model with its TextVectorization layer, scored as a Dask DataFrame column and by
``model.predict`` in this process (which already uses every core for encoding and the
forward pass). Also checks that ``fastembed.dask.adapt`` gives the single-process
vocabulary.

``--part word2vec``: Word2Vec (CBOW) on IMDB's 50,000 reviews, one process against 2
replicas; analogy accuracy and words per second.

``--part train``: the tutorial model trained by ``fastembed.dask.fit`` (2 replicas,
row-sparse syncs every ``--sync-every`` batches) and by ``model.fit`` in one process, from
the same initial weights, for ``--epochs`` epochs over ``--seeds`` seeds; IMDB test
accuracy, time per epoch, and the bytes each sync sends for the tutorial configuration
and the large one (a 100,000 x 128 table), with Keras' Adam rule and the lazy one.

    python benchmarks/bench_dask.py [--part score|train|word2vec|all] [--texts 1000000] [--check]

``--check`` exits 1 below the issue's targets (1.6x scoring throughput; test accuracy
within 0.5 points of one process).
"""

import argparse
import os
import sys
import time

import numpy as np

import fastembed
from fastembed import layers
from fastembed.datasets import load_text_dataset
from fastembed.optimizers import Adam
from fastembed.text import TextVectorizer

DATA_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "data", "imdb"))
DATA = os.path.join(DATA_DIR, "imdb_train.csv")
STANDARDIZE = "lower_and_strip_html_and_punctuation"


def tutorial_model(texts, labels=None, max_tokens=10_000, dim=16, seq_len=256, seed=0, optimizer="adam"):
    """The tutorial model, its TextVectorization layer adapted; fitted one epoch when
    ``labels`` are given (for scoring)."""
    fastembed.set_random_seed(seed)
    vectorize = layers.TextVectorization(max_tokens=max_tokens, output_sequence_length=seq_len, standardize=STANDARDIZE)
    vectorize.adapt(texts)
    model = fastembed.Sequential(
        [vectorize, layers.Embedding(max_tokens, dim), layers.GlobalAveragePooling1D(),
         layers.Dense(16, activation="relu"), layers.Dense(1, activation="sigmoid")]
    )  # fmt: skip
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    if labels is not None:
        model.fit(np.array(texts, dtype=object), labels, epochs=1, verbose=0)
    return model


def _cluster():
    import distributed

    return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)


def score(args):
    import dask.dataframe as dd
    import distributed
    import pandas as pd

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

    with _cluster() as cluster:
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
    return met


CONFIGS = {
    "tutorial": dict(max_tokens=10_000, dim=16, seq_len=256, batch=32),
    "large": dict(max_tokens=100_000, dim=128, seq_len=512, batch=256),
}
NETWORK_BYTES_PER_SECOND = 10e9 / 8  # 10 Gbit/s
ROUND_TRIP_SECONDS = 1e-3  # one task round trip through the scheduler (an assumption, LAN)


def _fit_and_score(model, fit, test_texts, test_labels):
    started = time.perf_counter()
    history = fit(model)
    seconds = time.perf_counter() - started
    accuracy = model.evaluate(test_texts, test_labels, batch_size=1024, verbose=0)[1]
    return accuracy, seconds, history


def train(args):
    import dask.dataframe as dd
    import distributed
    import pandas as pd

    import fastembed.dask as fdask

    data = load_text_dataset(DATA, seed=0)
    test = load_text_dataset(os.path.join(DATA_DIR, "imdb_test.csv"), seed=0)
    texts, labels = np.array(data.texts, dtype=object), data.labels.astype(np.float32)
    test_texts, test_labels = np.array(test.texts, dtype=object), test.labels.astype(np.float32)
    table = pd.DataFrame({"text": data.texts, "label": labels})
    batch = CONFIGS["tutorial"]["batch"]
    print(
        "IMDB tutorial model, %d training reviews in %d partitions, %d epochs, batch %d, 2 replicas syncing "
        "every %d batches, %s"
        % (
            len(texts),
            args.partitions,
            args.epochs,
            batch,
            args.sync_every,
            "the model's learning rate" if args.no_scale else "learning rate x 2 (linear rule)",
        )
    )
    results = []
    with _cluster() as cluster, distributed.Client(cluster) as client:
        frame = client.persist(dd.from_pandas(table, npartitions=args.partitions, sort=False))
        distributed.wait(frame)
        for seed in range(args.seeds):
            single = tutorial_model(data.texts, seed=seed)  # the same initial weights for both
            single_acc, single_s, _ = _fit_and_score(
                single, lambda m: m.fit(texts, labels, epochs=args.epochs, batch_size=batch, verbose=0),
                test_texts, test_labels)  # fmt: skip
            replicated = tutorial_model(data.texts, seed=seed)
            dask_acc, dask_s, history = _fit_and_score(
                replicated,
                lambda m: fdask.fit(m, frame, epochs=args.epochs, batch_size=batch, sync_every=args.sync_every,
                                    seed=seed, scale_learning_rate=not args.no_scale),
                test_texts, test_labels)  # fmt: skip
            results.append((single_acc, dask_acc, single_s, dask_s, history.sync))
            print(
                "  seed %d: test accuracy one process %.4f, Dask %.4f (%+.2f points); %.1f s vs %.1f s per epoch"
                % (seed, single_acc, dask_acc, 100 * (dask_acc - single_acc), single_s / args.epochs,
                   dask_s / args.epochs)
            )  # fmt: skip
        single_mean = float(np.mean([r[0] for r in results]))
        dask_mean = float(np.mean([r[1] for r in results]))
        met = abs(dask_mean - single_mean) <= 0.005
        print(
            "mean test accuracy: one process %.4f, Dask 2 workers %.4f (%+.2f points); target within 0.5 points: %s"
            % (single_mean, dask_mean, 100 * (dask_mean - single_mean), "ok" if met else "MISSED")
        )
        print("\nBytes per sync (2 replicas; up: the rows each replica changed; down: the combined rows, to each)")
        rows = []
        for name, config in CONFIGS.items():
            for rule, optimizer in (("Keras Adam", "adam"), ("lazy Adam", Adam(embedding_updates="lazy"))):
                model = tutorial_model(data.texts, max_tokens=config["max_tokens"], dim=config["dim"],
                                       seq_len=config["seq_len"], optimizer=optimizer)  # fmt: skip
                sync = fdask.fit(model, frame, epochs=1, batch_size=config["batch"], sync_every=args.sync_every,
                                 seed=0).sync  # fmt: skip
                model_bytes = sum(w.nbytes for w in model.get_weights())
                rows.append((name, rule, sync, model_bytes, config))
                print(
                    "  %-8s %-10s model %6.2f MB | up %7.3f MB, down %7.3f MB per sync (%5.1f%% of the model per "
                    "replica) | %d rounds, training %.3f s, wall %.3f s per round"
                    % (name, rule, model_bytes / 1e6, sync["bytes_up_per_sync"] / 1e6,
                       sync["bytes_down_per_sync"] / 1e6, 100 * sync["bytes_up_per_sync"] / 2 / model_bytes,
                       sync["rounds"], sync["train_seconds_per_round"], sync["wall_seconds_per_round"])
                )  # fmt: skip
    project(rows)
    return met


def project(rows):
    """Sync cost and speed-up on N machines, from the measured per-replica bytes and
    training time per round.

    The model: every sync goes through the driver (a star), so the driver's link carries
    N x (up + down) bytes; a replica sends the rows it changed (measured, independent of
    N since every replica trains the same number of rows per round), and receives the
    union of all replicas' rows, at most N times its own and at most the whole model. A
    round also costs one round trip. One machine trains N rounds' worth of rows in the
    time N machines train one round, so speed-up(N) = N x train / (train + sync(N)).
    """
    print("\nProjection on a 10 Gbit/s network (star through the driver; %.0f ms per round trip)"
          % (ROUND_TRIP_SECONDS * 1e3))  # fmt: skip
    for name, rule, sync, model_bytes, _ in rows:
        up = sync["bytes_up_per_sync"] / 2
        union_rows_per_replica_rows = sync["rows_combined_per_sync"] / max(sync["rows_up_per_sync"] / 2, 1)
        train_seconds = sync["train_seconds_per_round"]
        parts = []
        for machines in (8, 64):
            # The union grows with N until it is the whole model (measured growth at N=2 extrapolated linearly).
            down = min(up * (1 + (union_rows_per_replica_rows - 1) * (machines - 1)), model_bytes)
            sync_seconds = machines * (up + down) / NETWORK_BYTES_PER_SECOND + ROUND_TRIP_SECONDS
            speedup = machines * train_seconds / (train_seconds + sync_seconds)
            parts.append("%d machines: sync %.1f ms per round, speed-up %.1fx" % (machines, 1e3 * sync_seconds,
                                                                                 speedup))  # fmt: skip
        print("  %-8s %-10s training %.0f ms per round; %s" % (name, rule, 1e3 * train_seconds, "; ".join(parts)))


def word2vec(args):
    """Word2Vec (CBOW) on IMDB's 50,000 reviews: one process against ``fastembed.dask.fit``
    with 2 replicas averaging every ``--w2v-sync`` sentences; analogy accuracy on gensim's
    questions-words.txt (needs gensim for the file) and words per second."""
    import dask.bag as db
    import distributed

    import bench_word2vec

    import fastembed.dask as fdask
    from fastembed import Word2Vec

    try:
        files = bench_word2vec.evaluation_files()
    except ImportError:
        print("gensim is not installed: its questions-words.txt scores the vectors; skipping Word2Vec")
        return True
    sentences = bench_word2vec.load_corpus()
    settings = dict(bench_word2vec.SETTINGS, sg=0, epochs=args.w2v_epochs, seed=1)
    single = Word2Vec(**settings)
    single.build_vocab(sentences)
    words = single.corpus_total_words * args.w2v_epochs
    started = time.perf_counter()
    single.train(sentences)
    single_seconds = time.perf_counter() - started
    single_score = bench_word2vec.score(single.wv, *files)
    with _cluster() as cluster, distributed.Client(cluster) as client:
        bag = client.persist(db.from_sequence(sentences, npartitions=args.partitions))
        distributed.wait(bag)
        replicated = Word2Vec(**settings)
        replicated.build_vocab(sentences)
        started = time.perf_counter()
        history = fdask.fit(replicated, bag, epochs=args.w2v_epochs, sync_every=args.w2v_sync, seed=1,
                            scale_learning_rate=args.w2v_scale)  # fmt: skip
        dask_seconds = time.perf_counter() - started
    dask_score = bench_word2vec.score(replicated.wv, *files)
    sync = history.sync
    print(
        "\nWord2Vec CBOW, %d epochs, %.1fM words: one process (%d threads) %.0fk words/s, analogies %.4f, "
        "WordSim %.4f; Dask 2 replicas syncing every %d sentences %.0fk words/s, analogies %.4f, WordSim %.4f; "
        "%.1f MB up and %.1f MB down per sync (model %.1f MB), %d rounds"
        % (args.w2v_epochs, words / 1e6, fastembed.get_num_threads(), words / single_seconds / 1e3, single_score[0],
           single_score[1], args.w2v_sync, words / dask_seconds / 1e3, dask_score[0], dask_score[1],
           sync["bytes_up_per_sync"] / 1e6, sync["bytes_down_per_sync"] / 1e6,
           (replicated.wv.vectors.nbytes + replicated.syn1neg.nbytes) / 1e6, sync["rounds"])
    )  # fmt: skip
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["score", "train", "word2vec", "all"], default="all")
    parser.add_argument("--texts", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sync-every", type=int, default=16)
    parser.add_argument("--no-scale", action="store_true", help="replicas keep the model's learning rate")
    parser.add_argument("--w2v-epochs", type=int, default=5)
    parser.add_argument("--w2v-sync", type=int, default=1000, help="sentences per replica between syncs")
    parser.add_argument("--w2v-scale", action="store_true", help="Word2Vec replicas at alpha x replicas")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if not os.path.exists(DATA):
        print("../shared/data/imdb is not present; nothing to measure")
        return 0
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
        import pandas  # noqa: F401
    except ImportError:
        print('Dask is not installed (pip install "cyembed[dask]")')
        return 1 if args.check else 0
    met = True
    if args.part in ("train", "all"):
        met = train(args) and met
    if args.part in ("word2vec", "all"):
        met = word2vec(args) and met
    if args.part in ("score", "all"):
        met = score(args) and met
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
