"""Keras-style layers with explicit forward and backward passes.

Each layer caches what its backward pass needs during ``forward(..., training=True)``.
``backward(grad)`` returns the gradient w.r.t. the layer's input and leaves the gradients
of its weights in ``layer.grads`` (same order as ``layer.weights``). The Embedding's
gradient is sparse: a :class:`fastembed.SparseRows` in ``layer.sparse_grad``.

Layers that own an embedding table also have ``backward_update(grad, optimizer, key)``:
the table's gradient is sparse, so they hand it to the optimizer's sparse rule
themselves (fused with the backward pass where the kernels allow).

Fusion is declared by the layers, not decided by the model: ``layer.fuse(following)``
returns one layer that computes both (or None). ``Embedding.fuse`` turns Embedding +
GlobalAverage/MaxPooling1D into an :class:`EmbeddingBag` that shares the table, so the
``(batch, seq, dim)`` tensor is never built; the training engine applies it when it plans
a call (fastembed/engine).
"""

from __future__ import annotations

import math
import re
import warnings
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np

from . import activations as activations_module
from . import initializers, ops, regularizers
from ._random import new_generator
from ._validation import check_mode
from .ragged import Ragged

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .initializers import Initializer
    from .optimizers import Optimizer
    from .regularizers import L2

_NAME_COUNTS = {}


def _unique_name(base):
    count = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = count + 1
    return base if count == 0 else "%s_%d" % (base, count)


def _as_tensor(value):
    """Layer calls return fastembed.data.Tensor (an ndarray with tf's ``.numpy()``)."""
    from .data import Tensor

    return value.view(Tensor) if isinstance(value, np.ndarray) else value


def _snake_case(name):
    """Keras' default layer names: GlobalAveragePooling1D -> global_average_pooling1d."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class Layer:
    """Base class.

    Parameters
    ----------
    name : str, optional
        Unique default from the class name (``dense``, ``dense_1``, ...), as in Keras.
    trainable : bool, default True
        False freezes the layer's weights.
    """

    #: names of the weights, in Keras order (e.g. kernel, bias)
    weight_names = ()

    def __init__(self, name: str | None = None, trainable: bool = True) -> None:
        self.name = name or _unique_name(_snake_case(type(self).__name__))
        self.trainable = bool(trainable)
        self.built = False
        self.input_shape = None
        self.grads = []

    # -- construction ------------------------------------------------------------------
    def build(self, input_shape: Sequence[int | None]) -> None:
        """Create the weights for inputs of ``input_shape`` (batch dimension None)."""
        self.input_shape = tuple(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        """Shape of the output for an input of ``input_shape``."""
        return tuple(input_shape)

    @property
    def weights(self) -> list[np.ndarray]:
        """list of ndarray: the layer's weights (the arrays themselves, updated in place)."""
        return [getattr(self, name) for name in self.weight_names] if self.built else []

    def get_weights(self) -> list[np.ndarray]:
        """Return copies of the weights, in Keras order."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: Iterable[ArrayLike]) -> None:
        """Set the weights from a list of arrays of the right shapes (copied in place)."""
        current = self.weights
        weights = list(weights)
        if len(weights) != len(current):
            raise ValueError("layer %s has %d weights, got %d" % (self.name, len(current), len(weights)))
        checked = []
        for target, value, name in zip(current, weights, self.weight_names):
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(
                    "layer %s: %s must have shape %s, got %s" % (self.name, name, target.shape, value.shape)
                )
            if value.dtype.kind not in "fiu":
                raise TypeError("layer %s: %s must be numbers, got %s" % (self.name, name, value.dtype))
            # Checked after the cast: 1e300 is finite in float64 but inf in float32.
            with np.errstate(over="ignore"):
                value = value.astype(target.dtype, copy=False)
            if not np.all(np.isfinite(value)):
                raise ValueError(
                    "layer %s: %s contains NaN or infinity (or values too large for %s)"
                    % (self.name, name, target.dtype)
                )
            checked.append(value)
        for target, value in zip(current, checked):  # all checked first: all or nothing
            np.copyto(target, value)

    def count_params(self) -> int:
        """Number of scalars in the weights."""
        return int(sum(w.size for w in self.weights))

    def weight_shapes(self, input_shape: Sequence[int | None]) -> dict[str, tuple[int, ...]]:
        """The shape of each weight :meth:`build` would create for ``input_shape``, by
        name, without creating them (a loader checks a file against it first)."""
        return {}

    # -- computation -------------------------------------------------------------------
    def forward(self, inputs: Any, mask: np.ndarray | None = None, training: bool = False) -> np.ndarray:
        """Compute the output (and, in training, cache what backward needs)."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        """Return dLoss/dinputs; store the weight gradients in ``self.grads``."""
        raise NotImplementedError

    def compute_mask(self, inputs: Any, mask: np.ndarray | None) -> np.ndarray | None:
        """Mask for the next layer (Keras mask propagation): passed through by default."""
        return mask

    def fuse(self, following: Layer) -> Layer | None:
        """One layer computing ``following(self(x))`` in a single pass, or None (default)."""
        return None

    def __call__(self, inputs: ArrayLike, mask: np.ndarray | None = None) -> np.ndarray:
        """Apply the layer (inference mode), building it first if needed."""
        inputs = np.asarray(inputs)
        if not self.built:
            self.build((None,) + inputs.shape[1:])
        return _as_tensor(self.forward(inputs, mask=mask, training=False))

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments (JSON-serialisable)."""
        return {"name": self.name, "trainable": self.trainable}

    def __repr__(self) -> str:
        return "<%s name=%s>" % (type(self).__name__, self.name)


