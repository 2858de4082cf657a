"""Compiled Cython + OpenMP kernels. Import them through :mod:`fastembed.ops`.

The update kernels (``_optim``, ``_backward``, ``_train``, ``_word2vec``) exist twice on x86-64: a portable build
and an AVX2 + FMA build in ``_avx2/``. On import, this package loads the AVX2 build when
the CPU has AVX2 and FMA, under the canonical module names, so every other module (and
``_backward``'s own cimport of ``_optim``) sees one consistent set. Both builds round
identically (no FMA contraction), so results do not depend on which one runs. The bag
sum's AVX2 path is instead a function clone inside ``_forward`` (``_rowsum.h``), switched
on here by the same decision.
Set ``FASTEMBED_SIMD=baseline`` to force the portable build.
"""

import glob
import importlib.machinery
import importlib.util
import os
import sys

from . import _parallel

# Dependency order: _backward and _train cimport functions from _optim.
_VARIANT_MODULES = ("_optim", "_backward", "_train", "_word2vec")


def _load_variant(subdir):
    """Import the modules built into ``subdir`` under their canonical names."""
    here = os.path.dirname(__file__)
    paths = {}
    for name in _VARIANT_MODULES:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            candidates = glob.glob(os.path.join(here, subdir, name + suffix))
            if candidates:
                paths[name] = candidates[0]
                break
        else:
            return False
    for name in _VARIANT_MODULES:
        fullname = "%s.%s" % (__name__, name)
        spec = importlib.util.spec_from_file_location(fullname, paths[name])
        module = importlib.util.module_from_spec(spec)
        sys.modules[fullname] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[fullname]
            raise
        globals()[name] = module
    return True


def _select_simd():
    requested = os.environ.get("FASTEMBED_SIMD", "").strip().lower()
    if requested in ("baseline", "sse2", "portable", "off", "none"):
        return "baseline"
    if _parallel.cpu_has_avx2_fma():
        try:
            if _load_variant("_avx2"):
                return "avx2"
        except ImportError:  # a broken variant must never make the package unusable
            pass
    return "baseline"


SIMD = _select_simd()

from . import _backward, _forward, _optim, _train  # noqa: E402  (after the variant is in place)

# The bag sum's AVX2 path is a clone inside the portable _forward (see _rowsum.h); the
# training step includes the same loops and has its own switch.
_forward.set_rowsum_simd(SIMD == "avx2")
_train.set_rowsum_simd(SIMD == "avx2")
