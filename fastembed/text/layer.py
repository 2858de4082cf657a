"""``layers.TextVectorization``: Keras' preprocessing layer, first in a Sequential.

The model then takes raw strings in ``fit`` / ``evaluate`` / ``predict``: the engine runs
this layer over each call's (or each streamed chunk's) texts once, and the rest of the
model sees ids (``output_mode='int'``) or bag-of-words rows (``'multi_hot'``, ``'count'``,
``'tf_idf'``, which feed a Dense layer directly). It has no weights; its vocabulary (and
IDF weights) are saved in the model file's configuration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence, TypeVar, overload

import numpy as np

from .. import layers as layers_module
from ..data import Dataset
from ..ragged import Ragged
from .vectorizer import TextVectorizer

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

_F = TypeVar("_F", bound=Callable[..., Any])

OUTPUT_MODES = ("int", "multi_hot", "count", "tf_idf")

# Callables for standardize / split saved by name (Keras: register_keras_serializable).
_REGISTERED = {}


@overload
def register_text_function(function: _F, name: str | None = None) -> _F: ...


@overload
def register_text_function(function: None = None, name: str | None = None) -> Callable[[_F], _F]: ...


def register_text_function(
    function: Callable[..., Any] | None = None,
    name: str | None = None,
) -> Callable[..., Any]:
    """Register a ``standardize`` or ``split`` callable under ``name`` (default: its
    ``__name__``) so a model holding it can be saved and loaded; usable as a decorator.

    A model file stores the name only: the loading program must register the same
    function before ``load_model``.
    """

    def register(fn):
        key = name or fn.__name__
        if not callable(fn):
            raise TypeError("register_text_function takes a callable, got %r" % (fn,))
        _REGISTERED[key] = fn
        fn._fastembed_registered_name = key
        return fn

    return register(function) if function is not None else register


def _describe(value, what):
    """A standardize / split value as JSON: its name, or a registered callable's."""
    if callable(value):
        key = getattr(value, "_fastembed_registered_name", None)
        if key is None or _REGISTERED.get(key) is not value:
            raise ValueError(
                "%s is an unregistered callable: decorate it with "
                "@fastembed.text.register_text_function to save the model" % what
            )
        return {"registered": key}
    return value


def _resolve(value, what):
    if isinstance(value, dict):
        key = value.get("registered")
        if key not in _REGISTERED:
            raise ValueError(
                "the saved %s is the registered function %r, which this program has not registered "
                "(fastembed.text.register_text_function)" % (what, key)
            )
        return _REGISTERED[key]
    return value


def _is_stream(data):
    """A Dataset, generator or iterator (not a string, list, tuple or array)."""
    return isinstance(data, Dataset) or (
        hasattr(data, "__iter__") and not isinstance(data, (str, list, tuple, np.ndarray))
    )


def _iter_texts(data):
    """The texts of ``data`` (strings, arrays of strings, a Dataset of texts or of
    ``(texts, labels)`` batches), one at a time: a stream stays a stream."""
    if isinstance(data, str):
        yield data
        return
    if _is_stream(data):
        for element in data:
            if isinstance(element, tuple):
                element = element[0]
            if isinstance(element, str):
                yield element
            else:
                yield from (str(t) for t in np.asarray(element, dtype=object).reshape(-1))
        return
    yield from (str(t) for t in np.asarray(data, dtype=object).reshape(-1))


def _texts_of(data):
    """All texts of ``data`` as one list."""
    return list(_iter_texts(data))


