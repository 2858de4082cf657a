"""Callbacks and weights files (issue 14): TensorBoard event files, CSVLogger,
ModelCheckpoint(save_weights_only), save_weights / load_weights, ReduceLROnPlateau,
LearningRateScheduler, TerminateOnNaN, and the notebook progress bar."""

import csv
import os
import sys

import numpy as np
import pytest

import fastembed
from fastembed import _events, callbacks, layers

from test_models import planted_data


def _model(lr=0.01):
    fastembed.set_random_seed(0)
    model = fastembed.Sequential(
        [
            layers.Embedding(300, 4, name="embedding"),
            layers.GlobalAveragePooling1D(),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(fastembed.optimizers.Adam(lr), "binary_crossentropy", ["accuracy"])
    return model


def test_crc32c_and_record_framing():
    assert _events.crc32c(b"123456789") == 0xE3069283  # the standard check value
    record = _events.frame_record(b"hello")
    assert len(record) == 8 + 4 + 5 + 4


def test_tensorboard_event_files_hold_the_epoch_logs(rng, tmp_path):
    x, y = planted_data(rng, n=128)
    model = _model()
    log_dir = str(tmp_path / "logs")
    history = model.fit(
        x,
        y.astype(np.float32),
        epochs=3,
        validation_split=0.25,
        verbose=0,
        callbacks=[callbacks.TensorBoard(log_dir, embeddings_freq=2)],
    )
    for kind in ("train", "validation"):
        files = os.listdir(os.path.join(log_dir, kind))
        assert len(files) == 1 and files[0].startswith("events.out.tfevents.")
        records = _events.read_records(os.path.join(log_dir, kind, files[0]))
        assert len(records) == 1 + 3 and b"brain.Event:2" in records[0]
    with open(os.path.join(log_dir, "embedding", "meta.tsv"), encoding="utf-8") as handle:
        assert len(handle.read().splitlines()) == 300
    assert "embedding/vecs.tsv" in open(os.path.join(log_dir, "projector_config.pbtxt")).read()
    # A flipped byte is a CRC error naming the record.
    path = os.path.join(log_dir, "train", os.listdir(os.path.join(log_dir, "train"))[0])
    data = bytearray(open(path, "rb").read())
    data[-6] ^= 1
    bad = str(tmp_path / "damaged.tfevents")
    open(bad, "wb").write(bytes(data))
    with pytest.raises(ValueError, match="record 3 has a bad data CRC"):
        _events.read_records(bad)
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    for kind, prefix in (("train", ""), ("validation", "val_")):
        reader = event_accumulator.EventAccumulator(os.path.join(log_dir, kind))
        reader.Reload()
        values = [event.value for event in reader.Scalars("epoch_loss")]
        steps = [event.step for event in reader.Scalars("epoch_loss")]
        assert steps == [0, 1, 2]
        np.testing.assert_allclose(values, history.history[prefix + "loss"], rtol=1e-6)


def test_csv_logger_and_weight_checkpoints(rng, tmp_path):
    x, y = planted_data(rng, n=128)
    model = _model()
    log = str(tmp_path / "log.csv")
    pattern = str(tmp_path / "w-{epoch:02d}.weights.npz")
    history = model.fit(
        x,
        y.astype(np.float32),
        epochs=3,
        verbose=0,
        callbacks=[
            callbacks.CSVLogger(log),
            callbacks.ModelCheckpoint(pattern, monitor="loss", save_weights_only=True),
        ],
    )
    with open(log, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["epoch", "accuracy", "loss"] and [r[0] for r in rows[1:]] == ["0", "1", "2"]
    np.testing.assert_allclose([float(r[2]) for r in rows[1:]], history.history["loss"])
    final = model.get_weights()
    model.load_weights(str(tmp_path / "w-01.weights.npz"))
    assert not all(np.array_equal(a, b) for a, b in zip(model.get_weights(), final))
    model.load_weights(str(tmp_path / "w-03.weights.npz"))
    for a, b in zip(model.get_weights(), final):
        np.testing.assert_array_equal(a, b)
    model.fit(x, y.astype(np.float32), epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(log, append=True)])
    with open(log, newline="") as handle:
        assert len(list(csv.reader(handle))) == 5


def test_load_weights_checks_everything_before_copying(rng, tmp_path):
    x, y = planted_data(rng, n=64)
    model = _model()
    model.fit(x, y.astype(np.float32), verbose=0)
    model.save_weights(str(tmp_path / "w.npz"))
    other = fastembed.Sequential([layers.Embedding(300, 4), layers.GlobalAveragePooling1D(), layers.Dense(2)])
    other.build()
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"weight kernel of layer .* is \(4, 1\) in the file but \(4, 2\)"):
        other.load_weights(str(tmp_path / "w.npz"))
    for a, b in zip(other.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="cannot be loaded into this model"):
        model.load_weights(str(tmp_path / "junk.npz"))
    model.save(str(tmp_path / "whole.npz"))  # a whole model file serves too
    model.load_weights(str(tmp_path / "whole.npz"))


class _FakeOptimizer:
    learning_rate = 1.0


class _FakeModel:
    def __init__(self):
        self.optimizer = _FakeOptimizer()
        self.stop_training = False


def test_reduce_lr_on_plateau_follows_keras_rule():
    callback = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    callback.set_model(_FakeModel())
    callback.on_train_begin()
    rates = []
    for epoch, loss in enumerate([1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 1.0, 1.1, 1.2]):
        logs = {"loss": loss}
        callback.on_epoch_end(epoch, logs)
        rates.append(callback.model.optimizer.learning_rate)
        assert logs["learning_rate"] == (rates[-2] if epoch else 1.0)  # the rate the epoch ran with
    # Keras' rule: reduced once 2 epochs pass without improvement; a cooldown epoch resets
    # the count; never below min_lr.
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2]


def test_learning_rate_scheduler_and_terminate_on_nan(rng):
    x, y = planted_data(rng, n=64)
    model = _model()
    history = model.fit(
        x,
        y.astype(np.float32),
        epochs=3,
        verbose=0,
        callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))],
    )
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    regression = fastembed.Sequential([layers.Embedding(300, 4), layers.GlobalAveragePooling1D(), layers.Dense(1)])
    regression.compile("sgd", "mse")
    huge = np.full(64, 3e38, np.float32)  # finite targets whose squared error overflows
    with pytest.raises(FloatingPointError):
        regression.fit(x, huge, epochs=2, verbose=0)
    history = regression.fit(x, huge, epochs=2, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    assert history.history == {} and regression.stop_training
    assert all(np.all(np.isfinite(w)) for w in regression.get_weights())


def test_progress_bar_is_live_in_notebooks_and_plain_in_pipes(rng, capsys, monkeypatch):
    x, y = planted_data(rng, n=64)
    model = _model()
    model.fit(x, y.astype(np.float32), epochs=1, verbose=1)
    piped = capsys.readouterr().out
    assert "\r" not in piped and "Epoch 1/1" in piped
    monkeypatch.setitem(sys.modules, "ipykernel", sys)
    model.fit(x, y.astype(np.float32), epochs=1, verbose=1)
    assert "\r" in capsys.readouterr().out
