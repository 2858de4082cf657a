"""Keras' semantics for embedding tables, pinned by values written down from Keras 3.15.1
on TensorFlow 2.21 (a throwaway virtualenv; Keras is never a dependency): the
per-occurrence second moment of repeated ids and every row moving every step (issue 13).

Recorded with the scripts in the comments; floats printed by ``ndarray.tolist()``.
"""

import numpy as np
import pytest

import fastembed
from fastembed import layers, optimizers

# A. Embedding(5, 2) -> GlobalAveragePooling1D -> Dense(1), mse, one sample whose ids 1, 2
# and 3 occur 1, 4 and 16 times; two train_on_batch calls. Keras:
#   m.layers[0].set_weights([E]); m.layers[2].set_weights([W, zeros(1)])
#   m.compile(optimizer=OPT, loss="mse"); m.train_on_batch(x, y); m.train_on_batch(x, y)
A_EMBEDDINGS = np.array([[0.1, -0.2], [0.3, 0.05], [-0.1, 0.2], [0.25, -0.15], [0.05, 0.1]], np.float32)
A_KERNEL = np.array([[0.5], [-0.3]], np.float32)
A_IDS = np.array([[1, 2, 2, 2, 2] + [3] * 16])
A_OPTIMIZERS = {  # Keras: Adam(1e-3), RMSprop(1e-3), Adagrad(1e-2), SGD(1e-2, momentum=0.9)
    "adam": lambda **kw: optimizers.Adam(1e-3, **kw),
    "rmsprop": lambda **kw: optimizers.RMSprop(1e-3, **kw),
    "adagrad": lambda **kw: optimizers.Adagrad(1e-2, **kw),
    "sgd": lambda **kw: optimizers.SGD(1e-2, momentum=0.9, **kw),
}
KERAS_A = {
    "adam": [
        [0.10000000149011612, -0.20000000298023224],
        [0.3019998073577881, 0.048000264912843704],
        [-0.0960002988576889, 0.19600032269954681],
        [0.2579995095729828, -0.15799959003925323],
        [0.05000000074505806, 0.10000000149011612],
    ],
    "rmsprop": [
        [0.10000000149011612, -0.20000000298023224],
        [0.30544617772102356, 0.044551484286785126],
        [-0.08910585194826126, 0.1890978366136551],
        [0.27178955078125, -0.1718069612979889],
        [0.05000000074505806, 0.10000000149011612],
    ],
    "adagrad": [
        [0.10000000149011612, -0.20000000298023224],
        [0.30261629819869995, 0.04841848462820053],
        [-0.08991310745477676, 0.19376100599765778],
        [0.2856874465942383, -0.17370572686195374],
        [0.05000000074505806, 0.10000000149011612],
    ],
    "sgd": [
        [0.10000000149011612, -0.20000000298023224],
        [0.3012143075466156, 0.049271970987319946],
        [-0.09514282643795013, 0.19708788394927979],
        [0.26942870020866394, -0.1616484671831131],
        [0.05000000074505806, 0.10000000149011612],
    ],
}

