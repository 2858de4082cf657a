"""Sparse (lazy) optimizer rules for one embedding table: hyper-parameters and state.

These objects hold no kernel code: :func:`fastembed.ops.sparse_update` and the fused
``*_backward_update`` ops apply them with the compiled kernels, and the functions of the
same names in :mod:`fastembed.reference` with NumPy. Only the rows a gradient touches are
updated, state included ("lazy" updates); weight decay is likewise applied to touched rows
only, as an L2 term added to their gradient.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from ._validation import FLOAT_DTYPES

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

try:  # the kernel's rule codes, by rule name (one source: _kernels/_optim.pyx)
    from ._kernels._optim import RULE_CODES as _RULE_CODES
except ImportError:  # uncompiled tree: the NumPy twins dispatch on the names
    _RULE_CODES = {}


def _check_number(name, value, low=None, high=None, low_open=False, high_open=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError("%s must be a number, got %r" % (name, value))
    value = float(value)
    if not math.isfinite(value):
        raise ValueError("%s must be finite, got %r" % (name, value))
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError("%s must be %s %s, got %r" % (name, ">" if low_open else ">=", low, value))
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError("%s must be %s %s, got %r" % (name, "<" if high_open else "<=", high, value))
    return value


class FixedHyperparameters:
    """Hyper-parameters that are read-only once the object is built (``_freeze()`` at the
    end of the constructor), except the names in ``_MUTABLE``; the numbers among those are
    checked again when set. A subclass may still add attributes of its own."""

    _MUTABLE = frozenset()
    #: keyword arguments of the range check for the mutable numbers
    _CHECKS = {"learning_rate": {"low": 0.0, "low_open": True}, "weight_decay": {"low": 0.0}}

    def _freeze(self):
        object.__setattr__(self, "_fixed", frozenset(self.__dict__) - self._MUTABLE)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_fixed" in self.__dict__:
            if name in self._fixed or name == "_fixed":
                raise AttributeError(
                    "%s.%s is fixed at construction (the optimizer's state was built for "
                    "it); create a new optimizer instead" % (type(self).__name__, name)
                )
            if name in self._CHECKS:
                value = _check_number(name, value, **self._CHECKS[name])
        object.__setattr__(self, name, value)


class SparseOptimizer(FixedHyperparameters):
    """Base class: learning rate, lazy weight decay, max-norm, and per-row state.

    Parameters
    ----------
    learning_rate : float
    weight_decay : float, default 0
        L2 coefficient added to the gradient of each touched row (``g + wd * w``).
    max_norm : float or None
        After the update, touched rows whose L2 norm exceeds it are rescaled to it.
    """

    #: The rule's name (the kernel's code is looked up by it: :attr:`kind`).
    rule_name = None
    #: Names of the state arrays this rule keeps: a subset of state1, state2, row_state.
    state_names = ()
    # What may change after construction: the learning rate (schedules, Keras' optimizer
    # passes its own) and the weight decay (validated), and the state the steps keep.
    # Everything else sized or shaped the state: changing it would let a kernel write
    # through a buffer that does not exist (a momentum set after construction).
    _MUTABLE = frozenset({"learning_rate", "weight_decay", "iterations", "state1", "state2", "row_state"})

    def __init__(self, learning_rate: float, weight_decay: float = 0.0, max_norm: float | None = None) -> None:
        self.learning_rate = _check_number("learning_rate", learning_rate, 0.0, low_open=True)
        self.weight_decay = _check_number("weight_decay", weight_decay, 0.0)
        self.max_norm = None if max_norm is None else _check_number("max_norm", max_norm, 0.0, low_open=True)
        self.iterations = 0
        self.state1 = self.state2 = self.row_state = None

    @property
    def kind(self) -> int:
        """int: the kernel's code of this rule."""
        return _RULE_CODES[self.rule_name]

    # -- state -------------------------------------------------------------------------
    def _initial_state(self, name, shape, dtype):
        return np.zeros(shape, dtype=dtype)

    def build(self, weights: np.ndarray) -> None:
        """Allocate the state for a table like ``weights``, or check the state matches it.

        Parameters
        ----------
        weights : ndarray, shape (num_rows, dim)
        """
        for name in self.state_names:
            expected = weights.shape[:1] if name == "row_state" else weights.shape
            current = getattr(self, name)
            if current is None:
                setattr(self, name, self._initial_state(name, expected, weights.dtype))
            elif (
                current.shape != expected
                or current.dtype != weights.dtype
                or not current.flags.c_contiguous
                or not current.flags.writeable
            ):
                raise ValueError(
                    "%s state %s is a %s %s array, but the table is %s %s (state must match it "
                    "and be writeable and C-contiguous): use one optimizer object per table"
                    % (type(self).__name__, name, current.dtype, current.shape, weights.dtype, weights.shape)
                )

    def get_state(self) -> dict[str, np.ndarray]:
        """Return the state as a dict of NumPy arrays (``iterations`` included).

        Returns
        -------
        dict
        """
        state = {"iterations": np.asarray(self.iterations, dtype=np.int64)}
        for name in self.state_names:
            if getattr(self, name) is not None:
                state[name] = getattr(self, name)
        return state

    def set_state(self, state: Mapping[str, ArrayLike]) -> None:
        """Restore what :meth:`get_state` returned (checked against the table at the next step).

        Parameters
        ----------
        state : dict
        """
        arrays = {}
        for name in self.state_names:
            if name not in state:
                raise ValueError("%s state is missing %r" % (type(self).__name__, name))
            array = np.array(state[name], order="C", copy=True)
            if array.dtype not in FLOAT_DTYPES:
                raise TypeError("optimizer state %s must be float32 or float64, got %s" % (name, array.dtype))
            arrays[name] = array
        self.iterations = int(state.get("iterations", 0))
        for name, array in arrays.items():
            setattr(self, name, array)

    # -- one step ----------------------------------------------------------------------
    def _hyperparameters(self):
        return {}

    def begin_step(self, weights: np.ndarray) -> dict[str, Any]:
        """Build the state if needed, count the step and return the kernel's parameters.

        Parameters
        ----------
        weights : ndarray
            The table about to be updated (already validated).

        Returns
        -------
        dict
        """
        self.build(weights)
        self.iterations += 1
        return self._kernel_params()

    def kernel_params(self, weights: np.ndarray) -> dict[str, Any]:
        """Build the state for ``weights`` if needed and return the kernel's parameters
        for the current step count, without counting a step (the compiled training loop
        counts its own steps).

        Parameters
        ----------
        weights : ndarray

        Returns
        -------
        dict
        """
        self.build(weights)
        return self._kernel_params()

    def _kernel_params(self):
        params = {
            "kind": _RULE_CODES.get(self.rule_name, self.rule_name),
            "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay,
            "max_norm": self.max_norm,
        }
        params.update(self._hyperparameters())
        return params

    def state_arrays(self) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """``(state1, state2, row_state)``: the state arrays (None where unused)."""
        return self.state1, self.state2, self.row_state

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a dict (JSON-serialisable)."""
        return {"learning_rate": self.learning_rate, "weight_decay": self.weight_decay, "max_norm": self.max_norm}

    def __repr__(self) -> str:
        args = ", ".join("%s=%r" % item for item in self.get_config().items())
        return "%s(%s)" % (type(self).__name__, args)


class SparseSGD(SparseOptimizer):
    """SGD with optional (Nesterov) momentum, PyTorch's form: ``buf = m*buf + g``.

    Parameters
    ----------
    learning_rate : float, default 0.01
    momentum : float, default 0
    nesterov : bool, default False
    weight_decay, max_norm :
        See :class:`SparseOptimizer`.
    """

    rule_name = "sgd"

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        max_norm: float | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, max_norm)
        self.momentum = _check_number("momentum", momentum, 0.0)
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs a momentum > 0")
        self.state_names = ("state1",) if self.momentum else ()
        self._freeze()

    def _hyperparameters(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a dict (JSON-serialisable)."""
        return dict(super().get_config(), momentum=self.momentum, nesterov=self.nesterov)


