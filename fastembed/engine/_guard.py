"""Weights guard: what a model promises when it is used from several threads at once.

Training writes the weights chunk by chunk; inference reads them. A readers-writer lock
per model makes each `predict` / `evaluate` call see the weights of one moment (between
two training chunks) for all its rows, while any number of inference calls run together
(their kernels release the GIL). A waiting writer is served before new readers, so a
stream of predictions cannot stall training. Two `fit` calls on one model at once are an
error: their updates would interleave into weights neither call describes.
"""

import threading
from contextlib import contextmanager


class WeightsGuard:
    """Readers-writer lock, writer-preferring, with a clear error instead of a deadlock
    when a thread that reads (a predict callback) asks to write (calls fit)."""

    def __init__(self):
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = None  # the thread that holds the write side
        self._writers_waiting = 0
        self._training = None  # the thread inside fit
        self._local = threading.local()

    def _reading_depth(self):
        return getattr(self._local, "depth", 0)

    @contextmanager
    def reading(self):
        """Hold the weights still for the block (shared with other readers)."""
        me = threading.get_ident()
        with self._cond:
            # A thread already reading, or the writer itself (fit's validation), goes on.
            if self._writer != me and not self._reading_depth():
                while self._writer is not None or self._writers_waiting:
                    self._cond.wait()
            self._readers += 1
        self._local.depth = self._reading_depth() + 1
        try:
            yield
        finally:
            self._local.depth -= 1
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def writing(self):
        """Change the weights in the block, alone."""
        me = threading.get_ident()
        if self._reading_depth():
            raise RuntimeError(
                "the model's weights cannot change while this thread is reading them "
                "(fit or set_weights called from inside predict / evaluate)"
            )
        with self._cond:
            if self._writer == me:
                raise RuntimeError("the model's weights are already being written by this thread")
            self._writers_waiting += 1
            try:
                while self._writer is not None or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = me
        try:
            yield
        finally:
            with self._cond:
                self._writer = None
                self._cond.notify_all()

    @contextmanager
    def training(self):
        """Mark the block as this model's one running fit."""
        with self._cond:
            if self._training is not None:
                raise RuntimeError(
                    "fit is already running on this model in another thread; train one model per thread (clone it)"
                    if self._training != threading.get_ident()
                    else "fit is already running on this model (called from a callback?)"
                )
            self._training = threading.get_ident()
        try:
            yield
        finally:
            with self._cond:
                self._training = None
