"""Saving and loading Sequential models: one ``.npz`` file (architecture as JSON, weights,
optimizer state), never unpickled."""

import json
import zipfile

import numpy as np

from .. import layers as layers_module, losses as losses_module, optimizers as optimizers_module
from .._files import atomic_write

FORMAT = "fastembed.Sequential"
FORMAT_VERSION = 1


def save_model(model, path):
    """Write ``model`` to ``path`` (atomically: see fastembed._files.atomic_write)."""
    config = {"format": FORMAT, "version": FORMAT_VERSION, "model": model.get_config()}
    arrays = {}
    for i, layer in enumerate(model.layers):
        for name, weight in zip(layer.weight_names, layer.weights):
            arrays["weights/%d/%s" % (i, name)] = weight
    if model.optimizer is not None:
        config["compile"] = {"optimizer": optimizers_module.serialize(model.optimizer),
                             "loss": losses_module.serialize(model.loss),
                             "metrics": [m if isinstance(m, str) else m.name for m in model._metric_specs]}
        for key, array in model.optimizer.get_state().items():
            arrays["optimizer/" + key] = array
    arrays["config"] = np.frombuffer(json.dumps(config).encode("utf-8"), dtype=np.uint8)
    with atomic_write(path, "wb") as stream:  # a handle: np.savez would append .npz to a name
        np.savez(stream, **arrays)


def load_model(path):
    """Load a model saved by :meth:`Sequential.save` (architecture, weights, optimizer
    state); training can continue where it stopped.

    Raises
    ------
    ValueError
        The file is truncated, is not a fastembed model, or comes from a newer format.
    """
    try:
        archive = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError("%s is not a fastembed model file (%s)" % (path, exc)) from None
    with archive:
        try:
            if "config" not in archive.files:
                raise ValueError("no model configuration inside")
            config = json.loads(archive["config"].tobytes().decode("utf-8"))
            arrays = {key: archive[key] for key in archive.files if key != "config"}
        except (zipfile.BadZipFile, ValueError, EOFError, KeyError, UnicodeDecodeError, OSError) as exc:
            raise ValueError("%s is not a readable fastembed model file (%s)" % (path, exc)) from None
    if config.get("format") != FORMAT:
        raise ValueError("%s is not a fastembed model file" % path)
    if config.get("version", 0) > FORMAT_VERSION:
        raise ValueError("%s was saved by a newer fastembed (format %s > %d)"
                         % (path, config.get("version"), FORMAT_VERSION))
    spec = config["model"]
    from ._sequential import Sequential

    model = Sequential([layers_module.deserialize(layer) for layer in spec["layers"]], name=spec.get("name"))
    shape = spec.get("build_input_shape")
    model.build(tuple(shape) if shape else None)
    for i, layer in enumerate(model.layers):
        values = []
        for name in layer.weight_names:
            key = "weights/%d/%s" % (i, name)
            if key not in arrays:
                raise ValueError("%s is missing weight %s of layer %s" % (path, name, layer.name))
            values.append(arrays[key])
        layer.set_weights(values)
    compiled = config.get("compile")
    if compiled:
        model.compile(optimizer=optimizers_module.get(compiled["optimizer"]),
                      loss=losses_module.get(compiled["loss"]), metrics=compiled["metrics"])
        state = {key[len("optimizer/"):]: value for key, value in arrays.items() if key.startswith("optimizer/")}
        model.optimizer.set_state(state)
    return model
