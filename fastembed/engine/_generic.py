"""The layer-by-layer runner: one batch at a time through each layer's forward and
backward, for stacks the compiled step does not implement (Dropout, Flatten, an unfused
Embedding, float64 weights, Keras' dense table updates, ...)."""

import math

import numpy as np

from ._compiled import StepTotals


def forward(plan, ids, training):
    """``(output the loss takes, outputs)``: when the loss fuses with the last layer's
    sigmoid / softmax, the first is the logits."""
    model, layers = plan.model, plan.layers
    fuse_loss = model._fuse_loss
    h, mask = ids, None
    for i, layer in enumerate(layers):
        if i == len(layers) - 1 and fuse_loss:
            logits = layer.forward(h, mask=mask, training=training, apply_activation=False)
            return logits, layer.activation.forward(logits)
        next_mask = layer.compute_mask(h, mask)
        h = layer.forward(h, mask=mask, training=training)
        mask = next_mask
    return h, h


def loss_and_grad(model, y, output):
    """The batch's mean loss and its gradient w.r.t. ``output`` (the logits when the loss
    fuses with the last activation)."""
    if model._fuse_loss:
        return model.loss.from_logits_value_and_grad(y, output)
    return model.loss.value_and_grad(y, output)


def _check_before_writing(plan, table_grad):
    """Every gradient finite and every optimizer state the right shape, before any weight
    or state is written (the table layer's fused update would otherwise run first)."""
    model = plan.model
    grads = [("the pooled embeddings' gradient", table_grad)] if table_grad is not None else []
    grads += [
        ("%s's %s gradient" % (layer.name, name), g)
        for layer in plan.layers
        if layer.trainable
        for name, g in zip(layer.weight_names, layer.grads)
    ]
    for what, g in grads:
        if not np.all(np.isfinite(g)):
            raise FloatingPointError(
                "%s became non-finite; lower the learning rate (the weights were not updated by this step)" % what
            )
    optimizer = model.optimizer
    # The packed Dense weights are one row to the rule kernels (ops.dense_update's view).
    params = [("dense", plan.packed[0].reshape(1, -1))] if plan.packed is not None else []
    if hasattr(plan.layers[0], "backward_update") and plan.layers[0].trainable:
        params.append(("layer0_embeddings", plan.layers[0].embeddings))
    for key, param in params:
        rule = optimizer._rules.get(key)
        if rule is not None:
            rule.build(param)


def backward_and_update(plan, grad):
    """Backpropagate ``grad`` and apply the optimizer. Every gradient and every optimizer
    state is checked before anything is written."""
    model, layers = plan.model, plan.layers
    optimizer = model.optimizer
    table_layer = layers[0] if hasattr(layers[0], "backward_update") else None
    for i in range(len(layers) - 1, 0 if table_layer is not None else -1, -1):
        layer = layers[i]
        if i == len(layers) - 1 and model._fuse_loss:
            grad = layer.backward(grad, through_activation=False)
        else:
            grad = layer.backward(grad)
    _check_before_writing(plan, grad if table_layer is not None else None)
    optimizer.begin_step()
    if table_layer is not None and table_layer.trainable:
        table_layer.backward_update(grad, optimizer, "layer0_embeddings")
    if plan.packed is not None:
        flat, grad_flat, views = plan.packed
        for layer, j, view in views:
            np.copyto(view, layer.grads[j])
        optimizer.apply_dense("dense", flat, grad_flat)
        return
    for index, layer in enumerate(model._layers):
        if hasattr(layer, "backward_update") or not layer.trainable or not layer.weights:
            continue
        for name, param, g in zip(layer.weight_names, layer.weights, layer.grads):
            optimizer.apply_dense("layer%d_%s" % (index, name), param, g)


class GenericRunner:
    """Runs steps one batch at a time through the planned layers (same interface as
    :class:`~fastembed.engine._compiled.CompiledRunner`)."""

    compiled = False
    metric = None

    def __init__(self, plan, inputs, batch_size, training):
        self.plan, self.inputs, self.batch_size, self.training = plan, inputs, batch_size, training
        self.output_dim = plan.model.output_dim
        weights = [w for layer in plan.layers for w in layer.weights]
        self.output_dtype = weights[-1].dtype if weights else np.float32

    def settle(self, limit):
        """Nothing to catch up: this path updates whole tables when updates are dense."""

    def run(self, order, first_step, n_steps, limit, probs=None):
        model, inputs, batch = self.plan.model, self.inputs, self.batch_size
        steps = samples = 0
        loss_sum = 0.0
        for step in range(first_step, first_step + n_steps):
            lo, hi = step * batch, min(len(order), (step + 1) * batch)
            if lo >= hi:
                break
            part = inputs.take(order[lo:hi])
            output, outputs = forward(self.plan, part.ids, training=self.training)
            loss_value, grad = loss_and_grad(model, part.y, output) if part.y is not None else (0.0, None)
            weights = part.sample_weight
            if weights is not None and grad is not None:
                # The loss reduces over the batch size (Keras' sum over batch size): weight
                # each sample's loss and gradient row.
                losses = model.loss.sample_losses(part.y, output, logits=model._fuse_loss)
                loss_value = float(np.dot(weights.astype(np.float64), losses.astype(np.float64)) / (hi - lo))
                grad = grad * weights.reshape((-1,) + (1,) * (grad.ndim - 1)).astype(grad.dtype)
            if not math.isfinite(loss_value):
                raise FloatingPointError(
                    "the loss became %r; lower the learning rate (the weights were not "
                    "updated by this step)" % loss_value
                )
            if self.training:
                backward_and_update(self.plan, grad)
            if probs is not None:
                probs[lo - first_step * batch : hi - first_step * batch] = outputs
            loss_sum += loss_value * (hi - lo)
            steps += 1
            samples += hi - lo
        return StepTotals(steps, samples, loss_sum, 0.0, probs)
