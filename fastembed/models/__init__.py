"""Models: :class:`Sequential` (structure and the Keras-shaped API) and
:func:`load_model`."""

from ._saving import load_model
from ._sequential import Sequential

__all__ = ["Sequential", "load_model"]
