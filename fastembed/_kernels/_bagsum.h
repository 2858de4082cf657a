/* Fused bag sum for float32 tables whose dim is a multiple of 8, on AVX2: one pass over a
 * bag's ids per block of up to 64 columns, that checks each id, prefetches the row
 * FE_GATHER_PREFETCH_DISTANCE entries ahead and adds the row into accumulators that stay
 * in registers for the whole bag. Padded input skips leading and trailing padding first.
 *
 * The generic path (_forward.pyx) first collects row pointers into chunks, then sums the
 * chunk (_rowsum.h). That costs a store and a reload per row and bunches the prefetches
 * ahead of each chunk. benchmarks/bench_kernels.py times both ("generic bag sum" rows):
 * dim 64, 1 thread 0.222 -> 0.128 ms, 2 threads 0.116 -> 0.074 ms (PyTorch: 0.108 ms).
 *
 * Rows are added in entry order starting from +0.0, lane by lane, exactly as the generic
 * path does, so results are bitwise identical. Each function returns how many rows it
 * added, or -1 when it does not handle the call (no AVX2, or another dim), and then the
 * caller takes the generic path. Invalid ids are counted and never dereferenced; the
 * range is checked before the padding test, as in _forward.pyx. */
#ifndef FASTEMBED_BAGSUM_H
#define FASTEMBED_BAGSUM_H

#include <stddef.h>
#include <stdint.h>
#include "_platform.h"
#include "_rowsum.h"

/* Above this dim the passes no longer find the bag's rows in cache. Built with
 * -DFE_BAGSUM_MAX_DIM=512, bench_kernels.py --dims 256 512 gave 0.84 and 1.98 ms fused
 * against 0.45 and 1.06 ms generic (2 threads). */
#ifndef FE_BAGSUM_MAX_DIM
#define FE_BAGSUM_MAX_DIM 128
#endif

/* Cleared by fastembed._kernels._forward.set_fused_bag_sum(False): the tests compare both
 * paths bit for bit, and the benchmarks time them side by side. */
static int fe_bagsum_enabled = 1;

#if FE_HAVE_ROWSUM_AVX2

/* Eight named accumulators, each used when NB (a constant) says so: GCC keeps named
 * variables in registers, but left an array of __m256 on the stack (measured). */
#define FE_ACC_ADD(NB, K, R) if ((NB) > K) a##K = _mm256_add_ps(a##K, _mm256_loadu_ps((R) + 8 * K));
#define FE_ACC_STORE(NB, K, O) if ((NB) > K) _mm256_storeu_ps((O) + 8 * K, a##K);

#define FE_BAGSUM_DEFINE(SUFFIX, INDEX_T, NB)                                                   \
__attribute__((target("avx2"))) static ptrdiff_t fe_bagsum_##SUFFIX##_##NB(                       \
    float *out, const float *table, ptrdiff_t stride, ptrdiff_t num_rows, const INDEX_T *ids,   \
    ptrdiff_t start, ptrdiff_t stop, ptrdiff_t n_ids, int64_t padding_idx, ptrdiff_t *n_invalid) \
{                                                                                               \
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,      \
           a7 = a0;                                                                             \
    ptrdiff_t j, n = 0, invalid = 0, line;                                                      \
    if (padding_idx >= 0) {                                                                     \
        /* Padded input: skip leading and trailing padding in tight loops (padding_idx  */     \
        /* is a valid id here, so nothing invalid is skipped). */                               \
        while (stop > start && (int64_t)ids[stop - 1] == padding_idx) stop--;                   \
        while (start < stop && (int64_t)ids[start] == padding_idx) start++;                     \
    }                                                                                           \
    for (j = start; j < stop; j++) {                                                            \
        if (j + FE_GATHER_PREFETCH_DISTANCE < n_ids) {                                          \
            INDEX_T ahead = ids[j + FE_GATHER_PREFETCH_DISTANCE];                               \
            if (ahead >= 0 && (ptrdiff_t)ahead < num_rows && (int64_t)ahead != padding_idx) {   \
                const char *p = (const char *)(table + (ptrdiff_t)ahead * stride);                 \
                for (line = 0; line < 32 * NB; line += 64) FE_PREFETCH(p + line);               \
            }                                                                                   \
        }                                                                                       \
        INDEX_T id = ids[j];                                                                    \
        if (id < 0 || (ptrdiff_t)id >= num_rows) { invalid++; continue; }                       \
        if ((int64_t)id == padding_idx) continue;                                               \
        const float *r = table + (ptrdiff_t)id * stride;                                         \
        FE_ACC_ADD(NB, 0, r) FE_ACC_ADD(NB, 1, r) FE_ACC_ADD(NB, 2, r) FE_ACC_ADD(NB, 3, r)                     \
        FE_ACC_ADD(NB, 4, r) FE_ACC_ADD(NB, 5, r) FE_ACC_ADD(NB, 6, r) FE_ACC_ADD(NB, 7, r)                     \
        n++;                                                                                    \
    }                                                                                           \
    FE_ACC_STORE(NB, 0, out) FE_ACC_STORE(NB, 1, out) FE_ACC_STORE(NB, 2, out) FE_ACC_STORE(NB, 3, out)         \
    FE_ACC_STORE(NB, 4, out) FE_ACC_STORE(NB, 5, out) FE_ACC_STORE(NB, 6, out) FE_ACC_STORE(NB, 7, out)         \
    *n_invalid += invalid;                                                                      \
    return n;                                                                                   \
}

