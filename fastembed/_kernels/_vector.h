/* Short dense vector loops for the word2vec kernels, in C for `restrict`: without it the
 * compiler must assume an error row and a weight row may overlap and keeps these loops
 * scalar (measured: the skip-gram error loop ran one float at a time). Callers never pass
 * overlapping rows: errors live in scratch buffers, inputs in syn0, outputs in syn1neg.
 * No FMA contraction (-ffp-contract=off), so the portable and the AVX2 builds round alike. */
#ifndef FASTEMBED_VECTOR_H
#define FASTEMBED_VECTOR_H

#include <stddef.h>

static inline float fe_vdot(const float *restrict a, const float *restrict b, ptrdiff_t n) {
    /* Eight running sums added in a fixed order: one vector register, a fixed result. */
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    ptrdiff_t k = 0;
    for (; k + 8 <= n; k += 8) {
        for (int j = 0; j < 8; j++) acc[j] += a[k + j] * b[k + j];
    }
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; k < n; k++) s += a[k] * b[k];
    return s;
}

static inline void fe_vaxpy(float alpha, const float *restrict x, float *restrict y, ptrdiff_t n) {
    /* Blocks of eight: each block is one vector operation even where the compiler fuses
     * two consecutive calls into one loop (it did, and then kept the fused loop scalar). */
    ptrdiff_t k = 0;
    for (; k + 8 <= n; k += 8) {
        for (int j = 0; j < 8; j++) y[k + j] = y[k + j] + alpha * x[k + j];
    }
    for (; k < n; k++) y[k] = y[k] + alpha * x[k];
}

#endif
