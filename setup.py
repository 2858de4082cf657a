"""Build script: compiles the Cython kernels, with OpenMP when the compiler has it.

Environment variables
---------------------
FASTEMBED_REQUIRE_OPENMP=1
    Fail the build instead of falling back to serial kernels when OpenMP is missing
    (release wheels set this).
FASTEMBED_DISABLE_OPENMP=1
    Build serial kernels even when OpenMP is available (to test the fallback).
FASTEMBED_NATIVE=1
    Add ``-march=native``: faster on the build machine, but the binary is then not
    portable, so it is never the default.
FASTEMBED_NO_AVX2=1
    Skip the AVX2 + FMA builds of the update kernels (x86-64 only). By default they are
    built beside the portable ones and chosen at import time on CPUs that have AVX2.
FASTEMBED_SANITIZE=address,undefined
    Build the kernels with GCC/Clang sanitizers (a debugging build, never a release):
    an out-of-bounds read or undefined behaviour that does not crash still aborts the
    process. Run Python with the sanitizer runtime preloaded, as CI does::

        LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 pytest ...
"""

import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

KERNEL_DIR = os.path.join("fastembed", "_kernels")
KERNELS = ["_parallel", "_forward", "_backward", "_optim", "_train", "_text", "_subword", "_search", "_word2vec"]
# Kernels whose arithmetic (sqrt, division in the optimizer rules) gains from AVX2. The
# gathers do not: an AVX2 build of _forward, even with register-resident accumulators,
# measured slower here. Built a second time into fastembed/_kernels/_avx2/ and selected
# at import (fastembed/_kernels/__init__.py).
AVX2_KERNELS = ["_optim", "_backward", "_train", "_word2vec"]
SHARED_UTILITY = "fastembed._kernels._cyutility"

OPENMP_PROBE_SOURCE = textwrap.dedent(
    r"""
    #include <omp.h>
    #include <stdio.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        printf("%d\n", n);
        return n > 0 ? 0 : 1;
    }
    """
)


