"""Metrics accumulated over an epoch (Keras names)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


class Metric:
    """Accumulates over batches; :meth:`result` is the value over everything seen since
    :meth:`reset` (a sample-weighted mean, as Keras reports per epoch)."""

    name = None

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget what was accumulated."""
        self._total = 0.0
        self._count = 0

    def update(self, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        """Add one batch (labels as the loss uses them, predictions as probabilities)."""
        values = self._per_sample(y_true, y_pred)
        self._total += float(values.sum())
        self._count += values.shape[0]

    def add_totals(self, total: float, count: int) -> None:
        """Add a sum of per-sample values over ``count`` samples (what the compiled
        training loop computes)."""
        self._total += float(total)
        self._count += int(count)

    def result(self) -> float:
        """Return the metric's value."""
        return self._total / self._count if self._count else 0.0


class BinaryAccuracy(Metric):
    name = "binary_accuracy"

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        super().__init__()

    def _per_sample(self, y_true, y_pred):
        return ((y_pred > self.threshold) == (y_true > 0.5)).mean(axis=-1)


class CategoricalAccuracy(Metric):
    name = "categorical_accuracy"

    def _per_sample(self, y_true, y_pred):
        return (y_pred.argmax(axis=-1) == y_true.argmax(axis=-1)).astype(np.float64)


class SparseCategoricalAccuracy(Metric):
    name = "sparse_categorical_accuracy"

    def _per_sample(self, y_true, y_pred):
        return (y_pred.argmax(axis=-1) == y_true.reshape(-1)).astype(np.float64)


class AUC(Metric):
    """Exact ROC AUC of a binary classifier over the epoch (rank statistic with ties)."""

    name = "auc"

    def reset(self) -> None:
        self._labels, self._scores = [], []

    def update(self, y_true: ArrayLike, y_pred: ArrayLike) -> None:
        self._labels.append(np.asarray(y_true).reshape(-1) > 0.5)
        self._scores.append(np.asarray(y_pred, dtype=np.float64).reshape(-1))

    def result(self) -> float:
        if not self._labels:
            return 0.0
        labels, scores = np.concatenate(self._labels), np.concatenate(self._scores)
        positives = int(labels.sum())
        negatives = labels.size - positives
        if positives == 0 or negatives == 0:
            return 0.0
        order = np.argsort(scores, kind="stable")
        ranks = np.empty(scores.size)
        sorted_scores = scores[order]
        # Average ranks over ties (Mann-Whitney U).
        starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
        ends = np.r_[starts[1:], scores.size]
        ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
        return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


_METRICS = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "auc": AUC,
}


def get(identifier: Any, loss_name: str | None = None, output_dim: int = 1) -> Metric:
    """Return a Metric. ``'accuracy'`` (or ``'acc'``) picks the variant as Keras does: from
    the loss, else from the output width."""
    if isinstance(identifier, Metric):
        return identifier
    if identifier in ("accuracy", "acc"):
        if loss_name == "sparse_categorical_crossentropy":
            metric = SparseCategoricalAccuracy()
        elif loss_name == "categorical_crossentropy":
            metric = CategoricalAccuracy()
        elif loss_name == "binary_crossentropy" or output_dim == 1:
            metric = BinaryAccuracy()
        else:
            metric = CategoricalAccuracy()
        metric.name = "accuracy"  # Keras reports it under the name it was asked by
        return metric
    if isinstance(identifier, str) and identifier.lower() in _METRICS:
        return _METRICS[identifier.lower()]()
    raise ValueError("unknown metric %r; expected 'accuracy' or one of %s" % (identifier, sorted(_METRICS)))
