"""fastembed against recorded Keras behaviour: callback hook order, sample_weight /
class_weight losses and updates, validation_split.

Every expected value here is a literal recorded from real Keras runs (Keras 3.15.1 on
TensorFlow 2.21.0, CPU, float32): throwaway scripts built the same models in Keras, set
the weights given below with ``model.set_weights``, ran ``fit`` / ``evaluate`` /
``predict`` / ``train_on_batch`` and printed the hook sequences, logs, losses and weights,
which were pasted in here. Keras is not imported: these tests run only fastembed.
"""

import numpy as np
import pytest

import fastembed
from fastembed import layers
from fastembed.callbacks import Callback

RTOL = dict(rtol=1e-5, atol=1e-7)

HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


# -------------------------------------------------------------------------------------
# 1. Callback hook order
# -------------------------------------------------------------------------------------


def _recording_hook(name):
    if "batch" in name or "epoch" in name:

        def hook(self, index, logs=None):
            self.events.append((name, index, tuple(sorted(logs or {}))))
    else:

        def hook(self, logs=None):
            self.events.append((name, None, tuple(sorted(logs or {}))))

    hook.__name__ = name
    return hook


class Recorder(Callback):
    """Overrides every hook; records (hook, batch/epoch index or None, sorted log keys)."""

    def __init__(self):
        super().__init__()
        self.events = []


for _name in HOOKS:
    setattr(Recorder, _name, _recording_hook(_name))


# Recorded with the same Recorder written as a keras.callbacks.Callback, on
# Sequential([Input((5,), int32), Embedding(20, 4), GlobalAveragePooling1D(),
# Dense(1, sigmoid)]) compiled with adam / binary_crossentropy / metrics=['accuracy'],
# data from np.random.default_rng(0) as in _hook_data(). Keras passed logs={} (not None)
# to every begin hook.
#   model.fit(x, y, epochs=2, batch_size=4, validation_data=(xv, yv), verbose=0, callbacks=[cb])
KERAS_FIT_HOOKS = [
    ("on_train_begin", None, ()),
    ("on_epoch_begin", 0, ()),
    ("on_train_batch_begin", 0, ()),
    ("on_train_batch_end", 0, ("accuracy", "loss")),
    ("on_train_batch_begin", 1, ()),
    ("on_train_batch_end", 1, ("accuracy", "loss")),
    ("on_test_begin", None, ()),
    ("on_test_batch_begin", 0, ()),
    ("on_test_batch_end", 0, ("accuracy", "loss")),
    ("on_test_end", None, ("accuracy", "loss")),
    ("on_epoch_end", 0, ("accuracy", "loss", "val_accuracy", "val_loss")),
    ("on_epoch_begin", 1, ()),
    ("on_train_batch_begin", 0, ()),
    ("on_train_batch_end", 0, ("accuracy", "loss")),
    ("on_train_batch_begin", 1, ()),
    ("on_train_batch_end", 1, ("accuracy", "loss")),
    ("on_test_begin", None, ()),
    ("on_test_batch_begin", 0, ()),
    ("on_test_batch_end", 0, ("accuracy", "loss")),
    ("on_test_end", None, ("accuracy", "loss")),
    ("on_epoch_end", 1, ("accuracy", "loss", "val_accuracy", "val_loss")),
    ("on_train_end", None, ("accuracy", "loss", "val_accuracy", "val_loss")),
]
#   model.evaluate(xv, yv, batch_size=4, callbacks=[cb], verbose=0)
KERAS_EVALUATE_HOOKS = [
    ("on_test_begin", None, ()),
    ("on_test_batch_begin", 0, ()),
    ("on_test_batch_end", 0, ("accuracy", "loss")),
    ("on_test_end", None, ("accuracy", "loss")),
]
#   model.predict(xv, batch_size=2, callbacks=[cb], verbose=0)
KERAS_PREDICT_HOOKS = [
    ("on_predict_begin", None, ()),
    ("on_predict_batch_begin", 0, ()),
    ("on_predict_batch_end", 0, ("outputs",)),
    ("on_predict_batch_begin", 1, ()),
    ("on_predict_batch_end", 1, ("outputs",)),
    ("on_predict_end", None, ()),
]