# B. Embedding(8, 3, mask_zero=True) -> GlobalAveragePooling1D -> Dense(4, relu) ->
# Dense(3, softmax), sparse_categorical_crossentropy, initial weights below (biases zero),
#   m.fit(B_IDS, B_LABELS, batch_size=2, epochs=2, shuffle=False)
# Ids repeat inside bags (1, 1 / 5, 5, 5 / 2, 2), and rows 3 and 4 are only in the first
# of the three batches: every later step moves them in Keras, on their momentum alone.
B_IDS = np.array([[1, 1, 2, 0], [3, 4, 0, 0], [5, 5, 5, 6], [6, 0, 0, 0], [7, 1, 0, 0], [2, 2, 0, 0]])
B_LABELS = np.array([0, 1, 2, 1, 0, 2])
B_EMBEDDINGS = np.array(
    [
        [0.012509546242654324, 0.03972138091921806, 0.027568569406867027],
        [-0.027479281648993492, -0.01998337171971798, 0.037355344742536545],
        [-0.04947346821427345, 0.03212284296751022, 0.029706943780183792],
        [-0.0032065047416836023, -0.019696757197380066, -0.022157438099384308],
        [-0.024513041600584984, -0.005492369644343853, 0.00045482590212486684],
        [0.005349735263735056, 0.049550026655197144, 0.02926619164645672],
        [0.012217923067510128, 0.04889601469039917, -0.028469130396842957],
        [-0.03397879749536514, 0.0112539604306221, -0.04560580104589462],
    ],
    np.float32,
)
B_KERNEL_1 = np.array(
    [
        [-0.46431973576545715, 0.014888820238411427, -0.03379397466778755, 0.4171677827835083],
        [0.12922625243663788, 0.014117646962404251, -0.0031265646684914827, -0.252485066652298],
        [-0.4882059693336487, -0.3075978457927704, 0.1920321136713028, -0.29939326643943787],
    ],
    np.float32,
)
B_KERNEL_2 = np.array(
    [
        [-0.13046368956565857, -0.4962657690048218, 0.33004772663116455],
        [-0.3455389142036438, -0.23240070044994354, 0.3803321421146393],
        [0.009790809825062752, 0.3471502363681793, 0.13971716165542603],
        [0.24177095293998718, -0.4085043966770172, 0.04114381968975067],
    ],
    np.float32,
)
B_OPTIMIZERS = {  # Keras: Adam(0.05), RMSprop(0.01), SGD(0.1, momentum=0.9)
    "adam": lambda **kw: optimizers.Adam(0.05, **kw),
    "rmsprop": lambda **kw: optimizers.RMSprop(0.01, **kw),
    "sgd": lambda **kw: optimizers.SGD(0.1, momentum=0.9, **kw),
}
KERAS_B = {
    "adam": [
        [0.012509546242654324, 0.03972138091921806, 0.027568569406867027],
        [0.20385929942131042, 0.20572708547115326, -0.19446885585784912],
        [0.11393553763628006, 0.18997138738632202, -0.13418708741664886],
        [0.1607210338115692, 0.14424775540828705, 0.14183472096920013],
        [0.13941450417041779, 0.15845215320587158, 0.16444699466228485],
        [0.005349735263735056, 0.049550026655197144, 0.02926619164645672],
        [0.012217923067510128, 0.04889601469039917, -0.028469130396842957],
        [-0.03397879749536514, 0.0112539604306221, -0.04560580104589462],
    ],
    "rmsprop": [
        [0.012509546242654324, 0.03972138091921806, 0.027568569406867027],
        [0.007353430613875389, -0.014878524467349052, -0.006923668086528778],
        [-0.028607260435819626, 0.03468362241983414, -0.0012993644922971725],
        [0.028128856793045998, 0.011759534478187561, 0.009463343769311905],
        [0.0068223197013139725, 0.0259639210999012, 0.032075606286525726],
        [0.005349735263735056, 0.049550026655197144, 0.02926619164645672],
        [0.012217923067510128, 0.04889601469039917, -0.028469130396842957],
        [-0.03397879749536514, 0.0112539604306221, -0.04560580104589462],
    ],
    "sgd": [
        [0.012509546242654324, 0.03972138091921806, 0.027568569406867027],
        [-0.026656346395611763, -0.019907234236598015, 0.032679054886102676],
        [-0.04906199499964714, 0.032160915434360504, 0.027368798851966858],
        [0.0002450881584081799, -0.015148508362472057, 0.019575711339712143],
        [-0.021061448380351067, -0.0009441202273592353, 0.042187973856925964],
        [0.005349735263735056, 0.049550026655197144, 0.02926619164645672],
        [0.011728910729289055, 0.04843248054385185, -0.018447544425725937],
        [-0.03397879749536514, 0.0112539604306221, -0.04560580104589462],
    ],
}


def _model_a(optimizer):
    model = fastembed.Sequential([layers.Embedding(5, 2), layers.GlobalAveragePooling1D(), layers.Dense(1)])
    model.compile(optimizer, "mse")
    model.build((None, A_IDS.shape[1]))
    model.set_weights([A_EMBEDDINGS, A_KERNEL, np.zeros(1, np.float32)])
    return model


def _train_a(optimizer):
    model = _model_a(optimizer)
    model.fit(
        np.repeat(A_IDS, 2, axis=0), np.ones((2, 1), np.float32), batch_size=1, epochs=1, shuffle=False, verbose=0
    )
    return model.get_weights()[0]


@pytest.mark.parametrize("name", sorted(KERAS_A))
@pytest.mark.parametrize("updates", ["dense", "lazy"])
def test_repeated_ids_move_as_in_keras(name, updates, num_threads):
    """Every id of this batch is in every step, so dense and lazy agree here; the
    second moment takes each occurrence's square."""
    got = _train_a(A_OPTIMIZERS[name](embedding_updates=updates))
    np.testing.assert_allclose(got, KERAS_A[name], rtol=2e-5, atol=1e-7)


