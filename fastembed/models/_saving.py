"""Saving and loading Sequential models: one ``.npz`` file (architecture as JSON, weights,
optimizer state), never unpickled."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING
import struct
import tokenize
import zipfile

import numpy as np

from .. import layers as layers_module, losses as losses_module, optimizers as optimizers_module
from .._files import atomic_write

if TYPE_CHECKING:
    from ._sequential import Sequential

FORMAT = "fastembed.Sequential"
FORMAT_VERSION = 1


def save_model(model, path):
    """Write ``model`` to ``path`` (atomically: see fastembed._files.atomic_write)."""
    config = {"format": FORMAT, "version": FORMAT_VERSION, "model": model.get_config()}
    arrays = {}
    for i, layer in enumerate(model._layers):  # a preprocessing layer has no weights
        for name, weight in zip(layer.weight_names, layer.weights):
            arrays["weights/%d/%s" % (i, name)] = weight
    if model.optimizer is not None:
        config["compile"] = {
            "optimizer": optimizers_module.serialize(model.optimizer),
            "loss": losses_module.serialize(model.loss),
            "metrics": [m if isinstance(m, str) else m.name for m in model._metric_specs],
        }
        for key, array in model.optimizer.get_state().items():
            arrays["optimizer/" + key] = array
    arrays["config"] = np.frombuffer(json.dumps(config).encode("utf-8"), dtype=np.uint8)
    with atomic_write(path, "wb") as stream:  # a handle: np.savez would append .npz to a name
        np.savez(stream, **arrays)


_MAX_CONFIG_BYTES = 16 << 20


# What zipfile and numpy's npy reader raise on damaged archives: besides BadZipFile,
# an unsupported zip version or compression method is NotImplementedError and an
# encrypted member RuntimeError, and NumPy's npy header parser lets tokenize.TokenError
# out of an unclosed bracket (all found by the atheris target, tests/fuzz_readers.py).
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    ValueError,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
    struct.error,
    tokenize.TokenError,
    SyntaxError,
)


def _array_headers(path):
    """``{name: (shape, dtype)}`` of every array in the file, read from the headers only,
    each checked against the bytes the file really holds for it (no compressed members:
    np.savez stores, so a compressed one can only be a zip bomb)."""
    headers = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                raise ValueError("unexpected member %r" % info.filename)
            if info.compress_type != zipfile.ZIP_STORED:
                raise ValueError("member %r is compressed; fastembed writes none" % info.filename)
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
                offset = member.tell()
            if dtype.hasobject:
                raise ValueError("member %r holds Python objects" % info.filename)
            claimed = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize if shape else dtype.itemsize
            if claimed != info.file_size - offset:
                raise ValueError(
                    "member %r claims %d bytes but holds %d" % (info.filename, claimed, info.file_size - offset)
                )
            headers[info.filename[: -len(".npy")]] = (tuple(shape), dtype)
    return headers


def _check_against_file(model, spec, headers, path):
    """Every weight the model will create must be in the file with that shape, and the file
    must hold nothing else: checked before anything is built (allocated)."""
    shape = spec.get("build_input_shape")
    # As Sequential.build() with no shape: ids of the first layer's input_length.
    shape = tuple(shape) if shape else (None, getattr(model._layers[0], "input_length", None))
    expected = {"config"}
    for i, layer in enumerate(model._layers):
        for name, weight_shape in layer.weight_shapes(shape).items():
            key = "weights/%d/%s" % (i, name)
            if key not in headers:
                raise ValueError("%s is missing weight %s of layer %s" % (path, name, layer.name))
            if headers[key][0] != tuple(weight_shape):
                raise ValueError(
                    "%s: weight %s of layer %s is %s in the file but the configuration makes it %s"
                    % (path, name, layer.name, headers[key][0], tuple(weight_shape))
                )
            expected.add(key)
        shape = layer.compute_output_shape(shape)
    unknown = sorted(key for key in headers if key not in expected and not key.startswith("optimizer/"))
    if unknown:
        raise ValueError("%s holds arrays no fastembed model has: %s" % (path, unknown[:5]))


def load_model(path: str | os.PathLike) -> Sequential:
    """Load a model saved by :meth:`Sequential.save` (architecture, weights, optimizer
    state); training can continue where it stopped.

    Raises
    ------
    ValueError
        The file is truncated, is not a fastembed model, or comes from a newer format.
    """
    from ._keras_format import is_keras_file, load_keras

    if is_keras_file(path):
        try:
            return load_keras(path)
        except (KeyError, TypeError, AttributeError, IndexError, zipfile.BadZipFile, OSError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise ValueError("%s is not a readable .keras model (%s: %s)" % (path, type(exc).__name__, exc)) from None
    try:
        headers = _array_headers(path)
        if "config" not in headers:
            raise ValueError("no model configuration inside")
        archive = np.load(path, allow_pickle=False)
    except _ARCHIVE_ERRORS as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError("%s is not a fastembed model file (%s)" % (path, exc)) from None
    with archive:
        try:
            config_shape, config_dtype = headers["config"]
            if config_dtype != np.uint8 or len(config_shape) != 1 or config_shape[0] > _MAX_CONFIG_BYTES:
                raise ValueError("the configuration is not a JSON text of at most %d bytes" % _MAX_CONFIG_BYTES)
            config = json.loads(archive["config"].tobytes().decode("utf-8"))
            if not isinstance(config, dict):
                raise ValueError("the configuration is not a JSON object")
        except _ARCHIVE_ERRORS + (KeyError, RecursionError) as exc:
            raise ValueError("%s is not a readable fastembed model file (%s)" % (path, exc)) from None
        if config.get("format") != FORMAT:
            raise ValueError("%s is not a fastembed model file" % path)
        if not isinstance(config.get("version", 0), int) or config.get("version", 0) > FORMAT_VERSION:
            raise ValueError(
                "%s was saved by a newer fastembed (format %s > %d)" % (path, config.get("version"), FORMAT_VERSION)
            )
        try:
            return _model_from(config, headers, archive, path)
        except (
            TypeError,
            AttributeError,
            KeyError,
            IndexError,
            RecursionError,
            NotImplementedError,
            OverflowError,
        ) as exc:
            # One exception for "this file is not a valid model", whatever part of it is off.
            raise ValueError("%s is not a valid fastembed model (%s: %s)" % (path, type(exc).__name__, exc)) from None


def _model_from(config, headers, archive, path):
    """The model a checked file describes (its configuration checked against its arrays
    before anything is built)."""
    spec = config["model"]
    from ._sequential import Sequential

    preprocessing = spec.get("preprocessing") or []
    if not isinstance(preprocessing, list) or len(preprocessing) > 1:
        raise ValueError("%s: the model configuration's preprocessing is not a list of one layer" % path)
    model = Sequential(
        [layers_module.deserialize(layer) for layer in preprocessing + spec["layers"]], name=spec.get("name")
    )
    _check_against_file(model, spec, headers, path)
    try:
        arrays = {key: archive[key] for key in archive.files if key != "config"}
    except _ARCHIVE_ERRORS as exc:
        raise ValueError("%s is not a readable fastembed model file (%s)" % (path, exc)) from None
    shape = spec.get("build_input_shape")
    model.build(tuple(shape) if shape else None)
    for i, layer in enumerate(model._layers):
        values = []
        for name in layer.weight_names:
            key = "weights/%d/%s" % (i, name)
            if key not in arrays:
                raise ValueError("%s is missing weight %s of layer %s" % (path, name, layer.name))
            values.append(arrays[key])
        layer.set_weights(values)
    compiled = config.get("compile")
    if compiled:
        model.compile(
            optimizer=optimizers_module.get(compiled["optimizer"]),
            loss=losses_module.get(compiled["loss"]),
            metrics=compiled["metrics"],
        )
        state = {key[len("optimizer/") :]: value for key, value in arrays.items() if key.startswith("optimizer/")}
        model.optimizer.set_state(state)
    return model


WEIGHTS_FORMAT = "fastembed.weights"


def save_weights(model, path):
    """Write the weights of ``model`` (no architecture, no optimizer state): Keras'
    ``save_weights``, as an ``.npz`` layout; atomically."""
    arrays = {}
    names = []
    for i, layer in enumerate(model._layers):
        for name, weight in zip(layer.weight_names, layer.weights):
            arrays["weights/%d/%s" % (i, name)] = weight
        names.append(type(layer).__name__)
    config = {"format": WEIGHTS_FORMAT, "version": FORMAT_VERSION, "layers": names}
    arrays["config"] = np.frombuffer(json.dumps(config).encode("utf-8"), dtype=np.uint8)
    with atomic_write(path, "wb") as stream:
        np.savez(stream, **arrays)


def load_weights(model, path):
    """Set the weights of ``model`` from a :func:`save_weights` file (or a whole model
    file): every array is checked against the layers before any is copied.

    Raises
    ------
    ValueError
        Not a weights file, another architecture, or arrays of other shapes.
    """
    try:
        headers = _array_headers(path)
        if "config" not in headers:
            raise ValueError("no configuration inside")
        config_shape, config_dtype = headers["config"]
        if config_dtype != np.uint8 or len(config_shape) != 1 or config_shape[0] > _MAX_CONFIG_BYTES:
            raise ValueError("the configuration is not a JSON text of at most %d bytes" % _MAX_CONFIG_BYTES)
        with np.load(path, allow_pickle=False) as archive:
            config = json.loads(archive["config"].tobytes().decode("utf-8"))
            if not isinstance(config, dict) or config.get("format") not in (WEIGHTS_FORMAT, FORMAT):
                raise ValueError("not a fastembed weights or model file")
            expected = {}
            for i, layer in enumerate(model._layers):
                for name, weight in zip(layer.weight_names, layer.weights):
                    key = "weights/%d/%s" % (i, name)
                    if key not in headers:
                        raise ValueError("it has no weight %s for layer %d (%s)" % (name, i, layer.name))
                    if headers[key][0] != weight.shape:
                        raise ValueError(
                            "weight %s of layer %s is %s in the file but %s in the model"
                            % (name, layer.name, headers[key][0], weight.shape)
                        )
                    expected[key] = (layer, name)
            extra = sorted(k for k in headers if k.startswith("weights/") and k not in expected)
            if extra:
                raise ValueError("it holds weights this model does not have: %s" % extra[:5])
            values = {key: archive[key] for key in expected}
    except _ARCHIVE_ERRORS + (KeyError, RecursionError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError("%s cannot be loaded into this model: %s" % (path, exc)) from None
    for i, layer in enumerate(model._layers):
        if layer.weight_names:
            layer.set_weights([values["weights/%d/%s" % (i, name)] for name in layer.weight_names])
