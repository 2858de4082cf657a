"""Weight initialisers, by Keras name or as objects; seeded from fastembed.set_random_seed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ._random import new_generator
from ._registry import resolve, serialize  # noqa: F401  (serialize is part of the API)

if TYPE_CHECKING:
    from numpy.typing import DTypeLike


class Initializer:
    """Callable ``init(shape, dtype) -> ndarray``. ``seed=None`` draws a seed from the
    library generator when the weights are created, so ``set_random_seed`` governs it."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def __call__(self, shape: Sequence[int], dtype: DTypeLike = np.float32) -> np.ndarray:
        return np.asarray(self.sample(new_generator(self.seed), tuple(shape)), dtype=dtype)

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {"seed": self.seed}


class RandomUniform(Initializer):
    """Uniform in ``[minval, maxval)``; Keras' ``'uniform'`` is (-0.05, 0.05)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.uniform(self.minval, self.maxval, size=shape)

    def get_config(self) -> dict[str, Any]:
        return dict(super().get_config(), minval=self.minval, maxval=self.maxval)


class RandomNormal(Initializer):
    """Normal with ``mean`` and ``stddev`` (Keras default stddev 0.05)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.normal(self.mean, self.stddev, size=shape)

    def get_config(self) -> dict[str, Any]:
        return dict(super().get_config(), mean=self.mean, stddev=self.stddev)


def _fans(shape):
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


class GlorotUniform(Initializer):
    """Uniform in ``±sqrt(6 / (fan_in + fan_out))`` (Keras' Dense default)."""

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        fan_in, fan_out = _fans(shape)
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape)


class GlorotNormal(Initializer):
    """Truncation-free normal with stddev ``sqrt(2 / (fan_in + fan_out))``."""

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        fan_in, fan_out = _fans(shape)
        return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=shape)


class HeUniform(Initializer):
    """Uniform in ``±sqrt(6 / fan_in)``."""

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        fan_in, _ = _fans(shape)
        limit = np.sqrt(6.0 / fan_in)
        return rng.uniform(-limit, limit, size=shape)


class Constant(Initializer):
    """Every element equal to ``value``."""

    def __init__(self, value: float = 0.0) -> None:
        super().__init__(None)
        self.value = float(value)

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return np.full(shape, self.value)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class Zeros(Constant):
    def __init__(self) -> None:
        super().__init__(0.0)

    def get_config(self) -> dict[str, Any]:
        return {}


class Ones(Constant):
    def __init__(self) -> None:
        super().__init__(1.0)

    def get_config(self) -> dict[str, Any]:
        return {}


_BY_NAME = {
    "uniform": RandomUniform,
    "random_uniform": RandomUniform,
    "normal": RandomNormal,
    "random_normal": RandomNormal,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
}


def get(identifier: Any) -> Initializer:
    """Return an Initializer for a Keras name, a ``{"class_name", "config"}`` dict, or an
    Initializer (returned as is)."""
    return resolve(identifier, Initializer, _BY_NAME, "initializer")
