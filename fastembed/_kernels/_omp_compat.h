/* OpenMP shim: lets the kernels compile, serially, when the compiler has no OpenMP.
 * Cython already guards its own `#pragma omp` lines; this covers the runtime calls. */
#ifndef FASTEMBED_OMP_COMPAT_H
#define FASTEMBED_OMP_COMPAT_H

#ifdef _OPENMP
#include <omp.h>
#define FASTEMBED_HAVE_OPENMP 1
#else
#define FASTEMBED_HAVE_OPENMP 0
static inline int omp_get_max_threads(void) { return 1; }
static inline int omp_get_num_procs(void) { return 1; }
#endif

#endif
