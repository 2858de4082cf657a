"""fastembed: embedding layers for the CPU, with Cython + OpenMP kernels (published on
PyPI as ``cyembed``; Qdrant's ``fastembed`` is another project).

Models: :class:`fastembed.Sequential` with :mod:`fastembed.layers`, trained with
:mod:`fastembed.optimizers`. The compiled kernels are reached through :mod:`fastembed.ops`;
their pure-NumPy twins, used as test oracle and benchmark baseline, are in
:mod:`fastembed.reference`.
"""

import importlib

from ._version import __version__
from ._neighbours import warn_if_shadowed as _warn_if_shadowed
from ._config import get_num_threads, set_num_threads, show_config, threads

_warn_if_shadowed(__path__[0])

# Everything else loads on first use (PEP 562): `import fastembed` costs the kernels and
# NumPy, not every module of the package. `fastembed.layers`, `from fastembed import
# Sequential` and `from fastembed.text import ...` work as with eager imports.
_SUBMODULES = frozenset(
    {
        "activations",
        "callbacks",
        "data",
        "datasets",
        "embeddings",
        "engine",
        "initializers",
        "keras",
        "layers",
        "losses",
        "metrics",
        "models",
        "ops",
        "optimizers",
        "reference",
        "regularizers",
        "search",
        "text",
        "tfds",
        "utils",
        "word2vec",
    }
)
_NAMES = {
    "Sequential": "models",
    "load_model": "models",
    "Ragged": "ragged",
    "SparseRows": "sparse",
    "set_random_seed": "_random",
    "constant": "data",
    "SparseAdagrad": "sparse_optim",
    "SparseAdam": "sparse_optim",
    "SparseRMSprop": "sparse_optim",
    "SparseRowwiseAdagrad": "sparse_optim",
    "SparseSGD": "sparse_optim",
    "Word2Vec": "word2vec",
    "FastText": "word2vec",
}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module("." + name, __name__)
    if name in _NAMES:
        value = getattr(importlib.import_module("." + _NAMES[name], __name__), name)
        globals()[name] = value  # looked up once
        return value
    raise AttributeError("module 'fastembed' has no attribute %r" % (name,))


def __dir__():
    return sorted(set(globals()) | _SUBMODULES | set(_NAMES))


__all__ = [
    "Ragged",
    "__version__",
    "get_num_threads",
    "set_num_threads",
    "show_config",
    "threads",
    "ops",
    "reference",
    "set_random_seed",
    "Sequential",
    "load_model",
    "layers",
    "optimizers",
    "losses",
    "metrics",
    "callbacks",
    "initializers",
    "activations",
    "regularizers",
    "text",
    "datasets",
    "embeddings",
    "search",
    "SparseRows",
    "SparseSGD",
    "SparseAdagrad",
    "SparseRowwiseAdagrad",
    "SparseAdam",
    "SparseRMSprop",
    "constant",
    "data",
    "engine",
    "keras",
    "tfds",
    "utils",
    "word2vec",
    "Word2Vec",
    "FastText",
]
