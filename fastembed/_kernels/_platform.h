/* Platform shims. OpenMP: lets the kernels compile, serially, when the compiler has no OpenMP.
 * Cython already guards its own `#pragma omp` lines; this covers the runtime calls. */
#ifndef FASTEMBED_PLATFORM_H
#define FASTEMBED_PLATFORM_H

#ifdef _OPENMP
#include <omp.h>
#define FASTEMBED_HAVE_OPENMP 1
#else
#define FASTEMBED_HAVE_OPENMP 0
static inline int omp_get_max_threads(void) { return 1; }
static inline int omp_get_num_procs(void) { return 1; }
static inline int omp_get_thread_num(void) { return 0; }
#endif

/* Software prefetch of a table row that a loop will read a few iterations later: the
 * rows of a large table are scattered, so without it every row costs a cache miss.
 *
 * On x86-64 and aarch64 the prefetch is volatile asm, not __builtin_prefetch: GCC's
 * pure/const analysis counts a helper whose only effect is __builtin_prefetch as having
 * no side effects and deletes calls to it when the helper is not inlined early (seen
 * with GCC 12 in the update loops). Rows about to be written are prefetched for reading:
 * a write prefetch needs PRFCHW, which baseline x86-64 lacks. */
/* Rows ahead: far enough to cover a memory access, near enough that the lines are still
 * in L1 when used, and few enough lines in flight for the core's miss buffers. Gathers
 * read one row per id; updates touch up to three (weights, two state rows), so they look
 * less far ahead. Measured on a 2-core EPYC (benchmarks/bench_kernels.py); override with
 * -DFE_GATHER_PREFETCH_DISTANCE=N / -DFE_UPDATE_PREFETCH_DISTANCE=N to tune. */
#ifndef FE_GATHER_PREFETCH_DISTANCE
#define FE_GATHER_PREFETCH_DISTANCE 16
#endif
#ifndef FE_UPDATE_PREFETCH_DISTANCE
#define FE_UPDATE_PREFETCH_DISTANCE 2
#endif

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define FE_PREFETCH(p) __asm__ __volatile__("prefetcht0 %0" : : "m"(*(const char *)(p)))
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
#define FE_PREFETCH(p) __asm__ __volatile__("prfm pldl1keep, %0" : : "Q"(*(const char *)(p)))
#elif defined(__GNUC__) || defined(__clang__)
#define FE_PREFETCH(p) __builtin_prefetch((const void *)(p), 0, 3)
#elif defined(_MSC_VER)
#include <xmmintrin.h>
#define FE_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#else
#define FE_PREFETCH(p) ((void)0)
#endif

/* Does this CPU (and OS) run AVX2 + FMA code? Decides which build of the update kernels
 * fastembed/_kernels/__init__.py loads. */
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
static inline int fe_cpu_has_avx2_fma(void) {
    __builtin_cpu_init();  /* libgcc also checks that the OS saves AVX state (XGETBV) */
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
#include <immintrin.h>
static inline int fe_cpu_has_avx2_fma(void) {
    int info[4];
    __cpuid(info, 1);
    int fma = (info[2] >> 12) & 1, osxsave = (info[2] >> 27) & 1;
    __cpuidex(info, 7, 0);
    int avx2 = (info[1] >> 5) & 1;
    if (!(fma && osxsave && avx2)) return 0;
    return (_xgetbv(0) & 6) == 6;  /* XMM and YMM state enabled by the OS */
}
#else
static inline int fe_cpu_has_avx2_fma(void) { return 0; }
#endif

#endif
