"""fastembed: embedding layers for the CPU, with Cython + OpenMP kernels.

The compiled kernels are reached through :mod:`fastembed.ops`; their pure-NumPy twins,
used as test oracle and benchmark baseline, are in :mod:`fastembed.reference`.
"""

from ._version import __version__
from ._config import get_num_threads, set_num_threads, show_config, threads
from . import ops, reference
from .sparse import SparseRows
from .sparse_optim import SparseAdagrad, SparseAdam, SparseRMSprop, SparseRowwiseAdagrad, SparseSGD

__all__ = [
    "__version__",
    "get_num_threads",
    "set_num_threads",
    "show_config",
    "threads",
    "ops",
    "reference",
    "SparseRows",
    "SparseSGD",
    "SparseAdagrad",
    "SparseRowwiseAdagrad",
    "SparseAdam",
    "SparseRMSprop",
]
