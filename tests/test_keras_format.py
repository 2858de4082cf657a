"""Model exchange with Keras 3 (issue 14): ``.keras`` files both ways.

tests/data/keras_3.15_tutorial.keras was written by Keras 3.15.1 / TF 2.21:

    m = keras.Sequential([keras.Input((4,), dtype="int32"),
                          keras.layers.Embedding(20, 3, mask_zero=True, name="embedding"),
                          keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(2, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    m.fit(np.array([[1, 2, 3, 0]] * 4), np.array([1., 0, 1, 0]), verbose=0); m.save(...)
    m.predict(np.array([[1, 2, 3, 0], [4, 5, 0, 0]]))  ->  [0.4998075, 0.5066506]
"""

import json
import os
import subprocess
import zipfile

import numpy as np
import pytest

import fastembed
from fastembed import layers

pytest.importorskip("h5py")

KERAS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "keras_3.15_tutorial.keras")
X = np.array([[1, 2, 3, 0], [4, 5, 0, 0]])


def test_a_file_written_by_keras_loads_and_predicts_as_keras():
    model = fastembed.load_model(KERAS_FILE)
    assert [type(layer).__name__ for layer in model.layers] == ["Embedding", "GlobalAveragePooling1D", "Dense", "Dense"]
    assert model.get_layer("embedding").mask_zero
    np.testing.assert_allclose(model.predict(X)[:, 0], [0.4998075, 0.5066506], rtol=1e-6)
    assert type(model.optimizer).__name__ == "Adam" and model.loss.name == "binary_crossentropy"
    model.fit(X, np.array([1.0, 0.0], np.float32), verbose=0)  # and it trains on


def _trained(rng):
    fastembed.set_random_seed(0)
    model = fastembed.Sequential(
        [
            layers.Embedding(30, 4, mask_zero=True),
            layers.GlobalMaxPooling1D(),
            layers.Dense(5, activation="tanh"),
            layers.Dropout(0.1),
            layers.Dense(3),
            layers.Activation("softmax"),
        ]
    )
    model.compile(fastembed.optimizers.RMSprop(0.01), "sparse_categorical_crossentropy", ["accuracy"])
    x = rng.integers(0, 30, size=(40, 6))
    model.fit(x, rng.integers(0, 3, size=40), epochs=2, verbose=0)
    return model, x


def test_save_keras_round_trips(rng, tmp_path):
    model, x = _trained(rng)
    path = str(tmp_path / "model.keras")
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert set(archive.namelist()) == {"metadata.json", "config.json", "model.weights.h5"}
        config = json.loads(archive.read("config.json"))
    assert config["class_name"] == "Sequential" and config["compile_config"]["optimizer"]["class_name"] == "RMSprop"
    loaded = fastembed.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.optimizer.learning_rate == pytest.approx(0.01)


@pytest.mark.skipif(
    not os.environ.get("FASTEMBED_KERAS_PYTHON"),
    reason="set FASTEMBED_KERAS_PYTHON to a Python with Keras 3 (a throwaway virtualenv)",
)
def test_keras_loads_a_file_written_here(rng, tmp_path):
    model, x = _trained(rng)
    model.save(str(tmp_path / "model.keras"))
    np.save(tmp_path / "x.npy", x)
    script = (
        "import numpy as np, keras, sys; m = keras.saving.load_model(sys.argv[1]); "
        "np.save(sys.argv[2], m.predict(np.load(sys.argv[3]), verbose=0))"
    )
    result = subprocess.run(
        [
            os.environ["FASTEMBED_KERAS_PYTHON"],
            "-c",
            script,
            str(tmp_path / "model.keras"),
            str(tmp_path / "out.npy"),
            str(tmp_path / "x.npy"),
        ],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), model.predict(x), rtol=1e-5, atol=1e-7)


def test_layers_without_a_keras_form_are_refused(tmp_path):
    bag = fastembed.Sequential([layers.EmbeddingBag(10, 2), layers.Dense(1)])
    bag.build()
    with pytest.raises(ValueError, match="has no Keras form here"):
        bag.save(str(tmp_path / "bag.keras"))
    assert not os.path.exists(tmp_path / "bag.keras")
    vectorize = layers.TextVectorization(output_sequence_length=3).adapt(["a b"])
    text = fastembed.Sequential([vectorize, layers.Embedding(5, 2), layers.GlobalAveragePooling1D(), layers.Dense(1)])
    text.build()
    with pytest.raises(ValueError, match="TextVectorization"):
        text.save(str(tmp_path / "text.keras"))


def _rewritten(tmp_path, change):
    with zipfile.ZipFile(KERAS_FILE) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(parts["config.json"])
    change(config)
    parts["config.json"] = json.dumps(config).encode()
    path = str(tmp_path / "changed.keras")
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def test_damaged_keras_files_are_value_errors(tmp_path):
    def conv(config):
        config["config"]["layers"][2]["class_name"] = "Conv1D"

    def wider(config):
        config["config"]["layers"][1]["config"]["output_dim"] = 4

    with pytest.raises(ValueError, match="Conv1D has no fastembed form"):
        fastembed.load_model(_rewritten(tmp_path, conv))
    with pytest.raises(ValueError, match=r"variable 0 is \(20, 3\) in the file but \(20, 4\)"):
        fastembed.load_model(_rewritten(tmp_path, wider))