def _hook_data():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 20, size=(8, 5)).astype(np.int32)
    y = rng.integers(0, 2, size=(8, 1)).astype(np.float32)
    xv = rng.integers(0, 20, size=(3, 5)).astype(np.int32)
    yv = rng.integers(0, 2, size=(3, 1)).astype(np.float32)
    return x, y, xv, yv


@pytest.fixture
def hook_model():
    model = fastembed.Sequential(
        [layers.Embedding(20, 4), layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def test_fit_hook_order_matches_keras(hook_model):
    x, y, xv, yv = _hook_data()
    cb = Recorder()
    hook_model.fit(x, y, epochs=2, batch_size=4, validation_data=(xv, yv), verbose=0, callbacks=[cb])
    assert cb.events == KERAS_FIT_HOOKS


def test_evaluate_hook_order_matches_keras(hook_model):
    _, _, xv, yv = _hook_data()
    cb = Recorder()
    hook_model.evaluate(xv, yv, batch_size=4, callbacks=[cb], verbose=0)
    assert cb.events == KERAS_EVALUATE_HOOKS


def test_predict_hook_order_matches_keras(hook_model):
    _, _, xv, _ = _hook_data()
    cb = Recorder()
    hook_model.predict(xv, batch_size=2, callbacks=[cb], verbose=0)
    assert cb.events == KERAS_PREDICT_HOOKS


# -------------------------------------------------------------------------------------
# The fixed-weight model of sections 2 and 3:
# Embedding(6, 2) -> GlobalAveragePooling1D -> Dense(1, sigmoid), binary_crossentropy,
# SGD(learning_rate=0.1), weights set explicitly (Keras order: embeddings, kernel, bias).
# -------------------------------------------------------------------------------------

EMB = np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.2], [0.05, -0.3], [0.6, -0.1], [-0.25, 0.35]], np.float32)
KERNEL = np.array([[0.7], [-1.1]], np.float32)
BIAS = np.array([0.05], np.float32)

X2 = np.array([[1, 2, 3], [4, 5, 0], [2, 2, 4], [0, 1, 5], [3, 4, 1]], np.int64)
Y2 = np.array([[1], [0], [1], [0], [1]], np.float32)
W2 = np.array([1.0, 0.5, 0.0, 2.0, 1.5], np.float32)  # sample 2 has weight 0

X3 = np.array(
    [[4, 0, 1], [1, 1, 4], [5, 3, 0], [0, 1, 2], [3, 2, 1], [0, 4, 4], [0, 0, 2], [2, 5, 3], [2, 2, 3], [3, 1, 4]],
    np.int64,
)
Y3 = np.array([1, 1, 1, 0, 0, 1, 1, 1, 1, 0], np.float32).reshape(-1, 1)
W3 = np.array([1.0, 2.0, 0.5, 1.0, 0.0, 1.5, 1.0, 3.0, 0.25, 2.0], np.float32)


def fixed_model(metrics=None):
    model = fastembed.Sequential(
        [layers.Embedding(6, 2), layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer=fastembed.optimizers.SGD(0.1), loss="binary_crossentropy", metrics=metrics)
    model.set_weights([EMB.copy(), KERNEL.copy(), BIAS.copy()])
    return model


def assert_weights(model, expected):
    got = model.get_weights()
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, np.asarray(e, np.float32).reshape(g.shape), **RTOL)