class TextVectorization(layers_module.Layer):
    """Keras' ``TextVectorization`` layer (see the module docstring).

    Parameters
    ----------
    max_tokens : int, optional
        Vocabulary cap. In ``'int'`` mode it counts ``''`` and ``'[UNK]'``; in the other
        modes the vocabulary has no padding token and it counts ``'[UNK]'`` (index 0).
    standardize, split, ngrams, output_sequence_length :
        As :class:`fastembed.text.TextVectorizer`. Callables run on the slower Python
        path; register them (:func:`register_text_function`) to save the model.
    output_mode : {'int', 'multi_hot', 'count', 'tf_idf'}
        ``int``: token ids. Otherwise one row per text of width ``vocabulary_size()`` (or
        ``max_tokens`` with ``pad_to_max_tokens``): 1.0 where a token occurs, its count,
        or its count times its IDF weight ``log(1 + texts / (1 + texts holding it))``
        (the out-of-vocabulary column's weight is the mean of the others), as Keras.
    pad_to_max_tokens : bool, default False
    vocabulary : list of str, optional
    idf_weights : list of float, optional
        With a fixed ``vocabulary`` in ``'tf_idf'`` mode.
    name : str, optional
    """

    #: the engine runs this layer over the inputs of each call before the others
    preprocessing = True

    def __init__(
        self,
        max_tokens: int | None = None,
        standardize: str | Callable[[str], str] | None = "lower_and_strip_punctuation",
        split: str | Callable[[str], Sequence[str]] | None = "whitespace",
        ngrams: int | Sequence[int] | None = None,
        output_mode: str = "int",
        output_sequence_length: int | None = None,
        pad_to_max_tokens: bool = False,
        vocabulary: Iterable[str] | None = None,
        idf_weights: ArrayLike | None = None,
        name: str | None = None,
        **ignored: Any,
    ) -> None:
        super().__init__(name, trainable=False)
        if output_mode not in OUTPUT_MODES:
            raise ValueError("output_mode must be one of %s, got %r" % (OUTPUT_MODES, output_mode))
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError("output_sequence_length is for output_mode='int' only (as in Keras)")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError("pad_to_max_tokens=True needs max_tokens")
        self.output_mode = output_mode
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.max_tokens = max_tokens
        bag_of_words = output_mode != "int"
        # The other modes have no padding token: one more for the TextVectorizer, whose
        # vocabulary always starts with '' and '[UNK]'.
        self._vectorizer = TextVectorizer(
            max_tokens=max_tokens + 1 if (bag_of_words and max_tokens is not None) else max_tokens,
            standardize=_resolve(standardize, "standardize"),
            split=_resolve(split, "split"),
            ngrams=tuple(ngrams) if isinstance(ngrams, list) else ngrams,
            output_sequence_length=output_sequence_length,
        )
        self.idf_weights = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif idf_weights is not None:
            raise ValueError("idf_weights need a vocabulary")

    # -- vocabulary --------------------------------------------------------------------
    def adapt(
        self,
        data: str | Iterable[Any] | Dataset,
        batch_size: int | None = None,
        steps: int | None = None,
    ) -> TextVectorization:
        """Build the vocabulary (and IDF weights) from texts: a list or array of strings,
        or a Dataset of texts or of ``(texts, labels)`` batches (Keras' ``.map(lambda x,
        y: x)`` is accepted too)."""
        if steps is not None and isinstance(data, Dataset):
            data = data.take(steps)
        if self.output_mode == "tf_idf":  # document frequencies need the texts twice
            texts = _texts_of(data)
            if not texts:
                raise ValueError("adapt() got no texts")
            self._vectorizer.adapt(texts)
            self.idf_weights = self._idf(texts)
            return self
        # A Dataset or a generator is counted chunk by chunk, never held whole.
        texts = _iter_texts(data) if _is_stream(data) else _texts_of(data)
        counts = self._vectorizer.count_tokens(texts, empty_error="adapt() got no texts")
        self._vectorizer.adapt_counts(counts)
        return self

    def set_vocabulary(self, vocabulary: Iterable[str], idf_weights: ArrayLike | None = None) -> None:
        """Use a fixed vocabulary (``idf_weights`` with it in ``'tf_idf'`` mode)."""
        tokens = list(vocabulary)
        if self.output_mode == "int":
            self._vectorizer.set_vocabulary(tokens)
            return
        if tokens[:1] == ["[UNK]"]:
            tokens = tokens[1:]
        self._vectorizer.set_vocabulary(tokens)
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("output_mode='tf_idf' with a fixed vocabulary needs idf_weights (one per token)")
            weights = np.asarray(idf_weights, dtype=np.float32).reshape(-1)
            if weights.shape[0] == len(tokens):
                weights = np.concatenate([[weights.mean() if len(weights) else 0.0], weights]).astype(np.float32)
            if weights.shape[0] != len(tokens) + 1 or not np.all(np.isfinite(weights)):
                raise ValueError(
                    "idf_weights must be %d finite numbers (one per token), got %d" % (len(tokens), weights.shape[0])
                )
            self.idf_weights = weights

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The vocabulary, index by index (``'int'``: ``''``, ``'[UNK]'``, tokens; other
        modes: ``'[UNK]'``, tokens)."""
        vocabulary = self._vectorizer.get_vocabulary(include_special_tokens=True)
        if self.output_mode != "int":
            vocabulary = vocabulary[1:]
        if not include_special_tokens:
            vocabulary = vocabulary[2 if self.output_mode == "int" else 1 :]
        return vocabulary

    def vocabulary_size(self) -> int:
        return len(self.get_vocabulary())

    def _width(self):
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def _columns(self, texts):
        """``(row, column)`` of every token of ``texts`` in the bag-of-words output."""
        ragged = self._vectorizer(texts)
        if not isinstance(ragged, Ragged):
            ragged = Ragged.from_rows([ragged])
        rows = np.repeat(np.arange(len(ragged), dtype=np.int64), np.diff(ragged.offsets))
        return rows, ragged.values.astype(np.int64) - 1  # '[UNK]' (id 1) is column 0

    def _idf(self, texts):
        rows, columns = self._columns(texts)
        width = self.vocabulary_size()
        pairs = np.unique(rows * width + columns)
        document_counts = np.bincount(pairs % width, minlength=width).astype(np.float64)
        idf = np.log1p(len(texts) / (1.0 + document_counts))
        idf[0] = idf[1:].mean() if width > 1 else 0.0  # Keras: the OOV column's weight is their mean
        return idf.astype(np.float32)

    # -- computation -------------------------------------------------------------------
    def __call__(self, texts: str | Iterable[Any]) -> np.ndarray | Ragged:
        single = isinstance(texts, str)
        texts = [texts] if single else _texts_of(texts)
        if self.output_mode == "int":
            out = self._vectorizer(texts)
            return out[0] if single and not isinstance(out, Ragged) else out
        rows, columns = self._columns(texts)
        width = self._width()
        out = np.bincount(rows * width + columns, minlength=len(texts) * width).astype(np.float32)
        out = out.reshape(len(texts), width)
        if self.output_mode == "multi_hot":
            np.minimum(out, 1.0, out=out)
        elif self.output_mode == "tf_idf":
            out[:, : self.idf_weights.shape[0]] *= self.idf_weights
        return out[0] if single else out

    def forward(
        self,
        inputs: str | Iterable[Any],
        mask: np.ndarray | None = None,
        training: bool = False,
    ) -> np.ndarray | Ragged:
        return self(inputs)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        if self.output_mode == "int":
            return (input_shape[0], self._vectorizer.output_sequence_length)
        return (input_shape[0], self._width() if self._vectorizer._vocabulary is not None else self.max_tokens)

    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
        super().build(input_shape if input_shape is not None else (None,))

    def get_config(self) -> dict[str, Any]:
        vectorizer = self._vectorizer
        config = dict(
            super().get_config(),
            max_tokens=self.max_tokens,
            standardize=_describe(vectorizer.standardize, "standardize"),
            split=_describe(vectorizer.split, "split"),
            ngrams=(list(vectorizer.ngrams) if isinstance(vectorizer.ngrams, tuple) else vectorizer.ngrams),
            output_mode=self.output_mode,
            output_sequence_length=vectorizer.output_sequence_length,
            pad_to_max_tokens=self.pad_to_max_tokens,
            vocabulary=(self.get_vocabulary() if vectorizer._vocabulary is not None else None),
            idf_weights=(self.idf_weights.tolist() if self.idf_weights is not None else None),
        )
        config.pop("trainable", None)
        return config
