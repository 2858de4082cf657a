"""Thread control and build information."""

from __future__ import annotations

import contextlib
import operator
import os
import warnings

from ._version import __version__

# GNU OpenMP reads its wait policy once, when the first kernel module loads it. Its default
# spins idle team members for a while before they sleep; on a machine whose cores other
# processes hold, a spinning member takes CPU time from the member that still works, and
# one parallel region can take 10x longer (measured: 168 ms instead of 17 ms per step of
# the large IMDB configuration beside two busy processes). Passive waiting costs a futex
# wake per region, which the thread policy keeps to regions large enough to afford it.
# Set only while loading our kernels, and never over the user's own setting.
_SET_WAIT_POLICY = not any(name in os.environ for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"))
if _SET_WAIT_POLICY:
    os.environ["OMP_WAIT_POLICY"] = "passive"
try:
    from ._kernels import _parallel as _compiled_parallel
    from ._kernels import SIMD as _SIMD
except ImportError as exc:  # uncompiled source tree: ops fall back to the NumPy twins
    _compiled_parallel = None
    _SIMD = None
    _IMPORT_ERROR = exc
    warnings.warn(
        "fastembed's compiled kernels are missing (%s); falling back to the slow pure-NumPy "
        "reference implementation. Build the package with `pip install .`." % exc,
        RuntimeWarning,
        stacklevel=2,
    )
else:
    _IMPORT_ERROR = None
finally:
    if _SET_WAIT_POLICY:
        del os.environ["OMP_WAIT_POLICY"]

COMPILED = _compiled_parallel is not None
OPENMP = bool(COMPILED and _compiled_parallel.openmp_enabled())


def _threads_from_environment():
    """Default thread count: ``OMP_NUM_THREADS`` when set, else the usable cores."""
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if value:
        try:
            n = int(value)
        except ValueError:
            n = 0
        if n >= 1:
            return n
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


_num_threads = _threads_from_environment()

#: Scalar operations per thread below which a parallel region does not grow its team:
#: work under twice this runs serially (see :func:`threads_for`). Tests lower it to
#: exercise the parallel paths on small inputs.
PARALLEL_MIN_WORK = 1 << 17


def threads_for(work: int, limit: int | None = None) -> int:
    """The one thread policy: how many threads a region doing ``work`` operations gets.

    Every parallel region in fastembed (kernels, input checks, text encoding, search, and
    the compiled training loop, which applies the same formula in C) asks this. It gives
    one thread per ``PARALLEL_MIN_WORK`` operations, at most :func:`get_num_threads` (and
    at most ``limit``), and 1 for small work, so that small work never wakes a team.

    Parameters
    ----------
    work : int
        About how many scalar operations the region performs.
    limit : int, optional
        A further cap (the training loop lowers it when extra threads do not pay, for
        example on a machine whose cores are busy with other processes).

    Returns
    -------
    int
    """
    if not OPENMP:
        return 1
    cap = _num_threads if limit is None else max(1, min(int(limit), _num_threads))
    return _compiled_parallel.threads_for(int(work), cap, PARALLEL_MIN_WORK)


def get_num_threads() -> int:
    """Return the number of threads fastembed's kernels use.

    Returns
    -------
    int
        The value set by :func:`set_num_threads`, else ``OMP_NUM_THREADS``, else the
        number of usable cores. Kernels built without OpenMP run serially whatever it says.
    """
    return _num_threads


def set_num_threads(n: int | None) -> None:
    """Set the number of threads fastembed's kernels use (process-wide).

    Parameters
    ----------
    n : int
        A positive thread count. More threads than cores is allowed but rarely helps.
    """
    global _num_threads
    if isinstance(n, bool):
        raise TypeError("number of threads must be an integer, got %r" % (n,))
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError("number of threads must be an integer, got %r" % (n,)) from None
    if n < 1:
        raise ValueError("number of threads must be >= 1, got %d" % n)
    _num_threads = n


@contextlib.contextmanager
def threads(n):
    """Context manager running the enclosed code with ``n`` kernel threads.

    Parameters
    ----------
    n : int

    Examples
    --------
    >>> with fastembed.threads(1):
    ...     out = fastembed.ops.embedding_bag(weights, ids)
    """
    previous = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(previous)


def _blas_info():
    import numpy as np

    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return ("%s %s" % (blas.get("name", "?"), blas.get("version", ""))).strip()
    except Exception:  # older NumPy or an unusual build: not worth failing over
        return "unknown"


def show_config(verbose: bool = False) -> dict:
    """Describe this fastembed build and its run-time settings.

    Parameters
    ----------
    verbose : bool, default False
        Also print the description.

    Returns
    -------
    dict
        ``version``, ``compiled`` (True when the Cython kernels are in use, False when
        ops fall back to the NumPy reference), ``openmp``, ``simd`` (``'avx2'`` when the
        AVX2 build of the update kernels is loaded, else ``'baseline'``), ``num_threads``,
        ``num_procs``, ``numpy`` and ``blas``.
    """
    import numpy as np

    info = {
        "version": __version__,
        "compiled": COMPILED,
        "openmp": OPENMP,
        "simd": _SIMD,
        "num_threads": get_num_threads(),
        "num_procs": _compiled_parallel.openmp_num_procs() if OPENMP else (os.cpu_count() or 1),
        "numpy": np.__version__,
        "blas": _blas_info(),
    }
    if not COMPILED:
        info["import_error"] = str(_IMPORT_ERROR)
    if verbose:
        width = max(len(key) for key in info)
        for key, value in info.items():
            print("%s : %s" % (key.ljust(width), value))
    return info