# Section 1 continued, on the fixed model with metrics=['accuracy'] (Keras run 2):
#   cb records self.params at on_train_begin / on_test_begin / on_predict_begin and the logs
#   of every batch end and epoch end;
#   model.fit(X3[:7], Y3[:7], batch_size=3, epochs=2, shuffle=False,
#             validation_data=(X3[7:], Y3[7:]), validation_batch_size=2, verbose=0, callbacks=[cb])
#   then model.evaluate(X3, Y3, batch_size=4, callbacks=[cb2]) and
#   model.predict(X3[:3], batch_size=2, callbacks=[cb3]) on the trained model.
# The batch logs hold the running mean over the epoch's (or evaluation's) batches so far.
KERAS_FIT_PARAMS = {"verbose": 0, "epochs": 2, "steps": 3}
KERAS_EVALUATE_PARAMS = {"verbose": 0, "epochs": 1, "steps": 3}
KERAS_PREDICT_PARAMS = {"verbose": 0, "epochs": 1, "steps": 2}
KERAS_FIT_LOGS = [
    ("train", 0, {"accuracy": 1.0, "loss": 0.6292333602905273}),
    ("train", 1, {"accuracy": 1.0, "loss": 0.6126347184181213}),
    ("train", 2, {"accuracy": 1.0, "loss": 0.6184144020080566}),
    ("test", 0, {"accuracy": 0.0, "loss": 0.76043701171875}),
    ("test", 1, {"accuracy": 0.0, "loss": 0.8039337992668152}),
    ("epoch", 0, {"accuracy": 1.0, "loss": 0.6184144020080566, "val_accuracy": 0.0, "val_loss": 0.8039337992668152}),
    ("train", 0, {"accuracy": 1.0, "loss": 0.582669734954834}),
    ("train", 1, {"accuracy": 0.6666666865348816, "loss": 0.596823513507843}),
    ("train", 2, {"accuracy": 0.7142857313156128, "loss": 0.5970771908760071}),
    ("test", 0, {"accuracy": 0.0, "loss": 0.7254636883735657}),
    ("test", 1, {"accuracy": 0.0, "loss": 0.7970419526100159}),
    (
        "epoch",
        1,
        {
            "accuracy": 0.7142857313156128,
            "loss": 0.5970771908760071,
            "val_accuracy": 0.0,
            "val_loss": 0.7970419526100159,
        },
    ),
]
KERAS_EVALUATE_LOGS = [
    ("test", 0, {"accuracy": 0.75, "loss": 0.5897274017333984}),
    ("test", 1, {"accuracy": 0.625, "loss": 0.5939755439758301}),
    ("test", 2, {"accuracy": 0.5, "loss": 0.6418923139572144}),
]
# on_predict_batch_end logs['outputs']: a NumPy array per batch, shapes (2, 1) then (1, 1).
KERAS_PREDICT_OUTPUTS = [[[0.6144960522651672], [0.5624378323554993]], [[0.5678838491439819]]]


class Logger(Callback):
    def __init__(self):
        super().__init__()
        self.rows, self.params_by_hook = [], {}

    def on_train_begin(self, logs=None):
        self.params_by_hook["fit"] = dict(self.params)

    def on_test_begin(self, logs=None):
        self.params_by_hook.setdefault("test", dict(self.params))

    def on_predict_begin(self, logs=None):
        self.params_by_hook["predict"] = dict(self.params)

    def on_train_batch_end(self, batch, logs=None):
        self.rows.append(("train", batch, dict(logs)))

    def on_test_batch_end(self, batch, logs=None):
        self.rows.append(("test", batch, dict(logs)))

    def on_epoch_end(self, epoch, logs=None):
        self.rows.append(("epoch", epoch, dict(logs)))

    def on_predict_batch_end(self, batch, logs=None):
        self.rows.append(("predict", batch, logs["outputs"]))


def assert_log_rows(rows, expected):
    assert [(kind, index, sorted(logs)) for kind, index, logs in rows] == [
        (kind, index, sorted(logs)) for kind, index, logs in expected
    ]
    for (kind, index, logs), (_, _, want) in zip(rows, expected):
        for key, value in want.items():
            assert logs[key] == pytest.approx(value, rel=1e-5, abs=1e-7), (kind, index, key)


