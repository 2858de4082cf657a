"""fastembed: embedding layers for the CPU, with Cython + OpenMP kernels (published on
PyPI as ``cyembed``; Qdrant's ``fastembed`` is another project).

Models: :class:`fastembed.Sequential` with :mod:`fastembed.layers`, trained with
:mod:`fastembed.optimizers`. The compiled kernels are reached through :mod:`fastembed.ops`;
their pure-NumPy twins, used as test oracle and benchmark baseline, are in
:mod:`fastembed.reference`.
"""

from ._version import __version__
from ._neighbours import warn_if_shadowed as _warn_if_shadowed
from ._config import get_num_threads, set_num_threads, show_config, threads
from . import ops, reference
from ._random import set_random_seed
from . import activations, callbacks, initializers, layers, losses, metrics, optimizers, regularizers
from . import datasets, embeddings, engine, search, text
from . import data, keras, utils
from .data import constant
from .models import Sequential, load_model
from .ragged import Ragged
from .sparse import SparseRows
from .sparse_optim import SparseAdagrad, SparseAdam, SparseRMSprop, SparseRowwiseAdagrad, SparseSGD

_warn_if_shadowed(__path__[0])

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
]
