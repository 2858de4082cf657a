"""layers.TextVectorization (issue 14): Keras' output modes, pinned by values written
down from Keras 3.15.1 / TF 2.21 in a throwaway virtualenv:

    tv = keras.layers.TextVectorization(max_tokens=MT, output_mode=MODE); tv.adapt(TEXTS)
    tv.get_vocabulary(); tv(["the cat is here the", "zebra"])
"""

import numpy as np
import pytest

import fastembed
from fastembed import layers
from fastembed.text import register_text_function

TEXTS = ["the cat sat", "the dog sat down", "a cat and a dog", "the the end"]
QUERY = ["the cat is here the", "zebra"]
KERAS_VOCABULARY = {
    None: ["[UNK]", "the", "sat", "dog", "cat", "a", "end", "down", "and"],
    5: ["[UNK]", "the", "sat", "dog", "cat"],
}
KERAS_OUTPUT = {
    ("multi_hot", None): [[1, 1, 0, 0, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0]],
    ("multi_hot", 5): [[1, 1, 0, 0, 1], [1, 0, 0, 0, 0]],
    ("count", None): [[2, 2, 0, 0, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0]],
    ("count", 5): [[2, 2, 0, 0, 1], [1, 0, 0, 0, 0]],
    ("tf_idf", None): [
        [1.907371997833252, 1.3862940073013306, 0, 0, 0.8472980260848999, 0, 0, 0, 0],
        [0.953685998916626, 0, 0, 0, 0, 0, 0, 0, 0],
    ],
    ("tf_idf", 5): [
        [1.6175199747085571, 1.3862940073013306, 0, 0, 0.8472980260848999],
        [0.8087599873542786, 0, 0, 0, 0],
    ],
}


@pytest.mark.parametrize("mode,max_tokens", sorted(KERAS_OUTPUT, key=str))
def test_bag_of_words_modes_match_keras(mode, max_tokens, tmp_path):
    layer = layers.TextVectorization(max_tokens=max_tokens, output_mode=mode)
    layer.adapt(TEXTS)
    assert layer.get_vocabulary() == KERAS_VOCABULARY[max_tokens]
    np.testing.assert_allclose(layer(QUERY), KERAS_OUTPUT[(mode, max_tokens)], rtol=1e-6)
    # Saved in a model's configuration and rebuilt from it.
    model = fastembed.Sequential([layer, layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    model.fit(TEXTS, np.array([1, 0, 1, 0], np.float32), verbose=0)
    model.save(str(tmp_path / "m.npz"))
    again = fastembed.load_model(str(tmp_path / "m.npz"))
    np.testing.assert_allclose(again.layers[0](QUERY), KERAS_OUTPUT[(mode, max_tokens)], rtol=1e-6)
    np.testing.assert_array_equal(again.predict(QUERY), model.predict(QUERY))


def test_pad_to_max_tokens_and_int_mode_with_ngrams():
    layer = layers.TextVectorization(max_tokens=8, output_mode="multi_hot", pad_to_max_tokens=True)
    layer.adapt(TEXTS)
    assert layer(["the cat"]).tolist() == [[0, 1, 0, 0, 1, 0, 0, 0]]  # Keras 3.15
    bigrams = layers.TextVectorization(ngrams=2)
    bigrams.adapt(TEXTS)
    assert bigrams.get_vocabulary()[:6] == ["", "[UNK]", "the", "sat", "dog", "cat"]  # Keras 3.15


def test_fixed_vocabulary_and_idf_weights():
    layer = layers.TextVectorization(output_mode="tf_idf", vocabulary=["the", "cat"], idf_weights=[0.5, 2.0])
    np.testing.assert_allclose(layer(["the cat cat zebra"]), [[1.25, 0.5, 4.0]])  # OOV weight: their mean
    with pytest.raises(ValueError, match="needs idf_weights"):
        layers.TextVectorization(output_mode="tf_idf", vocabulary=["a"])
    with pytest.raises(ValueError, match="output_mode must be one of"):
        layers.TextVectorization(output_mode="binary")
    with pytest.raises(ValueError, match="output_sequence_length is for output_mode='int'"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)


def test_callable_standardize_is_saved_by_registered_name(tmp_path):
    def no_vowels(text):
        return "".join(c for c in text.lower() if c not in "aeiou")

    layer = layers.TextVectorization(standardize=no_vowels, output_sequence_length=3)
    layer.adapt(["Banana bread", "Apple pie"])
    assert "bnn" in layer.get_vocabulary()
    model = fastembed.Sequential([layer, layers.Embedding(10, 2), layers.GlobalAveragePooling1D(), layers.Dense(1)])
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="unregistered callable"):
        model.save(str(tmp_path / "m.npz"))
    register_text_function(no_vowels, name="no_vowels_test")
    model.save(str(tmp_path / "m.npz"))
    loaded = fastembed.load_model(str(tmp_path / "m.npz"))
    np.testing.assert_array_equal(loaded.layers[0](["banana"]), layer(["banana"]))
    from fastembed.text import layer as layer_module

    del layer_module._REGISTERED["no_vowels_test"]
    with pytest.raises(ValueError, match="has not registered"):
        fastembed.load_model(str(tmp_path / "m.npz"))
