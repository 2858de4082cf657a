"""Word2vec training kernels: skip-gram and CBOW with negative sampling.

The corpus arrives as word ids (``int32``, out-of-vocabulary words already dropped), cut
into sentences and the sentences into blocks of about 10,000 words (gensim's job size).
A block is the unit of work: it has its own learning rate (from its position in the
training run) and its own random stream (from its seed), so what happens inside a block
does not depend on which thread runs it or when.

Per block, as word2vec.c and gensim do: frequent words are dropped with probability
``1 - sample_int[w] / 2^32``; every position draws a window shrink ``b`` in
``[0, window)``; negatives come from the unigram^0.75 distribution (an alias table: two
reads per draw, whatever the vocabulary size). The sigmoid is computed exactly, not from
a 1,000-entry table.

Two ways to run blocks on threads:

* ``train_shared`` (Hogwild, gensim's and word2vec.c's way): every thread updates the
  one pair of matrices without locks. Fast; the result depends on how the threads
  interleave (that is, on the thread count and on timing).
* ``train_replicas`` + ``merge_replicas`` (deterministic): a fixed number of virtual
  workers each train their own copy, sequentially; then every copy's change since the
  last merge is added to the shared matrices in worker order, and the copies restart
  from the result. Threads only decide which worker runs where, so the vectors are
  bitwise identical for any thread count.

The NumPy twin is ``fastembed.word2vec._reference``.
"""

from cython.parallel cimport prange
from libc.math cimport expf
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc

cdef enum:
    MAX_SENTENCE = 10000  # gensim's MAX_WORDS_IN_BATCH: longer sentences are cut


cdef inline uint64_t next_random(uint64_t* state) noexcept nogil:
    """splitmix64: a 64-bit stream from any seed (including 0)."""
    cdef uint64_t z
    state[0] += 0x9E3779B97F4A7C15ULL
    z = state[0]
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline float sigmoid(float x) noexcept nogil:
    cdef float e
    if x >= 0:
        return 1.0 / (1.0 + expf(-x))
    e = expf(x)
    return e / (1.0 + e)


cdef inline float dot(const float* a, const float* b, Py_ssize_t n) noexcept nogil:
    # Eight running sums, added in a fixed order: the compiler keeps them in one vector
    # register (a single sum could not be vectorised without reordering the additions).
    cdef float acc[8]
    cdef float s
    cdef Py_ssize_t k = 0, j
    for j in range(8):
        acc[j] = 0
    while k + 8 <= n:
        for j in range(8):
            acc[j] = acc[j] + a[k + j] * b[k + j]
        k += 8
    s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
    while k < n:
        s = s + a[k] * b[k]
        k += 1
    return s