def test_callback_params_and_batch_log_values_match_keras():
    model = fixed_model(["accuracy"])
    cb = Logger()
    model.fit(
        X3[:7],
        Y3[:7],
        batch_size=3,
        epochs=2,
        shuffle=False,
        validation_data=(X3[7:], Y3[7:]),
        validation_batch_size=2,
        verbose=0,
        callbacks=[cb],
    )
    assert cb.params_by_hook == {"fit": KERAS_FIT_PARAMS, "test": KERAS_FIT_PARAMS}
    assert_log_rows(cb.rows, KERAS_FIT_LOGS)

    cb = Logger()
    model.evaluate(X3, Y3, batch_size=4, verbose=0, callbacks=[cb])
    assert cb.params_by_hook == {"test": KERAS_EVALUATE_PARAMS}
    assert_log_rows(cb.rows, KERAS_EVALUATE_LOGS)

    cb = Logger()
    predictions = model.predict(X3[:3], batch_size=2, verbose=0, callbacks=[cb])
    assert cb.params_by_hook == {"predict": KERAS_PREDICT_PARAMS}
    assert [(kind, index) for kind, index, _ in cb.rows] == [("predict", 0), ("predict", 1)]
    for (_, _, outputs), want in zip(cb.rows, KERAS_PREDICT_OUTPUTS):
        assert isinstance(outputs, np.ndarray)
        assert outputs.shape == np.shape(want)
        np.testing.assert_allclose(outputs, want, **RTOL)
    np.testing.assert_allclose(predictions, np.concatenate(KERAS_PREDICT_OUTPUTS), **RTOL)


# -------------------------------------------------------------------------------------
# 2. sample_weight and class_weight
# -------------------------------------------------------------------------------------

# Keras run 1, fixed model (no metrics):
#   model.predict(X2)
KERAS_PREDICT_X2 = [0.47626784443855286, 0.5341135859489441, 0.46174156665802, 0.4708663523197174, 0.5675020217895508]
#   model.evaluate(X2, Y2, batch_size=5)
KERAS_EVAL_UNWEIGHTED = 0.6962727308273315
#   model.evaluate(X2, Y2, sample_weight=W2, batch_size=bs) for bs = 5, 2, 3: the same value
#   each time (Keras 3 divides each batch's weighted sum by the batch size and averages the
#   batches weighted by their size, so the result is sum(w * loss) / n).
KERAS_EVAL_WEIGHTED = {5: 0.6492953300476074, 2: 0.6492953300476074, 3: 0.6492953300476074}

#   loss = model.train_on_batch(X2, Y2, sample_weight=W2); model.get_weights()
#   (model.fit(X2, Y2, sample_weight=W2, batch_size=5, epochs=1, shuffle=False) gave the
#   same loss in history and the same weights)
KERAS_SW_STEP_LOSS = 0.6492953300476074
KERAS_SW_STEP_WEIGHTS = [
    [
        [0.09435898065567017, -0.19113554060459137],
        [0.30107685923576355, 0.3983078598976135],
        [-0.4975559115409851, 0.19615930318832397],
        [0.055471573024988174, -0.30859819054603577],
        [0.6017812490463257, -0.10279906541109085],
        [-0.25564101338386536, 0.3588644564151764],
    ],
    [[0.7018420696258545], [-1.1024945974349976]],
    [0.049273792654275894],
]
#   h = model.fit(X2, Y2, class_weight={0: 1.0, 1: 3.0}, batch_size=5, epochs=1, shuffle=False)
KERAS_CW_STEP_LOSS = 1.5286870002746582
KERAS_CW_STEP_WEIGHTS = [
    [
        [0.09531009197235107, -0.19263015687465668],
        [0.3111898601055145, 0.3824159502983093],
        [-0.4775965213775635, 0.16479451954364777],
        [0.06338722258806229, -0.32103708386421204],
        [0.6110981106758118, -0.11743981391191483],
        [-0.25468990206718445, 0.3573698401451111],
    ],
    [[0.70026695728302], [-1.0955326557159424]],
    [0.11956971883773804],
]


def test_fixed_weights_predict_match_keras():
    np.testing.assert_allclose(fixed_model().predict(X2).ravel(), KERAS_PREDICT_X2, **RTOL)


def test_unweighted_evaluate_loss_matches_keras():
    assert fixed_model().evaluate(X2, Y2, batch_size=5) == pytest.approx(KERAS_EVAL_UNWEIGHTED, rel=1e-5)


