"""Keras 3's ``.keras`` files: a zip of ``config.json`` (the model as Keras serialises it),
``metadata.json`` and ``model.weights.h5`` (each layer's variables under
``layers/<name>/vars/<i>``). ``Sequential.save("x.keras")`` writes one that
``keras.saving.load_model`` reads; :func:`load_keras` reads one back (Keras' own too).

The HDF5 part needs ``h5py`` (``pip install "cyembed[keras]"``); fastembed's native
``.npz`` format needs nothing. Layers that round-trip: Embedding (``mask_zero``), Dense
(activation, bias), GlobalAveragePooling1D, GlobalMaxPooling1D, Dropout, Flatten,
Activation; the optimizer's hyper-parameters, the loss and the metrics (not the
optimizer's state: Keras skips it with a warning).
"""

import json
import os
import tempfile
import time
import zipfile

import numpy as np

from .. import layers as layers_module
from .._files import atomic_write
from .._version import __version__

KERAS_VERSION = "3.15.1"  # the version whose files were checked (tests/test_keras_format.py)
# Bounds checked before anything is read: a config is kilobytes, weights what the zip holds.
_MAX_CONFIG_BYTES = 16 << 20
_MAX_COMPRESSION_RATIO = 100


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError(
            'reading and writing .keras files needs h5py: pip install h5py (or "cyembed[keras]"); '
            "fastembed's own .npz format needs nothing"
        ) from None
    return h5py


def _serialized(module, class_name, config, build_shape=None):
    item = {"module": module, "class_name": class_name, "config": config, "registered_name": None}
    if build_shape is not None:
        item["build_config"] = {"input_shape": list(build_shape)}
    return item


def _state_names(layers):
    """The HDF5 group of each layer: Keras names a model's layers in its weights file by
    class (snake case), numbered by order within the model (``dense``, ``dense_1``, ...),
    whatever the layers' own names."""
    from ..layers import _snake_case

    counts, names = {}, []
    for layer in layers:
        base = _snake_case(type(layer).__name__)
        n = counts.get(base, 0)
        counts[base] = n + 1
        names.append(base if n == 0 else "%s_%d" % (base, n))
    return names


def _activation_name(layer):
    return layer.activation.name


def _layer_config(layer, input_shape):
    """Keras' serialisation of one fastembed layer."""
    common = {"name": layer.name, "trainable": layer.trainable, "dtype": "float32"}
    kind = type(layer).__name__
    if kind == "Embedding":
        return _serialized(
            "keras.layers",
            "Embedding",
            dict(common, input_dim=layer.input_dim, output_dim=layer.output_dim, mask_zero=layer.mask_zero),
            input_shape,
        )
    if kind == "Dense":
        return _serialized(
            "keras.layers",
            "Dense",
            dict(common, units=layer.units, activation=_activation_name(layer), use_bias=layer.use_bias),
            input_shape,
        )
    if kind in ("GlobalAveragePooling1D", "GlobalMaxPooling1D", "Flatten"):
        return _serialized("keras.layers", kind, common)
    if kind == "Dropout":
        return _serialized("keras.layers", "Dropout", dict(common, rate=layer.rate))
    if kind == "Activation":
        return _serialized("keras.layers", "Activation", dict(common, activation=_activation_name(layer)))
    raise ValueError(
        "a .keras file can hold Embedding, Dense, GlobalAveragePooling1D, GlobalMaxPooling1D, Dropout, "
        "Flatten and Activation layers; %s (%s) has no Keras form here: save to .npz" % (layer.name, kind)
    )