def test_frequent_ids_take_sqrt_n_larger_adam_steps():
    """The issue's observation: with lr 1e-3 one Adam step moves ids seen 1, 4 and 16
    times by 1e-3, 2e-3 and 4e-3 in Keras (and here); the summed rule moves each 1e-3."""
    moved = np.abs(_train_a(optimizers.Adam(1e-3)) - A_EMBEDDINGS)[1:4, 0] / 2  # per step
    np.testing.assert_allclose(moved, [1e-3, 2e-3, 4e-3], rtol=1e-3)
    summed = np.abs(_train_a(optimizers.Adam(1e-3, repeated_ids="summed")) - A_EMBEDDINGS)[1:4, 0] / 2
    np.testing.assert_allclose(summed, [1e-3, 1e-3, 1e-3], rtol=1e-3)
    for name in ("rmsprop", "adagrad"):
        assert not np.allclose(_train_a(A_OPTIMIZERS[name](repeated_ids="summed")), KERAS_A[name], rtol=1e-3)


def _train_b(optimizer):
    model = fastembed.Sequential(
        [
            layers.Embedding(8, 3, mask_zero=True),
            layers.GlobalAveragePooling1D(),
            layers.Dense(4, activation="relu"),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer, "sparse_categorical_crossentropy")
    model.build((None, 4))
    model.set_weights([B_EMBEDDINGS, B_KERNEL_1, np.zeros(4, np.float32), B_KERNEL_2, np.zeros(3, np.float32)])
    model.fit(B_IDS, B_LABELS, batch_size=2, epochs=2, shuffle=False, verbose=0)
    return model.get_weights()[0]


@pytest.mark.parametrize("name", sorted(KERAS_B))
@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "layers"])
def test_rows_missing_from_batches_move_as_in_keras(name, compiled, num_threads, monkeypatch):
    """Keras moves rows 3 and 4 in all six steps though only the first batch holds them:
    the compiled loop catches the skipped steps up before the rows are read again and at
    the end of each epoch; the layer path updates the whole table each step."""
    from fastembed.engine import _plan

    monkeypatch.setattr(_plan, "COMPILED", compiled)
    got = _train_b(B_OPTIMIZERS[name]())
    np.testing.assert_allclose(got, KERAS_B[name], rtol=1e-4, atol=1e-6)
    lazy = _train_b(B_OPTIMIZERS[name](embedding_updates="lazy"))
    if name != "rmsprop":  # RMSprop without momentum: a skipped step moves nothing
        assert not np.allclose(lazy[3:5], KERAS_B[name][3:5], rtol=1e-3, atol=1e-5)


def test_update_options_are_saved_and_the_01_name_still_loads(tmp_path):
    optimizer = optimizers.get({"class_name": "Adam", "config": {"learning_rate": 1e-3, "lazy_embeddings": True}})
    assert optimizer.embedding_updates == "lazy" and optimizer.repeated_ids == "per_occurrence"
    assert optimizers.Adam(lazy_embeddings=False).embedding_updates == "dense"
    with pytest.raises(ValueError, match="embedding_updates must be one of"):
        optimizers.Adam(embedding_updates="sometimes")
    with pytest.raises(ValueError, match="repeated_ids must be one of"):
        optimizers.RMSprop(repeated_ids="twice")
    model = _model_a(optimizers.Adam(embedding_updates="lazy", repeated_ids="summed"))
    model.save(str(tmp_path / "m.npz"))
    loaded = fastembed.load_model(str(tmp_path / "m.npz"))
    assert (loaded.optimizer.embedding_updates, loaded.optimizer.repeated_ids) == ("lazy", "summed")
    assert optimizers.Adam().get_config()["embedding_updates"] == "dense"


def test_training_continued_after_load_equals_uninterrupted(tmp_path):
    """Every row is brought up to date at the end of an epoch and of fit, so a model
    saved there and loaded continues exactly as one that was never saved."""
    uninterrupted = _model_b_fit(epochs=4)
    model = _model_b_fit(epochs=2)
    model.save(str(tmp_path / "m.npz"))
    loaded = fastembed.load_model(str(tmp_path / "m.npz"))
    loaded.fit(B_IDS, B_LABELS, batch_size=2, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(loaded.get_weights(), uninterrupted.get_weights()):
        np.testing.assert_array_equal(a, b)


def _model_b_fit(epochs):
    model = fastembed.Sequential(
        [
            layers.Embedding(8, 3, mask_zero=True),
            layers.GlobalAveragePooling1D(),
            layers.Dense(4, activation="relu"),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    model.build((None, 4))
    model.set_weights([B_EMBEDDINGS, B_KERNEL_1, np.zeros(4, np.float32), B_KERNEL_2, np.zeros(3, np.float32)])
    model.fit(B_IDS, B_LABELS, batch_size=2, epochs=epochs, shuffle=False, verbose=0)
    return model
