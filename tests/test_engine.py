"""The training engine: the compiled stack against the layer-by-layer path and finite
differences, bitwise determinism (thread counts, chunked vs per-batch, serial slot vs
sorted table update), the thread policy (no team for small work), and the fit loop's
Keras semantics (steps_per_epoch, initial_epoch, shuffle, sample and class weights)."""

import numpy as np
import pytest

import fastembed
from fastembed import _config, callbacks, layers, losses, ops, optimizers
from fastembed.engine import Plan, _generic, _loop, _plan

from test_models import planted_data


@pytest.fixture
def layer_path(monkeypatch):
    """Run every model layer by layer (the compiled stack switched off)."""
    monkeypatch.setattr(_plan, "COMPILED", False)


def _stack(kind):
    """(layers, loss, y maker) for the stacks the compiled loop implements."""
    if kind == "tutorial":
        return (
            [
                layers.Embedding(300, 8),
                layers.GlobalAveragePooling1D(),
                layers.Dense(16, activation="relu"),
                layers.Dense(1, activation="sigmoid"),
            ],
            "binary_crossentropy",
            "binary",
        )
    if kind == "masked-max-tanh":
        return (
            [
                layers.Embedding(300, 8, mask_zero=True),
                layers.GlobalMaxPooling1D(),
                layers.Dense(6, activation="tanh"),
                layers.Dense(1, activation="sigmoid"),
            ],
            "binary_crossentropy",
            "binary",
        )
    if kind == "bag-sum-logits":
        return (
            [
                layers.EmbeddingBag(300, 8, mode="sum", padding_idx=0),
                layers.Dense(4, activation="sigmoid"),
                layers.Dense(1),
            ],
            losses.BinaryCrossentropy(from_logits=True),
            "binary",
        )
    if kind == "softmax-sparse":
        return (
            [
                layers.Embedding(300, 8, mask_zero=True),
                layers.GlobalAveragePooling1D(),
                layers.Dense(3, activation="softmax"),
            ],
            "sparse_categorical_crossentropy",
            "sparse",
        )
    if kind == "softmax-onehot-l2":
        return (
            [
                layers.Embedding(300, 8, embeddings_regularizer=fastembed.regularizers.l2(1e-3)),
                layers.GlobalAveragePooling1D(),
                layers.Dense(5, activation="relu", kernel_regularizer="l2"),
                layers.Dense(3, activation="softmax"),
            ],
            "categorical_crossentropy",
            "onehot",
        )
    if kind == "mse-linear":
        return (
            [
                layers.Embedding(300, 8),
                layers.GlobalAveragePooling1D(),
                layers.Dense(4, activation="linear"),
                layers.Dense(2),
            ],
            "mse",
            "regression",
        )
    raise AssertionError(kind)


def _targets(rng, x, what):
    labels = x[:, :3].sum(axis=1) % 3
    if what == "binary":
        return (labels > 0).astype(np.float32)
    if what == "sparse":
        return labels
    if what == "onehot":
        return np.eye(3, dtype=np.float32)[labels]
    return np.stack([labels / 3.0, x[:, 0] / 300.0], axis=1).astype(np.float32)


KINDS = ["tutorial", "masked-max-tanh", "bag-sum-logits", "softmax-sparse", "softmax-onehot-l2", "mse-linear"]


def _train(kind, x, y, seed=0, optimizer="adam", epochs=2, batch_size=16, **fit):
    fastembed.set_random_seed(seed)
    stack, loss, _ = _stack(kind)
    model = fastembed.Sequential(stack)
    model.compile(optimizers.get(optimizer) if isinstance(optimizer, str) else optimizer, loss, ["accuracy"])
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, **fit)
    return model, history


