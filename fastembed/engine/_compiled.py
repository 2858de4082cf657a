"""The compiled runner: a planned stack bound to its data, run chunks of steps per call.

``compiled_stack`` decides whether the fused layers are a stack the compiled step
(``fastembed/_kernels/_train.pyx``) implements, and describes it; ``CompiledRunner`` binds
it to one call's validated data and runs it. Everything the kernel trusts (dtypes,
contiguity, id ranges, target shapes) was checked by the plan and by ``_data.prepare``.
"""

import numpy as np

from .. import layers as layers_module
from .. import metrics as metrics_module
from .. import _config
from .._validation import MODES

try:
    from .._kernels import _train
except ImportError:  # pragma: no cover - uncompiled tree: the plan never asks
    _train = None

_HIDDEN_ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid")


def _float32_array(array, writeable=True):
    return (
        isinstance(array, np.ndarray)
        and array.dtype == np.float32
        and array.flags.c_contiguous
        and (array.flags.writeable or not writeable)
    )


def metric_code(metric, loss):
    """The compiled metric computing ``metric`` for targets of ``loss`` (its code), or
    None: then the metric gets the outputs, as on the layer path. Class labels (the sparse
    loss) go with the sparse accuracy only, float targets with the others."""
    labels = loss == "sparse_logits"
    if type(metric) is metrics_module.SparseCategoricalAccuracy and labels:
        return "sparse_categorical_accuracy"
    if type(metric) is metrics_module.BinaryAccuracy and metric.threshold == 0.5 and not labels:
        return "binary_accuracy"
    if type(metric) is metrics_module.CategoricalAccuracy and not labels:
        return "categorical_accuracy"
    return None


class StackSpec:
    """A stack the compiled step runs: the bag, the Dense layers, the loss, the metric."""

    def __init__(self, bag, dense, loss, metric, raw_outputs):
        self.bag, self.dense, self.loss, self.metric = bag, dense, loss, metric
        self.raw_outputs = raw_outputs


def _loss_code(model, last):
    loss, activation = model.loss, last.activation.name
    logits_of = {
        "binary_crossentropy": "sigmoid",
        "categorical_crossentropy": "softmax",
        "sparse_categorical_crossentropy": "softmax",
    }.get(loss.name)
    if logits_of is not None:
        # The loss takes the logits: the last activation is its own (fused), or the loss
        # was compiled with from_logits=True on a linear output.
        if (activation == logits_of and not loss.from_logits) or (activation == "linear" and loss.from_logits):
            return {
                "sigmoid": "binary_logits",
                "softmax": (
                    "sparse_logits" if loss.name == "sparse_categorical_crossentropy" else "categorical_logits"
                ),
            }[logits_of]
        return None
    if loss.name == "mean_squared_error" and activation in _HIDDEN_ACTIVATIONS:
        return "mse"
    return None


def compiled_stack(model, fused, metrics, training, packed):
    """Describe ``fused`` (the planned layers) for the compiled step, or None when it does
    not apply (other layers, dtypes, losses, or Keras' dense embedding updates)."""
    if _train is None or model.loss is None or len(fused) < 2:
        return None
    bag, dense = fused[0], fused[1:]
    if type(bag) is not layers_module.EmbeddingBag or not _float32_array(bag.embeddings):
        return None
    for i, layer in enumerate(dense):
        if type(layer) is not layers_module.Dense or not all(_float32_array(w) for w in layer.weights):
            return None
        last = i == len(dense) - 1
        if not last and layer.activation.name not in _HIDDEN_ACTIVATIONS:
            return None
    loss = _loss_code(model, dense[-1])
    if loss is None:
        return None
    if training:
        optimizer = model.optimizer
        if bag.trainable and not optimizer.lazy_embeddings and bag.weight_decay:
            # Catching up the skipped steps cannot decay the rows as Keras' dense L2 does
            # every step: the layer path updates the whole table instead.
            return None
        if any(layer.trainable for layer in dense) and packed is None:
            return None
    metric = metric_code(metrics[0], loss) if metrics else None
    return StackSpec(bag, dense, loss, metric, raw_outputs=model.loss.from_logits)


class StepTotals:
    """What a run of steps produced."""

    __slots__ = ("steps", "samples", "loss_sum", "metric_sum", "probs")

    def __init__(self, steps, samples, loss_sum, metric_sum, probs):
        self.steps, self.samples, self.loss_sum, self.metric_sum, self.probs = (
            steps,
            samples,
            loss_sum,
            metric_sum,
            probs,
        )


