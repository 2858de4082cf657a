"""Finite-difference gradient checks (float64) for every activation, loss and layer."""

import numpy as np
import pytest

import fastembed
from fastembed import activations, layers, losses


def numeric_grad(f, x, eps=1e-6):
    """Central differences of the scalar f() w.r.t. every element of x (modified in place)."""
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        saved = x[index]
        x[index] = saved + eps
        up = f()
        x[index] = saved - eps
        down = f()
        x[index] = saved
        grad[index] = (up - down) / (2 * eps)
    return grad


def to_float64(layer):
    for name in layer.weight_names:
        setattr(layer, name, getattr(layer, name).astype(np.float64))


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "linear"])
def test_activation_gradients(rng, name):
    act = activations.get(name)
    x = rng.standard_normal((4, 5))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from relu's kink
    upstream = rng.standard_normal((4, 5))
    analytic = act.backward(x, act.forward(x), upstream)
    np.testing.assert_allclose(
        analytic, numeric_grad(lambda: float((act.forward(x) * upstream).sum()), x), rtol=1e-6, atol=1e-8
    )


@pytest.mark.parametrize(
    "loss_name,make_pred",
    [
        ("binary_crossentropy", lambda rng: rng.uniform(0.05, 0.95, (6, 1))),
        ("categorical_crossentropy", lambda rng: rng.dirichlet(np.ones(4), 6)),
        ("sparse_categorical_crossentropy", lambda rng: rng.dirichlet(np.ones(4), 6)),
        ("mse", lambda rng: rng.standard_normal((6, 2))),
    ],
)
def test_loss_gradients(rng, loss_name, make_pred):
    loss = losses.get(loss_name)
    pred = make_pred(rng)
    if loss_name == "binary_crossentropy":
        y = rng.integers(0, 2, (6, 1)).astype(float)
    elif loss_name == "categorical_crossentropy":
        y = np.eye(4)[rng.integers(0, 4, 6)]
    elif loss_name == "sparse_categorical_crossentropy":
        y = rng.integers(0, 4, 6)
    else:
        y = rng.standard_normal((6, 2))
    value, grad = loss.value_and_grad(y, pred)
    np.testing.assert_allclose(grad, numeric_grad(lambda: loss.value_and_grad(y, pred)[0], pred), rtol=1e-5, atol=1e-8)
    if loss.fuses_with:
        logits = rng.standard_normal(pred.shape) * 3
        _, grad = loss.from_logits_value_and_grad(y, logits)
        np.testing.assert_allclose(
            grad, numeric_grad(lambda: loss.from_logits_value_and_grad(y, logits)[0], logits), rtol=1e-5, atol=1e-8
        )
        # the fused value equals the loss of the activated logits
        probs = activations.get(loss.fuses_with).forward(logits)
        assert loss.from_logits_value_and_grad(y, logits)[0] == pytest.approx(
            loss.value_and_grad(y, probs)[0], rel=1e-6
        )


def test_fused_binary_crossentropy_is_stable_for_huge_logits():
    loss = losses.get("binary_crossentropy")
    value, grad = loss.from_logits_value_and_grad(np.array([[1.0], [0.0]]), np.array([[-800.0], [800.0]]))
    assert value == pytest.approx(800.0) and np.all(np.isfinite(grad))


def _check_layer(layer, x, rng, mask=None):
    """Compare backward() with finite differences for the input and every weight."""
    out = layer.forward(x, mask=mask, training=True)
    upstream = rng.standard_normal(out.shape)
    grad_x = layer.backward(upstream)

    def loss():
        return float((layer.forward(x, mask=mask, training=False) * upstream).sum())

    if grad_x is not None and np.issubdtype(x.dtype, np.floating):
        np.testing.assert_allclose(grad_x, numeric_grad(loss, x), rtol=1e-6, atol=1e-8)
    for weight, grad in zip(layer.weights, layer.grads):
        np.testing.assert_allclose(grad, numeric_grad(loss, weight), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "softmax", None])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_gradients(rng, activation, use_bias):
    layer = layers.Dense(3, activation=activation, use_bias=use_bias, kernel_regularizer=None)
    layer.build((None, 4))
    to_float64(layer)
    _check_layer(layer, rng.standard_normal((5, 4)), rng)


