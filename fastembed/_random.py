"""The library's random state: initialisers, shuffling and dropout all draw from it."""

import numpy as np

_generator = np.random.default_rng()


def set_random_seed(seed):
    """Make initialisation, shuffling and dropout repeatable.

    Parameters
    ----------
    seed : int
        Seeds fastembed's generator (NumPy's global state is left alone).
    """
    global _generator
    _generator = np.random.default_rng(seed)


def generator():
    """Return the library-wide ``numpy.random.Generator``."""
    return _generator


def new_generator(seed=None):
    """A generator of its own for one object: from ``seed``, or drawn from the global one."""
    if seed is None:
        seed = int(_generator.integers(0, 2**63 - 1))
    return np.random.default_rng(seed)
