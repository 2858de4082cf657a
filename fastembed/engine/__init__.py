"""The training engine: validate once, plan once, run batches (or chunks of steps) through
fused kernels. The Keras-shaped surface (``Sequential``) calls it; nothing else above it
calls a kernel in a loop. See ``_data`` (validation), ``_plan`` (fusion and the choice of
runner), ``_compiled`` / ``_generic`` (the runners), ``_threads`` (the thread limit) and
``_loop`` (fit / evaluate / predict with callbacks)."""

from ._data import Inputs, prepare
from ._loop import evaluate, fit, predict
from ._plan import Plan, fuse_layers

__all__ = ["Inputs", "Plan", "evaluate", "fit", "fuse_layers", "predict", "prepare"]
