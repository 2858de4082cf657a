"""Unsupervised word vectors: ``Word2Vec`` (skip-gram and CBOW with negative sampling) and
``FastText`` (the same with character n-grams), with
gensim's names and defaults, trained by the compiled kernels in ``_kernels/_word2vec``."""

from ._fasttext import FastText, FastTextKeyedVectors
from ._model import Word2Vec

__all__ = ["Word2Vec", "FastText", "FastTextKeyedVectors"]
