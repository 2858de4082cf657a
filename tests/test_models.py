"""Sequential: the tutorial snippet, gradients end to end (fused and unfused), save/load,
determinism, callbacks, ragged input, bad input, and IMDB quality."""

import os

import numpy as np
import pytest

import fastembed
from fastembed import callbacks, layers


def planted_data(rng, n=1200, vocab=300, seq=30):
    """Reviews of random filler where a few sentiment words decide the label."""
    x = rng.integers(22, vocab, size=(n, seq))
    y = rng.integers(0, 2, size=n)
    for i in range(n):
        words = np.arange(2, 12) if y[i] else np.arange(12, 22)
        x[i, rng.integers(0, seq // 2, size=3)] = rng.choice(words, size=3)
        x[i, rng.integers(seq // 2, seq) :] = 0
    return x, y


def tutorial_model(vocab=300, dim=8, mask_zero=False, pooling=layers.GlobalAveragePooling1D):
    return fastembed.Sequential(
        [
            layers.Embedding(vocab, dim, mask_zero=mask_zero),
            pooling(),
            layers.Dense(16, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )


def test_tutorial_snippet_runs_and_learns(rng, capsys):
    fastembed.set_random_seed(0)
    x, y = planted_data(rng)
    vocab_size = 300
    model = fastembed.Sequential(
        [
            layers.Embedding(vocab_size, 16),
            layers.GlobalAveragePooling1D(),
            layers.Dense(16, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.summary()
    assert "Total params: 5,089" in capsys.readouterr().out  # 4800 + 272 + 17
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:1000], y[:1000], epochs=10, batch_size=32, validation_data=(x[1000:], y[1000:]), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 10
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.9
    weights = model.layers[0].get_weights()[0]
    assert weights.shape == (vocab_size, 16)
    loss, accuracy = model.evaluate(x[1000:], y[1000:])
    assert accuracy > 0.9
    assert model.predict(x[:5]).shape == (5, 1)


def test_summary_matches_keras_parameter_counts(capsys):
    model = fastembed.Sequential(
        [
            layers.Embedding(8185, 16),
            layers.GlobalAveragePooling1D(),
            layers.Dense(16, activation="relu"),
            layers.Dense(1),
        ]
    )
    model.summary()
    out = capsys.readouterr().out
    assert "130960" in out and "Total params: 131,249" in out and "Non-trainable params: 0" in out
    assert "Layer (type)" in out and "Output Shape" in out and "(None, None, 16)" in out


def _to_float64(model):
    for layer in model.layers:
        for name in layer.weight_names:
            setattr(layer, name, getattr(layer, name).astype(np.float64))


def _model_loss(model, x, y):
    from fastembed.engine import Plan, _generic

    out, _ = _generic.forward(Plan(model, training=False), np.asarray(x), training=False)
    yy = model.loss.check_targets(np.asarray(y, np.float64), model.output_dim)
    if model._fuse_loss:
        return model.loss.from_logits_value_and_grad(yy, out)[0]
    return model.loss.value_and_grad(yy, out)[0]


@pytest.mark.parametrize("build", ["fused-mean", "fused-max", "unfused-masked", "flatten", "softmax"])
def test_training_step_follows_the_exact_gradient(rng, build):
    """With SGD, one full-batch step moves every weight by -lr * gradient: compare that with
    finite differences of the loss, for the fused and unfused paths alike."""
    fastembed.set_random_seed(1)
    x = rng.integers(0, 12, size=(6, 5))
    x[:, 3:] = 0
    y = rng.integers(0, 2, size=6)
    loss = "binary_crossentropy"
    if build == "fused-mean":
        model = tutorial_model(12, 3, mask_zero=True)
    elif build == "fused-max":
        model = tutorial_model(12, 3, mask_zero=True, pooling=layers.GlobalMaxPooling1D)
    elif build == "unfused-masked":
        model = fastembed.Sequential(
            [
                layers.Embedding(12, 3, mask_zero=True),
                layers.Activation("linear"),
                layers.GlobalAveragePooling1D(),
                layers.Dense(4, activation="tanh"),
                layers.Dense(1, activation="sigmoid"),
            ]
        )
    elif build == "flatten":
        model = fastembed.Sequential(
            [layers.Embedding(12, 3, input_length=5), layers.Flatten(), layers.Dense(1, activation="sigmoid")]
        )
    else:
        model = fastembed.Sequential(
            [layers.Embedding(12, 3), layers.GlobalAveragePooling1D(), layers.Dense(3, activation="softmax")]
        )
        y = rng.integers(0, 3, size=6)
        loss = "sparse_categorical_crossentropy"
    lr = 1e-3
    model.compile(optimizer=fastembed.optimizers.SGD(learning_rate=lr), loss=loss)
    _to_float64(model)
    before = [w.copy() for w in model.get_weights()]
    numeric = []
    for weight in [w for layer in model.layers for w in layer.weights]:
        grad = np.zeros_like(weight)
        for index in np.ndindex(*weight.shape):
            saved = weight[index]
            weight[index] = saved + 1e-6
            up = _model_loss(model, x, y)
            weight[index] = saved - 1e-6
            down = _model_loss(model, x, y)
            weight[index] = saved
            grad[index] = (up - down) / 2e-6
        numeric.append(grad)
    model.fit(x, y, batch_size=6, epochs=1, shuffle=False, verbose=0)
    for old, new, expected in zip(before, model.get_weights(), numeric):
        np.testing.assert_allclose((old - new) / lr, expected, rtol=1e-5, atol=1e-7)


def test_fused_and_unfused_paths_agree(rng):
    x, y = planted_data(rng, n=200)
    results = []
    for unfused in (False, True):
        fastembed.set_random_seed(7)
        stack = [layers.Embedding(300, 8, mask_zero=True)]
        if unfused:
            stack.append(layers.Activation("linear"))  # breaks the Embedding + pooling fusion
        stack += [
            layers.GlobalAveragePooling1D(),
            layers.Dense(8, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
        model = fastembed.Sequential(stack)
        model.compile("adam", "binary_crossentropy", ["accuracy"])
        model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_ragged_input_trains_exactly_like_padded(rng):
    x, y = planted_data(rng, n=300)
    ragged = [row[row != 0].tolist() for row in x]
    assert len({len(r) for r in ragged}) > 1
    results = []
    for data in (x, ragged):
        fastembed.set_random_seed(11)
        model = tutorial_model(mask_zero=True)
        model.compile("adam", "binary_crossentropy", ["accuracy"])
        model.fit(data, y, epochs=2, batch_size=32, verbose=0)
        results.append((model.get_weights(), model.predict(data)))
    for a, b in zip(results[0][0], results[1][0]):
        assert np.array_equal(a, b)
    assert np.array_equal(results[0][1], results[1][1])


def test_determinism_with_seed_and_across_thread_counts(rng):
    x, y = planted_data(rng, n=300)
    results = []
    for threads in (1, 2, 1):
        fastembed.set_random_seed(123)
        with fastembed.threads(threads):
            model = tutorial_model()
            model.compile("adam", "binary_crossentropy")
            model.fit(x, y, epochs=2, batch_size=32, verbose=0)
        results.append(model.get_weights())
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert np.array_equal(a, b)


def test_save_load_roundtrip_and_resumed_training(tmp_path, rng):
    x, y = planted_data(rng, n=300)
    fastembed.set_random_seed(5)
    straight = tutorial_model()
    straight.compile("adam", "binary_crossentropy", ["accuracy"])
    start = straight.get_weights()
    straight.fit(x, y, epochs=4, batch_size=32, shuffle=False, verbose=0)

    resumed = tutorial_model()
    resumed.set_weights(start)
    resumed.compile("adam", "binary_crossentropy", ["accuracy"])
    resumed.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
    path = tmp_path / "model.fe"
    resumed.save(path)
    loaded = fastembed.load_model(path)
    for a, b in zip(resumed.get_weights(), loaded.get_weights()):
        assert np.array_equal(a, b)
    assert loaded.optimizer.iterations == resumed.optimizer.iterations
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in resumed.layers]
    loaded.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
    for a, b in zip(straight.get_weights(), loaded.get_weights()):
        assert np.array_equal(a, b), "training resumed from a file equals uninterrupted training"
    assert np.array_equal(loaded.predict(x[:7]), straight.predict(x[:7]))


def test_save_is_atomic_and_keeps_the_usual_file_mode(tmp_path, rng, monkeypatch):
    model = tutorial_model()
    model.compile("adam", "binary_crossentropy")
    path = tmp_path / "model.fe"
    model.save(path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    good = path.read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.save(path)
    assert path.read_bytes() == good and sorted(p.name for p in tmp_path.iterdir()) == ["model.fe"]


def test_load_rejects_truncated_and_foreign_files(tmp_path, rng):
    model = tutorial_model()
    model.compile("adam", "binary_crossentropy")
    path = tmp_path / "m.fe"
    model.save(path)
    data = path.read_bytes()
    truncated = tmp_path / "truncated.fe"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a .*fastembed model file"):
        fastembed.load_model(truncated)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.arange(3))
    with pytest.raises(ValueError, match="not a .*fastembed model file"):
        fastembed.load_model(foreign)
    text = tmp_path / "text.fe"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a fastembed model file"):
        fastembed.load_model(text)
    with pytest.raises(FileNotFoundError):
        fastembed.load_model(tmp_path / "missing.fe")


def test_multiclass_sparse_and_one_hot_labels(rng):
    labels = rng.integers(0, 3, size=300)
    x = rng.integers(16, 50, size=(300, 10))
    x[:, :2] = labels[:, None] * 5 + 1 + rng.integers(0, 5, size=(300, 2))  # words of the class
    for loss, y in (("sparse_categorical_crossentropy", labels), ("categorical_crossentropy", np.eye(3)[labels])):
        fastembed.set_random_seed(2)
        model = fastembed.Sequential(
            [layers.Embedding(50, 8), layers.GlobalMaxPooling1D(), layers.Dense(3, activation="softmax")]
        )
        model.compile(optimizer=fastembed.optimizers.Adam(0.01), loss=loss, metrics=["accuracy"])
        history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
        assert history.history["accuracy"][-1] > 0.8
        assert model.predict(x[:4]).shape == (4, 3)


@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop", "adam"])
def test_every_optimizer_trains(rng, name):
    x, y = planted_data(rng, n=400)
    fastembed.set_random_seed(4)
    model = tutorial_model()
    optimizer = {
        "sgd": fastembed.optimizers.SGD(0.5, momentum=0.9),
        "adagrad": fastembed.optimizers.Adagrad(0.1),
        "rmsprop": "rmsprop",
        "adam": "adam",
    }[name]
    model.compile(optimizer, "binary_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_lazy_and_dense_embedding_updates(rng):
    """Lazy (default) updates leave untouched rows alone; lazy_embeddings=False moves them as Keras."""
    x = np.array([[1, 2, 0], [2, 3, 0]])
    y = np.array([1.0, 0.0])
    moved = {}
    for lazy in (True, False):
        fastembed.set_random_seed(9)
        model = tutorial_model(vocab=10)
        model.compile(fastembed.optimizers.Adam(0.01, lazy_embeddings=lazy), "binary_crossentropy")
        model.fit(x, y, epochs=1, batch_size=2, verbose=0)
        before = model.layers[0].get_weights()[0]
        model.fit(np.array([[1, 1, 1]]), np.array([1.0]), epochs=1, batch_size=1, verbose=0)
        moved[lazy] = np.abs(model.layers[0].get_weights()[0] - before).sum(axis=1)
    assert moved[True][2] == 0 and moved[True][3] == 0 and moved[True][1] > 0
    assert moved[False][2] > 0, "Keras' dense Adam keeps moving rows seen in earlier steps"


def test_frozen_embedding_and_regularizers(rng):
    x, y = planted_data(rng, n=200)
    pretrained = rng.standard_normal((300, 8)).astype(np.float32)
    model = fastembed.Sequential(
        [
            layers.Embedding(300, 8, weights=[pretrained], trainable=False),
            layers.GlobalAveragePooling1D(),
            layers.Dense(4, activation="relu", kernel_regularizer="l2"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert np.array_equal(model.layers[0].get_weights()[0], pretrained)
    reg = fastembed.Sequential(
        [
            layers.Embedding(300, 8, embeddings_regularizer=fastembed.regularizers.l2(0.5)),
            layers.GlobalAveragePooling1D(),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    reg.compile(fastembed.optimizers.SGD(0.1), "binary_crossentropy")
    norm = np.linalg.norm(reg.layers[0].embeddings[x[0, 0]])
    reg.fit(x[:1], y[:1], epochs=20, batch_size=1, verbose=0)
    assert np.linalg.norm(reg.layers[0].embeddings[x[0, 0]]) < norm, "L2 shrinks the touched rows"


def test_callbacks_early_stopping_and_checkpoint(tmp_path, rng):
    x, y = planted_data(rng, n=300)
    fastembed.set_random_seed(3)
    model = tutorial_model()
    model.compile(fastembed.optimizers.Adam(0.05), "binary_crossentropy", ["accuracy"])
    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "best-{epoch:02d}.fe"), save_best_only=True)
    history = model.fit(
        x[:200], y[:200], epochs=60, validation_data=(x[200:], y[200:]), callbacks=[stopper, checkpoint], verbose=0
    )
    assert stopper.stopped_epoch is not None and len(history.history["loss"]) < 60
    best = min(history.history["val_loss"])
    assert model.evaluate(x[200:], y[200:])[0] == pytest.approx(best, rel=1e-6)
    saved = sorted(os.listdir(tmp_path))
    assert saved and saved[-1] == "best-%02d.fe" % (stopper.best_epoch + 1)
    assert fastembed.load_model(tmp_path / saved[-1]).evaluate(x[200:], y[200:])[0] == pytest.approx(best, rel=1e-6)


def test_validation_split_and_progress_output(rng, capsys):
    x, y = planted_data(rng, n=100)
    model = tutorial_model()
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=2, validation_split=0.2, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "tokens/s" in out and "val_accuracy" in out
    assert len(history.history["val_loss"]) == 2


def test_bad_input_raises_before_any_weight_changes(rng):
    x, y = planted_data(rng, n=50)
    model = tutorial_model()
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    before = model.get_weights()
    bad_ids = x.copy()
    bad_ids[3, 2] = 300
    cases = [
        (lambda: model.fit(bad_ids, y, verbose=0), IndexError, r"id 300 at position \(3, 2\)"),
        (lambda: model.fit(x.astype(float), y, verbose=0), TypeError, "integers"),
        (lambda: model.fit(x, y[:-1], verbose=0), ValueError, "50 samples but y has 49"),
        (lambda: model.fit(x, np.where(np.arange(50) == 7, np.nan, y), verbose=0), ValueError, "NaN"),
        (lambda: model.fit(x, y * 3, verbose=0), ValueError, r"labels in \[0, 1\]"),
        (lambda: model.fit(x, np.stack([y, y], 1), verbose=0), ValueError, "2 columns"),
        (lambda: model.fit(x, y, batch_size=0, verbose=0), ValueError, "batch_size"),
        (lambda: model.fit(np.zeros((3, 2, 2), np.int64), y[:3], verbose=0), ValueError, "shape"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()
    for a, b in zip(before, model.get_weights()):
        assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="unknown optimizer"):
        model.compile("adamant", "binary_crossentropy")
    with pytest.raises(ValueError, match="unknown loss"):
        model.compile("adam", "cross_entropy_please")
    with pytest.raises(ValueError, match="unknown activation"):
        layers.Dense(3, activation="swishy")
    with pytest.raises(ValueError, match="unknown metric"):
        model.compile("adam", "binary_crossentropy", ["precision_at_k"])
    with pytest.raises(RuntimeError, match="compile"):
        tutorial_model().fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="ragged"):
        unfused = fastembed.Sequential([layers.Embedding(300, 4, input_length=3), layers.Flatten(), layers.Dense(1)])
        unfused.compile("sgd", "mse")
        unfused.fit([[1, 2], [3]], [0.0, 1.0], verbose=0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("path", ["compiled", "layers"])
def test_diverging_training_stops_without_a_half_applied_update(rng, path):
    x, y = planted_data(rng, n=64)
    stack = [
        layers.Embedding(300, 8),
        layers.GlobalAveragePooling1D(),
        layers.Dense(16, activation="relu"),
        layers.Dense(1),
    ]  # a linear output: the squared error can overflow
    if path == "layers":
        stack.insert(1, layers.Activation("linear"))  # not a stack the compiled loop runs
    model = fastembed.Sequential(stack)
    model.compile(fastembed.optimizers.SGD(1e15), "mse")
    assert fastembed.engine.Plan(model, training=True).compiled == (path == "compiled")
    with pytest.raises(FloatingPointError, match="loss became"):
        model.fit(x, y, epochs=3, batch_size=64, verbose=0)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


IMDB = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "data", "imdb")


def test_imdb_tutorial_reaches_keras_accuracy():
    """The tutorial, end to end with fastembed only: CSV -> TextVectorizer (10,000 words,
    256 tokens, <br /> and punctuation stripped) -> the tutorial model, which reaches
    >= 0.87 test accuracy within 5 epochs (Keras 3 on TensorFlow: 0.873 after 3)."""
    if not os.path.exists(os.path.join(IMDB, "imdb_train.csv")):
        pytest.skip("../shared/data/imdb is not present")
    from fastembed.datasets import load_text_dataset
    from fastembed.text import TextVectorizer

    train = load_text_dataset(os.path.join(IMDB, "imdb_train.csv"), seed=0)
    test = load_text_dataset(os.path.join(IMDB, "imdb_test.csv"), seed=0)
    assert train.class_names == ["0", "1"] and len(train.texts) == len(test.texts) == 25_000
    vectorizer = TextVectorizer(
        max_tokens=10_000, standardize="lower_and_strip_html_and_punctuation", output_sequence_length=256
    )
    vectorizer.adapt(train.texts)
    x_train, x_test = vectorizer(train.texts), vectorizer(test.texts)
    y_train, y_test = train.labels.astype(np.float32), test.labels.astype(np.float32)
    fastembed.set_random_seed(0)
    model = fastembed.Sequential(
        [
            layers.Embedding(10_000, 16),
            layers.GlobalAveragePooling1D(),
            layers.Dense(16, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=5, batch_size=32, validation_data=(x_test, y_test), verbose=2)
    assert max(history.history["val_accuracy"]) >= 0.87


def test_blas_is_single_threaded_during_fit_and_restored_after(rng):
    from fastembed._blas import blas_controls

    controls = blas_controls()
    if controls is None:
        pytest.skip("NumPy's BLAS here is not OpenBLAS")
    setter, getter = controls
    before = getter()
    seen = []

    class Probe(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(getter())

    x, y = planted_data(rng, n=64)
    model = tutorial_model()
    model.compile("adam", "binary_crossentropy")
    model.fit(x, y, epochs=2, verbose=0, callbacks=[Probe()])
    assert seen == [1, 1]
    assert getter() == before


def test_auc_metric_matches_pairwise_definition(rng):
    from fastembed import metrics

    y = rng.integers(0, 2, 200).astype(float)
    scores = np.round(rng.random(200) + 0.3 * y, 2)  # rounding creates ties
    auc = metrics.get("auc")
    auc.update(y[:120], scores[:120])
    auc.update(y[120:], scores[120:])
    pos, neg = scores[y == 1], scores[y == 0]
    expected = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (
        pos.size * neg.size
    )
    assert auc.result() == pytest.approx(expected, rel=1e-12)


def test_layers_can_be_called_directly(rng):
    model = tutorial_model(vocab=20, dim=4)
    model.build()
    ids = rng.integers(0, 20, size=(3, 5))
    vectors = model.layers[0](ids)
    np.testing.assert_array_equal(vectors, model.layers[0].get_weights()[0][ids])
    pooled = model.layers[1](vectors)
    np.testing.assert_allclose(pooled, vectors.mean(axis=1), rtol=1e-6)
    out = model(ids)
    assert out.shape == (3, 1) and np.all((out > 0) & (out < 1))


def test_get_layer_by_name_and_index():
    model = fastembed.Sequential(
        [layers.Embedding(10, 4, name="embedding"), layers.GlobalAveragePooling1D(), layers.Dense(1)]
    )
    assert model.get_layer("embedding") is model.layers[0]
    assert model.get_layer(index=-1) is model.layers[2]
    for kwargs, message in [
        ({}, "exactly one"),
        ({"name": "e", "index": 0}, "exactly one"),
        ({"name": "missing"}, "no layer named 'missing'"),
        ({"index": 3}, "out of range"),
    ]:
        with pytest.raises(ValueError, match=message):
            model.get_layer(**kwargs)


def test_blas_limit_is_restored_after_overlapping_calls(rng):
    """Two predicts in threads, overlapping: OpenBLAS gets its own count back at the end."""
    import threading

    from fastembed._blas import blas_controls, single_threaded_blas

    controls = blas_controls()
    if controls is None:
        pytest.skip("NumPy's BLAS here is not OpenBLAS")
    setter, getter = controls
    before = getter()
    inside, release = threading.Event(), threading.Event()

    def first():
        with single_threaded_blas():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=first)
    worker.start()
    inside.wait(5)
    with single_threaded_blas():  # enters while the first holds the limit ...
        assert getter() == 1
    release.set()  # ... and leaves first: the first one's exit restores
    worker.join()
    assert getter() == before


def test_layer_path_checks_every_gradient_before_writing(rng):
    """A non-finite Dense gradient on the layer-by-layer path raises before the table (whose
    update is fused with its backward pass) or any state moves."""
    x, y = planted_data(rng, n=32)
    model = fastembed.Sequential(
        [layers.Embedding(300, 4), layers.Activation("linear"), layers.GlobalAveragePooling1D(), layers.Dense(1)]
    )
    model.compile("adam", "mse")
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    before = model.get_weights()
    iterations = model.optimizer.iterations
    # Each sample's output gradient is about 1e38 (finite); the bias gradient sums 32 of
    # them and overflows, while the table's gradient (through the kernel) stays finite.
    far = np.full(32, -1e4, dtype=np.float32)
    with pytest.raises(FloatingPointError, match="gradient became non-finite"):
        model.fit(x, far, sample_weight=np.full(32, 1.6e35), epochs=1, batch_size=32, verbose=0)
    for a, b in zip(before, model.get_weights()):
        assert np.array_equal(a, b)
    assert model.optimizer.iterations == iterations


def test_set_weights_checks_after_the_cast_and_is_all_or_nothing():
    layer = layers.Dense(2)
    layer.build((None, 3))
    kernel, bias = layer.get_weights()
    with pytest.raises(ValueError, match="too large for float32"):
        layer.set_weights([np.full((3, 2), 1e300), np.zeros(2)])
    with pytest.raises(ValueError, match="NaN"):
        layer.set_weights([np.ones((3, 2)), np.array([0.0, np.nan])])
    assert np.array_equal(layer.get_weights()[0], kernel) and np.array_equal(layer.get_weights()[1], bias)


def test_optimizer_state_with_a_negative_step_count_is_refused():
    optimizer = fastembed.optimizers.Adam()
    with pytest.raises(ValueError, match="iterations must be an integer >= 0"):
        optimizer.set_state({"iterations": np.asarray(-1)})


def _rewrite_model_file(source, target, change):
    """Copy a saved model, letting ``change(arrays, config)`` edit it (np.savez, stored)."""
    import json as json_module

    with np.load(source) as archive:
        arrays = {key: archive[key] for key in archive.files}
    config = json_module.loads(arrays.pop("config").tobytes().decode("utf-8"))
    change(arrays, config)
    arrays["config"] = np.frombuffer(json_module.dumps(config).encode("utf-8"), dtype=np.uint8)
    with open(target, "wb") as handle:
        np.savez(handle, **arrays)


def test_a_model_file_is_checked_against_its_size_before_anything_is_built(tmp_path):
    """Issue 12: a small file declaring Embedding(1e6, 500) allocated 3.9 GB before failing;
    a compressed member (zip bomb) was inflated; unknown arrays were read."""
    import zipfile

    model = tutorial_model(vocab=20, dim=4)
    model.compile("adam", "binary_crossentropy")
    good = tmp_path / "good.fe"
    model.save(good)

    def huge_embedding(arrays, config):
        config["model"]["layers"][0]["config"]["input_dim"] = 1_000_000
        config["model"]["layers"][0]["config"]["output_dim"] = 500

    cases = [
        (huge_embedding, r"is \(20, 4\) in the file but the configuration makes it \(1000000, 500\)"),
        (lambda arrays, config: arrays.update({"extra": np.zeros(3)}), "arrays no fastembed model has"),
        (lambda arrays, config: arrays.pop("weights/2/kernel"), "missing weight kernel"),
    ]
    for i, (change, message) in enumerate(cases):
        bad = tmp_path / ("bad%d.fe" % i)
        _rewrite_model_file(good, bad, change)
        with pytest.raises(ValueError, match=message):
            fastembed.load_model(bad)
    bomb = tmp_path / "bomb.fe"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
    with pytest.raises(ValueError, match="compressed"):
        fastembed.load_model(bomb)
    lying = tmp_path / "lying.fe"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(lying, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "weights/0/embeddings.npy":
                data = data.replace(b"(20, 4)", b"(90, 4)")  # a header claiming more rows than stored
            target.writestr(info.filename, data)
    with pytest.raises(ValueError, match="claims"):
        fastembed.load_model(lying)
    assert [w.shape for w in fastembed.load_model(good).get_weights()] == [w.shape for w in model.get_weights()]


def test_a_damaged_model_configuration_raises_one_error_type(tmp_path):
    """Issue 12: other damaged files raised TypeError, AttributeError, RecursionError, ..."""
    model = tutorial_model(vocab=20, dim=4)
    model.compile("adam", "binary_crossentropy")
    good = tmp_path / "good.fe"
    model.save(good)

    changes = [
        lambda a, c: c["model"].update(layers=[1, 2]),
        lambda a, c: c["model"].update(layers={"a": 1}),
        lambda a, c: c["model"]["layers"][0].update(config={"input_dim": "many", "output_dim": 4}),
        lambda a, c: c.update(compile={"optimizer": 3, "loss": None, "metrics": 7}),
        lambda a, c: c["model"].pop("layers"),
    ]
    for i, change in enumerate(changes):
        bad = tmp_path / ("bad%d.fe" % i)
        _rewrite_model_file(good, bad, change)
        with pytest.raises(ValueError):
            fastembed.load_model(bad)


def test_inference_leaves_dropout_training_state_alone(rng):
    """Issue 12: a predict call (say from another thread) reset Dropout's mask between the
    forward and backward pass of a training step."""
    layer = layers.Dropout(0.5, seed=1)
    x = np.ones((4, 6), np.float32)
    out = layer.forward(x, training=True)
    layer.forward(x, training=False)  # inference in between
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), out)


def _training_in_background(model, x, y, epochs):
    """Start fit in a thread; return (thread, errors, started event)."""
    import threading

    errors, started = [], threading.Event()

    class Started(callbacks.Callback):
        def on_train_begin(self, logs=None):
            started.set()

    def train():
        try:
            model.fit(x, y, batch_size=4, epochs=epochs, verbose=0, callbacks=[Started()])
        except Exception as exc:  # reported by the test
            errors.append(exc)
        finally:
            started.set()

    worker = threading.Thread(target=train)
    worker.start()
    return worker, errors, started


def test_predict_beside_fit_sees_one_moment_of_the_weights(rng):
    """Issue 12: predict in one thread while fit runs in another. Every row of one predict
    call comes from the same weights (the same sample gives the same output in every
    chunk), and get_weights() returns arrays from one moment."""
    x, y = planted_data(rng, n=2000)
    fastembed.set_random_seed(0)
    model = tutorial_model()
    model.compile("adam", "binary_crossentropy")
    model.predict(x[:1], verbose=0)  # built before the race
    worker, errors, started = _training_in_background(model, x, y, epochs=3)
    started.wait()
    same = np.repeat(x[:1], 600, axis=0)
    calls = 0
    while worker.is_alive() or calls == 0:
        out = model.predict(same, batch_size=1, verbose=0)  # hundreds of chunks
        np.testing.assert_array_equal(out, np.broadcast_to(out[:1], out.shape))
        weights = model.get_weights()
        assert all(np.all(np.isfinite(w)) for w in weights)
        calls += 1
    worker.join()
    assert not errors, errors


def test_second_fit_on_one_model_is_refused(rng):
    """Two fits on one model at once would interleave their updates: the second raises."""
    import threading

    x, y = planted_data(rng, n=2000)
    model = tutorial_model()
    model.compile("adam", "binary_crossentropy")
    inside, release = threading.Event(), threading.Event()

    class Hold(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            inside.set()
            release.wait(30)

    worker = threading.Thread(target=lambda: model.fit(x, y, epochs=1, verbose=0, callbacks=[Hold()]))
    worker.start()
    inside.wait(30)
    try:
        with pytest.raises(RuntimeError, match="fit is already running"):
            model.fit(x, y, epochs=1, verbose=0)
        assert model.predict(x[:2], verbose=0).shape == (2, 1)  # reading is fine meanwhile
    finally:
        release.set()
        worker.join()
    model.fit(x, y, epochs=1, verbose=0)  # and fit works again afterwards


def test_fit_from_inside_predict_is_an_error_not_a_deadlock(rng):
    x, y = planted_data(rng, n=64)
    model = tutorial_model()
    model.compile("adam", "binary_crossentropy")

    class TrainInside(callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            model.fit(x, y, epochs=1, verbose=0)

    with pytest.raises(RuntimeError, match="cannot change while this thread is reading"):
        model.predict(x, verbose=0, callbacks=[TrainInside()])
    model.fit(x, y, epochs=1, verbose=0)  # nothing left locked
