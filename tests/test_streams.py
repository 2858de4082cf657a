"""fit / evaluate / predict on streams of batches (issue 14): Datasets, generators,
iterables and Keras-3-style PyDatasets, validated chunk by chunk with bounded memory."""

import warnings

import numpy as np
import pytest

import fastembed
from fastembed import callbacks, layers, optimizers
from fastembed.data import Dataset
from fastembed.engine import _stream

from test_models import planted_data


def _model(updates="lazy", seed=0):
    fastembed.set_random_seed(seed)
    model = fastembed.Sequential(
        [
            layers.Embedding(300, 8),
            layers.GlobalAveragePooling1D(),
            layers.Dense(8, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizers.Adam(1e-2, embedding_updates=updates), "binary_crossentropy", ["accuracy"])
    return model


def _batches(x, y, size):
    for lo in range(0, len(x), size):
        yield x[lo : lo + size], y[lo : lo + size].astype(np.float32)


class Sequence:
    """A Keras-3-style PyDataset: __len__ + __getitem__ (+ on_epoch_end)."""

    def __init__(self, x, y, size):
        self.x, self.y, self.size, self.epochs_ended = x, y.astype(np.float32), size, 0

    def __len__(self):
        return -(-len(self.x) // self.size)

    def __getitem__(self, i):
        return self.x[i * self.size : (i + 1) * self.size], self.y[i * self.size : (i + 1) * self.size]

    def on_epoch_end(self):
        self.epochs_ended += 1


@pytest.mark.parametrize("kind", ["dataset", "generator", "sequence", "iterator"])
def test_a_stream_trains_exactly_as_the_same_batches_from_arrays(rng, kind, monkeypatch):
    """The same batches in the same order: bitwise the same weights as arrays with
    shuffle=False (lazy updates; chunking changes nothing), with chunks of 3 batches."""
    monkeypatch.setattr(_stream, "CHUNK_BATCHES", 3)
    x, y = planted_data(rng, n=200)
    reference = _model()
    reference.fit(x, y.astype(np.float32), batch_size=16, epochs=2, shuffle=False, verbose=0)
    model = _model()
    if kind == "dataset":
        source = Dataset.from_tensor_slices((x, y.astype(np.float32))).batch(16)
    elif kind == "generator":
        source = (batch for _ in range(2) for batch in _batches(x, y, 16))
    elif kind == "sequence":
        source = Sequence(x, y, 16)
    else:  # a one-shot iterator over a list of batches, two passes long
        source = iter(list(_batches(x, y, 16)) * 2)
    history = model.fit(source, epochs=2, verbose=0, steps_per_epoch=13 if kind in ("generator", "iterator") else None)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(history.history["loss"]) == 2
    if kind == "sequence":
        assert source.epochs_ended == 2


def test_dense_updates_on_a_stream_match_arrays(rng):
    """Keras' dense updates: a stream settles the skipped steps after each chunk, arrays
    at the end of the epoch; both give the dense result (within the catch-up's eps bound)."""
    x, y = planted_data(rng, n=200)
    reference = _model("dense")
    reference.fit(x, y.astype(np.float32), batch_size=16, epochs=2, shuffle=False, verbose=0)
    model = _model("dense")
    model.fit(Dataset.from_tensor_slices((x, y.astype(np.float32))).batch(16), epochs=2, verbose=0)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_evaluate_predict_and_validation_on_streams(rng):
    x, y = planted_data(rng, n=200)
    model = _model()
    ds = Dataset.from_tensor_slices((x, y.astype(np.float32))).batch(32)
    history = model.fit(ds, validation_data=ds, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    stream_logs = model.evaluate(ds, return_dict=True)
    array_logs = model.evaluate(x, y.astype(np.float32), batch_size=32, return_dict=True)
    assert stream_logs == pytest.approx(array_logs, rel=1e-6)
    assert history.history["val_loss"][-1] == pytest.approx(stream_logs["loss"], rel=1e-6)
    predicted = model.predict(Dataset.from_tensor_slices(x).batch(7))
    np.testing.assert_allclose(predicted, model.predict(x), rtol=1e-6)


def test_ragged_and_unequal_batches_and_batch_hook_numbers(rng):
    """Batches of different lengths form separate chunks; a ragged batch (lists) works;
    batch hooks are numbered through the epoch."""
    x, y = planted_data(rng, n=40)
    model = fastembed.Sequential(
        [
            layers.Embedding(300, 4, mask_zero=True),
            layers.GlobalAveragePooling1D(),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    rows = [list(r[r != 0]) for r in x]
    batches = [
        (rows[:10], y[:10].astype(np.float32)),
        (x[10:30, :12], y[10:30].astype(np.float32)),
        (x[30:], y[30:].astype(np.float32)),
    ]
    seen = []

    class Batches(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)

    model.fit(iter(batches), epochs=1, verbose=0, callbacks=[Batches()])
    assert seen == [0, 1, 2]


def test_stream_errors_and_running_out_of_data(rng):
    x, y = planted_data(rng, n=64)
    model = _model()
    ds = Dataset.from_tensor_slices((x, y.astype(np.float32))).batch(16)
    with pytest.raises(ValueError, match="y and sample_weight must be None"):
        model.fit(ds, y, verbose=0)
    with pytest.raises(ValueError, match="validation_split needs arrays"):
        model.fit(ds, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="needs targets"):
        model.fit(Dataset.from_tensor_slices(x).batch(16), verbose=0)
    with pytest.raises(IndexError, match="out of range"):
        model.fit(iter([(np.full((4, 3), 999), np.ones(4, np.float32))]), verbose=0)
    generator = _batches(x, y, 16)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(generator, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1  # the generator ran dry in epoch 2
    assert any("ran out of data" in str(w.message) for w in caught)


def test_memory_is_bounded_by_the_chunk(rng, monkeypatch):
    """An endless generator with steps_per_epoch: the engine never holds more than one
    chunk (CHUNK_BATCHES batches) of it at once."""
    x, y = planted_data(rng, n=64)
    largest = []
    original = _stream._chunk

    def recording(group):
        chunk = original(group)
        largest.append(len(chunk[0]))
        return chunk

    monkeypatch.setattr(_stream, "_chunk", recording)

    def endless():
        while True:
            yield from _batches(x, y, 8)

    model = _model()
    model.fit(endless(), steps_per_epoch=500, epochs=2, verbose=0)
    assert max(largest) == 8 * _stream.CHUNK_BATCHES and sum(largest) == 1000 * 8


def test_a_model_with_text_vectorization_takes_strings(tmp_path):
    texts = ["good film great", "bad film awful", "great acting", "awful plot bad"] * 25
    labels = np.array([1, 0, 1, 0] * 25, np.float32)
    vectorize = layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    vectorize.adapt(Dataset.from_tensor_slices((texts, labels)).batch(8).map(lambda x, y: x))
    fastembed.set_random_seed(0)
    model = fastembed.Sequential(
        [
            vectorize,
            layers.Embedding(20, 8, name="embedding"),
            layers.GlobalAveragePooling1D(),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizers.Adam(0.05), "binary_crossentropy", ["accuracy"])
    model.fit(Dataset.from_tensor_slices((texts, labels)).shuffle(100, seed=0).batch(8), epochs=5, verbose=0)
    assert model.evaluate(texts, labels, return_dict=True)["accuracy"] == 1.0
    assert model.layers[0] is vectorize and model.get_layer("embedding").get_weights()[0].shape == (20, 8)
    model.save(str(tmp_path / "m.npz"))
    loaded = fastembed.load_model(str(tmp_path / "m.npz"))
    assert loaded.layers[0].get_vocabulary() == vectorize.get_vocabulary()
    np.testing.assert_array_equal(
        loaded.predict(["good acting", "awful film"]), model.predict(["good acting", "awful film"])
    )
    with pytest.raises(TypeError, match="must be texts"):
        model.predict(np.zeros((2, 4), np.int64))
    with pytest.raises(ValueError, match="must be the first layer"):
        fastembed.Sequential([layers.Embedding(20, 8), layers.TextVectorization()])