class Embedding(Layer):
    """Maps integer ids to dense trainable vectors: output ``(batch, seq, output_dim)``.

    Parameters
    ----------
    input_dim : int
        Vocabulary size: ids lie in ``[0, input_dim)``.
    output_dim : int
        Size of each vector.
    embeddings_initializer : str or Initializer, default 'uniform'
        Keras' default, uniform in [-0.05, 0.05].
    embeddings_regularizer : None, 'l2' or regularizers.l2(value)
        Applied lazily to the rows each batch touches.
    mask_zero : bool, default False
        Treat id 0 as padding: following layers leave it out (and the fused path skips it).
    weights : list of one array, optional
        Initial ``(input_dim, output_dim)`` weights, e.g. pretrained vectors.
    trainable : bool, default True
    name : str, optional
    """

    weight_names = ("embeddings",)

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: str | Initializer | dict[str, Any] = "uniform",
        embeddings_regularizer: str | L2 | dict[str, Any] | None = None,
        mask_zero: bool = False,
        weights: Sequence[ArrayLike] | None = None,
        trainable: bool = True,
        name: str | None = None,
        input_length: int | None = None,
    ) -> None:
        super().__init__(name, trainable)
        if int(input_dim) < 1 or int(output_dim) < 1:
            raise ValueError("Embedding needs input_dim >= 1 and output_dim >= 1, got %r, %r" % (input_dim, output_dim))
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.mask_zero = bool(mask_zero)
        self.input_length = input_length
        self._initial_weights = weights
        self.sparse_grad = None

    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
        self.embeddings = self.embeddings_initializer((self.input_dim, self.output_dim), np.float32)
        super().build(input_shape if input_shape is not None else (None, self.input_length))
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return tuple(input_shape) + (self.output_dim,)

    def weight_shapes(self, input_shape: Sequence[int | None]) -> dict[str, tuple[int, ...]]:
        return {"embeddings": (self.input_dim, self.output_dim)}

    @property
    def padding_idx(self) -> int | None:
        """The id the kernels skip: 0 with ``mask_zero``, else None."""
        return 0 if self.mask_zero else None

    def forward(
        self,
        inputs: ArrayLike,
        mask: np.ndarray | None = None,
        training: bool = False,
    ) -> np.ndarray:
        out = ops.embedding_lookup(self.embeddings, inputs)
        if training:
            self._ids = inputs
        return out

    def compute_mask(self, inputs: ArrayLike, mask: np.ndarray | None) -> np.ndarray | None:
        return (np.asarray(inputs) != 0) if self.mask_zero else None

    def backward(self, grad: np.ndarray) -> None:
        self.sparse_grad = ops.embedding_lookup_backward(grad, self._ids, num_rows=self.input_dim)
        self.grads = []
        return None  # ids have no gradient

    @property
    def weight_decay(self) -> float:
        """The L2 regulariser as the sparse rules' weight decay (``2 * l2``), applied to
        the rows a batch touches."""
        return 2 * self.embeddings_regularizer.l2 if self.embeddings_regularizer else 0.0

    def backward_update(self, grad: np.ndarray, optimizer: Optimizer, key: str) -> None:
        """Backward pass and optimizer step of the table (its gradient is sparse)."""
        self.backward(grad)
        squares = None
        if optimizer.occurrence_squares:
            # One occurrence per position: the per-id sums of the squared position gradients.
            squares = ops.embedding_lookup_backward(grad * grad, self._ids, num_rows=self.input_dim)
        optimizer.apply_embedding(key, self.embeddings, self.sparse_grad, self.weight_decay, squares)

    def fuse(self, following: Layer) -> EmbeddingBag | None:
        """Embedding + a global pooling layer: one :class:`EmbeddingBag` on the same table
        (``mask_zero`` becomes ``padding_idx=0``, the masked mean or max)."""
        mode = getattr(following, "bag_mode", None)
        if mode is None or not self.built:
            return None
        return EmbeddingBag._sharing(self, mode)

    def get_config(self) -> dict[str, Any]:
        return dict(
            super().get_config(),
            input_dim=self.input_dim,
            output_dim=self.output_dim,
            embeddings_initializer=initializers.serialize(self.embeddings_initializer),
            embeddings_regularizer=regularizers.serialize(self.embeddings_regularizer),
            mask_zero=self.mask_zero,
            input_length=self.input_length,
        )


