"""``tfds.load`` for the data sets the embedding tutorials use, read from local files.

TensorFlow Datasets downloads and prepares a data set once, then ``tfds.load`` hands out
``tf.data`` pipelines. fastembed never downloads anything: ``load`` reads the files
from ``data_dir`` and returns :class:`fastembed.data.Dataset` pipelines with TFDS' names,
splits, element structure and ``DatasetInfo``, so that a tutorial runs with its import
changed::

    import fastembed.tfds as tfds
    (train_data, test_data), info = tfds.load(
        "imdb_reviews/subwords8k", split=(tfds.Split.TRAIN, tfds.Split.TEST),
        with_info=True, as_supervised=True, data_dir="../shared/data")
    encoder = info.features["text"].encoder

Data sets:

``imdb_reviews`` (configs ``plain_text``, ``bytes``, ``subwords8k``, ``subwords32k``)
    Splits ``train`` and ``test`` (25,000 reviews each). ``data_dir`` holds either
    ``imdb/imdb_train.csv`` + ``imdb/imdb_test.csv`` (header ``id,rating,label,text``) or
    the original ``aclImdb/{train,test}/{neg,pos}/*.txt`` folders. The subword configs
    build TFDS' ``SubwordTextEncoder`` on the training texts (target ``2**13`` or
    ``2**15`` ids, as TFDS does; about 2 s for 8k) and encode every review once.

Differences from TFDS, all deliberate: texts are ``str`` (TFDS gives UTF-8 bytes); the
examples come in a fixed shuffled order (TFDS stores them shuffled; the CSV files are
sorted by class); ``shuffle_files`` has nothing to shuffle (one file per split).
"""

from __future__ import annotations

import collections
import functools
import os
import re
from typing import Any, Iterable

import numpy as np

from .data import Dataset
from .text.subword import SubwordEncoder

__all__ = ["load", "Split", "DatasetInfo", "disable_progress_bar", "deprecated"]

_ORDER_SEED = 0  # the fixed order examples come in (TFDS' files are stored shuffled)


class Split:
    """Split names (``tfds.Split.TRAIN`` is ``"train"``)."""

    TRAIN = "train"
    TEST = "test"
    VALIDATION = "validation"