class CompiledRunner:
    """Runs steps of one call through the compiled stack.

    Parameters
    ----------
    plan : Plan
    inputs : Inputs
        Validated data.
    batch_size : int
    training : bool
    """

    compiled = True
    output_dtype = np.float32

    def __init__(self, plan, inputs, batch_size, training):
        spec, model = plan.stack, plan.model
        # Buffers for a batch no larger than the data (batch_size=10**6 on 100 samples).
        batch_size = max(1, min(batch_size, len(inputs)))
        self.plan, self.inputs, self.batch_size, self.training = plan, inputs, batch_size, training
        self.metric = spec.metric
        ids = inputs.ids
        if inputs.ragged:
            flat, seq, offsets = ids.values, 0, ids.offsets
            lengths = np.sort(np.diff(offsets))[::-1]
            max_entries = int(lengths[:batch_size].sum())
            max_bag = int(lengths[0]) if lengths.size else 0
        else:
            flat, seq, offsets = ids.reshape(-1), ids.shape[1], None
            max_entries, max_bag = batch_size * seq, seq
            if seq == 0:  # every bag empty: describe them as ragged
                flat, seq, offsets = flat, 0, np.zeros(ids.shape[0] + 1, dtype=np.int64)
        # The kernel reads class labels for the sparse loss and float columns otherwise.
        y, labels, targets = inputs.y, None, None
        if y is not None and spec.loss == "sparse_logits":
            labels = np.ascontiguousarray(y, dtype=np.int64)
        elif y is not None:
            targets = np.ascontiguousarray(y, dtype=np.float32).reshape(len(y), -1)
        layers = []
        packed = plan.packed
        self._grad_views = {}
        if packed is not None:
            for layer, j, view in packed[2]:
                self._grad_views[(id(layer), j)] = view
        for layer in spec.dense:
            grad_kernel = self._grad_views.get((id(layer), 0))
            if grad_kernel is None:
                grad_kernel = np.zeros_like(layer.kernel)
            grad_bias = None
            if layer.use_bias:
                grad_bias = self._grad_views.get((id(layer), 1))
                if grad_bias is None:
                    grad_bias = np.zeros_like(layer.bias)
            layers.append(
                {
                    "kernel": layer.kernel,
                    "bias": layer.bias if layer.use_bias else None,
                    "grad_kernel": grad_kernel,
                    "grad_bias": grad_bias,
                    "activation": _train.ACTIVATIONS[layer.activation.name],
                    "l2": layer.kernel_regularizer.l2 if layer.kernel_regularizer else 0.0,
                }
            )
        table_rule = dense_rule = None
        bag = spec.bag
        if training:
            optimizer = model.optimizer
            if bag.trainable:
                rule = optimizer.rule("layer0_embeddings", bag.weight_decay)
                table_rule = (rule.kernel_params(bag.embeddings),) + rule.state_arrays()
            if packed is not None:
                rule = optimizer.rule("dense")
                # One row, as ops.dense_update sees the packed weights: the state has the
                # same shape on both paths.
                dense_rule = (rule.kernel_params(packed[0].reshape(1, -1)),) + rule.state_arrays()
        self.max_threads = max(1, _config.get_num_threads())
        self._trainer = _train.StackTrainer(
            flat,
            seq,
            offsets,
            targets,
            labels,
            inputs.sample_weight,
            batch_size,
            max_entries,
            max_bag,
            bag.embeddings,
            MODES[bag.mode],
            -1 if bag.padding_idx is None else bag.padding_idx,
            layers,
            _train.LOSSES[spec.loss],
            _train.METRICS[spec.metric],
            spec.raw_outputs,
            training,
            self.max_threads,
            table_rule,
            dense_rule,
            packed[0] if packed is not None else None,
            packed[1] if packed is not None else None,
            per_occurrence=training and model.optimizer.occurrence_squares,
            catch_up=training and not model.optimizer.lazy_embeddings,
            iteration=model.optimizer.iterations if training else 0,
        )
        self.output_dim = spec.dense[-1].units

    def settle(self, limit):
        """Bring every table row up to the optimizer's step (Keras' dense updates, caught
        up lazily): before weights are read, at the end of an epoch and of fit."""
        if self.training:
            self._trainer.settle(self.plan.model.optimizer.iterations, limit, _config.PARALLEL_MIN_WORK)

    def run(self, order, first_step, n_steps, limit, probs=None):
        """Run ``n_steps`` batches of ``order`` from ``first_step``; ``probs`` (rows for
        every sample run, or None) receives the outputs.

        Returns
        -------
        StepTotals

        Raises
        ------
        FloatingPointError
            A batch's loss was not finite; that batch changed nothing.
        """
        model = self.plan.model
        optimizer = model.optimizer if self.training else None
        if optimizer is not None:
            self._trainer.set_learning_rates(optimizer.learning_rate, optimizer.learning_rate)
        iteration = optimizer.iterations if optimizer is not None else 0
        status, steps, samples, loss_sum, metric_sum, bad_step = self._trainer.run(
            order, first_step, n_steps, iteration, self.training, probs, limit, _config.PARALLEL_MIN_WORK
        )
        if optimizer is not None:
            optimizer.finish_steps(steps)
        if status == _train.STATUS["non_finite_loss"]:
            raise FloatingPointError(
                "the loss became non-finite (or its gradient overflowed) at step %d; lower the "
                "learning rate (the weights were not updated by this step)" % bad_step
            )
        if status != _train.STATUS["ok"]:  # pragma: no cover - ids were validated
            raise IndexError("an id changed out of range during the call (step %d)" % bad_step)
        return StepTotals(steps, samples, loss_sum, metric_sum, probs)