class EmbeddingBag(Layer):
    """Looks up and pools bags of ids in one pass: PyTorch's ``nn.EmbeddingBag``.

    Input: padded ``(batch, seq)`` ids or a :class:`fastembed.Ragged` (each row one bag);
    output ``(batch, output_dim)``. Never builds the ``(batch, seq, dim)`` tensor.

    Parameters
    ----------
    input_dim : int
        Vocabulary size: ids lie in ``[0, input_dim)``.
    output_dim : int
    mode : {'mean', 'sum', 'max'}, default 'mean'
    padding_idx : int, optional
        Entries equal to it are left out of every bag (PyTorch's semantics; Keras'
        ``mask_zero=True`` is ``padding_idx=0``). Empty and fully padded bags give zeros.
    embeddings_initializer, embeddings_regularizer, weights, trainable, name :
        As for :class:`Embedding`.
    """

    weight_names = ("embeddings",)

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        mode: str = "mean",
        padding_idx: int | None = None,
        embeddings_initializer: str | Initializer | dict[str, Any] = "uniform",
        embeddings_regularizer: str | L2 | dict[str, Any] | None = None,
        weights: Sequence[ArrayLike] | None = None,
        trainable: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(name, trainable)
        if int(input_dim) < 1 or int(output_dim) < 1:
            raise ValueError(
                "EmbeddingBag needs input_dim >= 1 and output_dim >= 1, got %r, %r" % (input_dim, output_dim)
            )
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        check_mode(mode)
        self.mode = mode
        if padding_idx is not None:
            padding_idx = int(padding_idx)
            if not -self.input_dim <= padding_idx < self.input_dim:
                raise ValueError("padding_idx %d is out of range for %d rows" % (padding_idx, self.input_dim))
            padding_idx %= self.input_dim
        self.padding_idx = padding_idx
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self._initial_weights = weights
        self.sparse_grad = None

    @classmethod
    def _sharing(cls, embedding, mode):
        """The bag over ``embedding``'s own table (the weights are the same array). A
        max bag keeps padding in, as Keras' GlobalMaxPooling1D ignores the mask."""
        padding_idx = embedding.padding_idx
        if mode == "max" and padding_idx is not None:
            warnings.warn(_MAX_POOLING_MASK_WARNING, stacklevel=4)
            padding_idx = None
        bag = cls(
            embedding.input_dim,
            embedding.output_dim,
            mode=mode,
            padding_idx=padding_idx,
            embeddings_regularizer=embedding.embeddings_regularizer,
            trainable=embedding.trainable,
            name=embedding.name,
        )
        bag.embeddings = embedding.embeddings
        Layer.build(bag, (None, None))
        return bag

    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
        self.embeddings = self.embeddings_initializer((self.input_dim, self.output_dim), np.float32)
        super().build(input_shape if input_shape is not None else (None, None))
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return (input_shape[0], self.output_dim)

    weight_shapes = Embedding.weight_shapes

    def compute_mask(self, inputs: Any, mask: np.ndarray | None) -> None:
        return None

    weight_decay = Embedding.weight_decay

    def forward(
        self,
        inputs: ArrayLike | Ragged,
        mask: np.ndarray | None = None,
        training: bool = False,
    ) -> np.ndarray:
        ids, offsets = (inputs.values, inputs.offsets) if isinstance(inputs, Ragged) else (inputs, None)
        out = ops.embedding_bag(self.embeddings, ids, offsets, mode=self.mode, padding_idx=self.padding_idx)
        if training:
            self._ids, self._offsets = ids, offsets
        return out

    def backward(self, grad: np.ndarray) -> None:
        self.sparse_grad = ops.embedding_bag_backward(
            grad, self._ids, self._offsets, mode=self.mode, padding_idx=self.padding_idx, weights=self.embeddings
        )
        self.grads = []
        return None  # ids have no gradient

    def backward_update(self, grad: np.ndarray, optimizer: Optimizer, key: str) -> None:
        """Backward pass and optimizer step of the table: one fused kernel for lazy rules
        without per-occurrence squares, else the gradient, its squares and the rule."""
        if optimizer.lazy_embeddings and not optimizer.occurrence_squares:
            ops.embedding_bag_backward_update(
                self.embeddings,
                grad,
                self._ids,
                self._offsets,
                mode=self.mode,
                padding_idx=self.padding_idx,
                optimizer=optimizer.sparse_rule(key, self.weight_decay),
            )
            return
        self.backward(grad)
        squares = self._occurrence_squares(grad) if optimizer.occurrence_squares else None
        optimizer.apply_embedding(key, self.embeddings, self.sparse_grad, self.weight_decay, squares)

    def _occurrence_squares(self, grad):
        """Per id, the sum over its occurrences of the squared gradient each one gets:
        ``(grad[bag] / count)**2`` for a mean bag, ``grad[bag]**2`` for sum and for the
        maximal entry of a max bag. The bag backward does the routing: fed
        ``grad**2 / count`` it scales each occurrence by ``1 / count`` once more."""
        squared = grad * grad
        if self.mode == "mean":
            ids = np.asarray(self._ids)  # flat values when ragged (forward keeps them so)
            if self._offsets is None:
                counts = (
                    np.full(ids.shape[0], ids.shape[1])
                    if self.padding_idx is None
                    else np.count_nonzero(ids != self.padding_idx, axis=1)
                )
            else:
                lengths = np.diff(self._offsets)
                kept = (ids != self.padding_idx) if self.padding_idx is not None else np.ones(ids.shape, bool)
                counts = np.bincount(np.repeat(np.arange(lengths.size), lengths)[kept], minlength=lengths.size)
            squared = squared / np.maximum(counts, 1).astype(squared.dtype)[:, None]
        return ops.embedding_bag_backward(
            squared, self._ids, self._offsets, mode=self.mode, padding_idx=self.padding_idx, weights=self.embeddings
        )

    def __call__(self, inputs: ArrayLike | Ragged, mask: np.ndarray | None = None) -> np.ndarray:
        if not self.built:
            self.build()
        if not isinstance(inputs, Ragged):
            inputs = np.asarray(inputs)
        return self.forward(inputs, mask=mask, training=False)

    def get_config(self) -> dict[str, Any]:
        return dict(
            super().get_config(),
            input_dim=self.input_dim,
            output_dim=self.output_dim,
            mode=self.mode,
            padding_idx=self.padding_idx,
            embeddings_initializer=initializers.serialize(self.embeddings_initializer),
            embeddings_regularizer=regularizers.serialize(self.embeddings_regularizer),
        )


