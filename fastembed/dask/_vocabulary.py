"""Vocabularies over a Dask collection: per-partition counts summed in a tree."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from ._shipping import _kind_of, _texts

if TYPE_CHECKING:
    import dask.bag as db
    import dask.dataframe as dd

    from ..text import TextVectorization, TextVectorizer

# adapt returns the vectorizer it was given (a TextVectorizer or a TextVectorization layer).
_Vectorizer = TypeVar("_Vectorizer", "TextVectorizer", "TextVectorization")


def _count_part(part, config):
    from ..text import TextVectorizer

    return TextVectorizer.from_config(config).count_tokens(_texts(part))


def _sum_counts(parts):
    total: dict = {}
    for counts in parts:
        for token, n in counts.items():
            total[token] = total.get(token, 0) + n
    return total


def count_tokens(vectorizer: TextVectorizer, texts: dd.Series | db.Bag, split_every: int = 8) -> db.Item:
    """Token counts of a whole collection: counted per partition on the workers, then
    summed in a tree (``split_every`` partitions per node). Returns a Dask ``Item``."""
    kind_of = _kind_of(texts)
    bag = texts if kind_of == "bag" else texts.to_bag()
    config = vectorizer.get_config()
    return bag.reduction(
        lambda part: _count_part(part, config), _sum_counts, split_every=split_every, name="fastembed-count-tokens"
    )


def adapt(vectorizer: _Vectorizer, texts: dd.Series | db.Bag, split_every: int = 8) -> _Vectorizer:
    """Build ``vectorizer``'s vocabulary from a Dask collection.

    The vocabulary equals ``vectorizer.adapt(all_texts)`` in one process, token for token
    (the order depends only on the summed counts).

    Parameters
    ----------
    vectorizer : fastembed.text.TextVectorizer or layers.TextVectorization ('int',
        'multi_hot' or 'count' mode)

    Returns
    -------
    the vectorizer, adapted
    """
    from ..text import TextVectorizer

    target = vectorizer
    if not isinstance(vectorizer, TextVectorizer):
        if getattr(vectorizer, "output_mode", None) == "tf_idf":
            raise ValueError("adapt on Dask does not compute IDF weights; adapt a tf_idf layer in one process")
        target = getattr(vectorizer, "_vectorizer", None)
        if not isinstance(target, TextVectorizer):
            raise TypeError("adapt takes a TextVectorizer or a TextVectorization layer, got %s" % type(vectorizer))
    counts = count_tokens(target, texts, split_every=split_every).compute()
    if not counts:
        raise ValueError("adapt() got no tokens from the collection")
    target.adapt_counts(counts)
    return vectorizer