cdef inline void axpy(float alpha, const float* x, float* y, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(n):
        y[k] = y[k] + alpha * x[k]


cdef struct Config:
    int sg
    int window
    int shrink_windows
    int negative
    int cbow_mean
    Py_ssize_t dim
    const uint32_t* sample_int
    const uint32_t* alias_threshold
    const int32_t* alias_other
    Py_ssize_t vocab_size
    # Input rows of word w: comp_ids[comp_offsets[w]:comp_offsets[w + 1]] (word2vec: w
    # itself; fastText: w and its character n-gram buckets), averaged.
    const int64_t* comp_offsets
    const int32_t* comp_ids


cdef inline int32_t draw_negative(const Config* c, uint64_t* state) noexcept nogil:
    cdef uint64_t r = next_random(state)
    cdef Py_ssize_t slot = <Py_ssize_t> ((r >> 32) % <uint64_t> c.vocab_size)
    if <uint32_t> r < c.alias_threshold[slot]:
        return <int32_t> slot
    return c.alias_other[slot]


cdef void negative_step(const Config* c, float* syn1neg, int32_t target, const float* hidden,
                        float* hidden_error, float alpha, uint64_t* state) noexcept nogil:
    """One positive (``target``) and ``negative`` sampled outputs against ``hidden``: the
    output rows move now, the hidden row's error accumulates in ``hidden_error``."""
    cdef int d
    cdef int32_t output
    cdef float label, g
    cdef float* row
    for d in range(c.negative + 1):
        if d == 0:
            output = target
            label = 1
        else:
            output = draw_negative(c, state)
            if output == target:
                continue
            label = 0
        row = &syn1neg[output * c.dim]
        g = (label - sigmoid(dot(hidden, row, c.dim))) * alpha
        axpy(g, row, hidden_error, c.dim)
        axpy(g, hidden, row, c.dim)


cdef inline void add_input(const Config* c, const float* syn0, int32_t w, float* hidden) noexcept nogil:
    """hidden += every input row of w."""
    cdef int64_t r
    for r in range(c.comp_offsets[w], c.comp_offsets[w + 1]):
        axpy(1.0, &syn0[c.comp_ids[r] * c.dim], hidden, c.dim)


cdef inline void spread_error(const Config* c, float* syn0, int32_t w, const float* error) noexcept nogil:
    """Every input row of w moves by the whole error (as gensim's fastText does)."""
    cdef int64_t r
    for r in range(c.comp_offsets[w], c.comp_offsets[w + 1]):
        axpy(1.0, error, &syn0[c.comp_ids[r] * c.dim], c.dim)


cdef Py_ssize_t train_sentence(const Config* c, float* syn0, float* syn1neg, const int32_t* words,
                               Py_ssize_t n, float alpha, uint64_t* state, int32_t* kept,
                               float* hidden, float* hidden_error) noexcept nogil:
    """Train on one sentence; returns the words left after subsampling."""
    cdef Py_ssize_t i, j, m = 0, start, stop, k
    cdef int32_t w
    cdef int b
    cdef int64_t count, parts
    cdef float inverse
    cdef float* single
    for i in range(n):
        w = words[i]
        if c.sample_int[w] < 0xFFFFFFFFU and c.sample_int[w] < <uint32_t> (next_random(state) >> 32):
            continue
        kept[m] = w
        m += 1
    for i in range(m):
        b = <int> ((next_random(state) >> 32) % <uint64_t> c.window) if c.shrink_windows else 0
        start = i - c.window + b
        if start < 0:
            start = 0
        stop = i + c.window + 1 - b
        if stop > m:
            stop = m
        if c.sg:
            # Skip-gram: each context word's input predicts the centre word.
            for j in range(start, stop):
                if j == i:
                    continue
                for k in range(c.dim):
                    hidden_error[k] = 0
                parts = c.comp_offsets[kept[j] + 1] - c.comp_offsets[kept[j]]
                if parts == 1:
                    # One input row (word2vec): train it in place.
                    single = &syn0[c.comp_ids[c.comp_offsets[kept[j]]] * c.dim]
                    negative_step(c, syn1neg, kept[i], single, hidden_error, alpha, state)
                    axpy(1.0, hidden_error, single, c.dim)
                else:
                    for k in range(c.dim):
                        hidden[k] = 0
                    add_input(c, syn0, kept[j], hidden)
                    inverse = 1.0 / parts
                    for k in range(c.dim):
                        hidden[k] = hidden[k] * inverse
                    negative_step(c, syn1neg, kept[i], hidden, hidden_error, alpha, state)
                    spread_error(c, syn0, kept[j], hidden_error)
        else:
            # CBOW: the (mean of the) context words' input rows predicts the centre word.
            for k in range(c.dim):
                hidden[k] = 0
                hidden_error[k] = 0
            count = 0
            for j in range(start, stop):
                if j != i:
                    add_input(c, syn0, kept[j], hidden)
                    count += c.comp_offsets[kept[j] + 1] - c.comp_offsets[kept[j]]
            if count == 0:
                continue
            inverse = 1.0 / count
            if c.cbow_mean:
                for k in range(c.dim):
                    hidden[k] = hidden[k] * inverse
            negative_step(c, syn1neg, kept[i], hidden, hidden_error, alpha, state)
            if not c.cbow_mean:
                for k in range(c.dim):
                    hidden_error[k] = hidden_error[k] * inverse
            for j in range(start, stop):
                if j != i:
                    spread_error(c, syn0, kept[j], hidden_error)
    return m


cdef Py_ssize_t train_block(const Config* c, float* syn0, float* syn1neg, const int32_t* words,
                            const int64_t* sentence_ends, Py_ssize_t first_sentence, Py_ssize_t last_sentence,
                            float alpha, uint64_t seed) noexcept nogil:
    """Train on sentences ``[first_sentence, last_sentence)``; returns the effective words
    (after subsampling), or -1 when out of memory."""
    cdef int32_t* kept = <int32_t*> malloc(MAX_SENTENCE * sizeof(int32_t))
    cdef float* hidden = <float*> malloc(c.dim * sizeof(float))
    cdef float* hidden_error = <float*> malloc(c.dim * sizeof(float))
    cdef uint64_t state = seed
    cdef Py_ssize_t s, begin, end, piece, effective = 0
    if kept == NULL or hidden == NULL or hidden_error == NULL:
        free(kept)
        free(hidden)
        free(hidden_error)
        return -1
    for s in range(first_sentence, last_sentence):
        begin = sentence_ends[s - 1] if s > 0 else 0
        end = sentence_ends[s]
        while begin < end:  # a sentence over MAX_SENTENCE words trains as several
            piece = end - begin if end - begin < MAX_SENTENCE else MAX_SENTENCE
            effective += train_sentence(c, syn0, syn1neg, &words[begin], piece, alpha, &state, kept,
                                        hidden, hidden_error)
            begin += piece
    free(kept)
    free(hidden)
    free(hidden_error)
    return effective


cdef Config make_config(int sg, int window, int shrink_windows, int negative, int cbow_mean, Py_ssize_t dim,
                        const uint32_t[::1] sample_int, const uint32_t[::1] alias_threshold,
                        const int32_t[::1] alias_other, const int64_t[::1] comp_offsets,
                        const int32_t[::1] comp_ids, Py_ssize_t input_rows):
    cdef Config c
    cdef Py_ssize_t w, r, n = sample_int.shape[0]
    if window < 1 or negative < 0 or dim < 1:
        raise ValueError("window and dim must be positive and negative >= 0")
    if n == 0 or n != alias_threshold.shape[0] or alias_other.shape[0] != n:
        raise ValueError("sample_int and the alias table must have one entry per word")
    if comp_offsets.shape[0] != n + 1 or comp_offsets[0] != 0 or comp_offsets[n] != comp_ids.shape[0]:
        raise ValueError("comp_offsets must have one entry per word plus one, from 0 to len(comp_ids)")
    for w in range(n):
        if comp_offsets[w + 1] <= comp_offsets[w]:
            raise ValueError("word %d has no input rows" % w)
        if alias_other[w] < 0 or alias_other[w] >= n:
            raise ValueError("the alias table points outside the vocabulary")
    for r in range(comp_ids.shape[0]):
        if comp_ids[r] < 0 or comp_ids[r] >= input_rows:
            raise ValueError("input row %d is outside [0, %d)" % (comp_ids[r], input_rows))
    c.sg = sg
    c.window = window
    c.shrink_windows = shrink_windows
    c.negative = negative
    c.cbow_mean = cbow_mean
    c.dim = dim
    c.sample_int = &sample_int[0]
    c.alias_threshold = &alias_threshold[0]
    c.alias_other = &alias_other[0]
    c.vocab_size = n
    c.comp_offsets = &comp_offsets[0]
    c.comp_ids = &comp_ids[0]
    return c


def _check_blocks(const int32_t[::1] words, const int64_t[::1] sentence_ends, const int64_t[::1] block_starts,
                  Py_ssize_t n_blocks, Py_ssize_t vocab_size):
    cdef Py_ssize_t i
    if block_starts.shape[0] != n_blocks + 1:
        raise ValueError("block_starts must have one entry per block plus one")
    if n_blocks and (block_starts[0] < 0 or block_starts[n_blocks] > sentence_ends.shape[0]):
        raise ValueError("blocks reach past the sentences")
    if sentence_ends.shape[0] and sentence_ends[sentence_ends.shape[0] - 1] > words.shape[0]:
        raise ValueError("sentences reach past the words")
    for i in range(words.shape[0]):
        if words[i] < 0 or words[i] >= vocab_size:
            raise ValueError("word id %d at position %d is outside [0, %d)" % (words[i], i, vocab_size))


def train_shared(float[:, ::1] syn0, float[:, ::1] syn1neg, const int32_t[::1] words,
                 const int64_t[::1] sentence_ends, const int64_t[::1] block_starts,
                 const float[::1] block_alpha, const uint64_t[::1] block_seed,
                 const uint32_t[::1] sample_int, const uint32_t[::1] alias_threshold, const int32_t[::1] alias_other,
                 const int64_t[::1] comp_offsets, const int32_t[::1] comp_ids,
                 int sg, int window, int shrink_windows, int negative, int cbow_mean, int num_threads):
    """Hogwild: blocks in parallel on one pair of matrices. Returns the effective words.

    ``syn0`` holds the input rows (``comp_ids`` index it), ``syn1neg`` one output row
    per word."""
    cdef Py_ssize_t n_blocks = block_alpha.shape[0], b, done, effective = 0
    cdef int failed = 0
    cdef Config c = make_config(sg, window, shrink_windows, negative, cbow_mean, syn0.shape[1], sample_int,
                                alias_threshold, alias_other, comp_offsets, comp_ids, syn0.shape[0])
    if syn1neg.shape[0] != c.vocab_size or syn1neg.shape[1] != syn0.shape[1]:
        raise ValueError("syn1neg must be (vocabulary, dim) and syn0 (input rows, dim)")
    if block_seed.shape[0] != n_blocks:
        raise ValueError("one seed per block")
    _check_blocks(words, sentence_ends, block_starts, n_blocks, c.vocab_size)
    if n_blocks == 0:
        return 0
    with nogil:
        for b in prange(n_blocks, num_threads=num_threads, schedule="dynamic"):
            done = train_block(&c, &syn0[0, 0], &syn1neg[0, 0], &words[0] if words.shape[0] else NULL,
                               &sentence_ends[0], block_starts[b], block_starts[b + 1], block_alpha[b], block_seed[b])
            if done < 0:
                failed += 1
            else:
                effective += done
    if failed:
        raise MemoryError()
    return effective


def train_replicas(float[:, :, ::1] syn0_copies, float[:, :, ::1] syn1neg_copies, const int32_t[::1] words,
                   const int64_t[::1] sentence_ends, const int64_t[::1] block_starts,
                   const float[::1] block_alpha, const uint64_t[::1] block_seed, const int64_t[::1] worker_blocks,
                   const uint32_t[::1] sample_int, const uint32_t[::1] alias_threshold, const int32_t[::1] alias_other,
                   const int64_t[::1] comp_offsets, const int32_t[::1] comp_ids,
                   int sg, int window, int shrink_windows, int negative, int cbow_mean, int num_threads):
    """Deterministic: worker k trains blocks ``[worker_blocks[k], worker_blocks[k + 1])``
    in order on its own copy ``syn0_copies[k]`` / ``syn1neg_copies[k]``. Returns the
    effective words."""
    cdef Py_ssize_t n_workers = syn0_copies.shape[0], n_blocks = block_alpha.shape[0], k, b, done, effective = 0
    cdef Py_ssize_t worker_effective
    cdef int failed = 0
    cdef Config c = make_config(sg, window, shrink_windows, negative, cbow_mean, syn0_copies.shape[2], sample_int,
                                alias_threshold, alias_other, comp_offsets, comp_ids, syn0_copies.shape[1])
    if (syn1neg_copies.shape[0] != n_workers or syn1neg_copies.shape[1] != c.vocab_size
            or syn1neg_copies.shape[2] != c.dim):
        raise ValueError("the copies must be (workers, input rows, dim) and (workers, vocabulary, dim)")
    if worker_blocks.shape[0] != n_workers + 1 or worker_blocks[0] != 0 or worker_blocks[n_workers] != n_blocks:
        raise ValueError("worker_blocks must split the blocks among the workers")
    for k in range(n_workers):
        if worker_blocks[k + 1] < worker_blocks[k]:
            raise ValueError("worker_blocks must not decrease")
    if block_seed.shape[0] != n_blocks:
        raise ValueError("one seed per block")
    _check_blocks(words, sentence_ends, block_starts, n_blocks, c.vocab_size)
    if n_blocks == 0:
        return 0
    with nogil:
        for k in prange(n_workers, num_threads=num_threads, schedule="dynamic", chunksize=1):
            worker_effective = 0
            for b in range(worker_blocks[k], worker_blocks[k + 1]):
                done = train_block(&c, &syn0_copies[k, 0, 0], &syn1neg_copies[k, 0, 0],
                                   &words[0] if words.shape[0] else NULL, &sentence_ends[0],
                                   block_starts[b], block_starts[b + 1], block_alpha[b], block_seed[b])
                if done < 0:
                    failed += 1
                    break
                worker_effective = worker_effective + done
            effective += worker_effective
    if failed:
        raise MemoryError()
    return effective


def merge_replicas(float[:, ::1] shared, float[:, :, ::1] copies, int num_threads):
    """``shared += sum_k (copies[k] - shared)`` in worker order, then every copy = shared.

    Row by row in parallel; each row's sum runs in the same order whatever the thread
    count, so the result is bitwise reproducible.
    """
    cdef Py_ssize_t n_workers = copies.shape[0], rows = shared.shape[0], dim = shared.shape[1], r, k, d
    cdef float base, total
    if copies.shape[1] != rows or copies.shape[2] != dim:
        raise ValueError("copies must be (workers,) + shared.shape")
    with nogil:
        for r in prange(rows, num_threads=num_threads, schedule="static"):
            for d in range(dim):
                base = shared[r, d]
                total = base
                for k in range(n_workers):
                    total = total + (copies[k, r, d] - base)
                shared[r, d] = total
                for k in range(n_workers):
                    copies[k, r, d] = total


def encode_sentences(list sentences, dict vocabulary, int32_t[::1] out, int64_t[::1] ends):
    """Ids of the tokens of ``sentences`` (lists of str) into ``out``, dropping tokens
    not in ``vocabulary``; sentence s ends at ``ends[s]``. Returns the words written."""
    cdef Py_ssize_t s, written = 0
    cdef object index
    for s in range(len(sentences)):
        for token in sentences[s]:
            index = vocabulary.get(token)
            if index is not None:
                out[written] = <int32_t> index
                written += 1
        ends[s] = written
    return written
