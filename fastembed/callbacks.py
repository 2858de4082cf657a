"""Training callbacks (Keras names and hooks)."""

from __future__ import annotations

import csv
import math
import os
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from . import _events
from ._files import atomic_write

if TYPE_CHECKING:
    from .models import Sequential


class Callback:
    """Base class: override the hooks you need. ``fit`` / ``evaluate`` / ``predict`` set
    ``self.model`` and ``self.params`` (``verbose``, ``epochs``, ``steps``) and call the
    hooks in Keras' order (``CallbackList``)."""

    def __init__(self) -> None:
        self.model: Sequential | None = None
        self.params = {}

    def set_model(self, model: Sequential) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_test_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_predict_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_predict_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass


class CallbackList:
    """The callbacks of one call, in order; calls a hook on each of them.

    Batch hooks decide how the loop runs: when no callback overrides them, the steps run
    in chunks through the compiled loop, and no batch hook is called (as Keras skips
    batch hooks nobody overrides).
    """

    def __init__(self, callbacks: Iterable[Callback], model: Sequential, params: Mapping[str, Any]) -> None:
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError("callbacks must be fastembed.callbacks.Callback objects, got %r" % (callback,))
            callback.set_model(model)
            callback.set_params(dict(params))

    def call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def overrides_batch_hooks(self, kind: str) -> bool:
        """True when a callback overrides ``on_<kind>_batch_begin`` or ``..._end``."""
        names = ("on_%s_batch_begin" % kind, "on_%s_batch_end" % kind)
        # Looked up on the instance: a callback may hook batches only when configured to.
        return any(
            getattr(getattr(callback, name), "__func__", None) is not getattr(Callback, name)
            for callback in self.callbacks
            for name in names
        )

    def terminates_on_nan(self) -> bool:
        """Does a callback (TerminateOnNaN) turn a non-finite loss into a clean stop?"""
        return any(getattr(callback, "terminates_on_nan", False) for callback in self.callbacks)


class History(Callback):
    """Records the epoch logs: ``history.history['loss']`` etc.; ``fit`` returns it and
    sets it as ``model.history``. ``epoch`` lists the epochs run, ``params`` the fit's."""

    def __init__(self) -> None:
        super().__init__()
        self.epoch = []
        self.history = {}

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


def _improvement_test(monitor, mode, min_delta):
    if mode not in ("auto", "min", "max"):
        raise ValueError("mode must be 'auto', 'min' or 'max', got %r" % (mode,))
    if mode == "auto":
        mode = "max" if ("acc" in monitor or "auc" in monitor) else "min"
    if mode == "min":
        return (lambda current, best: current < best - min_delta), math.inf
    return (lambda current, best: current > best + min_delta), -math.inf


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    Parameters
    ----------
    monitor : str, default 'val_loss'
    min_delta : float, default 0
        Smaller changes do not count as improvement.
    patience : int, default 0
    mode : {'auto', 'min', 'max'}
    restore_best_weights : bool, default False
        Put back the weights of the best epoch when stopping (or at the end of training).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ) -> None:
        super().__init__()
        self.monitor, self.min_delta, self.patience = monitor, abs(float(min_delta)), int(patience)
        self.restore_best_weights = bool(restore_best_weights)
        self._better, self._initial = _improvement_test(monitor, mode, self.min_delta)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.best, self.wait, self.stopped_epoch = self._initial, 0, None
        self.best_weights, self.best_epoch = None, None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        current = (logs or {}).get(self.monitor)
        if current is None:
            raise KeyError(
                "EarlyStopping monitors %r, which the logs do not have (available: %s)"
                % (self.monitor, sorted(logs or {}))
            )
        if self._better(current, self.best):
            self.best, self.wait, self.best_epoch = current, 0, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (or its weights) after each epoch, or only when ``monitor`` improves.

    Parameters
    ----------
    filepath : str
        May hold ``{epoch}`` and log keys, e.g. ``'ckpt-{epoch:02d}-{val_loss:.3f}.fe'``.
    monitor : str, default 'val_loss'
    verbose : int, default 0
        1 prints a line for each save.
    save_best_only : bool, default False
    save_weights_only : bool, default False
        Write :meth:`Sequential.save_weights` files instead of whole models.
    mode : {'auto', 'min', 'max'}
    save_freq : 'epoch'
        Keras' other choice (every N batches) is not supported.
    """

    def __init__(
        self,
        filepath: str | os.PathLike,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__()
        if save_freq != "epoch":
            raise ValueError("ModelCheckpoint saves once per epoch (save_freq='epoch'), got %r" % (save_freq,))
        self.filepath, self.monitor, self.save_best_only = str(filepath), monitor, bool(save_best_only)
        self.save_weights_only, self.verbose = bool(save_weights_only), int(verbose)
        self._better, self._initial = _improvement_test(monitor, mode, 0.0)
        if initial_value_threshold is not None:
            self._initial = float(initial_value_threshold)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.best = self._initial

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                raise KeyError(
                    "ModelCheckpoint monitors %r, which the logs do not have (available: %s)"
                    % (self.monitor, sorted(logs))
                )
            if not self._better(current, self.best):
                return
            self.best = current
        path = self.filepath.format(epoch=epoch + 1, **{k: float(np.asarray(v)) for k, v in logs.items()})
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose:
            print("Epoch %d: saving %s to %s" % (epoch + 1, "weights" if self.save_weights_only else "model", path))


class CSVLogger(Callback):
    """Write each epoch's logs as a CSV row (Keras' columns: ``epoch`` then the log keys,
    sorted). The file is rewritten whole, atomically, after every epoch.

    Parameters
    ----------
    filename : str
    separator : str, default ','
    append : bool, default False
        Keep the rows of an existing file (its header must match).
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        self.filename, self.separator, self.append = str(filename), separator, bool(append)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.rows, self.keys = [], None
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="", encoding="utf-8") as handle:
                lines = list(csv.reader(handle, delimiter=self.separator))
            if lines:
                self.keys, self.rows = lines[0][1:], lines[1:]

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        self.rows.append([str(epoch)] + [_csv_value(logs.get(key, "NA")) for key in self.keys])
        with atomic_write(self.filename, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=self.separator)
            writer.writerow(["epoch"] + self.keys)
            writer.writerows(self.rows)