#define FE_BAGSUM_DEFINE_ALL(SUFFIX, INDEX_T)                                                   \
    FE_BAGSUM_DEFINE(SUFFIX, INDEX_T, 1) FE_BAGSUM_DEFINE(SUFFIX, INDEX_T, 2)                   \
    FE_BAGSUM_DEFINE(SUFFIX, INDEX_T, 3) FE_BAGSUM_DEFINE(SUFFIX, INDEX_T, 4)                   \
    FE_BAGSUM_DEFINE(SUFFIX, INDEX_T, 5) FE_BAGSUM_DEFINE(SUFFIX, INDEX_T, 6)                   \
    FE_BAGSUM_DEFINE(SUFFIX, INDEX_T, 7) FE_BAGSUM_DEFINE(SUFFIX, INDEX_T, 8)                   \
    static ptrdiff_t fe_bagsum_f32_##SUFFIX(float *out, const float *table, ptrdiff_t dim,      \
        ptrdiff_t num_rows, const INDEX_T *ids, ptrdiff_t start, ptrdiff_t stop,                \
        ptrdiff_t n_ids, int64_t padding_idx, ptrdiff_t *n_invalid)                             \
    {                                                                                           \
        /* Columns in blocks of up to 64 (8 registers), one pass over the bag per block;  */   \
        /* the first pass counts rows and invalid ids, the rows stay cached for the rest. */   \
        ptrdiff_t column, n = -1, ignored = 0;                                                  \
        if (!fe_rowsum_avx2 || !fe_bagsum_enabled || dim % 8 != 0 || dim == 0                   \
            || dim > FE_BAGSUM_MAX_DIM) return -1;                                              \
        for (column = 0; column < dim; column += 64) {                                          \
            ptrdiff_t *invalid = column == 0 ? n_invalid : &ignored, count = 0;                 \
            switch ((dim - column >= 64 ? 64 : dim - column) / 8) {                             \
            case 1: count = fe_bagsum_##SUFFIX##_1(out + column, table + column, dim, num_rows, ids, start, stop, n_ids, padding_idx, invalid); break; \
            case 2: count = fe_bagsum_##SUFFIX##_2(out + column, table + column, dim, num_rows, ids, start, stop, n_ids, padding_idx, invalid); break; \
            case 3: count = fe_bagsum_##SUFFIX##_3(out + column, table + column, dim, num_rows, ids, start, stop, n_ids, padding_idx, invalid); break; \
            case 4: count = fe_bagsum_##SUFFIX##_4(out + column, table + column, dim, num_rows, ids, start, stop, n_ids, padding_idx, invalid); break; \
            case 5: count = fe_bagsum_##SUFFIX##_5(out + column, table + column, dim, num_rows, ids, start, stop, n_ids, padding_idx, invalid); break; \
            case 6: count = fe_bagsum_##SUFFIX##_6(out + column, table + column, dim, num_rows, ids, start, stop, n_ids, padding_idx, invalid); break; \
            case 7: count = fe_bagsum_##SUFFIX##_7(out + column, table + column, dim, num_rows, ids, start, stop, n_ids, padding_idx, invalid); break; \
            default: count = fe_bagsum_##SUFFIX##_8(out + column, table + column, dim, num_rows, ids, start, stop, n_ids, padding_idx, invalid); break; \
            }                                                                                   \
            if (column == 0) n = count;                                                         \
        }                                                                                       \
        return n;                                                                               \
    }

FE_BAGSUM_DEFINE_ALL(i32, int32_t)
FE_BAGSUM_DEFINE_ALL(i64, int64_t)

#else  /* no AVX2 build: always the generic path */

static inline ptrdiff_t fe_bagsum_f32_i32(float *out, const float *table, ptrdiff_t dim, ptrdiff_t num_rows,
    const int32_t *ids, ptrdiff_t start, ptrdiff_t stop, ptrdiff_t n_ids, int64_t padding_idx, ptrdiff_t *n_invalid)
{ (void)out; (void)table; (void)dim; (void)num_rows; (void)ids; (void)start; (void)stop; (void)n_ids;
  (void)padding_idx; (void)n_invalid; return -1; }
static inline ptrdiff_t fe_bagsum_f32_i64(float *out, const float *table, ptrdiff_t dim, ptrdiff_t num_rows,
    const int64_t *ids, ptrdiff_t start, ptrdiff_t stop, ptrdiff_t n_ids, int64_t padding_idx, ptrdiff_t *n_invalid)
{ (void)out; (void)table; (void)dim; (void)num_rows; (void)ids; (void)start; (void)stop; (void)n_ids;
  (void)padding_idx; (void)n_invalid; return -1; }

#endif
#endif