@pytest.mark.parametrize("batch_size", sorted(KERAS_EVAL_WEIGHTED))
def test_sample_weighted_evaluate_loss_matches_keras(batch_size):
    loss = fixed_model().evaluate(X2, Y2, sample_weight=W2, batch_size=batch_size)
    assert loss == pytest.approx(KERAS_EVAL_WEIGHTED[batch_size], rel=1e-5)


def test_sample_weighted_step_matches_keras_train_on_batch():
    # fastembed has no train_on_batch: one fit epoch over one batch of all samples, in
    # order, is the same single step.
    model = fixed_model()
    history = model.fit(X2, Y2, sample_weight=W2, batch_size=len(X2), epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(KERAS_SW_STEP_LOSS, rel=1e-5)
    assert_weights(model, KERAS_SW_STEP_WEIGHTS)


def test_class_weighted_step_matches_keras():
    model = fixed_model()
    history = model.fit(X2, Y2, class_weight={0: 1.0, 1: 3.0}, batch_size=len(X2), epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(KERAS_CW_STEP_LOSS, rel=1e-5)
    assert_weights(model, KERAS_CW_STEP_WEIGHTS)


# -------------------------------------------------------------------------------------
# 3. validation_split
# -------------------------------------------------------------------------------------

# Keras run 1: model.fit(X3, Y3, [sample_weight=W3,] validation_split=0.25, batch_size=4,
# epochs=2, shuffle=False, verbose=0, callbacks=[counter]) on a fresh fixed model, the
# counter counting on_train_batch_end / on_test_batch_end per epoch and keeping
# self.params. Keras trains on the first floor(10 * 0.75) = 7 samples (2 steps: 4 + 3) and
# validates on the last 3 (1 step); after training, model.evaluate(X3[7:], Y3[7:]
# [, sample_weight=W3[7:]]) equals the last val_loss, and evaluate on X3[8:] does not.
KERAS_SPLIT = {
    "plain": {
        "train_steps": [2, 2],
        "test_steps": [1, 1],
        "params": {"verbose": 0, "epochs": 2, "steps": 2},
        "loss": [0.6139507293701172, 0.6016284227371216],
        "val_loss": [0.8128802180290222, 0.812652587890625],
        "evaluate_tail7": 0.812652587890625,
        "evaluate_tail8": 0.8347955346107483,
        "weights": [
            [
                [0.12584874033927917, -0.23990653455257416],
                [0.3029290735721588, 0.39527711272239685],
                [-0.5058062076568604, 0.2090470939874649],
                [0.047839533537626266, -0.2967838943004608],
                [0.6221343278884888, -0.13429532945156097],
                [-0.24442267417907715, 0.3413023054599762],
            ],
            [[0.7260822057723999], [-1.1074355840682983]],
            [0.11842507869005203],
        ],
    },
    "sample_weight": {
        "train_steps": [2, 2],
        "test_steps": [1, 1],
        "params": {"verbose": 0, "epochs": 2, "steps": 2},
        "loss": [0.5986685156822205, 0.568209707736969],
        "val_loss": [1.4262863397598267, 1.4288530349731445],
        "evaluate_tail7": 1.4288530349731445,
        "evaluate_tail8": 1.0379416942596436,
        "weights": [
            [
                [0.1257593184709549, -0.2391299307346344],
                [0.32153213024139404, 0.3666257858276367],
                [-0.49813780188560486, 0.19736264646053314],
                [0.052780814468860626, -0.3043089210987091],
                [0.6331864595413208, -0.1508578062057495],
                [-0.24721919000148773, 0.34569108486175537],
            ],
            [[0.7394341230392456], [-1.1004523038864136]],
            [0.17262496054172516],
        ],
    },
}


class StepCounter(Callback):
    def __init__(self):
        super().__init__()
        self.train, self.test, self.params_seen = [], [], None

    def on_train_begin(self, logs=None):
        self.params_seen = dict(self.params)

    def on_epoch_begin(self, epoch, logs=None):
        self.train.append(0)
        self.test.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.train[-1] += 1

    def on_test_batch_end(self, batch, logs=None):
        self.test[-1] += 1


@pytest.mark.parametrize("case", sorted(KERAS_SPLIT))
def test_validation_split_matches_keras(case):
    want = KERAS_SPLIT[case]
    sw = W3 if case == "sample_weight" else None
    model = fixed_model()
    counter = StepCounter()
    history = model.fit(
        X3,
        Y3,
        sample_weight=sw,
        validation_split=0.25,
        batch_size=4,
        epochs=2,
        shuffle=False,
        verbose=0,
        callbacks=[counter],
    )
    assert counter.train == want["train_steps"]
    assert counter.test == want["test_steps"]
    assert counter.params_seen == want["params"]
    np.testing.assert_allclose(history.history["loss"], want["loss"], **RTOL)
    np.testing.assert_allclose(history.history["val_loss"], want["val_loss"], **RTOL)
    assert_weights(model, want["weights"])

    # The held-out part is the tail X3[7:]: its evaluate loss is the last val_loss.
    tail7 = {} if sw is None else {"sample_weight": sw[7:]}
    tail8 = {} if sw is None else {"sample_weight": sw[8:]}
    loss7 = model.evaluate(X3[7:], Y3[7:], batch_size=4, **tail7)
    loss8 = model.evaluate(X3[8:], Y3[8:], batch_size=4, **tail8)
    assert loss7 == pytest.approx(want["evaluate_tail7"], rel=1e-5)
    assert loss8 == pytest.approx(want["evaluate_tail8"], rel=1e-5)
    assert history.history["val_loss"][-1] == pytest.approx(loss7, rel=1e-6)
    assert loss8 != pytest.approx(loss7, rel=1e-3)


# Keras run 2, fresh fixed model:
#   model.fit(X3, Y3, class_weight={0: 1.0, 1: 3.0}, validation_split=0.25, batch_size=4,
#             epochs=1, shuffle=False): class weights apply to the training part only; the
#   val_loss equals the unweighted model.evaluate(X3[7:], Y3[7:]).
KERAS_CW_SPLIT = {"loss": 1.4451693296432495, "val_loss": 0.7998788952827454, "evaluate_tail7": 0.7998788952827454}
#   model.fit(X3[:7], Y3[:7], validation_data=(X3[7:], Y3[7:], [0.0, 2.0, 1.0]), batch_size=7,
#             epochs=1, shuffle=False): the validation sample weights are used.
KERAS_VD3 = {"loss": 0.6157620549201965, "val_loss": 0.814450740814209}
VD3_WEIGHTS = np.array([0.0, 2.0, 1.0], np.float32)


def test_class_weight_with_validation_split_matches_keras():
    model = fixed_model()
    history = model.fit(
        X3, Y3, class_weight={0: 1.0, 1: 3.0}, validation_split=0.25, batch_size=4, epochs=1, shuffle=False, verbose=0
    )
    assert history.history["loss"][0] == pytest.approx(KERAS_CW_SPLIT["loss"], rel=1e-5)
    assert history.history["val_loss"][0] == pytest.approx(KERAS_CW_SPLIT["val_loss"], rel=1e-5)
    assert model.evaluate(X3[7:], Y3[7:], batch_size=4) == pytest.approx(KERAS_CW_SPLIT["evaluate_tail7"], rel=1e-5)


def test_weighted_validation_data_matches_keras():
    model = fixed_model()
    history = model.fit(
        X3[:7], Y3[:7], validation_data=(X3[7:], Y3[7:], VD3_WEIGHTS), batch_size=7, epochs=1, shuffle=False, verbose=0
    )
    assert history.history["loss"][0] == pytest.approx(KERAS_VD3["loss"], rel=1e-5)
    assert history.history["val_loss"][0] == pytest.approx(KERAS_VD3["val_loss"], rel=1e-5)
    assert model.evaluate(X3[7:], Y3[7:], sample_weight=VD3_WEIGHTS) == pytest.approx(KERAS_VD3["val_loss"], rel=1e-5)
