"""Keras-style optimizers: Dense weights take the dense path (NumPy), embedding tables
the lazy sparse kernels.

The one difference from Keras: an Embedding's rows (and their optimizer state) move only
in the steps whose batch contains them ("lazy" updates, as ``torch.optim.SparseAdam`` and
TensorFlow's ``LazyAdam``). Keras updates every row every step, so with momentum-like
optimizers its untouched rows keep drifting. Pass ``lazy_embeddings=False`` to get
Keras' behaviour (a dense update of the whole table each step: slower).
"""

import numpy as np

from . import ops
from ._registry import resolve, serialize  # noqa: F401  (serialize is part of the API)
from .sparse_optim import (FixedHyperparameters, SparseAdagrad, SparseAdam, SparseRMSprop, SparseSGD,
                           _check_number)


class Optimizer(FixedHyperparameters):
    """Base class.

    Parameters
    ----------
    learning_rate : float
    lazy_embeddings : bool, default True
        Update only the embedding rows a batch touches (see the module docstring).
    """

    name = None
    #: the rule (and its kernel) this optimizer applies: fastembed.sparse_optim classes
    sparse_class = None
    # Hyper-parameters are fixed once built (the per-parameter state was made for them);
    # the learning rate stays settable (validated), as Keras' schedules and callbacks
    # expect, and so do the step count and the state.
    _MUTABLE = frozenset({"learning_rate", "iterations", "_rules"})

    def __init__(self, learning_rate, lazy_embeddings=True):
        self.learning_rate = _check_number("learning_rate", learning_rate, 0.0, low_open=True)
        self.lazy_embeddings = bool(lazy_embeddings)
        self.iterations = 0
        # parameter key -> the SparseOptimizer holding that parameter's state. Dense
        # weights and embedding tables use the same rule kernels (ops.dense_update /
        # ops.sparse_update), so both follow exactly the same arithmetic.
        self._rules = {}

    # -- configuration -----------------------------------------------------------------
    def _sparse_kwargs(self):
        return {}

    def get_config(self):
        """Return the constructor arguments (JSON-serialisable)."""
        return {"learning_rate": self.learning_rate, "lazy_embeddings": self.lazy_embeddings}

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % kv for kv in self.get_config().items()))

    # -- one training step -------------------------------------------------------------
    def begin_step(self):
        """Count a step (Adam's bias correction uses it)."""
        self.iterations += 1

    def finish_steps(self, steps):
        """Count ``steps`` steps that the compiled training loop ran (it applied every
        rule itself, with this step count for Adam's bias correction)."""
        self.iterations += int(steps)
        for rule in self._rules.values():
            rule.iterations = self.iterations

    def rule(self, key, weight_decay=0.0):
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

    def apply_dense(self, key, param, grad):
        """Update ``param`` in place from its dense gradient."""
        ops.dense_update(param, grad.astype(param.dtype, copy=False), self.rule(key))

    def apply_embedding(self, key, table, sparse_grad, weight_decay=0.0):
        """Update an embedding table from a SparseRows gradient: lazily (sparse kernel), or
        densely when ``lazy_embeddings`` is False."""
        if self.lazy_embeddings:
            ops.sparse_update(table, sparse_grad, self.rule(key, weight_decay))
            return
        dense = sparse_grad.to_dense(table.shape[0])
        if weight_decay:
            dense += weight_decay * table
        self.apply_dense(key, table, dense)

    # -- state -------------------------------------------------------------------------
    def get_state(self):
        """All state as a flat dict of arrays (for model.save)."""
        state = {"iterations": np.asarray(self.iterations, dtype=np.int64)}
        for key, rule in self._rules.items():
            for name, array in rule.get_state().items():
                if name != "iterations":
                    state["rules/%s/%s" % (key, name)] = array
        return state

    def set_state(self, state):
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
    lazy_embeddings : bool, default True
    """

    name = "sgd"
    sparse_class = SparseSGD

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, lazy_embeddings=True):
        super().__init__(learning_rate, lazy_embeddings)
        self.momentum = _check_number("momentum", momentum, 0.0)
        self.nesterov = bool(nesterov)
        self._freeze()

    def _sparse_kwargs(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def get_config(self):
        return dict(super().get_config(), momentum=self.momentum, nesterov=self.nesterov)


class Adagrad(Optimizer):
    """Adagrad: ``acc += g**2``, ``w -= lr * g / (sqrt(acc) + epsilon)``.

    Parameters
    ----------
    learning_rate : float, default 0.001
    initial_accumulator_value : float, default 0.1
    epsilon : float, default 1e-7
    lazy_embeddings : bool, default True
    """

    name = "adagrad"
    sparse_class = SparseAdagrad

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, lazy_embeddings=True):
        super().__init__(learning_rate, lazy_embeddings)
        self.initial_accumulator_value = _check_number("initial_accumulator_value", initial_accumulator_value, 0.0)
        self.epsilon = _check_number("epsilon", epsilon, 0.0)
        self._freeze()

    def _sparse_kwargs(self):
        return {"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon}

    def get_config(self):
        return dict(super().get_config(), initial_accumulator_value=self.initial_accumulator_value,
                    epsilon=self.epsilon)


class RMSprop(Optimizer):
    """RMSprop: ``v = rho * v + (1 - rho) * g**2``, ``w -= lr * g / (sqrt(v) + epsilon)``.

    Parameters
    ----------
    learning_rate : float, default 0.001
    rho : float, default 0.9
    epsilon : float, default 1e-7
    lazy_embeddings : bool, default True
    """

    name = "rmsprop"
    sparse_class = SparseRMSprop

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, lazy_embeddings=True):
        super().__init__(learning_rate, lazy_embeddings)
        self.rho = _check_number("rho", rho, 0.0, 1.0, high_open=True)
        self.epsilon = _check_number("epsilon", epsilon, 0.0)
        self._freeze()

    def _sparse_kwargs(self):
        return {"rho": self.rho, "epsilon": self.epsilon}

    def get_config(self):
        return dict(super().get_config(), rho=self.rho, epsilon=self.epsilon)


class Adam(Optimizer):
    """Adam, Keras' defaults (``epsilon=1e-7``); lazy on embedding tables.

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta_1 : float, default 0.9
    beta_2 : float, default 0.999
    epsilon : float, default 1e-7
    lazy_embeddings : bool, default True
    """

    name = "adam"
    sparse_class = SparseAdam

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, lazy_embeddings=True):
        super().__init__(learning_rate, lazy_embeddings)
        self.beta_1 = _check_number("beta_1", beta_1, 0.0, 1.0, high_open=True)
        self.beta_2 = _check_number("beta_2", beta_2, 0.0, 1.0, high_open=True)
        self.epsilon = _check_number("epsilon", epsilon, 0.0)
        self._freeze()

    def _sparse_kwargs(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def get_config(self):
        return dict(super().get_config(), beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)


_OPTIMIZERS = {cls.name: cls for cls in (SGD, Adagrad, RMSprop, Adam)}


def get(identifier):
    """Return an Optimizer for a Keras name (``'adam'``, ``'sgd'``, ``'rmsprop'``,
    ``'adagrad'``), a ``{"class_name", "config"}`` dict, or an Optimizer."""
    return resolve(identifier, Optimizer, _OPTIMIZERS, "optimizer")
