"""Model inputs, validated once per call: ids, targets and sample weights.

``fit`` / ``evaluate`` / ``predict`` bring their data here first. After this every id is
known to be in the table, every target and weight finite, every shape consistent, so the
batches that follow run through kernels that check nothing (as scikit-learn's estimators
validate once and then run a trusted path).
"""

import numbers

import numpy as np

from .. import _validation
from .._config import COMPILED, threads_for
from ..ragged import Ragged

if COMPILED:
    from .._kernels import _parallel


class Inputs:
    """Validated data for one call.

    Attributes
    ----------
    ids : ndarray (n, seq) of int32/int64, or Ragged
    y : ndarray or None
        Targets as the loss uses them (float32 columns, or int64 class labels).
    sample_weight : float32 ndarray (n,) or None
    """

    __slots__ = ("ids", "y", "sample_weight")

    def __init__(self, ids, y=None, sample_weight=None):
        self.ids, self.y, self.sample_weight = ids, y, sample_weight

    def __len__(self):
        return len(self.ids) if isinstance(self.ids, Ragged) else self.ids.shape[0]

    @property
    def ragged(self):
        return isinstance(self.ids, Ragged)

    def take(self, index):
        """The samples ``index`` (int array), as new Inputs."""
        pick = lambda a: None if a is None else a[index]
        ids = self.ids.take(index) if self.ragged else self.ids[index]
        return Inputs(ids, pick(self.y), pick(self.sample_weight))

    def split(self, at):
        """``(self[:at], self[at:])``."""
        cut = lambda a, s: None if a is None else a[s]
        head, tail = slice(0, at), slice(at, len(self))
        return (
            Inputs(self.ids[head], cut(self.y, head), cut(self.sample_weight, head)),
            Inputs(self.ids[tail], cut(self.y, tail), cut(self.sample_weight, tail)),
        )

    def count_tokens(self, padding_idx):
        """Non-padding ids (for tokens/s)."""
        flat = self.ids.values if self.ragged else self.ids
        return int(flat.size if padding_idx is None else np.count_nonzero(flat != padding_idx))


def as_ids(x):
    """Token ids as a padded ``(n, seq)`` int array or a Ragged (lists of different
    lengths become one; lists of equal lengths a padded array)."""
    if isinstance(x, Ragged):
        # Checked again here, at the boundary: its arrays may have changed since it was made.
        return Ragged(x.values, x.offsets)
    if isinstance(x, np.ndarray) and x.dtype != object:
        ids = _validation.as_ids(x, "x")
        if ids.ndim != 2:
            raise ValueError("x must be 2-D (samples, sequence) token ids or a Ragged, got shape %s" % (ids.shape,))
        return ids
    if isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.dtype == object):
        rows = list(x)
        if not all(hasattr(row, "__len__") and not isinstance(row, (str, bytes)) for row in rows):
            raise TypeError("x must be a 2-D int array, a Ragged or a list of token-id lists")
        lengths = {len(row) for row in rows}
        if rows and len(lengths) == 1:
            return as_ids(np.asarray(rows))
        try:
            return Ragged.from_rows(rows)
        except TypeError as exc:
            raise TypeError("x must be integers (int32 or int64): %s" % exc) from None
    raise TypeError("x must be a 2-D int array, a Ragged or a list of token-id lists, got %s" % type(x).__name__)


def _takes_ids(model):
    """Does the first layer the engine runs take token ids (rather than feature rows)?"""
    first = model._layers[0]
    return hasattr(first, "input_dim")


def _as_texts(x):
    """Raw strings for a model that starts with TextVectorization."""
    if isinstance(x, str):
        raise TypeError("x is one string: give a list (or array) of texts")
    if isinstance(x, np.ndarray) and x.dtype.kind in "US" or isinstance(x, np.ndarray) and x.dtype == object:
        texts = x.reshape(-1).tolist()
    elif isinstance(x, (list, tuple)):
        texts = list(x)
    else:
        raise TypeError(
            "this model starts with TextVectorization: x must be texts (a list or array of strings), "
            "got %s" % type(x).__name__
        )
    for position, text in enumerate(texts):
        if isinstance(text, bytes):
            texts[position] = text.decode("utf-8", errors="replace")
        elif not isinstance(text, str):
            raise TypeError("x must be texts: item %d is %s, not a string" % (position, type(text).__name__))
    return texts


def as_features(x):
    """Feature rows (a model starting with Dense: bag-of-words output, for instance):
    a finite 2-D float array."""
    features = np.asarray(x)
    if features.dtype.kind not in "biuf" or features.ndim != 2:
        raise TypeError(
            "x must be a 2-D array of numbers for a model that starts with %s, got %s %s"
            % ("a Dense layer", features.dtype, features.shape)
        )
    if features.dtype.kind != "f":
        features = features.astype(np.float32)
    if not np.all(np.isfinite(features)):
        raise ValueError("x contains NaN or infinity")
    return np.ascontiguousarray(features)


