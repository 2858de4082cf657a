"""Labelled text from disk: class folders (``aclImdb/train/{neg,pos}``), CSV/TSV files and
the fastText format, as ``(texts, labels, class_names)``."""

from __future__ import annotations

import collections
import os
from typing import Collection, Iterable, Sequence

import numpy as np

from ._random import new_generator
from ._records import LABEL_COLUMN_NAMES, TEXT_COLUMN_NAMES, TextRecords  # noqa: F401 (public names)

TextDataset = collections.namedtuple("TextDataset", ["texts", "labels", "class_names"])
TextDataset.__doc__ = """Texts (list of str), integer labels (int64 array) and the class names
(``class_names[label]`` is a text's class)."""


def load_text_dataset(
    path: str | os.PathLike,
    text_column: str | None = None,
    label_column: str | None = None,
    class_names: Sequence[str] | None = None,
    format: str = "auto",
    validation_split: float | None = None,
    seed: int | None = None,
    shuffle: bool = True,
    encoding: str = "utf-8",
    errors: str = "strict",
) -> TextDataset | tuple[TextDataset, TextDataset]:
    """Load labelled texts from a class-folder tree, a CSV/TSV file or a fastText file.

    Parameters
    ----------
    path : str or path-like
        A directory with one subfolder of ``.txt`` files per class (the layout Keras'
        ``text_dataset_from_directory`` reads); a ``.csv`` or ``.tsv`` file with a header
        row; or a fastText file (``__label__<name> text`` per line).
    text_column, label_column : str, optional
        CSV/TSV column names. Found automatically among common names (``text``,
        ``sentence``, ``review``, ... and ``label``, ``sentiment``, ``class``, ...).
    class_names : list of str, optional
        The classes to keep, in label order. Other folders (such as ``aclImdb``'s
        ``unsup``) or rows of other labels are left out. Default: every class found,
        sorted (numerically when all labels are integers).
    format : {'auto', 'directory', 'csv', 'tsv', 'fasttext'}, default 'auto'
    validation_split : float, optional
        Fraction in (0, 1) held out for validation, per class (stratified).
    seed : int, optional
        Seed of the shuffle and the split (fastembed's generator when None).
    shuffle : bool, default True
        Shuffle the examples (files and rows often come sorted by class).
    encoding, errors : str
        How to decode bytes, as in :func:`open` (e.g. ``'cp1252'``, ``'replace'``).

    Returns
    -------
    TextDataset or (TextDataset, TextDataset)
        ``(texts, labels, class_names)``; with ``validation_split``, the training and the
        validation part.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        Empty input, a missing column, undecodable bytes (naming file and line), a
        malformed line, or fewer than two classes.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError("%s does not exist" % path)
    if validation_split is not None and not (0.0 < float(validation_split) < 1.0):
        raise ValueError("validation_split must be in (0, 1), got %r" % (validation_split,))
    records = TextRecords(path, text_column, label_column, format, class_names, encoding, errors)
    texts, raw_labels = [], []
    for text, label in records:
        texts.append(text)
        raw_labels.append(label)
    if records.kind == "directory":
        classes = records.classes
    else:
        texts, raw_labels, classes = _select_classes(texts, raw_labels, class_names, path)
    index = {name: i for i, name in enumerate(classes)}
    labels = np.fromiter((index[label] for label in raw_labels), dtype=np.int64, count=len(raw_labels))
    if len(np.unique(labels)) < 2:
        raise ValueError(
            "%s holds a single class (%s): a classifier needs at least two"
            % (path, classes[labels[0]] if labels.size else "none")
        )
    rng = new_generator(seed)
    order = rng.permutation(len(texts)) if shuffle else np.arange(len(texts))
    if validation_split is None:
        return TextDataset([texts[i] for i in order], labels[order], list(classes))
    return _split(texts, labels, list(classes), order, float(validation_split), rng)


def split_dataset(
    dataset: TextDataset, validation_split: float, seed: int | None = None
) -> tuple[TextDataset, TextDataset]:
    """Shuffle a :class:`TextDataset` and split it, stratified by class, as
    ``load_text_dataset(..., validation_split=...)`` does.

    Parameters
    ----------
    dataset : TextDataset
    validation_split : float
        Share of each class that goes to the second part, in (0, 1).
    seed : int, optional

    Returns
    -------
    (TextDataset, TextDataset)
    """
    if not 0.0 < float(validation_split) < 1.0:
        raise ValueError("validation_split must be in (0, 1), got %r" % (validation_split,))
    labels = np.asarray(dataset.labels, dtype=np.int64)
    rng = new_generator(seed)
    return _split(
        list(dataset.texts),
        labels,
        list(dataset.class_names),
        rng.permutation(len(labels)),
        float(validation_split),
        rng,
    )


def _split(texts, labels, classes, order, fraction, rng):
    """Stratified split: ``fraction`` of each class (picked by ``rng``) goes to the second
    part; both parts keep the order given by ``order``."""
    is_validation = np.zeros(len(texts), dtype=bool)
    for label in range(len(classes)):
        members = rng.permutation(np.flatnonzero(labels == label))
        is_validation[members[: int(round(len(members) * fraction))]] = True
    train = order[~is_validation[order]]
    validation = order[is_validation[order]]
    return (
        TextDataset([texts[i] for i in train], labels[train], classes),
        TextDataset([texts[i] for i in validation], labels[validation], classes),
    )


def class_names_of(
    found: Collection[str], class_names: Iterable[str] | None = None, path: str = "the data"
) -> list[str]:
    """The classes in label order: ``class_names`` (checked against the labels ``found``),
    else every label found, sorted (numerically when all are integers, so '10' comes
    after '9')."""
    if class_names is None:
        numeric = all(label.lstrip("-").isdigit() for label in found)
        return sorted(found, key=int) if numeric else sorted(found)
    classes = [str(name) for name in class_names]
    if len(set(classes)) != len(classes):
        raise ValueError("class_names repeats a name: %s" % classes)
    missing = [name for name in classes if name not in found]
    if missing:
        raise ValueError("%s has no examples of class %s (labels found: %s)" % (path, missing, sorted(found)[:20]))
    return classes


def _select_classes(texts, labels, class_names, path):
    classes = class_names_of(set(labels), class_names, path)
    if class_names is None:
        return texts, labels, classes
    keep = set(classes)
    pairs = [(text, label) for text, label in zip(texts, labels) if label in keep]
    return [t for t, _ in pairs], [label for _, label in pairs], classes


# The demo corpus generator, re-exported: users find it with the other data sets.
from ._demo_corpus import demo_planted_pairs, make_demo_reviews  # noqa: E402, F401
