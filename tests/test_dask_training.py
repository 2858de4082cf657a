"""fastembed.dask.fit on a real LocalCluster (two worker processes): data-parallel training
with row-sparse syncs, checked against plain in-process training."""

import numpy as np
import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
import dask.bag as db  # noqa: E402
import dask.dataframe as dd  # noqa: E402

import fastembed  # noqa: E402
import fastembed.dask as fdask  # noqa: E402
from fastembed import Word2Vec, layers  # noqa: E402
from fastembed.datasets import make_demo_reviews  # noqa: E402
from fastembed.optimizers import SGD  # noqa: E402


@pytest.fixture
def client(dask_client):
    return dask_client


@pytest.fixture(scope="module")
def reviews():
    data = make_demo_reviews(800, seed=5)
    return list(data.texts), np.asarray(data.labels)


def tutorial_model(texts, optimizer="adam"):
    fastembed.set_random_seed(0)
    vectorize = layers.TextVectorization(max_tokens=300, output_sequence_length=20)
    vectorize.adapt(texts)
    model = fastembed.Sequential(
        [vectorize, layers.Embedding(300, 8), layers.GlobalAveragePooling1D(), layers.Dense(8, activation="relu"),
         layers.Dense(5, activation="softmax")]
    )  # fmt: skip
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def frame(texts, labels, npartitions):
    return dd.from_pandas(pd.DataFrame({"text": texts, "label": labels}), npartitions=npartitions, sort=False)


def partitions(ddf):
    return [part.compute() for part in ddf.to_delayed()]