def check_id_range(ids, num_rows):
    """IndexError naming the sample and position of the first id outside ``[0, num_rows)``
    (one pass, threaded by the thread policy)."""
    flat = ids.values if isinstance(ids, Ragged) else ids.reshape(-1)
    if COMPILED:
        position, _ = _parallel.check_ids(flat, 0, num_rows, threads_for(flat.shape[0]))
    else:
        position, _ = _validation.numpy_check_ids(flat, 0, num_rows)
    if position < 0:
        return
    if isinstance(ids, Ragged):
        sample = int(np.searchsorted(ids.offsets, position, side="right")) - 1
        where = (sample, int(position - ids.offsets[sample]))
    else:
        where = _validation.describe_position(position, ids.shape)
    raise IndexError(
        "x: id %d at position %s (sample %d) is out of range for a table of %d rows "
        "(valid ids are 0..%d)" % (int(flat[position]), where, where[0], num_rows, num_rows - 1)
    )


def as_targets(y, n, loss, output_dim):
    """Targets as the loss uses them, checked: numeric, one per sample, finite."""
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError("labels must be numbers, got %s" % y.dtype)
    if y.ndim == 0 or y.shape[0] != n:
        raise ValueError("x has %d samples but y has %d" % (n, y.shape[0] if y.ndim else 0))
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            bad = int(np.argmax(~np.isfinite(y.reshape(len(y), -1)).any(axis=1)))
            raise ValueError("labels contain NaN or infinity (first at sample %d)" % bad)
        y = y.astype(np.float32, copy=False)
    # Integer labels reach the loss as they are (class ids above 2**24 stay exact); the
    # losses on float targets get float32.
    checked = loss.check_targets(y, output_dim)
    if not loss.integer_targets:
        checked = checked.astype(np.float32, copy=False)
    return np.ascontiguousarray(checked)


def as_sample_weight(sample_weight, n):
    """Per-sample weights: 1-D, one per sample, finite and >= 0, as float32."""
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError("sample_weight must be numbers, got %s" % w.dtype)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.shape != (n,):
        raise ValueError("sample_weight must have shape (%d,), got %s" % (n, w.shape))
    w = np.ascontiguousarray(w, dtype=np.float32)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        at = int(np.argmax(bad))
        raise ValueError("sample_weight must be finite and >= 0 (sample %d has %r)" % (at, float(w[at])))
    return w


def class_weights_to_sample_weights(class_weight, y):
    """Keras' rule: each sample gets the weight of its class (argmax of one-hot targets,
    else the rounded label); classes missing from the dict weigh 1."""
    if not hasattr(class_weight, "items"):
        raise TypeError("class_weight must be a dict {class index: weight}, got %s" % type(class_weight).__name__)
    table = {}
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, numbers.Integral):
            raise ValueError("class_weight keys must be class indices (ints), got %r" % (key,))
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
            raise ValueError("class_weight[%d] must be a finite number >= 0, got %r" % (key, value))
        table[int(key)] = float(value)
    labels = np.asarray(y)
    if labels.ndim == 2:
        labels = labels.argmax(axis=1) if labels.shape[1] > 1 else labels[:, 0]
    labels = np.round(labels).astype(np.int64)
    weights = np.ones(labels.shape[0], dtype=np.float32)
    for label, value in table.items():
        weights[labels == label] = value
    return weights


def prepare(model, x, y=None, sample_weight=None, class_weight=None):
    """Validate one call's data against ``model`` (built here if needed).

    Returns
    -------
    Inputs
    """
    if model._preprocessing:
        x = model._preprocess(_as_texts(x))
    ids = as_ids(x) if _takes_ids(model) else as_features(x)
    model._ensure_built(ids)
    table_rows = model._input_rows()
    if table_rows is not None:
        check_id_range(ids, table_rows)
    inputs = Inputs(ids)
    n = len(inputs)
    if y is None:
        if sample_weight is not None or class_weight is not None:
            raise ValueError("sample_weight and class_weight need targets (y)")
        return inputs
    inputs.y = as_targets(y, n, model.loss, model.output_dim)
    if sample_weight is not None and class_weight is not None:
        raise ValueError("give sample_weight or class_weight, not both (as Keras)")
    if sample_weight is not None:
        inputs.sample_weight = as_sample_weight(sample_weight, n)
    elif class_weight is not None:
        inputs.sample_weight = class_weights_to_sample_weights(class_weight, inputs.y)
    return inputs
