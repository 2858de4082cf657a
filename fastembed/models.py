"""fastembed.Sequential: a Keras-style model over fastembed's layers and kernels."""

import json
import math
import sys
import time
import zipfile

import numpy as np

from . import _validation, callbacks as callbacks_module, layers as layers_module
from . import losses as losses_module, metrics as metrics_module, ops, optimizers as optimizers_module
from ._blas import single_threaded_blas
from ._config import get_num_threads
from ._random import generator
from .layers import Dense, Embedding, Layer, _GlobalPooling1D, _unique_name

FORMAT = "fastembed.Sequential"
FORMAT_VERSION = 1


class _Ids:
    """A batch source of token ids: padded 2-D ``(n, seq)`` or ragged (flat + offsets)."""

    def __init__(self, padded=None, flat=None, offsets=None):
        self.padded, self.flat, self.offsets = padded, flat, offsets

    @classmethod
    def from_input(cls, x):
        """Accept an int array (n, seq) or a list of token-id lists of any lengths."""
        if isinstance(x, _Ids):
            return x
        if isinstance(x, np.ndarray) and x.dtype != object:
            return cls(padded=cls._as_int(x, "x"))
        if isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.dtype == object):
            rows = list(x)
            lengths = [len(r) for r in rows] if all(hasattr(r, "__len__") for r in rows) else None
            if lengths is None:
                raise TypeError("x must be a 2-D int array or a list of token-id lists")
            if rows and len(set(lengths)) == 1:
                return cls(padded=cls._as_int(np.asarray(rows), "x"))
            flat = np.concatenate([np.asarray(r).reshape(-1) for r in rows]) if rows else np.zeros(0, np.int64)
            if flat.size == 0:
                flat = flat.astype(np.int64)
            offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
            return cls(flat=cls._as_int(flat, "x"), offsets=offsets)
        raise TypeError("x must be a 2-D int array or a list of token-id lists, got %s" % type(x).__name__)

    @staticmethod
    def _as_int(array, name):
        array = _validation.as_ids(array, name)
        if array.ndim == 1 and array.size == 0:
            return array
        return array

    @property
    def ragged(self):
        return self.padded is None

    def __len__(self):
        return self.padded.shape[0] if self.padded is not None else self.offsets.shape[0] - 1

    def check_range(self, num_rows):
        """IndexError naming the first id outside ``[0, num_rows)``."""
        flat = self.flat if self.ragged else self.padded.reshape(-1)
        shape = flat.shape if self.ragged else self.padded.shape
        position, _ = _validation.numpy_check_ids(flat, 0, num_rows)
        if position >= 0:
            _validation.raise_bad_id(flat, position, shape, num_rows, name="x")

    def count_tokens(self, padding_idx):
        """Non-padding tokens (for tokens/s)."""
        flat = self.flat if self.ragged else self.padded
        return int(flat.size if padding_idx is None else np.count_nonzero(flat != padding_idx))

    def take(self, index):
        """The rows ``index`` (an int array), in that order."""
        if not self.ragged:
            return _Ids(padded=self.padded[index])
        starts = self.offsets[index]
        lengths = self.offsets[index + 1] - starts
        offsets = np.zeros(index.shape[0] + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        positions = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        return _Ids(flat=self.flat[positions], offsets=offsets)

    def slice(self, start, stop):
        if not self.ragged:
            return _Ids(padded=self.padded[start:stop])
        offsets = self.offsets[start:stop + 1]
        return _Ids(flat=self.flat[offsets[0]:offsets[-1]], offsets=offsets - offsets[0])


class Sequential:
    """A linear stack of layers, trained with ``compile`` + ``fit`` as in Keras.

    Parameters
    ----------
    layers : list of Layer, optional
    name : str, optional

    Notes
    -----
    When the stack starts with ``Embedding`` followed by ``GlobalAveragePooling1D`` or
    ``GlobalMaxPooling1D``, training and inference run those two fused through
    ``ops.embedding_bag`` and the fused backward-plus-update kernel: the
    ``(batch, seq, dim)`` tensor is never built, and ragged input is used as it is.
    """

    def __init__(self, layers=None, name=None):
        self.name = name or _unique_name("sequential")
        self._layers = []
        self.built = False
        self.optimizer = self.loss = None
        self.compiled_metrics = []
        self._metric_specs = []
        self._fuse_loss = False  # set by compile(); predict() works before it
        self.stop_training = False
        self.history = None
        self._input_shape = None
        self._packed = None
        for layer in layers or []:
            self.add(layer)

    # -- structure ---------------------------------------------------------------------
    def add(self, layer):
        """Append a layer."""
        if not isinstance(layer, Layer):
            raise TypeError("Sequential.add takes a fastembed layer, got %r" % (layer,))
        if any(existing is layer for existing in self._layers):
            raise ValueError("layer %s is already in this model" % layer.name)
        if isinstance(layer, Embedding) and self._layers:
            raise ValueError("Embedding must be the first layer (it takes token ids)")
        self._layers.append(layer)
        self.built = False

    @property
    def layers(self):
        """list of Layer: the model's layers, in order."""
        return list(self._layers)

    def get_layer(self, name=None, index=None):
        """A layer by name or by position, as Keras' ``Model.get_layer``.

        Raises
        ------
        ValueError
            Neither or both of ``name`` and ``index`` given, or no layer matches.
        """
        if (name is None) == (index is None):
            raise ValueError("give exactly one of name and index")
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError("index %d is out of range: the model has %d layers" % (index, len(self._layers)))
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError("no layer named %r; the layers are %s" % (name, [layer.name for layer in self._layers]))

    @property
    def _fused(self):
        return (len(self._layers) >= 2 and isinstance(self._layers[0], Embedding)
                and isinstance(self._layers[1], _GlobalPooling1D))

    def build(self, input_shape=None):
        """Create every layer's weights for inputs of ``input_shape`` (batch dim None).

        Parameters
        ----------
        input_shape : tuple, optional
            Defaults to ``(None, None)`` (token ids of any length) when the model starts
            with an Embedding.
        """
        if not self._layers:
            raise ValueError("the model has no layers")
        if input_shape is None:
            if not isinstance(self._layers[0], Embedding):
                raise ValueError("build() needs an input_shape unless the first layer is an Embedding")
            input_shape = (None, self._layers[0].input_length)
        shape = tuple(input_shape)
        self._input_shape = shape
        self._output_shapes = []
        for layer in self._layers:
            if not layer.built:
                layer.build(shape)
            shape = layer.compute_output_shape(shape)
            self._output_shapes.append(shape)
        self.built = True

    def _ensure_built(self, ids=None):
        if not self.built:
            if ids is not None and not ids.ragged and not isinstance(self._layers[0], Embedding):
                self.build((None,) + ids.padded.shape[1:])
            elif ids is not None and not ids.ragged and self._layers[0].input_length is None and any(
                    type(layer).__name__ == "Flatten" for layer in self._layers):
                self.build((None, ids.padded.shape[1]))
            else:
                self.build()

    @property
    def output_dim(self):
        return self._output_shapes[-1][-1]

    def count_params(self):
        """Number of scalars in all weights."""
        return sum(layer.count_params() for layer in self._layers)

    def summary(self, print_fn=print):
        """Print a tf.keras-2-style table of layers, output shapes and parameter counts."""
        self._ensure_built()
        width, cols = 65, (29, 26, 10)
        lines = ['Model: "%s"' % self.name, "_" * width,
                 " %-*s%-*s%s" % (cols[0] - 1, "Layer (type)", cols[1], "Output Shape", "Param #"), "=" * width]
        for i, (layer, shape) in enumerate(zip(self._layers, self._output_shapes)):
            label = "%s (%s)" % (layer.name, type(layer).__name__)
            # Long labels wrap inside their column, as tf.keras 2 prints them.
            room = cols[0] - 3
            chunks = [label[j:j + room] for j in range(0, len(label), room)] or [""]
            lines.append(" %-*s%-*s%s" % (cols[0] - 1, chunks[0], cols[1], str(shape), layer.count_params()))
            lines.extend(" %s" % chunk for chunk in chunks[1:])
            lines.append("" if i == len(self._layers) - 1 else " " * width)
        total = self.count_params()
        trainable = sum(layer.count_params() for layer in self._layers if layer.trainable)
        lines[-1:] = ["=" * width, "Total params: {:,}".format(total), "Trainable params: {:,}".format(trainable),
                      "Non-trainable params: {:,}".format(total - trainable), "_" * width]
        for line in lines:
            print_fn(line)

    def get_weights(self):
        """All layers' weights, in Keras order."""
        self._ensure_built()
        return [w for layer in self._layers for w in layer.get_weights()]

    def set_weights(self, weights):
        """Set all layers' weights from a list as returned by :meth:`get_weights`."""
        self._ensure_built()
        weights = list(weights)
        expected = sum(len(layer.weights) for layer in self._layers)
        if len(weights) != expected:
            raise ValueError("the model has %d weight arrays, got %d" % (expected, len(weights)))
        for layer in self._layers:
            count = len(layer.weights)
            layer.set_weights(weights[:count])
            weights = weights[count:]

    # -- compile -----------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer, the loss and the metrics (names or objects)."""
        if loss is None:
            raise ValueError("compile() needs a loss, e.g. loss='binary_crossentropy'")
        self._ensure_built()
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        self._metric_specs = list(metrics or [])
        self.compiled_metrics = [metrics_module.get(m, self.loss.name, self.output_dim) for m in self._metric_specs]
        last = self._layers[-1]
        # Fuse the last sigmoid/softmax into its cross-entropy: stable, and the gradient
        # w.r.t. the logits is simply (p - y) / n.
        self._fuse_loss = (isinstance(last, Dense) and not self.loss.from_logits
                           and self.loss.fuses_with is not None
                           and last.activation.name == self.loss.fuses_with)

    @property
    def metrics_names(self):
        return ["loss"] + [m.name for m in self.compiled_metrics]

    # -- forward / backward ------------------------------------------------------------
    def _forward(self, ids, training):
        """Return (output used by the loss, probabilities for metrics)."""
        layers = self._layers
        mask = None
        if self._fused:
            embedding, pool = layers[0], layers[1]
            if ids.ragged:
                h = ops.embedding_bag(embedding.embeddings, ids.flat, ids.offsets, mode=pool.bag_mode,
                                      padding_idx=embedding.padding_idx)
            else:
                h = ops.embedding_bag(embedding.embeddings, ids.padded, mode=pool.bag_mode,
                                      padding_idx=embedding.padding_idx)
            rest = layers[2:]
        else:
            if ids.ragged:
                raise ValueError("ragged input (lists of different lengths) needs a model that starts with "
                                 "Embedding followed by a global pooling layer; pad it first")
            h = ids.padded
            rest = layers
        for i, layer in enumerate(rest):
            last = i == len(rest) - 1
            if last and self._fuse_loss:
                logits = layer.forward(h, mask=mask, training=training, apply_activation=False)
                return logits, layer.activation.forward(logits)
            next_mask = layer.compute_mask(h, mask)
            h = layer.forward(h, mask=mask, training=training)
            mask = next_mask
        return h, h

    def _backward_and_update(self, ids, grad):
        """Backpropagate ``grad`` and apply the optimizer; nothing is written until every
        gradient is known and the embedding update (the only step that validates) passed."""
        layers = self._layers
        start = 2 if self._fused else 0
        rest = layers[start:]
        for i in range(len(rest) - 1, -1, -1):
            layer = rest[i]
            if isinstance(layer, Embedding):
                layer.backward(grad)
                break
            if i == len(rest) - 1 and self._fuse_loss:
                grad = layer.backward(grad, through_activation=False)
            else:
                grad = layer.backward(grad)
        optimizer = self.optimizer
        optimizer.begin_step()
        embedding = layers[0] if isinstance(layers[0], Embedding) else None
        if embedding is not None and embedding.trainable:
            decay = 2 * embedding.embeddings_regularizer.l2 if embedding.embeddings_regularizer else 0.0
            key = "layer0_embeddings"
            if self._fused and optimizer.lazy_embeddings:
                pool = layers[1]
                rule = optimizer.sparse_rule(key, decay)
                if ids.ragged:
                    ops.embedding_bag_backward_update(embedding.embeddings, grad, ids.flat, ids.offsets,
                                                      mode=pool.bag_mode, padding_idx=embedding.padding_idx,
                                                      optimizer=rule)
                else:
                    ops.embedding_bag_backward_update(embedding.embeddings, grad, ids.padded, mode=pool.bag_mode,
                                                      padding_idx=embedding.padding_idx, optimizer=rule)
            else:
                if self._fused:
                    pool = layers[1]
                    sparse = (ops.embedding_bag_backward(grad, ids.flat, ids.offsets, mode=pool.bag_mode,
                                                         padding_idx=embedding.padding_idx,
                                                         weights=embedding.embeddings) if ids.ragged else
                              ops.embedding_bag_backward(grad, ids.padded, mode=pool.bag_mode,
                                                         padding_idx=embedding.padding_idx,
                                                         weights=embedding.embeddings))
                else:
                    sparse = embedding.sparse_grad
                optimizer.apply_embedding(key, embedding.embeddings, sparse, decay)
        if self._packed is not None:
            # Every dense rule is element-wise: one kernel call updates all Dense weights
            # (views into one buffer) exactly as separate calls would.
            flat, grad_flat, views = self._packed
            for layer, j, view in views:
                np.copyto(view, layer.grads[j])
            optimizer.apply_dense("dense", flat, grad_flat)
            return
        for index, layer in enumerate(layers):
            if layer is embedding or not layer.trainable or not layer.weights:
                continue
            for name, param, g in zip(layer.weight_names, layer.weights, layer.grads):
                optimizer.apply_dense("layer%d_%s" % (index, name), param, g)

    def _pack_dense_weights(self):
        """Move the trainable weights of the non-embedding layers into one flat buffer
        (the layers keep views into it), so that one optimizer call updates them all.
        Re-packs when a layer's arrays were replaced; leaves mixed dtypes unpacked."""
        entries = [(layer, j, name) for layer in self._layers
                   if layer.trainable and not isinstance(layer, Embedding)
                   for j, name in enumerate(layer.weight_names)]
        if self._packed is not None and all(
                np.shares_memory(getattr(layer, name), self._packed[0]) for layer, _, name in entries):
            return
        dtypes = {getattr(layer, name).dtype for layer, _, name in entries}
        if not entries or len(dtypes) != 1:
            self._packed = None
            return
        sizes = [getattr(layer, name).size for layer, _, name in entries]
        flat = np.empty(sum(sizes), dtype=dtypes.pop())
        grad_flat = np.empty_like(flat)
        views, offset = [], 0
        for (layer, j, name), size in zip(entries, sizes):
            weight = getattr(layer, name)
            view = flat[offset:offset + size].reshape(weight.shape)
            view[...] = weight
            setattr(layer, name, view)
            views.append((layer, j, grad_flat[offset:offset + size].reshape(weight.shape)))
            offset += size
        self._packed = (flat, grad_flat, views)

    def _regularization_loss(self):
        return sum(layer.regularization_loss() for layer in self._layers if hasattr(layer, "regularization_loss"))

    # -- data --------------------------------------------------------------------------
    def _prepare(self, x, y=None):
        ids = _Ids.from_input(x)
        self._ensure_built(ids)
        if isinstance(self._layers[0], Embedding):
            ids.check_range(self._layers[0].input_dim)
        if y is None:
            return ids, None
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise TypeError("labels must be numbers, got %s" % y.dtype)
        if y.shape[0] != len(ids):
            raise ValueError("x has %d samples but y has %d" % (len(ids), y.shape[0]))
        y = y.astype(np.float32 if y.dtype.kind == "f" else np.float32, copy=False)
        if not np.all(np.isfinite(y)):
            bad = int(np.argmax(~np.isfinite(y.reshape(len(y), -1)).any(axis=1)))
            raise ValueError("labels contain NaN or infinity (first at sample %d)" % bad)
        y = self.loss.check_targets(y, self.output_dim)
        return ids, y

    def _check_compiled(self):
        if self.optimizer is None:
            raise RuntimeError("compile() the model before fit() or evaluate()")

    # -- training ----------------------------------------------------------------------
    def _train_step(self, ids, y):
        output, probs = self._forward(ids, training=True)
        loss_value, grad = (self.loss.from_logits_value_and_grad(y, output) if self._fuse_loss
                            else self.loss.value_and_grad(y, output))
        if not math.isfinite(loss_value):
            raise FloatingPointError("the loss became %r; lower the learning rate (the weights were not "
                                     "updated by this step)" % loss_value)
        self._backward_and_update(ids, grad)
        for metric in self.compiled_metrics:
            metric.update(y, probs)
        return loss_value

    def fit(self, x=None, y=None, batch_size=32, epochs=1, verbose=1, validation_data=None,
            validation_split=0.0, shuffle=True, callbacks=None, initial_epoch=0):
        """Train the model (with NumPy's OpenBLAS held to one thread meanwhile: see
        ``fastembed._blas``).

        Parameters
        ----------
        x : int array (n, seq) or list of token-id lists (ragged)
        y : labels: floats or ints; one-hot or integer for several classes
        batch_size, epochs, verbose, shuffle, initial_epoch :
            As in Keras (verbose 0: silent, 1: progress bar, 2: one line per epoch).
        validation_data : (x_val, y_val), optional
        validation_split : float, default 0
            Fraction of the data (taken from the end, before shuffling) held out.
        callbacks : list of Callback, optional

        Returns
        -------
        History
            ``.history`` holds per-epoch ``loss``, the metrics, and their ``val_`` forms.
        """
        with single_threaded_blas():
            return self._fit(x, y, batch_size, epochs, verbose, validation_data, validation_split, shuffle,
                             callbacks, initial_epoch)

    def _fit(self, x, y, batch_size, epochs, verbose, validation_data, validation_split, shuffle, callbacks,
             initial_epoch):
        self._check_compiled()
        ids, y = self._prepare(x, y)
        if batch_size is None or int(batch_size) < 1:
            raise ValueError("batch_size must be >= 1, got %r" % (batch_size,))
        batch_size = int(batch_size)
        if not 0 <= validation_split < 1:
            raise ValueError("validation_split must be in [0, 1), got %r" % (validation_split,))
        validation = None
        if validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError("validation_data must be (x_val, y_val)")
            validation = self._prepare(*validation_data)
        elif validation_split:
            cut = int(round(len(ids) * (1 - validation_split)))
            validation = (ids.slice(cut, len(ids)), y[cut:])
            ids, y = ids.slice(0, cut), y[:cut]
        n = len(ids)
        if n == 0:
            raise ValueError("fit() got no training samples")
        self._pack_dense_weights()
        padding = self._layers[0].padding_idx if isinstance(self._layers[0], Embedding) else None
        tokens = ids.count_tokens(padding)
        history = callbacks_module.History()
        callback_list = [history] + list(callbacks or [])
        for callback in callback_list:
            callback.set_model(self)
        self.stop_training = False
        self.history = history
        for callback in callback_list:
            callback.on_train_begin()
        steps = (n + batch_size - 1) // batch_size
        rng = generator()
        try:
            for epoch in range(initial_epoch, epochs):
                for callback in callback_list:
                    callback.on_epoch_begin(epoch)
                for metric in self.compiled_metrics:
                    metric.reset()
                order = rng.permutation(n) if shuffle else None
                total_loss, seen, started = 0.0, 0, time.perf_counter()
                progress = _Progress(epoch, epochs, steps, verbose)
                for step in range(steps):
                    lo, hi = step * batch_size, min(n, (step + 1) * batch_size)
                    batch_ids = ids.take(order[lo:hi]) if shuffle else ids.slice(lo, hi)
                    batch_y = y[order[lo:hi]] if shuffle else y[lo:hi]
                    loss_value = self._train_step(batch_ids, batch_y)
                    total_loss += loss_value * (hi - lo)
                    seen += hi - lo
                    progress.update(step + 1, self._logs(total_loss / seen))
                elapsed = time.perf_counter() - started
                logs = self._logs(total_loss / seen + self._regularization_loss())
                if validation is not None:
                    values = self._evaluate_prepared(*validation, batch_size)
                    logs.update({"val_" + name: value for name, value in zip(self.metrics_names, values)})
                progress.finish(logs, elapsed, tokens / elapsed if elapsed > 0 else float("inf"))
                for callback in callback_list:
                    callback.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
        finally:
            for callback in callback_list:
                callback.on_train_end()
        return history

    def _logs(self, loss_value):
        logs = {"loss": float(loss_value)}
        for metric in self.compiled_metrics:
            logs[metric.name] = float(metric.result())
        return logs

    # -- inference ---------------------------------------------------------------------
    def _evaluate_prepared(self, ids, y, batch_size):
        metrics = [metrics_module.get(spec, self.loss.name, self.output_dim) for spec in self._metric_specs]
        total, n = 0.0, len(ids)
        for lo in range(0, n, batch_size):
            hi = min(n, lo + batch_size)
            output, probs = self._forward(ids.slice(lo, hi), training=False)
            yb = y[lo:hi]
            value, _ = (self.loss.from_logits_value_and_grad(yb, output) if self._fuse_loss
                        else self.loss.value_and_grad(yb, output))
            total += value * (hi - lo)
            for metric in metrics:
                metric.update(yb, probs)
        loss_value = (total / n if n else 0.0) + self._regularization_loss()
        return [loss_value] + [m.result() for m in metrics]

    def evaluate(self, x, y, batch_size=32, verbose=0, return_dict=False):
        """Return the loss and metrics on ``(x, y)``: ``[loss, *metrics]`` (a dict with
        ``return_dict=True``; just the loss when there are no metrics, as Keras)."""
        self._check_compiled()
        ids, y = self._prepare(x, y)
        with single_threaded_blas():
            values = self._evaluate_prepared(ids, y, int(batch_size))
        if verbose:
            print(" - ".join("%s: %.4f" % kv for kv in zip(self.metrics_names, values)))
        if return_dict:
            return dict(zip(self.metrics_names, values))
        return values if len(values) > 1 else values[0]

    def predict(self, x, batch_size=32, verbose=0):
        """Return the model's outputs (probabilities for sigmoid/softmax heads)."""
        ids, _ = self._prepare(x)
        with single_threaded_blas():
            outputs = [self._forward(ids.slice(lo, min(len(ids), lo + int(batch_size))), training=False)[1]
                       for lo in range(0, len(ids), int(batch_size))]
        if not outputs:
            return np.zeros((0, self.output_dim), dtype=np.float32)
        return np.concatenate(outputs)

    def __call__(self, x):
        """The model's outputs for ``x`` (inference mode), in one batch."""
        ids, _ = self._prepare(x)
        return self._forward(ids, training=False)[1]

    # -- saving ------------------------------------------------------------------------
    def get_config(self):
        """The architecture as a JSON-serialisable dict."""
        return {"name": self.name,
                "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()}
                           for layer in self._layers],
                "build_input_shape": list(self._input_shape) if self._input_shape else None}

    def save(self, path):
        """Save architecture, weights and optimizer state to one file (``.npz`` layout,
        read back without unpickling by :func:`load_model`)."""
        self._ensure_built()
        config = {"format": FORMAT, "version": FORMAT_VERSION, "model": self.get_config()}
        arrays = {}
        for i, layer in enumerate(self._layers):
            for name, weight in zip(layer.weight_names, layer.weights):
                arrays["weights/%d/%s" % (i, name)] = weight
        if self.optimizer is not None:
            config["compile"] = {"optimizer": optimizers_module.serialize(self.optimizer),
                                 "loss": losses_module.serialize(self.loss),
                                 "metrics": [m if isinstance(m, str) else m.name for m in self._metric_specs]}
            for key, array in self.optimizer.get_state().items():
                arrays["optimizer/" + key] = array
        arrays["config"] = np.frombuffer(json.dumps(config).encode("utf-8"), dtype=np.uint8)
        with open(path, "wb") as handle:  # a handle: np.savez would append .npz to a name
            np.savez(handle, **arrays)


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