class ClassLabel:
    """A label feature: ``names[i]`` is label i."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = list(names)
        self.num_classes = len(self.names)

    def int2str(self, value: int) -> str:
        return self.names[int(value)]

    def str2int(self, name: str) -> int:
        return self.names.index(name)

    def __repr__(self) -> str:
        return "ClassLabel(num_classes=%d)" % self.num_classes


class Text:
    """A text feature; ``encoder`` is the ``SubwordTextEncoder`` of an encoded config, else None."""

    def __init__(self, encoder: Any = None) -> None:
        self.encoder = encoder

    def __repr__(self) -> str:
        return "Text(encoder=%r)" % (self.encoder,)


SplitInfo = collections.namedtuple("SplitInfo", ["name", "num_examples"])


class DatasetInfo:
    """What ``with_info=True`` returns: ``name``, ``features``, ``splits``, ``supervised_keys``."""

    def __init__(
        self,
        name: str,
        config: str,
        features: dict[str, Any],
        splits: dict[str, SplitInfo],
        supervised_keys: tuple[str, str] | None,
        description: str,
    ) -> None:
        self.name = name
        self.config_name = config
        self.full_name = "%s/%s" % (name, config)
        self.features = features
        self.splits = splits
        self.supervised_keys = supervised_keys
        self.description = description

    def __repr__(self) -> str:
        return "DatasetInfo(name=%r, config=%r, splits=%s)" % (
            self.name,
            self.config_name,
            {k: v.num_examples for k, v in self.splits.items()},
        )


def disable_progress_bar() -> None:
    """Accepted for TFDS compatibility: loading local files shows no progress bar."""


class _Deprecated:
    class text:  # noqa: N801 - TFDS' module name
        SubwordTextEncoder = SubwordEncoder


#: ``tfds.deprecated.text.SubwordTextEncoder`` (TFDS' path to the subword encoder).
deprecated = _Deprecated()

_IMDB_CONFIGS = {"plain_text": None, "bytes": "bytes", "subwords8k": 2**13, "subwords32k": 2**15}
_IMDB_SPLITS = ("train", "test")
_SPLIT_SLICE = re.compile(r"^(\w+)(?:\[(-?\d+%?)?:(-?\d+%?)?\])?$")


def _read_imdb_split(data_dir, split):
    """(texts, labels) of one IMDB split from the CSV files or the aclImdb folders."""
    return _read_imdb_split_cached(os.path.realpath(data_dir), split)


@functools.lru_cache(maxsize=2)  # the info, the encoder and the split itself read the same file
def _read_imdb_split_cached(data_dir, split):
    from .datasets import load_text_dataset

    csv_path = os.path.join(data_dir, "imdb", "imdb_%s.csv" % split)
    if os.path.isfile(csv_path):
        data = load_text_dataset(csv_path, class_names=["0", "1"], shuffle=False)
    else:
        folder = os.path.join(data_dir, "aclImdb", split)
        if not os.path.isdir(folder):
            raise FileNotFoundError(
                "imdb_reviews: neither %s nor %s exists (fastembed does not download data sets: put the IMDB "
                "CSV files or the aclImdb folders under data_dir)" % (csv_path, folder)
            )
        data = load_text_dataset(folder, class_names=["neg", "pos"], shuffle=False)
    order = np.random.default_rng(_ORDER_SEED).permutation(len(data.texts))
    return tuple(data.texts[i] for i in order), data.labels[order]


# Built encoders, per (data_dir, target size): loading the same config twice builds once.
_ENCODERS: dict = {}


def _imdb_encoder(data_dir, target):
    key = (os.path.realpath(data_dir), target)
    if key not in _ENCODERS:
        texts, _ = _read_imdb_split(data_dir, "train")
        if target == "bytes":
            _ENCODERS[key] = _ByteEncoder()
        else:
            _ENCODERS[key] = SubwordEncoder.build_from_corpus(texts, target_vocab_size=target)
    return _ENCODERS[key]


class _ByteEncoder:
    """TFDS' ``ByteTextEncoder``: id = byte + 1 (0 is padding)."""

    vocab_size = 257

    def encode(self, text):
        return [b + 1 for b in text.encode("utf-8", "surrogatepass")]

    def encode_batch(self, texts):
        from .ragged import Ragged

        return Ragged.from_rows([np.frombuffer(t.encode("utf-8", "surrogatepass"), np.uint8) + 1 for t in texts])

    def decode(self, ids):
        return bytes(int(i) - 1 for i in ids if int(i) > 0).decode("utf-8", "replace")

    def __repr__(self) -> str:
        return "ByteTextEncoder(vocab_size=257)"


def _select(n, start, stop):
    """Indices of a TFDS split slice (``train[:80%]``, ``test[100:]``), as TFDS rounds them."""

    def bound(value, default):
        if value is None:
            return default
        if value.endswith("%"):
            percent = int(value[:-1])
            if not -100 <= percent <= 100:
                raise ValueError("a split percentage must be in [-100, 100], got %s" % value)
            percent = percent if percent >= 0 else 100 + percent
            return int(round(n * percent / 100.0))
        index = int(value)
        return max(0, min(n, index if index >= 0 else n + index))

    return bound(start, 0), bound(stop, n)