class _GlobalPooling1D(Layer):
    """Pools ``(batch, steps, features)`` over the steps, leaving masked steps out."""

    #: the embedding_bag mode that fuses this layer with a preceding Embedding
    bag_mode = None

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return (input_shape[0], input_shape[-1])

    def compute_mask(self, inputs: Any, mask: np.ndarray | None) -> None:
        return None


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over the steps; masked (padding) steps are left out, and a fully masked row
    gives zeros, never NaN."""

    bag_mode = "mean"

    def forward(
        self,
        inputs: ArrayLike,
        mask: np.ndarray | None = None,
        training: bool = False,
    ) -> np.ndarray:
        x = np.asarray(inputs)
        if mask is None:
            counts = np.full((x.shape[0], 1), x.shape[1], dtype=x.dtype)
            out = x.mean(axis=1) if x.shape[1] else np.zeros((x.shape[0], x.shape[2]), x.dtype)
        else:
            weights = mask.astype(x.dtype)[:, :, None]
            counts = weights.sum(axis=1)
            out = (x * weights).sum(axis=1) / np.maximum(counts, 1)
        if training:
            self._shape, self._mask, self._counts = x.shape, mask, np.maximum(counts, 1)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self.grads = []
        out = np.broadcast_to((grad / self._counts)[:, None, :], self._shape).copy()
        if self._mask is not None:
            out *= self._mask[:, :, None]
        return out


_MAX_POOLING_MASK_WARNING = (
    "GlobalMaxPooling1D does not support masking, as in Keras: the padding steps of a mask_zero Embedding take "
    "part in the max. Use EmbeddingBag(mode='max', padding_idx=0) to leave them out."
)


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Max over the steps. As in Keras, a mask is not supported: padding steps take part
    (Keras warns and drops the mask; so does this layer). ``EmbeddingBag(mode='max',
    padding_idx=0)`` leaves padding out. The gradient goes to the first step holding the
    maximum."""

    bag_mode = "max"
    supports_masking = False

    def forward(
        self,
        inputs: ArrayLike,
        mask: np.ndarray | None = None,
        training: bool = False,
    ) -> np.ndarray:
        x = np.asarray(inputs)
        if mask is not None:
            warnings.warn(_MAX_POOLING_MASK_WARNING, stacklevel=3)
            mask = None
        masked = x
        if x.shape[1] == 0:
            out, argmax = np.zeros((x.shape[0], x.shape[2]), x.dtype), None
        else:
            argmax = masked.argmax(axis=1)
            out = np.take_along_axis(masked, argmax[:, None, :], axis=1)[:, 0, :]
            out = np.where(np.isfinite(out) | (mask is None), out, 0).astype(x.dtype)
        if training:
            self._shape, self._argmax, self._mask = x.shape, argmax, mask
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self.grads = []
        out = np.zeros(self._shape, dtype=grad.dtype)
        if self._argmax is not None:
            valid = np.ones(grad.shape, bool) if self._mask is None else self._mask.any(axis=1)[:, None]
            np.put_along_axis(out, self._argmax[:, None, :], (grad * valid)[:, None, :], axis=1)
        return out


