"""Exact, blocked, parallel nearest-neighbour search over an embedding table.

:func:`top_k_similar` answers many queries at once. The table's rows are split into one
range per thread; each thread walks its range in blocks: one BLAS matrix product (on one
BLAS thread) gives the dot products of every query term with the block, and the
``_search`` kernel (nogil) turns them into cosine or 3CosMul scores and merges them into
the thread's top-k heaps. The threads' heaps are merged at the end. Memory is bounded by
the blocks (about ``BLOCK_ELEMENTS`` scores per thread), never ``n_queries x n_rows``.
Its pure-NumPy twin is :func:`fastembed.reference.top_k_similar`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from . import reference
from ._blas import blas_controls, single_threaded_blas
from ._config import COMPILED, threads_for
from ._validation import inverse_norms, prepare_top_k

if COMPILED:
    from ._kernels import _search

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["top_k_similar", "inverse_norms"]

# Scores held at once: 4 Mi float32 = 16 MiB, small enough to stay near the caches and
# large enough that each BLAS call is a big, efficient matrix product.
BLOCK_ELEMENTS = 1 << 22
# Below this many table rows per thread, a second worker costs more than it saves.
MIN_ROWS_PER_WORKER = 4096


def top_k_similar(
    table: ArrayLike,
    terms: ArrayLike,
    k: int,
    *,
    inv_norms: ArrayLike | None = None,
    n_positive: int = 1,
    n_negative: int = 0,
    cosmul: bool = False,
    exclude: ArrayLike | None = None,
    stop: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best rows of ``table`` for each query, best first.

    Parameters
    ----------
    table : (n_rows, dim) float32 or float64 array
    terms : (n_queries * n_terms, dim) array
        Unit query vectors, query-major; with ``cosmul`` each query has ``n_positive``
        then ``n_negative`` terms, otherwise one (``n_terms = 1``).
    k : int
        Rows to return per query.
    inv_norms : (n_rows,) array, optional
        ``inverse_norms(table)``, computed when not given (pass it to reuse it).
    n_positive, n_negative : int
        Terms per query, for ``cosmul``.
    cosmul : bool, default False
        Score rows with 3CosMul (Levy & Goldberg 2014) instead of the cosine.
    exclude : (n_queries, m) int array, optional
        Rows never returned for that query (e.g. its own words); -1 pads.
    stop : int, optional
        Search only rows ``[0, stop)`` (gensim's ``restrict_vocab``).

    Returns
    -------
    scores : (n_queries, k) array
    rows : (n_queries, k) int64 array
        -1 (score -inf) where fewer than ``k`` rows are eligible.
    """
    table, terms, k, inv_norms, n_terms, exclude, stop = prepare_top_k(
        table, terms, k, inv_norms, n_positive, n_negative, cosmul, exclude, stop
    )
    if not COMPILED:
        return reference.top_k_similar(
            table,
            terms,
            k,
            inv_norms=inv_norms,
            n_positive=n_positive,
            n_negative=n_negative,
            cosmul=cosmul,
            exclude=exclude,
            stop=stop,
        )
    n_queries = terms.shape[0] // n_terms
    # Whole queries per block, then as many table rows as the score budget allows. The
    # blocks are the same whatever the thread count (workers take whole blocks), so every
    # score comes from the same BLAS call shape and the answer never depends on threads.
    queries_per_block = max(1, min(n_queries, 1024 // n_terms))
    rows_per_block = max(256, BLOCK_ELEMENTS // (queries_per_block * n_terms))
    n_blocks = -(-stop // rows_per_block)
    workers = _worker_count(stop, n_blocks, stop * table.shape[1] * terms.shape[0])
    bounds = [min(stop, (n_blocks * w // workers) * rows_per_block) for w in range(workers + 1)]
    blocking = (queries_per_block, rows_per_block)

    def search_range(w):
        return _search_rows(
            table, terms, k, inv_norms, n_positive, n_negative, cosmul, exclude, bounds[w], bounds[w + 1], blocking
        )

    with single_threaded_blas():
        if workers == 1:
            parts = [search_range(0)]
        else:
            import concurrent.futures  # only when searching with several workers (import time)

            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                parts = list(pool.map(search_range, range(workers)))
    scores = np.concatenate([part[0] for part in parts], axis=1)
    rows = np.concatenate([part[1] for part in parts], axis=1)
    # Best first: higher score, then lower row; empty slots (-inf, EMPTY_ROW) sort last.
    order = np.lexsort((rows, -scores), axis=1)[:, :k]
    scores = np.take_along_axis(scores, order, axis=1)
    rows = np.take_along_axis(rows, order, axis=1)
    rows[rows == _search.empty_row()] = -1
    return scores, rows


def _worker_count(n_rows, n_blocks, work):
    """Threads that search row ranges side by side: what the thread policy gives for
    ``work`` (the multiply-adds of the scores), at most one per block.

    Each worker runs its own BLAS products on one BLAS thread plus the (serial) merge
    kernel. Alternating multi-threaded BLAS products with OpenMP merge regions measured
    2.5x slower on 2 cores (0.40 s vs 0.16 s for 1,000 queries over 100,000 x 128):
    each runtime's idle threads spin on the cores the other one needs. Without a way to
    hold OpenBLAS to one thread (another BLAS), one worker leaves the threading to BLAS.
    """
    if blas_controls() is None or os.environ.get("FASTEMBED_LIMIT_BLAS", "1") == "0":
        return 1
    return max(1, min(threads_for(work), n_blocks, n_rows // MIN_ROWS_PER_WORKER))


def _search_rows(table, terms, k, inv_norms, n_positive, n_negative, cosmul, exclude, start, stop, blocking):
    """Top-k heaps of every query over table rows ``[start, stop)``, sorted best first."""
    n_queries = exclude.shape[0]
    n_terms = terms.shape[0] // n_queries if n_queries else 1
    queries_per_block, rows_per_block = blocking
    heap_scores = np.full((n_queries, k), -np.inf, dtype=table.dtype)
    heap_rows = np.full((n_queries, k), _search.empty_row(), dtype=np.int64)
    dots = np.empty(queries_per_block * n_terms * max(1, min(rows_per_block, stop - start)), dtype=table.dtype)
    for q0 in range(0, n_queries, queries_per_block):
        q1 = min(n_queries, q0 + queries_per_block)
        block_terms = terms[q0 * n_terms : q1 * n_terms]
        for r0 in range(start, stop, rows_per_block):
            r1 = min(stop, r0 + rows_per_block)
            block_dots = dots[: block_terms.shape[0] * (r1 - r0)].reshape(block_terms.shape[0], r1 - r0)
            np.matmul(block_terms, table[r0:r1].T, out=block_dots)
            _search.merge_top_k(
                block_dots,
                inv_norms[r0:r1],
                r0,
                n_positive,
                n_negative,
                cosmul,
                heap_scores[q0:q1],
                heap_rows[q0:q1],
                exclude[q0:q1],
            )
    _search.sort_top_k(heap_scores, heap_rows)
    return heap_scores, heap_rows