def _env_flag(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _openmp_candidates(compiler):
    """Compiler and linker flag pairs to try, most likely first."""
    if compiler.compiler_type == "msvc":
        return [(["/openmp"], [])]
    if sys.platform == "darwin":
        # Apple clang needs the preprocessor flag plus an external libomp;
        # a Homebrew gcc or LLVM clang takes the plain flag.
        return [(["-Xpreprocessor", "-fopenmp"], ["-lomp"]), (["-fopenmp"], ["-fopenmp"])]
    return [(["-fopenmp"], ["-fopenmp"])]


def _probe_openmp(compiler, cflags, ldflags):
    """Compile, link and run a tiny OpenMP program; True when all three succeed."""
    tmpdir = tempfile.mkdtemp(prefix="fastembed-omp-")
    try:
        source = os.path.join(tmpdir, "probe.c")
        with open(source, "w") as handle:
            handle.write(OPENMP_PROBE_SOURCE)
        extra_cflags = shlex_split(os.environ.get("CPPFLAGS", "")) + cflags
        extra_ldflags = shlex_split(os.environ.get("LDFLAGS", "")) + ldflags
        objects = compiler.compile([source], output_dir=tmpdir, extra_postargs=extra_cflags)
        exe = os.path.join(tmpdir, "probe")
        compiler.link_executable(objects, exe, extra_postargs=extra_ldflags)
        if compiler.compiler_type == "msvc" and not exe.endswith(".exe"):
            exe += ".exe"
        # Running it catches a runtime library that links but cannot be loaded.
        subprocess.run([exe], check=True, capture_output=True, timeout=60)
        return True
    except Exception:  # any failure means "no usable OpenMP with these flags"
        return False
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def shlex_split(value):
    return shlex.split(value) if value else []


def _probe_flags(compiler, flags):
    """True when the compiler accepts ``flags`` on a trivial C file."""
    tmpdir = tempfile.mkdtemp(prefix="fastembed-flags-")
    try:
        source = os.path.join(tmpdir, "probe.c")
        with open(source, "w") as handle:
            handle.write("int main(void) { return 0; }\n")
        compiler.compile([source], output_dir=tmpdir, extra_postargs=flags)
        return True
    except Exception:
        return False
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _sanitizer_flags(is_msvc):
    """Compile and link flags for FASTEMBED_SANITIZE (e.g. ``address,undefined``), or []."""
    wanted = os.environ.get("FASTEMBED_SANITIZE", "").strip()
    if not wanted:
        return []
    if is_msvc:
        raise RuntimeError("FASTEMBED_SANITIZE needs GCC or Clang")
    # No recovery: the first report aborts, so a test run cannot pass over it.
    return ["-fsanitize=" + wanted, "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]


def _is_x86_64():
    return platform.machine().lower() in ("x86_64", "amd64") and not _env_flag("FASTEMBED_NO_AVX2")


class BuildExtWithOpenMP(build_ext):
    """build_ext that probes for OpenMP and picks portable optimisation flags."""

    def build_extensions(self):
        compiler = self.compiler
        is_msvc = compiler.compiler_type == "msvc"

        omp = None
        if _env_flag("FASTEMBED_DISABLE_OPENMP"):
            print("fastembed: OpenMP disabled by FASTEMBED_DISABLE_OPENMP; building serial kernels")
        else:
            for cflags, ldflags in _openmp_candidates(compiler):
                if _probe_openmp(compiler, cflags, ldflags):
                    omp = (cflags, ldflags)
                    break
            if omp is None:
                message = (
                    "fastembed: the compiler has no working OpenMP; building serial kernels "
                    "(correct, but single-threaded). Install libgomp/libomp to get parallel kernels."
                )
                if _env_flag("FASTEMBED_REQUIRE_OPENMP"):
                    raise RuntimeError(message + " FASTEMBED_REQUIRE_OPENMP is set, so this is an error.")
                warnings.warn(message)
                print(message)
            else:
                print("fastembed: building with OpenMP flags %s / %s" % omp)

        # -fno-math-errno lets sqrt vectorise (errno is never read here); NumPy and
        # SciPy build the same way. -ffp-contract=off keeps a*b+c from becoming an FMA in
        # the AVX2 build, so both builds round identically and give bitwise-equal results.
        opt = ["/O2", "/fp:precise"] if is_msvc else ["-O3", "-fno-math-errno", "-ffp-contract=off"]
        if _env_flag("FASTEMBED_NATIVE") and not is_msvc:
            opt.append("-march=native")
        avx2 = ["/arch:AVX2"] if is_msvc else ["-mavx2", "-mfma"]
        if any(getattr(ext, "fastembed_avx2", False) for ext in self.extensions) and not _probe_flags(compiler, avx2):
            print("fastembed: the compiler does not take %s; skipping the AVX2 kernels" % avx2)
            self.extensions = [ext for ext in self.extensions if not getattr(ext, "fastembed_avx2", False)]
        sanitize = _sanitizer_flags(is_msvc)
        if sanitize:
            # -O1 and frame pointers give sanitizer reports usable stacks.
            opt = [flag for flag in opt if not flag.startswith("-O")] + ["-O1", "-g"] + sanitize
            print("fastembed: sanitizer build %s (debugging only)" % " ".join(sanitize))
        if not is_msvc and not sanitize:
            # Release objects carry no debug info (13 MB of it otherwise; Python's own
            # CFLAGS hold -g, and a later -g0 wins).
            opt.append("-g0")
        # Release modules drop their symbol tables too (-s), where the linker takes it.
        strip = ["-s"] if (not is_msvc and not sanitize and sys.platform.startswith("linux")) else []
        for ext in self.extensions:
            simd = avx2 if getattr(ext, "fastembed_avx2", False) else []
            ext.extra_compile_args = list(opt) + simd + (omp[0] if omp else [])
            ext.extra_link_args = (list(omp[1]) if omp else []) + sanitize + strip
        # Extensions compile side by side (setuptools' build_ext --parallel), one job per
        # core, unless the caller chose a number.
        if not self.parallel:
            self.parallel = os.cpu_count() or 1
        started = time.perf_counter()
        super().build_extensions()
        print(
            "fastembed: compiled %d extensions in %.1f s with %d jobs"
            % (len(self.extensions), time.perf_counter() - started, self.parallel)
        )


def _drop_c_files_without_shared_utility():
    """Delete generated kernel C files that carry their own utility code (written before
    the shared module existed): cythonize regenerates C only when a .pyx changes, and such
    a file would still build, twice as large."""
    for name in KERNELS:
        path = os.path.join(KERNEL_DIR, name + ".c")
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as handle:
                if SHARED_UTILITY not in handle.read():
                    os.remove(path)


def make_extensions():
    from Cython.Build import cythonize
    import numpy

    extensions = [
        Extension(
            "fastembed._kernels." + name,
            [os.path.join(KERNEL_DIR, name + ".pyx")],
            include_dirs=[KERNEL_DIR, numpy.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
        )
        for name in KERNELS
    ]
    _drop_c_files_without_shared_utility()
    # Cython's utility code (memoryviews, function objects, type imports) is generated
    # once into this module instead of into every kernel: about 150 kB less per module,
    # half the wheel, and half the C to compile.
    extensions.append(Extension(SHARED_UTILITY, sources=[os.path.join(KERNEL_DIR, "_cyutility.c")]))
    extensions = cythonize(
        extensions,
        shared_utility_qualified_name=SHARED_UTILITY,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "initializedcheck": False,
            "cdivision": True,
            "nonecheck": False,
            "embedsignature": True,
        },
    )
    if _is_x86_64():
        # The same generated C, compiled again with AVX2 + FMA. The module keeps its
        # canonical name inside; the loader imports it under that name.
        for ext in list(extensions):
            name = ext.name.rsplit(".", 1)[1]
            if name in AVX2_KERNELS:
                variant = Extension(
                    "fastembed._kernels._avx2." + name,
                    list(ext.sources),
                    include_dirs=list(ext.include_dirs),
                    define_macros=list(ext.define_macros),
                )
                variant.fastembed_avx2 = True
                extensions.append(variant)
    return extensions


setup(ext_modules=make_extensions(), cmdclass={"build_ext": BuildExtWithOpenMP})