def test_dense_on_3d_input_and_l2(rng):
    layer = layers.Dense(2, activation="tanh", kernel_regularizer=fastembed.regularizers.l2(0.1))
    layer.build((None, 3, 4))
    to_float64(layer)
    x = rng.standard_normal((2, 3, 4))
    out = layer.forward(x, training=True)
    upstream = rng.standard_normal(out.shape)
    layer.backward(upstream)

    def loss():
        return float((layer.forward(x) * upstream).sum()) + layer.regularization_loss()

    np.testing.assert_allclose(layer.grads[0], numeric_grad(loss, layer.kernel), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cls", [layers.GlobalAveragePooling1D, layers.GlobalMaxPooling1D])
@pytest.mark.parametrize("masked", [False, True])
def test_global_pooling_gradients(rng, cls, masked):
    x = rng.standard_normal((4, 6, 3))
    mask = None
    if masked:
        mask = rng.random((4, 6)) > 0.4
        mask[0] = False  # a fully masked row
        mask[1] = True
    layer = cls()
    layer.build((None, 6, 3))
    if masked and cls is layers.GlobalMaxPooling1D:
        # Keras 3.15's GlobalMaxPooling1D does not support masking: it warns and pools
        # every step (recorded: Embedding(3, 2, mask_zero=True) -> GlobalMaxPooling1D on
        # [[1, 2, 0]] with row 0 = (9, 9) gives (9, 9)).
        with pytest.warns(UserWarning, match="does not support masking"):
            out = layer.forward(x, mask=mask, training=True)
        np.testing.assert_array_equal(out, x.max(axis=1))
        mask = None
    else:
        out = layer.forward(x, mask=mask, training=True)
    if masked and mask is not None:
        assert np.all(out[0] == 0) and np.all(np.isfinite(out))
    _check_layer(layer, x, rng, mask=mask)


def test_global_average_pooling_matches_keras_masked_mean(rng):
    x = rng.standard_normal((2, 4, 3))
    mask = np.array([[True, True, False, False], [True, False, False, False]])
    out = layers.GlobalAveragePooling1D().forward(x, mask=mask)
    np.testing.assert_allclose(out[0], x[0, :2].mean(axis=0))
    np.testing.assert_allclose(out[1], x[1, 0])


def test_embedding_gradient_is_sparse_and_correct(rng):
    layer = layers.Embedding(10, 3)
    layer.build()
    to_float64(layer)
    ids = np.array([[1, 4, 4], [9, 0, 1]])
    out = layer.forward(ids, training=True)
    upstream = rng.standard_normal(out.shape)
    layer.backward(upstream)
    rows = layer.sparse_grad
    np.testing.assert_array_equal(rows.indices, [0, 1, 4, 9])
    numeric = numeric_grad(lambda: float((layer.forward(ids) * upstream).sum()), layer.embeddings)
    np.testing.assert_allclose(rows.to_dense(), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cls,kwargs", [(layers.Flatten, {}), (layers.Activation, {"activation": "tanh"})])
def test_shape_and_activation_layers(rng, cls, kwargs):
    layer = cls(**kwargs)
    layer.build((None, 3, 2))
    _check_layer(layer, rng.standard_normal((4, 3, 2)), rng)


def test_dropout_scales_and_backpropagates_through_its_mask(rng):
    fastembed.set_random_seed(3)
    layer = layers.Dropout(0.5)
    x = np.ones((200, 50))
    out = layer.forward(x, training=True)
    kept = out != 0
    assert 0.4 < kept.mean() < 0.6 and np.allclose(out[kept], 2.0)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), out)
    np.testing.assert_array_equal(layer.forward(x, training=False), x)


def test_initializers_by_name_and_object_are_seeded():
    from fastembed import initializers

    fastembed.set_random_seed(5)
    a = initializers.get("glorot_uniform")((30, 20))
    fastembed.set_random_seed(5)
    b = initializers.get("glorot_uniform")((30, 20))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a).max() <= np.sqrt(6 / 50) and a.dtype == np.float32
    c = initializers.RandomUniform(-0.05, 0.05, seed=1)((100, 10))
    assert np.abs(c).max() <= 0.05
    np.testing.assert_array_equal(c, initializers.RandomUniform(-0.05, 0.05, seed=1)((100, 10)))
    assert np.all(initializers.get("zeros")((3,)) == 0)
    with pytest.raises(ValueError, match="unknown initializer"):
        initializers.get("gaussian_blur")
