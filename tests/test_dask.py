"""fastembed.dask (issue 17) on a real LocalCluster with two worker processes: scoring,
encoding and neighbour search equal the single-process results, the model is loaded once
per worker, and a vocabulary adapted over partitions equals single-process adapt."""

import numpy as np
import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
import dask.bag as db  # noqa: E402
import dask.dataframe as dd  # noqa: E402

import fastembed  # noqa: E402
import fastembed.dask as fdask  # noqa: E402
from fastembed import layers  # noqa: E402
from fastembed.datasets import make_demo_reviews  # noqa: E402
from fastembed.embeddings import KeyedVectors  # noqa: E402
from fastembed.text import TextVectorizer  # noqa: E402


@pytest.fixture
def client(dask_client):
    return dask_client


@pytest.fixture(scope="module")
def reviews():
    data = make_demo_reviews(1500, seed=3)
    return list(data.texts), np.asarray(data.labels)


@pytest.fixture(scope="module")
def model(reviews):
    texts, labels = reviews
    fastembed.set_random_seed(0)
    vectorize = layers.TextVectorization(max_tokens=400, output_sequence_length=24)
    vectorize.adapt(texts)
    m = fastembed.Sequential(
        [vectorize, layers.Embedding(400, 8), layers.GlobalAveragePooling1D(), layers.Dense(5, activation="softmax")]
    )
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    m.fit(np.array(texts, dtype=object), labels, epochs=1, verbose=0)
    return m


def test_predict_equals_the_single_process_result(client, reviews, model):
    texts, _ = reviews
    series = dd.from_pandas(pd.Series(texts, index=np.arange(100, 100 + len(texts))), npartitions=7)
    result = fdask.predict(model, series, batch_size=64).compute()
    expected = model.predict(np.array(texts, dtype=object), verbose=0)
    assert list(result.columns) == ["output_%d" % i for i in range(5)]
    assert list(result.index) == list(range(100, 100 + len(texts)))
    np.testing.assert_allclose(result.to_numpy(), expected, rtol=1e-6)
    bag = db.from_sequence(texts, npartitions=5)
    np.testing.assert_allclose(np.stack(fdask.predict(model, bag).compute()), expected, rtol=1e-6)
    # Each worker process loaded the model once, whatever the number of partitions.
    loaded = client.run(lambda: sum(1 for v in fdask._shipping._LOADED.values() if isinstance(v, fastembed.Sequential)))
    assert len(loaded) == 2 and all(n == 1 for n in loaded.values()), loaded


def test_adapt_over_partitions_equals_single_process_adapt(client, reviews):
    texts, _ = reviews
    texts = texts + ["Paris, PARIS! <br />tie-breaker ZZZ", "zzz yyy", "yyy zzz"]
    local = TextVectorizer(max_tokens=300, standardize="lower_and_strip_html_and_punctuation").adapt(texts)
    for npartitions in (1, 4, 9):
        series = dd.from_pandas(pd.Series(texts), npartitions=npartitions)
        remote = fdask.adapt(TextVectorizer(max_tokens=300, standardize="lower_and_strip_html_and_punctuation"),
                             series, split_every=2)  # fmt: skip
        assert remote.get_vocabulary() == local.get_vocabulary()
    bag = db.from_sequence(texts, npartitions=6)
    unlimited = fdask.adapt(TextVectorizer(), bag)
    assert unlimited.get_vocabulary() == TextVectorizer().adapt(texts).get_vocabulary()
    layer = fdask.adapt(layers.TextVectorization(max_tokens=50), bag)
    assert layer.get_vocabulary() == layers.TextVectorization(max_tokens=50).adapt(texts).get_vocabulary()


def test_vectorize_and_neighbours(client, reviews):
    texts, _ = reviews
    vectorizer = TextVectorizer(max_tokens=200, output_sequence_length=16).adapt(texts)
    series = dd.from_pandas(pd.Series(texts[:300]), npartitions=3)
    ids = fdask.vectorize(vectorizer, series).compute()
    np.testing.assert_array_equal(np.stack(ids.to_list()), vectorizer(texts[:300]))
    rng = np.random.default_rng(0)
    words = ["w%d" % i for i in range(500)]
    kv = KeyedVectors(rng.normal(size=(500, 12)).astype(np.float32), words)
    queries = db.from_sequence(words[:40], npartitions=4)
    answers = fdask.most_similar_batch(kv, queries, topn=3).compute()
    assert answers == kv.most_similar_batch(words[:40], topn=3)


def test_bad_collections_raise_clear_errors(client, reviews, model):
    frame = dd.from_pandas(pd.DataFrame({"text": ["a", "b"]}), npartitions=1)
    with pytest.raises(TypeError, match="one column"):
        fdask.predict(model, frame)
    with pytest.raises(TypeError, match="Series or a dask.bag"):
        fdask.predict(model, ["a", "b"])
    with pytest.raises(TypeError, match="not a str"):
        fdask.predict(model, db.from_sequence(["fine", 3], npartitions=1)).compute()
    with pytest.raises(TypeError, match="ships a Sequential"):
        fdask.predict(object(), db.from_sequence(["a"]))
