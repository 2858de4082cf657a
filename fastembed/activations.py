"""Activation functions with their derivatives (Keras names)."""

from __future__ import annotations

from typing import Any

import numpy as np


class Activation:
    """An element-wise (or, for softmax, row-wise) activation and its backward pass."""

    name = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return the activation of ``x``."""
        raise NotImplementedError

    def backward(self, x: np.ndarray, y: np.ndarray, grad_y: np.ndarray) -> np.ndarray:
        """Return dLoss/dx given the input ``x``, the output ``y`` and dLoss/dy."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return "activations.get(%r)" % self.name


class Linear(Activation):
    name = "linear"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, x: np.ndarray, y: np.ndarray, grad_y: np.ndarray) -> np.ndarray:
        return grad_y


class ReLU(Activation):
    name = "relu"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0)

    def backward(self, x: np.ndarray, y: np.ndarray, grad_y: np.ndarray) -> np.ndarray:
        return grad_y * (x > 0)


class Sigmoid(Activation):
    name = "sigmoid"

    def forward(self, x: np.ndarray) -> np.ndarray:
        # exp(-log(1 + exp(-x))) never overflows, for either sign of x.
        return np.exp(-np.logaddexp(0, -x)).astype(x.dtype, copy=False)

    def backward(self, x: np.ndarray, y: np.ndarray, grad_y: np.ndarray) -> np.ndarray:
        return grad_y * y * (1 - y)


class Tanh(Activation):
    name = "tanh"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def backward(self, x: np.ndarray, y: np.ndarray, grad_y: np.ndarray) -> np.ndarray:
        return grad_y * (1 - y * y)


class Softmax(Activation):
    name = "softmax"

    def forward(self, x: np.ndarray) -> np.ndarray:
        shifted = np.exp(x - x.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)

    def backward(self, x: np.ndarray, y: np.ndarray, grad_y: np.ndarray) -> np.ndarray:
        return y * (grad_y - (grad_y * y).sum(axis=-1, keepdims=True))


_ACTIVATIONS = {cls.name: cls for cls in (Linear, ReLU, Sigmoid, Tanh, Softmax)}


def get(identifier: Any) -> Activation:
    """Return the Activation for a name (``'relu'``, ``'sigmoid'``, ``'tanh'``,
    ``'softmax'``, ``'linear'`` or None), or ``identifier`` itself when it is one."""
    if identifier is None:
        return Linear()
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str) and identifier in _ACTIVATIONS:
        return _ACTIVATIONS[identifier]()
    raise ValueError("unknown activation %r; expected one of %s" % (identifier, sorted(_ACTIVATIONS)))


def serialize(activation: Activation) -> str:
    """The name to store in a model configuration."""
    return activation.name
