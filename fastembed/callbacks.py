"""Training callbacks (Keras names and hooks)."""

import math

import numpy as np


class Callback:
    """Base class: override the hooks you need. ``fit`` / ``evaluate`` / ``predict`` set
    ``self.model`` and ``self.params`` (``verbose``, ``epochs``, ``steps``) and call the
    hooks in Keras' order (``CallbackList``)."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass


class CallbackList:
    """The callbacks of one call, in order; calls a hook on each of them.

    Batch hooks decide how the loop runs: when no callback overrides them, the steps run
    in chunks through the compiled loop, and no batch hook is called (as Keras skips
    batch hooks nobody overrides).
    """

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError("callbacks must be fastembed.callbacks.Callback objects, got %r" % (callback,))
            callback.set_model(model)
            callback.set_params(dict(params))

    def call(self, hook, *args):
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def overrides_batch_hooks(self, kind):
        """True when a callback overrides ``on_<kind>_batch_begin`` or ``..._end``."""
        names = ("on_%s_batch_begin" % kind, "on_%s_batch_end" % kind)
        return any(getattr(type(callback), name) is not getattr(Callback, name)
                   for callback in self.callbacks for name in names)


class History(Callback):
    """Records the epoch logs: ``history.history['loss']`` etc.; ``fit`` returns it and
    sets it as ``model.history``. ``epoch`` lists the epochs run, ``params`` the fit's."""

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.history = {}

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
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

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto", restore_best_weights=False):
        super().__init__()
        self.monitor, self.min_delta, self.patience = monitor, abs(float(min_delta)), int(patience)
        self.restore_best_weights = bool(restore_best_weights)
        self._better, self._initial = _improvement_test(monitor, mode, self.min_delta)

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.stopped_epoch = self._initial, 0, None
        self.best_weights, self.best_epoch = None, None

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            raise KeyError("EarlyStopping monitors %r, which the logs do not have (available: %s)"
                           % (self.monitor, sorted(logs or {})))
        if self._better(current, self.best):
            self.best, self.wait, self.best_epoch = current, 0, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model after each epoch (or only when ``monitor`` improves).

    Parameters
    ----------
    filepath : str
        May hold ``{epoch}`` and log keys, e.g. ``'ckpt-{epoch:02d}-{val_loss:.3f}.fe'``.
    monitor : str, default 'val_loss'
    save_best_only : bool, default False
    mode : {'auto', 'min', 'max'}
    """

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, mode="auto"):
        super().__init__()
        self.filepath, self.monitor, self.save_best_only = str(filepath), monitor, bool(save_best_only)
        self._better, self._initial = _improvement_test(monitor, mode, 0.0)

    def on_train_begin(self, logs=None):
        self.best = self._initial

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                raise KeyError("ModelCheckpoint monitors %r, which the logs do not have (available: %s)"
                               % (self.monitor, sorted(logs)))
            if not self._better(current, self.best):
                return
            self.best = current
        self.model.save(self.filepath.format(epoch=epoch + 1, **{k: float(np.asarray(v)) for k, v in logs.items()}))
