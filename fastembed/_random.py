"""The library's random state: initialisers, shuffling and dropout all draw from it.

``FASTEMBED_SEED=<int>`` in the environment seeds it at import, so that a script that never
calls :func:`set_random_seed` (a tutorial run as written) can still be made repeatable.
"""

import os

import numpy as np


def _seed_from_environment():
    value = os.environ.get("FASTEMBED_SEED", "").strip()
    if not value:
        return None
    try:
        seed = int(value)
    except ValueError:
        raise ValueError("FASTEMBED_SEED must be a non-negative integer, got %r" % value) from None
    if seed < 0:
        raise ValueError("FASTEMBED_SEED must be a non-negative integer, got %r" % value)
    return seed


_generator = np.random.default_rng(_seed_from_environment())


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
