"""fastembed over a Dask cluster: scoring, encoding, neighbour search and vocabularies on
collections larger than one machine (``pip install "cyembed[dask]"``).

Every function takes a Dask collection (a ``dask.dataframe`` Series of texts or words,
or a ``dask.bag.Bag``) and returns one, lazily, with one task per partition. The model,
vectorizer or vectors travel as bytes of fastembed's own formats (the ``.npz`` archive
with its JSON configuration, the encoder's JSON document): one key of the task graph,
which the scheduler copies to each worker once and every partition on that worker
shares; each worker process loads it once (never pickled objects). Threads inside a
worker follow fastembed's thread policy.

    import dask.dataframe as dd
    import fastembed.dask

    texts = dd.read_csv("reviews-*.csv")["text"]
    scores = fastembed.dask.predict(model, texts)          # a Dask DataFrame, one column per output
    vectorizer = fastembed.dask.adapt(TextVectorizer(max_tokens=20_000), texts)
"""

from __future__ import annotations

from ._scoring import most_similar_batch, predict, vectorize
from ._training import fit
from ._vocabulary import adapt, count_tokens

__all__ = ["predict", "vectorize", "most_similar_batch", "adapt", "count_tokens", "fit"]