class _Progress:
    """Keras-like progress output: a live bar on a terminal with verbose=1, one line per
    epoch otherwise."""

    def __init__(self, epoch, epochs, steps, verbose):
        self.epoch, self.epochs, self.steps, self.verbose = epoch, epochs, steps, verbose
        self.live = verbose == 1 and sys.stdout.isatty()
        self.last = 0.0
        if verbose == 1:
            print("Epoch %d/%d" % (epoch + 1, epochs))

    def update(self, step, logs):
        if not self.live:
            return
        now = time.perf_counter()
        if now - self.last < 0.1 and step < self.steps:
            return
        self.last = now
        done = int(30 * step / self.steps)
        bar = "=" * max(done - 1, 0) + (">" if done < 30 else "=") + "." * (30 - done)
        sys.stdout.write("\r%d/%d [%s] - %s" % (step, self.steps, bar, _format_logs(logs)))
        sys.stdout.flush()

    def finish(self, logs, elapsed, tokens_per_second):
        if not self.verbose:
            return
        text = "%d/%d - %.1fs - %s - %s tokens/s (%d threads)" % (
            self.steps, self.steps, elapsed, _format_logs(logs), _si(tokens_per_second), get_num_threads())
        if self.live:
            sys.stdout.write("\r" + text + "\n")
        elif self.verbose == 2:
            print("Epoch %d/%d - %s" % (self.epoch + 1, self.epochs, text))
        else:
            print(text)
        sys.stdout.flush()


def _format_logs(logs):
    return " - ".join("%s: %.4f" % (k, v) for k, v in logs.items())


def _si(value):
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return "%.2f%s" % (value / scale, unit)
    return "%.0f" % value