@pytest.mark.parametrize("updates", ["dense", "lazy"])
@pytest.mark.parametrize("kind", KINDS)
def test_compiled_stack_is_planned_and_matches_the_layer_path(rng, kind, updates, monkeypatch):
    """The compiled loop against the layer path, which updates the whole table each step
    for dense updates (the compiled loop catches skipped steps up) and computes the
    per-occurrence squares with NumPy and the bag backward."""
    x, _ = planted_data(rng, n=160)
    y = _targets(rng, x, _stack(kind)[2])
    fastembed.set_random_seed(0)
    stack, loss, _ = _stack(kind)
    model = fastembed.Sequential(stack)
    model.compile(optimizers.Adam(embedding_updates=updates), loss, ["accuracy"])
    if updates == "dense" and kind == "softmax-onehot-l2":
        # Keras' L2 on the table decays every row every step: not caught up, layer path.
        assert not Plan(model, training=True).compiled
        return
    assert Plan(model, training=True).compiled
    compiled, compiled_history = _train(kind, x, y, optimizer=optimizers.Adam(embedding_updates=updates))
    monkeypatch.setattr(_plan, "COMPILED", False)
    layered, layered_history = _train(kind, x, y, optimizer=optimizers.Adam(embedding_updates=updates))
    for a, b in zip(compiled.get_weights(), layered.get_weights()):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-6)
    for key in compiled_history.history:
        np.testing.assert_allclose(compiled_history.history[key], layered_history.history[key], rtol=1e-4)
    np.testing.assert_allclose(compiled.predict(x[:20]), layered.predict(x[:20]), rtol=1e-4, atol=1e-6)


def test_compiled_step_follows_finite_differences(rng):
    """One full-batch SGD step of the compiled loop moves every weight by -lr * gradient;
    the gradient is taken by central differences of the float64 loss (layer path)."""
    x = rng.integers(0, 12, size=(6, 5))
    x[:, 3:] = 0
    y = rng.integers(0, 3, size=6)
    fastembed.set_random_seed(1)
    model = fastembed.Sequential(
        [
            layers.Embedding(12, 3, mask_zero=True),
            layers.GlobalAveragePooling1D(),
            layers.Dense(4, activation="tanh"),
            layers.Dense(3, activation="softmax"),
        ]
    )
    lr = 1e-2
    model.compile(optimizers.SGD(lr), "sparse_categorical_crossentropy")
    assert Plan(model, training=True).compiled
    before = model.get_weights()
    reference = fastembed.Sequential(
        [
            layers.Embedding(12, 3, mask_zero=True),
            layers.GlobalAveragePooling1D(),
            layers.Dense(4, activation="tanh"),
            layers.Dense(3, activation="softmax"),
        ]
    )
    reference.compile(optimizers.SGD(lr), "sparse_categorical_crossentropy")
    for layer in reference.layers:
        for name in layer.weight_names:
            setattr(layer, name, getattr(layer, name).astype(np.float64))
    reference.set_weights(before)
    plan = Plan(reference, training=False)
    labels = reference.loss.check_targets(y.astype(np.float64), 3)

    def loss():
        out, _ = _generic.forward(plan, x, training=False)
        return reference.loss.from_logits_value_and_grad(labels, out)[0]

    numeric = []
    for weight in [w for layer in reference.layers for w in layer.weights]:
        grad = np.zeros_like(weight)
        for index in np.ndindex(*weight.shape):
            saved = weight[index]
            weight[index] = saved + 1e-6
            up = loss()
            weight[index] = saved - 1e-6
            grad[index] = (up - loss()) / 2e-6
            weight[index] = saved
        numeric.append(grad)
    model.fit(x, y, batch_size=6, epochs=1, shuffle=False, verbose=0)
    for old, new, expected in zip(before, model.get_weights(), numeric):
        np.testing.assert_allclose((old.astype(np.float64) - new) / lr, expected, rtol=2e-3, atol=2e-5)


