"""Labelled text from disk: class folders (``aclImdb/train/{neg,pos}``), CSV/TSV files and
the fastText format, as ``(texts, labels, class_names)``."""

import collections
import csv
import io
import os
import re

import numpy as np

from ._random import new_generator

TextDataset = collections.namedtuple("TextDataset", ["texts", "labels", "class_names"])
TextDataset.__doc__ = """Texts (list of str), integer labels (int64 array) and the class names
(``class_names[label]`` is a text's class)."""

TEXT_COLUMN_NAMES = ("text", "sentence", "review", "content", "document", "body", "comment", "tweet", "message")
LABEL_COLUMN_NAMES = ("label", "sentiment", "class", "category", "target", "labels", "polarity", "y")
_FASTTEXT_PREFIX = "__label__"


def load_text_dataset(
    path,
    text_column=None,
    label_column=None,
    class_names=None,
    format="auto",
    validation_split=None,
    seed=None,
    shuffle=True,
    encoding="utf-8",
    errors="strict",
):
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
    kind = _check_format(path, format)
    if kind == "directory":
        texts, raw_labels, classes = _read_directory(path, class_names, encoding, errors)
    else:
        content = _decode(path, encoding, errors)  # read once, for sniffing and parsing
        if kind == "auto":
            kind = _sniff_file_format(path, content)
        if kind == "fasttext":
            texts, raw_labels = _read_fasttext(content, path)
        else:
            texts, raw_labels = _read_table(content, path, "\t" if kind == "tsv" else ",", text_column, label_column)
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


def split_dataset(dataset, validation_split, seed=None):
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


def _check_format(path, format):
    """'directory', the file format asked for, or 'auto' (a file, to be sniffed)."""
    formats = ("auto", "directory", "csv", "tsv", "fasttext")
    if format not in formats:
        raise ValueError("format must be one of %s, got %r" % (", ".join(formats), format))
    if os.path.isdir(path):
        if format not in ("auto", "directory"):
            raise ValueError("%s is a directory, not a %s file" % (path, format))
        return "directory"
    if format == "directory":
        raise ValueError("%s is a file, not a directory of class folders" % path)
    return format


def _sniff_file_format(path, content):
    extension = os.path.splitext(path)[1].lower()
    if extension == ".csv":
        return "csv"
    if extension in (".tsv", ".tab"):
        return "tsv"
    first = next((line for line in content.splitlines() if line.strip()), None)
    if first is None:
        raise ValueError("%s is empty" % path)
    if first.startswith(_FASTTEXT_PREFIX):
        return "fasttext"
    raise ValueError(
        "cannot tell the format of %s: name it .csv or .tsv, use the fastText "
        "'__label__<class> text' lines, or pass format=" % path
    )


def _decode(path, encoding, errors):
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        text = data.decode(encoding, errors)
        # A UTF-8 byte-order mark (Excel writes one) is not part of the first column's name.
        return text[1:] if text.startswith("\ufeff") else text
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ValueError(
            "%s, line %d: bytes %r are not valid %s (pass encoding='cp1252' or errors='replace' "
            "for such files)" % (path, line, data[exc.start : exc.end], encoding)
        ) from None
    except LookupError:
        raise ValueError("unknown encoding %r" % encoding) from None


def _read_directory(path, class_names, encoding, errors):
    folders = sorted(name for name in os.listdir(path) if os.path.isdir(os.path.join(path, name)))
    if class_names is None:
        classes = folders
    else:
        classes = list(class_names)
        missing = [name for name in classes if name not in folders]
        if missing:
            raise ValueError("%s has no class folder %s (folders: %s)" % (path, missing, folders))
        if len(set(classes)) != len(classes):
            raise ValueError("class_names repeats a name: %s" % classes)
    texts, labels = [], []
    for name in classes:
        for root, dirs, files in os.walk(os.path.join(path, name)):
            dirs.sort()
            for filename in sorted(files):
                if filename.endswith(".txt"):
                    texts.append(_decode(os.path.join(root, filename), encoding, errors))
                    labels.append(name)
    if not texts:
        raise ValueError("%s holds no .txt files in class folders %s" % (path, classes))
    return texts, labels, classes


_ASCII_WHITESPACE = re.compile(r"[ \t\n\r\x0b\x0c]")


def _read_fasttext(content, path):
    texts, labels = [], []
    # Lines end at '\n' only (str.splitlines would also cut at U+0085, U+2028 or a form
    # feed inside a text: IMDB holds U+0085); the label ends at any ASCII whitespace.
    for number, line in enumerate(content.split("\n"), 1):
        line = line[:-1] if line.endswith("\r") else line
        if not line.strip():
            continue
        match = _ASCII_WHITESPACE.search(line)
        head, text = (line[: match.start()], line[match.end() :]) if match else (line, "")
        if not head.startswith(_FASTTEXT_PREFIX) or head == _FASTTEXT_PREFIX:
            raise ValueError("%s, line %d: expected '__label__<class> text'" % (path, number))
        if text.startswith(_FASTTEXT_PREFIX):
            raise ValueError(
                "%s, line %d: several labels on one line (multi-label data) are not supported" % (path, number)
            )
        texts.append(text)
        labels.append(head[len(_FASTTEXT_PREFIX) :])
    if not texts:
        raise ValueError("%s is empty" % path)
    return texts, labels


def _find_column(header, wanted, candidates, what, path):
    lowered = [name.strip().lower() for name in header]
    if wanted is not None:
        if wanted in header:
            return header.index(wanted)
        raise ValueError("%s has no %s column %r (columns: %s)" % (path, what, wanted, header))
    for candidate in candidates:
        if candidate in lowered:
            return lowered.index(candidate)
    raise ValueError("%s: no %s column found among %s; name it with %s_column=" % (path, what, header, what))


def _read_table(content, path, delimiter, text_column, label_column):
    if not content.strip():
        raise ValueError("%s is empty" % path)
    csv.field_size_limit(min(2**31 - 1, 1 << 30))
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        text_index = _find_column(header, text_column, TEXT_COLUMN_NAMES, "text", path)
        label_index = _find_column(header, label_column, LABEL_COLUMN_NAMES, "label", path)
        texts, labels = [], []
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise ValueError(
                    "%s, line %d: %d fields, the header has %d" % (path, reader.line_num, len(row), len(header))
                )
            texts.append(row[text_index])
            labels.append(row[label_index].strip())
    except csv.Error as exc:
        raise ValueError("%s, line %d: %s" % (path, reader.line_num, exc)) from None
    if not texts:
        raise ValueError("%s has a header but no rows" % path)
    return texts, labels


def _select_classes(texts, labels, class_names, path):
    found = set(labels)
    if class_names is None:
        # Integer labels sort numerically (so '10' comes after '9'), others as strings.
        numeric = all(label.lstrip("-").isdigit() for label in found)
        classes = sorted(found, key=int) if numeric else sorted(found)
        return texts, labels, classes
    classes = [str(name) for name in class_names]
    if len(set(classes)) != len(classes):
        raise ValueError("class_names repeats a name: %s" % classes)
    missing = [name for name in classes if name not in found]
    if missing:
        raise ValueError("%s has no examples of class %s (labels found: %s)" % (path, missing, sorted(found)[:20]))
    keep = set(classes)
    pairs = [(text, label) for text, label in zip(texts, labels) if label in keep]
    return [t for t, _ in pairs], [label for _, label in pairs], classes


# The demo corpus generator, re-exported: users find it with the other data sets.
from ._demo_corpus import demo_planted_pairs, make_demo_reviews  # noqa: E402, F401
