"""fastembed.Sequential: the model's structure and its Keras-shaped API.

The model is a list of layers that knows nothing about particular pairs of layers:
``fit`` / ``evaluate`` / ``predict`` hand the work to the engine (fastembed/engine),
which validates the data once, plans the call (fusing layers that declare a fused form)
and runs it. Saving and loading live in ``_saving``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

import numpy as np

from .. import engine, losses as losses_module, metrics as metrics_module, optimizers as optimizers_module
from ..layers import Dense, Embedding, EmbeddingBag, Flatten, Layer, _unique_name
from ..engine._guard import WeightsGuard
from ..ragged import Ragged
from . import _saving

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from ..callbacks import Callback, History

_ID_LAYERS = (Embedding, EmbeddingBag)


class Sequential:
    """A linear stack of layers, trained with ``compile`` + ``fit`` as in Keras.

    Parameters
    ----------
    layers : list of Layer, optional
    name : str, optional

    Notes
    -----
    Each call is planned by the engine: ``Embedding`` followed by
    ``GlobalAveragePooling1D`` / ``GlobalMaxPooling1D`` runs as one ``EmbeddingBag`` (the
    ``(batch, seq, dim)`` tensor is never built; ragged input is used as it is), and a
    stack of an embedding bag, Dense layers and a cross-entropy or MSE loss runs in the
    compiled training loop, whole chunks of steps per call. Other stacks run layer by
    layer.
    """

    def __init__(self, layers: Iterable[Layer] | None = None, name: str | None = None) -> None:
        self.name = name or _unique_name("sequential")
        # A leading preprocessing layer (TextVectorization) runs on each call's raw inputs
        # before the engine plans the others; _layers are the layers the engine runs.
        self._preprocessing = []
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
        self._guard = WeightsGuard()  # fit beside predict / get_weights in other threads
        for layer in layers or []:
            self.add(layer)

    # -- structure ---------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        """Append a layer."""
        if not isinstance(layer, Layer):
            raise TypeError("Sequential.add takes a fastembed layer, got %r" % (layer,))
        if any(existing is layer for existing in self.layers):
            raise ValueError("layer %s is already in this model" % layer.name)
        if getattr(layer, "preprocessing", False):
            if self.layers:
                raise ValueError("%s must be the first layer (it takes the raw inputs)" % type(layer).__name__)
            self._preprocessing.append(layer)
            self.built = False
            return
        if isinstance(layer, _ID_LAYERS) and self._layers:
            raise ValueError("%s must be the first layer (it takes token ids)" % type(layer).__name__)
        self._layers.append(layer)
        self.built = False

    @property
    def layers(self) -> list[Layer]:
        """list of Layer: the model's layers, in order (a TextVectorization first)."""
        return self._preprocessing + self._layers

    def _preprocess(self, x):
        """Raw inputs through the leading preprocessing layer (ids or bag-of-words rows);
        other inputs unchanged."""
        return self._preprocessing[0](x) if self._preprocessing else x

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by position, as Keras' ``Model.get_layer``.

        Raises
        ------
        ValueError
            Neither or both of ``name`` and ``index`` given, or no layer matches.
        """
        if (name is None) == (index is None):
            raise ValueError("give exactly one of name and index")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError("index %d is out of range: the model has %d layers" % (index, len(self.layers)))
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError("no layer named %r; the layers are %s" % (name, [layer.name for layer in self._layers]))

    def build(self, input_shape: tuple | None = None) -> None:
        """Create every layer's weights for inputs of ``input_shape`` (batch dim None).

        Parameters
        ----------
        input_shape : tuple, optional
            Defaults to ``(None, None)`` (token ids of any length) when the model starts
            with an Embedding.
        """
        if not self._layers:
            raise ValueError("the model has no layers")
        self._preprocessing_shapes = []
        for layer in self._preprocessing:
            if not layer.built:
                layer.build((None,))
            input_shape = layer.compute_output_shape((None,))
            self._preprocessing_shapes.append(input_shape)
        if input_shape is None:
            if not isinstance(self._layers[0], _ID_LAYERS):
                raise ValueError("build() needs an input_shape unless the first layer is an Embedding")
            input_shape = (None, getattr(self._layers[0], "input_length", None))
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
        """Build on first use; padded ids give the sequence length where a layer needs it."""
        if self.built:
            return
        padded = ids is not None and not isinstance(ids, Ragged)
        if padded and not isinstance(self._layers[0], _ID_LAYERS):
            self.build((None,) + ids.shape[1:])
        elif (
            padded
            and getattr(self._layers[0], "input_length", 0) is None
            and any(isinstance(layer, Flatten) for layer in self._layers)
        ):
            self.build((None, ids.shape[1]))
        else:
            self.build()

    def _input_rows(self):
        """Rows of the first layer's table (ids must lie below), or None."""
        first = self._layers[0]
        return first.input_dim if isinstance(first, _ID_LAYERS) else None

    @property
    def output_dim(self) -> int:
        return self._output_shapes[-1][-1]

    def count_params(self) -> int:
        """Number of scalars in all weights."""
        return sum(layer.count_params() for layer in self._layers)

    def summary(self, print_fn: Callable[[str], Any] = print) -> None:
        """Print a tf.keras-2-style table of layers, output shapes and parameter counts."""
        self._ensure_built()
        width, cols = 65, (29, 26, 10)
        lines = [
            'Model: "%s"' % self.name,
            "_" * width,
            " %-*s%-*s%s" % (cols[0] - 1, "Layer (type)", cols[1], "Output Shape", "Param #"),
            "=" * width,
        ]
        shapes = getattr(self, "_preprocessing_shapes", []) + self._output_shapes
        for i, (layer, shape) in enumerate(zip(self.layers, shapes)):
            label = "%s (%s)" % (layer.name, type(layer).__name__)
            # Long labels wrap inside their column, as tf.keras 2 prints them.
            room = cols[0] - 3
            chunks = [label[j : j + room] for j in range(0, len(label), room)] or [""]
            lines.append(" %-*s%-*s%s" % (cols[0] - 1, chunks[0], cols[1], str(shape), layer.count_params()))
            lines.extend(" %s" % chunk for chunk in chunks[1:])
            lines.append("" if i == len(self.layers) - 1 else " " * width)
        total = self.count_params()
        trainable = sum(layer.count_params() for layer in self._layers if layer.trainable)
        lines[-1:] = [
            "=" * width,
            "Total params: {:,}".format(total),
            "Trainable params: {:,}".format(trainable),
            "Non-trainable params: {:,}".format(total - trainable),
            "_" * width,
        ]
        for line in lines:
            print_fn(line)

    def get_weights(self) -> list[np.ndarray]:
        """All layers' weights, in Keras order."""
        self._ensure_built()
        with self._guard.reading():  # all from one moment, even while fit runs elsewhere
            return [w for layer in self._layers for w in layer.get_weights()]

    def set_weights(self, weights: Sequence[ArrayLike]) -> None:
        """Set all layers' weights from a list as returned by :meth:`get_weights`."""
        self._ensure_built()
        weights = list(weights)
        expected = sum(len(layer.weights) for layer in self._layers)
        if len(weights) != expected:
            raise ValueError("the model has %d weight arrays, got %d" % (expected, len(weights)))
        with self._guard.writing():
            for layer in self._layers:
                count = len(layer.weights)
                layer.set_weights(weights[:count])
                weights = weights[count:]

    # -- compile -----------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Sequence[Any] | None = None) -> None:
        """Choose the optimizer, the loss and the metrics (names or objects)."""
        if loss is None:
            raise ValueError("compile() needs a loss, e.g. loss='binary_crossentropy'")
        self._ensure_built()
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        self._packed = None  # a new optimizer: the trainable weights are packed anew
        self._metric_specs = list(metrics or [])
        self.compiled_metrics = [metrics_module.get(m, self.loss.name, self.output_dim) for m in self._metric_specs]
        last = self._layers[-1]
        # Fuse the last sigmoid/softmax into its cross-entropy: stable, and the gradient
        # w.r.t. the logits is simply (p - y) / n.
        self._fuse_loss = (
            isinstance(last, Dense)
            and not self.loss.from_logits
            and self.loss.fuses_with is not None
            and last.activation.name == self.loss.fuses_with
        )

    @property
    def metrics_names(self) -> list[str]:
        return ["loss"] + [m.name for m in self.compiled_metrics]

    def _check_compiled(self):
        if self.optimizer is None:
            raise RuntimeError("compile() the model before fit() or evaluate()")

    def _regularization_loss(self):
        return sum(layer.regularization_loss() for layer in self._layers if hasattr(layer, "regularization_loss"))

    # -- training and inference (the engine) ------------------------------------------
    def fit(
        self,
        x: Any = None,
        y: ArrayLike | None = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int = 1,
        callbacks: Sequence[Callback] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool | str = True,
        class_weight: dict | None = None,
        sample_weight: ArrayLike | None = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int | Sequence[int] = 1,
    ) -> History:
        """Train the model, as Keras' ``Model.fit``.

        Parameters
        ----------
        x : int array (n, seq), Ragged, or list of token-id lists
        y : labels: floats or ints; one-hot or integer class labels for several classes
        batch_size : int, default 32
        epochs : int
            Index of the last epoch (training runs ``initial_epoch .. epochs - 1``).
        verbose : {0, 1, 2}
            Silent, progress bar (one line per epoch when not on a terminal), one line
            per epoch.
        callbacks : list of Callback
            Their hooks are called in Keras' order; batch hooks only when overridden.
        validation_split : float
            Fraction of the samples, taken from the end before shuffling, held out.
        validation_data : (x, y) or (x, y, sample_weight)
        shuffle : True, False or 'batch'
        class_weight : dict {class: weight}, optional
            Weights the training samples' losses by class (not the validation data).
        sample_weight : array (n,), optional
            Weights each sample's loss; the loss is reduced over the batch size.
        initial_epoch : int
        steps_per_epoch : int, optional
            Batches per epoch; the data is not restarted between epochs, and an epoch
            that runs out of data ends early with a warning (Keras' semantics).
        validation_steps, validation_batch_size, validation_freq :
            As in Keras.

        Returns
        -------
        History
            ``.history`` holds per-epoch ``loss``, the metrics, and their ``val_`` forms.

        Notes
        -----
        NumPy's OpenBLAS is held to one thread meanwhile (``fastembed._blas``), and the
        kernels' thread limit is chosen by timing (``fastembed.engine._threads``): the
        weights do not depend on it.
        """
        return engine.fit(
            self,
            x,
            y,
            batch_size,
            epochs,
            verbose,
            callbacks,
            validation_split,
            validation_data,
            shuffle,
            class_weight,
            sample_weight,
            initial_epoch,
            steps_per_epoch,
            validation_steps,
            validation_batch_size,
            validation_freq,
        )

    def evaluate(
        self,
        x: Any,
        y: ArrayLike | None = None,
        batch_size: int | None = None,
        verbose: int = 0,
        sample_weight: ArrayLike | None = None,
        steps: int | None = None,
        callbacks: Sequence[Callback] | None = None,
        return_dict: bool = False,
    ) -> float | list[float] | dict[str, float]:
        """Return the loss and metrics on ``(x, y)``: ``[loss, *metrics]`` (a dict with
        ``return_dict=True``; just the loss when there are no metrics, as Keras)."""
        logs = engine.evaluate(self, x, y, batch_size, verbose, sample_weight, steps, callbacks)
        if verbose:
            print(" - ".join("%s: %.4f" % kv for kv in logs.items()))
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values if len(values) > 1 else values[0]

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: int = 0,
        steps: int | None = None,
        callbacks: Sequence[Callback] | None = None,
    ) -> np.ndarray:
        """Return the model's outputs (probabilities for sigmoid/softmax heads)."""
        return engine.predict(self, x, batch_size, verbose, steps, callbacks)

    def __call__(self, x: Any) -> np.ndarray:
        """The model's outputs for ``x`` (inference mode)."""
        return self.predict(x, batch_size=max(1, len(x)))

    # -- saving ------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The architecture as a JSON-serialisable dict."""
        config = {
            "name": self.name,
            "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()} for layer in self._layers],
            "build_input_shape": list(self._input_shape) if self._input_shape else None,
        }
        if self._preprocessing:
            config["preprocessing"] = [
                {"class_name": type(layer).__name__, "config": layer.get_config()} for layer in self._preprocessing
            ]
        return config

    def save_weights(self, path: str | os.PathLike) -> None:
        """Save the weights only (Keras' ``save_weights``; an ``.npz`` layout, written
        atomically). :meth:`load_weights` reads them into a model of the same layers."""
        self._ensure_built()
        with self._guard.reading():
            _saving.save_weights(self, path)

    def load_weights(self, path: str | os.PathLike) -> None:
        """Set the weights from a :meth:`save_weights` (or :meth:`save`) file; every array
        is checked before any is copied. The optimizer state is not touched."""
        self._ensure_built()
        with self._guard.writing():
            _saving.load_weights(self, path)

    def save(self, path: str | os.PathLike) -> None:
        """Save architecture, weights and optimizer state to one file (``.npz`` layout,
        read back without unpickling by :func:`load_model`). The file is written under a
        temporary name and renamed, so an interrupted save never leaves a broken file."""
        self._ensure_built()
        with self._guard.reading():
            if str(path).endswith(".keras"):
                from ._keras_format import save_keras

                save_keras(self, path)  # Keras 3's format (needs h5py)
            else:
                _saving.save_model(self, path)
