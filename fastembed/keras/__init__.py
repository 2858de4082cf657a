"""Keras' module layout over fastembed, for code written for ``tf.keras`` / ``keras``.

``import fastembed as tf`` makes ``tf.keras.layers.Embedding``, ``tf.keras.utils``,
``tf.keras.losses``, ``tf.keras.callbacks``, ``tf.data.AUTOTUNE`` and ``tf.constant``
resolve; ``from fastembed.keras.layers import Dense`` works like ``from keras.layers import
Dense``. Each name is fastembed's own module: nothing is wrapped.
"""

import sys

from .. import callbacks, initializers, layers, losses, metrics, models, optimizers, regularizers, utils
from ..models import Sequential, load_model

__all__ = [
    "Sequential",
    "load_model",
    "callbacks",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "regularizers",
    "utils",
]

# `from fastembed.keras.layers import Dense` imports a module by that name: the same
# module objects, registered under the Keras-shaped names.
for _name in __all__[2:]:  # the modules (after Sequential and load_model)
    sys.modules[__name__ + "." + _name] = globals()[_name]
del _name