def _csv_value(value):
    return repr(float(value)) if isinstance(value, (float, int, np.floating, np.integer)) else str(value)


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to ``schedule(epoch, lr)`` (or
    ``schedule(epoch)``); the epoch's logs get ``learning_rate``, as Keras 3."""

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError("schedule must be a function (epoch, lr) -> lr")
        self.schedule, self.verbose = schedule, int(verbose)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        lr = self.model.optimizer.learning_rate
        try:
            new = self.schedule(epoch, lr)
        except TypeError:  # Keras also takes a one-argument schedule
            new = self.schedule(epoch)
        if (
            isinstance(new, bool)
            or not isinstance(new, (float, int, np.floating, np.integer))
            or not math.isfinite(new)
            or new <= 0
        ):
            raise ValueError("the schedule returned %r for epoch %d: it must return a positive number" % (new, epoch))
        self.model.optimizer.learning_rate = float(new)
        if self.verbose:
            print("Epoch %d: LearningRateScheduler setting learning rate to %s." % (epoch + 1, float(new)))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs, then wait ``cooldown`` epochs; never below ``min_lr`` (Keras'
    rule, ``min_delta`` 1e-4 by default). Logs ``learning_rate``."""

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__()
        if not 0 < factor < 1:
            raise ValueError("ReduceLROnPlateau needs 0 < factor < 1, got %r" % (factor,))
        self.monitor, self.factor, self.patience, self.verbose = monitor, float(factor), int(patience), int(verbose)
        self.cooldown, self.min_lr = int(cooldown), float(min_lr)
        self._better, self._initial = _improvement_test(monitor, mode, abs(float(min_delta)))

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.best, self.wait, self.cooldown_counter = self._initial, 0, 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            raise KeyError(
                "ReduceLROnPlateau monitors %r, which the logs do not have (available: %s)"
                % (self.monitor, sorted(logs))
            )
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(optimizer.learning_rate)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    if new > 0:
                        optimizer.learning_rate = new
                    if self.verbose:
                        print("Epoch %d: ReduceLROnPlateau reducing learning rate to %s." % (epoch + 1, new))
                    self.cooldown_counter, self.wait = self.cooldown, 0


class TerminateOnNaN(Callback):
    """Stop training cleanly when the loss becomes NaN or infinite.

    The engine checks every step's loss and gradients before it updates anything and
    raises ``FloatingPointError``; with this callback ``fit`` stops there instead (the
    weights are those of the last good step) and returns its History."""

    terminates_on_nan = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print("Epoch %d: Invalid loss, terminating training" % (epoch + 1))
            self.model.stop_training = True


class TensorBoard(Callback):
    """Write TensorBoard logs (``tensorboard --logdir LOG_DIR``), as Keras' callback.

    Every epoch writes the scalars ``epoch_<name>`` (loss, metrics, learning rate) to an
    event file in ``log_dir/train`` and the validation ones to ``log_dir/validation``.
    With ``embeddings_freq=N``, every N epochs the first embedding layer's table goes to
    the Projector: ``log_dir/<layer name>/vecs.tsv``, ``meta.tsv`` (the vocabulary of the
    model's TextVectorization, or ``embeddings_metadata``, a list of tokens) and
    ``log_dir/projector_config.pbtxt``.

    Parameters
    ----------
    log_dir : str, default 'logs'
    histogram_freq : int, default 0
        Weight histograms are not written; only 0 is accepted.
    write_graph, write_images, profile_batch :
        Accepted for Keras code; nothing is written for them.
    update_freq : 'epoch' or int
        An int also writes ``batch_<name>`` every that many batches (the steps then run
        one batch per call, which is slower).
    embeddings_freq : int, default 0
    embeddings_metadata : list of str, optional
    """

    def __init__(
        self,
        log_dir: str | os.PathLike = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: str | int = "epoch",
        profile_batch: Any = 0,
        embeddings_freq: int = 0,
        embeddings_metadata: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        if histogram_freq:
            raise ValueError(
                "TensorBoard(histogram_freq=%r): weight histograms are not supported; use 0" % (histogram_freq,)
            )
        if update_freq != "epoch" and (
            isinstance(update_freq, bool) or not isinstance(update_freq, int) or update_freq < 1
        ):
            raise ValueError("update_freq must be 'epoch' or a positive int, got %r" % (update_freq,))
        self.log_dir, self.update_freq = str(log_dir), update_freq
        self.embeddings_freq = int(embeddings_freq)
        self.embeddings_metadata = embeddings_metadata
        self._writers = {}
        if update_freq != "epoch":
            # Batch hooks make the loop run one batch per call: hooked only when asked for.
            self.on_train_batch_end = self._on_train_batch_end

    def _writer(self, kind):
        if kind not in self._writers:
            self._writers[kind] = _events.EventFileWriter(os.path.join(self.log_dir, kind))
        return self._writers[kind]

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._batches = 0

    def _on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._batches += 1
        if self.update_freq != "epoch" and self._batches % self.update_freq == 0 and logs:
            self._writer("train").add_scalars(self._batches, {"batch_" + k: v for k, v in logs.items()})

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        train = {"epoch_" + k: v for k, v in logs.items() if not k.startswith("val_")}
        if self.model is not None and getattr(self.model, "optimizer", None) is not None:
            train.setdefault("epoch_learning_rate", float(self.model.optimizer.learning_rate))
        self._writer("train").add_scalars(epoch, train)
        validation = {"epoch_" + k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        if validation:
            self._writer("validation").add_scalars(epoch, validation)
        if self.embeddings_freq and (epoch + 1) % self.embeddings_freq == 0:
            self._write_embeddings()

    def _write_embeddings(self):
        from .embeddings import KeyedVectors

        layer = next((layer for layer in self.model.layers if hasattr(layer, "embeddings")), None)
        if layer is None:
            raise ValueError("TensorBoard(embeddings_freq=...) needs a model with an embedding layer")
        vectors = layer.get_weights()[0]
        tokens = self.embeddings_metadata
        if tokens is None:
            vectorizer = next((each for each in self.model.layers if hasattr(each, "get_vocabulary")), None)
            tokens = vectorizer.get_vocabulary() if vectorizer is not None else [str(i) for i in range(len(vectors))]
        tokens = list(tokens)[: len(vectors)]
        tokens += [str(i) for i in range(len(tokens), len(vectors))]
        keyed = KeyedVectors(vectors, [t if t else "[PAD]" for t in tokens])
        keyed.save_projector(os.path.join(self.log_dir, layer.name), config=True)
        with atomic_write(os.path.join(self.log_dir, "projector_config.pbtxt"), "w", encoding="utf-8") as handle:
            handle.write(
                'embeddings {\n  tensor_name: "%s"\n  tensor_path: "%s/vecs.tsv"\n'
                '  metadata_path: "%s/meta.tsv"\n}\n' % (layer.name, layer.name, layer.name)
            )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
