"""Keras-style optimizers, with Keras' semantics for embedding tables by default.

Two choices decide how an embedding table moves; the defaults reproduce Keras (with the
TensorFlow backend), the alternatives are PyTorch's sparse rules:

``embedding_updates``
    ``"dense"`` (default): every row moves every step, as in Keras, so a row seen once
    keeps drifting on its momentum. The compiled training loop gets this at the cost of
    a lazy update: the steps a row skipped are applied when it is next touched, and for
    every row at the end of each epoch (see ``fastembed/_kernels/_optim.pxd``,
    ``catch_up_row``: exact for SGD and RMSprop, within a bound set by ``epsilon`` for
    Adam). The layer-by-layer path updates the whole table each step. ``"lazy"``: only
    the rows of the batch and their state move (``torch.optim.SparseAdam``, TensorFlow's
    ``LazyAdam``).
``repeated_ids``
    ``"per_occurrence"`` (default): an id seen ``n`` times in a batch adds the square of
    each occurrence's gradient to Adam's, RMSprop's and Adagrad's second moment, as
    TensorFlow does for the ``IndexedSlices`` gradient of an embedding lookup (so a
    frequent id can move up to ``sqrt(n)`` times further in one step). ``"summed"``: the
    square of the per-id sum (PyTorch's sparse optimizers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from . import ops
from ._registry import resolve, serialize  # noqa: F401  (serialize is part of the API)
from .sparse_optim import FixedHyperparameters, SparseAdagrad, SparseAdam, SparseRMSprop, SparseSGD, _check_number

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .sparse import SparseRows
    from .sparse_optim import SparseOptimizer


EMBEDDING_UPDATES = ("dense", "lazy")
REPEATED_IDS = ("per_occurrence", "summed")


class Optimizer(FixedHyperparameters):
    """Base class.

    Parameters
    ----------
    learning_rate : float
    embedding_updates : {'dense', 'lazy'}, default 'dense'
        How embedding tables move (see the module docstring).
    repeated_ids : {'per_occurrence', 'summed'}, default 'per_occurrence'
        How ids repeated in a batch enter the second moment (see the module docstring).
    lazy_embeddings : bool, optional
        The 0.1 name: True is ``embedding_updates='lazy'``, False ``'dense'``.
    """

    name = None
    #: the rule (and its kernel) this optimizer applies: fastembed.sparse_optim classes
    sparse_class = None
    # Hyper-parameters are fixed once built (the per-parameter state was made for them);
    # the learning rate stays settable (validated), as Keras' schedules and callbacks
    # expect, and so do the step count and the state.
    _MUTABLE = frozenset({"learning_rate", "iterations", "_rules"})

    def __init__(
        self,
        learning_rate: float,
        embedding_updates: str = "dense",
        repeated_ids: str = "per_occurrence",
        lazy_embeddings: bool | None = None,
    ) -> None:
        self.learning_rate = _check_number("learning_rate", learning_rate, 0.0, low_open=True)
        if lazy_embeddings is not None:
            embedding_updates = "lazy" if lazy_embeddings else "dense"
        if embedding_updates not in EMBEDDING_UPDATES:
            raise ValueError("embedding_updates must be one of %s, got %r" % (EMBEDDING_UPDATES, embedding_updates))
        if repeated_ids not in REPEATED_IDS:
            raise ValueError("repeated_ids must be one of %s, got %r" % (REPEATED_IDS, repeated_ids))
        self.embedding_updates = embedding_updates
        self.repeated_ids = repeated_ids
        self.iterations = 0
        # parameter key -> the SparseOptimizer holding that parameter's state. Dense
        # weights and embedding tables use the same rule kernels (ops.dense_update /
        # ops.sparse_update), so both follow exactly the same arithmetic.
        self._rules = {}

    # -- configuration -----------------------------------------------------------------
    def _sparse_kwargs(self):
        return {}

    @property
    def lazy_embeddings(self) -> bool:
        """bool: ``embedding_updates == 'lazy'`` (the 0.1 name)."""
        return self.embedding_updates == "lazy"

    @property
    def occurrence_squares(self) -> bool:
        """bool: the table's rule takes per-occurrence squares (``repeated_ids`` is
        'per_occurrence' and the rule keeps a sum of squares: not SGD)."""
        return self.repeated_ids == "per_occurrence" and self.sparse_class is not SparseSGD

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments (JSON-serialisable)."""
        return {
            "learning_rate": self.learning_rate,
            "embedding_updates": self.embedding_updates,
            "repeated_ids": self.repeated_ids,
        }

    def __repr__(self) -> str:
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % kv for kv in self.get_config().items()))

    # -- one training step -------------------------------------------------------------
    def begin_step(self) -> None:
        """Count a step (Adam's bias correction uses it)."""
        self.iterations += 1

    def finish_steps(self, steps: int) -> None:
        """Count ``steps`` steps that the compiled training loop ran (it applied every
        rule itself, with this step count for Adam's bias correction)."""
        self.iterations += int(steps)
        for rule in self._rules.values():
            rule.iterations = self.iterations

    def rule(self, key: str, weight_decay: float = 0.0) -> SparseOptimizer:
        """The rule object holding the state of parameter ``key``, kept in step with this
        optimizer: its learning rate (a changed one takes effect at once) and its step
        count (Adam's bias correction uses the model's step, as in Keras)."""
        rule = self._rules.get(key)
        if rule is None:
            rule = self._rules[key] = self.sparse_class(learning_rate=self.learning_rate, **self._sparse_kwargs())
        rule.learning_rate = self.learning_rate
        rule.weight_decay = weight_decay
        rule.iterations = self.iterations - 1  # the op's begin_step counts the current step
        return rule

    sparse_rule = rule

    def apply_dense(
        self,
        key: str,
        param: np.ndarray,
        grad: np.ndarray,
        weight_decay: float = 0.0,
        squares: np.ndarray | None = None,
    ) -> None:
        """Update ``param`` in place from its dense gradient (``squares``: see
        :func:`fastembed.ops.dense_update`)."""
        ops.dense_update(param, grad.astype(param.dtype, copy=False), self.rule(key, weight_decay), squares=squares)

    def apply_embedding(
        self,
        key: str,
        table: np.ndarray,
        sparse_grad: SparseRows,
        weight_decay: float = 0.0,
        squares: SparseRows | None = None,
    ) -> None:
        """Update an embedding table from a SparseRows gradient: the rows it names
        (``embedding_updates='lazy'``) or every row (``'dense'``). ``squares`` (a
        SparseRows like ``sparse_grad``) holds the per-occurrence squared gradients; it is
        used when :attr:`occurrence_squares` is set."""
        squares = squares if self.occurrence_squares else None
        if self.lazy_embeddings:
            ops.sparse_update(table, sparse_grad, self.rule(key, weight_decay), squares=squares)
            return
        dense = sparse_grad.to_dense(table.shape[0])
        dense_squares = squares.to_dense(table.shape[0]) if squares is not None else None
        self.apply_dense(key, table, dense, weight_decay, dense_squares)

    # -- state -------------------------------------------------------------------------
    def get_state(self) -> dict[str, np.ndarray]:
        """All state as a flat dict of arrays (for model.save)."""
        state = {"iterations": np.asarray(self.iterations, dtype=np.int64)}
        for key, rule in self._rules.items():
            for name, array in rule.get_state().items():
                if name != "iterations":
                    state["rules/%s/%s" % (key, name)] = array
        return state

    def set_state(self, state: Mapping[str, ArrayLike]) -> None:
        """Restore what :meth:`get_state` returned (shapes are checked against the weights
        at the next step, before anything is written)."""
        iterations = np.asarray(state.get("iterations", 0))
        if iterations.shape != () or iterations.dtype.kind not in "iu" or int(iterations) < 0:
            raise ValueError("optimizer state: iterations must be an integer >= 0, got %r" % (iterations,))
        self.iterations = int(iterations)
        grouped = {}
        for full_key, array in state.items():
            parts = full_key.split("/")
            if parts[0] == "rules" and len(parts) == 3:
                grouped.setdefault(parts[1], {})[parts[2]] = array
        self._rules = {}
        for key, arrays in grouped.items():
            self.rule(key).set_state(arrays)


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    Parameters
    ----------
    learning_rate : float, default 0.01
    momentum : float, default 0
    nesterov : bool, default False
    embedding_updates, repeated_ids, lazy_embeddings :
        See :class:`Optimizer`.
    """

    name = "sgd"
    sparse_class = SparseSGD

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        embedding_updates: str = "dense",
        repeated_ids: str = "per_occurrence",
        lazy_embeddings: bool | None = None,
    ) -> None:
        super().__init__(learning_rate, embedding_updates, repeated_ids, lazy_embeddings)
        self.momentum = _check_number("momentum", momentum, 0.0)
        self.nesterov = bool(nesterov)
        self._freeze()

    def _sparse_kwargs(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def get_config(self) -> dict[str, Any]:
        return dict(super().get_config(), momentum=self.momentum, nesterov=self.nesterov)


class Adagrad(Optimizer):
    """Adagrad, as Keras: ``acc += g**2``, ``w -= lr * g / sqrt(acc + epsilon)``.

    Parameters
    ----------
    learning_rate : float, default 0.001
    initial_accumulator_value : float, default 0.1
    epsilon : float, default 1e-7
    embedding_updates, repeated_ids, lazy_embeddings :
        See :class:`Optimizer`.
    """

    name = "adagrad"
    sparse_class = SparseAdagrad

    def __init__(
        self,
        learning_rate: float = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        embedding_updates: str = "dense",
        repeated_ids: str = "per_occurrence",
        lazy_embeddings: bool | None = None,
    ) -> None:
        super().__init__(learning_rate, embedding_updates, repeated_ids, lazy_embeddings)
        self.initial_accumulator_value = _check_number("initial_accumulator_value", initial_accumulator_value, 0.0)
        self.epsilon = _check_number("epsilon", epsilon, 0.0)
        self._freeze()

    def _sparse_kwargs(self):
        # Keras divides by sqrt(acc + epsilon).
        return {
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
            "epsilon_inside_sqrt": True,
        }

    def get_config(self) -> dict[str, Any]:
        return dict(
            super().get_config(), initial_accumulator_value=self.initial_accumulator_value, epsilon=self.epsilon
        )


class RMSprop(Optimizer):
    """RMSprop, as Keras: ``v = rho * v + (1 - rho) * g**2``, ``w -= lr * g / sqrt(v + epsilon)``.

    Parameters
    ----------
    learning_rate : float, default 0.001
    rho : float, default 0.9
    epsilon : float, default 1e-7
    embedding_updates, repeated_ids, lazy_embeddings :
        See :class:`Optimizer`.
    """

    name = "rmsprop"
    sparse_class = SparseRMSprop

    def __init__(
        self,
        learning_rate: float = 0.001,
        rho: float = 0.9,
        epsilon: float = 1e-7,
        embedding_updates: str = "dense",
        repeated_ids: str = "per_occurrence",
        lazy_embeddings: bool | None = None,
    ) -> None:
        super().__init__(learning_rate, embedding_updates, repeated_ids, lazy_embeddings)
        self.rho = _check_number("rho", rho, 0.0, 1.0, high_open=True)
        self.epsilon = _check_number("epsilon", epsilon, 0.0)
        self._freeze()

    def _sparse_kwargs(self):
        return {"rho": self.rho, "epsilon": self.epsilon, "epsilon_inside_sqrt": True}

    def get_config(self) -> dict[str, Any]:
        return dict(super().get_config(), rho=self.rho, epsilon=self.epsilon)


class Adam(Optimizer):
    """Adam, Keras' defaults (``epsilon=1e-7``) and its semantics on embedding tables.

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta_1 : float, default 0.9
    beta_2 : float, default 0.999
    epsilon : float, default 1e-7
    embedding_updates, repeated_ids, lazy_embeddings :
        See :class:`Optimizer`.
    """

    name = "adam"
    sparse_class = SparseAdam

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        embedding_updates: str = "dense",
        repeated_ids: str = "per_occurrence",
        lazy_embeddings: bool | None = None,
    ) -> None:
        super().__init__(learning_rate, embedding_updates, repeated_ids, lazy_embeddings)
        self.beta_1 = _check_number("beta_1", beta_1, 0.0, 1.0, high_open=True)
        self.beta_2 = _check_number("beta_2", beta_2, 0.0, 1.0, high_open=True)
        self.epsilon = _check_number("epsilon", epsilon, 0.0)
        self._freeze()

    def _sparse_kwargs(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def get_config(self) -> dict[str, Any]:
        return dict(super().get_config(), beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)


_OPTIMIZERS = {cls.name: cls for cls in (SGD, Adagrad, RMSprop, Adam)}


def get(identifier: Any) -> Optimizer:
    """Return an Optimizer for a Keras name (``'adam'``, ``'sgd'``, ``'rmsprop'``,
    ``'adagrad'``), a ``{"class_name", "config"}`` dict, or an Optimizer."""
    return resolve(identifier, Optimizer, _OPTIMIZERS, "optimizer")
