"""Losses (Keras names), each returning the batch mean and its gradient.

When the model's last activation is a sigmoid (softmax) and the loss is binary
(categorical) cross-entropy on probabilities, the model hands the *logits* to
:meth:`Loss.from_logits_value_and_grad` instead: the fused form is numerically stable
and its gradient is simply ``(p - y) / n``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._registry import resolve, serialize  # noqa: F401  (serialize is part of the API)

EPSILON = 1e-7  # Keras' backend epsilon: probabilities are clipped to [eps, 1 - eps]


def _sigmoid(z):
    return np.exp(-np.logaddexp(0, -z))


def _log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _as_columns(y_true, output_dim, name):
    """Labels as ``(n, output_dim)``: a 1-D array becomes one column."""
    if y_true.ndim == 1:
        y_true = y_true[:, None]
    if y_true.ndim != 2 or y_true.shape[1] != output_dim:
        raise ValueError(
            "%s: labels have %d columns but the model outputs %d"
            % (name, y_true.shape[1] if y_true.ndim == 2 else -1, output_dim)
        )
    return y_true


class Loss:
    """Base class. ``value_and_grad(y_true, y_pred)`` returns the mean loss over the batch
    and dLoss/dy_pred."""

    name = None
    #: the activation whose logits :meth:`from_logits_value_and_grad` accepts
    fuses_with = None
    #: the targets are class labels (int64), not float columns
    integer_targets = False

    def __init__(self, from_logits: bool = False) -> None:
        self.from_logits = bool(from_logits)

    def value_and_grad(self, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, np.ndarray]:
        """Return ``(mean loss, dLoss/dy_pred)``."""
        if self.from_logits:
            return self.from_logits_value_and_grad(y_true, y_pred)
        return self._value_and_grad(y_true, y_pred)

    def from_logits_value_and_grad(self, y_true: np.ndarray, logits: np.ndarray) -> tuple[float, np.ndarray]:
        """Loss and gradient w.r.t. the logits of ``fuses_with``."""
        raise NotImplementedError

    def sample_losses(self, y_true: np.ndarray, output: np.ndarray, logits: bool = False) -> np.ndarray:
        """Each sample's loss (their mean is what :meth:`value_and_grad` returns), for
        sample weights. ``logits``: ``output`` is the logits of ``fuses_with``."""
        if logits or self.from_logits:
            return self._logit_losses(y_true, output)
        return self._losses(y_true, output)

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {"from_logits": self.from_logits}

    def check_targets(self, y_true: np.ndarray, output_dim: int) -> np.ndarray:
        """Validate labels against the model output width; return them as used."""
        return y_true


class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"
    fuses_with = "sigmoid"

    def _value_and_grad(self, y_true, p):
        clipped = np.clip(p, EPSILON, 1 - EPSILON)
        loss = -(y_true * np.log(clipped) + (1 - y_true) * np.log(1 - clipped))
        grad = (clipped - y_true) / (clipped * (1 - clipped))
        grad = np.where((p > EPSILON) & (p < 1 - EPSILON), grad, 0)  # clip has no slope outside
        return float(loss.mean()), (grad / y_true.size).astype(p.dtype, copy=False)

    def from_logits_value_and_grad(self, y_true: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
        # log(1 + exp(-|z|)) + max(z, 0) - z*y: stable for any z.
        loss = np.logaddexp(0, -np.abs(z)) + np.maximum(z, 0) - z * y_true
        grad = (_sigmoid(z) - y_true) / y_true.size
        return float(loss.mean()), grad.astype(z.dtype, copy=False)

    def _losses(self, y_true, p):
        clipped = np.clip(p, EPSILON, 1 - EPSILON)
        return -(y_true * np.log(clipped) + (1 - y_true) * np.log(1 - clipped)).mean(axis=-1)

    def _logit_losses(self, y_true, z):
        return (np.logaddexp(0, -np.abs(z)) + np.maximum(z, 0) - z * y_true).mean(axis=-1)

    def check_targets(self, y_true: np.ndarray, output_dim: int) -> np.ndarray:
        y_true = _as_columns(y_true, output_dim, self.name)
        if y_true.size and (y_true.min() < 0 or y_true.max() > 1):
            raise ValueError(
                "binary_crossentropy needs labels in [0, 1], got values in [%g, %g]" % (y_true.min(), y_true.max())
            )
        return y_true


class CategoricalCrossentropy(Loss):
    name = "categorical_crossentropy"
    fuses_with = "softmax"

    def _value_and_grad(self, y_true, p):
        clipped = np.clip(p, EPSILON, 1 - EPSILON)
        loss = -(y_true * np.log(clipped)).sum(axis=-1)
        grad = np.where((p > EPSILON) & (p < 1 - EPSILON), -y_true / clipped, 0)
        return float(loss.mean()), (grad / y_true.shape[0]).astype(p.dtype, copy=False)

    def from_logits_value_and_grad(self, y_true: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
        log_p = _log_softmax(z)
        loss = -(y_true * log_p).sum(axis=-1)
        grad = (np.exp(log_p) - y_true) / y_true.shape[0]
        return float(loss.mean()), grad.astype(z.dtype, copy=False)

    def _losses(self, y_true, p):
        return -(y_true * np.log(np.clip(p, EPSILON, 1 - EPSILON))).sum(axis=-1)

    def _logit_losses(self, y_true, z):
        return -(y_true * _log_softmax(z)).sum(axis=-1)

    def check_targets(self, y_true: np.ndarray, output_dim: int) -> np.ndarray:
        if y_true.ndim != 2 or y_true.shape[1] != output_dim:
            raise ValueError(
                "categorical_crossentropy needs one-hot labels of shape (n, %d), got %s; "
                "use sparse_categorical_crossentropy for integer labels" % (output_dim, y_true.shape)
            )
        return y_true


class SparseCategoricalCrossentropy(Loss):
    name = "sparse_categorical_crossentropy"
    fuses_with = "softmax"
    integer_targets = True

    @staticmethod
    def _one_hot(labels, width, dtype):
        one_hot = np.zeros((labels.shape[0], width), dtype=dtype)
        one_hot[np.arange(labels.shape[0]), labels] = 1
        return one_hot

    def _value_and_grad(self, y_true, p):
        return CategoricalCrossentropy()._value_and_grad(self._one_hot(y_true, p.shape[-1], p.dtype), p)

    def from_logits_value_and_grad(self, y_true: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
        return CategoricalCrossentropy().from_logits_value_and_grad(self._one_hot(y_true, z.shape[-1], z.dtype), z)

    def _losses(self, y_true, p):
        return CategoricalCrossentropy()._losses(self._one_hot(y_true, p.shape[-1], p.dtype), p)

    def _logit_losses(self, y_true, z):
        return CategoricalCrossentropy()._logit_losses(self._one_hot(y_true, z.shape[-1], z.dtype), z)

    def check_targets(self, y_true: np.ndarray, output_dim: int) -> np.ndarray:
        if y_true.ndim == 2 and y_true.shape[1] == 1:
            y_true = y_true[:, 0]
        if y_true.ndim != 1:
            raise ValueError(
                "sparse_categorical_crossentropy needs integer class labels of shape (n,), got %s" % (y_true.shape,)
            )
        if y_true.size and not np.all(y_true == np.round(y_true)):
            raise ValueError("sparse_categorical_crossentropy needs integer class labels")
        labels = y_true.astype(np.int64)
        if labels.size and (labels.min() < 0 or labels.max() >= output_dim):
            raise ValueError(
                "class labels must lie in [0, %d), got values in [%d, %d]" % (output_dim, labels.min(), labels.max())
            )
        return labels


class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def _value_and_grad(self, y_true, p):
        diff = p - y_true
        return float((diff * diff).mean()), (2 * diff / diff.size).astype(p.dtype, copy=False)

    def from_logits_value_and_grad(self, y_true: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
        return self._value_and_grad(y_true, z)

    def _losses(self, y_true, p):
        return np.square(p - y_true).mean(axis=-1)

    _logit_losses = _losses

    def check_targets(self, y_true: np.ndarray, output_dim: int) -> np.ndarray:
        return _as_columns(y_true, output_dim, self.name)


_LOSSES = {
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
}


def get(identifier: Any) -> Loss:
    """Return a Loss for a Keras name, a ``{"class_name", "config"}`` dict or a Loss."""
    return resolve(identifier, Loss, _LOSSES, "loss")
