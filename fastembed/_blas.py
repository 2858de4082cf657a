"""Keep NumPy's BLAS to one thread while a model trains or predicts.

The training step's matrix products are small (a batch times a Dense layer), so BLAS
threads gain nothing there. Worse, OpenBLAS's idle threads spin on the same cores as the
OpenMP team of fastembed's kernels: on the 2-core benchmark machine that made an epoch of
the large IMDB configuration take 2.34 s instead of 0.58 s. So, as scikit-learn does
internally with threadpoolctl, fastembed sets OpenBLAS to one thread for the duration of
fit / evaluate / predict and restores the previous count afterwards. Only OpenBLAS is
handled (what NumPy's wheels ship); other BLAS libraries are left alone. Set
``FASTEMBED_LIMIT_BLAS=0`` to opt out.
"""

import contextlib
import ctypes
import glob
import os
import threading

# (set, get) symbol pairs: NumPy's scipy-openblas (64-bit ints, prefixed), then plain OpenBLAS.
_SYMBOLS = [
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
]
_controls = None


def _candidate_libraries():
    import numpy

    here = os.path.dirname(numpy.__file__)
    patterns = [
        os.path.join(here, os.pardir, "numpy.libs", "*openblas*"),
        os.path.join(here, ".dylibs", "*openblas*"),
        os.path.join(here, "*openblas*"),
    ]
    paths = [p for pattern in patterns for p in glob.glob(pattern)]
    try:
        with open("/proc/self/maps") as maps:  # whatever OpenBLAS this process has loaded
            paths += sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line})
    except OSError:
        pass
    return paths


def _find_controls():
    """(set, get) functions of the loaded OpenBLAS, or None."""
    for path in _candidate_libraries():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in _SYMBOLS:
            if hasattr(library, set_name) and hasattr(library, get_name):
                setter, getter = getattr(library, set_name), getattr(library, get_name)
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                return setter, getter
    return None


def blas_controls():
    """The OpenBLAS thread controls (looked up once), or None."""
    global _controls
    if _controls is None:
        _controls = _find_controls() or False
    return _controls or None


# OpenBLAS's thread count is one process-wide value: calls running at the same time (two
# threads predicting) share one limit, taken by the first to enter and restored by the last
# to leave, so that none of them restores a value another one set.
_lock = threading.Lock()
_holders = 0
_saved = None


@contextlib.contextmanager
def single_threaded_blas():
    """Run the enclosed code with OpenBLAS limited to one thread (see the module docstring).
    Safe to enter from several threads at once."""
    global _holders, _saved
    controls = None if os.environ.get("FASTEMBED_LIMIT_BLAS", "1") == "0" else blas_controls()
    if controls is None:
        yield
        return
    setter, getter = controls
    with _lock:
        if _holders == 0:
            _saved = getter()
            setter(1)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                setter(_saved)