class SparseAdagrad(SparseOptimizer):
    """Adagrad with one accumulator per element: ``w -= lr * g / (sqrt(acc) + eps)``.

    Parameters
    ----------
    learning_rate : float, default 0.01
    initial_accumulator_value : float, default 0
    epsilon : float, default 1e-10
    epsilon_inside_sqrt : bool, default False
        Divide by ``sqrt(acc + epsilon)`` (Keras) instead of ``sqrt(acc) + epsilon`` (PyTorch).
    weight_decay, max_norm :
        See :class:`SparseOptimizer`.
    """

    rule_name = "adagrad"
    state_names = ("state1",)

    def __init__(
        self,
        learning_rate: float = 0.01,
        initial_accumulator_value: float = 0.0,
        epsilon: float = 1e-10,
        weight_decay: float = 0.0,
        max_norm: float | None = None,
        epsilon_inside_sqrt: bool = False,
    ) -> None:
        super().__init__(learning_rate, weight_decay, max_norm)
        self.initial_accumulator_value = _check_number("initial_accumulator_value", initial_accumulator_value, 0.0)
        self.epsilon = _check_number("epsilon", epsilon, 0.0)
        self.epsilon_inside_sqrt = bool(epsilon_inside_sqrt)
        self._freeze()

    def _initial_state(self, name, shape, dtype):
        return np.full(shape, self.initial_accumulator_value, dtype=dtype)

    def _hyperparameters(self):
        return {"epsilon": self.epsilon, "eps_in_sqrt": self.epsilon_inside_sqrt}

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a dict (JSON-serialisable)."""
        return dict(
            super().get_config(),
            initial_accumulator_value=self.initial_accumulator_value,
            epsilon=self.epsilon,
            epsilon_inside_sqrt=self.epsilon_inside_sqrt,
        )


class SparseRowwiseAdagrad(SparseAdagrad):
    """Row-wise Adagrad: one accumulator per row (the mean of the squared gradient),
    so the state costs ``num_rows`` floats instead of ``num_rows * dim``.

    Parameters are those of :class:`SparseAdagrad`.
    """

    rule_name = "rowwise_adagrad"
    state_names = ("row_state",)


class SparseRMSprop(SparseOptimizer):
    """RMSprop: ``v = rho * v + (1 - rho) * g**2``, ``w -= lr * g / (sqrt(v) + eps)``.

    Parameters
    ----------
    learning_rate : float, default 1e-3
    rho : float, default 0.9
    epsilon : float, default 1e-7
    epsilon_inside_sqrt : bool, default False
        Divide by ``sqrt(v + epsilon)`` (Keras) instead of ``sqrt(v) + epsilon`` (PyTorch).
    weight_decay, max_norm :
        See :class:`SparseOptimizer`.
    """

    rule_name = "rmsprop"
    state_names = ("state1",)

    def __init__(
        self,
        learning_rate: float = 1e-3,
        rho: float = 0.9,
        epsilon: float = 1e-7,
        weight_decay: float = 0.0,
        max_norm: float | None = None,
        epsilon_inside_sqrt: bool = False,
    ) -> None:
        super().__init__(learning_rate, weight_decay, max_norm)
        self.rho = _check_number("rho", rho, 0.0, 1.0, high_open=True)
        self.epsilon = _check_number("epsilon", epsilon, 0.0)
        self.epsilon_inside_sqrt = bool(epsilon_inside_sqrt)
        self._freeze()

    def _hyperparameters(self):
        return {"rho": self.rho, "epsilon": self.epsilon, "eps_in_sqrt": self.epsilon_inside_sqrt}

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a dict (JSON-serialisable)."""
        return dict(
            super().get_config(), rho=self.rho, epsilon=self.epsilon, epsilon_inside_sqrt=self.epsilon_inside_sqrt
        )


class SparseAdam(SparseOptimizer):
    """Lazy Adam (``torch.optim.SparseAdam``): the moments of untouched rows stay as they
    are, and the bias correction uses the global step count.

    Parameters
    ----------
    learning_rate : float, default 1e-3
    beta_1 : float, default 0.9
    beta_2 : float, default 0.999
    epsilon : float, default 1e-8
        Added to ``sqrt(v)``: PyTorch's default; Keras uses 1e-7.
    weight_decay, max_norm :
        See :class:`SparseOptimizer`.
    """

    rule_name = "adam"
    state_names = ("state1", "state2")

    def __init__(
        self,
        learning_rate: float = 1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
        max_norm: float | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, max_norm)
        self.beta_1 = _check_number("beta_1", beta_1, 0.0, 1.0, high_open=True)
        self.beta_2 = _check_number("beta_2", beta_2, 0.0, 1.0, high_open=True)
        self.epsilon = _check_number("epsilon", epsilon, 0.0)
        self._freeze()

    def _hyperparameters(self):
        t = max(self.iterations, 1)  # kernel_params before the first step; its step sets t
        step_size = self.learning_rate * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "step_size": step_size}

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a dict (JSON-serialisable)."""
        return dict(super().get_config(), beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