def test_one_replica_equals_fitting_round_by_round_in_process(client, reviews):
    texts, labels = reviews
    ddf = frame(texts, labels, 3)
    remote = tutorial_model(texts)
    history = fdask.fit(remote, ddf, epochs=2, batch_size=16, sync_every=5, replicas=1, shuffle=False)
    local = tutorial_model(texts)
    x = np.concatenate([p["text"].to_numpy() for p in partitions(ddf)])
    y = np.concatenate([p["label"].to_numpy() for p in partitions(ddf)])
    for _ in range(2):
        for start in range(0, len(y), 80):  # 5 batches of 16 per round
            local.fit(x[start : start + 80], y[start : start + 80], batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(remote.get_weights(), local.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert history.epoch == [0, 1] and len(history.history["loss"]) == 2
    assert history.sync["rounds"] == 2 * int(np.ceil(len(y) / 80))


@pytest.mark.parametrize("scale", [False, True])
def test_two_replicas_average_each_row_over_the_replicas_that_changed_it(client, reviews, scale):
    texts, labels = reviews
    # Words only the first partition (replica 0's) holds.
    texts, labels = ["quartz zephyr"] * 3 + texts, np.concatenate([[1, 1, 1], labels])
    ddf = frame(texts, labels, 4)
    initial = tutorial_model(texts, optimizer="sgd")
    remote = tutorial_model(texts, optimizer="sgd")
    # One round per epoch: each replica fits all its rows, then the rows are averaged.
    fdask.fit(remote, ddf, epochs=1, batch_size=20, sync_every=1000, replicas=2, shuffle=False,
              scale_learning_rate=scale)  # fmt: skip
    assert remote.optimizer.learning_rate == 0.01  # the replicas' rate was scaled, not the model's
    parts = partitions(ddf)
    trained = []
    for replica in range(2):
        model = tutorial_model(texts, optimizer=SGD(learning_rate=0.02 if scale else 0.01))
        own = [parts[i] for i in range(len(parts)) if i % 2 == replica]
        x = np.concatenate([p["text"].to_numpy() for p in own])
        y = np.concatenate([p["label"].to_numpy() for p in own])
        model.fit(x, y, batch_size=20, shuffle=False, verbose=0)
        trained.append(model.get_weights())
    for w0, a, b, got in zip(initial.get_weights(), trained[0], trained[1], remote.get_weights()):
        a, b, w0, got = (np.reshape(v, (v.shape[0], -1)) if v.ndim > 1 else v.reshape(1, -1) for v in (a, b, w0, got))
        changed_a, changed_b = (a != w0).any(axis=1), (b != w0).any(axis=1)
        both = changed_a & changed_b
        np.testing.assert_array_equal(got[changed_a & ~changed_b], a[changed_a & ~changed_b])
        np.testing.assert_array_equal(got[changed_b & ~changed_a], b[changed_b & ~changed_a])
        np.testing.assert_allclose(got[both], (a[both].astype(np.float64) + b[both]) / 2, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(got[~changed_a & ~changed_b], w0[~changed_a & ~changed_b])
    # Some embedding rows were changed by one replica only: the sync is really row-sparse.
    table_changed_a = (trained[0][0] != initial.get_weights()[0]).any(axis=1)
    table_changed_b = (trained[1][0] != initial.get_weights()[0]).any(axis=1)
    assert (table_changed_a & ~table_changed_b).any()
    assert not (table_changed_a | table_changed_b).all()  # the rows of unused ids never move


def test_the_same_seed_gives_the_same_weights_and_the_sync_is_row_sparse(client, reviews):
    texts, labels = reviews
    ddf = frame(texts, labels, 5)
    runs = []
    for replicas in (2, 2, 3, 3):  # 3 replicas on 2 workers: placed in turn, one worker holds two
        model = tutorial_model(texts)
        history = fdask.fit(model, ddf, epochs=2, batch_size=16, sync_every=3, replicas=replicas, seed=7)
        runs.append((model.get_weights(), history))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1].history == runs[1][1].history
    assert not all(np.array_equal(a, b) for a, b in zip(runs[0][0], runs[2][0]))
    for a, b in zip(runs[2][0], runs[3][0]):
        np.testing.assert_array_equal(a, b)
    sync = runs[0][1].sync
    table_bytes = 300 * 8 * 4
    assert 0 < sync["bytes_up_per_sync"] and sync["rows_up_per_sync"] < 2 * (300 + 8 + 1 + 8 + 1)
    assert sync["bytes_up_per_sync"] < 2 * table_bytes
    assert runs[0][1].history["loss"][1] < runs[0][1].history["loss"][0]  # it learns
    # Nothing is left behind on the workers.
    assert client.run(lambda: len(fdask._training._REPLICAS)) == {w: 0 for w in client.scheduler_info()["workers"]}


def test_word2vec_over_two_workers(client, reviews):
    texts, _ = reviews
    sentences = [text.lower().split() for text in texts]
    series = dd.from_pandas(pd.Series([" ".join(s) for s in sentences]), npartitions=4, sort=False)
    results = []
    for _ in range(2):
        model = Word2Vec(vector_size=16, min_count=2, window=3, negative=3, epochs=2, seed=1, workers=1)
        model.build_vocab(sentences)
        before = model.wv.vectors.copy()
        history = fdask.fit(model, series, epochs=2, sync_every=100, seed=3)
        results.append(model.wv.vectors.copy())
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.array_equal(results[0], before)
    assert history.history["words"][0] == sum(len(s) for s in sentences)
    assert np.isfinite(results[0]).all()
    # The same from a Bag of token lists.
    model = Word2Vec(vector_size=16, min_count=2, window=3, negative=3, epochs=2, seed=1, workers=1)
    model.build_vocab(sentences)
    fdask.fit(model, db.from_sequence(sentences, npartitions=4), epochs=2, sync_every=100, seed=3, shuffle=False)
    assert np.isfinite(model.wv.vectors).all() and not np.array_equal(model.wv.vectors, before)
    assert len(model.wv.most_similar(model.wv.index_to_key[0], topn=3)) == 3
    scaled = Word2Vec(vector_size=16, min_count=2, window=3, negative=3, epochs=2, seed=1, workers=1)
    scaled.build_vocab(sentences)
    fdask.fit(scaled, series, epochs=2, sync_every=100, seed=3, scale_learning_rate=True)
    assert scaled.alpha == 0.025 and not np.array_equal(scaled.wv.vectors, results[0])


def test_bad_arguments_raise_before_anything_runs(client, reviews):
    texts, labels = reviews
    ddf = frame(texts, labels, 2)
    model = tutorial_model(texts)
    with pytest.raises(TypeError, match="dask.dataframe DataFrame"):
        fdask.fit(model, ddf["text"])
    with pytest.raises(KeyError, match="no column"):
        fdask.fit(model, ddf, y="stars")
    with pytest.raises(ValueError, match="sync_every must be a positive int"):
        fdask.fit(model, ddf, sync_every=0)
    uncompiled = fastembed.Sequential([layers.Embedding(10, 4), layers.GlobalAveragePooling1D()])
    uncompiled.build((None, 3))
    with pytest.raises(RuntimeError, match="compile"):
        fdask.fit(uncompiled, ddf)
    with pytest.raises(RuntimeError, match="build_vocab"):
        fdask.fit(Word2Vec(vector_size=8), db.from_sequence([["a", "b"]]))
    with pytest.raises(TypeError, match="Series or Bag"):
        w2v = Word2Vec(vector_size=8, min_count=1)
        w2v.build_vocab([["a", "b"]])
        fdask.fit(w2v, ddf)
