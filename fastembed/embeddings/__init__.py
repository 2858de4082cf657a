"""The learned embedding as a product.

:class:`KeyedVectors` holds tokens and their vectors, built from a trained ``Embedding``
layer and its vocabulary. It offers gensim's API: nearest neighbours and analogies
(exact, blocked, parallel search), evaluation on analogy and word-similarity files, PCA
and plots, the TensorFlow Embedding Projector's files and the word2vec formats.
"""

from ._evaluation import CorrelationResult
from ._keyed_vectors import KeyedVectors
from ._projection import PCAResult

__all__ = ["KeyedVectors", "CorrelationResult", "PCAResult"]