class _BatchCounter(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(batch)


@pytest.mark.parametrize("kind", ["tutorial", "masked-max-tanh", "softmax-sparse"])
def test_bitwise_identical_across_threads_and_chunking(rng, kind):
    """1 and 2 threads (the serial slot update against the parallel sorted one: the test
    fixture lowers the policy's threshold), whole chunks against one batch per call."""
    x, _ = planted_data(rng, n=200)
    y = _targets(rng, x, _stack(kind)[2])
    results = []
    for threads, per_batch in ((1, False), (2, False), (2, True), (1, True)):
        with fastembed.threads(threads):
            counter = _BatchCounter()
            model, _ = _train(kind, x, y, seed=3, callbacks=[counter] if per_batch else None)
        assert counter.batches == (list(range(13)) * 2 if per_batch else [])
        results.append(model.get_weights())
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert np.array_equal(a, b)


def test_ragged_and_padded_and_list_input_train_identically(rng):
    x, y = planted_data(rng, n=120)
    rows = [row[row != 0] for row in x]
    outcomes = []
    for data in (x, fastembed.Ragged.from_rows(rows), [r.tolist() for r in rows]):
        fastembed.set_random_seed(4)
        model = fastembed.Sequential(
            [
                layers.Embedding(300, 8, mask_zero=True),
                layers.GlobalAveragePooling1D(),
                layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile("adam", "binary_crossentropy")
        model.fit(data, y, epochs=2, batch_size=16, verbose=0)
        outcomes.append((model.get_weights(), model.predict(data)))
    for weights, predictions in outcomes[1:]:
        for a, b in zip(outcomes[0][0], weights):
            assert np.array_equal(a, b)
        assert np.array_equal(outcomes[0][1], predictions)


def test_bad_ragged_id_names_the_sample_before_any_change(rng):
    model = fastembed.Sequential([layers.Embedding(10, 4), layers.GlobalAveragePooling1D(), layers.Dense(1)])
    model.compile("sgd", "mse")
    before = model.get_weights()
    with pytest.raises(IndexError, match=r"id 10 at position \(2, 1\) \(sample 2\)"):
        model.fit([[1, 2], [3], [4, 10, 5]], [0.0, 1.0, 0.0], verbose=0)
    with pytest.raises(IndexError, match=r"id -1 at position \(1, 0\) \(sample 1\)"):
        model.predict(np.array([[1, 2], [-1, 3]]))
    for a, b in zip(before, model.get_weights()):
        assert np.array_equal(a, b)


# Every compiled entry point whose last argument is the thread count of its region(s).
_KERNEL_ENTRIES = {
    "_forward": ["embedding_lookup", "embedding_bag"],
    "_backward": ["group_by_id", "sparse_grad", "sparse_grad_update"],
    "_optim": ["sparse_update"],
    "_parallel": ["check_ids", "first_non_finite"],
}


class _RecordingTable:
    """Stands in for a TextVectorizer's compiled token table, recording thread counts."""

    def __init__(self, table, seen):
        self._table, self._seen = table, seen

    def __getattr__(self, name):
        attribute = getattr(self._table, name)
        if name not in ("encode", "count_tokens"):
            return attribute

        def call(*args):
            self._seen.append(args[-1])
            return attribute(*args)

        return call


def _record_thread_counts(monkeypatch):
    """Wrap every kernel entry point and the search's worker count; record the team sizes."""
    from fastembed import _kernels, search

    seen = []
    for module_name, names in _KERNEL_ENTRIES.items():
        module = getattr(_kernels, module_name)
        for name in names:

            def wrapper(*args, _function=getattr(module, name)):
                seen.append(args[-1])
                return _function(*args)

            monkeypatch.setattr(module, name, wrapper)
    count = search._worker_count

    def workers(*args):
        seen.append(count(*args))
        return seen[-1]

    monkeypatch.setattr(search, "_worker_count", workers)
    return seen


def test_small_work_never_opens_a_thread_team(rng, monkeypatch):
    """With the real threshold and 2 threads allowed, a tutorial-sized batch, its checks,
    a small text encoding and a small search all run on one thread; a large op does not
    (so the instrumentation can see a team)."""
    from fastembed._kernels import _train
    from fastembed.embeddings import KeyedVectors
    from fastembed.text import TextVectorizer

    monkeypatch.setattr(_config, "PARALLEL_MIN_WORK", 1 << 17)
    seen = _record_thread_counts(monkeypatch)
    teams_before = _train.teams_opened()
    with fastembed.threads(2):
        x, y = planted_data(rng, n=256)
        model = fastembed.Sequential(
            [
                layers.Embedding(300, 16),
                layers.GlobalAveragePooling1D(),
                layers.Dense(16, activation="relu"),
                layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile("adam", "binary_crossentropy", ["accuracy"])
        model.fit(x, y, epochs=2, batch_size=32, validation_split=0.25, verbose=0)
        model.evaluate(x, y)
        model.predict(x)
        table = rng.standard_normal((300, 16)).astype(np.float32)
        ids = x[:32]
        grad = rng.standard_normal((32, 16)).astype(np.float32)
        ops.embedding_bag(table, ids)
        ops.embedding_bag_backward(grad, ids, weights=table)
        ops.embedding_bag_backward_update(table, grad, ids, optimizer=fastembed.SparseAdam())
        ops.sparse_update(table, ops.embedding_bag_backward(grad, ids, weights=table), fastembed.SparseSGD())
        ops.dense_update(table, np.ones_like(table), fastembed.SparseSGD())
        vectorizer = TextVectorizer().adapt(["a small text", "another one"] * 10)
        vectorizer._table = _RecordingTable(vectorizer._table, seen)
        vectorizer(["a small text"] * 10)
        text_calls = len(seen)
        KeyedVectors(table, ["w%d" % i for i in range(300)]).most_similar("w1", topn=3)
        assert _train.teams_opened() == teams_before
        assert len(seen) >= 15 and set(seen) == {1}, seen
        assert text_calls > 0
        big = rng.integers(0, 300, size=(512, 256))
        ops.embedding_bag(table, big)
    assert seen[-1] == (2 if _config.OPENMP else 1), "a large op gets a team (with OpenMP)"


def test_thread_policy_weighs_the_work(monkeypatch):
    monkeypatch.setattr(_config, "PARALLEL_MIN_WORK", 1000)
    with fastembed.threads(4):
        assert [_config.threads_for(w) for w in (0, 1999, 2000, 3500, 10**9)] == (
            [1, 1, 2, 3, 4] if _config.OPENMP else [1] * 5
        )
        assert _config.threads_for(10**9, limit=2) == (2 if _config.OPENMP else 1)


def test_thread_advisor_keeps_the_faster_limit():
    from fastembed.engine._threads import ThreadAdvisor

    advisor = ThreadAdvisor(2, retry_every=4)
    if advisor.candidates == [1]:
        pytest.skip("serial build")
    timings = {2: 3.0, 1: 1.0}  # a busy machine: the team is slower
    chosen = []
    for _ in range(12):
        limit = advisor.limit()
        chosen.append(limit)
        advisor.record(limit, timings[limit], 1)
    # Both timed first (one thread first), then the faster one; the slower is timed again
    # after 4 chunks, then after 8 (it lost again), then after 16.
    assert chosen == [1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1], chosen
    for _ in range(9):
        chosen.append(advisor.limit())
        advisor.record(chosen[-1], timings[chosen[-1]], 1)
    assert chosen[12:] == [1, 2, 1, 1, 1, 1, 1, 1, 1] and advisor.wait == 16
    # The load goes away: the team wins its next trial (a trial's time replaces the stale
    # one), and the wait is back to 4 chunks.
    timings = {2: 0.5, 1: 1.0}
    while advisor.limit() != 2:
        advisor.record(1, timings[1], 1)
    advisor.record(2, timings[2], 1)
    assert advisor.best() == 2 and advisor.wait == 4
    advisor = ThreadAdvisor(2, retry_every=4)
    for _ in range(2):
        limit = advisor.limit()
        advisor.record(limit, {2: 1.0, 1: 1.8}[limit], 1)  # an idle machine: the team pays
    assert advisor.best() == 2 and advisor.limit() == 2


def test_steps_per_epoch_continues_and_warns_when_data_runs_out(rng):
    x, y = planted_data(rng, n=100)  # 10 batches of 10
    counter = _BatchCounter()
    fastembed.set_random_seed(0)
    model = fastembed.Sequential([layers.Embedding(300, 4), layers.GlobalAveragePooling1D(), layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(
            x, y, batch_size=10, epochs=5, steps_per_epoch=3, shuffle=False, verbose=0, callbacks=[counter]
        )
    # Keras: 3 + 3 + 3 steps, then the one batch left (warning), then a fresh pass.
    assert counter.batches == [0, 1, 2] * 3 + [0] + [0, 1, 2]
    assert history.epoch == [0, 1, 2, 3, 4]
    assert model.optimizer.iterations == 13


def test_initial_epoch_and_history(rng):
    x, y = planted_data(rng, n=40)
    model = fastembed.Sequential(
        [layers.Embedding(300, 4), layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")]
    )
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    began = []

    class Epochs(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            began.append(epoch)

    history = model.fit(x, y, epochs=5, initial_epoch=3, verbose=0, callbacks=[Epochs()])
    assert began == [3, 4] and history.epoch == [3, 4] and model.history is history
    assert history.params == {"verbose": 0, "epochs": 5, "steps": 2}
    assert sorted(history.history) == ["accuracy", "loss"]


def test_shuffle_batch_permutes_only_within_batches():
    order = _loop._sample_order(np.random.default_rng(0), 23, 5, "batch")
    assert not np.array_equal(order, np.arange(23))
    for start in range(0, 23, 5):
        assert sorted(order[start : start + 5]) == list(range(start, min(23, start + 5)))
    model = fastembed.Sequential([layers.Embedding(3, 2), layers.GlobalAveragePooling1D(), layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="shuffle"):
        model.fit(np.zeros((4, 2), np.int64), np.zeros(4), shuffle="sometimes", verbose=0)


@pytest.mark.parametrize("path", ["compiled", "layers"])
def test_sample_and_class_weights(rng, path, monkeypatch):
    if path == "layers":
        monkeypatch.setattr(_plan, "COMPILED", False)
    x, y = planted_data(rng, n=96)
    by_class = {0: 0.5, 1: 2.0}
    weights = np.where(y > 0, 2.0, 0.5)
    runs = {}
    for name, fit in (
        ("class", {"class_weight": by_class}),
        ("sample", {"sample_weight": weights}),
        ("ones", {"sample_weight": np.ones(96)}),
        ("none", {}),
    ):
        model, history = _train("tutorial", x, y, seed=8, epochs=1, batch_size=32, shuffle=False, **fit)
        runs[name] = (model.get_weights(), history.history["loss"][0])
    for a, b in zip(runs["class"][0], runs["sample"][0]):
        assert np.array_equal(a, b)
    for a, b in zip(runs["ones"][0], runs["none"][0]):
        assert np.array_equal(a, b)
    assert not np.array_equal(runs["sample"][0][0], runs["none"][0][0])
    # A zero weight removes a sample from the loss; the loss divides by the batch size.
    model = _train("tutorial", x, y, seed=8, epochs=1)[0]
    w = np.ones(96)
    w[::2] = 0
    full = model.evaluate(x, y, batch_size=96, return_dict=True)["loss"]
    half = model.evaluate(x, y, sample_weight=w, batch_size=96, return_dict=True)["loss"]
    odd = model.evaluate(x[1::2], y[1::2], batch_size=48, return_dict=True)["loss"]
    assert half == pytest.approx(odd / 2, rel=1e-5) and full != half
    with pytest.raises(ValueError, match="not both"):
        model.fit(x, y, sample_weight=w, class_weight=by_class, verbose=0)
    with pytest.raises(ValueError, match="finite and >= 0"):
        model.fit(x, y, sample_weight=-w, verbose=0)
    with pytest.raises(ValueError, match=r"shape \(96,\)"):
        model.fit(x, y, sample_weight=w[:5], verbose=0)
    with pytest.raises(ValueError, match="class indices"):
        model.fit(x, y, class_weight={"pos": 1.0}, verbose=0)


def test_layer_fusion_is_declared_by_layers_not_the_model():
    embedding, pool, dense = layers.Embedding(10, 4, mask_zero=True), layers.GlobalAveragePooling1D(), layers.Dense(1)
    model = fastembed.Sequential([embedding, pool, dense])
    model.build()
    fused = _plan.fuse_layers(model.layers)
    assert [type(layer).__name__ for layer in fused] == ["EmbeddingBag", "Dense"]
    bag = fused[0]
    assert bag.embeddings is embedding.embeddings and bag.mode == "mean" and bag.padding_idx == 0
    assert layers.Dense(2).fuse(layers.Dense(3)) is None
    unfused = fastembed.Sequential(
        [layers.Embedding(10, 4), layers.Activation("linear"), layers.GlobalMaxPooling1D(), layers.Dense(1)]
    )
    unfused.build()
    assert [type(layer).__name__ for layer in _plan.fuse_layers(unfused.layers)] == [
        "Embedding",
        "Activation",
        "GlobalMaxPooling1D",
        "Dense",
    ]


def test_generic_runner_serves_other_stacks(rng):
    """Dropout, Flatten, float64 and Keras' dense updates of an L2-regularised table take
    the layer path."""
    x, y = planted_data(rng, n=64)
    for stack, optimizer in (
        (
            [layers.Embedding(300, 4), layers.GlobalAveragePooling1D(), layers.Dropout(0.2, seed=1), layers.Dense(1)],
            "adam",
        ),
        ([layers.Embedding(300, 4, input_length=30), layers.Flatten(), layers.Dense(1)], "adam"),
        (
            [layers.Embedding(300, 4, embeddings_regularizer="l2"), layers.GlobalAveragePooling1D(), layers.Dense(1)],
            optimizers.Adam(embedding_updates="dense"),
        ),
    ):
        model = fastembed.Sequential(stack)
        model.compile(optimizer, "mse")
        assert not Plan(model, training=True).compiled
        history = model.fit(x, y, epochs=2, verbose=0)
        assert np.isfinite(history.history["loss"]).all()


def test_slot_and_sorted_table_updates_give_the_same_bits(rng, monkeypatch):
    """With room for only 3 distinct ids, every batch overflows the slots and takes the
    sorted path: the weights must not change by a bit."""
    from fastembed._kernels import _train

    x, y = planted_data(rng, n=160)
    results = []
    for budget in (_train.SLOTS_BUDGET, 3 * 8 * 4):
        monkeypatch.setattr(_train, "SLOTS_BUDGET", budget)
        for threads in (1, 2):
            overflows = _train.slot_overflows()
            with fastembed.threads(threads):
                model, _ = _train_model_for_slots(x, y)
            results.append(model.get_weights())
            assert (_train.slot_overflows() > overflows) == (budget < 1000)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert np.array_equal(a, b)


def _train_model_for_slots(x, y):
    return _train("tutorial", x, y, seed=5, epochs=2, batch_size=16)


def _slot_owner(ids, owners):
    """The owner thread the slot path gives an id (the multiplicative hash of _train.pyx)."""
    hashed = (np.asarray(ids, dtype=np.uint64) * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)
    return ((hashed * np.uint64(owners)) >> np.uint64(32)).astype(np.int64)


def test_one_owner_overflowing_sends_the_whole_batch_to_the_sorted_path(monkeypatch):
    """Room for 2 ids per owner: a batch with 3 ids of owner 0 and 1 of owner 1 overflows
    owner 0 only, and still must not be updated half by slots (same bits, counted)."""
    from fastembed._kernels import _train

    if not _config.OPENMP:
        pytest.skip("one owner per batch without OpenMP")
    ids = np.arange(1, 60)
    owner = _slot_owner(ids, 2)
    chosen = np.concatenate([ids[owner == 0][:3], ids[owner == 1][:1]])
    x = np.tile(chosen, (8, 2))  # 8 samples, every one holding the 4 ids twice
    y = (np.arange(8) % 2).astype(np.float32)
    results = []
    for budget in (_train.SLOTS_BUDGET, 4 * 8 * 4):  # dim 8: 4 slots in all, 2 per owner
        monkeypatch.setattr(_train, "SLOTS_BUDGET", budget)
        overflows = _train.slot_overflows()
        with fastembed.threads(2):
            fastembed.set_random_seed(2)
            model = fastembed.Sequential(
                [layers.Embedding(60, 8), layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")]
            )
            model.compile("adam", "binary_crossentropy")
            model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        assert (_train.slot_overflows() > overflows) == (budget < 1000)
        results.append(model.get_weights())
    for a, b in zip(*results):
        assert np.array_equal(a, b)


def test_from_logits_outputs_are_logits_and_metrics_match_targets(rng):
    """A linear output compiled with from_logits=True predicts logits (as Keras and the
    layer path); metrics that do not fit the targets go through the outputs, not a crash."""
    x, y = planted_data(rng, n=64)
    fastembed.set_random_seed(1)
    model = fastembed.Sequential([layers.Embedding(300, 4), layers.GlobalAveragePooling1D(), layers.Dense(1)])
    before = model.predict(x[:5])
    model.compile("adam", losses.BinaryCrossentropy(from_logits=True), ["accuracy"])
    assert Plan(model, training=True).compiled
    np.testing.assert_allclose(model.predict(x[:5]), before, rtol=1e-5)  # logits, not sigmoid(logits)
    labels = (x[:, 0] % 3).astype(np.int64)
    multi = fastembed.Sequential(
        [layers.Embedding(300, 4), layers.GlobalAveragePooling1D(), layers.Dense(3, activation="softmax")]
    )
    multi.compile("adam", "sparse_categorical_crossentropy", ["sparse_categorical_accuracy"])
    accuracy = multi.evaluate(x, labels, return_dict=True)["sparse_categorical_accuracy"]
    expected = np.mean(multi.predict(x).argmax(axis=1) == labels)
    assert accuracy == pytest.approx(expected)


def test_changing_trainable_needs_a_new_compile(rng):
    x, y = planted_data(rng, n=64)
    model = fastembed.Sequential(
        [
            layers.Embedding(300, 4),
            layers.GlobalAveragePooling1D(),
            layers.Dense(4, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    model.fit(x, y, verbose=0)
    model.layers[2].trainable = False
    with pytest.raises(ValueError, match="compile"):
        model.fit(x, y, verbose=0)
    model.compile("adam", "binary_crossentropy")
    frozen = model.layers[2].get_weights()
    model.fit(x, y, verbose=0)
    for a, b in zip(frozen, model.layers[2].get_weights()):
        assert np.array_equal(a, b)


def test_huge_batch_size_allocates_for_the_data_only(rng):
    x, y = planted_data(rng, n=50)
    model = fastembed.Sequential(
        [layers.Embedding(300, 4), layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")]
    )
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    model.fit(x, y, batch_size=10**9, verbose=0)
    assert model.evaluate(x, y, batch_size=10**9, return_dict=True)["loss"] > 0


def test_predict_and_evaluate_from_several_threads_at_once(rng):
    """Inference calls share no mutable state (each plans its own buffers; the compiled
    loop runs without the GIL, so they truly overlap): same outputs as one call at a time."""
    import threading

    x, y = planted_data(rng, n=400)
    model, _ = _train("tutorial", x, y, epochs=1)
    expected = model.predict(x, batch_size=16)
    expected_loss = model.evaluate(x, y, return_dict=True)["loss"]
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append((model.predict(x, batch_size=16), model.evaluate(x, y, return_dict=True)["loss"]))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors and len(results) == 20
    for outputs, loss in results:
        assert np.array_equal(outputs, expected) and loss == expected_loss