class Dense(Layer):
    """``activation(inputs @ kernel + bias)`` on the last axis.

    Parameters
    ----------
    units : int
    activation : str or None
        relu, sigmoid, tanh, softmax, linear.
    use_bias : bool, default True
    kernel_initializer : default 'glorot_uniform'
    bias_initializer : default 'zeros'
    kernel_regularizer : None, 'l2' or regularizers.l2(value)
    """

    def __init__(
        self,
        units: int,
        activation: str | activations_module.Activation | None = None,
        use_bias: bool = True,
        kernel_initializer: str | Initializer | dict[str, Any] = "glorot_uniform",
        bias_initializer: str | Initializer | dict[str, Any] = "zeros",
        kernel_regularizer: str | L2 | dict[str, Any] | None = None,
        trainable: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(name, trainable)
        if int(units) < 1:
            raise ValueError("Dense needs units >= 1, got %r" % (units,))
        self.units = int(units)
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.weight_names = ("kernel", "bias") if self.use_bias else ("kernel",)

    def build(self, input_shape: Sequence[int | None]) -> None:
        if input_shape[-1] is None:
            raise ValueError("Dense %s needs a known last input dimension, got %s" % (self.name, input_shape))
        self.kernel = self.kernel_initializer((input_shape[-1], self.units), np.float32)
        if self.use_bias:
            self.bias = self.bias_initializer((self.units,), np.float32)
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return tuple(input_shape[:-1]) + (self.units,)

    def weight_shapes(self, input_shape: Sequence[int | None]) -> dict[str, tuple[int, ...]]:
        shapes = {"kernel": (input_shape[-1], self.units)}
        if self.use_bias:
            shapes["bias"] = (self.units,)
        return shapes

    def forward(
        self,
        inputs: ArrayLike,
        mask: np.ndarray | None = None,
        training: bool = False,
        apply_activation: bool = True,
    ) -> np.ndarray:
        x = np.asarray(inputs)
        if x.shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                "Dense %s expects %d input features, got shape %s" % (self.name, self.kernel.shape[0], x.shape)
            )
        z = x @ self.kernel
        if self.use_bias:
            z += self.bias
        y = self.activation.forward(z) if apply_activation else z
        if training:
            self._x, self._z, self._y = x, z, y
        return y

    def backward(self, grad: np.ndarray, through_activation: bool = True) -> np.ndarray:
        """``through_activation=False`` when ``grad`` is already w.r.t. the pre-activation
        (the model fused this layer's sigmoid/softmax into the loss)."""
        g = self.activation.backward(self._z, self._y, grad) if through_activation else grad
        x2 = self._x.reshape(-1, self._x.shape[-1])
        g2 = g.reshape(-1, self.units)
        kernel_grad = x2.T @ g2
        if self.kernel_regularizer is not None:
            kernel_grad += 2 * self.kernel_regularizer.l2 * self.kernel
        self.grads = [kernel_grad] + ([g2.sum(axis=0)] if self.use_bias else [])
        return (g2 @ self.kernel.T).reshape(self._x.shape)

    def regularization_loss(self) -> float:
        """The L2 penalty of the kernel (0 without a regulariser)."""
        if self.kernel_regularizer is None:
            return 0.0
        return float(self.kernel_regularizer.l2 * np.square(self.kernel, dtype=np.float64).sum())

    def get_config(self) -> dict[str, Any]:
        return dict(
            super().get_config(),
            units=self.units,
            activation=activations_module.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
        )


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of the inputs in training and scales the rest by
    ``1 / (1 - rate)``; the identity at inference."""

    def __init__(
        self,
        rate: float,
        seed: int | None = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(name, trainable)
        if not 0 <= float(rate) < 1:
            raise ValueError("Dropout rate must be in [0, 1), got %r" % (rate,))
        self.rate = float(rate)
        self.seed = seed
        self._rng = None

    def forward(
        self,
        inputs: ArrayLike,
        mask: np.ndarray | None = None,
        training: bool = False,
    ) -> np.ndarray:
        x = np.asarray(inputs)
        if not training:
            return x  # inference leaves the layer's training state alone (another thread may fit)
        if self.rate == 0:
            self._keep = None
            return x
        if self._rng is None:
            self._rng = new_generator(self.seed)
        self._keep = (self._rng.random(x.shape) >= self.rate).astype(x.dtype) / (1 - self.rate)
        return x * self._keep

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self.grads = []
        return grad if self._keep is None else grad * self._keep

    def get_config(self) -> dict[str, Any]:
        return dict(super().get_config(), rate=self.rate, seed=self.seed)


class Activation(Layer):
    """Applies an activation function."""

    def __init__(
        self,
        activation: str | activations_module.Activation | None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(name, trainable)
        self.activation = activations_module.get(activation)

    def forward(
        self,
        inputs: ArrayLike,
        mask: np.ndarray | None = None,
        training: bool = False,
    ) -> np.ndarray:
        x = np.asarray(inputs)
        y = self.activation.forward(x)
        if training:
            self._x, self._y = x, y
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self.grads = []
        return self.activation.backward(self._x, self._y, grad)

    def get_config(self) -> dict[str, Any]:
        return dict(super().get_config(), activation=activations_module.serialize(self.activation))


class Flatten(Layer):
    """Reshapes ``(batch, ...)`` to ``(batch, product of the rest)``."""

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        rest = input_shape[1:]
        return (input_shape[0], None if any(d is None for d in rest) else int(math.prod(rest)))

    def forward(
        self,
        inputs: ArrayLike,
        mask: np.ndarray | None = None,
        training: bool = False,
    ) -> np.ndarray:
        x = np.asarray(inputs)
        if training:
            self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def compute_mask(self, inputs: Any, mask: np.ndarray | None) -> None:
        return None

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self.grads = []
        return grad.reshape(self._shape)


# Keras' preprocessing layer, defined with the text code (it wraps TextVectorizer). The
# import sits here, after Layer exists, because that module subclasses it.
from .text.layer import TextVectorization  # noqa: E402

LAYER_CLASSES: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (
        Embedding,
        EmbeddingBag,
        GlobalAveragePooling1D,
        GlobalMaxPooling1D,
        Dense,
        Dropout,
        Activation,
        Flatten,
        TextVectorization,
    )
}


def deserialize(description: Mapping[str, Any]) -> Layer:
    """Rebuild a layer from ``{"class_name", "config"}`` (as stored by model.save)."""
    cls = LAYER_CLASSES.get(description.get("class_name"))
    if cls is None:
        raise ValueError("unknown layer class %r" % (description.get("class_name"),))
    config = dict(description.get("config", {}))
    return cls(**config)