def _compile_config(model):
    if model.optimizer is None:
        return None
    optimizer = model.optimizer
    config = {
        key: value
        for key, value in optimizer.get_config().items()
        if key not in ("embedding_updates", "repeated_ids", "lazy_embeddings")
    }
    config["name"] = optimizer.name
    loss = model.loss
    loss_config = (
        loss.name
        if not getattr(loss, "from_logits", False)
        else _serialized("keras.losses", type(loss).__name__, {"from_logits": True})
    )
    return {
        "optimizer": _serialized("keras.optimizers", type(optimizer).__name__, config),
        "loss": loss_config,
        "metrics": [m if isinstance(m, str) else m.name for m in model._metric_specs] or None,
    }


def save_keras(model, path):
    """Write ``model`` as a Keras 3 ``.keras`` file (atomically)."""
    h5py = _h5py()
    if model._preprocessing:
        raise ValueError(
            "a model with TextVectorization cannot be saved as .keras here (Keras keeps its vocabulary "
            "as an asset); save it to .npz"
        )
    shape = model._input_shape
    layers, shapes = (
        [
            _serialized(
                "keras.layers", "InputLayer", {"batch_shape": list(shape), "dtype": "int32", "name": "input_layer"}
            )
        ],
        [],
    )
    for layer, out_shape in zip(model._layers, model._output_shapes):
        layers.append(_layer_config(layer, shape))
        shapes.append(shape)
        shape = out_shape
    config = _serialized(
        "keras",
        "Sequential",
        {"name": model.name, "trainable": True, "layers": layers, "build_input_shape": list(model._input_shape)},
        model._input_shape,
    )
    compile_config = _compile_config(model)
    if compile_config is not None:
        config["compile_config"] = compile_config
    metadata = {
        "keras_version": KERAS_VERSION,
        "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S"),
        "saved_by": "fastembed %s" % __version__,
    }
    directory = os.path.dirname(os.path.abspath(path))
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        weights_path = os.path.join(scratch, "model.weights.h5")
        with h5py.File(weights_path, "w") as store:
            store.create_group("vars").attrs["name"] = model.name
            group = store.create_group("layers")
            for layer, state_name in zip(model._layers, _state_names(model._layers)):
                variables = group.create_group(state_name).create_group("vars")
                variables.attrs["name"] = layer.name
                for i, weight in enumerate(layer.weights):
                    variables.create_dataset(str(i), data=weight)
        with atomic_write(path, "wb") as stream, zipfile.ZipFile(stream, "w") as archive:
            archive.writestr("metadata.json", json.dumps(metadata))
            archive.writestr("config.json", json.dumps(config))
            archive.write(weights_path, "model.weights.h5")


def is_keras_file(path):
    """Is ``path`` a zip holding a Keras ``config.json`` and ``model.weights.h5``?"""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
        return False
    return {"config.json", "model.weights.h5"} <= names


def _activation(value):
    if isinstance(value, dict):
        value = value.get("config", {}).get("name", value.get("class_name"))
    return value


def _fastembed_layer(item):
    """A fastembed layer from one entry of Keras' ``layers`` list (None for InputLayer)."""
    kind, config = item.get("class_name"), item.get("config") or {}
    name = config.get("name")
    if kind == "InputLayer":
        return None
    if kind == "Embedding":
        return layers_module.Embedding(
            int(config["input_dim"]),
            int(config["output_dim"]),
            mask_zero=bool(config.get("mask_zero", False)),
            name=name,
        )
    if kind == "Dense":
        return layers_module.Dense(
            int(config["units"]),
            activation=_activation(config.get("activation", "linear")),
            use_bias=bool(config.get("use_bias", True)),
            name=name,
        )
    if kind in ("GlobalAveragePooling1D", "GlobalMaxPooling1D", "Flatten"):
        if config.get("keepdims"):
            raise ValueError("%s(keepdims=True) has no fastembed form" % kind)
        return getattr(layers_module, kind)(name=name)
    if kind == "Dropout":
        return layers_module.Dropout(float(config["rate"]), name=name)
    if kind == "Activation":
        return layers_module.Activation(_activation(config["activation"]), name=name)
    raise ValueError(
        "layer %r of class %s has no fastembed form (supported: Embedding, Dense, "
        "GlobalAveragePooling1D, GlobalMaxPooling1D, Dropout, Flatten, Activation)" % (name, kind)
    )


