"""Keras' ``keras.utils`` helpers for text: ``text_dataset_from_directory`` and
``pad_sequences``."""

from __future__ import annotations

import os

import numpy as np

from .data import Dataset
from .text import pad_sequences  # noqa: F401  (keras.utils.pad_sequences)


def _index_directory(directory, class_names, follow_links):
    """``(paths, labels, class_names)``: the ``.txt`` files of each class folder, classes
    and files in sorted order (Keras' index_directory)."""
    if not os.path.isdir(directory):
        raise ValueError("%s is not a directory" % directory)
    folders = sorted(name for name in os.listdir(directory) if os.path.isdir(os.path.join(directory, name)))
    if class_names is None:
        class_names = folders
    else:
        class_names = list(class_names)
        missing = [name for name in class_names if name not in folders]
        if missing:
            raise ValueError("class_names %s are not folders of %s (found %s)" % (missing, directory, folders))
    paths, labels = [], []
    for label, name in enumerate(class_names):
        found = []
        for root, _, files in os.walk(os.path.join(directory, name), followlinks=follow_links):
            found += [os.path.join(root, f) for f in files if f.lower().endswith(".txt")]
        found.sort()
        paths += found
        labels += [label] * len(found)
    return paths, np.asarray(labels, dtype=np.int32), class_names


def _read_text(path, max_length):
    with open(path, "rb") as handle:
        data = handle.read() if max_length is None else handle.read(max_length)
    # Keras hands the bytes on (tf.string); text code here wants str. max_length counts
    # bytes, as tf.strings.substr does; a character cut in two is dropped.
    return data.decode("utf-8", errors="ignore" if max_length is not None else "replace")


def text_dataset_from_directory(
    directory: str | os.PathLike,
    labels: str | None = "inferred",
    label_mode: str | None = "int",
    class_names: list[str] | None = None,
    batch_size: int | None = 32,
    max_length: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    verbose: bool = True,
) -> Dataset | list[Dataset]:
    """A :class:`fastembed.data.Dataset` of ``(texts, labels)`` batches from a folder with
    one sub-folder of ``.txt`` files per class (the aclImdb layout), with Keras' semantics.

    Files are listed at once and read as the iteration reaches them. Classes are the
    sorted folder names (or ``class_names``, in that order); with ``shuffle`` the file list
    is shuffled once with ``seed``, then each epoch's order is drawn through a buffer of
    ``batch_size * 8`` elements. ``validation_split`` keeps the last fraction of the
    (shuffled) files for ``subset="validation"`` and the rest for ``"training"``;
    ``"both"`` returns both (the validation set unshuffled).

    Parameters
    ----------
    directory : str
    labels : 'inferred' or None
    label_mode : {'int', 'binary', 'categorical', None}
        int32 class ids, float32 ``(n, 1)`` for two classes, or one-hot float32.
    class_names : list of str, optional
    batch_size : int or None
        None yields single elements.
    max_length : int, optional
        Read at most this many bytes of each file.
    shuffle, seed, validation_split, subset, follow_links, verbose :
        As in Keras. A ``seed`` is required with ``validation_split`` and ``shuffle``.

    Returns
    -------
    Dataset, or a list of two for ``subset='both'``; each has ``class_names``.
    """
    if labels not in ("inferred", None):
        raise ValueError("labels must be 'inferred' or None (a list of labels is not supported), got %r" % (labels,))
    if label_mode not in ("int", "binary", "categorical", None):
        raise ValueError("label_mode must be 'int', 'binary', 'categorical' or None, got %r" % (label_mode,))
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if validation_split is not None:
        if not 0 < validation_split < 1:
            raise ValueError("validation_split must be between 0 and 1, got %r" % (validation_split,))
        if subset not in ("training", "validation", "both"):
            raise ValueError(
                "with validation_split, subset must be 'training', 'validation' or 'both', got %r" % (subset,)
            )
        if shuffle and seed is None:
            raise ValueError(
                "if using validation_split and shuffling the data, you must provide a seed argument "
                "(else the two subsets would overlap)"
            )
    elif subset is not None:
        raise ValueError("subset=%r needs a validation_split" % (subset,))
    if max_length is not None and int(max_length) < 1:
        raise ValueError("max_length must be positive, got %r" % (max_length,))
    if seed is None:
        seed = int(np.random.randint(1_000_000))
    paths, label_ids, class_names = _index_directory(directory, class_names, follow_links)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError("label_mode='binary' needs exactly 2 classes, found %s" % class_names)
    if verbose:
        print("Found %d files belonging to %d classes." % (len(paths), len(class_names)))
    if shuffle:
        order = np.random.RandomState(seed).permutation(len(paths))
        paths, label_ids = [paths[i] for i in order], label_ids[order]

    def subset_of(name):
        if not validation_split:
            return paths, label_ids
        n_val = int(validation_split * len(paths))
        if verbose:
            print("Using %d files for %s." % (len(paths) - n_val if name == "training" else n_val, name))
        if name == "training":
            return paths[: len(paths) - n_val], label_ids[: len(paths) - n_val]
        return paths[len(paths) - n_val :], label_ids[len(paths) - n_val :]

    def make(part, shuffled):
        part_paths, part_labels = part
        if not part_paths:
            raise ValueError("no text files found in %s for this subset (allowed format: .txt)" % directory)
        if label_mode == "binary":
            targets = part_labels.astype(np.float32).reshape(-1, 1)
        elif label_mode == "categorical":
            targets = np.eye(len(class_names), dtype=np.float32)[part_labels]
        else:
            targets = part_labels
        dataset = Dataset.from_tensor_slices((part_paths, targets) if label_mode else part_paths)
        if shuffled:
            dataset = dataset.shuffle(batch_size * 8 if batch_size else 1024, seed=seed)
        if label_mode:
            dataset = dataset.map(lambda path, target: (_read_text(str(path), max_length), target))
        else:
            dataset = dataset.map(lambda path: _read_text(str(path), max_length))
        if batch_size is not None:
            dataset = dataset.batch(batch_size)
        dataset.class_names = class_names
        return dataset

    if subset == "both":
        return [make(subset_of("training"), shuffle), make(subset_of("validation"), False)]
    return make(subset_of(subset) if validation_split else (paths, label_ids), shuffle)
