"""The loops of fit, evaluate and predict: epochs, chunks of steps, callbacks, progress.

Each call validates its data once (``_data.prepare``), plans once (``_plan.Plan``), then
runs the steps in chunks: a whole chunk is one call into the compiled stack (or one batch
at a time through the layers). Chunks are sized to take about 50 ms, so the progress bar
stays live and Ctrl-C is honoured; when a callback overrides a batch hook, chunks are
single batches and the hooks are called around each, in Keras' order.
"""

import math
import sys
import time
import warnings
from contextlib import nullcontext

import numpy as np

from .. import callbacks as callbacks_module
from .. import metrics as metrics_module
from .._blas import single_threaded_blas
from .._config import get_num_threads
from .._random import generator
from ._data import class_weights_to_sample_weights, prepare
from ._plan import Plan
from ._stream import Source, chunks, is_stream
from ._threads import ThreadAdvisor

CHUNK_SECONDS = 0.05
FIRST_CHUNK_STEPS = 4
MAX_CHUNK_STEPS = 1 << 16


def _positive_int(value, name, default=None):
    if value is None:
        if default is None:
            return None
        value = default
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError("%s must be a positive integer, got %r" % (name, value))
    return int(value)


def _chunk_steps(advisor):
    """Steps for the next chunk: about CHUNK_SECONDS at the best measured speed, and a
    quarter of that when the chunk re-times the slower thread limit."""
    if not advisor.seconds_per_step:
        return FIRST_CHUNK_STEPS
    seconds = min(advisor.seconds_per_step.values())
    steps = int(min(MAX_CHUNK_STEPS, max(1, CHUNK_SECONDS / max(seconds, 1e-9))))
    return max(1, steps // 4) if advisor.trial_pending() else steps


class _MetricsTracker:
    """The metric objects of one loop: the compiled one (if any) takes the kernel's
    totals, the others the outputs of each chunk."""

    def __init__(self, metrics, runner):
        self.metrics = metrics
        self.compiled = metrics[0] if metrics and runner.metric is not None else None
        self.need_outputs = any(m is not self.compiled for m in metrics)

    def reset(self):
        for metric in self.metrics:
            metric.reset()

    def update(self, totals, y, order, lo):
        if self.compiled is not None:
            self.compiled.add_totals(totals.metric_sum, totals.samples)
        if self.need_outputs and totals.samples:
            index = order[lo : lo + totals.samples]
            outputs = totals.probs[: totals.samples]
            for metric in self.metrics:
                if metric is not self.compiled:
                    metric.update(y[index], outputs)

    def logs(self, loss):
        logs = {"loss": float(loss)}
        for metric in self.metrics:
            logs[metric.name] = float(metric.result())
        return logs


def _sample_order(rng, n, batch_size, shuffle):
    if shuffle == "batch":
        # Keras: batches stay the same contiguous slices; samples move within them.
        return np.lexsort((rng.random(n), np.arange(n) // batch_size)).astype(np.int64)
    if shuffle:
        return rng.permutation(n).astype(np.int64)
    return np.arange(n, dtype=np.int64)


def _run_chunks(
    runner,
    order,
    n_steps,
    advisor,
    callback_list,
    hook,
    tracker,
    y,
    on_chunk=None,
    outputs=None,
    guard=None,
    first_batch=0,
):
    """Run ``n_steps`` batches of ``order`` from the start, in chunks; return (steps, samples,
    loss_sum). ``hook`` is 'train', 'test' or 'predict' (batch hooks, when overridden,
    numbered from ``first_batch``); training chunks hold ``guard``'s write side."""
    per_batch = callback_list.overrides_batch_hooks(hook)
    batch = runner.batch_size
    step = samples = 0
    loss_sum = 0.0
    chunk_probs = None
    while step < n_steps:
        want = 1 if per_batch else min(n_steps - step, _chunk_steps(advisor))
        if outputs is not None:
            probs = outputs[step * batch : min(len(order), (step + want) * batch)]
        elif tracker.need_outputs:
            rows = want * batch
            if chunk_probs is None or chunk_probs.shape[0] < rows:
                chunk_probs = np.empty((rows, runner.output_dim), dtype=runner.output_dtype)
            probs = chunk_probs[:rows]
        else:
            probs = None
        if per_batch:
            callback_list.call("on_%s_batch_begin" % hook, first_batch + step, {})
        first = step

        def run(limit, first=first, want=want, probs=probs):
            return runner.run(order, first, want, limit, probs)

        # Training writes the weights a chunk at a time; inference holds them for its whole call.
        with guard.writing() if hook == "train" else nullcontext():
            totals = advisor.timed(run, want)
        if totals.steps == 0:
            break
        tracker.update(totals, y, order, first * batch)
        step += totals.steps
        samples += totals.samples
        loss_sum += totals.loss_sum
        if per_batch:
            if hook == "predict":
                logs = {"outputs": probs[: totals.samples]}
            else:
                logs = tracker.logs(loss_sum / samples)
            callback_list.call("on_%s_batch_end" % hook, first_batch + step - 1, logs)
        if on_chunk is not None:
            on_chunk(step, samples, loss_sum)
    return step, samples, loss_sum


def _validation_schedule(validation_freq):
    """Keras' ``validation_freq``: every N epochs, or the listed (1-based) epochs."""
    if isinstance(validation_freq, int) and not isinstance(validation_freq, bool) and validation_freq >= 1:
        return lambda epoch: (epoch + 1) % validation_freq == 0
    if isinstance(validation_freq, (list, tuple, set)):
        return lambda epoch: epoch + 1 in validation_freq
    raise ValueError("validation_freq must be a positive int or a list of epochs, got %r" % (validation_freq,))


def _validation_inputs(model, validation_data):
    if is_stream(validation_data):
        raise ValueError("validation_data is a dataset or generator: give x as one too (streamed fit), or arrays")
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data must be (x_val, y_val) or (x_val, y_val, val_sample_weight)")
    return prepare(model, *validation_data)


def fit(
    model,
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
):
    """Sequential.fit (see there): validate, plan, then run the epochs."""
    model._check_compiled()
    if is_stream(x):
        if y is not None or sample_weight is not None:
            raise ValueError(
                "x is a dataset or generator of batches: the targets come with it, so y and "
                "sample_weight must be None (as in Keras)"
            )
        if validation_split:
            raise ValueError("validation_split needs arrays; give a dataset or generator validation_data instead")
        return _fit_stream(
            model,
            x,
            epochs,
            verbose,
            callbacks,
            validation_data,
            class_weight,
            initial_epoch,
            _positive_int(steps_per_epoch, "steps_per_epoch"),
            _positive_int(validation_steps, "validation_steps"),
            validation_freq,
        )
    batch_size = _positive_int(batch_size, "batch_size", 32)
    epochs = int(epochs)
    steps_per_epoch = _positive_int(steps_per_epoch, "steps_per_epoch")
    validation_steps = _positive_int(validation_steps, "validation_steps")
    validation_batch_size = _positive_int(validation_batch_size, "validation_batch_size", batch_size)
    if shuffle not in (True, False, "batch"):
        raise ValueError("shuffle must be True, False or 'batch', got %r" % (shuffle,))
    run_validation = _validation_schedule(validation_freq)
    if sample_weight is not None and class_weight is not None:
        raise ValueError("give sample_weight or class_weight, not both (as Keras)")
    inputs = prepare(model, x, y, sample_weight)
    validation = None
    if validation_data is not None:
        validation = _validation_inputs(model, validation_data)
    elif validation_split:
        if not 0 < validation_split < 1:
            raise ValueError("validation_split must be in [0, 1), got %r" % (validation_split,))
        at = int(math.floor(len(inputs) * (1.0 - validation_split)))
        if at == 0 or at == len(inputs):
            raise ValueError(
                "validation_split=%r leaves no %s samples out of %d"
                % (validation_split, "training" if at == 0 else "validation", len(inputs))
            )
        inputs, validation = inputs.split(at)
    if class_weight is not None:
        inputs.sample_weight = class_weights_to_sample_weights(class_weight, inputs.y)  # training data only
    n = len(inputs)
    if n == 0:
        raise ValueError("fit() got no training samples")
    with model._guard.training(), single_threaded_blas():
        with model._guard.writing():  # packing the Dense weights replaces the layers' arrays
            plan = Plan(model, training=True, ragged=inputs.ragged)
            runner = plan.runner(inputs, batch_size, training=True)
        val_runner = val_tracker = None
        if validation is not None and len(validation):
            val_plan = Plan(model, training=False, ragged=validation.ragged)
            val_runner = val_plan.runner(validation, validation_batch_size, training=False)
            val_tracker = _MetricsTracker(val_plan.metrics, val_runner)
        return _fit_epochs(
            model,
            plan,
            runner,
            inputs,
            batch_size,
            epochs,
            verbose,
            callbacks,
            shuffle,
            initial_epoch,
            steps_per_epoch,
            val_runner,
            val_tracker,
            validation,
            validation_steps,
            run_validation,
        )


def _fit_epochs(
    model,
    plan,
    runner,
    inputs,
    batch_size,
    epochs,
    verbose,
    callbacks,
    shuffle,
    initial_epoch,
    steps_per_epoch,
    val_runner,
    val_tracker,
    validation,
    validation_steps,
    run_validation,
):
    n = len(inputs)
    full_steps = -(-n // batch_size)
    steps = steps_per_epoch or full_steps
    history = callbacks_module.History()
    callback_list = callbacks_module.CallbackList(
        list(callbacks or []) + [history], model, {"verbose": verbose, "epochs": epochs, "steps": steps}
    )
    model.stop_training = False
    model.history = history
    tracker = _MetricsTracker(model.compiled_metrics, runner)
    advisor = ThreadAdvisor(get_num_threads())
    val_advisor = ThreadAdvisor(get_num_threads())  # forward-only steps: timed apart
    padding = getattr(plan.layers[0], "padding_idx", None)
    tokens_per_sample = inputs.count_tokens(padding) / n
    rng = generator()
    order, position = None, 0
    logs = {}
    callback_list.call("on_train_begin", {})
    try:
        for epoch in range(initial_epoch, epochs):
            callback_list.call("on_epoch_begin", epoch, {})
            tracker.reset()
            if order is None:
                order, position = _sample_order(rng, n, batch_size, shuffle), 0
            progress = _Progress(epoch, epochs, steps, verbose)
            started = time.perf_counter()

            def on_chunk(done, samples, loss_sum, progress=progress):
                progress.update(done, tracker.logs(loss_sum / samples))

            available = full_steps - position // batch_size
            wanted = min(steps, available)
            view = order[position:]
            try:
                done, samples, loss_sum = _run_chunks(
                    runner,
                    view,
                    wanted,
                    advisor,
                    callback_list,
                    "train",
                    tracker,
                    inputs.y,
                    on_chunk,
                    guard=model._guard,
                )
            except FloatingPointError as exc:
                if not _terminate_on_nan(callback_list, exc):
                    raise
                model.stop_training = True
                break
            _settle(model, runner)  # validation and the epoch's callbacks see every row up to date
            position += samples
            if steps_per_epoch is None or position >= n:
                if steps_per_epoch is not None and done < steps:
                    warnings.warn(
                        "Your input ran out of data: the epoch ended after %d of %d steps "
                        "(steps_per_epoch); the next epoch starts a new pass" % (done, steps),
                        stacklevel=4,
                    )
                order = None
            elapsed = time.perf_counter() - started
            if samples == 0:
                break
            logs = tracker.logs(loss_sum / samples + model._regularization_loss())
            if val_runner is not None and run_validation(epoch):
                values = _evaluate(
                    model, val_runner, val_tracker, validation, callback_list, validation_steps, val_advisor
                )
                logs.update({"val_" + key: value for key, value in values.items()})
            progress.finish(logs, elapsed, samples * tokens_per_sample / elapsed if elapsed > 0 else float("inf"))
            callback_list.call("on_epoch_end", epoch, logs)
            if model.stop_training:
                break
    finally:
        _settle(model, runner)
        callback_list.call("on_train_end", logs)
    return history


def _terminate_on_nan(callback_list, exc):
    """With TerminateOnNaN, a non-finite loss ends training (the engine raised before
    updating anything): say so, as Keras does, and report whether to stop."""
    if not callback_list.terminates_on_nan():
        return False
    print("Invalid loss, terminating training (%s)" % exc)
    return True


def _settle(model, runner):
    """Apply the steps that table rows skipped (dense updates caught up lazily)."""
    with model._guard.writing():
        runner.settle(get_num_threads())


def _evaluate(model, runner, tracker, inputs, callback_list, steps, advisor):
    """Loss and metrics of ``inputs`` (forward only); calls the test hooks."""
    n = len(inputs)
    full_steps = -(-n // runner.batch_size)
    steps = min(steps or full_steps, full_steps)
    tracker.reset()
    callback_list.call("on_test_begin", {})
    order = np.arange(n, dtype=np.int64)
    _, samples, loss_sum = _run_chunks(runner, order, steps, advisor, callback_list, "test", tracker, inputs.y)
    logs = tracker.logs((loss_sum / samples if samples else 0.0) + model._regularization_loss())
    callback_list.call("on_test_end", logs)
    return logs


def evaluate(model, x, y, batch_size, verbose, sample_weight, steps, callbacks):
    """Sequential.evaluate (see there): the loss and the metrics as a dict."""
    model._check_compiled()
    batch_size = _positive_int(batch_size, "batch_size", 32)
    steps = _positive_int(steps, "steps")
    if is_stream(x):
        if y is not None or sample_weight is not None:
            raise ValueError("x is a dataset or generator of batches: y and sample_weight must be None")
        callback_list = callbacks_module.CallbackList(
            list(callbacks or []), model, {"verbose": verbose, "epochs": 1, "steps": steps}
        )
        return _evaluate_stream(model, Source(x, steps), callback_list, ThreadAdvisor(get_num_threads()))
    inputs = prepare(model, x, y, sample_weight)
    with model._guard.reading(), single_threaded_blas():
        plan = Plan(model, training=False, ragged=inputs.ragged)
        runner = plan.runner(inputs, batch_size, training=False)
        callback_list = callbacks_module.CallbackList(
            list(callbacks or []),
            model,
            {"verbose": verbose, "epochs": 1, "steps": steps or -(-len(inputs) // batch_size)},
        )
        return _evaluate(
            model,
            runner,
            _MetricsTracker(plan.metrics, runner),
            inputs,
            callback_list,
            steps,
            ThreadAdvisor(get_num_threads()),
        )


def predict(model, x, batch_size, verbose, steps, callbacks):
    """Sequential.predict (see there): the outputs, one row per sample."""
    batch_size = _positive_int(batch_size, "batch_size", 32)
    steps = _positive_int(steps, "steps")
    if is_stream(x):
        return _predict_stream(model, Source(x, steps), verbose, callbacks)
    inputs = prepare(model, x)
    n = len(inputs)
    with model._guard.reading(), single_threaded_blas():
        plan = Plan(model, training=False, ragged=inputs.ragged)
        runner = plan.runner(inputs, batch_size, training=False)
        full_steps = -(-n // batch_size)
        steps = min(steps or full_steps, full_steps)
        callback_list = callbacks_module.CallbackList(
            list(callbacks or []), model, {"verbose": verbose, "epochs": 1, "steps": steps}
        )
        outputs = np.empty((min(n, steps * batch_size), runner.output_dim), dtype=runner.output_dtype)
        callback_list.call("on_predict_begin", {})
        tracker = _MetricsTracker([], runner)
        _run_chunks(
            runner,
            np.arange(n, dtype=np.int64),
            steps,
            ThreadAdvisor(get_num_threads()),
            callback_list,
            "predict",
            tracker,
            None,
            outputs=outputs,
        )
        callback_list.call("on_predict_end", {})
    return outputs


class _Progress:
    """Keras-like progress output: a live bar on a terminal with verbose=1, one line per
    epoch otherwise."""

    def __init__(self, epoch, epochs, steps, verbose):
        self.epoch, self.epochs, self.steps, self.verbose = epoch, epochs, steps, verbose
        # Live on a terminal and in Jupyter (which rewrites a line on "\r", as Keras'
        # progress bar relies on); pipes and files get one line per epoch.
        self.live = verbose == 1 and (sys.stdout.isatty() or "ipykernel" in sys.modules)
        self.last = 0.0
        if verbose == 1:
            print("Epoch %d/%d" % (epoch + 1, epochs))

    def update(self, step, logs):
        if not self.live:
            return
        now = time.perf_counter()
        if now - self.last < 0.1 and (self.steps is None or step < self.steps):
            return
        self.last = now
        if self.steps is None:  # a stream of unknown length
            sys.stdout.write("\r%d - %s" % (step, _format_logs(logs)))
            sys.stdout.flush()
            return
        done = int(30 * step / self.steps)
        bar = "=" * max(done - 1, 0) + (">" if done < 30 else "=") + "." * (30 - done)
        sys.stdout.write("\r%d/%d [%s] - %s" % (step, self.steps, bar, _format_logs(logs)))
        sys.stdout.flush()

    def finish(self, logs, elapsed, tokens_per_second, steps=None):
        if not self.verbose:
            return
        steps = steps if steps is not None else self.steps
        text = "%d/%d - %.1fs - %s - %s tokens/s (%d threads)" % (
            steps,
            steps,
            elapsed,
            _format_logs(logs),
            _si(tokens_per_second),
            get_num_threads(),
        )
        if self.live:
            sys.stdout.write("\r" + text + "\n")
        elif self.verbose == 2:
            print("Epoch %d/%d - %s" % (self.epoch + 1, self.epochs, text))
        else:
            print(text)
        sys.stdout.flush()


def _format_logs(logs):
    return " - ".join("%s: %.4f" % (k, v) for k, v in logs.items())


def _si(value):
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return "%.2f%s" % (value / scale, unit)
    return "%.0f" % value


# -- streams: fit / evaluate / predict over batches that arrive one at a time ------------
def _stream_runner(model, plans, x, y, sample_weight, class_weight, batch_size, training):
    """Validate one chunk and bind it to a runner; plans are cached by input kind."""
    inputs = prepare(model, x, y, sample_weight, class_weight)
    key = (training, inputs.ragged)
    if key not in plans:
        with model._guard.writing() if training else nullcontext():
            plans[key] = Plan(model, training=training, ragged=inputs.ragged)
    plan = plans[key]
    return plan, inputs, plan.runner(inputs, batch_size, training=training)


def _fit_stream(
    model,
    x,
    epochs,
    verbose,
    callbacks,
    validation_data,
    class_weight,
    initial_epoch,
    steps_per_epoch,
    validation_steps,
    validation_freq,
):
    """Sequential.fit over a stream of batches (see fastembed.engine._stream)."""
    source = Source(x, steps_per_epoch)
    steps = steps_per_epoch or source.cardinality()
    validation = Source(validation_data, validation_steps) if validation_data is not None else None
    if validation is not None and not is_stream(validation_data):
        raise ValueError("with a dataset or generator x, validation_data must be one too")
    run_validation = _validation_schedule(validation_freq)
    history = callbacks_module.History()
    callback_list = callbacks_module.CallbackList(
        list(callbacks or []) + [history], model, {"verbose": verbose, "epochs": epochs, "steps": steps}
    )
    model.stop_training = False
    model.history = history
    advisor, val_advisor = ThreadAdvisor(get_num_threads()), ThreadAdvisor(get_num_threads())
    plans = {}
    logs = {}
    runner = None
    callback_list.call("on_train_begin", {})
    try:
        with model._guard.training(), single_threaded_blas():
            for epoch in range(initial_epoch, epochs):
                callback_list.call("on_epoch_begin", epoch, {})
                progress = _Progress(epoch, epochs, steps, verbose)
                started = time.perf_counter()
                done = samples = tokens = 0
                loss_sum = 0.0
                tracker = None
                for cx, cy, cw, batch_size, n_batches in chunks(source.epoch()):
                    if cy is None:
                        raise ValueError("fit() needs targets: the batches must be (x, y) or (x, y, sample_weight)")
                    plan, inputs, runner = _stream_runner(model, plans, cx, cy, cw, class_weight, batch_size, True)
                    if tracker is None:
                        tracker = _MetricsTracker(model.compiled_metrics, runner)
                        tracker.reset()

                    def on_chunk(
                        step,
                        chunk_samples,
                        chunk_loss,
                        before=(done, samples, loss_sum),
                        progress=progress,
                        tracker=tracker,
                    ):
                        progress.update(
                            before[0] + step, tracker.logs((before[2] + chunk_loss) / max(before[1] + chunk_samples, 1))
                        )

                    try:
                        ran, ran_samples, ran_loss = _run_chunks(
                            runner,
                            np.arange(len(inputs), dtype=np.int64),
                            n_batches,
                            advisor,
                            callback_list,
                            "train",
                            tracker,
                            inputs.y,
                            on_chunk,
                            guard=model._guard,
                            first_batch=done,
                        )
                    except FloatingPointError as exc:
                        if not _terminate_on_nan(callback_list, exc):
                            raise
                        model.stop_training = True
                        break
                    _settle(model, runner)
                    done += ran
                    samples += ran_samples
                    loss_sum += ran_loss
                    tokens += inputs.count_tokens(getattr(plan.layers[0], "padding_idx", None))
                if model.stop_training and samples == 0:
                    break  # TerminateOnNaN
                if samples == 0:
                    warnings.warn(
                        "Your input ran out of data; interrupting training. Make sure that your dataset "
                        "or generator can generate at least steps_per_epoch * epochs batches "
                        "(use .repeat() on a Dataset).",
                        stacklevel=4,
                    )
                    break
                elapsed = time.perf_counter() - started
                logs = tracker.logs(loss_sum / samples + model._regularization_loss())
                if validation is not None and run_validation(epoch):
                    values = _evaluate_stream(model, validation, callback_list, val_advisor, plans)
                    logs.update({"val_" + key: value for key, value in values.items()})
                progress.finish(logs, elapsed, tokens / elapsed if elapsed > 0 else float("inf"), steps=done)
                callback_list.call("on_epoch_end", epoch, logs)
                if model.stop_training:
                    break
    finally:
        if runner is not None:
            _settle(model, runner)
        callback_list.call("on_train_end", logs)
    return history


def _evaluate_stream(model, source, callback_list, advisor, plans=None):
    """Loss and metrics over a stream (forward only); calls the test hooks."""
    plans = {} if plans is None else plans
    callback_list.call("on_test_begin", {})
    samples, loss_sum, done, tracker = 0, 0.0, 0, None
    with model._guard.reading(), single_threaded_blas():
        for cx, cy, cw, batch_size, n_batches in chunks(source.epoch()):
            if cy is None:
                raise ValueError("evaluate() needs targets: the batches must be (x, y) or (x, y, sample_weight)")
            _, inputs, runner = _stream_runner(model, plans, cx, cy, cw, None, batch_size, False)
            if tracker is None:
                tracker = _MetricsTracker(
                    [metrics_module.get(spec, model.loss.name, model.output_dim) for spec in model._metric_specs],
                    runner,
                )
                tracker.reset()
            ran, ran_samples, ran_loss = _run_chunks(
                runner,
                np.arange(len(inputs), dtype=np.int64),
                n_batches,
                advisor,
                callback_list,
                "test",
                tracker,
                inputs.y,
                first_batch=done,
            )
            done += ran
            samples += ran_samples
            loss_sum += ran_loss
    if tracker is None:
        raise ValueError("the validation / evaluation data gave no batches")
    logs = tracker.logs((loss_sum / samples if samples else 0.0) + model._regularization_loss())
    callback_list.call("on_test_end", logs)
    return logs


def _predict_stream(model, source, verbose, callbacks):
    """Outputs of every sample of a stream, in order (only the outputs are kept)."""
    callback_list = callbacks_module.CallbackList(
        list(callbacks or []), model, {"verbose": verbose, "epochs": 1, "steps": source.cardinality()}
    )
    plans, parts, done = {}, [], 0
    advisor = ThreadAdvisor(get_num_threads())
    callback_list.call("on_predict_begin", {})
    with model._guard.reading(), single_threaded_blas():
        for cx, _, _, batch_size, n_batches in chunks(source.epoch()):
            _, inputs, runner = _stream_runner(model, plans, cx, None, None, None, batch_size, False)
            outputs = np.empty((len(inputs), runner.output_dim), dtype=runner.output_dtype)
            ran, _, _ = _run_chunks(
                runner,
                np.arange(len(inputs), dtype=np.int64),
                n_batches,
                advisor,
                callback_list,
                "predict",
                _MetricsTracker([], runner),
                None,
                outputs=outputs,
                first_batch=done,
            )
            done += ran
            parts.append(outputs)
    callback_list.call("on_predict_end", {})
    if not parts:
        raise ValueError("predict() got no batches")
    return np.concatenate(parts)
