"""The plan of a call: which layers fuse, which path runs each batch, which buffers.

A plan is made once per ``fit`` / ``evaluate`` / ``predict`` call, after the data was
validated. It asks each layer whether it fuses with the next (``Layer.fuse``: the model
itself knows nothing about pairs of layers), packs the trainable Dense weights into one
buffer (one optimizer call updates them all), and picks a runner:

- the compiled stack (``_kernels/_train.pyx``) when the fused layers are an EmbeddingBag
  followed by Dense layers and a loss it implements: whole chunks of steps per call,
  without the GIL;
- otherwise the layer-by-layer runner (``_generic.py``), one batch at a time.
"""

import numpy as np

from .. import layers as layers_module
from .. import metrics as metrics_module
from .._config import COMPILED
from ._compiled import CompiledRunner, compiled_stack
from ._generic import GenericRunner


def fuse_layers(layers):
    """The layers with every pair that declares a fused form replaced by it."""
    fused, i = [], 0
    while i < len(layers):
        merged = layers[i].fuse(layers[i + 1]) if i + 1 < len(layers) else None
        if merged is not None:
            fused.append(merged)
            i += 2
        else:
            fused.append(layers[i])
            i += 1
    return fused


def pack_dense_weights(model):
    """Move the trainable weights of the layers without a table into one flat buffer (the
    layers keep views into it), so that one optimizer call updates them all: every Keras
    rule is element-wise, so this equals separate calls. Returns ``(flat, grad_flat,
    views)`` or None (nothing to pack, or mixed dtypes). Re-packs when a layer's arrays
    were replaced."""
    entries = [
        (layer, j, name)
        for layer in model._layers
        if layer.trainable and not hasattr(layer, "backward_update")
        for j, name in enumerate(layer.weight_names)
    ]
    packed = model._packed
    if packed is not None:
        same_weights = [(layer, j) for layer, j, _ in entries] == [(layer, j) for layer, j, _ in packed[2]]
        if same_weights and all(np.shares_memory(getattr(layer, name), packed[0]) for layer, _, name in entries):
            return packed
        rule = model.optimizer._rules.get("dense") if model.optimizer is not None else None
        if not same_weights and rule is not None and rule.state1 is not None:
            raise ValueError(
                "the trainable weights changed since the optimizer started (a layer's trainable "
                "flag was set): compile() the model again, as in Keras"
            )
    dtypes = {getattr(layer, name).dtype for layer, _, name in entries}
    if not entries or len(dtypes) != 1:
        model._packed = None
        return None
    sizes = [getattr(layer, name).size for layer, _, name in entries]
    flat = np.empty(sum(sizes), dtype=dtypes.pop())
    grad_flat = np.zeros_like(flat)
    views, offset = [], 0
    for (layer, j, name), size in zip(entries, sizes):
        weight = getattr(layer, name)
        view = flat[offset : offset + size].reshape(weight.shape)
        view[...] = weight
        setattr(layer, name, view)
        views.append((layer, j, grad_flat[offset : offset + size].reshape(weight.shape)))
        offset += size
    model._packed = (flat, grad_flat, views)
    return model._packed


class Plan:
    """How one call runs ``model``.

    Parameters
    ----------
    model : Sequential
    training : bool
        Plan the backward pass and the updates too.
    ragged : bool
        The input is a Ragged.
    """

    def __init__(self, model, training, ragged=False):
        self.model = model
        self.training = training
        self.layers = fuse_layers(model._layers)  # the preprocessing layer ran in prepare()
        if ragged and not isinstance(self.layers[0], layers_module.EmbeddingBag):
            raise ValueError(
                "ragged input (rows of different lengths) needs a model that starts with an "
                "EmbeddingBag, or Embedding followed by a global pooling layer; pad it first"
            )
        self.packed = pack_dense_weights(model) if training else model._packed
        self.metrics = [metrics_module.get(spec, model.loss.name, model.output_dim) for spec in model._metric_specs]
        self.stack = compiled_stack(model, self.layers, self.metrics, training, self.packed) if COMPILED else None

    @property
    def compiled(self):
        """True when batches run through the compiled stack."""
        return self.stack is not None

    def runner(self, inputs, batch_size, training):
        """A runner bound to ``inputs`` (buffers sized for ``batch_size``)."""
        if self.stack is not None:
            return CompiledRunner(self, inputs, batch_size, training)
        return GenericRunner(self, inputs, batch_size, training)