def _imdb_split(data_dir, config, split_spec, as_supervised):
    match = _SPLIT_SLICE.match(str(split_spec).strip())
    if match is None or match.group(1) not in _IMDB_SPLITS:
        raise ValueError(
            "imdb_reviews has the splits %s (with slices such as 'train[:80%%]'), got %r"
            % (list(_IMDB_SPLITS), split_spec)
        )
    texts, labels = _read_imdb_split(data_dir, match.group(1))
    first, last = _select(len(texts), match.group(2), match.group(3))
    texts, labels = texts[first:last], labels[first:last]
    target = _IMDB_CONFIGS[config]
    if target is None:
        values = np.empty(len(texts), dtype=object)
        values[:] = texts
        get = values.__getitem__
    else:
        ragged = _imdb_encoder(data_dir, target).encode_batch(texts)
        ids, offsets = ragged.values.astype(np.int64), ragged.offsets

        def get(i):
            return ids[offsets[i] : offsets[i + 1]]

    if as_supervised:

        def elements():
            return ((get(i), labels[i]) for i in range(len(labels)))

    else:

        def elements():
            return ({"label": labels[i], "text": get(i)} for i in range(len(labels)))

    return Dataset(elements, len(labels))


def load(
    name: str,
    split: Any = None,
    data_dir: str | os.PathLike | None = None,
    batch_size: int | None = None,
    shuffle_files: bool = False,
    download: bool = False,
    as_supervised: bool = False,
    with_info: bool = False,
) -> Any:
    """Load a data set as TFDS' ``tfds.load`` does, from local files.

    Parameters
    ----------
    name : str
        ``"imdb_reviews"`` or ``"imdb_reviews/<config>"`` (``plain_text``, ``bytes``,
        ``subwords8k``, ``subwords32k``).
    split : str or sequence of str, optional
        ``"train"``, ``"test"``, a slice such as ``"train[:80%]"``, or a tuple of them.
        None: a dict of every split.
    data_dir : path, optional
        Where the files are (see the module docstring). Default: ``FASTEMBED_DATA_DIR``,
        else ``~/tensorflow_datasets``.
    batch_size : int, optional
        Batch the examples (``-1``: the whole split in one batch), as TFDS does.
    shuffle_files, download : bool
        Accepted for TFDS compatibility; nothing is ever downloaded.
    as_supervised : bool, default False
        Elements are ``(text, label)`` tuples instead of ``{"text", "label"}`` dicts.
    with_info : bool, default False
        Also return a :class:`DatasetInfo`.

    Returns
    -------
    Dataset, tuple or dict of Dataset, and the DatasetInfo when ``with_info``.

    Raises
    ------
    ValueError
        An unknown data set, config or split.
    FileNotFoundError
        The files are not under ``data_dir``.
    """
    dataset_name, _, config = str(name).partition("/")
    if dataset_name != "imdb_reviews":
        raise ValueError("fastembed.tfds knows the data set 'imdb_reviews' only, got %r" % name)
    config = config or "plain_text"
    if config not in _IMDB_CONFIGS:
        raise ValueError("imdb_reviews has the configs %s, got %r" % (sorted(_IMDB_CONFIGS), config))
    if data_dir is None:
        data_dir = os.environ.get("FASTEMBED_DATA_DIR") or os.path.join(os.path.expanduser("~"), "tensorflow_datasets")
    data_dir = os.fspath(data_dir)

    def one(spec):
        dataset = _imdb_split(data_dir, config, spec, as_supervised)
        if batch_size is not None:
            if batch_size == -1:
                dataset = dataset.padded_batch(max(1, dataset.cardinality()))
            else:
                dataset = dataset.padded_batch(batch_size)
        return dataset

    if split is None:
        result = {s: one(s) for s in _IMDB_SPLITS}
    elif isinstance(split, (list, tuple)):
        result = type(split)(one(s) for s in split)
    else:
        result = one(split)
    if not with_info:
        return result
    target = _IMDB_CONFIGS[config]
    encoder = _imdb_encoder(data_dir, target) if target is not None else None
    sizes = {s: len(_read_imdb_split(data_dir, s)[1]) for s in _IMDB_SPLITS}
    info = DatasetInfo(
        "imdb_reviews",
        config,
        {"text": Text(encoder), "label": ClassLabel(["neg", "pos"])},
        {s: SplitInfo(s, n) for s, n in sizes.items()},
        ("text", "label"),
        "Large Movie Review Dataset (Maas et al., 2011): 25,000 training and 25,000 test reviews.",
    )
    return result, info