def load_keras(path):
    """Read a Keras 3 ``.keras`` file into a fastembed Sequential.

    Raises
    ------
    ValueError
        Not a Sequential of supported layers, or weights that do not fit the layers
        (checked from the HDF5 metadata before any array is read).
    """
    from ._sequential import Sequential
    from .. import losses as losses_module, optimizers as optimizers_module

    h5py = _h5py()
    with zipfile.ZipFile(path) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        config_info, weights_info = infos["config.json"], infos["model.weights.h5"]
        if config_info.file_size > _MAX_CONFIG_BYTES:
            raise ValueError(
                "%s: config.json is %d bytes, more than a model configuration holds" % (path, config_info.file_size)
            )
        if weights_info.file_size > max(1, weights_info.compress_size) * _MAX_COMPRESSION_RATIO:
            raise ValueError(
                "%s: model.weights.h5 claims %d bytes from %d compressed (a zip bomb?)"
                % (path, weights_info.file_size, weights_info.compress_size)
            )
        try:
            config = json.loads(archive.read("config.json").decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            raise ValueError("%s: config.json is not JSON (%s)" % (path, exc)) from None
        if not isinstance(config, dict) or config.get("class_name") != "Sequential":
            raise ValueError(
                "%s holds a %s; only Sequential models are read"
                % (path, config.get("class_name") if isinstance(config, dict) else "?")
            )
        spec = config.get("config") or {}
        input_shape = None
        stack = []
        for item in spec.get("layers", []):
            if item.get("class_name") == "InputLayer":
                input_shape = tuple((item.get("config") or {}).get("batch_shape") or ())
            layer = _fastembed_layer(item)
            if layer is not None:
                stack.append(layer)
        if not stack:
            raise ValueError("%s: the model has no layers" % path)
        model = Sequential(stack, name=spec.get("name"))
        shape = input_shape or tuple(spec.get("build_input_shape") or ()) or None
        model.build(tuple(shape) if shape else None)
        with tempfile.TemporaryDirectory() as scratch:
            archive.extract(weights_info, scratch)
            with h5py.File(os.path.join(scratch, "model.weights.h5"), "r") as store:
                values = []
                for layer, state_name in zip(model._layers, _state_names(model._layers)):
                    group = store.get("layers/%s/vars" % state_name)
                    arrays = []
                    for i, weight in enumerate(layer.weights):
                        dataset = group.get(str(i)) if group is not None else None
                        if dataset is None or tuple(dataset.shape) != weight.shape:
                            raise ValueError(
                                "%s: layer %s's variable %d is %s in the file but %s in the model"
                                % (path, layer.name, i, None if dataset is None else dataset.shape, weight.shape)
                            )
                        arrays.append(dataset)
                    values.append(arrays)
                for layer, arrays in zip(model._layers, values):
                    if arrays:
                        layer.set_weights([np.asarray(a[()]) for a in arrays])
    compiled = config.get("compile_config")
    if compiled:
        optimizer = compiled.get("optimizer")
        if isinstance(optimizer, dict):
            options = {
                k: v
                for k, v in (optimizer.get("config") or {}).items()
                if k
                in (
                    "learning_rate",
                    "beta_1",
                    "beta_2",
                    "epsilon",
                    "momentum",
                    "nesterov",
                    "rho",
                    "initial_accumulator_value",
                )
            }
            optimizer = optimizers_module.get({"class_name": optimizer.get("class_name"), "config": options})
        loss = compiled.get("loss")
        if isinstance(loss, dict):
            loss = getattr(losses_module, loss.get("class_name"))(**(loss.get("config") or {}))
        model.compile(optimizer=optimizer, loss=loss, metrics=compiled.get("metrics"))
    return model
